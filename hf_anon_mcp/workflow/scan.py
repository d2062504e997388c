"""The scan workflow: stream a source, find PII and secrets column by column, and report risk and actions."""

from __future__ import annotations

import logging
import pickle
import threading
import time
import uuid
from collections import defaultdict
from collections.abc import Callable

from hf_anon_mcp.config import get_settings
from hf_anon_mcp.data.sources import choose_text_columns, iter_batches, limited, open_source
from hf_anon_mcp.engine.analyzer import EngineConfig, detector_info
from hf_anon_mcp.engine.detect import Finding
from hf_anon_mcp.engine.entities import is_secret, risk_of
from hf_anon_mcp.engine.masking import mask_sample
from hf_anon_mcp.errors import InputError
from hf_anon_mcp.models import (ColumnReport, EntityStat, KeptTerm, Progress, RiskLevel, ScanReport, ScanRequest,
                                SecretStat)
from hf_anon_mcp.decisions.cells import texts_in
from hf_anon_mcp.decisions.decide import Decisions, decide
from hf_anon_mcp.decisions.detect import FINDINGS, STATS, DetectSpec, DetectWorker, stored_findings, warm
from hf_anon_mcp.decisions.stats import DatasetStats
from hf_anon_mcp.policy import AnonymizationPolicy
from hf_anon_mcp.runners.local import LocalRunner

log = logging.getLogger("hf_anon_mcp.scan")

MAX_SAMPLES = 3
WHOLE_CELL = 0.8  # a span covering this share of a cell makes the cell "one entity"

ProgressFn = Callable[[Progress], None]


def engine_config(request: ScanRequest) -> EngineConfig:
    """The engine settings for a request: request fields win over process settings."""
    settings = get_settings()
    threshold = request.score_threshold if request.score_threshold is not None else settings.score_threshold
    return EngineConfig(
        model_name=settings.spacy_model,
        profile=request.profile,
        language=settings.language,
        countries=tuple(settings.countries),
        score_threshold=threshold,
        entities=tuple(request.entities) if request.entities else None,
    )


class _ColumnTally:
    """Counts for one column, built batch by batch."""

    def __init__(self, raw: bool):
        self.raw = raw
        self.rows_with_text = 0
        self.count: dict[str, int] = defaultdict(int)
        self.rows: dict[str, int] = defaultdict(int)
        self.whole_cell_rows: dict[str, int] = defaultdict(int)
        self.score_sum: dict[str, float] = defaultdict(float)
        self.samples: dict[str, list[str]] = defaultdict(list)

    def add_row(self, texts: list[str], findings: list[list[Finding]]) -> None:
        if not any(t.strip() for t in texts):
            return
        self.rows_with_text += 1
        seen: set[str] = set()
        whole: set[str] = set()
        for text, spans in zip(texts, findings):
            stripped = len(text.strip()) or 1
            for f in spans:
                self.count[f.entity_type] += 1
                self.score_sum[f.entity_type] += f.score
                seen.add(f.entity_type)
                if (f.end - f.start) / stripped >= WHOLE_CELL:
                    whole.add(f.entity_type)
                self._sample(f.entity_type, text[f.start:f.end])
        for ent in seen:
            self.rows[ent] += 1
        for ent in whole:
            self.whole_cell_rows[ent] += 1

    def _sample(self, entity_type: str, value: str) -> None:
        shown = value if self.raw else mask_sample(value, entity_type)
        bucket = self.samples[entity_type]
        if len(bucket) < MAX_SAMPLES and shown and shown not in bucket:
            bucket.append(shown)

    def report(self, column: str) -> ColumnReport:
        stats = [
            EntityStat(entity_type=e, count=n, rows_affected=self.rows[e],
                       mean_score=round(self.score_sum[e] / n, 3), samples=self.samples[e])
            for e, n in sorted(self.count.items(), key=lambda kv: -kv[1])
        ]
        risk = max((risk_of(s.entity_type) for s in stats), key=lambda r: r.rank, default=RiskLevel.none)
        return ColumnReport(column=column, rows_with_text=self.rows_with_text, entities=stats, risk=risk)


def _warm(config: EngineConfig) -> None:
    warm(config)


