"""50 concurrent tool calls over streamable HTTP to one server process: scans and anonymizations of different
files, all correct; a failing call in the middle does not stop the server."""

from __future__ import annotations

import json
import os

import anyio
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared._httpx_utils import create_mcp_http_client

from conftest import write_jsonl
from test_server_transports import ENV, TOKEN, _Server

FILES = 25


def test_fifty_concurrent_calls_all_succeed_and_the_server_survives_a_failure(tmp_path):
    for i in range(FILES):  # file i holds i+1 rows with one email each
        write_jsonl(tmp_path / f"f{i}.jsonl", [{"id": j, "text": f"write to user{i}x{j}@example.com"}
                                               for j in range(i + 1)])
    server = _Server("streamable-http", tmp_path, env={**ENV, "HF_ANON_MCP_JOB_WAIT_S": "240"})
    url = f"http://127.0.0.1:{server.port}/mcp"
    results: dict[str, object] = {}

    async def one_client(indices: list[int]) -> None:
        async with create_mcp_http_client(headers={"Authorization": f"Bearer {TOKEN}"}) as http:
            async with Client(streamable_http_client(url, http_client=http)) as client:
                async def call(i: int, kind: str) -> None:
                    if kind == "scan":
                        args = {"source": f"f{i}.jsonl", "patterns_only": True}
                        results[f"scan{i}"] = await client.call_tool("scan_dataset", args)
                    else:
                        args = {"source": f"f{i}.jsonl", "output": f"o{i}.jsonl", "patterns_only": True}
                        results[f"anon{i}"] = await client.call_tool("anonymize_dataset", args)
                async with anyio.create_task_group() as tg:
                    for i in indices:
                        tg.start_soon(call, i, "scan")
                        tg.start_soon(call, i, "anon")

    async def main() -> None:
        with anyio.fail_after(400):
            await run_all()

    async def run_all() -> None:
        async with anyio.create_task_group() as tg:
            for k in range(5):
                tg.start_soon(one_client, list(range(k, FILES, 5)))
        async with create_mcp_http_client(headers={"Authorization": f"Bearer {TOKEN}"}) as http:
            async with Client(streamable_http_client(url, http_client=http)) as client:
                results["fail"] = await client.call_tool("scan_dataset", {"source": "nope.jsonl"})
                results["after"] = await client.call_tool("scan_dataset", {"source": "f3.jsonl"})

    try:
        anyio.run(main)
    finally:
        stderr = server.stop()
    assert len([k for k in results if k.startswith(("scan", "anon"))]) == 2 * FILES
    for i in range(FILES):
        scan, anon = results[f"scan{i}"], results[f"anon{i}"]
        assert not scan.is_error and not anon.is_error, (i, scan.content, anon.content)
        email = scan.structured_content["scan"]["columns"][0]["entities"]["EMAIL_ADDRESS"]
        assert email == i + 1
        assert anon.structured_content["anonymize"]["rows_out"] == i + 1
        rows = [json.loads(line) for line in (tmp_path / f"o{i}.jsonl").read_text().splitlines()]
        assert [r["id"] for r in rows] == list(range(i + 1)) and all("@" not in r["text"] for r in rows)
    assert results["fail"].is_error and not results["after"].is_error
    assert results["after"].structured_content["scan"]["rows_scanned"] == 4
    assert "Traceback" not in stderr
    assert [p for p in os.listdir(tmp_path) if ".hfanon-" in p] == []
