"""The push workflow: publish a local dataset file or folder, with its card, to a PRIVATE Hub dataset repo.

Order matters for safety: check the token and the target first (cheap refusals), then scan every file that would
go up, write the card's privacy section into a staged copy of the card, scan that too, and only with
`confirm=True` create the repo private / upload exactly the scanned files / read the visibility back. Without
`confirm` nothing leaves the machine: the result is a preview an agent shows the user, and it needs neither a
token nor the network (with a token and the Hub reachable it also reads the target repo's visibility).

What goes up from a folder is the dataset: data files, the files `save_to_disk` writes, the card and
`.gitattributes`. Any other file goes up only when the caller names it in `include`; key files, env files,
temporaries and the leak audit's canary files (`*.canaries.json`) never do.
"""

from __future__ import annotations

import fnmatch
import logging
import shutil
import tempfile
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from pathlib import Path

from hf_anon_mcp.engine.detect import find_in_texts
from hf_anon_mcp.engine.entities import is_secret, risk_of
from hf_anon_mcp.errors import AccessError, InputError, OfflineError, UnsafePushError, field
from hf_anon_mcp.hub.client import HubClient, RepoState, validate_repo_id
from hf_anon_mcp.hub.models import CardRequest, PushFile, PushFinding, PushRequest, PushResult
from hf_anon_mcp.models import AnonymizeReport, ColumnReport, EntityStat, RiskLevel, ScanReport, ScanRequest
from hf_anon_mcp.workflow.card import END, START, write_card_section
from hf_anon_mcp.workflow.scan import engine_config, scan

log = logging.getLogger("hf_anon_mcp.push")

# Never uploaded, whatever the caller says: keys and env files, temporaries, hidden files and folders.
EXCLUDED = ("*.key", "*.surrogate-key", "*.pem", ".env", ".env.*", "*.tmp", "*.temp", "*.swp", "*~", ".hfanon-*",
            "*.pyc", "__pycache__", ".*", "*.canaries.json", "*.canaries.jsonl")
CANARIES = ("*.canaries.json", "*.canaries.jsonl")  # the leak audit's planted secrets: uploading them spoils it
DATA_SUFFIXES = {".parquet", ".csv", ".jsonl", ".json"}
SAVED_MARKERS = ("dataset_info.json", "dataset_dict.json", "state.json")
# Operators whose output is realistic fake data: the pre-upload scan finds it again, by design.
REALISTIC = {"surrogate"}
TEXT_CHUNK = 200  # lines per analyzer call


@dataclass
class _Plan:
    """What would go up: path in repo -> local file, and how each is scanned."""

    files: dict[str, Path]
    kinds: dict[str, str]
    excluded: list[str]
    not_included: list[str] = dataclass_field(default_factory=list)
    saved_folder: Path | None = None
    card_source: Path | None = None
    rows: dict[str, int] = dataclass_field(default_factory=dict)
    scanned: dict[str, bool] = dataclass_field(default_factory=dict)


