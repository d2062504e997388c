"""The audit's typed vocabulary: what to audit (`AuditRequest`) and what was found (`AuditReport`).

The report names canaries by id only and shows detected PII masked: it is meant to be pasted into a model card,
an issue or a chat with an assistant, none of which may see a canary's value or a person's data.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from hf_anon_mcp.models import PROFILE_DESCRIPTION, Profile


class AuditRequest(BaseModel):
    """Which fine-tuned model to audit, against which canaries and data; shared by the CLI, the MCP tool and
    library callers."""

    model: str = Field(description="Fine-tuned model: a folder or a Hub repo id.",
                       min_length=1, max_length=4096)
    canaries: str = Field(description="OUTPUT.canaries.json from anonymize.",
                          min_length=1, max_length=4096)
    base_model: str | None = Field(None, description="The model it was fine-tuned from (reference).",
                                   max_length=4096)
    members: str | None = Field(None, description="Training rows (a data file), for membership.", max_length=4096)
    non_members: str | None = Field(None, description="Held-out rows of the same kind.",
                                    max_length=4096)
    original: str | None = Field(None, description="Data before anonymization: its PII emitted is reported.", max_length=4096)
    text_column: str | None = Field(None, description="Text column of those files (default: canary file's).", max_length=200)
    candidates: int = Field(1000, ge=20, le=1_000_000, description="K random candidates each canary is ranked against.")
    max_rows: int = Field(250, ge=1, le=1_000_000, description="Rows read per data file.")
    max_length: int = Field(128, ge=8, le=8192, description="Tokens scored per row.")
    max_new_tokens: int = Field(32, ge=4, le=1024, description="Tokens generated per prompt.")
    samples: int = Field(32, ge=0, le=10_000, description="Sampled generations per probe.")
    max_original_values: int = Field(200, ge=0, le=100_000, description="Original PII values probed.")
    batch_size: int = Field(16, ge=1, le=4096, description="Sequences per forward pass.")
    device: str = Field("auto", pattern=r"^(auto|cpu|cuda(:\d+)?|mps)$",
                        description="auto: a GPU if any, else CPU.")
    threads: int | None = Field(None, ge=1, le=256, description="CPU threads for torch.")
    profile: Profile = Field("balanced", description=PROFILE_DESCRIPTION)
    seed: int = Field(0, description="Seed of candidates and sampling.")


class CanaryResult(BaseModel):
    id: str
    repetitions: int
    rank: int = Field(description="1 + candidates the model finds more likely than this canary.")
    exposure_bits: float = Field(description="log2(K+1) - log2(rank).")
    exposure_skewnorm_bits: float = Field(description="-log2 CDF under a skew-normal fitted to the candidates.")
    extracted: bool = Field(description="Reproduced verbatim after the format's prompt (greedy or sampled).")


class ControlResult(BaseModel):
    id: str
    rank: int
    exposure_bits: float
    exposure_skewnorm_bits: float
    extracted: bool


class ExposureGroup(BaseModel):
    """Mean exposure of the canaries planted `repetitions` times (0 = the controls)."""

    repetitions: int
    count: int
    mean_exposure_bits: float
    mean_skewnorm_bits: float
    memorised: int = Field(description="How many reach the top 2 ranks (exposure >= log2(K+1) - 1).")


class MembershipResult(BaseModel):
    members: int
    non_members: int
    canary_rows_excluded: int = Field(0, description="Rows holding a planted canary, left out (they differ in "
                                      "kind from held-out rows, which would inflate the AUC).")
    method: Literal["reference", "loss"] = Field(description="'reference': score = L_base - L_target; 'loss' (no "
                                                 "base model given): score = -L_target.")
    auc: float
    tpr_at_1pct_fpr: float
    baseline_auc: float | None = Field(None, description="Blind baseline: the base model in the target's place "
                                       "(score = -L_base); ~0.5 unless members and non-members differ in kind.")
    baseline_tpr_at_1pct_fpr: float | None = None
    loss_auc: float = Field(description="The reference-free loss attack on the target (score = -L_target).")
    mean_loss_members: float
    mean_loss_non_members: float


class OriginalLeak(BaseModel):
    """Raw values of the original (pre-anonymization) data that the model writes; shown masked."""

    values_checked: int
    values_emitted: int = Field(description="Emitted by the fine-tuned model, given their own context or freely.")
    values_emitted_by_base: int | None = Field(None, description="Of those, also emitted by the base model (so "
                                               "not learnt from this data); None without a base model.")
    leaked: int = Field(description="Emitted by the fine-tuned model and not by the base model.")
    by_type: dict[str, int] = Field(default_factory=dict, description="Leaked values per entity type.")
    samples: list[str] = Field(default_factory=list, description="Masked samples of leaked values.")


class ExtractionResult(BaseModel):
    prompt_words: int = Field(description="Words of the canary format's prompt (its text is in canary_format).")
    generations: int = Field(description="Continuations of the canary prompt: 1 greedy + sampled.")
    canaries_extracted: int
    canaries_extracted_greedy: int
    controls_extracted: int
    format_values_emitted: int = Field(description="Distinct values of the canary format written after the prompt.")
    free_generations: int = Field(description="Sampled generations from an empty prompt, scanned for PII.")
    pii_in_generations: dict[str, int] = Field(default_factory=dict,
                                               description="Findings of our detector in all generations, by type.")
    original: OriginalLeak | None = None


class AuditReport(BaseModel):
    """What the audit found. Canaries by id only; PII masked; no raw value anywhere."""

    report_id: str
    model: str
    base_model: str | None
    canary_format: str = Field(description="The format with '#' for each digit (no value).")
    candidates: int
    exposure_ceiling_bits: float = Field(description="log2(K+1): the largest rank exposure K candidates can show.")
    chance_exposure_bits: float = Field(description="Expected rank exposure of a value never seen (~1.44).")
    canaries: list[CanaryResult]
    controls: list[ControlResult]
    exposure_by_repetitions: list[ExposureGroup]
    membership: MembershipResult | None = None
    extraction: ExtractionResult
    leak: bool = Field(description="True when the audit found memorised canaries, extracted canaries or leaked "
                       "original values.")
    verdict: str
    device: str
    timings_s: dict[str, float] = Field(default_factory=dict)
