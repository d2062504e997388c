"""The MCP face: four workflow tools plus job tools, report resources and a workflow prompt.

Every tool takes its arguments flat, one per field of the workflow's own request model (`flat_tools`), so a field
added to `ScanRequest` or `AnonymizeRequest` is a tool argument without any change here. Each tool validates paths
against the allowed roots, runs the workflow (long ones as jobs in a thread, relaying progress), and shapes a small
result. Errors leave here as `ToolError`s with a one-line message in this face's words (tool fields, not CLI flags)
and a next step; nothing raw from the data, no token, no traceback with values.
"""

from __future__ import annotations

import inspect
import logging
import os
import re
from pathlib import Path
from typing import Annotated

import anyio
from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ResourceNotFoundError, ToolError
from mcp.server.mcpserver.tools import Tool
from mcp_types import CallToolResult, TextContent, ToolAnnotations
from pydantic import BaseModel, Field

from hf_anon_mcp.config import Settings, get_settings
from hf_anon_mcp.entity_names import canonical_entities
from hf_anon_mcp.errors import HfAnonError, InputError, in_face_words
from hf_anon_mcp.flat_tools import flat_tool, lean, tool_model, unknown_field_message
from hf_anon_mcp.headers import planned_header
from hf_anon_mcp.hub.models import CardRequest, CardResult, PushRequest, PushResult
from hf_anon_mcp.jobs import Job, JobRegistry
from hf_anon_mcp.audit.models import AuditRequest
from hf_anon_mcp.models import AnonymizeRequest, ScanRequest
from hf_anon_mcp.paths import guard, normalize_roots_env
from hf_anon_mcp.reports import ReportStore
from hf_anon_mcp.results import JobView, markdown, summarize_anonymize, summarize_scan

log = logging.getLogger("hf_anon_mcp.server")

INSTRUCTIONS = """\
hf-anon-mcp prepares a dataset for LLM fine-tuning without leaking the people in it. Arguments are flat (source=...,
output=...). Work in this order:
1. scan_dataset(source): find PII and secrets per column; read the risk and the recommendations.
2. anonymize_dataset(source, output, ...): write an anonymized copy (placeholders by default; surrogate for realistic
   consistent fakes; a policy can drop columns). It re-scans the output: check residual_risk.
3. scan_dataset(source=output) again if you changed anything by hand.
4. write_model_card_privacy_section(card_path, scan_report_id, anonymize_report_id): document what was done.
5. push_private(source=output, repo_id, card_path): first WITHOUT confirm to get a preview (needs no token); show it
   to the user; only with their explicit agreement call again with confirm=true. Repos are always private.
Results hold counts and masked samples only; full reports are resources at report://{id}. A call that runs longer
than the wait returns a job_id: follow it with get_job, stop it with cancel_job. Paths must be inside the server's
allowed roots. Never ask the user to paste tokens: the server reads HF_TOKEN itself.
After fine-tuning on data anonymized with plant_canaries: audit_finetune(model, canaries) checks the model
for leaks; add its figures to the model card.
"""

NEXT_STEP = {
    "input": "Check the path, columns and options (scan_dataset lists the text columns), then call again.",
    "offline": "The Hub cannot be reached: use a local file, or retry when online.",
    "policy": "Fix the policy field named above and call again.",
    "access": "For a path: use one inside the allowed roots named above (or restart the server with --root). "
              "For the Hub: a token with write access, set as HF_TOKEN where the server runs.",
    "unsafe-push": "Anonymize what is flagged and re-scan; only if the user accepts the risk, set "
                   "allow_residual_pii=true.",
    "hub": "The Hub failed: retry later.",
    "cancelled": "Nothing was written. Start again when ready.",
    "error": "See the server log for details.",
}


def _wait_s() -> float:
    return float(os.environ.get("HF_ANON_MCP_JOB_WAIT_S", "40"))


_REPORT_IDS = {
    "scan_report_id": (str | None, Field(None, max_length=40, description="report_id returned by scan_dataset "
                                                                          "(the scan of the original data).")),
    "anonymize_report_id": (str | None, Field(None, max_length=40, description="report_id returned by "
                                                                               "anonymize_dataset.")),
}
# The card and push tools take the workflow's request models with report ids in place of report files (the face
# stores reports; an agent holds ids). Every other field, present or added later, is a tool argument as is.
_AUDIT_ID = {"audit_report_id": (str | None, Field(None, max_length=40, description="report_id returned by "
                                                                                  "audit_finetune (model cards)."))}