def push_private(request: PushRequest) -> PushResult:
    """Preview (default) or perform a push to a private dataset repo.

    >>> preview = push_private(PushRequest(source="tickets.anon.parquet", repo_id="alice/tickets"))
    >>> preview.uploaded, preview.actions[0]
    (False, 'create private dataset repo alice/tickets')
    >>> done = push_private(PushRequest(source="tickets.anon.parquet", repo_id="alice/tickets", confirm=True))
    >>> done.private, done.files[0].path_in_repo
    (True, 'README.md')
    """
    repo_id = validate_repo_id(request.repo_id)
    plan = _plan(request)
    anon = _anonymize_report(request.anonymize_report_path)
    hub, state, hub_note = _target(repo_id, request.confirm)
    visibility = "unknown" if state is None else "missing" if not state.exists else (
        "private" if state.private else "public")
    blocking: list[str] = []
    if visibility == "public" and not request.make_private:
        blocking.append(f"repo {repo_id} exists and is PUBLIC: pass {field('make_private', True)} to make it "
                        "private first")
        if request.confirm:
            raise UnsafePushError(f"refusing to push: {blocking[0]}")

    staging = Path(tempfile.mkdtemp(prefix="hfanon-push-"))
    try:
        findings, upload_scan = _scan_plan(plan, request)
        high = _blocking_findings(findings, anon)
        card = staging / "README.md"
        _stage_card(plan, card, request, upload_scan, forced=bool(high) and request.allow_residual_pii)
        card_findings = _scan_text(card, "README.md", request, skip_section=True)
        findings += card_findings
        card_high = _blocking_findings(card_findings, anon)
        if card_high and not high and request.allow_residual_pii:  # record the override after all
            _stage_card(plan, card, request, upload_scan, forced=True)
        high += card_high
        plan.files["README.md"] = card
        plan.kinds["README.md"] = "card"
        plan.scanned["README.md"] = True

        unscanned = sorted(p for p, ok in plan.scanned.items() if not ok)
        if unscanned:
            blocking.append(f"cannot scan {len(unscanned)} file(s) (not data or text): {', '.join(unscanned[:5])}")
        if high:
            blocking.append("high-risk findings remain: " + _summary(high))
        residual = max((f.risk for f in findings), key=lambda r: r.rank, default=RiskLevel.none)
        overridable = [b for b in blocking if not b.startswith(f"repo {repo_id}")]
        refused = [b for b in blocking if b not in overridable or not request.allow_residual_pii]
        result = PushResult(
            repo_id=repo_id, repo_url=state.url if state else _repo_url(repo_id), uploaded=False,
            repo_existed=state.exists if state else None, visibility_before=visibility, hub_note=hub_note,
            files=_files(plan), excluded=plan.excluded, not_included=plan.not_included,
            rows=sum(plan.rows.values()), findings=findings, residual_risk=residual, blocking=blocking,
            actions=_actions(repo_id, visibility, request, plan, refused),
            allow_residual_pii=request.allow_residual_pii,
        )
        log.info("push %s: %d file(s), %d row(s), %d blocking reason(s), confirm=%s", repo_id, len(plan.files),
                 result.rows, len(refused), request.confirm)
        if not request.confirm:
            return result
        if refused:
            raise UnsafePushError("refusing to push: " + "; ".join(refused),
                                  hint=f"anonymize first, or pass {field('allow_residual_pii', True)} if the user "
                                       "decided so")
        return _upload(hub, request, plan, state, result)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _target(repo_id: str, confirm: bool) -> tuple[HubClient | None, RepoState | None, str]:
    """The Hub client and the target repo's state. A confirmed push needs both (no token or no network is an error);
    a preview reads them only when it can (a token, the Hub reachable) and says why when it could not."""
    if confirm:
        hub = HubClient()
        hub.check_can_write(repo_id.split("/")[0])
        return hub, hub.repo_state(repo_id), ""
    from huggingface_hub import constants

    if constants.is_offline_mode():
        return None, None, "offline mode (HF_HUB_OFFLINE): the repo was not checked; the push will check it"
    try:
        hub = HubClient()
    except AccessError:
        return None, None, "no Hugging Face token: the repo was not checked; the push will need HF_TOKEN"
    try:
        hub.check_can_write(repo_id.split("/")[0])
        return hub, hub.repo_state(repo_id), ""
    except OfflineError as err:
        return None, None, f"{err}: the repo was not checked; the push will check it"


def _repo_url(repo_id: str) -> str:
    from huggingface_hub import constants

    return f"{constants.ENDPOINT.rstrip('/')}/datasets/{repo_id}"


