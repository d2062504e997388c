"""The anonymize workflow: stream a source, replace PII per policy, write atomically, verify by re-scanning."""

from __future__ import annotations

import logging
import os
import secrets
import threading
import time
import uuid
from collections import Counter, defaultdict, deque
from collections.abc import Callable
from pathlib import Path

from datasets import Features

from hf_anon_mcp.config import get_settings
from hf_anon_mcp.data.sources import choose_text_columns, iter_batches, limited, open_source, replace_strings, strings_in
from hf_anon_mcp.data.writer import AtomicDatasetWriter, check_output, output_format
from hf_anon_mcp.engine.analyzer import EngineConfig, detector_info, get_analyzer
from hf_anon_mcp.engine.anonymizer import OperatorPlan, anonymize_text, whole_cell
from hf_anon_mcp.engine.detect import analyze_texts
from hf_anon_mcp.engine.entities import is_secret, risk_of
from hf_anon_mcp.engine.operators import Renumberer
from hf_anon_mcp.errors import InputError, PolicyError
from hf_anon_mcp.models import AnonymizeReport, AnonymizeRequest, Progress, ReplacedStat, RiskLevel, ScanRequest
from hf_anon_mcp.policy import (SURROGATE_SECRET_ENV, AnonymizationPolicy, OperatorName, load_policy, parse_policy,
                                policy_for_operator)
from hf_anon_mcp.workflow.parallel import ordered_map
from hf_anon_mcp.workflow.scan import scan

log = logging.getLogger("hf_anon_mcp.anonymize")

ProgressFn = Callable[[Progress], None]
KEY_SUFFIX = ".surrogate-key"
# Operators whose output should no longer look like PII: residual findings of these types are real leaks.
_VANISHING = {OperatorName.placeholder, OperatorName.numbered, OperatorName.redact, OperatorName.mask}


def resolve_policy(request: AnonymizeRequest) -> AnonymizationPolicy:
    """The policy of a request: file or inline document (not both), with `operator` overriding its default."""
    if request.policy_file and request.policy:
        raise PolicyError("give either a policy file or an inline policy, not both")
    if request.policy_file:
        policy = load_policy(request.policy_file)
    elif request.policy is not None:
        policy = parse_policy(request.policy, origin="inline policy")
    else:
        policy = AnonymizationPolicy()
    if request.operator:
        override = policy_for_operator(request.operator).default_operator
        policy = policy.model_copy(update={"default_operator": override})
    policy.check_secrets()
    return policy


def _engine_config(request: AnonymizeRequest, policy: AnonymizationPolicy) -> EngineConfig:
    settings = get_settings()
    return EngineConfig(
        model_name=settings.spacy_model,
        profile=request.profile,
        language=policy.language,
        countries=tuple(settings.countries),
        score_threshold=policy.score_threshold if policy.score_threshold is not None else settings.score_threshold,
        entities=tuple(policy.entities) if policy.entities else None,
        allow_list=tuple(policy.allow_list),
        deny_list=tuple(policy.deny_list),
    )


def _surrogate_secret(policy: AnonymizationPolicy, output: Path) -> tuple[bytes, str | None, Path | None]:
    """(secret, where it came from, key file to create on success). The secret itself is never shown."""
    uses = {OperatorName.surrogate} & policy.operators_used()
    if not uses:
        return b"", None, None
    env = os.environ.get(SURROGATE_SECRET_ENV)
    if env:
        if len(env.encode()) < 16:
            raise PolicyError(f"{SURROGATE_SECRET_ENV} must be at least 16 bytes long")
        return env.encode(), f"env:{SURROGATE_SECRET_ENV}", None
    key_file = output.parent / f"{output.name}{KEY_SUFFIX}"
    if key_file.is_file():
        return key_file.read_bytes().strip(), f"file:{key_file.name}", None
    return secrets.token_hex(32).encode(), f"file:{key_file.name}", key_file


def _anonymize_batch(task: tuple[list[tuple[str, str | None]], EngineConfig, OperatorPlan]):
    """Worker: each (text, whole-cell entity or None) -> (new text, Counter of replaced entity types)."""
    items, config, plan = task
    to_analyze = [text for text, entity in items if entity is None]
    found = iter(analyze_texts(to_analyze, config))
    out = []
    for text, entity in items:
        results = next(found) if entity is None else whole_cell(text, entity)
        out.append(anonymize_text(text, results, plan))
    return out


def _warm(config: EngineConfig) -> None:
    get_analyzer(config)


