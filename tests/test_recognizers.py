"""Each of our PII recognizers and false-positive rules, on made-up examples."""

from __future__ import annotations

import pytest

from hf_anon_mcp.engine.analyzer import EngineConfig
from hf_anon_mcp.engine.detect import analyze_texts
from hf_anon_mcp.engine.addresses import StreetAddressRecognizer
from hf_anon_mcp.engine.names import GazetteerNameRecognizer, HandleRecognizer, TitledNameRecognizer, first_names
from hf_anon_mcp.engine.recognizers import AnyCardNumberRecognizer

PATTERNS = EngineConfig(patterns_only=True)


def _found(recognizer, text: str, entity: str) -> list[str]:
    return [text[r.start:r.end] for r in recognizer.analyze(text, [entity], None) if r.score >= 0.4]


@pytest.mark.parametrize("text,expected", [
    ("ship to 1668 Glyn St today", "1668 Glyn St"),
    ("at 14 Crown Street, Suite 321 in town", "14 Crown Street, Suite 321"),
    ("Brucker Bundesstrasse 31 is the office", "Brucker Bundesstrasse 31"),
    ("wohnt in der Pfarrgasse 91", "Pfarrgasse 91"),
    ("mail to PSC 0413, Box 8144 APO AA 42323", "PSC 0413, Box 8144 APO AA 42323"),
    ("Springfield, IL 62704", "IL 62704"),
])
def test_street_addresses(text, expected):
    assert expected in _found(StreetAddressRecognizer(), text, "STREET_ADDRESS")


def test_no_address_in_plain_numbers():
    assert _found(StreetAddressRecognizer(), "We sold 300 units in 2021 and 45 more", "STREET_ADDRESS") == []


def test_handles_but_not_emails():
    text = "thanks @jack_smith and @Mary_99! write to bob@example.com"
    assert _found(HandleRecognizer(), text, "PERSON") == ["@jack_smith", "@Mary_99"]


def test_titled_names():
    text = "Dr. Alan Ruiz met Mrs. Smith and Prof Ana B. Lopes"
    assert _found(TitledNameRecognizer(), text, "PERSON") == ["Dr. Alan Ruiz", "Mrs. Smith", "Prof Ana B. Lopes"]


def test_gazetteer_names_need_a_known_first_name_and_a_capitalised_word():
    assert len(first_names()) > 5000 and "marisol" in first_names() and "will" not in first_names()
    text = "Marisol Quintanilla called. Will Power is a word pair. The Road Ahead."
    assert _found(GazetteerNameRecognizer(), text, "PERSON") == ["Marisol Quintanilla"]


@pytest.mark.parametrize("number,valid", [("2623322164608847", True), ("4393889199179061388", True),
                                          ("5845 2879 2610", True), ("1234 5678 9012 3456", False),
                                          ("0000 0000 0000 0000", False)])
def test_any_card_number_is_luhn_checked(number, valid):
    found = [r for r in AnyCardNumberRecognizer().analyze(f"card {number}", ["CREDIT_CARD"], None) if r.score > 0.5]
    assert bool(found) is valid


def test_ner_false_positives_are_dropped():
    results = analyze_texts(["Please send your IBAN and SSN to the office"], EngineConfig())[0]
    assert [r.entity_type for r in results if r.entity_type in ("ORGANIZATION", "PERSON")] == []


def test_email_domain_is_not_a_separate_url():
    results = analyze_texts(["reach ingrid.vh@example.com now"], PATTERNS)[0]
    assert [r.entity_type for r in results] == ["EMAIL_ADDRESS"]