def _upload(hub: HubClient, request: PushRequest, plan: _Plan, state, result: PushResult) -> PushResult:
    repo_id = result.repo_id
    done: list[str] = []
    if not state.exists:
        hub.create_private(repo_id)
        done.append(f"created private dataset repo {repo_id}")
    elif not state.private:
        hub.make_private(repo_id)
        result.made_private = True
        done.append(f"made existing public repo {repo_id} private")
    if not hub.is_private(repo_id):  # never upload into a public repo, whatever happened above
        raise UnsafePushError(f"repo {repo_id} is not private: nothing was uploaded")
    message = request.commit_message or "Upload anonymized dataset (hf-anon-mcp)"
    sha, url = hub.upload(repo_id, plan.files, message)
    done.append(f"uploaded {len(plan.files)} file(s) in commit {sha[:12]}")
    private = hub.is_private(repo_id)
    if not private:
        raise UnsafePushError(f"repo {repo_id} is PUBLIC after the upload (commit {sha[:12]}): make it private "
                              f"now at {result.repo_url}/settings")
    done.append("verified the repo is private")
    return result.model_copy(update={"uploaded": True, "private": private, "commit_sha": sha, "commit_url": url,
                                     "actions": done})


# ---- what goes up -----------------------------------------------------------------------------------------------
def _plan(request: PushRequest) -> _Plan:
    src = Path(request.source).expanduser()
    if not src.exists():
        raise InputError(f"source not found: {request.source}")
    card_source = Path(request.card_path).expanduser() if request.card_path else None
    if card_source is not None and not card_source.is_file():
        raise InputError(f"card not found: {request.card_path}")
    if src.is_file():
        if _is_canary(src.name):
            raise InputError(f"refusing to push a canary file: {src.name} (the leak audit's planted secrets)")
        if _excluded(src.name):
            raise InputError(f"refusing to push a key, env or temporary file: {src.name}")
        if src.suffix.lower() not in DATA_SUFFIXES:
            raise InputError(f"not a data file: {src.name}", hint="push a .parquet/.jsonl/.csv file or a folder")
        name = f"data/{src.name}"
        return _Plan({name: src}, {name: "data"}, [], card_source=card_source)
    named = _named(src, request.include)
    files: dict[str, Path] = {}
    kinds: dict[str, str] = {}
    excluded: list[str] = []
    not_included: list[str] = []
    saved = any((src / m).is_file() for m in SAVED_MARKERS)
    for path in sorted(src.rglob("*")):
        rel = path.relative_to(src).as_posix()
        if any(_excluded(part) for part in path.relative_to(src).parts):
            if path.is_file():
                excluded.append(rel)
            continue
        if not path.is_file():
            continue
        if rel == "README.md":
            card_source = card_source or path
            continue
        suffix = path.suffix.lower()
        if saved:
            dataset_file = suffix == ".arrow" or rel in SAVED_MARKERS or path.name in SAVED_MARKERS
        else:
            dataset_file = suffix in DATA_SUFFIXES
        if not dataset_file and rel != ".gitattributes" and rel not in named:
            not_included.append(rel)
            continue
        files[rel] = path
        kinds[rel] = "data" if (suffix == ".arrow" and saved) or (suffix in DATA_SUFFIXES and not saved
                                                                 and rel not in SAVED_MARKERS) else "text"
    if not files:
        raise InputError(f"no dataset files to push in folder: {src.name}",
                         hint=f"name other files in {field('include')}" if not_included else None)
    return _Plan(files, kinds, excluded, not_included, saved_folder=src if saved else None, card_source=card_source)


def _named(folder: Path, include: list[str]) -> set[str]:
    """The caller's extra files, as paths relative to the folder; each must exist inside it and be uploadable."""
    named = set()
    for item in include:
        path = (folder / item).resolve()
        if folder.resolve() not in path.parents or not path.is_file():
            raise InputError(f"{field('include')} names no file inside the pushed folder: {Path(item).name}")
        rel = path.relative_to(folder.resolve()).as_posix()
        if _is_canary(path.name):
            raise InputError(f"refusing to push a canary file, even when named: {rel} (the leak audit's planted "
                             "secrets)")
        if any(_excluded(part) for part in Path(rel).parts):
            raise InputError(f"refusing to push a key, env, hidden or temporary file, even when named: {rel}")
        named.add(rel)
    return named


def _is_canary(name: str) -> bool:
    return any(fnmatch.fnmatch(name, pat) for pat in CANARIES)


