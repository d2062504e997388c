"""The pattern gate changes speed, not results: a gated recognizer answers exactly as Presidio's own would."""

from __future__ import annotations

import pytest
from presidio_analyzer import Pattern, PatternRecognizer
from presidio_analyzer.predefined_recognizers import CreditCardRecognizer, IpRecognizer

from hf_anon_mcp.engine.analyzer import EngineConfig, get_analyzer
from hf_anon_mcp.engine.gate import gate_pattern_recognizers


def _pairs():
    return [
        (CreditCardRecognizer(), CreditCardRecognizer()),
        (IpRecognizer(), IpRecognizer()),
        (PatternRecognizer("TICKET", patterns=[Pattern("t", r"\bT-\d{4}\b", 0.6)]),
         PatternRecognizer("TICKET", patterns=[Pattern("t", r"\bT-\d{4}\b", 0.6)])),
    ]


@pytest.mark.parametrize("text", [
    "card 4111 1111 1111 1111 and ip 10.0.0.1, ticket T-1234",
    "nothing to see here",
    "",
    "4111111111111112 is not a valid card",
])
def test_gated_recognizers_answer_as_presidio(text):
    for plain, gated in _pairs():
        assert gate_pattern_recognizers([gated]) == 1
        want = [(r.entity_type, r.start, r.end, r.score) for r in plain.analyze(text, plain.supported_entities)]
        got = [(r.entity_type, r.start, r.end, r.score) for r in gated.analyze(text, gated.supported_entities)]
        assert got == want


def test_only_plain_pattern_recognizers_are_gated():
    class Custom(PatternRecognizer):
        def analyze(self, text, entities, nlp_artifacts=None, regex_flags=None):
            return []

    custom = Custom("X", patterns=[Pattern("x", "x", 0.5)])
    assert gate_pattern_recognizers([custom]) == 0
    assert "analyze" not in vars(custom)


def test_the_engine_gates_presidios_pattern_recognizers():
    analyzer = get_analyzer(EngineConfig(patterns_only=True))
    gated = [r.name for r in analyzer.registry.recognizers if "analyze" in vars(r)]
    assert "CreditCardRecognizer" in gated
    found = analyzer.analyze("pay with 4111 1111 1111 1111", language="en", entities=["CREDIT_CARD"])
    assert [r.entity_type for r in found] == ["CREDIT_CARD"]


def test_context_gate_applies_only_where_only_context_can_lift_a_score():
    from presidio_analyzer.predefined_recognizers import UsLicenseRecognizer

    from hf_anon_mcp.engine.gate import _only_context_lifts

    assert _only_context_lifts(UsLicenseRecognizer(), 0.4)  # patterns 0.01-0.3, no checksum
    assert not _only_context_lifts(UsLicenseRecognizer(), 0.2)  # its 0.3 pattern passes unaided
    assert not _only_context_lifts(CreditCardRecognizer(), 0.9)  # a checksum can raise the score


def test_context_gated_recognizer_skips_cells_without_context_words_only():
    from presidio_analyzer.predefined_recognizers import UsLicenseRecognizer

    plain, gated = UsLicenseRecognizer(), UsLicenseRecognizer()
    assert gate_pattern_recognizers([gated], context_threshold=0.4) == 1
    without = "order D1234567 shipped"
    assert plain.analyze(without, plain.supported_entities) and gated.analyze(without, gated.supported_entities) == []
    with_context = "her Driver licence is D1234567"
    want = [(r.entity_type, r.start, r.end, r.score) for r in plain.analyze(with_context, plain.supported_entities)]
    got = [(r.entity_type, r.start, r.end, r.score) for r in gated.analyze(with_context, gated.supported_entities)]
    assert got == want and want


def test_ner_mode_still_finds_context_lifted_licences():
    from hf_anon_mcp.engine.detect import analyze_texts

    found = analyze_texts(["My driver license number is D1234567.", "Order D1234567 shipped."], EngineConfig())
    assert "US_DRIVER_LICENSE" in [r.entity_type for r in found[0]]
    assert "US_DRIVER_LICENSE" not in [r.entity_type for r in found[1]]
