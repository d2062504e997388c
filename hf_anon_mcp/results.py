"""What the MCP tools return: small, capped summaries of the reports (the full ones are `report://{id}`
resources), a job envelope for long runs, and a short Markdown text for people reading along.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from hf_anon_mcp.entity_names import canonical_anonymize, canonical_scan
from hf_anon_mcp.headers import detector_header
from hf_anon_mcp.hub.models import PushResult
from hf_anon_mcp.models import AnonymizeReport, ColumnReport, DetectorInfo, RiskLevel, ScanReport

MAX_COLUMNS = 40
MAX_ENTITIES = 12
MAX_RECOMMENDATIONS = 10


class ColumnSummary(BaseModel):
    """Findings in one column: counts per entity type and masked samples."""

    column: str
    risk: RiskLevel
    rows_with_text: int
    entities: dict[str, int] = Field(description="Entity type -> spans found (top types only).")
    samples: dict[str, list[str]] = Field(default_factory=dict, description="Masked samples per entity type.")


class ScanSummary(BaseModel):
    """What scan_dataset found, column by column (capped; the full report is at report_uri)."""

    report_id: str
    report_uri: str = Field(description="The full report, as an MCP resource.")
    source: str
    rows_scanned: int
    rows_total: int | None
    overall_risk: RiskLevel
    columns: list[ColumnSummary]
    secrets: dict[str, int] = Field(default_factory=dict, description="Secret entity type -> count (all columns).")
    recommendations: list[str]
    detection: str = Field(description="The profile and the detectors that ran; says so when names were not "
                                       "detected.")
    detector: DetectorInfo
    truncated: bool = Field(False, description="True when lists were cut; read report_uri for everything.")


class AnonymizeSummary(BaseModel):
    """What anonymize_dataset wrote and replaced, and what its verification re-scan still found."""

    report_id: str
    report_uri: str
    output_path: str
    output_format: str
    rows_in: int
    rows_out: int
    columns_anonymized: list[str]
    columns_dropped: list[str]
    replaced: dict[str, int] = Field(description="Entity type -> spans replaced (all columns).")
    operators: dict[str, str]
    surrogate_key_source: str | None
    residual_risk: RiskLevel
    residual: dict[str, int] = Field(description="Entity type -> findings of the verification re-scan.")
    residual_note: str
    rows_per_s: float
    detection: str = Field(description="The profile and the detectors that ran; says so when names were not "
                                       "detected.")
    column_types: dict[str, str] = Field(default_factory=dict, description="Column -> what the decide pass made "
                                         "of it (identifier, structured_pii ENTITY, free_text, categorical, ...).")
    kept_frequent_terms: int = Field(0, description="Detected names kept as the dataset's own vocabulary.")
    propagated: int = Field(0, description="Occurrences replaced because the value was found elsewhere.")
    canaries_planted: int = 0
    truncated: bool = False


class JobView(BaseModel):
    """A long tool call: finished (`status` done, with its summary) or still running (follow `job_id`)."""

    job_id: str
    kind: Literal["scan", "anonymize", "push", "audit"]
    status: Literal["running", "done", "failed", "cancelled"]
    done: int = Field(description="Rows processed so far.")
    total: int | None = Field(None, description="Rows expected, when known.")
    message: str = ""
    next_step: str = ""
    scan: ScanSummary | None = Field(None, description="A finished scan.")
    anonymize: AnonymizeSummary | None = Field(None, description="A finished anonymization.")
    push: PushResult | None = Field(None, description="A push preview (uploaded false) or its outcome.")
    audit: dict | None = Field(None, description="A finished leak audit (canaries by id only).")


def _columns(columns: list[ColumnReport], samples: bool) -> tuple[list[ColumnSummary], bool]:
    cut = len(columns) > MAX_COLUMNS
    ranked = sorted(columns, key=lambda c: (-c.risk.rank, -sum(e.count for e in c.entities)))[:MAX_COLUMNS]
    out = []
    for col in ranked:
        top = col.entities[:MAX_ENTITIES]
        cut = cut or len(col.entities) > MAX_ENTITIES
        out.append(ColumnSummary(
            column=col.column, risk=col.risk, rows_with_text=col.rows_with_text,
            entities={e.entity_type: e.count for e in top},
            samples={e.entity_type: e.samples[:2] for e in top} if samples else {},
        ))
    return out, cut


def summarize_scan(report: ScanReport) -> ScanSummary:
    report = canonical_scan(report)
    columns, cut = _columns(report.columns, samples=True)
    secrets: dict[str, int] = {}
    for s in report.secrets:
        secrets[s.entity_type] = secrets.get(s.entity_type, 0) + s.count
    return ScanSummary(
        report_id=report.report_id, report_uri=f"report://{report.report_id}", source=report.source,
        rows_scanned=report.rows_scanned, rows_total=report.rows_total, overall_risk=report.overall_risk,
        columns=columns, secrets=secrets, recommendations=report.recommendations[:MAX_RECOMMENDATIONS],
        detection=detector_header(report.detector), detector=report.detector,
        truncated=cut or len(report.recommendations) > MAX_RECOMMENDATIONS,
    )


def summarize_anonymize(report: AnonymizeReport) -> AnonymizeSummary:
    report = canonical_anonymize(report)
    residual: dict[str, int] = {}
    for col in report.residual:
        for e in col.entities:
            residual[e.entity_type] = residual.get(e.entity_type, 0) + e.count
    return AnonymizeSummary(
        report_id=report.report_id, report_uri=f"report://{report.report_id}", output_path=report.output_path,
        output_format=report.output_format, rows_in=report.rows_in, rows_out=report.rows_out,
        columns_anonymized=report.columns_anonymized[:MAX_COLUMNS], columns_dropped=report.columns_dropped,
        replaced=report.replaced_totals(), operators=report.operators,
        surrogate_key_source=report.surrogate_key_source, residual_risk=report.residual_risk, residual=residual,
        residual_note=report.residual_note, rows_per_s=report.rows_per_s,
        detection=detector_header(report.detector), truncated=len(report.columns_anonymized) > MAX_COLUMNS,
        column_types={d.column: d.kind + (f" {d.entity}" if d.entity else "")
                      for d in report.column_decisions[:MAX_COLUMNS]},
        kept_frequent_terms=len(report.kept_frequent_terms), propagated=sum(p.count for p in report.propagated),
        canaries_planted=report.canaries_planted,
    )


def markdown(view: JobView) -> str:
    """A few lines for people: what happened, the risk, where the full report is, what to do next."""
    if view.status != "done":
        progress = f"{view.done:,}" + (f" of {view.total:,}" if view.total else "") + " rows"
        return f"**{view.kind} {view.status}** ({progress}). {view.message} {view.next_step}".strip()
    if view.scan:
        s = view.scan
        found = ", ".join(f"{k} {v}" for c in s.columns[:5] for k, v in list(c.entities.items())[:3]) or "nothing"
        lines = [f"**Scan of {s.source}**: {s.rows_scanned:,} rows, overall risk **{s.overall_risk.value}**.",
                 f"Detection: {s.detection}.", f"Found: {found}.", *[f"- {r}" for r in s.recommendations[:5]],
                 f"Full report: {s.report_uri}"]
        return "\n".join(lines)
    if view.anonymize:
        a = view.anonymize
        replaced = ", ".join(f"{k} {v}" for k, v in list(a.replaced.items())[:8]) or "nothing"
        return (f"**Anonymized** {a.rows_out:,} rows to `{a.output_path}` ({a.output_format}). Replaced: {replaced}.\n"
                f"Detection: {a.detection}.\n"
                f"Verification: residual risk **{a.residual_risk.value}** ({a.residual_note}).\n"
                f"Full report: {a.report_uri}")
    if view.push:
        p = view.push
        head = "**Pushed** privately to" if p.uploaded else "**Preview** (nothing uploaded) of a push to"
        lines = [f"{head} `{p.repo_id}`: {len(p.files)} files, {p.rows:,} rows, residual risk "
                 f"**{p.residual_risk.value}**.", *[f"- blocked: {b}" for b in p.blocking],
                 *[f"- {a}" for a in p.actions[:6]]]
        return "\n".join(lines)
    if view.audit:
        return f"**Leak audit** of the fine-tuned model: {view.audit.get('verdict', '')}"
    return f"{view.kind} done"
