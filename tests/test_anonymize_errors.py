"""Bad input to `anonymize`: one clear line, exit 2, nothing written."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from conftest import write_jsonl
from hf_anon_mcp.cli import main


def _case(tmp_path: Path, name: str) -> tuple[list[str], str]:
    src = write_jsonl(tmp_path / "in.jsonl", [{"id": 1, "text": "Mail bob@example.com"}])
    out = str(tmp_path / "out.jsonl")
    if name == "output-is-input":
        return [str(src), "--out", str(src)], "output path is the input"
    if name == "output-exists":
        Path(out).write_text("old")
        return [str(src), "--out", out], "output exists: out.jsonl"
    if name == "unknown-operator":
        return [str(src), "--out", out, "--operator", "shred"], "invalid choice"
    if name == "unknown-entity":
        p = tmp_path / "p.yaml"
        p.write_text("entity_operators:\n  PERSN: mask\n")
        return [str(src), "--out", out, "--policy", str(p)], "unknown entity type(s): PERSN"
    if name == "unknown-operator-in-policy":
        p = tmp_path / "p.json"
        p.write_text('{"default_operator": "shred"}')
        return [str(src), "--out", out, "--policy", str(p)], "invalid policy at default_operator.operator"
    if name == "policy-does-not-parse":
        p = tmp_path / "p.yaml"
        p.write_text("default_operator: mask\nentity_operators: [unclosed\n")
        return [str(src), "--out", out, "--policy", str(p)], "does not parse: line 3"
    if name == "policy-json-does-not-parse":
        p = tmp_path / "p.json"
        p.write_text('{"default_operator": "mask",\n "x": }')
        return [str(src), "--out", out, "--policy", str(p)], "does not parse: line 2"
    if name == "bad-key-length":
        p = tmp_path / "p.yaml"
        p.write_text("default_operator: encrypt\nencryption_key: tooshort\n")
        return [str(src), "--out", out, "--policy", str(p)], "16, 24 or 32 bytes"
    if name == "hash-without-salt":
        return [str(src), "--out", out, "--operator", "hash"], "hash needs a salt"
    if name == "unwritable-folder":
        if os.geteuid() != 0:
            locked = tmp_path / "locked"
            locked.mkdir()
            locked.chmod(0o500)
            return [str(src), "--out", str(locked / "o.jsonl")], "not writable"
        return [str(src), "--out", "/proc/self/o.jsonl"], "not writable"  # root may write anywhere but /proc
    if name == "missing-folder":
        return [str(src), "--out", str(tmp_path / "nope" / "o.jsonl")], "does not exist"
    if name == "bad-output-type":
        return [str(src), "--out", str(tmp_path / "o.xlsx")], "unsupported output type"
    if name == "policy-unknown-column":
        p = tmp_path / "p.yaml"
        p.write_text("columns:\n  body: drop\n")
        return [str(src), "--out", out, "--policy", str(p)], "unknown column(s): body"
    raise AssertionError(name)


CASES = ["output-is-input", "output-exists", "unknown-operator", "unknown-entity", "unknown-operator-in-policy",
         "policy-does-not-parse", "policy-json-does-not-parse", "bad-key-length", "hash-without-salt",
         "unwritable-folder", "missing-folder", "bad-output-type", "policy-unknown-column"]


@pytest.mark.parametrize("name", CASES)
def test_bad_anonymize_input(tmp_path, capsys, monkeypatch, name):
    monkeypatch.delenv("HF_ANON_MCP_HASH_SALT", raising=False)
    monkeypatch.delenv("HF_ANON_MCP_ENCRYPTION_KEY", raising=False)
    args, phrase = _case(tmp_path, name)
    before = {p.name: p.stat().st_mtime_ns for p in tmp_path.rglob("*")}
    try:
        code = main(["anonymize", *args, "--patterns-only"])
    except SystemExit as exc:  # argparse rejects an unknown --operator choice itself (exit 2)
        code = exc.code
    assert code == 2
    out, err = capsys.readouterr()
    assert out == "" and "Traceback" not in err
    assert phrase in err, err
    assert {p.name: p.stat().st_mtime_ns for p in tmp_path.rglob("*")} == before
