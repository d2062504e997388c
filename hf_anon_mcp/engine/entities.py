"""Entity vocabulary: how risky each entity type is, and which are direct identifiers."""

from __future__ import annotations

from hf_anon_mcp.models import RiskLevel

QUASI_IDENTIFIERS = frozenset({
    "LOCATION", "DATE_TIME", "NRP", "ORGANIZATION", "AGE", "ZIP_CODE", "TITLE", "URL", "MAC_ADDRESS",
})
LOW_RISK = frozenset({"UUID"})


def is_secret(entity_type: str) -> bool:
    return entity_type.startswith("SECRET_")


def risk_of(entity_type: str) -> RiskLevel:
    """Direct identifiers, national/financial ids and secrets are high; quasi-identifiers medium.

    Unknown types (new country-specific ids) count as high: wrongly alarming beats wrongly reassuring.
    """
    if entity_type in QUASI_IDENTIFIERS:
        return RiskLevel.medium
    if entity_type in LOW_RISK:
        return RiskLevel.low
    return RiskLevel.high
