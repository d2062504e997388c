"""Phone numbers: valid numbers anywhere, phone-shaped numbers after a phone word, and what is not a phone."""

from __future__ import annotations

import pytest

from hf_anon_mcp.engine.analyzer import EngineConfig, phone_regions
from hf_anon_mcp.engine.detect import analyze_texts
from hf_anon_mcp.engine.phones import PhoneNumberRecognizer, valid_in

RECOGNIZER = PhoneNumberRecognizer(phone_regions(("us",)))


def _phones(text: str) -> list[str]:
    return [text[r.start:r.end] for r in RECOGNIZER.analyze(text, ["PHONE_NUMBER"]) if r.score >= 0.4]


@pytest.mark.parametrize("text,expected", [
    ("call me on 2025550143 or write", "2025550143"),  # valid US number, no separators
    ("the office line is (415) 555-2671 today", "(415) 555-2671"),
    ("ask for +44 20 7946 0958 in London", "+44 20 7946 0958"),
    ("Fax: 312-555-0199x4412\n", "312-555-0199x4412"),  # extension kept with the number
    ("Phone:\n418 2207\n\nE-mail:", "418 2207"),  # short local number announced on the line before
    ("Desk: +41 (0)44 668 18 00\n", "+41 (0)44 668 18 00"),
    ("They're not answering at 61-27-38-11", "61-27-38-11"),  # not valid anywhere, but announced
    ("Mobile: 06.12.34.56.78\n", "06.12.34.56.78"),
])
def test_phone_numbers_found_whole(text, expected):
    assert _phones(text) == [expected]


@pytest.mark.parametrize("text", [
    "Logged at 2023-08-12 12:13:52 by the job runner",  # date and time
    "card 4111 1111 1111 1111 expires soon",  # Luhn-valid card run: the card recognizer's
    "order ORD-96813 shipped",  # too few digits
    "IBAN DE89370400440532013000 attached",  # digits inside a code
    "upgrade to version 1.2.3.4567890 first",  # dotted version
    "we sold 1234567 units in 2019",  # a count, not a valid number, no phone word
    "her social security number is 512-44-8391",  # SSN shape, even after "number"
])
def test_not_phones(text):
    assert _phones(text) == []


def test_validation_is_per_region_and_memoized():
    regions = phone_regions(("us",))
    assert valid_in("(415) 555-2671", regions)
    assert not valid_in("123 4567", regions)
    before = valid_in.cache_info().hits
    valid_in("(415) 555-2671", regions)
    assert valid_in.cache_info().hits == before + 1


@pytest.mark.parametrize("patterns_only", [True, False])
def test_engine_uses_it_in_both_modes(patterns_only):
    text = "Name: Ola Nordmann\nPhone: 482 19 337\nE-mail: ola@example.org"
    [found] = analyze_texts([text], EngineConfig(patterns_only=patterns_only))
    spans = {text[r.start:r.end]: r.entity_type for r in found}
    assert spans.get("482 19 337") == "PHONE_NUMBER"
