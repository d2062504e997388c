"""`audit_finetune`: the whole leak audit of a fine-tuned model, from a canary file and optional data files.

Steps (each timed in the report): exposure of every canary and control among K random candidates; extraction with
the canary prompt, free generations and (with `original`) targeted prompts; membership inference when members and
non-members are given. Only ids, counts, scores and masked samples leave this function.

>>> report = audit_finetune(AuditRequest(model="out/finetuned", canaries="train.parquet.canaries.json",
...                                      base_model="gpt2", members="train.parquet", non_members="heldout.parquet"))
>>> [(c.id, c.repetitions, round(c.exposure_bits, 1)) for c in report.canaries][:2]
[('canary-1', 1, 2.3), ('canary-2', 4, 9.97)]
"""

from __future__ import annotations

import logging
import random
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import numpy as np

from hf_anon_mcp.audit.canaries import CanaryFile, random_values, read_canary_file
from hf_anon_mcp.audit.models import (AuditReport, AuditRequest, CanaryResult, ControlResult, ExposureGroup,
                                      ExtractionResult, MembershipResult, OriginalLeak)
from hf_anon_mcp.data.sources import looks_like_repo_id
from hf_anon_mcp.errors import CancelledError, InputError
from hf_anon_mcp.models import Progress

log = logging.getLogger("hf_anon_mcp.audit")

ProgressFn = Callable[[Progress], None]
MEMORISED_MARGIN_BITS = 1.0  # "memorised" = within 1 bit of the ceiling, i.e. rank 1 or 2 of K + 1
EXCESS_BITS = 2.0  # a repetition group this far above the controls' mean exposure is reported
MI_AUC_MARGIN = 0.1  # a membership AUC this far above the blind baseline is reported as a signal
STEPS = ("load", "exposure", "extraction", "membership")


def audit_finetune(request: AuditRequest, progress: ProgressFn | None = None,
                   cancel: threading.Event | None = None) -> AuditReport:
    """Audit `request.model` for leaks of the canaries planted in its training data (and more, see the module)."""
    from hf_anon_mcp.audit.lm import check_model_spec, require_audit_extra

    # what can be checked without the heavy imports first: a typo costs a second, not a torch import
    if (request.members is None) != (request.non_members is None):
        raise InputError("membership inference needs both members and non_members")
    canaries = read_canary_file(request.canaries)
    for spec in (request.model, request.base_model):
        if spec is not None:
            check_model_spec(spec)
    for name in ("members", "non_members", "original"):
        path = getattr(request, name)
        if path is not None and not Path(path).expanduser().exists() and not looks_like_repo_id(path):
            raise InputError(f"{name.replace('_', '-')} file not found: {path}")
    require_audit_extra()
    import torch

    threads = torch.get_num_threads()
    if request.threads:
        torch.set_num_threads(request.threads)
    try:
        return _audit(request, canaries, progress, cancel)
    finally:
        torch.set_num_threads(threads)


def _audit(request: AuditRequest, canaries: CanaryFile, progress: ProgressFn | None,
           cancel: threading.Event | None) -> AuditReport:
    import torch

    from hf_anon_mcp.audit.lm import load_model, pick_device

    timings: dict[str, float] = {}
    clock = time.perf_counter()

    def step(name: str, done: int) -> None:
        nonlocal clock
        if cancel is not None and cancel.is_set():
            raise CancelledError("the audit was cancelled")
        now = time.perf_counter()
        timings[name] = round(now - clock, 3)
        clock = now
        if progress:
            progress(Progress(stage="audit", done=done, total=len(STEPS), message=f"audit: {name} done"))

    torch.manual_seed(request.seed)
    device = pick_device(request.device)
    target = load_model(request.model, device)
    base = load_model(request.base_model, device) if request.base_model else None
    step("load", 1)

    exposures = _exposures(target, canaries, request, cancel)
    step("exposure", 2)

    extraction, extracted = _extraction(target, base, canaries, request, timings)
    step("extraction", 3)

    membership = _membership(target, base, canaries, request, cancel) if request.members else None
    step("membership", 4)

    ranks, rank_bits, sn_bits = exposures
    n = len(canaries.canaries)
    canary_results = [
        CanaryResult(id=c.id, repetitions=c.repetitions, rank=int(ranks[i]), exposure_bits=_r(rank_bits[i]),
                     exposure_skewnorm_bits=_r(sn_bits[i]), extracted=c.value in extracted)
        for i, c in enumerate(canaries.canaries)]
    control_results = [
        ControlResult(id=c.id, rank=int(ranks[n + i]), exposure_bits=_r(rank_bits[n + i]),
                      exposure_skewnorm_bits=_r(sn_bits[n + i]), extracted=c.value in extracted)
        for i, c in enumerate(canaries.controls)]
    ceiling = float(np.log2(request.candidates + 1))
    groups = _groups(canary_results, control_results, ceiling)
    leak, verdict = _verdict(groups, canary_results, control_results, extraction, membership, ceiling)
    return AuditReport(
        report_id=f"audit-{uuid.uuid4().hex[:12]}", model=request.model, base_model=request.base_model,
        canary_format=canaries.format, candidates=request.candidates, exposure_ceiling_bits=_r(ceiling),
        chance_exposure_bits=_r(1 / np.log(2)), canaries=canary_results, controls=control_results,
        exposure_by_repetitions=groups, membership=membership, extraction=extraction, leak=leak, verdict=verdict,
        device=device, timings_s=timings,
    )


