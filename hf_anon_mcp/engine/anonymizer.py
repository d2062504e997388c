"""Replace detected spans with Presidio's `AnonymizerEngine`, our operators plugged in, one engine per process."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from functools import lru_cache

from presidio_analyzer import RecognizerResult
from presidio_anonymizer import AnonymizerEngine
from presidio_anonymizer.entities import OperatorConfig

from hf_anon_mcp.engine.operators import NumberedPlaceholder, Surrogate
from hf_anon_mcp.policy import AnonymizationPolicy, OperatorName, OperatorSpec


@dataclass
class OperatorPlan:
    """Everything a worker needs to apply a policy: picklable, secrets held in memory only."""

    policy: AnonymizationPolicy
    surrogate_secret: bytes = b""
    number_secret: bytes = b""
    _cache: dict[str, OperatorConfig] = field(default_factory=dict, repr=False)

    def config_for(self, entity_type: str) -> OperatorConfig:
        if entity_type not in self._cache:
            self._cache[entity_type] = self._build(entity_type, self.policy.operator_for(entity_type))
        return self._cache[entity_type]

    def operator_name(self, entity_type: str) -> str:
        return self.policy.operator_for(entity_type).operator.value

    def _build(self, entity_type: str, spec: OperatorSpec) -> OperatorConfig:
        op = spec.operator
        if op is OperatorName.placeholder:
            return OperatorConfig("replace", {"new_value": f"<{entity_type}>"})
        if op is OperatorName.redact:
            return OperatorConfig("redact", {})
        if op is OperatorName.mask:
            return OperatorConfig("mask", {"masking_char": spec.masking_char, "chars_to_mask": 1_000_000,
                                           "from_end": False})
        if op is OperatorName.hash:
            salt = self.policy.salt()
            return OperatorConfig("hash", {"hash_type": spec.hash_type, **({"salt": salt} if salt else {})})
        if op is OperatorName.encrypt:
            return OperatorConfig("encrypt", {"key": self.policy.key()})
        if op is OperatorName.surrogate:
            return OperatorConfig("surrogate", {"secret": self.surrogate_secret,
                                                "locale": self.policy.surrogate_locale})
        if op is OperatorName.numbered:
            return OperatorConfig("numbered", {"secret": self.number_secret})
        return OperatorConfig("keep", {})


@lru_cache(maxsize=1)
def get_anonymizer() -> AnonymizerEngine:
    """Presidio's engine with our surrogate and numbered-placeholder operators registered."""
    engine = AnonymizerEngine()
    engine.add_anonymizer(Surrogate)
    engine.add_anonymizer(NumberedPlaceholder)
    return engine


def anonymize_text(text: str, results: list[RecognizerResult], plan: OperatorPlan) -> tuple[str, Counter]:
    """The text with every finding replaced per the plan, and how many spans of each type were replaced."""
    if not results:
        return text, Counter()
    operators = {r.entity_type: plan.config_for(r.entity_type) for r in results}
    out = get_anonymizer().anonymize(text=text, analyzer_results=results, operators=operators,
                                     merge_entities_with_spaces=False)
    return out.text, Counter(item.entity_type for item in out.items)


def whole_cell(text: str, entity_type: str) -> list[RecognizerResult]:
    """A cell that is one entity (an `email` column): the whole stripped string is the span."""
    stripped = text.strip()
    if not stripped:
        return []
    start = text.index(stripped)
    return [RecognizerResult(entity_type, start, start + len(stripped), 1.0)]
