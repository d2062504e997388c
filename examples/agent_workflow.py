"""A scripted agent run: an MCP client over stdio drives the whole workflow on a sample file it creates.

    .venv/bin/python examples/agent_workflow.py [WORKDIR]

scan -> anonymize -> scan the output -> write the card -> push preview (nothing is uploaded, confirm is never set
here). Prints each step's summary: counts and masked samples only. The card and push steps run only if the server
offers those tools. The preview needs no token and no network; with HF_TOKEN set (and the Hub reachable) it also
asks the Hub whether the token may write and whether the repo exists, nothing else.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile
from pathlib import Path

import anyio
from mcp import Client, StdioServerParameters

SAMPLE = [
    {"id": 1, "customer": "Marisol Quintanilla", "message": "Hi, I'm Marisol Quintanilla, call me on 415-555-0143."},
    {"id": 2, "customer": "Thaddeus Okonkwo",
     "message": "Refund to card 4111 1111 1111 1111 please, t.okonkwo@example.net"},
    {"id": 3, "customer": "Ingrid Holm", "message": "The parcel never arrived; my address is 742 Evergreen Terrace."},
]
# What the server process needs from our environment (stdio servers do not inherit it).
FORWARD = ("PATH", "HOME", "PYTHONPATH", "HF_TOKEN", "HF_ENDPOINT", "HF_HOME", "HF_HUB_OFFLINE",
           "HF_HUB_DISABLE_XET", "HF_HUB_DISABLE_TELEMETRY", "HF_HUB_DISABLE_UPDATE_CHECK",
           "HF_HUB_DISABLE_PROGRESS_BARS", "HF_UPDATE_DOWNLOAD_COUNTS", "HF_ANON_MCP_SPACY_MODEL",
           "HF_ANON_MCP_JOB_WAIT_S", "HF_ANON_MCP_REPORTS_DIR", "NO_PROXY", "no_proxy", "XDG_CACHE_HOME")


def server_params(workdir: Path) -> StdioServerParameters:
    beside = Path(sys.executable).with_name("hf-anon-mcp")  # the install this Python runs, before any on PATH
    exe = str(beside) if beside.exists() else (shutil.which("hf-anon-mcp") or "hf-anon-mcp")
    env = {k: os.environ[k] for k in FORWARD if k in os.environ}
    return StdioServerParameters(command=exe, args=["serve", "--root", str(workdir)], env=env, cwd=str(workdir))


def show(step: str, result) -> dict:
    data = result.structured_content or {}
    print(f"\n== {step}: {'ERROR' if result.is_error else 'ok'}")
    print(result.content[0].text if result.content else json.dumps(data)[:500])
    if result.is_error:
        raise SystemExit(f"{step} failed")
    return data


async def call(client: Client, tool: str, request: dict):
    """Call a tool; a long run comes back as a job (status "running"): follow it with get_job until it ends."""
    result = await client.call_tool(tool, request)
    while not result.is_error and (result.structured_content or {}).get("status") == "running":
        job = result.structured_content
        print(f"   ... {job['kind']} still running: {job['message']}")
        result = await client.call_tool("get_job", {"job_id": job["job_id"]})
    return result


async def run(workdir: Path) -> None:
    source = workdir / "tickets.jsonl"
    source.write_text("".join(json.dumps(r) + "\n" for r in SAMPLE), encoding="utf-8")
    async with Client(server_params(workdir)) as client:
        tools = [t.name for t in (await client.list_tools()).tools]
        print("tools:", ", ".join(tools))
        scan = show("scan", await call(client, "scan_dataset", {"source": "tickets.jsonl"}))
        anon = show("anonymize", await call(client, "anonymize_dataset", {
            "source": "tickets.jsonl", "output": "tickets.anon.parquet", "overwrite": True}))
        show("verify", await call(client, "scan_dataset", {"source": "tickets.anon.parquet"}))
        if "write_model_card_privacy_section" in tools:
            show("card", await call(client, "write_model_card_privacy_section", {
                "card_path": "README.md", "scan_report_id": scan["scan"]["report_id"],
                "anonymize_report_id": anon["anonymize"]["report_id"]}))
        if "push_private" not in tools:
            print("\n== push preview: skipped (the server has no push_private tool)")
        else:
            show("push preview", await call(client, "push_private", {
                "source": "tickets.anon.parquet", "repo_id": os.environ.get("HF_ANON_MCP_EXAMPLE_REPO",
                                                                            "me/support-tickets"),
                "card_path": "README.md", "scan_report_id": scan["scan"]["report_id"],
                "anonymize_report_id": anon["anonymize"]["report_id"]}))
    print("\nworkflow complete")


def main() -> None:
    workdir = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(tempfile.mkdtemp(prefix="hf-anon-example-"))
    workdir.mkdir(parents=True, exist_ok=True)
    anyio.run(run, workdir.resolve())


if __name__ == "__main__":
    main()