CardInput = tool_model("CardInput", CardRequest, add={**_REPORT_IDS, **_AUDIT_ID}, drop=(
    "scan_report", "anonymize_report", "upload_scan", "scan_report_path", "anonymize_report_path",
    "audit_report_path", "allow_residual_pii"),
    doc="Which card to write and from which reports (ids from scan_dataset/anonymize_dataset/audit_finetune).")
PushInput = tool_model("PushInput", PushRequest, add=_REPORT_IDS, drop=("scan_report_path", "anonymize_report_path"))
# Tool field -> the request field it fills, where the names differ (messages name the tool's field).
_TOOL_NAMES = {"scan_report_path": "scan_report_id", "anonymize_report_path": "anonymize_report_id",
               "audit_report_path": "audit_report_id"}
# Descriptions for request fields that carry none of their own (one wording for every tool).
FIELD_NOTES = {
    "config_name": "Hub dataset config (subset); only for Hub sources.",
    "split": "Split to read (default 'train').",
    "patterns_only": "Skip NER: much faster, but names, places and organisations are NOT detected.",
    "max_rows": "Process only the first N rows.",
    "num_proc": "Worker processes (each loads the model once).",
    "batch_size": "Rows per batch.",
    "commit_message": "Commit message on the Hub.",
    "differential_privacy_details": "Free text recorded in the card, e.g. 'DP-SGD, epsilon=8'.",
}


