"""Entity vocabulary: how risky each entity type is, and which are direct identifiers."""

from __future__ import annotations

from functools import lru_cache

from hf_anon_mcp.models import RiskLevel

QUASI_IDENTIFIERS = frozenset({
    "LOCATION", "DATE_TIME", "NRP", "ORGANIZATION", "AGE", "ZIP_CODE", "TITLE", "URL", "MAC_ADDRESS",
})
LOW_RISK = frozenset({"UUID"})
# Dates next to "born", "DOB", or in a date-of-birth column: a direct identifier, unlike other dates.
DATE_OF_BIRTH = "DATE_OF_BIRTH"


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

def is_direct(entity_type: str) -> bool:
    """A direct identifier (a person, contact, national or financial id, a date of birth, a secret): the default
    policy replaces these; quasi-identifiers and low-risk types are reported and kept."""
    return risk_of(entity_type) is RiskLevel.high


# What NER finds and patterns cannot: the patterns-only report says so.
NER_ONLY_ENTITIES = ("PERSON", "LOCATION", "ORGANIZATION", "NRP", "DATE_TIME")
# Types our own recognizers or policies may name beyond Presidio's predefined ones.
EXTRA_ENTITIES = frozenset({"STREET_ADDRESS", "ADDRESS", "ZIP_CODE", "AGE", "TITLE", "DENY_LIST", DATE_OF_BIRTH})


@lru_cache(maxsize=1)
def known_entities() -> frozenset[str]:
    """Every entity type a policy may name: Presidio's predefined (all countries), NER's, our secrets and extras."""
    from presidio_analyzer import RecognizerRegistry
    from presidio_analyzer.nlp_engine import NoOpNlpEngine

    from hf_anon_mcp.engine.secrets import SECRET_ENTITIES

    registry = RecognizerRegistry(supported_languages=["en"])
    registry.load_predefined_recognizers(
        languages=["en"], nlp_engine=NoOpNlpEngine(models=[{"lang_code": "en", "model_name": "none"}])
    )
    predefined = set(registry.get_supported_entities(["en"]))
    return frozenset(predefined | set(NER_ONLY_ENTITIES) | set(SECRET_ENTITIES) | EXTRA_ENTITIES)
