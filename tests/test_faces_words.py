"""Each face speaks its own words, and every exit code is documented and tested.

- CLI errors name CLI flags (`--overwrite`, `--max-rows`), MCP errors name tool fields (`overwrite=true`,
  `max_rows`); one line, no traceback.
- Exit codes: 0 ok, 1 internal error, 2 bad input, 3 a push preview that would be refused (129/130/143 for signals
  are in test_signals.py); each is listed in `--help` and in the README.
- Headers state the profile and the detectors; the fast profile says plainly that names are not detected.
- One canonical name per entity type in reports; aliases accepted on input.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import anyio
import pytest
from mcp import Client

from conftest import CANARY_ROWS, write_jsonl
from hf_anon_mcp.cli import EXIT_CODES, build_parser, main
from hf_anon_mcp.config import Settings
from hf_anon_mcp.server import build_server

README = Path(__file__).resolve().parents[1] / "README.md"
CLI = [sys.executable, "-m", "hf_anon_mcp.cli"]
ENV = {**os.environ, "HF_HUB_OFFLINE": "1"}


@pytest.fixture
def src(tmp_path: Path) -> Path:
    return write_jsonl(tmp_path / "people.jsonl", CANARY_ROWS)


def _mcp(root: Path, tool: str, args: dict):
    async def go():
        async with Client(build_server(Settings(reports_dir=root / ".reports"), roots=[root])) as client:
            return await client.call_tool(tool, args)
    return anyio.run(go)


def _one_error_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and "Traceback" not in err, err
    return lines[0]


# ---- words ------------------------------------------------------------------------------------------------------
def test_an_existing_output_is_named_as_a_flag_in_the_cli_and_a_field_over_mcp(tmp_path, src, capsys):
    (tmp_path / "out.jsonl").write_text("old")
    assert main(["anonymize", str(src), "--out", str(tmp_path / "out.jsonl"), "--patterns-only"]) == 2
    line = _one_error_line(capsys.readouterr().err)
    assert "`--overwrite`" in line and "overwrite=true" not in line, line
    r = _mcp(tmp_path, "anonymize_dataset", {"source": src.name, "output": "out.jsonl", "patterns_only": True})
    text = r.content[0].text
    assert r.is_error and "`overwrite=true`" in text and "--overwrite" not in text, text
    assert (tmp_path / "out.jsonl").read_text() == "old"


def test_invalid_values_name_the_flag_in_the_cli_and_the_field_over_mcp(tmp_path, src, capsys):
    assert main(["scan", str(src), "--max-rows", "0", "--patterns-only"]) == 2
    line = _one_error_line(capsys.readouterr().err)
    assert "--max-rows" in line and "max_rows" not in line, line
    r = _mcp(tmp_path, "scan_dataset", {"source": src.name, "max_rows": 0})
    assert r.is_error and "max_rows" in r.content[0].text and "--max-rows" not in r.content[0].text


def test_cli_words_map_request_fields_to_each_commands_flags():
    from hf_anon_mcp.cli import cli_words
    from hf_anon_mcp.errors import field, in_face_words

    parser = build_parser()
    anon, push = cli_words(parser, "anonymize"), cli_words(parser, "push")
    assert in_face_words(f"pass {field('overwrite', True)}", anon) == "pass `--overwrite`"
    assert in_face_words(f"fix {field('policy_file')}", anon) == "fix `--policy`"
    assert in_face_words(f"or {field('verify', 'off')}", anon) == "or `--verify off`"
    assert in_face_words(f"or {field('include_raw_terms', True)}", anon) == "or `--include-raw-terms`"
    assert in_face_words("pass overwrite (--overwrite) now", anon) == "pass `--overwrite` now"
    assert in_face_words(f"{field('make_private', True)} / {field('repo_id')}", push) == "`--make-private` / `--repo`"
    assert in_face_words("column `notes` and `email`", anon) == "column `notes` and `email`"  # not fields


def test_usage_errors_are_one_line_with_exit_code_2(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["anonymize", "x.jsonl"])  # --out missing
    assert exit_.value.code == 2
    line = _one_error_line(capsys.readouterr().err)
    assert "--out" in line and "hf-anon-mcp anonymize --help" in line


# ---- exit codes ---------------------------------------------------------------------------------------------------
def test_every_exit_code_is_in_help_and_in_the_readme():
    codes = re.findall(r"^\s+(\d+)\s", EXIT_CODES, re.M)
    assert codes == ["0", "1", "2", "3", "129"] and "130" in EXIT_CODES and "143" in EXIT_CODES
    for argv in (["--help"], ["anonymize", "--help"], ["push", "--help"], ["serve", "--help"]):
        proc = subprocess.run([*CLI, *argv], capture_output=True, text=True, timeout=120, env=ENV)
        assert proc.returncode == 0 and EXIT_CODES in proc.stdout, (argv, proc.stdout[-800:])
    readme = README.read_text()
    section = readme[readme.index("## Exit codes"):]
    for code in ("0", "1", "2", "3", "129", "130", "143"):
        assert re.search(rf"^\| `{code}` \|", section, re.M), code


def test_exit_0_done(src, capsys):
    assert main(["scan", str(src), "--patterns-only", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["rows_scanned"] == 3


def test_exit_1_internal_error_is_one_line_without_values(src, capsys, monkeypatch):
    import hf_anon_mcp.workflow.scan as wf

    def bug(request, **kwargs):
        raise ZeroDivisionError("Marisol Quintanilla")  # a bug whose message holds data
    monkeypatch.setattr(wf, "scan", bug)
    assert main(["scan", str(src)]) == 1
    line = _one_error_line(capsys.readouterr().err)
    assert "internal error (ZeroDivisionError)" in line and "Marisol" not in line


def test_exit_2_bad_input(tmp_path, capsys):
    assert main(["scan", str(tmp_path / "missing.jsonl")]) == 2
    assert "source not found" in _one_error_line(capsys.readouterr().err)


def test_exit_3_a_preview_whose_push_would_be_refused(tmp_path):
    dirty = write_jsonl(tmp_path / "dirty.jsonl", [{"id": 1, "text": "key hf_" + "Zq8Xw2Lk5Vb9Nm3Rt7Yp1Sd4Fg6Hj0Kc2U"}])
    env = {k: v for k, v in ENV.items() if k not in ("HF_TOKEN", "HUGGING_FACE_HUB_TOKEN")}
    env["HF_HOME"] = str(tmp_path / "hf")
    proc = subprocess.run([*CLI, "push", str(dirty), "--repo", "alice/x", "--patterns-only"], capture_output=True,
                          text=True, timeout=300, env=env)
    assert proc.returncode == 3, proc.stderr[-1500:]
    assert "PREVIEW (nothing uploaded)" in proc.stdout and "SECRET_HF_TOKEN" in proc.stdout
    assert "Zq8Xw2Lk5Vb9Nm3Rt7Yp1Sd4Fg6Hj0Kc2U" not in proc.stdout + proc.stderr


# ---- headers and names --------------------------------------------------------------------------------------------
def test_fast_profile_headers_say_names_are_not_detected(tmp_path, src, capsys):
    assert main(["scan", str(src), "--patterns-only"]) == 0
    table = capsys.readouterr().out
    assert "detection: profile fast:" in table and "names, places and organisations are NOT detected" in table
    assert main(["anonymize", str(src), "--out", str(tmp_path / "o.jsonl"), "--patterns-only"]) == 0
    report = capsys.readouterr().out
    assert "detection: profile fast:" in report and "NOT detected" in report
    r = _mcp(tmp_path, "scan_dataset", {"source": src.name, "patterns_only": True})
    assert "NOT detected" in r.structured_content["scan"]["detection"] and "NOT detected" in r.content[0].text
    assert "profile fast" in r.structured_content["message"]  # the progress line


def test_ner_profile_headers_name_the_model(tmp_path, src, capsys):
    assert main(["scan", str(src)]) == 0
    table = capsys.readouterr().out
    header = next(line for line in table.splitlines() if line.startswith("detection: "))
    assert "profile balanced" in header and "NOT detected" not in header
    assert re.search(r"spacy-model \S+ \S+ \(NER\)|spaCy NER", header), header  # the model, its version, its role


def test_headers_read_profile_and_detectors_when_the_engine_gives_them():
    from hf_anon_mcp.headers import detector_header, planned_header
    from hf_anon_mcp.models import DetectorInfo, ScanRequest

    class Newer(DetectorInfo):  # the fields another part of the project adds
        profile: str = "thorough"
        detectors: list[str] = ["presidio 2.2", "spaCy NER en_core_web_sm 3.8.0", "rampart onnx 1.4.0"]
    assert detector_header(Newer(presidio_version="2.2", mode="ner", score_threshold=0.4)) == \
        "profile thorough: presidio 2.2, spaCy NER en_core_web_sm 3.8.0, rampart onnx 1.4.0"
    fast = Newer(presidio_version="2.2", mode="patterns-only", score_threshold=0.4, profile="fast",
                 detectors=["presidio 2.2 patterns"], cannot_detect=["PERSON"])
    assert detector_header(fast).endswith("names, places and organisations are NOT detected "
                                          "(no NER; only a few rule-based name cues)")
    assert "NOT detected" in planned_header(ScanRequest(source="x", patterns_only=True))
    assert "NOT detected" not in planned_header(ScanRequest(source="x"))


def test_one_canonical_name_per_entity_type():
    from hf_anon_mcp.entity_names import canonical_entities, canonical_entity, canonical_scan
    from hf_anon_mcp.models import ColumnReport, DetectorInfo, EntityStat, RiskLevel, ScanReport

    assert canonical_entity("ADDRESS") == canonical_entity("street_address") == "STREET_ADDRESS"
    assert canonical_entity("GPE") == canonical_entity("LOC") == "LOCATION"
    assert canonical_entity("SECRET_HF_TOKEN") == "SECRET_HF_TOKEN"
    assert canonical_entities(["email", "EMAIL_ADDRESS", "person"]) == ["EMAIL_ADDRESS", "PERSON"]
    det = DetectorInfo(presidio_version="x", mode="ner", score_threshold=0.4)
    col = ColumnReport(column="notes", rows_with_text=10, risk=RiskLevel.high, entities=[
        EntityStat(entity_type="STREET_ADDRESS", count=3, rows_affected=3, mean_score=0.9, samples=["1** M*** St"]),
        EntityStat(entity_type="ADDRESS", count=1, rows_affected=1, mean_score=0.5, samples=["P* B** 1"])])
    report = ScanReport(report_id="scan-000000000000", source="s", rows_scanned=10, text_columns=["notes"],
                        columns=[col], overall_risk=RiskLevel.high, detector=det, elapsed_s=0, rows_per_s=0)
    merged = canonical_scan(report).columns[0].entities
    assert [(e.entity_type, e.count, e.rows_affected) for e in merged] == [("STREET_ADDRESS", 4, 3)]
    assert merged[0].mean_score == 0.8 and report.columns[0].entities[1].entity_type == "ADDRESS"  # input untouched


def test_entity_aliases_are_accepted_on_input(src, capsys):
    assert main(["scan", str(src), "--patterns-only", "--entities", "email", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert {e["entity_type"] for c in report["columns"] for e in c["entities"]} == {"EMAIL_ADDRESS"}


def test_main_in_process_ends_only_what_it_started(src, capsys):
    """Called in-process (a library user, a test), `main` must not end processes it did not start."""
    bystander = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])
    try:
        assert main(["scan", str(src), "--patterns-only", "--num-proc", "2"]) == 0
        assert bystander.poll() is None
    finally:
        bystander.kill()
        bystander.wait()


def test_ray_refusals_name_flags_in_the_cli_and_fields_over_mcp(tmp_path, src, capsys):
    """Canaries cannot resume a Ray run: said before Ray starts, in each face's words."""
    args = ["anonymize", str(src), "--out", str(tmp_path / "o"), "--engine", "ray", "--resume", "--plant-canaries", "1"]
    assert main(args) == 2
    line = _one_error_line(capsys.readouterr().err)
    assert "`--plant-canaries`" in line and "`--resume`" in line and "plant_canaries" not in line, line
    r = _mcp(tmp_path, "anonymize_dataset", {"source": src.name, "output": "o", "engine": "ray", "resume": True,
                                             "plant_canaries": 1})
    text = r.content[0].text
    assert r.is_error and "`plant_canaries`" in text and "`resume=true`" in text and "--resume" not in text, text
    assert not (tmp_path / "o").exists()