class Face:
    """The server's state (settings, roots, jobs, reports) and the tool bodies, kept out of the decorators."""

    def __init__(self, settings: Settings, roots: list[Path]):
        self.settings = settings
        self.roots = [Path(r).expanduser().resolve() for r in roots]
        self.jobs = JobRegistry()
        self.store = ReportStore(settings.reports_dir)

    # ---- paths ---------------------------------------------------------------------------------------------
    def path(self, value: str | None, *, new: bool = False) -> str | None:
        return None if value is None else str(guard(value, self.roots, new=new))

    def source(self, value: str) -> str:
        """A Hub repo id passes as is (it is not a path); anything else is a path guarded by the roots."""
        from hf_anon_mcp.data.sources import looks_like_repo_id  # imports `datasets`: keep server start fast

        local = Path(value).expanduser()
        if not local.is_absolute():
            local = self.roots[0] / local
        if looks_like_repo_id(value) and not local.exists():
            return value
        return self.path(value)

    # ---- jobs ----------------------------------------------------------------------------------------------
    async def run_job(self, kind: str, work, ctx: Context, label: str = "") -> CallToolResult:
        job = self.jobs.start(kind, work, label)
        return await self.follow(job, ctx, _wait_s(), cancel_on_abort=True)

    async def follow(self, job: Job, ctx: Context | None, wait_s: float, *,
                     cancel_on_abort: bool = False) -> CallToolResult:
        """Wait up to `wait_s` for the job, sending progress every ~2 s; then answer with its state.

        `cancel_on_abort`: the call that started the job was cancelled (or timed out) before it could hand out the
        job_id, so nobody can follow the job: stop it. A cancelled `get_job` only stops waiting."""
        deadline = anyio.current_time() + wait_s
        last_sent, last_done = 0.0, -1
        try:
            while not job.finished.is_set() and anyio.current_time() < deadline:
                await anyio.sleep(0.2)
                now = anyio.current_time()
                if ctx is not None and job.progress.done not in (0, last_done) and now - last_sent >= 2.0:
                    last_sent, last_done = now, job.progress.done
                    await ctx.report_progress(job.progress.done, job.progress.total, _progress_text(job))
        except anyio.get_cancelled_exc_class():
            if cancel_on_abort:
                job.cancel.set()  # the caller gave up before it got the job_id: stop the work, nothing is written
            raise
        return self.view(job)

    def view(self, job: Job) -> CallToolResult:
        if job.status == "failed":
            raise _tool_error(job.error)
        view = JobView(job_id=job.job_id, kind=job.kind, status=job.status, done=job.progress.done,
                       total=job.progress.total, message=_progress_text(job))
        if job.status == "running":
            view.next_step = f"Call get_job(job_id='{job.job_id}') to follow it, or cancel_job to stop it."
        elif job.status == "cancelled":
            view.message, view.next_step = "cancelled: nothing was written", NEXT_STEP["cancelled"]
        elif job.kind == "scan":
            self.store.save(job.result)
            view.scan = summarize_scan(job.result)
            view.next_step = "Next: anonymize_dataset on this source (or drop columns the recommendations name)."
        elif job.kind == "anonymize":
            self.store.save(job.result)
            view.anonymize = summarize_anonymize(job.result)
            view.next_step = ("Next: write_model_card_privacy_section with both report ids, then push_private "
                              "(preview first).")
        elif job.kind == "audit":
            self.store.save(job.result)
            view.audit = job.result.model_dump(mode="json")
            view.next_step = (("Do not publish this model as is. " if job.result.leak else "")
                              + "Add the figures to the model card: write_model_card_privacy_section(card_type="
                              f"'model', audit_report_id='{job.result.report_id}', ...).")
        else:
            view.push, cut = cap_push(job.result)
            view.next_step = ("Show this preview to the user; push again with confirm=true only if they agree."
                              if not job.result.uploaded else "Done: the dataset is private on the Hub.")
            if cut:
                view.message = (f"lists shortened: {len(job.result.files)} files, {len(job.result.findings)} "
                                f"findings in all (the highest-risk ones are shown)")
        return CallToolResult(content=[TextContent(type="text", text=markdown(view))],
                              structured_content=view.model_dump(mode="json"))

    # ---- tool bodies --------------------------------------------------------------------------------------
    async def scan(self, request: ScanRequest, ctx: Context) -> CallToolResult:
        from hf_anon_mcp.workflow.scan import scan

        request = request.model_copy(update={"source": self.source(request.source),
                                             "entities": canonical_entities(request.entities)})  # aliases in
        return await self.run_job("scan", lambda progress, cancel: scan(request, progress=progress, cancel=cancel),
                                  ctx, planned_header(request))

    async def anonymize(self, request: AnonymizeRequest, ctx: Context) -> CallToolResult:
        from hf_anon_mcp.workflow.anonymize import anonymize

        request = request.model_copy(update={
            "source": self.source(request.source), "output": self.path(request.output, new=True),
            "policy_file": self.path(request.policy_file),
            **({"entities": canonical_entities(request.entities)} if "entities" in type(request).model_fields else {}),
        })
        return await self.run_job(
            "anonymize", lambda progress, cancel: anonymize(request, progress=progress, cancel=cancel), ctx,
            planned_header(request))

    async def audit(self, request: BaseModel, ctx: Context) -> CallToolResult:
        from hf_anon_mcp.audit.run import audit_finetune

        def opt(value):
            return None if value is None else self.source(value)  # Hub ids pass, paths are guarded

        request = request.model_copy(update={
            "model": self.source(request.model), "base_model": opt(request.base_model),
            "canaries": self.path(request.canaries), "members": opt(request.members),
            "non_members": opt(request.non_members), "original": opt(request.original)})
        return await self.run_job(
            "audit", lambda progress, cancel: audit_finetune(request, progress=progress, cancel=cancel), ctx)

    def card(self, request: BaseModel) -> CallToolResult:
        from hf_anon_mcp.workflow.card import write_card_section

        fields = {k: v for k, v in request.model_dump().items() if k in CardRequest.model_fields}
        fields.update(card_path=self.path(request.card_path, new=True),
                      scan_report_path=self.report_path(request.scan_report_id),
                      anonymize_report_path=self.report_path(request.anonymize_report_id),
                      audit_report_path=self.report_path(request.audit_report_id))
        result = write_card_section(CardRequest(**fields))
        shown = result
        if len(result.section_markdown) > MAX_SECTION_CHARS:
            shown = result.model_copy(update={"section_markdown": result.section_markdown[:MAX_SECTION_CHARS]
                                              + f"\n\n... (shortened here; the full section is in {result.path})"})
        text = (f"**Privacy section {'written to' if result.changed else 'already up to date in'}** "
                f"`{result.path}` ({result.card_type} card, {len(result.section_markdown):,} characters; tags: "
                f"{', '.join(result.tags[:12]) or 'none'}).\nNext: push_private(source=<anonymized output>, "
                f"repo_id=..., card_path={request.card_path!r}) without confirm, to preview.")
        return CallToolResult(content=[TextContent(type="text", text=text)],
                              structured_content=shown.model_dump(mode="json"))

    async def push(self, request: BaseModel, ctx: Context) -> CallToolResult:
        from hf_anon_mcp.workflow.push import push_private

        fields = {k: v for k, v in request.model_dump().items() if k in PushRequest.model_fields}
        fields.update(source=self.path(request.source), card_path=self.path(request.card_path),
                      scan_report_path=self.report_path(request.scan_report_id),
                      anonymize_report_path=self.report_path(request.anonymize_report_id))
        push = PushRequest(**fields)
        return await self.run_job("push", lambda progress, cancel: push_private(push), ctx, planned_header(push))

    def report_path(self, report_id: str | None) -> str | None:
        return None if report_id is None else str(self.store.path(report_id))

    def job(self, job_id: str) -> Job:
        job = self.jobs.get(job_id)
        if job is None:
            raise InputError(f"no job {job_id!r} in this server", hint="job ids come from scan/anonymize results")
        return job


