"""Typed inputs and outputs of the card and push workflows (they become the MCP tool schemas).

Like every report of this package they carry counts, entity types, paths and flags, never cell values or tokens.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from hf_anon_mcp.models import AnonymizeReport, RiskLevel, ScanReport


class CardRequest(BaseModel):
    """Write (or rewrite) the privacy section of a dataset or model card from scan / anonymize reports."""

    card_path: str = Field(description="The card file to write (usually README.md); created if missing.")
    card_type: Literal["dataset", "model"] = Field("dataset", description="'dataset' card or 'model' card.")
    scan_report: ScanReport | None = Field(None, description="The scan of the original data (what was found).")
    scan_report_path: str | None = Field(None, description="Path of a JSON file holding a ScanReport.")
    anonymize_report: AnonymizeReport | None = Field(
        None, description="The anonymization (how it was treated, and its verification re-scan).")
    anonymize_report_path: str | None = Field(None, description="Path of a JSON file holding an AnonymizeReport.")
    audit_report_path: str | None = Field(
        None, description="Path of a JSON file from `audit --json` / audit_finetune: its figures go in the card.")
    upload_scan: ScanReport | None = Field(
        None, description="The scan push_private ran on exactly the files it uploads (set by push, not by hand).")
    differential_privacy: bool | None = Field(
        None, description="Whether a model trained on this data used differential privacy (None: not stated).")
    differential_privacy_details: str | None = Field(
        None, max_length=500, description="Free text, e.g. 'DP-SGD, epsilon=8, delta=1e-5'.")
    allow_residual_pii: bool = Field(
        False, description="Record that the push was forced although high-risk findings remained.")


class CardResult(BaseModel):
    """Where the card is and what its privacy section says."""

    path: str
    card_type: str
    section_markdown: str = Field(description="The privacy section only, between its markers.")
    tags: list[str] = Field(description="All tags of the card's YAML metadata after the merge.")
    changed: bool = Field(description="False when the file already held exactly this content.")


class PushRequest(BaseModel):
    """Publish a local dataset file or folder, with its card, to a PRIVATE Hub dataset repo."""

    source: str = Field(description="A data file (uploaded as data/<name>) or a folder (its dataset files are "
                                    "uploaded; other files only when named in include).")
    repo_id: str = Field(description="Target dataset repo 'namespace/name'; created private if missing.")
    card_path: str | None = Field(None, description="Card to upload as README.md (default: the folder's README.md, "
                                                    "or a generated one). Never modified: a copy gets the section.")
    scan_report_path: str | None = Field(None, description="JSON ScanReport of the original data, for the card.")
    anonymize_report_path: str | None = Field(None, description="JSON AnonymizeReport, for the card.")
    make_private: bool = Field(False, description="If the repo exists and is public, make it private first "
                                                  "(otherwise such a push is refused).")
    allow_residual_pii: bool = Field(False, description="Push although high-risk PII/secrets remain; the card "
                                                        "records it. Leave off unless the user decided so.")
    patterns_only: bool = Field(False, description="Pre-upload scan without NER: faster, misses names/places.")
    differential_privacy: bool | None = Field(None, description="Recorded in the card (None: not stated).")
    differential_privacy_details: str | None = Field(None, max_length=500)
    commit_message: str | None = Field(None, max_length=200)
    include: list[str] = Field(default_factory=list, description="Other files of the folder to upload too (e.g. "
                               "LICENSE); scanned first. Never canary, key or env files.")
    confirm: bool = Field(False, description="Without it nothing is uploaded: a preview is returned to show the "
                                             "user first.")


class PushFile(BaseModel):
    """One file that goes (or would go) up."""

    path_in_repo: str
    size: int = Field(description="Bytes (the card: size of the staged copy with its privacy section).")
    kind: Literal["data", "text", "card", "other"]
    rows: int | None = Field(None, description="Rows scanned (data files).")
    scanned: bool = Field(description="False when the file could not be scanned (blocks the push).")


class PushFinding(BaseModel):
    """Spans of one entity type found by the pre-upload scan in one file (and column, for data files)."""

    path_in_repo: str
    column: str | None = None
    entity_type: str
    count: int
    risk: RiskLevel


class PushResult(BaseModel):
    """A preview (confirm=False: nothing left the machine) or the outcome of an upload."""

    repo_id: str
    repo_url: str
    uploaded: bool = Field(description="True only when files were committed to the Hub.")
    repo_existed: bool | None = Field(description="None when a preview could not check the repo (see hub_note).")
    visibility_before: Literal["private", "public", "missing", "unknown"]
    hub_note: str = Field("", description="Why a preview did not check the repo (no token, offline).")
    files: list[PushFile]
    excluded: list[str] = Field(default_factory=list, description="Files never uploaded (hidden, temporary, key, "
                                                                  "env and canary files).")
    not_included: list[str] = Field(default_factory=list, description="Files of the folder that are not part of the "
                                                                      "dataset and not named in include.")
    rows: int = Field(description="Rows in the data files.")
    findings: list[PushFinding] = Field(default_factory=list)
    residual_risk: RiskLevel
    blocking: list[str] = Field(default_factory=list, description="Why the push is (or would be) refused.")
    actions: list[str] = Field(description="What would happen (preview) or what happened, in order.")
    made_private: bool = False
    allow_residual_pii: bool = False
    private: bool | None = Field(None, description="Visibility read back from the Hub after the upload.")
    commit_sha: str | None = None
    commit_url: str | None = None
