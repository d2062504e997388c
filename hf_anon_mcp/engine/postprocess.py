"""False-positive control applied to Presidio's raw findings, before overlaps are merged."""

from __future__ import annotations

from presidio_analyzer import RecognizerResult

# Technical words the small NER model takes for organisations or people ("IBAN", "SSN", "PIN").
_NOT_NAMES = frozenset({"iban", "ssn", "pin", "cvv", "cvc", "id", "url", "ip", "api", "dob", "vat", "swift", "bic",
                        "atm", "otp", "faq", "pdf", "sms", "gps", "utc", "gmt", "email", "e-mail", "tel", "fax",
                        "zip", "po", "apt", "suite", "n/a"})
_NER_TYPES = frozenset({"PERSON", "ORGANIZATION", "LOCATION", "NRP"})


def refine(text: str, results: list[RecognizerResult]) -> list[RecognizerResult]:
    """Drop NER findings that are technical acronyms or hold no letters (digit groups tagged ORGANIZATION)."""
    kept = []
    for r in results:
        if r.entity_type in _NER_TYPES:
            value = text[r.start:r.end].strip(" .,:;'\"()")
            if value.lower() in _NOT_NAMES or not any(c.isalpha() for c in value):
                continue
        kept.append(r)
    return kept
