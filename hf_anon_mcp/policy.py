"""The anonymization policy: what to look for, how each entity is treated, what happens to each column.

Loadable from JSON or YAML; every mistake (unknown operator or entity, bad key length, missing salt) is a
`PolicyError` with a one-line message that says where.
"""

from __future__ import annotations

import json
import os
from enum import Enum
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from hf_anon_mcp.errors import PolicyError

SALT_ENV = "HF_ANON_MCP_HASH_SALT"
ENCRYPTION_KEY_ENV = "HF_ANON_MCP_ENCRYPTION_KEY"
SURROGATE_SECRET_ENV = "HF_ANON_MCP_SURROGATE_SECRET"


class OperatorName(str, Enum):
    placeholder = "placeholder"  # <PERSON>
    numbered = "numbered"  # <PERSON_1>, consistent across the dataset
    redact = "redact"  # removed
    mask = "mask"  # *********
    hash = "hash"  # salted SHA-256/512 hex
    encrypt = "encrypt"  # AES, reversible by the key owner
    surrogate = "surrogate"  # consistent realistic fake
    keep = "keep"  # left as is (never for secrets)


class OperatorSpec(BaseModel):
    """An operator and its parameters."""

    model_config = ConfigDict(extra="forbid")

    operator: OperatorName = OperatorName.placeholder
    masking_char: str = Field("*", min_length=1, max_length=1)
    hash_type: Literal["sha256", "sha512"] = "sha256"


class ColumnRule(BaseModel):
    """`drop` a column (data minimisation), `keep` it untouched, or treat each whole cell as one `entity`."""

    model_config = ConfigDict(extra="forbid")

    action: Literal["drop", "keep", "entity", "scan"] = "scan"
    entity: str | None = Field(None, description="With action 'entity': the entity type of every cell.")

    @model_validator(mode="after")
    def _entity_needs_type(self) -> "ColumnRule":
        if self.action == "entity" and not self.entity:
            raise ValueError("action 'entity' needs 'entity' (e.g. EMAIL_ADDRESS)")
        return self


def _spec(value) -> OperatorSpec:
    """Accept the short form `"mask"` as well as `{"operator": "mask", ...}`."""
    return OperatorSpec(operator=value) if isinstance(value, str) else OperatorSpec.model_validate(value)


