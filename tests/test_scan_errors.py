"""Bad input to `scan`: a clear one-line error, exit code 2, no traceback, nothing written."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import write_jsonl
from hf_anon_mcp.cli import main


def _make(tmp_path: Path, case: str) -> tuple[list[str], str]:
    """Arguments for a failing scan and a phrase its error must contain."""
    if case == "missing":
        return [str(tmp_path / "nope.csv")], "source not found"
    if case == "extension":
        p = tmp_path / "data.xlsx"
        p.write_text("x")
        return [str(p)], "unsupported file type '.xlsx'"
    if case == "malformed-jsonl":
        p = tmp_path / "bad.jsonl"
        p.write_text('{"text": "ok"}\n{"text": "fine"}\n{"text": broken\n', encoding="utf-8")
        return [str(p)], "bad line 3"
    if case == "malformed-json":
        p = tmp_path / "bad.json"
        p.write_text('[{"text": "ok"}, {"text": ', encoding="utf-8")
        return [str(p)], "malformed JSON"
    if case == "malformed-csv":
        p = tmp_path / "bad.csv"
        p.write_text('id,text\n1,"fine"\n2,"unterminated\n3,a,b,c,d\n', encoding="utf-8")
        return [str(p)], "malformed CSV"
    if case == "empty-file":
        p = tmp_path / "empty.csv"
        p.write_text("")
        return [str(p)], "file is empty"
    if case == "header-only":
        p = tmp_path / "header.csv"
        p.write_text("id,text\n")
        return [str(p)], "empty"
    if case == "unknown-column":
        p = write_jsonl(tmp_path / "d.jsonl", [{"text": "hello"}])
        return [str(p), "--columns", "body"], "unknown column(s): body"
    if case == "column-without-text":
        p = write_jsonl(tmp_path / "d.jsonl", [{"text": "hello", "n": 3}])
        return [str(p), "--columns", "n"], "hold no text: n"
    if case == "no-text-columns":
        p = write_jsonl(tmp_path / "d.jsonl", [{"n": 3, "x": 1.5}])
        return [str(p)], "no text columns"
    if case == "hub-offline":
        return ["someuser/some-dataset"], "offline"
    raise AssertionError(case)


CASES = ["missing", "extension", "malformed-jsonl", "malformed-json", "malformed-csv", "empty-file", "header-only",
         "unknown-column", "column-without-text", "no-text-columns", "hub-offline"]


@pytest.mark.parametrize("case", CASES)
def test_bad_input_is_one_clear_line_and_exit_2(tmp_path, capsys, monkeypatch, case):
    monkeypatch.setattr("huggingface_hub.constants.HF_HUB_OFFLINE", True)
    args, phrase = _make(tmp_path, case)
    before = sorted(p.name for p in tmp_path.iterdir())
    assert main(["scan", *args, "--patterns-only"]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    assert phrase in lines[0]
    assert "Traceback" not in err
    assert sorted(p.name for p in tmp_path.iterdir()) == before


def test_console_script_reports_errors_without_traceback(tmp_path):
    exe = Path(sys.executable).with_name("hf-anon-mcp")
    proc = subprocess.run([str(exe), "scan", str(tmp_path / "missing.parquet")], capture_output=True, text=True,
                          timeout=120, env={**os.environ, "HF_HUB_OFFLINE": "1"})
    assert proc.returncode == 2
    assert proc.stdout == ""
    assert proc.stderr.strip().startswith("error: source not found")
    assert "Traceback" not in proc.stderr
