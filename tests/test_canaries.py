"""Leak canaries everywhere: known fake people and a canary `hf_` token through every CLI command and every MCP
tool (push included, against the local Hub stand-in), success and failure paths. None may appear in any result,
progress message, log line, exception text or pushed card."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import CANARY_ROWS, CANARY_VALUES, write_jsonl
from hub_standin import HubStandin, hub_env

CANARY_TOKEN = "hf_" + "CanaryTokenDoNotLeak0123456789ab"  # the write token the server uses
CANARY_SECRET = "hf_" + "Zq8Xw2Lk5Vb9Nm3Rt7Yp1Sd4Fg6Hj0Kc2U"  # a token inside the data (34 chars)
EXE = str(Path(sys.executable).with_name("hf-anon-mcp"))


def _leaks(text: str) -> list[str]:
    found = [v for v in [*CANARY_VALUES, CANARY_SECRET, CANARY_SECRET[3:], CANARY_TOKEN, CANARY_TOKEN[3:]]
             if v in text]
    return found


@pytest.fixture(scope="module")
def hub():
    with HubStandin() as server:
        server.add_token(CANARY_TOKEN, user="alice", scope="write")
        yield server


@pytest.fixture
def data(tmp_path: Path) -> Path:
    rows = [dict(r) for r in CANARY_ROWS]
    rows[0]["notes"] += f" Deploy key: {CANARY_SECRET}"
    return write_jsonl(tmp_path / "people.jsonl", rows)


def _run(args: list[str], env: dict, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([EXE, *args], capture_output=True, text=True, timeout=300, env=env, cwd=cwd)


def test_every_cli_command_success_and_failure(hub, data, tmp_path):
    env = {**hub_env(hub.url, tmp_path / "home", token=CANARY_TOKEN), "HF_ANON_MCP_HUB_RETRIES": "1"}
    runs = {
        "scan": ["scan", "people.jsonl"],
        "scan-json": ["scan", "people.jsonl", "--json"],
        "scan-fail": ["scan", "people.jsonl", "--columns", "Marisol Quintanilla"],
        "anonymize": ["anonymize", "people.jsonl", "--out", "anon.parquet", "--json"],
        "anonymize-fail": ["anonymize", "people.jsonl", "--out", "anon.parquet"],  # exists
        "anonymize-surrogate": ["anonymize", "people.jsonl", "--out", "fake.jsonl", "--operator", "surrogate"],
        "push-blocked": ["push", "people.jsonl", "--repo", "alice/raw", "--confirm", "--patterns-only"],
        "push-preview": ["push", "anon.parquet", "--repo", "alice/clean", "--json"],
        "push": ["push", "anon.parquet", "--repo", "alice/clean", "--confirm", "--json"],
        "doctor": ["doctor", "--root", str(tmp_path)],
    }
    outputs = {}
    for name, args in runs.items():
        proc = _run(args, env, tmp_path)
        outputs[name] = proc
        assert _leaks(proc.stdout + proc.stderr) == [], name
        assert "Traceback" not in proc.stderr, (name, proc.stderr[-800:])
    (tmp_path / "scan.json").write_text(outputs["scan-json"].stdout)
    card = _run(["card", "--scan-report", "scan.json", "--card", "README.md"], env, tmp_path)
    assert card.returncode == 0 and _leaks(card.stdout + card.stderr + (tmp_path / "README.md").read_text()) == []
    assert [outputs[n].returncode for n in ("scan-fail", "anonymize-fail", "push-blocked")] == [2, 2, 2]
    assert "SECRET_HF_TOKEN" in outputs["push-blocked"].stderr + outputs["push-blocked"].stdout
    pushed = json.loads(outputs["push"].stdout)
    assert pushed["uploaded"] is True and pushed["private"] is True
    repo = hub.repo("alice/clean")
    card_text = repo.files["README.md"].content.decode()
    assert "Privacy and personal data" in card_text and _leaks(card_text) == []
    assert _leaks("".join(f.content.decode("utf-8", "replace") for f in repo.files.values())) == []
    with pytest.raises(KeyError):
        hub.repo("alice/raw")  # the blocked push created nothing


MCP_SCRIPT = r"""
import json, sys, anyio
from pathlib import Path
from mcp import Client
from hf_anon_mcp.config import Settings
from hf_anon_mcp.server import build_server

root = Path(sys.argv[1])
out = {}
async def main(mode):
    server = build_server(Settings(reports_dir=root / ".reports"), roots=[root])
    progress = []
    async def on_progress(p, t, m):
        progress.append(m)
    async with Client(server, mode=mode) as c:
        calls = [
            ("scan_dataset", {"source": "people.jsonl"}),
            ("scan_dataset", {"source": "people.jsonl", "columns": ["Marisol Quintanilla"]}),
            ("scan_dataset", {"source": "people.jsonl", "max_rows": "Thaddeus Okonkwo"}),
            ("anonymize_dataset", {"source": "people.jsonl", "output": f"anon-{mode}.parquet"}),
            ("push_private", {"source": "people.jsonl", "repo_id": f"alice/raw-{mode}",
                                          "patterns_only": True, "confirm": True}),
            ("push_private", {"source": f"anon-{mode}.parquet", "repo_id": f"alice/mcp-{mode}"}),
            ("push_private", {"source": f"anon-{mode}.parquet", "repo_id": f"alice/mcp-{mode}",
                                          "confirm": True}),
            ("push_private", {"source": f"anon-{mode}.parquet", "repo_id": "not a repo id",
                                          "confirm": True}),
        ]
        results = []
        for name, args in calls:
            r = await c.call_tool(name, args, progress_callback=on_progress)
            results.append({"tool": name, "is_error": r.is_error, "text": r.content[0].text,
                            "structured": r.structured_content})
        out[mode] = {"results": results, "progress": progress}

for mode in ("legacy", "2026-07-28"):
    anyio.run(main, mode)
print("@@RESULT@@" + json.dumps(out))
"""


def test_every_mcp_tool_including_push_against_the_stand_in(hub, data, tmp_path):
    env = {**hub_env(hub.url, tmp_path / "home", token=CANARY_TOKEN), "HF_ANON_MCP_HUB_RETRIES": "1"}
    proc = subprocess.run([sys.executable, "-c", MCP_SCRIPT, str(tmp_path)], capture_output=True, text=True,
                          timeout=600, env=env, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert _leaks(proc.stdout + proc.stderr) == [] and "Traceback" not in proc.stderr
    out = json.loads(proc.stdout.split("@@RESULT@@", 1)[1])
    for mode, got in out.items():
        errors = [r["is_error"] for r in got["results"]]
        assert errors == [False, True, True, False, True, False, False, True], (mode, got["results"])
        blocked = got["results"][4]["text"]
        assert "SECRET_HF_TOKEN" in blocked or "high" in blocked
        preview, pushed = got["results"][5]["structured"]["push"], got["results"][6]["structured"]["push"]
        assert preview["uploaded"] is False and pushed["uploaded"] is True and pushed["private"] is True
        assert "README.md" in hub.repo(f"alice/mcp-{mode}").files
        assert "Invalid arguments" in got["results"][2]["text"]
    assert _leaks(json.dumps(out)) == []