MAX_SECTION_CHARS = 8_000
MAX_PUSH_ITEMS = 40


def cap_push(result: PushResult) -> tuple[PushResult, bool]:
    """A push result small enough for a tool result: the riskiest findings and the first files/exclusions."""
    findings = sorted(result.findings, key=lambda f: (-f.risk.rank, -f.count))
    cut = any(len(items) > MAX_PUSH_ITEMS for items in (result.files, result.excluded, findings, result.actions,
                                                        result.blocking))
    if not cut:
        return result, False
    return result.model_copy(update={
        "files": result.files[:MAX_PUSH_ITEMS], "excluded": result.excluded[:MAX_PUSH_ITEMS],
        "findings": findings[:MAX_PUSH_ITEMS], "actions": result.actions[:MAX_PUSH_ITEMS],
        "blocking": result.blocking[:MAX_PUSH_ITEMS],
    }), True


def _progress_text(job: Job) -> str:
    """`anonymize: 5,000 rows of 20,000 (profile fast: ...; names ... NOT detected)`: every progress line says which
    detectors are looking."""
    p = job.progress
    text = p.message or f"{p.stage}: {p.done:,} rows" + (f" of {p.total:,}" if p.total else "")
    return f"{text} ({job.label})" if job.label else text


def _tool_error(err: BaseException) -> ToolError:
    if isinstance(err, HfAnonError):
        text = in_face_words(str(err), tool_words)
        return ToolError(f"{text} Next step: {NEXT_STEP.get(err.kind, NEXT_STEP['error'])}")
    log.error("internal error in a tool: %s", type(err).__name__)
    return ToolError(f"internal error ({type(err).__name__}). {NEXT_STEP['error']}")


async def _safe(fn, *args):
    """Run a tool body (a blocking one in a worker thread); every failure becomes a PII-free ToolError."""
    try:
        if inspect.iscoroutinefunction(fn):
            return await fn(*args)
        return await anyio.to_thread.run_sync(fn, *args)
    except ToolError:
        raise
    except Exception as err:  # noqa: BLE001
        raise _tool_error(err) from None


def tool_words(name: str, value: str | None) -> str | None:
    """How this face names a request field in a message: the tool's field, with `=true` for a flag to set."""
    tool_field = _TOOL_NAMES.get(name, name)
    known = {f: info for m in (ScanRequest, AnonymizeRequest, CardInput, PushInput) for f, info in
             m.model_fields.items()}
    if tool_field not in known:
        return None
    if value is None and known[tool_field].annotation is bool:
        value = "true"
    return f"`{tool_field}={value}`" if value is not None else f"`{tool_field}`"


_VALIDATION = re.compile(r"validation errors? for \w+")


def scrub_validation_errors(valid: dict[str, list[str]]):
    """Middleware: argument-validation errors echo the input back (`input_value=...`); keep only field names and
    problems, and name the nearest valid field for an unknown one. `valid` maps each tool to its fields."""
    async def middleware(ctx, call_next):
        result = await call_next(ctx)
        if getattr(ctx, "method", None) == "tools/call" and isinstance(result, dict) and result.get("isError"):
            content = result.get("content") or [{}]
            text = content[0].get("text", "") if isinstance(content[0], dict) else ""
            if _VALIDATION.search(text):
                name = (getattr(ctx, "params", None) or {}).get("name", "tool")
                problems = _fields_and_problems(text, name, valid.get(name, []))
                return {**result, "content": [{"type": "text", "text": f"Invalid arguments for {name}: "
                                               f"{problems}. Fix them and call again."}]}
        return result
    return middleware