def _r(x: float, digits: int = 3) -> float:
    return round(float(x), digits)


# ---- exposure ------------------------------------------------------------------------------------------------

def _exposures(lm, canaries: CanaryFile, request: AuditRequest, cancel):
    from hf_anon_mcp.audit.exposure import rank_exposure, ranks, skewnorm_exposure

    planted = [c.value for c in canaries.canaries] + [c.value for c in canaries.controls]
    candidates = random_values(canaries.format, request.candidates, random.Random(request.seed), exclude=planted)
    texts = [canaries.sentence(v) for v in planted + candidates]
    lp = np.array(lm.log_perplexities_bits(texts, batch_size=max(request.batch_size, 32), cancel=cancel))
    mine, theirs = lp[: len(planted)], lp[len(planted):]
    return ranks(mine, theirs), rank_exposure(mine, theirs), skewnorm_exposure(mine, theirs)


def _groups(canaries: list[CanaryResult], controls: list[ControlResult], ceiling: float) -> list[ExposureGroup]:
    def group(reps: int, items) -> ExposureGroup:
        return ExposureGroup(
            repetitions=reps, count=len(items),
            mean_exposure_bits=_r(np.mean([c.exposure_bits for c in items])),
            mean_skewnorm_bits=_r(np.mean([c.exposure_skewnorm_bits for c in items])),
            memorised=sum(c.exposure_bits >= ceiling - MEMORISED_MARGIN_BITS for c in items))

    out = [group(0, controls)] if controls else []
    for reps in sorted({c.repetitions for c in canaries}):
        out.append(group(reps, [c for c in canaries if c.repetitions == reps]))
    return out


# ---- extraction ----------------------------------------------------------------------------------------------

def _extraction(target, base, canaries: CanaryFile, request: AuditRequest,
                timings: dict[str, float]) -> tuple[ExtractionResult, set[str]]:
    from hf_anon_mcp.audit.extraction import (count_types, free_generations, masked, original_values,
                                              probe_canaries, probe_original, values_in)
    from hf_anon_mcp.engine.detect import find_in_texts

    config = _engine_config(request)
    probe = probe_canaries(target, canaries, max_new_tokens=request.max_new_tokens, samples=request.samples,
                           seed=request.seed)
    free = free_generations(target, samples=request.samples, max_new_tokens=request.max_new_tokens * 2,
                            seed=request.seed + 1)
    generations = probe.generations + free
    canary_values = {c.value for c in canaries.canaries}
    control_values = {c.value for c in canaries.controls}
    original = None
    if request.original:
        started = time.perf_counter()
        texts = _read_texts(request.original, _text_column(request, canaries), request.max_rows)
        values = original_values(texts, config, limit=request.max_original_values)
        emitted = values_in(generations, [v.value for v in values])
        emitted |= probe_original(target, values, max_new_tokens=request.max_new_tokens, seed=request.seed,
                                  batch_size=request.batch_size)
        by_base = None
        if base is not None:
            probed = [v for v in values if v.value in emitted]
            by_base = probe_original(base, probed, max_new_tokens=request.max_new_tokens, seed=request.seed,
                                     batch_size=request.batch_size)
        leaked = [v for v in values if v.value in emitted and (by_base is None or v.value not in by_base)]
        original = OriginalLeak(
            values_checked=len(values), values_emitted=len(emitted),
            values_emitted_by_base=None if by_base is None else len(by_base), leaked=len(leaked),
            by_type=dict(sorted({t: sum(v.entity_type == t for v in leaked)
                                 for t in {v.entity_type for v in leaked}}.items())),
            samples=masked(leaked))
        timings["original_probe"] = round(time.perf_counter() - started, 3)  # a part of "extraction"
    result = ExtractionResult(
        prompt_words=len(canaries.prefix.split()), generations=len(probe.generations),
        canaries_extracted=len(probe.extracted & canary_values),
        canaries_extracted_greedy=len(probe.greedy & canary_values),
        controls_extracted=len(probe.extracted & control_values),
        format_values_emitted=len(probe.format_values), free_generations=len(free),
        pii_in_generations=count_types(find_in_texts(generations, config)) if generations else {},
        original=original)
    return result, probe.extracted


