"""`examples/agent_workflow.py` end to end, as a user runs it: a stdio MCP client starting the real server process.

Without HF_TOKEN and offline the push preview still runs (it needs neither); with a token it previews a push against
the local Hub stand-in (nothing uploaded, no repo created). The printed summaries carry no value of the sample data.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from hub_standin import HubStandin, hub_env

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "agent_workflow.py"
SAMPLE_VALUES = ["Marisol Quintanilla", "Quintanilla", "415-555-0143", "Thaddeus Okonkwo", "4111 1111 1111 1111",
                 "t.okonkwo@example.net", "742 Evergreen Terrace"]
TOKEN = "hf_" + "ExampleWriteToken0123456789abcdef"


def _run(workdir: Path, env: dict) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(EXAMPLE), str(workdir)], capture_output=True, text=True,
                          timeout=300, env=env)


def _check(proc: subprocess.CompletedProcess, workdir: Path) -> None:
    assert proc.returncode == 0, proc.stderr[-2000:]
    for step in ("== scan: ok", "== anonymize: ok", "== verify: ok", "== card: ok", "workflow complete"):
        assert step in proc.stdout, proc.stdout
    assert [v for v in SAMPLE_VALUES if v in proc.stdout + proc.stderr] == []
    assert (workdir / "tickets.anon.parquet").is_file() and (workdir / "README.md").is_file()
    assert "Traceback" not in proc.stderr


def test_example_runs_end_to_end_offline_with_a_push_preview_and_no_token(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("HF_TOKEN", "HF_ENDPOINT")}
    env.update({"HF_HUB_OFFLINE": "1", "XDG_CACHE_HOME": str(tmp_path / "cache"), "HF_HOME": str(tmp_path / "hf")})
    proc = _run(tmp_path / "work", env)
    _check(proc, tmp_path / "work")
    assert "== push preview: ok" in proc.stdout and "nothing uploaded" in proc.stdout


def test_example_previews_a_private_push_against_the_hub_stand_in(tmp_path):
    with HubStandin() as hub:
        hub.add_token(TOKEN, user="alice", scope="write")
        env = {**hub_env(hub.url, tmp_path / "hf", token=TOKEN), "XDG_CACHE_HOME": str(tmp_path / "cache"),
               "HF_ANON_MCP_EXAMPLE_REPO": "alice/support-tickets"}
        proc = _run(tmp_path / "work", env)
        with pytest.raises(KeyError):
            hub.repo("alice/support-tickets")  # a preview creates nothing
    _check(proc, tmp_path / "work")
    assert "== push preview: ok" in proc.stdout and "nothing uploaded" in proc.stdout
    assert TOKEN not in proc.stdout + proc.stderr and TOKEN[3:] not in proc.stdout + proc.stderr