def anonymize(request: AnonymizeRequest, *, progress: ProgressFn | None = None,
              cancel: threading.Event | None = None) -> AnonymizeReport:
    """Anonymize a dataset into a new one; the input is never modified.

    >>> report = anonymize(AnonymizeRequest(source="tickets.csv", output="tickets.anon.parquet"))
    >>> report.rows_out == report.rows_in, report.residual_risk
    (True, <RiskLevel.none: 'none'>)
    """
    started = time.perf_counter()
    policy = resolve_policy(request)
    output = Path(request.output).expanduser()
    fmt = output_format(output)
    source = open_source(request.source, config=request.config_name, split=request.split)
    check_output(output, source.path, overwrite=request.overwrite)
    features = source.features
    unknown = [c for c in policy.columns if c not in features]
    if unknown:
        raise PolicyError(f"policy names unknown column(s): {', '.join(unknown)}",
                          hint="available: " + ", ".join(features))
    rules = policy.columns
    dropped = [c for c, r in rules.items() if r.action == "drop"]
    kept = [c for c, r in rules.items() if r.action == "keep"]
    whole = {c: r.entity for c, r in rules.items() if r.action == "entity"}
    text_cols = choose_text_columns(features, request.columns)
    if whole:
        choose_text_columns(features, list(whole))  # whole-cell columns must hold text too
    work_cols = [c for c in dict.fromkeys([*text_cols, *whole]) if c not in dropped and c not in kept]

    config = _engine_config(request, policy)
    secret, key_source, new_key_file = _surrogate_secret(policy, output)
    plan = OperatorPlan(policy, surrogate_secret=secret, number_secret=secrets.token_bytes(32))
    renumber = Renumberer() if OperatorName.numbered in policy.operators_used() else None
    out_features = Features({k: v for k, v in features.items() if k not in dropped})
    ds, expected = limited(source, max_rows=request.max_rows)
    counts: dict[tuple[str, str], int] = defaultdict(int)
    pending: deque = deque()

    def feed():
        for batch in iter_batches(source, ds, request.batch_size):
            cells = [(col, i, text) for col in work_cols for i, value in enumerate(batch[col])
                     for text in strings_in(value)]
            pending.append((batch, cells))
            yield [(text, whole.get(col)) for col, _, text in cells], config, plan

    rows = 0
    with AtomicDatasetWriter(output, out_features.arrow_schema) as writer:
        results = ordered_map(_anonymize_batch, feed(), num_proc=request.num_proc, initializer=_warm,
                              initargs=(config,), cancel=cancel)
        for done in results:
            batch, cells = pending.popleft()
            new_texts: dict[tuple[str, int], list[str]] = defaultdict(list)
            for (col, i, _), (text, replaced) in zip(cells, done):
                new_texts[(col, i)].append(renumber(text) if renumber else text)
                for entity, n in replaced.items():
                    counts[(col, entity)] += n
            for col in work_cols:
                batch[col] = [replace_strings(value, iter(new_texts[(col, i)])) if (col, i) in new_texts else value
                              for i, value in enumerate(batch[col])]
            writer.write_batch(batch)
            rows = writer.rows
            if progress:
                progress(Progress(stage="anonymize", done=rows, total=expected,
                                  message=f"anonymized {rows:,} rows" + (f" of {expected:,}" if expected else "")))
        if rows == 0:
            raise InputError(f"dataset is empty: {request.source}")
        writer.commit()
    if new_key_file is not None:
        _write_key(new_key_file, secret)
    elapsed_write = time.perf_counter() - started

    report = AnonymizeReport(
        report_id=f"anon-{uuid.uuid4().hex[:12]}",
        source=request.source,
        output_path=str(output),
        output_format=fmt,
        rows_in=rows,
        rows_out=writer.rows,
        columns_anonymized=work_cols,
        columns_dropped=dropped,
        columns_kept=kept,
        whole_cell_columns=whole,
        replaced=[ReplacedStat(column=c, entity_type=e, count=n, operator=plan.operator_name(e))
                  for (c, e), n in sorted(counts.items(), key=lambda kv: (kv[0][0], -kv[1]))],
        operators={e: plan.operator_name(e) for e in sorted({e for _, e in counts})},
        default_operator=policy.default_operator.operator.value,
        surrogates_consistent=bool({OperatorName.surrogate, OperatorName.numbered} & policy.operators_used()),
        surrogate_key_source=key_source,
        detector=detector_info(config),
        elapsed_s=round(elapsed_write, 3),
        rows_per_s=round(rows / elapsed_write, 1) if elapsed_write else 0.0,
    )
    if request.verify and work_cols:
        _verify(report, request, policy, progress)
    return report


def _write_key(path: Path, secret: bytes) -> None:
    """Save a generated surrogate key beside the output, readable by its owner only, atomically."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(secret + b"\n")
    os.replace(tmp, path)


def _verify(report: AnonymizeReport, request: AnonymizeRequest, policy: AnonymizationPolicy,
            progress: ProgressFn | None) -> None:
    """Re-scan the output's anonymized columns; residual risk counts only types that should have vanished."""
    rescan = scan(ScanRequest(source=report.output_path, columns=report.columns_anonymized, profile=request.profile,
                              score_threshold=policy.score_threshold, entities=policy.entities,
                              batch_size=request.batch_size, num_proc=request.num_proc), progress=progress)
    report.residual = rescan.columns
    report.verification_report_id = rescan.report_id
    should_vanish = [
        s for c in rescan.columns for s in c.entities
        if is_secret(s.entity_type) or policy.operator_for(s.entity_type).operator in _VANISHING
    ]
    report.residual_risk = max((risk_of(s.entity_type) for s in should_vanish), key=lambda r: r.rank,
                               default=RiskLevel.none)
    faked = sorted({s.entity_type for c in rescan.columns for s in c.entities
                    if policy.operator_for(s.entity_type).operator is OperatorName.surrogate})
    notes = []
    if should_vanish:
        notes.append(f"{sum(s.count for s in should_vanish)} finding(s) of replaced types remain: detection is "
                     "statistical; review them before publishing")
    if faked:
        notes.append(f"surrogates are realistic by design, so the re-scan finds them again ({', '.join(faked)})")
    report.residual_note = "; ".join(notes) or "the re-scan found nothing of the replaced types"