def _engine_config(request: AuditRequest):
    from hf_anon_mcp.config import get_settings
    from hf_anon_mcp.engine.analyzer import EngineConfig

    settings = get_settings()
    return EngineConfig(model_name=settings.spacy_model, profile=request.profile, language=settings.language, countries=tuple(settings.countries),
                        score_threshold=settings.score_threshold)


# ---- membership ----------------------------------------------------------------------------------------------

def _text_column(request: AuditRequest, canaries: CanaryFile) -> str | None:
    return request.text_column or canaries.text_column


def _read_texts(spec: str, column: str | None, max_rows: int) -> list[str]:
    """The text of the first `max_rows` rows: `column`'s strings (a chat's turns joined by newlines), or every
    text column's when the column is not given or not in this file."""
    from hf_anon_mcp.data.sources import choose_text_columns, iter_batches, limited, open_source, strings_in

    source = open_source(spec)
    columns = [column] if column and column in source.features else choose_text_columns(source.features, None)
    ds, _ = limited(source, max_rows=max_rows)
    texts: list[str] = []
    for batch in iter_batches(source, ds, 256):
        size = len(batch[columns[0]])
        for i in range(size):
            texts.append("\n".join(s for c in columns for s in strings_in(batch[c][i])))
    texts = [t for t in texts if t.strip()]
    if not texts:
        raise InputError(f"no text rows in {spec}")
    return texts


def _membership(target, base, canaries: CanaryFile, request: AuditRequest, cancel) -> MembershipResult:
    from hf_anon_mcp.audit.membership import auc, reference_scores, tpr_at_fpr

    column = _text_column(request, canaries)
    sentences = [canaries.sentence(c.value) for c in canaries.canaries]
    members, non_members, excluded = [], [], 0
    for spec, out in ((request.members, members), (request.non_members, non_members)):
        for text in _read_texts(spec, column, request.max_rows):
            if any(s in text for s in sentences):
                excluded += 1  # a canary row differs in kind from the held-out rows: keep it out of this test
            else:
                out.append(text)
    if not members or not non_members:
        raise InputError("membership inference needs member and non-member rows without canaries")
    texts = members + non_members
    kwargs = dict(max_length=request.max_length, batch_size=request.batch_size, cancel=cancel)
    lt = np.array(target.mean_losses(texts, **kwargs))
    m = len(members)
    loss_auc = auc(-lt[:m], -lt[m:])
    baseline_auc = baseline_tpr = None
    if base is not None:
        lb = np.array(base.mean_losses(texts, **kwargs))
        scores = reference_scores(lt, lb)
        baseline_auc, baseline_tpr = auc(-lb[:m], -lb[m:]), tpr_at_fpr(-lb[:m], -lb[m:], 0.01)
    else:
        scores = -lt
    return MembershipResult(
        members=m, non_members=len(non_members), canary_rows_excluded=excluded, method="reference" if base is not None else "loss",
        auc=_r(auc(scores[:m], scores[m:])), tpr_at_1pct_fpr=_r(tpr_at_fpr(scores[:m], scores[m:], 0.01)),
        baseline_auc=None if baseline_auc is None else _r(baseline_auc),
        baseline_tpr_at_1pct_fpr=None if baseline_tpr is None else _r(baseline_tpr),
        loss_auc=_r(loss_auc), mean_loss_members=_r(float(lt[:m].mean()), 4),
        mean_loss_non_members=_r(float(lt[m:].mean()), 4))


