"""The real server process over stdio, streamable HTTP and SSE: the workflow end to end, the bearer token, Host and
Origin protection, binding rules, nothing on stdout but the protocol, and no canary in stderr."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import anyio
import httpx2
import pytest
from mcp import Client, StdioServerParameters
from mcp.client.sse import sse_client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared._httpx_utils import create_mcp_http_client

from conftest import CANARY_ROWS, CANARY_VALUES, write_jsonl

EXE = str(Path(sys.executable).with_name("hf-anon-mcp"))
TOKEN = "test-bearer-token-0123456789abcdef"
# A generous job wait: on a loaded machine a first call (model load) can outlast the default 40 s and answer with a
# job_id, which these tests do not follow.
ENV = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_ANON_MCP_TOKEN": TOKEN, "HF_ANON_MCP_JOB_WAIT_S": "600"}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def _workflow(client: Client, progress: list[str] | None = None, num_proc: int | None = None) -> list:
    async def on_progress(done, total, message):
        if progress is not None:
            progress.append(f"{done} {total} {message}")

    async def call(name, args):
        return await client.call_tool(name, args, progress_callback=on_progress)
    results = [await call("scan_dataset", {"source": "people.jsonl"})]
    results.append(await call("anonymize_dataset", {
        "source": "people.jsonl", "output": "anon.jsonl", "overwrite": True,
        **({"num_proc": num_proc} if num_proc else {})}))
    results.append(await call("scan_dataset", {"source": "anon.jsonl"}))
    results.append(await call("write_model_card_privacy_section", {
        "card_path": "README.md", "scan_report_id": results[0].structured_content["scan"]["report_id"],
        "anonymize_report_id": results[1].structured_content["anonymize"]["report_id"]}))
    results.append(await call("scan_dataset", {"source": "missing.csv"}))  # failing call
    results.append(await call("scan_dataset", {  # a validation error quoting a canary
        "source": "people.jsonl", "columns": "Marisol Quintanilla", "max_rows": "Thaddeus Okonkwo"}))
    results.append(await call("anonymize_dataset", {  # the workflow refuses a canary column name
        "source": "people.jsonl", "output": "x.jsonl", "columns": ["Marisol Quintanilla"]}))
    return results


def _check(results, root: Path, stderr: str, progress: list[str] = ()) -> None:
    assert [r.is_error for r in results] == [False, False, False, False, True, True, True]
    assert results[1].structured_content["anonymize"]["rows_out"] == 3
    assert "Invalid arguments for scan_dataset" in results[5].content[0].text
    blob = "".join(json.dumps(r.structured_content) + r.content[0].text for r in results) + "\n".join(progress)
    blob += (root / "anon.jsonl").read_text() + (root / "README.md").read_text() + stderr
    assert [v for v in CANARY_VALUES if v in blob] == []
    assert "Traceback" not in stderr and "Exception ignored" not in stderr


@pytest.fixture
def root(tmp_path: Path) -> Path:
    write_jsonl(tmp_path / "people.jsonl", CANARY_ROWS)
    return tmp_path


def test_stdio_subprocess_full_workflow(root):
    log = root.parent / f"{root.name}-stderr.log"
    # stdio servers do not inherit the environment: pass what it needs; keep its stderr for the canary check.
    params = StdioServerParameters(command="bash", args=["-c", f'exec "{EXE}" serve --root "{root}" 2>>"{log}"'],
                                   env={"HF_HUB_OFFLINE": "1", "XDG_CACHE_HOME": str(root / ".cache"),
                                        "HF_ANON_MCP_JOB_WAIT_S": "600",
                                        **{k: os.environ[k] for k in ("PYTHONPATH",) if k in os.environ}},
                                   cwd=str(root))

    progress: list[str] = []

    async def go():
        async with Client(params, mode="legacy") as client:
            return await _workflow(client, progress, num_proc=2)  # a warm pool, ended cleanly with the server
    results = anyio.run(go)
    _check(results, root, log.read_text(), progress)
    assert not (root / "x.jsonl").exists()


def test_stdio_start_prints_nothing_on_stdout(root):
    proc = subprocess.run([EXE, "serve", "--root", str(root)], input="", capture_output=True, text=True,
                          timeout=60, env=ENV)
    assert proc.stdout == ""


class _Server:
    def __init__(self, transport: str, root: Path, *extra: str, env=None):
        self.port = _free_port()
        self.err = open(root.parent / f"{root.name}-{transport}.log", "w+")
        self.proc = subprocess.Popen([EXE, "serve", "--transport", transport, "--port", str(self.port),
                                      "--root", str(root), *extra], stdout=subprocess.PIPE, stderr=self.err,
                                     env=env or ENV, cwd=root)
        deadline = time.time() + 60
        while time.time() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return
            except OSError:
                if self.proc.poll() is not None:
                    break
                time.sleep(0.1)
        raise AssertionError(f"server did not start: {self.stderr()}")

    def stderr(self) -> str:
        self.err.flush()
        self.err.seek(0)
        return self.err.read()

    def stop(self) -> str:
        self.proc.terminate()
        self.proc.wait(timeout=20)
        return self.stderr()


def test_streamable_http_with_and_without_token(root):
    server = _Server("streamable-http", root)
    url = f"http://127.0.0.1:{server.port}/mcp"
    try:
        async def go(token: str | None):
            headers = {"Authorization": f"Bearer {token}"} if token else {}
            async with create_mcp_http_client(headers=headers) as http:
                async with Client(streamable_http_client(url, http_client=http)) as client:
                    return await _workflow(client)
        results = anyio.run(go, TOKEN)
        init = {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
            "protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "t", "version": "0"}}}
        headers = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json"}
        no_token = httpx2.post(url, json=init, headers=headers)
        wrong = httpx2.post(url, json=init, headers={**headers, "Authorization": "Bearer wrong"})
        good = {**headers, "Authorization": f"Bearer {TOKEN}"}
        foreign_host = httpx2.post(url, json=init, headers={**good, "Host": "evil.example.com"})
        foreign_origin = httpx2.post(url, json=init, headers={**good, "Origin": "http://evil.example.com"})
        ok = httpx2.post(url, json=init, headers=good)
    finally:
        stderr = server.stop()
    assert no_token.status_code == 401 and wrong.status_code == 401
    assert foreign_host.status_code == 421 and foreign_origin.status_code == 403
    assert ok.status_code == 200
    _check(results, root, stderr)
    assert TOKEN not in stderr


def test_sse_transport_with_token(root):
    server = _Server("sse", root)
    try:
        async def go():
            headers = {"Authorization": f"Bearer {TOKEN}"}
            async with Client(sse_client(f"http://127.0.0.1:{server.port}/sse", headers=headers)) as client:
                return await client.call_tool("scan_dataset", {"source": "people.jsonl"})
        result = anyio.run(go)
        refused = httpx2.get(f"http://127.0.0.1:{server.port}/sse", timeout=5)
    finally:
        server.stop()
    assert result.is_error is False and result.structured_content["scan"]["rows_scanned"] == 3
    assert refused.status_code == 401


def test_generated_token_is_printed_once_on_stderr(root):
    env = {k: v for k, v in ENV.items() if k != "HF_ANON_MCP_TOKEN"}
    server = _Server("streamable-http", root, env=env)
    stderr = server.stop()
    lines = [line for line in stderr.splitlines() if "bearer token" in line]
    assert len(lines) == 1 and len(lines[0].rsplit(" ", 1)[1]) >= 40


@pytest.mark.parametrize("extra,env_token,phrase", [
    (["--host", "0.0.0.0"], TOKEN, "only loopback without --allow-remote"),
    (["--host", "0.0.0.0", "--allow-remote"], None, "needs a bearer token"),
])
def test_binding_beyond_loopback_needs_a_flag_and_a_token(root, extra, env_token, phrase):
    env = {k: v for k, v in ENV.items() if k != "HF_ANON_MCP_TOKEN"}
    if env_token:
        env["HF_ANON_MCP_TOKEN"] = env_token
    proc = subprocess.run([EXE, "serve", "--transport", "streamable-http", "--port", str(_free_port()),
                           "--root", str(root), *extra], capture_output=True, text=True, timeout=60, env=env)
    assert proc.returncode == 2 and phrase in proc.stderr and proc.stdout == ""


def test_remote_binding_keeps_host_protection(root):
    """With --allow-remote the SDK would switch Host checks off; ours keeps them, with explicit hosts."""
    from hf_anon_mcp.cli_server import http_app
    from hf_anon_mcp.server import build_server
    from starlette.testclient import TestClient

    app = http_app(build_server(roots=[root]), "streamable-http", "0.0.0.0", TOKEN, ["mcp.internal:8765"])
    init = {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "t", "version": "0"}}}
    headers = {"Accept": "application/json, text/event-stream", "Authorization": f"Bearer {TOKEN}"}
    with TestClient(app, base_url="http://mcp.internal:8765") as client:
        allowed = client.post("/mcp", json=init, headers=headers)
        foreign = client.post("/mcp", json=init, headers={**headers, "Host": "evil.example.com"})
    assert allowed.status_code == 200 and foreign.status_code == 421


def test_bearer_token_is_compared_in_constant_time(monkeypatch):
    """Every request's header goes through hmac.compare_digest (never `==`), also for wrong lengths."""
    import hf_anon_mcp.cli_server as cs

    seen = []
    real = cs.hmac.compare_digest
    monkeypatch.setattr(cs.hmac, "compare_digest", lambda a, b: seen.append((a, b)) or real(a, b))
    statuses = []

    async def app(scope, receive, send):
        statuses.append("reached")

    async def call(header: bytes):
        async def receive():
            return {"type": "http.request", "body": b""}
        sent = []

        async def send(message):
            sent.append(message)
        scope = {"type": "http", "method": "POST", "path": "/mcp", "headers": [(b"authorization", header)]}
        await cs.BearerAuth(app, TOKEN)(scope, receive, send)
        return sent

    for header in (f"Bearer {TOKEN}".encode(), b"Bearer x", b""):
        anyio.run(call, header)
    assert [a for a, _ in seen] == [f"Bearer {TOKEN}".encode(), b"Bearer x", b""]
    assert statuses == ["reached"]


def test_doctor_masks_the_token_and_prints_configs_with_absolute_paths(root):
    token = "hf_" + "DoctorCanaryToken0123456789abcd"
    env = {**ENV, "HF_TOKEN": token, "HF_HOME": str(root / ".hf")}
    proc = subprocess.run([EXE, "doctor", "--root", str(root)], capture_output=True, text=True, timeout=60,
                          env=env, cwd=root)
    out = proc.stdout + proc.stderr
    assert token not in out and token[3:] not in out
    assert f"hf_****, {len(token)} chars" in out and "NER model" in out and "writable" in out
    for client in ("Claude Desktop", "Claude Code", "VS Code", "Cursor"):
        assert client in out
    assert f"claude mcp add hf-anon-mcp -- {EXE} serve --root {root}" in out
    assert f'"command": "{EXE}"' in out and Path(EXE).is_absolute()