class AnonymizationPolicy(BaseModel):
    """How to anonymize. The default level serves fine-tuning data: direct identifiers, dates of birth and secrets
    are replaced (with `<ENTITY>` placeholders unless an operator says otherwise); quasi-identifiers (places,
    organisations, dates, ages, titles, ZIP codes) and generic URLs are reported and kept. `strict` replaces them too.
    Secrets are replaced under every policy unless `keep_secrets: true` says otherwise, and reports then say so."""

    model_config = ConfigDict(extra="forbid")

    level: Literal["default", "strict"] = Field(
        "default", description="default: direct identifiers, dates of birth, secrets; strict: + quasi-identifiers.")
    keep_secrets: bool = Field(False, description="Keep credentials as they are (never the default; reported).")

    default_operator: OperatorSpec = Field(default_factory=OperatorSpec)
    entity_operators: dict[str, OperatorSpec] = Field(default_factory=dict)
    columns: dict[str, ColumnRule] = Field(default_factory=dict)
    allow_list: list[str] = Field(default_factory=list, description="Terms never treated as PII.")
    deny_list: list[str] = Field(default_factory=list, description="Terms always treated as PII (DENY_LIST).")
    score_threshold: float | None = Field(None, ge=0.0, le=1.0)
    entities: list[str] | None = Field(None, description="Entity types to look for (default: all).")
    language: str = "en"
    surrogate_locale: str = "en_US"
    hash_salt: str | None = Field(None, description=f"Salt for hashing (else ${SALT_ENV}); at least 16 bytes.")
    require_salt: bool = True
    encryption_key: str | None = Field(None, description=f"AES key (else ${ENCRYPTION_KEY_ENV}): 16, 24 or 32 bytes.")

    @field_validator("default_operator", mode="before")
    @classmethod
    def _short_default(cls, v):
        return _spec(v)

    @field_validator("entity_operators", mode="before")
    @classmethod
    def _short_entities(cls, v):
        return {k: _spec(x) for k, x in (v or {}).items()} if isinstance(v, dict) else v

    @field_validator("columns", mode="before")
    @classmethod
    def _short_columns(cls, v):
        if not isinstance(v, dict):
            return v
        return {k: ({"action": x} if isinstance(x, str) else x) for k, x in v.items()}

    @model_validator(mode="after")
    def _check_entities(self) -> "AnonymizationPolicy":
        from hf_anon_mcp.engine.entities import known_entities

        known = known_entities()
        named = set(self.entity_operators) | set(self.entities or []) | {
            r.entity for r in self.columns.values() if r.entity
        }
        unknown = sorted(e for e in named if e not in known and e != "DENY_LIST")
        if unknown:
            raise ValueError(f"unknown entity type(s): {', '.join(unknown)}")
        kept_secrets = [e for e, s in self.entity_operators.items()
                        if e.startswith("SECRET_") and s.operator is OperatorName.keep]
        if kept_secrets and not self.keep_secrets:
            raise ValueError(f"secrets are always replaced; 'keep' is not allowed for {', '.join(kept_secrets)}")
        return self

    def operator_for(self, entity_type: str) -> OperatorSpec:
        """The operator applied to `entity_type`; secrets fall back to placeholders when the default would keep
        or fake them."""
        spec = self.entity_operators.get(entity_type)
        if spec is not None:
            return spec
        if entity_type.startswith("SECRET_") and self.default_operator.operator in (
            OperatorName.keep, OperatorName.surrogate
        ):
            return OperatorSpec(operator=OperatorName.placeholder)
        return self.default_operator

    def replaces(self, entity_type: str) -> bool:
        """Is this entity type replaced (rather than reported and kept) under this policy?"""
        from hf_anon_mcp.engine.entities import is_direct

        if entity_type.startswith("SECRET_"):
            return not self.keep_secrets
        if entity_type == "DENY_LIST":
            return True
        if self.entities:
            return entity_type in self.entities
        return self.level == "strict" or is_direct(entity_type)

    def operators_used(self) -> set[OperatorName]:
        return {self.default_operator.operator} | {s.operator for s in self.entity_operators.values()}

    def salt(self) -> bytes | None:
        value = self.hash_salt or os.environ.get(SALT_ENV)
        return value.encode() if value else None

    def key(self) -> bytes | None:
        value = self.encryption_key or os.environ.get(ENCRYPTION_KEY_ENV)
        return value.encode() if value else None

    def check_secrets(self) -> None:
        """Fail before any work if an operator in use lacks its salt or key (messages never show them)."""
        used = self.operators_used()
        if OperatorName.hash in used:
            salt = self.salt()
            if salt is None and self.require_salt:
                raise PolicyError(f"hash needs a salt: set {SALT_ENV} or the policy's hash_salt",
                                  hint="or set require_salt: false for a random salt per value")
            if salt is not None and len(salt) < 16:
                raise PolicyError(f"hash salt must be at least 16 bytes (got {len(salt)})")
        if OperatorName.encrypt in used:
            key = self.key()
            if key is None:
                raise PolicyError(f"encrypt needs a key: set {ENCRYPTION_KEY_ENV} or the policy's encryption_key")
            if len(key) not in (16, 24, 32):
                raise PolicyError(f"encryption key must be 16, 24 or 32 bytes long (got {len(key)})")


PRESETS = ("default", "strict")


def policy_for_operator(operator: str) -> AnonymizationPolicy:
    """The default policy with another default operator (the CLI's `--operator`)."""
    try:
        return AnonymizationPolicy(default_operator=OperatorSpec(operator=operator))
    except ValidationError:
        choices = ", ".join(o.value for o in OperatorName)
        raise PolicyError(f"unknown operator '{operator}'", hint=f"choose one of: {choices}") from None


def parse_policy(data: dict, *, origin: str = "policy") -> AnonymizationPolicy:
    """Validate a policy document; errors name the field path."""
    if not isinstance(data, dict):
        raise PolicyError(f"{origin}: a policy must be a mapping of settings")
    try:
        return AnonymizationPolicy.model_validate(data)
    except ValidationError as err:
        first = err.errors()[0]
        where = ".".join(_printable(p) for p in first["loc"]) or "(top level)"
        message = first["msg"].removeprefix("Value error, ")
        more = f" (+{len(err.errors()) - 1} more)" if len(err.errors()) > 1 else ""
        raise PolicyError(f"{origin}: invalid policy at {where}: {message}{more}") from None


def _printable(part) -> str:
    """A field path element for a one-line message: control characters escaped, long keys cut."""
    text = str(part).encode("unicode_escape").decode("ascii")
    return text if len(text) <= 40 else text[:37] + "..."


def load_policy(path: str | Path) -> AnonymizationPolicy:
    """Read a JSON or YAML policy file; parse errors say the line (and column)."""
    path = Path(path)
    if not path.is_file():
        raise PolicyError(f"policy file not found: {path.name}")
    text = path.read_text(encoding="utf-8")
    try:
        if path.suffix.lower() == ".json":
            data = json.loads(text)
        else:
            data = yaml.safe_load(text)
    except json.JSONDecodeError as err:
        raise PolicyError(f"policy file {path.name} does not parse: line {err.lineno}, column {err.colno}: "
                          f"{err.msg}") from None
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "unknown position"
        raise PolicyError(f"policy file {path.name} does not parse: {where}: "
                          f"{getattr(err, 'problem', None) or 'invalid YAML'}") from None
    return parse_policy(data or {}, origin=path.name)
