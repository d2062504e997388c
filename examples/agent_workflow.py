"""A scripted agent run: an MCP client over stdio drives the whole workflow on a sample file it creates.

    .venv/bin/python examples/agent_workflow.py [WORKDIR]

scan -> anonymize -> scan the output -> write the card -> push preview (needs HF_TOKEN; nothing is uploaded,
confirm is never set here). Prints each step's summary: counts and masked samples only.
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
    {"id": 2, "customer": "Thaddeus Okonkwo", "message": "Refund to card 4111 1111 1111 1111 please, t.okonkwo@example.net"},
    {"id": 3, "customer": "Ingrid Holm", "message": "The parcel never arrived; my address is 742 Evergreen Terrace."},
]
# What the server process needs from our environment (stdio servers do not inherit it).
FORWARD = ("PATH", "HOME", "HF_TOKEN", "HF_ENDPOINT", "HF_HOME", "HF_HUB_OFFLINE", "HF_HUB_DISABLE_XET",
           "HF_HUB_DISABLE_TELEMETRY", "HF_UPDATE_DOWNLOAD_COUNTS", "HF_ANON_MCP_SPACY_MODEL", "NO_PROXY",
           "XDG_CACHE_HOME")


def server_params(workdir: Path) -> StdioServerParameters:
    exe = shutil.which("hf-anon-mcp") or str(Path(sys.executable).with_name("hf-anon-mcp"))
    env = {k: os.environ[k] for k in FORWARD if k in os.environ}
    return StdioServerParameters(command=exe, args=["serve", "--root", str(workdir)], env=env, cwd=str(workdir))


def show(step: str, result) -> dict:
    data = result.structured_content or {}
    print(f"\n== {step}: {'ERROR' if result.is_error else 'ok'}")
    print(result.content[0].text if result.content else json.dumps(data)[:500])
    if result.is_error:
        raise SystemExit(f"{step} failed")
    return data


async def run(workdir: Path) -> None:
    source = workdir / "tickets.jsonl"
    source.write_text("".join(json.dumps(r) + "\n" for r in SAMPLE), encoding="utf-8")
    async with Client(server_params(workdir)) as client:
        tools = [t.name for t in (await client.list_tools()).tools]
        print("tools:", ", ".join(tools))
        scan = show("scan", await client.call_tool("scan_dataset", {"request": {"source": "tickets.jsonl"}}))
        anon = show("anonymize", await client.call_tool("anonymize_dataset", {"request": {
            "source": "tickets.jsonl", "output": "tickets.anon.parquet", "overwrite": True}}))
        show("verify", await client.call_tool("scan_dataset", {"request": {"source": "tickets.anon.parquet"}}))
        show("card", await client.call_tool("write_model_card_privacy_section", {"request": {
            "card_path": "README.md", "scan_report_id": scan["scan"]["report_id"],
            "anonymize_report_id": anon["anonymize"]["report_id"]}}))
        if os.environ.get("HF_TOKEN"):
            show("push preview", await client.call_tool("push_private", {"request": {
                "source": "tickets.anon.parquet", "repo_id": os.environ.get("HF_ANON_MCP_EXAMPLE_REPO",
                                                                            "me/support-tickets"),
                "card_path": "README.md", "scan_report_id": scan["scan"]["report_id"],
                "anonymize_report_id": anon["anonymize"]["report_id"]}}))
        else:
            print("\n== push preview: skipped (set HF_TOKEN to preview a private push)")
    print("\nworkflow complete")


def main() -> None:
    workdir = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(tempfile.mkdtemp(prefix="hf-anon-example-"))
    workdir.mkdir(parents=True, exist_ok=True)
    anyio.run(run, workdir.resolve())


if __name__ == "__main__":
    main()
