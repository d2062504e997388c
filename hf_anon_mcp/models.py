"""The typed vocabulary shared by the engine, the workflows and both faces (CLI and MCP).

Reports carry counts, entity types, columns, scores and masked samples; raw values appear only when a caller
asked for them explicitly (`raw_samples_included` says so).
"""

from __future__ import annotations

from enum import Enum
from typing import Literal

from pydantic import BaseModel, Field, field_validator, model_validator

Profile = Literal["fast", "balanced", "thorough"]
PROFILE_DESCRIPTION = "fast (no names), balanced (+ spaCy NER) or thorough (+ Rampart ONNX model)."


class RiskLevel(str, Enum):
    """How much harm the findings of a column could do if published."""

    none = "none"
    low = "low"
    medium = "medium"
    high = "high"

    @property
    def rank(self) -> int:
        return ["none", "low", "medium", "high"].index(self.value)


class DetectorComponent(BaseModel):
    """One detector that ran: what it is, its version, and the licence and attribution its parts require."""

    name: str = Field(description="'presidio-analyzer', 'spacy-model' or 'rampart'.")
    version: str | None = None
    role: str = Field("", description="What it contributes (rules, NER model, independent token classifier).")
    license: str | None = None
    attribution: str | None = Field(None, description="Credit required by the licence of model weights.")


class DetectorInfo(BaseModel):
    """What produced the findings, so a report (and a dataset card) can name it."""

    presidio_version: str
    profile: Profile = Field("balanced", description="The detection profile: fast, balanced or thorough.")
    detectors: list[DetectorComponent] = Field(
        default_factory=list, description="Every detector that ran, with its version (and licence credits).")
    mode: str = Field(description="'ner' (spaCy NER + patterns; profiles balanced and thorough) or "
                                  "'patterns-only' (profile fast). Kept for older readers; see `profile`.")
    model_name: str | None = Field(None, description="spaCy pipeline name, None in patterns-only mode.")
    model_version: str | None = None
    spacy_version: str | None = None
    language: str = "en"
    score_threshold: float
    cannot_detect: list[str] = Field(
        default_factory=list, description="Entity types this mode cannot find (e.g. names without NER)."
    )

    @model_validator(mode="after")
    def _profile_of_old_reports(self):
        """Reports written before profiles existed say only `mode`: a patterns-only one was profile fast."""
        if "profile" not in self.model_fields_set and self.mode == "patterns-only":
            self.profile = "fast"
        return self


class EntityStat(BaseModel):
    """Findings of one entity type in one column."""

    entity_type: str
    count: int = Field(description="Spans found.")
    rows_affected: int = Field(description="Rows with at least one span of this type.")
    mean_score: float
    samples: list[str] = Field(default_factory=list, description="Masked samples (raw only on request).")


class ColumnReport(BaseModel):
    """Findings in one text column (nested strings, e.g. chat messages, count under their top-level column)."""

    column: str
    rows_with_text: int
    entities: list[EntityStat] = Field(default_factory=list)
    risk: RiskLevel = RiskLevel.none

    def entity(self, entity_type: str) -> EntityStat | None:
        return next((e for e in self.entities if e.entity_type == entity_type), None)


class SecretStat(BaseModel):
    """A kind of credential found in a column: these should be rotated, not just removed."""

    column: str
    entity_type: str
    count: int
    samples: list[str] = Field(default_factory=list)


class ScanReport(BaseModel):
    """What `scan` found, column by column, with a risk level and recommended actions."""

    report_id: str
    source: str = Field(description="The source as given (path or repo id).")
    rows_scanned: int
    rows_total: int | None = Field(None, description="Rows in the source, when known without reading it all.")
    text_columns: list[str]
    columns: list[ColumnReport]
    secrets: list[SecretStat] = Field(default_factory=list)
    overall_risk: RiskLevel
    recommendations: list[str] = Field(default_factory=list)
    detector: DetectorInfo
    raw_samples_included: bool = False
    elapsed_s: float
    rows_per_s: float
    column_decisions: list["ColumnDecision"] = Field(default_factory=list,
                                                     description="What anonymize would make of each column.")
    kept_frequent_terms: list["KeptTerm"] = Field(default_factory=list)
    propagation_candidates: int = Field(0, description="Distinct values anonymize would replace everywhere.")

    def column(self, name: str) -> ColumnReport | None:
        return next((c for c in self.columns if c.column == name), None)

    def entity_totals(self) -> dict[str, int]:
        """Entity type -> spans found, over all columns."""
        totals: dict[str, int] = {}
        for col in self.columns:
            for stat in col.entities:
                totals[stat.entity_type] = totals.get(stat.entity_type, 0) + stat.count
        return totals