def scan(request: ScanRequest, *, progress: ProgressFn | None = None,
         cancel: threading.Event | None = None) -> ScanReport:
    """Scan a dataset and report findings per column. Reads only; writes nothing.

    >>> report = scan(ScanRequest(source="tickets.csv", max_rows=1000))
    >>> report.overall_risk, report.column("email").entities[0].entity_type
    (<RiskLevel.high: 'high'>, 'EMAIL_ADDRESS')
    """
    started = time.perf_counter()
    config = engine_config(request)
    source = open_source(request.source, config=request.config_name, split=request.split)
    columns = choose_text_columns(source.features, request.columns)
    ds, expected = limited(source, max_rows=request.max_rows, sample=request.sample)
    ds = ds.select_columns(columns)
    tallies = {c: _ColumnTally(request.include_raw_samples) for c in columns}
    stats = DatasetStats()
    spec = DetectSpec(config, tuple(columns))
    rows = 0
    with LocalRunner(request.num_proc, cancel=cancel, initializer=_warm, initargs=(config,)) as runner:
        for out in runner.map(DetectWorker, spec, iter_batches(source, ds, request.batch_size)):
            part = out[STATS][0] if out.get(STATS) else None
            if part is not None:
                stats.merge(pickle.loads(part))
            _tally_stored(tallies, out, columns)
            rows += len(out[FINDINGS])
            if progress:
                progress(Progress(stage="scan", done=rows, total=expected, message=f"scanned {rows} rows"))
    if rows == 0:
        raise InputError(f"dataset is empty: {request.source}")
    decisions = decide(stats, AnonymizationPolicy(), columns)
    elapsed = time.perf_counter() - started
    column_reports = [tallies[c].report(c) for c in columns]
    return ScanReport(
        report_id=f"scan-{uuid.uuid4().hex[:12]}",
        source=request.source,
        rows_scanned=rows,
        rows_total=source.rows_total,
        text_columns=columns,
        columns=column_reports,
        secrets=_secrets(column_reports),
        overall_risk=max((c.risk for c in column_reports), key=lambda r: r.rank, default=RiskLevel.none),
        recommendations=recommend(column_reports, tallies, rows, source.rows_total, decisions),
        column_decisions=list(decisions.columns.values()),
        kept_frequent_terms=[KeptTerm(rows=k.rows, share=k.share, term=k.term if request.include_raw_samples else None)
                             for k in decisions.kept_report[:50]],
        propagation_candidates=len(decisions.propagate),
        detector=detector_info(config),
        raw_samples_included=request.include_raw_samples,
        elapsed_s=round(elapsed, 3),
        rows_per_s=round(rows / elapsed, 1) if elapsed else 0.0,
    )


def _tally_stored(tallies: dict[str, _ColumnTally], batch: dict[str, list], columns: list[str]) -> None:
    """Count a detected batch's stored findings per column and row (nested strings count under their column)."""
    for row, encoded in enumerate(batch[FINDINGS]):
        found: dict[tuple[int, int], list[Finding]] = {}
        for ci, ti, entity, start, end, score, _det in stored_findings(encoded):
            found.setdefault((ci, ti), []).append(Finding(entity, start, end, score))
        for ci, col in enumerate(columns):
            texts = list(texts_in(batch[col][row]))
            tallies[col].add_row(texts, [found.get((ci, ti), []) for ti in range(len(texts))])


def _secrets(columns: list[ColumnReport]) -> list[SecretStat]:
    return [
        SecretStat(column=c.column, entity_type=s.entity_type, count=s.count, samples=s.samples)
        for c in columns for s in c.entities if is_secret(s.entity_type)
    ]


def recommend(columns: list[ColumnReport], tallies: dict[str, _ColumnTally], rows: int,
              rows_total: int | None, decisions: Decisions | None = None) -> list[str]:
    """Concrete next steps, most important first: rotate secrets, drop whole-identifier columns, anonymize text.

    Identifier, label and timestamp columns are kept by `anonymize`: no advice to anonymize them."""
    out: list[str] = []
    kept_kinds = {"identifier", "categorical", "timestamp"}
    if decisions is not None:
        kept = [c for c, d in decisions.columns.items() if d.kind in kept_kinds]
        if kept:
            out.append(f"kept as they are by anonymize (ids, labels, timestamps): {', '.join(f'`{c}`' for c in kept)}.")
        columns = [c for c in columns if decisions.columns[c.column].kind not in kept_kinds
                   or any(is_secret(s.entity_type) for s in c.entities)]
    for col in columns:
        secrets = [s for s in col.entities if is_secret(s.entity_type)]
        if secrets:
            kinds = ", ".join(f"{s.entity_type} x{s.count}" for s in secrets)
            out.append(f"column `{col.column}` holds credentials ({kinds}): revoke and rotate them; removing them "
                       "from the data does not undo the leak.")
    for col in columns:
        tally = tallies[col.column]
        whole = [
            (e, tally.whole_cell_rows[e] / col.rows_with_text)
            for e in tally.whole_cell_rows if col.rows_with_text and not is_secret(e)
        ]
        whole = [(e, share) for e, share in whole if share >= 0.9]
        if whole:
            ent, share = max(whole, key=lambda x: x[1])
            out.append(f"column `{col.column}` is {share:.0%} {ent}: drop it if training does not need it, or hash "
                       "it (data minimisation).")
            continue
        high = [s for s in col.entities if risk_of(s.entity_type) is RiskLevel.high and not is_secret(s.entity_type)]
        if high and col.rows_with_text:
            parts = ", ".join(f"{s.entity_type} in {s.rows_affected / col.rows_with_text:.0%} of rows" for s in high[:4])
            out.append(f"anonymize column `{col.column}` ({parts}) with placeholders or consistent surrogates.")
        medium = [s.entity_type for s in col.entities if risk_of(s.entity_type) is RiskLevel.medium]
        if medium:
            out.append(f"review quasi-identifiers in `{col.column}` ({', '.join(medium[:5])}): combined they can "
                       "re-identify people; generalise or remove what training does not need.")
    if rows_total and rows < rows_total:
        out.append(f"this scan covered {rows} of {rows_total} rows: scan everything before publishing.")
    if not any(c.entities for c in columns):
        out.append("no PII or secrets found in the scanned rows; detection is statistical, so spot-check samples.")
    return out
