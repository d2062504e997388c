"""The anonymize workflow: detect every cell once, decide dataset-wide, replace, verify with other eyes.

Orchestration only: the passes live in `decisions/`, where batches run in `runners/`. The input is never modified;
the output is written to a temporary path and renamed into place when complete (verification included).
"""

from __future__ import annotations

import hashlib
import logging
import os
import secrets
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path

from datasets import Features

from hf_anon_mcp.config import get_settings
from hf_anon_mcp.data.sources import (by_size, choose_text_columns, expected_bytes, holds_text, iter_batches,
                                      limited, open_source)
from hf_anon_mcp.data.writer import AtomicDatasetWriter, check_output, output_format
from hf_anon_mcp.decisions.cells import rebuild, texts_in
from hf_anon_mcp.decisions.detect import DetectSpec, warm
from hf_anon_mcp.decisions.pipeline import (Spill, check_sample, decide_pass, detect_pass, finish_verification,
                                            replace_pass, sample_rate)
from hf_anon_mcp.decisions.replace import ReplaceSpec, ReplaceStats
from hf_anon_mcp.engine.analyzer import EngineConfig, detector_info
from hf_anon_mcp.engine.anonymizer import OperatorPlan
from hf_anon_mcp.engine.entities import DATE_OF_BIRTH, known_entities
from hf_anon_mcp.engine.operators import Renumberer
from hf_anon_mcp.errors import HfAnonError, InputError, PolicyError, field
from hf_anon_mcp.models import (AnonymizeReport, AnonymizeRequest, KeptTerm, Progress, ReplacedStat, RiskLevel,
                                VerificationResult)
from hf_anon_mcp.policy import (PRESETS, SURROGATE_SECRET_ENV, AnonymizationPolicy, OperatorName, load_policy,
                                parse_policy, policy_for_operator)
from hf_anon_mcp.runners.local import BATCH_CHARS, LocalRunner, auto_workers

log = logging.getLogger("hf_anon_mcp.anonymize")

ProgressFn = Callable[[Progress], None]
KEY_SUFFIX = ".surrogate-key"


def resolve_policy(request: AnonymizeRequest) -> AnonymizationPolicy:
    """The policy of a request: a preset name, a file or an inline document (one of them), with `operator` and
    `entities` overriding it."""
    if request.policy_file and request.policy is not None:
        raise PolicyError("give either a policy file or an inline policy, not both")
    if request.policy_file:
        policy = load_policy(request.policy_file)
    elif isinstance(request.policy, str):
        if request.policy not in PRESETS:
            raise PolicyError(f"unknown policy '{request.policy}'",
                              hint="use 'default', 'strict', a policy file, or an inline policy object")
        policy = AnonymizationPolicy(level=request.policy)
    elif request.policy is not None:
        policy = parse_policy(request.policy, origin="inline policy")
    else:
        policy = AnonymizationPolicy()
    if request.operator:
        override = policy_for_operator(request.operator).default_operator
        policy = policy.model_copy(update={"default_operator": override})
    if request.entities:
        unknown = sorted(e for e in request.entities if e not in known_entities() and e != "DENY_LIST")
        if unknown:
            raise PolicyError(f"unknown entity type(s): {', '.join(unknown)}",
                              hint="e.g. PERSON, EMAIL_ADDRESS, PHONE_NUMBER, CREDIT_CARD, LOCATION")
        policy = policy.model_copy(update={"entities": list(request.entities)})
    policy.check_secrets()
    return policy


