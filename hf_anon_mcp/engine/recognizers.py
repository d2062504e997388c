"""Recognizers we add to Presidio's predefined ones, each for a gap measured on the dev data (bench/evaluate.py).

Every recognizer here is a Presidio recognizer (patterns + validation + context words), so scores, context boosts
and allow/deny lists work as users of Presidio expect. All rules are general formats, not lists of dev values.
"""

from __future__ import annotations

from presidio_analyzer import EntityRecognizer, Pattern
from presidio_analyzer.predefined_recognizers import CreditCardRecognizer

from hf_anon_mcp.engine.addresses import build_address_recognizers
from hf_anon_mcp.engine.names import build_name_recognizers
from hf_anon_mcp.engine.quasi import build_quasi_recognizers


class AnyCardNumberRecognizer(CreditCardRecognizer):
    """Card numbers of every issuer range and length (12-19 digits: Maestro, 2-series Mastercard, 19-digit Visa,
    JCB, UnionPay), grouped by spaces or dashes, validated by Presidio's own Luhn check.

    Presidio's pattern only admits numbers starting 1/3/4/5/6 in 13-16 digit shapes, so a quarter of the dev
    file's (valid, Faker-made) card numbers went through untouched.
    """

    PATTERNS = [Pattern("Card number, any issuer (Luhn-checked)", r"\b\d(?:[ -]?\d){11,18}\b", 0.3)]

    def __init__(self) -> None:
        super().__init__(patterns=self.PATTERNS, name="AnyCardNumberRecognizer")

    def validate_result(self, pattern_text: str) -> bool:
        digits = EntityRecognizer.sanitize_value(pattern_text, self.replacement_pairs)
        if len(set(digits)) < 3:  # 0000 0000 0000 0000 and friends are not cards
            return False
        return super().validate_result(pattern_text)


def build_extra_recognizers() -> list[EntityRecognizer]:
    """Our PII recognizers (secrets live in `engine.secrets`)."""
    return [AnyCardNumberRecognizer(), *build_address_recognizers(), *build_name_recognizers(),
            *build_quasi_recognizers()]
