"""The MCP face in-process through `mcp.Client`, under both protocol eras: every tool, errors, jobs, progress,
result size, and no canary value anywhere."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import anyio
import pytest
from mcp import Client

from conftest import CANARY_ROWS, CANARY_VALUES, PII_DEV, write_jsonl
from hf_anon_mcp.config import Settings
from hf_anon_mcp.server import build_server

ERAS = ["legacy", "2026-07-28"]


@pytest.fixture
def root(tmp_path: Path) -> Path:
    write_jsonl(tmp_path / "people.jsonl", CANARY_ROWS)
    return tmp_path


def _server(root: Path):
    return build_server(Settings(reports_dir=root / ".reports"), roots=[root])


def _call(server, mode: str, steps):
    """Run `steps(client)` against an in-process client; returns what it returns."""
    async def go():
        async with Client(server, mode=mode) as client:
            return await steps(client)
    return anyio.run(go)


def _leaks(*texts: str) -> list[str]:
    blob = "\n".join(texts)
    return [v for v in CANARY_VALUES if v in blob]


@pytest.mark.parametrize("mode", ERAS)
def test_tools_are_listed_with_schemas_and_annotations(root, mode):
    async def steps(c):
        return (await c.list_tools()).tools, c.instructions
    tools, instructions = _call(_server(root), mode, steps)
    by_name = {t.name: t for t in tools}
    assert set(by_name) == {"scan_dataset", "anonymize_dataset", "write_model_card_privacy_section", "push_private",
                            "audit_finetune", "get_job", "cancel_job"}
    assert by_name["audit_finetune"].annotations.read_only_hint is True
    scan = by_name["scan_dataset"]
    assert scan.annotations.read_only_hint is True and scan.annotations.idempotent_hint is True
    anon = by_name["anonymize_dataset"].annotations
    assert anon.read_only_hint is False and anon.destructive_hint is False
    push = by_name["push_private"].annotations
    assert push.open_world_hint is True and push.idempotent_hint is False
    schema = json.dumps(scan.input_schema)
    assert "max_rows" in schema and '"minimum": 1' in schema and "Scan only the first N rows" in schema
    assert scan.output_schema and "job_id" in json.dumps(scan.output_schema)
    # instructions come with initialize (legacy) or server/discover (mode "auto"); mode="2026-07-28" skips both
    if mode == "legacy" or instructions is not None:
        for step in ("scan_dataset", "anonymize_dataset", "write_model_card_privacy_section", "push_private",
                     "get_job", "confirm=true"):
            assert step in instructions
    card = by_name["write_model_card_privacy_section"]
    assert card.output_schema and "section_markdown" in json.dumps(card.output_schema)
    assert "\n        " not in scan.description  # docstrings dedented


def test_tools_list_is_lean_and_arguments_are_the_request_models_fields(root):
    """All tools together within 20 KB of JSON; every field of each request model is a flat argument; no schema
    repeats definitions; each description says when to call the tool and what it returns."""
    from hf_anon_mcp.models import AnonymizeRequest, ScanRequest
    from hf_anon_mcp.server import CardInput, PushInput

    async def steps(c):
        return (await c.list_tools()).tools
    tools = _call(_server(root), "legacy", steps)
    listed = {"tools": [t.model_dump(mode="json", by_alias=True, exclude_none=True) for t in tools]}
    size = len(json.dumps(listed, separators=(",", ":")).encode())
    assert size <= 20_000, size
    by_name = {t.name: t for t in tools}
    from hf_anon_mcp.audit.models import AuditRequest

    for name, model in [("scan_dataset", ScanRequest), ("anonymize_dataset", AnonymizeRequest),
                        ("write_model_card_privacy_section", CardInput), ("push_private", PushInput),
                        ("audit_finetune", AuditRequest)]:
        schema = by_name[name].input_schema
        assert set(schema["properties"]) == set(model.model_fields), name
        assert schema["additionalProperties"] is False and "$defs" not in json.dumps(schema)
        assert set(schema.get("required", [])) == {f for f, i in model.model_fields.items() if i.is_required()}
        assert all(p.get("description") for p in schema["properties"].values()), name
    # each workflow tool's output schema names only the result object it fills; get_job's names them all
    assert "scan" in by_name["scan_dataset"].output_schema["properties"]
    assert "anonymize" not in by_name["scan_dataset"].output_schema["properties"]
    assert {"scan", "anonymize", "push"} <= set(by_name["get_job"].output_schema["properties"])
    for tool in tools:
        assert "$defs" not in json.dumps(tool.output_schema) and "$ref" not in json.dumps(tool.output_schema)
        assert tool.description.startswith("Call ") and "return" in tool.description.lower(), tool.name
    assert "profile" not in ScanRequest.model_fields or "profile" in by_name["scan_dataset"].input_schema["properties"]


def test_a_field_added_to_a_request_model_becomes_a_tool_argument():
    """The derivation is generic: a request model with one more field (as `profile` will be) gets one more flat
    argument, typed, described and validated, without any change to the server."""
    from typing import Literal

    from mcp.server.mcpserver import MCPServer
    from mcp_types import ToolAnnotations
    from pydantic import Field

    from hf_anon_mcp.flat_tools import flat_tool
    from hf_anon_mcp.models import ScanRequest
    from hf_anon_mcp.results import JobView

    class WithProfile(ScanRequest):
        profile: Literal["fast", "balanced", "thorough"] = Field("balanced", description="How hard to look.")

    seen = []

    async def body(request, ctx):
        seen.append(request)
        from mcp_types import CallToolResult, TextContent
        return CallToolResult(content=[TextContent(type="text", text="ok")], structured_content={
            "job_id": "j", "kind": "scan", "status": "running", "done": 0})

    tool = flat_tool(WithProfile, body, name="scan_dataset", output=JobView, title="t", description="d",
                     annotations=ToolAnnotations())
    assert tool.parameters["properties"]["profile"] == {
        "default": "balanced", "description": "How hard to look.", "enum": ["fast", "balanced", "thorough"],
        "type": "string"}

    async def go():
        async with Client(MCPServer("t", tools=[tool])) as c:
            ok = await c.call_tool("scan_dataset", {"source": "a.jsonl", "profile": "fast", "max_rows": 5})
            bad = await c.call_tool("scan_dataset", {"source": "a.jsonl", "profile": "fastest"})
            return ok, bad
    ok, bad = anyio.run(go)
    assert ok.is_error is False and isinstance(seen[0], WithProfile)
    assert (seen[0].profile, seen[0].max_rows, seen[0].source) == ("fast", 5, "a.jsonl")
    assert bad.is_error is True and len(seen) == 1


@pytest.mark.parametrize("mode", ERAS)
def test_unknown_or_nested_arguments_are_refused_naming_the_field(root, mode):
    async def steps(c):
        return [await c.call_tool("anonymize_dataset", {"source": "people.jsonl", "output": "o.jsonl",
                                                        "polcy": {"default_operator": "mask"}}),
                await c.call_tool("scan_dataset", {"source": "people.jsonl", "patterns_onyl": True}),
                await c.call_tool("scan_dataset", {"request": {"source": "people.jsonl"}}),
                await c.call_tool("scan_dataset", {"source": "people.jsonl", "Marisol Quintanilla": 1})]
    typo, typo2, nested, weird = _call(_server(root), mode, steps)
    assert all(r.is_error for r in (typo, typo2, nested, weird))
    assert "unknown field `polcy` (did you mean `policy`?)" in typo.content[0].text
    assert "unknown field `patterns_onyl` (did you mean `patterns_only`?)" in typo2.content[0].text
    assert "arguments are flat" in nested.content[0].text and "source" in nested.content[0].text
    assert _leaks(weird.content[0].text) == [] and "unknown field" in weird.content[0].text
    assert not (root / "o.jsonl").exists()


@pytest.mark.parametrize("mode", ERAS)
def test_full_workflow_in_process_leaks_no_canary(root, mode):
    async def steps(c):
        out = {}
        r = await c.call_tool("scan_dataset", {"source": "people.jsonl"})
        out["scan"] = r
        sid = r.structured_content["scan"]["report_id"]
        r = await c.call_tool("anonymize_dataset", {"source": "people.jsonl", "output": "anon.parquet"})
        out["anon"] = r
        aid = r.structured_content["anonymize"]["report_id"]
        out["rescan"] = await c.call_tool("scan_dataset", {"source": "anon.parquet"})
        out["card"] = await c.call_tool("write_model_card_privacy_section", {
            "card_path": "README.md", "scan_report_id": sid, "anonymize_report_id": aid})
        out["report"] = await c.read_resource(f"report://{sid}")
        out["prompt"] = await c.get_prompt("prepare_dataset_for_finetuning", {"source": "people.jsonl",
                                                                              "repo_id": "me/tickets"})
        return out
    out = _call(_server(root), mode, steps)
    for name in ("scan", "anon", "rescan", "card"):
        assert out[name].is_error is False, (name, out[name].content)
    scan = out["scan"].structured_content
    assert scan["status"] == "done" and scan["scan"]["overall_risk"] == "high"
    email = next(c for c in scan["scan"]["columns"] if c["column"] == "email")
    assert email["entities"]["EMAIL_ADDRESS"] == 3
    anon = out["anon"].structured_content["anonymize"]
    assert anon["rows_out"] == 3 and anon["replaced"]["PERSON"] >= 3
    assert (root / "anon.parquet").is_file() and (root / "README.md").is_file()
    assert "Privacy and personal data" in (root / "README.md").read_text()
    assert "scan_dataset" in out["prompt"].messages[0].content.text
    texts = [json.dumps(out[n].structured_content) + out[n].content[0].text for n in ("scan", "anon", "rescan", "card")]
    texts.append(out["report"].contents[0].text)
    assert _leaks(*texts) == []


@pytest.mark.parametrize("mode", ERAS)
def test_errors_are_tool_errors_with_a_next_step_and_no_values(root, mode, tmp_path_factory):
    outside = tmp_path_factory.mktemp("outside")
    write_jsonl(outside / "x.jsonl", CANARY_ROWS)

    async def steps(c):
        return {
            "outside": await c.call_tool("scan_dataset", {"source": str(outside / "x.jsonl")}),
            "traversal": await c.call_tool("scan_dataset", {"source": "../" + outside.name + "/x.jsonl"}),
            "missing": await c.call_tool("scan_dataset", {"source": "nope.csv"}),
            "policy": await c.call_tool("anonymize_dataset", {
                "source": "people.jsonl", "output": "o.jsonl", "policy": {"entity_operators": {"PERSN": "mask"}}}),
            "validation": await c.call_tool("scan_dataset", {"source": "Marisol Quintanilla",
                                                                         "max_rows": -1}),
            "missing-field": await c.call_tool("anonymize_dataset", {
                "source": "marisol.quintanilla@example.org"}),
            "no-job": await c.call_tool("get_job", {"job_id": "job-000000000000"}),
            "no-cancel": await c.call_tool("cancel_job", {"job_id": "job-000000000000"}),
            "push-outside": await c.call_tool("push_private", {
                "source": str(outside / "x.jsonl"), "repo_id": "alice/people"}),
            "push-bad-repo": await c.call_tool("push_private", {
                "source": "people.jsonl", "repo_id": "Marisol Quintanilla/../x", "confirm": True}),
            "no-report": await c.call_tool("write_model_card_privacy_section", {
                "card_path": "R.md", "scan_report_id": "scan-000000000000"}),
        }
    out = _call(_server(root), mode, steps)
    for name, r in out.items():
        assert r.is_error is True, name
    text = {k: v.content[0].text for k, v in out.items()}
    assert "outside the allowed roots" in text["outside"] and "--root" in text["outside"]
    assert "outside the allowed roots" in text["traversal"]
    assert "source not found" in text["missing"] and "Next step" in text["missing"]
    assert "unknown entity type(s): PERSN" in text["policy"] and "Fix the policy" in text["policy"]
    assert "Invalid arguments for scan_dataset" in text["validation"] and "max_rows" in text["validation"]
    assert "output" in text["missing-field"]
    assert "no job" in text["no-job"] and "no job" in text["no-cancel"]
    assert "outside the allowed roots" in text["push-outside"]
    assert "Next step" in text["push-bad-repo"]
    assert _leaks(*text.values()) == []
    assert not (root / "o.jsonl").exists()


@pytest.mark.parametrize("mode", ERAS)
def test_progress_notifications_during_a_large_anonymization(tmp_path, mode):
    rows = [{"id": i, "text": f"mail row{i}@example.com"} for i in range(5000)]  # patterns only: quick to scan
    write_jsonl(tmp_path / "big.jsonl", rows)
    events = []

    async def on_progress(progress, total, message):
        events.append((progress, total, message))

    async def steps(c):
        return await c.call_tool("anonymize_dataset", {
            "source": "big.jsonl", "output": "big.anon.jsonl", "patterns_only": True, "batch_size": 250,
            "verify": False}, progress_callback=on_progress)
    r = _call(_server(tmp_path), mode, steps)
    assert r.is_error is False and r.structured_content["anonymize"]["rows_out"] == 5000
    assert events, "no progress notification arrived"
    assert all(m.startswith("anonymize: ") and "rows of 5,000" in m for _, _, m in events), events
    assert [p for p, _, _ in events] == sorted(p for p, _, _ in events)
    assert events[-1][1] == 10_000  # two passes over 5,000 rows: detect, then replace
    assert not any("@example.com" in m for _, _, m in events)


def _unseen_dev_rows(path: Path) -> Path:
    """The dev rows with a fresh reference appended to each text: texts no earlier run in this process saw (the
    engine remembers findings of texts it met, so a repeat run would finish before it could be cancelled)."""
    import uuid

    rows = [json.loads(line) for line in PII_DEV.read_text(encoding="utf-8").splitlines()]
    return write_jsonl(path, [{"id": r["id"], "text": f"{r['text']} (ref {uuid.uuid4().hex[:10]})"} for r in rows])


@pytest.mark.parametrize("mode", ERAS)
def test_a_job_outliving_the_wait_is_followed_and_another_is_cancelled(tmp_path, monkeypatch, mode):
    monkeypatch.setenv("HF_ANON_MCP_JOB_WAIT_S", "0.5")
    _unseen_dev_rows(tmp_path / "dev.jsonl")
    _unseen_dev_rows(tmp_path / "dev2.jsonl")

    async def steps(c):
        first = await c.call_tool("anonymize_dataset", {
            "source": "dev.jsonl", "output": "one.parquet", "batch_size": 20, "verify": False})
        followed = first
        for _ in range(200):
            if followed.structured_content["status"] != "running":
                break
            followed = await c.call_tool("get_job", {"job_id": first.structured_content["job_id"]})
        second = await c.call_tool("anonymize_dataset", {
            "source": "dev2.jsonl", "output": "two.parquet", "batch_size": 20, "verify": False})
        cancelled = await c.call_tool("cancel_job", {"job_id": second.structured_content["job_id"]})
        return first, followed, second, cancelled
    first, followed, second, cancelled = _call(_server(tmp_path), mode, steps)
    assert first.structured_content["status"] == "running" and first.structured_content["job_id"]
    assert "get_job" in first.structured_content["next_step"]
    assert followed.structured_content["status"] == "done"
    assert followed.structured_content["anonymize"]["rows_out"] == 754 and (tmp_path / "one.parquet").is_file()
    assert second.structured_content["status"] == "running"
    assert cancelled.structured_content["status"] == "cancelled"
    assert not (tmp_path / "two.parquet").exists()
    assert [p.name for p in tmp_path.iterdir() if ".hfanon-" in p.name] == []


def test_results_stay_small_on_a_wide_dataset(tmp_path):
    row = {f"col_{i:03d}": f"Mail person{i}@example.com or call 212-555-01{i % 100:02d}" for i in range(200)}
    write_jsonl(tmp_path / "wide.jsonl", [row, row])

    async def steps(c):
        return await c.call_tool("scan_dataset", {"source": "wide.jsonl", "patterns_only": True})
    r = _call(_server(tmp_path), "legacy", steps)
    size = len(json.dumps(r.structured_content)) + len(r.content[0].text)
    assert r.is_error is False and size < 32_000  # ~8k tokens
    assert r.structured_content["scan"]["truncated"] is True
    assert len(r.structured_content["scan"]["columns"]) == 40


def test_unexpected_errors_log_one_line_without_values(root, caplog, monkeypatch):
    import hf_anon_mcp.workflow.scan as wf

    def boom(request, **kwargs):
        raise RuntimeError("Marisol Quintanilla leaked into an exception")
    monkeypatch.setattr(wf, "scan", boom)

    async def steps(c):
        return await c.call_tool("scan_dataset", {"source": "people.jsonl"})
    with caplog.at_level(logging.DEBUG):
        r = _call(_server(root), "legacy", steps)
    assert r.is_error and "internal error (RuntimeError)" in r.content[0].text
    assert _leaks(r.content[0].text, caplog.text) == []
    assert all(rec.exc_info is None for rec in caplog.records if rec.name.startswith("mcp"))


def test_results_stay_small_when_anonymizing_a_wide_dataset(tmp_path):
    row = {f"col_{i:03d}": f"Mail person{i}@example.com" for i in range(200)}
    write_jsonl(tmp_path / "wide.jsonl", [row, row])

    async def steps(c):
        return await c.call_tool("anonymize_dataset", {
            "source": "wide.jsonl", "output": "wide.anon.jsonl", "patterns_only": True})
    r = _call(_server(tmp_path), "2026-07-28", steps)
    assert r.is_error is False, r.content[0].text
    size = len(json.dumps(r.structured_content)) + len(r.content[0].text)
    assert size < 32_000 and r.structured_content["anonymize"]["truncated"] is True


def test_roots_from_the_environment_in_either_form(tmp_path, monkeypatch):
    import os

    from hf_anon_mcp import config
    from hf_anon_mcp.paths import normalize_roots_env, roots_from_env

    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir(), b.mkdir()
    assert roots_from_env(f"{a}{os.pathsep}{b}") == [a, b]
    assert roots_from_env(json.dumps([str(a)])) == [a]
    monkeypatch.setenv("HF_ANON_MCP_ROOTS", f"{a}{os.pathsep}{b}")
    config.get_settings.cache_clear()
    try:
        normalize_roots_env()
        assert config.get_settings().allowed_roots() == [a.resolve(), b.resolve()]
        server = build_server()  # settings from the environment: no SettingsError on the a:b form

        async def steps(c):
            return await c.call_tool("scan_dataset", {"source": str(tmp_path / "elsewhere.csv")})
        r = _call(server, "legacy", steps)
    finally:
        config.get_settings.cache_clear()
    assert r.is_error and "outside the allowed roots" in r.content[0].text and str(b) in r.content[0].text


def test_hub_ids_are_not_paths_but_local_folders_win(tmp_path, monkeypatch):
    from hf_anon_mcp.server import Face

    monkeypatch.chdir(tmp_path.parent)
    face = Face(Settings(reports_dir=tmp_path / ".reports"), [tmp_path])
    assert face.source("alice/tickets") == "alice/tickets"
    (tmp_path / "alice" / "tickets").mkdir(parents=True)
    assert face.source("alice/tickets") == str((tmp_path / "alice" / "tickets").resolve())


def test_mcp_dev_can_find_a_server_without_building_one_at_import():
    import hf_anon_mcp.server as module
    from mcp.server.mcpserver import MCPServer

    assert "server" not in vars(module)
    assert isinstance(module.server, MCPServer)


def test_push_results_are_capped_riskiest_first():
    from hf_anon_mcp.hub.models import PushFile, PushFinding, PushResult
    from hf_anon_mcp.models import RiskLevel
    from hf_anon_mcp.server import MAX_PUSH_ITEMS, cap_push

    findings = [PushFinding(path_in_repo="data/wide.parquet", column=f"col_{i:03d}", entity_type="EMAIL_ADDRESS",
                            count=i + 1, risk=RiskLevel.medium) for i in range(300)]
    findings.append(PushFinding(path_in_repo="README.md", entity_type="SECRET_HF_TOKEN", count=1,
                                risk=RiskLevel.high))
    result = PushResult(repo_id="alice/wide", repo_url="http://hub/datasets/alice/wide", uploaded=False,
                        repo_existed=False, visibility_before="missing", rows=2, residual_risk=RiskLevel.high,
                        files=[PushFile(path_in_repo=f"data/{i}.parquet", size=1, kind="data", scanned=True)
                               for i in range(500)], findings=findings, actions=["create private dataset repo"])
    capped, cut = cap_push(result)
    assert cut and len(capped.files) == len(capped.findings) == MAX_PUSH_ITEMS
    assert capped.findings[0].entity_type == "SECRET_HF_TOKEN" and capped.findings[1].count == 300
    assert len(capped.model_dump_json()) < 16_000
    assert cap_push(capped)[1] is False


@pytest.mark.parametrize("mode", ERAS)
def test_a_call_abandoned_by_its_client_stops_its_job_and_writes_nothing(tmp_path, mode):
    import threading
    import time

    _unseen_dev_rows(tmp_path / "dev.jsonl")

    async def steps(c):
        with anyio.move_on_after(1.0):  # the client gives up before the job_id is handed out
            await c.call_tool("anonymize_dataset", {
                "source": "dev.jsonl", "output": "gone.parquet", "batch_size": 20, "verify": False})
        return None
    _call(_server(tmp_path), mode, steps)
    deadline = time.monotonic() + 60
    while any(t.name.startswith("job-") for t in threading.enumerate()) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not any(t.name.startswith("job-") for t in threading.enumerate())
    assert not (tmp_path / "gone.parquet").exists()
    assert [p.name for p in tmp_path.iterdir() if ".hfanon-" in p.name] == []