def _fields_and_problems(text: str, tool: str = "tool", valid: list[str] = ()) -> str:
    lines = text.splitlines()[1:]
    out, field = [], None
    for line in lines:
        if line and not line.startswith(" "):
            field = line.strip()
        elif field and line.startswith("  ") and not line.strip().startswith("For further"):
            problem = line.strip().split(" [type=")[0]
            if "type=extra_forbidden" in line:
                out.append(unknown_field_message(field, list(valid)))
            else:
                out.append(f"{field}: {problem}")
            field = None
    return "; ".join(out) or "invalid values"


class _NoTraceback(logging.Filter):
    """The SDK logs unexpected tool exceptions with a traceback (messages may quote data): keep one line."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.exc_info = None
        record.exc_text = None
        return True


_NO_TRACEBACK = _NoTraceback()

_READ_ONLY = ToolAnnotations(read_only_hint=True, destructive_hint=False, idempotent_hint=True, open_world_hint=False)


def build_tools(face: Face) -> list[Tool]:
    """The seven tools; the five workflow tools take their request model's fields as flat arguments."""
    def safe(method):
        async def body(request, ctx):
            return await _safe(method, request, ctx)
        return body

    async def card_body(request, ctx):
        return await _safe(face.card, request)

    async def get_job(job_id: Annotated[str, Field(description="job_id from a running result", max_length=40)],
                      ctx: Context) -> Annotated[CallToolResult, JobView]:
        async def body():
            return await face.follow(face.job(job_id), ctx, _wait_s())
        return await _safe(body)

    async def cancel_job(job_id: Annotated[str, Field(description="job_id to stop", max_length=40)],
                         ctx: Context) -> Annotated[CallToolResult, JobView]:
        async def body():
            job = face.job(job_id)
            job.cancel.set()
            return await face.follow(job, None, 30.0)
        return await _safe(body)

    notes = FIELD_NOTES
    return [
        flat_tool(ScanRequest, safe(face.scan), name="scan_dataset", output=JobView, result="scan",
                  descriptions=notes,
                  title="Scan a dataset for PII and secrets", annotations=_READ_ONLY, description=(
                      "Call first, on any dataset before fine-tuning or publishing it (and again on an output). "
                      "Reads only. Returns per column: entity types with counts, a risk level, masked samples, "
                      "recommended actions, the detectors that ran, and report_id for the card. A long scan returns "
                      "status 'running' and a job_id: follow it with get_job.")),
        flat_tool(AnonymizeRequest, safe(face.anonymize), name="anonymize_dataset", output=JobView,
                  result="anonymize",
                  descriptions=notes, title="Write an anonymized copy of a dataset",
                  annotations=ToolAnnotations(read_only_hint=False, destructive_hint=False, idempotent_hint=False,
                                              open_world_hint=False),
                  description=(
                      "Call after scan_dataset to write a NEW anonymized copy at output (source never modified). "
                      "Keeps id/label/timestamp columns, replaces every cell of name/email/phone columns, keeps the "
                      "dataset's own vocabulary, replaces a found value everywhere, checks a sample with a second "
                      "detector. Returns replacements per type, column types, the verdict and report_id; a long run "
                      "returns a job_id (get_job).")),
        flat_tool(CardInput, card_body, name="write_model_card_privacy_section", output=CardResult,
                  descriptions=notes, title="Write the privacy section of a dataset or model card",
                  annotations=ToolAnnotations(read_only_hint=False, destructive_hint=False, idempotent_hint=True,
                                              open_world_hint=False),
                  description=(
                      "Call after anonymize_dataset, with both report ids, before push_private. Writes the privacy "
                      "text under the Hub template's own heading (dataset card: 'Personal and Sensitive "
                      "Information'; model card: under 'Training Details' plus a line in 'Bias, Risks, and "
                      "Limitations'); rewriting replaces it and leaves the rest of the card byte-identical. "
                      "Returns the section (counts and treatments, never values) and the card's tags.")),
        flat_tool(PushInput, safe(face.push), name="push_private", output=JobView, result="push",
                  descriptions=notes,
                  title="Publish to a PRIVATE Hugging Face dataset repo",
                  annotations=ToolAnnotations(read_only_hint=False, destructive_hint=False, idempotent_hint=False,
                                              open_world_hint=True),
                  description=(
                      "Call last. Without confirm it returns a preview and needs no token or network: the files "
                      "that would go up, the card, the pre-upload scan's verdict; show it to the user. With "
                      "confirm=true (only on their explicit yes): creates the repo private, uploads exactly those "
                      "files, reads the privacy back. Refuses secrets or high-risk PII (unless "
                      "allow_residual_pii=true), canary files, and files outside the dataset unless named in "
                      "include.")),
        flat_tool(AuditRequest, safe(face.audit), name="audit_finetune", output=JobView, result="audit",
                  descriptions=notes,
                  title="Audit a fine-tuned model for leaks",
                  annotations=ToolAnnotations(read_only_hint=True, destructive_hint=False, idempotent_hint=True,
                                              open_world_hint=True),
                  description=(
                      "Call after fine-tuning on data anonymized with plant_canaries. Reads only. Returns canary "
                      "exposure (ids only), membership AUC, extraction counts and a verdict; a long run returns a "
                      "job_id (get_job).")),
        lean(Tool.from_function(get_job, title="Follow a long job", annotations=_READ_ONLY, description=(
            "Call with the job_id of a result whose status is 'running'. Waits a bounded time with progress, then "
            "returns the job: still running, or done with the same summary the first call would have given."))),
        lean(Tool.from_function(cancel_job, title="Cancel a long job", annotations=ToolAnnotations(
            read_only_hint=False, destructive_hint=False, idempotent_hint=True, open_world_hint=False), description=(
            "Call to stop a running job (e.g. the user changed their mind). Its workers stop, nothing is written; "
            "returns the job with status 'cancelled'."))),
    ]


