"""The anonymize workflow: dev-file acceptance, operators, policies, atomic output, consistent surrogates."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from conftest import CANARY_VALUES, write_jsonl
from hf_anon_mcp.cli import main
from hf_anon_mcp.errors import CancelledError
from hf_anon_mcp.models import AnonymizeRequest, RiskLevel
from hf_anon_mcp.workflow.anonymize import anonymize

MUST_VANISH = {"EMAIL_ADDRESS", "CREDIT_CARD", "IBAN_CODE", "US_SSN", "IP_ADDRESS"}


def _rows(path: Path) -> list[dict]:
    if path.suffix == ".parquet":
        return pq.read_table(path).to_pylist()
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def test_dev_file_cli_keeps_rows_and_ids_and_removes_direct_identifiers(pii_dev, tmp_path, capsys):
    out = tmp_path / "x.jsonl"
    assert main(["anonymize", str(pii_dev), "--out", str(out), "--columns", "text"]) == 0
    printed, _ = capsys.readouterr()
    src, dst = _rows(pii_dev), _rows(out)
    assert len(dst) == len(src) == 754
    assert [r["id"] for r in dst] == [r["id"] for r in src]
    leaked = [(s["entity_type"], r["id"]) for r, a in zip(src, dst) for s in r["spans"]
              if s["entity_type"] in MUST_VANISH and s["value"] in a["text"]]
    assert leaked == []
    assert "verification: residual risk" in printed
    assert pii_dev.stat().st_size > 0 and _rows(pii_dev) == src  # input untouched


def test_report_counts_operators_and_verification(canary_jsonl, tmp_path):
    out = tmp_path / "anon.parquet"
    report = anonymize(AnonymizeRequest(source=str(canary_jsonl), output=str(out),
                                        policy={"columns": {"email": {"action": "entity", "entity": "EMAIL_ADDRESS"},
                                                            "name": "drop"}}))
    assert report.rows_in == report.rows_out == 3
    assert report.columns_dropped == ["name"] and report.whole_cell_columns == {"email": "EMAIL_ADDRESS"}
    rows = _rows(out)
    assert set(rows[0]) == {"id", "email", "notes"} and [r["id"] for r in rows] == [1, 2, 3]
    assert all(r["email"] == "<EMAIL_ADDRESS>" for r in rows)
    totals = report.replaced_totals()
    assert totals["EMAIL_ADDRESS"] >= 4 and totals["PERSON"] >= 3
    assert report.operators["PERSON"] == "placeholder"
    dumped = out.read_bytes().decode("utf-8", "replace") + report.model_dump_json()
    assert [v for v in CANARY_VALUES if v in dumped] == []
    assert report.residual_risk is not RiskLevel.high, report.residual
    assert report.rows_per_s > 0 and report.detector.model_name


@pytest.mark.parametrize("operator,check", [
    ("redact", lambda t: "Marisol" not in t and "<" not in t),
    ("mask", lambda t: "*****" in t),
    ("numbered", lambda t: "<PERSON_1>" in t),
])
def test_operators(canary_jsonl, tmp_path, operator, check):
    out = tmp_path / "o.jsonl"
    anonymize(AnonymizeRequest(source=str(canary_jsonl), output=str(out), operator=operator, columns=["notes"],
                               verify=False))
    first = _rows(out)[0]["notes"]
    assert check(first), first


def test_hash_and_encrypt_need_their_secrets(canary_jsonl, tmp_path, monkeypatch):
    from hf_anon_mcp.errors import PolicyError

    monkeypatch.delenv("HF_ANON_MCP_HASH_SALT", raising=False)
    with pytest.raises(PolicyError, match="hash needs a salt"):
        anonymize(AnonymizeRequest(source=str(canary_jsonl), output=str(tmp_path / "h.jsonl"), operator="hash"))
    with pytest.raises(PolicyError, match="16, 24 or 32 bytes"):
        anonymize(AnonymizeRequest(source=str(canary_jsonl), output=str(tmp_path / "e.jsonl"), operator="encrypt",
                                   policy={"encryption_key": "short"}))
    monkeypatch.setenv("HF_ANON_MCP_HASH_SALT", "s" * 32)
    out = tmp_path / "h.jsonl"
    anonymize(AnonymizeRequest(source=str(canary_jsonl), output=str(out), operator="hash", columns=["email"],
                               verify=False))
    assert all(len(r["email"]) == 64 for r in _rows(out))
    assert not (tmp_path / "e.jsonl").exists()


def test_encrypt_is_reversible_by_the_key_owner(canary_jsonl, tmp_path):
    from presidio_anonymizer import DeanonymizeEngine
    from presidio_anonymizer.entities import OperatorConfig, OperatorResult

    key = "k" * 32
    out = tmp_path / "enc.jsonl"
    anonymize(AnonymizeRequest(source=str(canary_jsonl), output=str(out), columns=["email"], verify=False,
                               policy={"default_operator": "encrypt", "encryption_key": key,
                                       "columns": {"email": {"action": "entity", "entity": "EMAIL_ADDRESS"}}}))
    token = _rows(out)[0]["email"]
    clear = DeanonymizeEngine().deanonymize(token, [OperatorResult(0, len(token), "EMAIL_ADDRESS")],
                                            {"DEFAULT": OperatorConfig("decrypt", {"key": key})})
    assert clear.text == "marisol.quintanilla@example.org"


def test_surrogates_are_consistent_and_keyed_and_saved_beside_the_output(tmp_path, monkeypatch):
    monkeypatch.delenv("HF_ANON_MCP_SURROGATE_SECRET", raising=False)
    rows = [{"id": i, "text": f"Bartholomew Quigley called again about order {i}."} for i in range(1000)]
    src = write_jsonl(tmp_path / "same.jsonl", rows)
    outs = []
    for name, secret in (("a", "x" * 32), ("b", "x" * 32), ("c", "y" * 32)):
        monkeypatch.setenv("HF_ANON_MCP_SURROGATE_SECRET", secret)
        out = tmp_path / f"{name}.jsonl"
        report = anonymize(AnonymizeRequest(source=str(src), output=str(out), operator="surrogate",
                                            num_proc=2, batch_size=100, verify=False))
        assert report.surrogate_key_source == "env:HF_ANON_MCP_SURROGATE_SECRET"
        outs.append([r["text"] for r in _rows(out)])
    fakes = {t.split(" called again")[0] for t in outs[0]}
    assert len(fakes) == 1, fakes  # one surrogate everywhere, across 2 worker processes
    assert "Bartholomew Quigley" not in next(iter(fakes))
    assert outs[1] == outs[0]  # same secret, same surrogates
    assert {t.split(" called again")[0] for t in outs[2]} != fakes  # other secret, other surrogate
    monkeypatch.delenv("HF_ANON_MCP_SURROGATE_SECRET")
    report = anonymize(AnonymizeRequest(source=str(src), output=str(tmp_path / "k.jsonl"), operator="surrogate",
                                        max_rows=5, verify=False))
    key_file = tmp_path / "k.jsonl.surrogate-key"
    assert report.surrogate_key_source == "file:k.jsonl.surrogate-key"
    assert key_file.stat().st_mode & 0o077 == 0
    assert key_file.read_text().strip() not in report.model_dump_json()


@pytest.mark.parametrize("suffix", [".parquet", ".csv", ""])
def test_output_formats(canary_jsonl, tmp_path, suffix):
    out = tmp_path / f"out{suffix}"
    report = anonymize(AnonymizeRequest(source=str(canary_jsonl), output=str(out), verify=True,
                                        patterns_only=True))
    assert report.output_format == {".parquet": "parquet", ".csv": "csv", "": "save_to_disk"}[suffix]
    if suffix == "":
        from datasets import load_from_disk

        assert load_from_disk(str(out)).num_rows == 3
    else:
        assert report.rows_out == 3 and out.is_file()
    assert [p.name for p in tmp_path.iterdir() if ".hfanon-" in p.name] == []


def test_nested_chat_messages_are_anonymized_in_place(tmp_path):
    rows = [{"messages": [{"role": "user", "content": "Hi, I'm Bartholomew Quigley, bq@example.org"},
                          {"role": "assistant", "content": "Hello!"}]}]
    out = tmp_path / "chat.jsonl"
    anonymize(AnonymizeRequest(source=str(write_jsonl(tmp_path / "c.jsonl", rows)), output=str(out), verify=False))
    msgs = _rows(out)[0]["messages"]
    assert [m["role"] for m in msgs] == ["user", "assistant"] and msgs[1]["content"] == "Hello!"
    assert "Quigley" not in msgs[0]["content"] and "<EMAIL_ADDRESS>" in msgs[0]["content"]


def test_cancel_leaves_no_output(pii_dev, tmp_path):
    cancel = threading.Event()
    out = tmp_path / "c.parquet"

    def progress(event):
        cancel.set()

    with pytest.raises(CancelledError):
        anonymize(AnonymizeRequest(source=str(pii_dev), output=str(out), batch_size=50, patterns_only=True),
                  progress=progress, cancel=cancel)
    assert list(tmp_path.iterdir()) == []


def test_exception_mid_run_keeps_previous_output_and_leaves_no_temp(pii_dev, tmp_path, monkeypatch):
    out = tmp_path / "keep.jsonl"
    out.write_text('{"text": "previous"}\n')
    from hf_anon_mcp.decisions.replace import ReplaceWorker

    calls = {"n": 0}
    real = ReplaceWorker.__call__

    def failing(self, batch):
        calls["n"] += 1
        if calls["n"] == 3:
            raise KeyboardInterrupt  # like Ctrl-C in the middle of the replace pass
        return real(self, batch)

    monkeypatch.setattr(ReplaceWorker, "__call__", failing)
    with pytest.raises(KeyboardInterrupt):
        anonymize(AnonymizeRequest(source=str(pii_dev), output=str(out), overwrite=True, batch_size=50,
                                   patterns_only=True))
    assert out.read_text() == '{"text": "previous"}\n'
    assert sorted(p.name for p in tmp_path.iterdir()) == ["keep.jsonl"]