def _excluded(name: str) -> bool:
    return name != ".gitattributes" and any(fnmatch.fnmatch(name, pat) for pat in EXCLUDED)


def _files(plan: _Plan) -> list[PushFile]:
    return [PushFile(path_in_repo=p, size=local.stat().st_size, kind=plan.kinds[p], rows=plan.rows.get(p),
                     scanned=plan.scanned.get(p, False))
            for p, local in sorted(plan.files.items(), key=lambda kv: (kv[0] != "README.md", kv[0]))]


def _actions(repo_id: str, visibility: str, request: PushRequest, plan: _Plan, refused: list[str]) -> list[str]:
    if refused:
        return ["refuse the push (nothing is uploaded): " + "; ".join(refused)]
    out = {"missing": [f"create private dataset repo {repo_id}"],
           "public": [f"make existing public repo {repo_id} private"],
           "private": [f"update existing private repo {repo_id} with a new commit"],
           "unknown": [f"check {repo_id} with the token: create it private if missing, refuse it if public (unless "
                       f"{field('make_private', True)})"]}[visibility]
    out.append(f"upload {len(plan.files)} file(s) ({sum(plan.rows.values())} rows) including README.md with its "
               "privacy section")
    if request.allow_residual_pii:
        out.append("publish although high-risk findings remain (allow_residual_pii; recorded in the card)")
    out.append("read the visibility back and fail if the repo is not private")
    if not request.confirm:
        out.append(f"nothing has been uploaded: call again with {field('confirm', True)} to do this")
    return out


# ---- scanning -------------------------------------------------------------------------------------------------
def _scan_plan(plan: _Plan, request: PushRequest) -> tuple[list[PushFinding], ScanReport | None]:
    """Scan every planned file; returns findings and one merged report (columns labelled 'file: column')."""
    findings: list[PushFinding] = []
    columns: list[ColumnReport] = []
    reports: list[ScanReport] = []
    data = [p for p, k in plan.kinds.items() if k == "data"]
    if plan.saved_folder is not None:
        for split in _splits(plan.saved_folder):
            report = scan(ScanRequest(source=str(plan.saved_folder), split=split, patterns_only=request.patterns_only))
            reports.append(report)
            label = f"{split or 'dataset'}"
            columns += [c.model_copy(update={"column": f"{label}: {c.column}"}) for c in report.columns]
            findings += [PushFinding(path_in_repo=label, column=c.column, entity_type=s.entity_type, count=s.count,
                                     risk=risk_of(s.entity_type)) for c in report.columns for s in c.entities]
        for p in data:
            plan.scanned[p] = True
        if data:
            plan.rows[data[0]] = sum(r.rows_scanned for r in reports)
    else:
        for p in data:
            try:
                report = scan(ScanRequest(source=str(plan.files[p]), patterns_only=request.patterns_only))
            except InputError:
                if plan.files[p].suffix.lower() == ".json":  # a config file, not rows: scan it as text
                    plan.kinds[p] = "text"
                    continue
                raise
            reports.append(report)
            plan.rows[p] = report.rows_scanned
            plan.scanned[p] = True
            columns += [c.model_copy(update={"column": f"{p}: {c.column}"}) for c in report.columns]
            findings += [PushFinding(path_in_repo=p, column=c.column, entity_type=s.entity_type, count=s.count,
                                     risk=risk_of(s.entity_type)) for c in report.columns for s in c.entities]
    for p, kind in sorted(plan.kinds.items()):
        if kind != "text":
            continue
        found = _scan_text(plan.files[p], p, request)
        if found is None:
            plan.kinds[p] = "other"
            plan.scanned[p] = False
            continue
        plan.scanned[p] = True
        findings += found
        per: dict[str, int] = {}
        for f in found:
            per[f.entity_type] = per.get(f.entity_type, 0) + f.count
        columns.append(ColumnReport(
            column=p, rows_with_text=1, risk=max((risk_of(e) for e in per), key=lambda r: r.rank,
                                                 default=RiskLevel.none),
            entities=[EntityStat(entity_type=e, count=n, rows_affected=1, mean_score=0.0) for e, n in per.items()]))
    if not reports and not columns:
        return findings, None
    detector = reports[0].detector if reports else _detector(request)
    merged = ScanReport(
        report_id="push-scan", source="files to upload", rows_scanned=sum(r.rows_scanned for r in reports),
        text_columns=[c.column for c in columns], columns=columns,
        overall_risk=max((c.risk for c in columns), key=lambda r: r.rank, default=RiskLevel.none),
        detector=detector, elapsed_s=0.0, rows_per_s=0.0)
    return findings, merged