def build_server(settings: Settings | None = None, roots: list[Path] | None = None) -> MCPServer:
    """The MCP server over the workflows; `roots` (default: settings, else the working folder) bound file access.

    Building it is cheap: no model is loaded until the first tool call.

    >>> server = build_server(roots=[Path("/data/tickets")])
    >>> server.run()  # stdio
    """
    if settings is None:
        normalize_roots_env()
        settings = get_settings()
    face = Face(settings, roots or settings.allowed_roots())
    sdk_log = logging.getLogger("mcp.server.mcpserver.server")
    if _NO_TRACEBACK not in sdk_log.filters:
        sdk_log.addFilter(_NO_TRACEBACK)
    tools = build_tools(face)
    valid = {t.name: list(t.parameters.get("properties", {})) for t in tools}
    server = MCPServer("hf-anon-mcp", instructions=INSTRUCTIONS, log_level="WARNING", tools=tools,
                       middleware=[scrub_validation_errors(valid)])

    @server.resource("report://{report_id}", name="report", mime_type="application/json",
                     description="A full scan or anonymize report (counts and masked samples only).")
    def report(report_id: str) -> str:
        try:
            return face.store.read(report_id)
        except HfAnonError as err:
            raise ResourceNotFoundError(str(err)) from None

    @server.prompt(title="Prepare a dataset for fine-tuning",
                   description="Walk through scan, anonymize, verify, card and a private push.")
    def prepare_dataset_for_finetuning(
        source: Annotated[str, Field(description="Dataset file, folder or Hub id")],
        repo_id: Annotated[str, Field(description="Target private repo 'namespace/name'")] = "",
    ) -> str:
        target = repo_id or "a private repo the user names"
        return (
            f"Prepare `{source}` for LLM fine-tuning and publish it privately to {target}.\n"
            f"1. Call scan_dataset with source={source!r}. Summarise the risk and recommendations for the user.\n"
            "2. Decide with the user which columns to drop (data minimisation) and which operator to use "
            "(placeholder by default, surrogate for realistic consistent fakes).\n"
            "3. Call anonymize_dataset with an output path beside the source (e.g. *.anon.parquet). "
            "Check residual_risk; if it is not 'none', show the residual findings and decide together.\n"
            "4. Call write_model_card_privacy_section with card_path (README.md beside the output) and both "
            "report ids.\n"
            f"5. Call push_private(source=<output>, repo_id={target!r}, card_path=...) WITHOUT confirm and show "
            "the preview. Only if the user explicitly agrees, call it again with confirm=true.\n"
            "Never paste raw values from the data into the conversation; use the masked samples."
        )

    return server


def __getattr__(name: str) -> MCPServer:
    """`mcp dev hf_anon_mcp/server.py:server` / `mcp run ...:server`: a server built on first access (roots from
    HF_ANON_MCP_ROOTS, else the working folder). Importing this module builds nothing."""
    if name == "server":
        # `mcp run` loads this file a second time under another module name: build from the real package module.
        from hf_anon_mcp.server import build_server as canonical

        return canonical()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