def _engine_config(request: AnonymizeRequest, policy: AnonymizationPolicy) -> EngineConfig:
    """What to look for: the policy's entities plus every secret type (secrets are replaced under every policy)
    and dates (a date of birth starts as a date)."""
    from hf_anon_mcp.engine.secrets import SECRET_ENTITIES

    settings = get_settings()
    entities = None
    if policy.entities:
        extra = {"DATE_TIME"} if DATE_OF_BIRTH in policy.entities else set()
        entities = tuple(sorted({*policy.entities, *SECRET_ENTITIES, *extra} - {DATE_OF_BIRTH}))
    return EngineConfig(
        model_name=settings.spacy_model,
        profile=request.profile,
        language=policy.language,
        countries=tuple(settings.countries),
        score_threshold=policy.score_threshold if policy.score_threshold is not None else settings.score_threshold,
        entities=entities,
        allow_list=(),  # allow-list terms are cut out of findings dataset-wide, also inside longer spans
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


def _warm(config: EngineConfig) -> None:
    warm(config)


def anonymize(request: AnonymizeRequest, *, progress: ProgressFn | None = None,
              cancel: threading.Event | None = None) -> AnonymizeReport:
    """Anonymize a dataset into a new one; the input is never modified.

    >>> report = anonymize(AnonymizeRequest(source="tickets.csv", output="tickets.anon.parquet"))
    >>> report.rows_out == report.rows_in, report.verification.verdict.startswith("no replaced value")
    (True, True)
    """
    started = time.perf_counter()
    policy = resolve_policy(request)
    output = Path(request.output).expanduser()
    if request.engine == "ray":
        if output.suffix:
            raise InputError("the Ray engine writes a folder of shards: give an output path without a suffix")
        fmt = "parquet"
    else:
        fmt = output_format(output)
    source = open_source(request.source, config=request.config_name, split=request.split)
    if request.engine != "ray" or not request.resume:
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
    string_cols = [c for c, f in features.items() if holds_text(f) and c not in dropped]

    config = _engine_config(request, policy)
    secret, key_source, new_key_file = _surrogate_secret(policy, output)
    plan = OperatorPlan(policy, surrogate_secret=secret, number_secret=secrets.token_bytes(32))
    renumber = Renumberer() if OperatorName.numbered in policy.operators_used() else None
    out_features = Features({k: v for k, v in features.items() if k not in dropped})
    ds, expected = limited(source, max_rows=request.max_rows)
    num_proc = request.num_proc or auto_workers(expected, config.profile, expected_bytes(source, expected))

    def tell(stage: str, done: int, verb: str) -> None:
        """One monotonic progress over both passes: detect counts the first half, replace the second."""
        if progress:
            of = f" of {expected:,}" if expected else ""
            offset = {"detect": 0, "replace": expected or 0, "verify": 2 * (expected or 0)}[stage]
            progress(Progress(stage=stage, done=offset + done, total=2 * expected if expected else None,
                              message=f"anonymize: {verb} {done:,} rows{of}"))

    totals, samples = ReplaceStats(), []
    run = _run_ray if request.engine == "ray" else _run_local
    stats, decisions, verification, rows_written, structure_ok, plan_canaries, canary_file = run(
        request=request, config=config, policy=policy, plan=plan, renumber=renumber, output=output, source=source,
        ds=ds, work_cols=work_cols, string_cols=string_cols, dropped=dropped, features=features,
        out_features=out_features, secret=secret, totals=totals, samples=samples, tell=tell, num_proc=num_proc,
        cancel=cancel)
    if new_key_file is not None:
        _write_key(new_key_file, secret)
    verification = finish_verification(verification, totals, policy, structure_ok,
                                       "" if structure_ok else f"{rows_written} rows written of {stats.rows}")
    elapsed = time.perf_counter() - started
    rows = stats.rows
    return AnonymizeReport(
        report_id=f"anon-{uuid.uuid4().hex[:12]}",
        source=request.source,
        output_path=str(output),
        output_format=fmt,
        rows_in=rows,
        rows_out=rows_written,
        canaries_planted=len(plan_canaries.canaries) if plan_canaries else 0,
        canary_rows=plan_canaries.rows_inserted if plan_canaries else 0,
        canary_file=str(canary_file) if canary_file else None,
        columns_anonymized=[c for c in work_cols if decisions.columns[c].action != "keep"],
        columns_dropped=dropped,
        columns_kept=[*kept, *(c for c in work_cols if decisions.columns[c].action == "keep")],
        whole_cell_columns={c: d.entity for c, d in decisions.columns.items() if d.action == "replace_cells"},
        replaced=_stats(totals.replaced, plan),
        kept=_stats(totals.kept, None),
        propagated=_stats(totals.propagated, plan),
        operators={e: plan.operator_name(e) for e in sorted({e for _, e in totals.replaced})},
        default_operator=policy.default_operator.operator.value,
        surrogates_consistent=bool({OperatorName.surrogate, OperatorName.numbered} & policy.operators_used()),
        surrogate_key_source=key_source,
        residual_risk=_residual_risk(verification),
        residual_note=verification.verdict,
        detector=detector_info(config),
        elapsed_s=round(elapsed, 3),
        rows_per_s=round(rows / elapsed, 1) if elapsed else 0.0,
        policy_level=policy.level if not policy.entities else "entities",
        secrets_kept=policy.keep_secrets,
        column_decisions=list(decisions.columns.values()),
        kept_frequent_terms=[k if request.include_raw_terms else KeptTerm(rows=k.rows, share=k.share)
                             for k in decisions.kept_report[:50]],
        verification=verification,
    )


def _run_local(*, request, config, policy, plan, renumber, output, source, ds, work_cols, string_cols, dropped,
               features, out_features, secret, totals, samples, tell, num_proc, cancel):
    """The three passes on this machine's warm worker pool, written atomically to `output`."""
    with LocalRunner(num_proc, cancel=cancel, initializer=_warm, initargs=(config,)) as runner, \
            Spill(output) as spill:
        stats = detect_pass(runner, DetectSpec(config, tuple(work_cols)),
                            by_size(iter_batches(source, ds, request.batch_size), work_cols, BATCH_CHARS), spill,
                            on_batch=lambda n: tell("detect", n, "detected"))
        if stats.rows == 0:
            raise InputError(f"dataset is empty: {request.source}")
        decisions = decide_pass(stats, policy, work_cols)
        plan_canaries, planter = _canaries(request, decisions, work_cols, features, stats.rows)
        rate = sample_rate(stats.rows, request.verify)
        spec = ReplaceSpec(decisions=decisions, plan=plan, columns=tuple(work_cols), string_columns=tuple(string_cols),
                           dropped=tuple(dropped), sample_rate=rate,
                           sample_key=hashlib.sha256(b"hf-anon-mcp sample\x1f" + secret).digest())
        with AtomicDatasetWriter(output, out_features.arrow_schema) as writer:
            names: list[str] = []
            for batch in replace_pass(runner, spec, spill, totals, samples):
                names = list(batch)
                writer.write_batch(_finished(batch, work_cols, renumber, planter))
                tell("replace", writer.rows, "anonymized")
            tail = planter.finish_batch(names) if planter else None
            if tail:
                writer.write_batch(tail)
            tell("verify", 0, f"verifying a sample of {len(samples):,} rows; checked")
            verification = (check_sample(runner, samples, policy, request.verify, config, decisions)
                            if request.verify != "off" else VerificationResult(sample_note="verification was off"))
            added = plan_canaries.rows_inserted if plan_canaries else 0
            structure_ok = writer.rows == stats.rows + added
            canary_file = _write_canaries(plan_canaries, output)
            try:
                writer.commit()
            except BaseException:
                if canary_file:
                    canary_file.unlink(missing_ok=True)
                raise
    return stats, decisions, verification, writer.rows, structure_ok, plan_canaries, canary_file


def _run_ray(*, request, config, policy, plan, renumber, output, source, ds, work_cols, string_cols, dropped,
             features, out_features, secret, totals, samples, tell, num_proc, cancel):
    """The same three passes on a Ray cluster: detect and replace on actor pools, statistics and decisions on the
    driver, shards published into the output folder only when complete (resumable with `resume`)."""
    import pickle as _pickle

    from hf_anon_mcp.decisions.detect import STATS, DetectWorker
    from hf_anon_mcp.decisions.replace import REPORT, SAMPLE, ReplaceWorker
    from hf_anon_mcp.runners.ray_runner import RayRunner

    if request.plant_canaries and request.resume:
        # a resumed run would plant new canaries in the new shards only, and none in those it keeps
        raise InputError(f"{field('plant_canaries')} cannot go with {field('resume')} on the Ray engine: a resumed "
                         "run would plant new canaries in its new shards only",
                         hint=f"run again without {field('resume')}")
    canary_file = None
    try:
        with RayRunner(address=request.ray_address, num_actors=request.num_proc) as runner:
            log.info("Ray ready in %.1f s: %d actor(s) x %.2f CPU", runner.startup_seconds, runner.num_actors,
                     runner.cpus_per_actor)
            src = runner.read(request.source, schema=features.arrow_schema, max_rows=request.max_rows)
            with runner.output(output, fmt="parquet", resume=request.resume, overwrite=request.overwrite,
                               progress=lambda n: tell("replace", n, "anonymized")) as out:
                began = time.perf_counter()
                detected = out.stage("detect", runner.map(src, DetectWorker, DetectSpec(config, tuple(work_cols)),
                                                          batch_size=request.batch_size))
                staged = time.perf_counter()
                stats = runner.collect(detected, STATS, merge=lambda a, b: a.merge(b))
                if stats is None or stats.rows == 0:
                    raise InputError(f"dataset is empty: {request.source}")
                decisions = decide_pass(stats, policy, work_cols)
                plan_canaries, planter = _canaries(request, decisions, work_cols, features, stats.rows)
                decided = time.perf_counter()
                spec = ReplaceSpec(decisions=decisions, plan=plan, columns=tuple(work_cols),
                                   string_columns=tuple(string_cols), dropped=tuple(dropped),
                                   sample_rate=sample_rate(stats.rows, request.verify),
                                   sample_key=hashlib.sha256(b"hf-anon-mcp sample\x1f" + secret).digest())
                result = out.write(runner.map(detected, ReplaceWorker, spec, batch_size=request.batch_size),
                                   keep_apart=[REPORT, SAMPLE], schema=out_features.arrow_schema,
                                   each=(lambda batch: _finished(batch, work_cols, renumber, planter))
                                   if renumber or planter else None)
                if planter and planter.finish_batch(list(out_features)):  # each canary precedes a row of its stratum
                    raise HfAnonError("internal error: canaries left after the last row; nothing was written")
                for value in out.side(REPORT):
                    if value is not None:
                        totals.merge(_pickle.loads(value))
                samples.extend(v for v in out.side(SAMPLE) if v is not None)
                written = time.perf_counter()
                # the sample (at most a few thousand rows) is checked on the driver: no third actor pool to start
                with LocalRunner(1, cancel=cancel) as local:
                    verification = (check_sample(local, samples, policy, request.verify, config, decisions)
                                    if request.verify != "off"
                                    else VerificationResult(sample_note="verification was off"))
                log.info("Ray passes: detect %.1f s, statistics and decisions %.1f s, replace and write %.1f s, "
                         "sample check %.1f s", staged - began, decided - staged, written - decided,
                         time.perf_counter() - written)
                added = plan_canaries.rows_inserted if plan_canaries else 0
                canary_file = _write_canaries(plan_canaries, output)  # the folder is published on leaving this block
    except BaseException:
        if canary_file:  # the output was not published: its canary file goes too
            canary_file.unlink(missing_ok=True)
        raise
    return stats, decisions, verification, result.rows, result.rows == stats.rows + added, plan_canaries, canary_file


def _finished(batch: dict[str, list], work_cols: list[str], renumber, planter) -> dict[str, list]:
    """An anonymized batch as written, on either runner, in row order: placeholders numbered in order of first
    appearance, then the canary rows planted (after replacement, so they stay verbatim)."""
    if renumber:
        for col in work_cols:
            if col in batch:
                batch[col] = [rebuild(v, iter([renumber(t) for t in texts_in(v)])) for v in batch[col]]
    return planter.batch(batch) if planter else batch


def _canaries(request: AnonymizeRequest, decisions, work_cols: list[str], features, rows: int):
    """The canaries to plant and their planter, in the column the user named or the first free-text one."""
    if not request.plant_canaries:
        return None, None
    from hf_anon_mcp.audit.canaries import CanaryPlanter, make_canaries

    column = request.canary_column
    if column is None:
        free = [c for c in work_cols if decisions.columns[c].kind == "free_text"]
        column = (free or [c for c in work_cols if decisions.columns[c].action == "spans"] or [None])[0]
    if column is None or column not in features:
        raise InputError("cannot plant canaries: no free-text column", hint="name one with canary_column")
    plan = make_canaries(request.plant_canaries, repetitions=request.canary_repetitions, text_column=column)
    return plan, CanaryPlanter(plan, text_column=column, total_rows=rows)


def _write_canaries(plan, output: Path) -> Path | None:
    if plan is None:
        return None
    from hf_anon_mcp.audit.canaries import canary_path_for, write_canary_file

    return write_canary_file(plan, canary_path_for(output))


def _stats(counter, plan: OperatorPlan | None) -> list[ReplacedStat]:
    return [ReplacedStat(column=c, entity_type=e, count=n, operator=plan.operator_name(e) if plan else "keep")
            for (c, e), n in sorted(counter.items(), key=lambda kv: (kv[0][0], -kv[1]))]


def _residual_risk(v: VerificationResult) -> RiskLevel:
    """High when anything replaced survives or the independent sample found a direct identifier; medium when the
    sample check could not run (unverified); low otherwise (a bound, never none)."""
    if v.propagation_survivors or v.sample_rows_with_direct:
        return RiskLevel.high
    return RiskLevel.low if v.sample_checked else RiskLevel.medium


def _write_key(path: Path, secret: bytes) -> None:
    """Save a generated surrogate key beside the output, readable by its owner only, atomically."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(secret + b"\n")
    os.replace(tmp, path)