def _scan_text(path: Path, path_in_repo: str, request: PushRequest,
               skip_section: bool = False) -> list[PushFinding] | None:
    """Findings in a text file (None if it is not UTF-8 text); our own generated card section is skipped."""
    raw = path.read_bytes()
    if b"\0" in raw[:8192]:
        return None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return None
    if skip_section and START in text and END in text:
        text = text[:text.index(START)] + text[text.index(END) + len(END):]
    lines = [line for line in text.splitlines() if line.strip()]
    config = engine_config(ScanRequest(source=path_in_repo, patterns_only=request.patterns_only))
    counts: dict[str, int] = {}
    for i in range(0, len(lines), TEXT_CHUNK):
        for spans in find_in_texts(lines[i:i + TEXT_CHUNK], config):
            for f in spans:
                counts[f.entity_type] = counts.get(f.entity_type, 0) + 1
    return [PushFinding(path_in_repo=path_in_repo, entity_type=e, count=n, risk=risk_of(e))
            for e, n in sorted(counts.items())]


def _splits(folder: Path) -> list[str | None]:
    import json

    dd = folder / "dataset_dict.json"
    if dd.is_file():
        try:
            return list(json.loads(dd.read_text()).get("splits") or []) or [None]
        except ValueError:
            return [None]
    return [None]


def _detector(request: PushRequest):
    from hf_anon_mcp.engine.analyzer import detector_info

    return detector_info(engine_config(ScanRequest(source="-", patterns_only=request.patterns_only)))


def _blocking_findings(findings: list[PushFinding], anon: AnonymizeReport | None) -> list[PushFinding]:
    """High-risk findings; secrets always, realistic surrogates of an anonymize report never."""
    realistic = {e for e, op in (anon.operators if anon else {}).items() if op in REALISTIC}
    return [f for f in findings if is_secret(f.entity_type)
            or (f.risk is RiskLevel.high and not (f.column is not None and f.entity_type in realistic))]


def _summary(findings: list[PushFinding]) -> str:
    per: dict[str, int] = {}
    for f in findings:
        per[f.entity_type] = per.get(f.entity_type, 0) + f.count
    files = sorted({f.path_in_repo for f in findings})
    kinds = ", ".join(f"{e} x{n}" for e, n in sorted(per.items(), key=lambda kv: (-kv[1], kv[0])))
    return f"{kinds} (in {', '.join(files[:5])})"


# ---- the card -------------------------------------------------------------------------------------------------
def _stage_card(plan: _Plan, card: Path, request: PushRequest, upload_scan: ScanReport | None,
                forced: bool) -> None:
    """Copy the card (or start a minimal one) into staging and write the privacy section there."""
    if plan.card_source is not None:
        shutil.copyfile(plan.card_source, card)
    elif card.exists():
        card.unlink()
    write_card_section(CardRequest(
        card_path=str(card), card_type="dataset", scan_report_path=request.scan_report_path,
        anonymize_report_path=request.anonymize_report_path, upload_scan=upload_scan,
        differential_privacy=request.differential_privacy,
        differential_privacy_details=request.differential_privacy_details, allow_residual_pii=forced))


def _anonymize_report(path: str | None) -> AnonymizeReport | None:
    if not path:
        return None
    try:
        return AnonymizeReport.model_validate_json(Path(path).expanduser().read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError(f"anonymize report not found: {Path(path).name}") from None
    except (ValueError, OSError):
        raise InputError(f"not an anonymize report (JSON of an AnonymizeReport): {Path(path).name}") from None