class Progress(BaseModel):
    """A progress event of a long run: the CLI shows a bar, the MCP face sends a notification."""

    stage: str
    done: int
    total: int | None = None
    message: str = ""


class ScanRequest(BaseModel):
    """What to scan and how; shared by the CLI, the MCP tool and library callers."""

    source: str = Field(description="A .csv/.json/.jsonl/.parquet file, a folder, or a Hub dataset id 'user/name'.")
    columns: list[str] | None = Field(None, description="Text columns to scan; default: every column holding text.")
    config_name: str | None = Field(None, description="Hub dataset config (subset).")
    split: str | None = Field(None, description="Split to read (default 'train').")
    max_rows: int | None = Field(None, ge=1, description="Scan only the first N rows (quick look at big data).")
    sample: int | None = Field(None, ge=1, description="Scan a random sample of N rows instead of the first ones.")
    profile: Profile = Field("balanced", description=PROFILE_DESCRIPTION)
    patterns_only: bool = Field(False, description="Deprecated alias of profile='fast'.",
                                json_schema_extra={"deprecated": True})
    include_raw_samples: bool = Field(False, description="Show raw values in samples. Leave off unless needed.")
    entities: list[str] | None = Field(None, description="Entity types to look for (default: all).")
    score_threshold: float | None = Field(None, ge=0.0, le=1.0, description="Minimum finding score.")
    num_proc: int = Field(1, ge=1, le=64, description="Worker processes (each loads the model once).")
    batch_size: int = Field(256, ge=1, le=100_000, description="Rows per batch.")

    @model_validator(mode="after")
    def _profile_alias(self):
        return _sync_profile(self)


def _sync_profile(request):
    """`patterns_only=True` is the old spelling of `profile='fast'`; afterwards both fields agree."""
    if request.patterns_only:
        if "profile" in request.model_fields_set and request.profile != "fast":
            raise ValueError(f"patterns_only (deprecated alias of profile 'fast') contradicts profile "
                             f"'{request.profile}'; give only profile")
        request.profile = "fast"
    request.patterns_only = request.profile == "fast"
    return request


class ReplacedStat(BaseModel):
    """Spans of one entity type replaced in one column, and how."""

    column: str
    entity_type: str
    count: int
    operator: str


class AnonymizeRequest(BaseModel):
    """What to anonymize, where to write it and how; shared by the CLI, the MCP tool and library callers."""

    source: str = Field(description="Same sources as scan: a file, a folder, or a Hub dataset repo id.")
    output: str = Field(description="Output path: .parquet, .jsonl, .csv or a folder (save_to_disk).")
    columns: list[str] | None = Field(None, description="Text columns to anonymize; default: all text columns.")
    config_name: str | None = None
    split: str | None = None
    operator: str | None = Field(None, description="placeholder, numbered, redact, mask, hash, encrypt or surrogate.")
    policy: str | dict | None = Field(None, description="'default' (direct ids, birth dates, secrets), 'strict' "
                                       "(+ places, orgs, dates) or a policy object.")
    policy_file: str | None = Field(None, description="Path of a JSON/YAML policy file.")
    entities: list[str] | None = Field(None, description="Replace only these types (secrets always).")
    profile: Profile = Field("balanced", description=PROFILE_DESCRIPTION)
    patterns_only: bool = Field(False, description="Deprecated alias of profile='fast'.",
                                json_schema_extra={"deprecated": True})
    overwrite: bool = Field(False, description="Replace an existing output.")
    verify: Literal["sample", "full", "off"] = Field(
        "sample", description="sample (second detector on a sample), full or off.")
    max_rows: int | None = Field(None, ge=1)
    num_proc: int | None = Field(None, ge=1, le=64, description="Worker processes (default: by size).")
    batch_size: int = Field(256, ge=1, le=100_000)
    include_raw_terms: bool = Field(False, description="Name kept frequent terms.")
    engine: Literal["local", "ray"] = Field("local", description="local: worker processes here; ray: a Ray "
                                            "cluster (output: a folder of shards).")
    ray_address: str | None = Field(None, description="Ray cluster address (default: start a local Ray).")
    resume: bool = Field(False, description="Ray: reuse shards of an interrupted run.")
    plant_canaries: int = Field(0, ge=0, le=1000, description="Canaries to plant, for audit_finetune.")
    canary_repetitions: list[int] = Field(default_factory=lambda: [1, 4, 16], description="Copies per canary.")
    canary_column: str | None = Field(None, description="Column for canaries.")

    @field_validator("verify", mode="before")
    @classmethod
    def _verify_bool(cls, v):
        return {True: "sample", False: "off"}.get(v, v) if isinstance(v, bool) else v

    @model_validator(mode="after")
    def _profile_alias(self):
        return _sync_profile(self)


