"""The server through the MCP Inspector CLI (`@modelcontextprotocol/inspector --cli`), a client written by others:
flat `--tool-arg key=value` arguments, the four workflow tools listed within the size budget, a scan that is not an
error, and a misspelt field refused with its name and the nearest valid one.

The Inspector is installed once (pinned) from npm into a cache folder; the test is skipped only where npm/npx are
missing. Set HF_ANON_MCP_INSPECTOR_DIR to choose the folder.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import CANARY_ROWS, CANARY_VALUES, write_jsonl

INSPECTOR = "@modelcontextprotocol/inspector@2.12.0"
EXE = str(Path(sys.executable).with_name("hf-anon-mcp"))
TOOLS = {"scan_dataset", "anonymize_dataset", "write_model_card_privacy_section", "push_private"}


@pytest.fixture(scope="session")
def inspector() -> Path:
    npm, npx = shutil.which("npm"), shutil.which("npx")
    if not npm or not npx or not shutil.which("node"):
        pytest.skip("npm/npx/node not installed: the MCP Inspector CLI cannot run here")
    folder = Path(os.environ.get("HF_ANON_MCP_INSPECTOR_DIR")
                  or Path.home() / ".cache" / "hf-anon-mcp-tests" / INSPECTOR.replace("/", "+"))
    exe = folder / "node_modules" / ".bin" / "mcp-inspector"
    if not exe.exists():  # one-time install (a few tens of MB), then offline
        proc = subprocess.run([npm, "install", "--no-audit", "--no-fund", "--prefix", str(folder), INSPECTOR],
                              capture_output=True, text=True, timeout=1200)
        assert proc.returncode == 0 and exe.exists(), proc.stderr[-2000:]
    return exe


def _run(inspector: Path, root: Path, *args: str) -> tuple[dict, str]:
    env_args = ["-e", "HF_HUB_OFFLINE=1", "-e", f"XDG_CACHE_HOME={root / '.cache'}"]
    if os.environ.get("PYTHONPATH"):  # stdio servers get a minimal environment: pass the package path on
        env_args += ["-e", f"PYTHONPATH={os.environ['PYTHONPATH']}"]
    proc = subprocess.run([str(inspector), "--cli", *env_args, "--cwd", str(root), "--connect-timeout", "300000",
                           EXE, "serve", "--root", str(root), *args], capture_output=True, text=True, timeout=600)
    assert proc.stdout.strip(), (proc.returncode, proc.stderr[-2000:])
    return json.loads(proc.stdout), proc.stderr


@pytest.fixture
def root(tmp_path: Path) -> Path:
    write_jsonl(tmp_path / "people.jsonl", CANARY_ROWS)
    return tmp_path


def test_inspector_lists_the_four_tools_with_flat_arguments_within_20_kb(inspector, root):
    listed, _ = _run(inspector, root, "--method", "tools/list")
    tools = {t["name"]: t for t in listed["tools"]}
    assert TOOLS <= set(tools)
    size = len(json.dumps(listed, separators=(",", ":")).encode())
    assert size <= 20_000, size
    scan = tools["scan_dataset"]["inputSchema"]
    assert "source" in scan["properties"] and scan["required"] == ["source"] and "request" not in scan["properties"]
    assert scan.get("additionalProperties") is False


def test_inspector_scan_with_flat_tool_args(inspector, root):
    result, _ = _run(inspector, root, "--method", "tools/call", "--tool-name", "scan_dataset",
                     "--tool-arg", "source=people.jsonl")
    assert not result.get("isError"), result
    scan = result["structuredContent"]["scan"]
    assert result["structuredContent"]["status"] == "done" and scan["rows_scanned"] == 3
    assert scan["overall_risk"] == "high" and "profile balanced" in scan["detection"]
    assert [v for v in CANARY_VALUES if v in json.dumps(result)] == []


def test_inspector_misspelt_field_is_an_error_naming_it(inspector, root):
    result, _ = _run(inspector, root, "--method", "tools/call", "--tool-name", "anonymize_dataset",
                     "--tool-arg", "source=people.jsonl", "output=out.jsonl", "polcy=strict")
    assert result.get("isError") is True, result
    text = result["content"][0]["text"]
    assert "`polcy`" in text and "did you mean `policy`" in text, text
    assert not (root / "out.jsonl").exists()