# ---- verdict -------------------------------------------------------------------------------------------------

def _stands_out(group: ExposureGroup, canaries: list[CanaryResult], controls: list[ControlResult],
                control_mean: float) -> bool:
    """A repetition group whose exposures sit `EXCESS_BITS` above the controls' mean, and above the controls
    themselves by a one-sided Mann-Whitney test at 1% (with a handful of canaries a 2-bit gap of means alone
    happens by chance a few times in a hundred)."""
    from scipy.stats import mannwhitneyu

    mine = [c.exposure_bits for c in canaries if c.repetitions == group.repetitions]
    if not controls or group.mean_exposure_bits - control_mean < EXCESS_BITS:
        return False
    return float(mannwhitneyu(mine, [c.exposure_bits for c in controls], alternative="greater").pvalue) < 0.01


def _verdict(groups: list[ExposureGroup], canaries: list[CanaryResult], controls: list[ControlResult],
             extraction: ExtractionResult, membership: MembershipResult | None, ceiling: float) -> tuple[bool, str]:
    """A few plain sentences: what leaked, how sure we are, what to do."""
    control = next((g for g in groups if g.repetitions == 0), None)
    control_mean = control.mean_exposure_bits if control else 1 / np.log(2)
    findings, fine = [], []
    for g in groups:
        if g.repetitions > 0 and (g.memorised or _stands_out(g, canaries, controls, control_mean)):
            findings.append(f"canaries seen {g.repetitions}x: {g.memorised} of {g.count} memorised, mean exposure "
                            f"{g.mean_exposure_bits:.1f} bits vs {control_mean:.1f} for never-seen controls "
                            f"(ceiling {ceiling:.1f})")
    if not findings:
        top = max((g for g in groups if g.repetitions > 0), key=lambda g: g.repetitions, default=None)
        if top:
            fine.append(f"canaries rank like never-seen controls (seen {top.repetitions}x: mean exposure "
                        f"{top.mean_exposure_bits:.1f} bits vs {control_mean:.1f})")
    if extraction.canaries_extracted > extraction.controls_extracted:
        findings.append(f"{extraction.canaries_extracted} of {len(canaries)} canaries were written out verbatim "
                        f"after the prompt ({extraction.canaries_extracted_greedy} greedily), "
                        f"{extraction.controls_extracted} controls")
    else:
        fine.append("no canary was written out after its prompt")
    orig = extraction.original
    if orig is not None:
        if orig.leaked:
            findings.append(f"{orig.leaked} of {orig.values_checked} PII values of the original data were written "
                            f"by the model ({', '.join(f'{t} {n}' for t, n in orig.by_type.items())})")
        else:
            fine.append(f"none of {orig.values_checked} PII values of the original data was written by the model")
    mi_note = ""
    if membership is not None:
        base_auc = membership.baseline_auc if membership.baseline_auc is not None else 0.5
        line = (f"membership AUC {membership.auc:.2f} (blind baseline {base_auc:.2f}), "
                f"TPR {membership.tpr_at_1pct_fpr:.2f} at 1% FPR")
        if membership.auc - base_auc >= MI_AUC_MARGIN or membership.tpr_at_1pct_fpr >= 0.05:
            mi_note = (f" Membership signal: {line}: an attacker can tell some training rows from unseen ones; "
                       "fewer epochs, deduplication or differential-privacy training reduce it.")
        else:
            fine.append(line)
    leak = bool(findings)
    if leak:
        text = ("LEAK: " + "; ".join(findings) + ". The model memorises rare strings of its training data: what "
                "the anonymizer missed can come out the same way. Do not publish it as is; train for fewer epochs, "
                "deduplicate, or use differential privacy, then audit again.")
    else:
        text = "No leak found: " + "; ".join(fine) + "."
    return leak, text + mi_note