class ColumnDecision(BaseModel):
    """What the dataset-wide decide pass made of a column, and why."""

    column: str
    kind: str = Field(description="identifier, structured_pii, free_text, short_text, categorical, timestamp, "
                                  "policy or empty.")
    entity: str | None = Field(None, description="For structured PII: the entity every cell holds.")
    action: str = Field(description="keep (untouched; secrets still replaced), replace_cells (every cell), spans "
                                    "(span-level decisions) or drop.")
    reason: str


class KeptTerm(BaseModel):
    """A detected name or organisation that recurs across the dataset in many contexts (a product, the company, a
    template phrase) and was kept. The term itself only on explicit request."""

    rows: int
    share: float
    term: str | None = None


class VerificationResult(BaseModel):
    """What verification checked with other eyes, and how sure it is. Never 'none': a bound at 95%."""

    propagation_survivors: int = Field(0, description="Replaced values still found anywhere in the output.")
    survivor_types: dict[str, int] = Field(default_factory=dict)
    sample_checked: bool = Field(False, description="Did the independent detector look at a sample?")
    sample_detector: str | None = None
    sample_rows: int = 0
    sample_rows_with_direct: int = 0
    sample_share: float | None = None
    sample_ci95: tuple[float, float] | None = Field(None, description="Wilson 95% interval of the share.")
    sample_types: dict[str, int] = Field(default_factory=dict)
    sample_examples: list[str] = Field(default_factory=list, description="Masked.")
    sample_note: str = ""
    sample_seconds: float = Field(0.0, description="Wall seconds the independent sample check took.")
    sample_window_chars: int | None = Field(None, description="Sampled texts longer than this were read in one "
                                                               "random window of this many characters.")
    structure_ok: bool = True
    structure_note: str = ""
    full_rescan: bool = False
    verdict: str = ""


class AnonymizeReport(BaseModel):
    """What `anonymize` wrote and changed, and what its verification re-scan still found (masked)."""

    report_id: str
    source: str
    output_path: str
    output_format: str
    rows_in: int
    rows_out: int
    columns_anonymized: list[str]
    columns_dropped: list[str] = Field(default_factory=list)
    columns_kept: list[str] = Field(default_factory=list, description="Left untouched by policy.")
    whole_cell_columns: dict[str, str] = Field(default_factory=dict, description="Column -> entity of every cell.")
    replaced: list[ReplacedStat] = Field(default_factory=list)
    operators: dict[str, str] = Field(default_factory=dict, description="Entity type -> operator applied.")
    default_operator: str
    surrogates_consistent: bool = Field(False, description="Surrogates/numbers are keyed and consistent.")
    surrogate_key_source: str | None = Field(None, description="Where the key came from (env or a key file); "
                                                               "never the key itself.")
    residual: list[ColumnReport] = Field(default_factory=list, description="Verification re-scan findings.")
    residual_risk: RiskLevel = RiskLevel.none
    residual_note: str = ""
    verification_report_id: str | None = None
    detector: DetectorInfo
    elapsed_s: float
    rows_per_s: float
    policy_level: str = "default"
    secrets_kept: bool = Field(False, description="The policy kept credentials (keep_secrets: true).")
    column_decisions: list[ColumnDecision] = Field(default_factory=list)
    kept: list[ReplacedStat] = Field(default_factory=list, description="Findings reported and kept by the policy.")
    kept_frequent_terms: list[KeptTerm] = Field(default_factory=list)
    propagated: list[ReplacedStat] = Field(default_factory=list, description="Occurrences replaced because the "
                                           "same value was found elsewhere in the dataset.")
    verification: VerificationResult | None = None
    canaries_planted: int = Field(0, description="Canaries planted (their values are only in the canary file).")
    canary_rows: int = Field(0, description="Rows added to the output for the canaries.")
    canary_file: str | None = None

    def replaced_totals(self) -> dict[str, int]:
        totals: dict[str, int] = {}
        for stat in self.replaced:
            totals[stat.entity_type] = totals.get(stat.entity_type, 0) + stat.count
        return totals


ScanReport.model_rebuild()
