"""Speed-ups that must not change what is found: word-windowed recognizers and patterns-only pruning."""

from __future__ import annotations

import pytest
from presidio_analyzer.predefined_recognizers import EmailRecognizer, IpRecognizer, UrlRecognizer

from hf_anon_mcp.engine.analyzer import EngineConfig, detector_info, get_analyzer
from hf_anon_mcp.engine.detect import analyze_texts
from hf_anon_mcp.engine.offline import use_bundled_suffix_list
from hf_anon_mcp.engine.windowed import windowed_replacements

TEXTS = [
    "see https://www.example.com/a?b=1 and (http://test.org/x), or 'docs.python.org/3' today.",
    "write to jane.doe+news@mail.example.co.uk, or <bob@example.org>; not @handle or a@b",
    "hosts 10.0.0.12, 192.168.1.1:8080 and fe80::1ff:fe23:4567:890a plus ::1 and 2001:db8::8a2e:370:7334",
    "version 1.2.3 and a.b.c, e.g. i.e. U.S.A. end. Next.sentence without space",
    "mixed: user@host.example.com/path \"https://q.example.net\" x.io",
    "nothing to see here at all",
    "",
]


@pytest.fixture(scope="module")
def pairs():
    use_bundled_suffix_list()
    windowed = windowed_replacements("en")
    return [(UrlRecognizer(), windowed["UrlRecognizer"]), (EmailRecognizer(), windowed["EmailRecognizer"]),
            (IpRecognizer(), windowed["IpRecognizer"])]


@pytest.mark.parametrize("text", TEXTS)
def test_windowed_recognizers_find_what_presidio_finds(pairs, text):
    for original, windowed in pairs:
        expected = sorted((r.start, r.end, r.score) for r in original.analyze(text, original.supported_entities))
        got = sorted((r.start, r.end, r.score) for r in windowed.analyze(text, windowed.supported_entities))
        assert got == expected, (original.name, text)
        assert windowed.name == original.name  # explanations and registry names stay Presidio's


def test_patterns_only_drops_patterns_that_cannot_reach_the_threshold():
    config = EngineConfig(patterns_only=True)
    names = {r.name for r in get_analyzer(config).registry.recognizers}
    assert "UsBankRecognizer" not in names and "UsPassportRecognizer" not in names
    assert {"US_BANK_NUMBER", "US_PASSPORT"} <= set(detector_info(config).cannot_detect)
    # A checksum-validated weak pattern (Presidio's card pattern scores 0.3, Luhn raises it) is kept.
    assert "CreditCardRecognizer" in names
    text = "card 4111 1111 1111 1111, mail ann@example.org, call (415) 555-2671"
    [found] = analyze_texts([text], config)
    assert {r.entity_type for r in found} == {"CREDIT_CARD", "EMAIL_ADDRESS", "PHONE_NUMBER"}


def test_ner_mode_keeps_context_boosted_weak_patterns():
    names = {r.name for r in get_analyzer(EngineConfig()).registry.recognizers}
    assert {"UsBankRecognizer", "UsPassportRecognizer", "UsLicenseRecognizer"} <= names


def test_needle_index_reports_overlapping_and_prefix_needles():
    from hf_anon_mcp.engine.secrets import _NeedleIndex

    index = _NeedleIndex({"gl", "glpat-", "AC", "ACCA", "xox", "T3BlbkFJ"})
    assert index.present("token glpat-abc and ACCAxox") == {"gl", "glpat-", "AC", "ACCA", "xox"}
    assert index.present("nothing here") == set()
    assert _NeedleIndex(set()).present("glpat-") == set()


def test_rule_whose_needle_is_a_prefix_of_another_still_runs():
    """`gl` (GitLab runner tokens) sits inside `glpat-`: both rules must see their needle."""
    from hf_anon_mcp.engine.secrets import DetectSecretsRecognizer, TokenFormatRecognizer

    token = "glpat-" + "Ab3dE6gH9jK2mN5pQ8sT"
    found = {r.entity_type for rec in (DetectSecretsRecognizer(), TokenFormatRecognizer())
             for r in rec.analyze(f"GITLAB_TOKEN={token}", None)}
    assert any("GITLAB" in e for e in found), found


@pytest.mark.parametrize("text,entity,expected", [
    ("IBAN GB98TJMJ99510898804586 please", "IBAN_CODE", True),
    ("iban gb98tjmj99510898804586 please", "IBAN_CODE", True),
    ("order 1234567 shipped to 12 Main St", "IBAN_CODE", False),
    ("DEA AB1234567 on file", "MEDICAL_LICENSE", True),
    ("call 555 123 4567", "MEDICAL_LICENSE", False),
])
def test_candidate_entities_skips_only_types_that_cannot_match(text, entity, expected):
    from hf_anon_mcp.engine.detect import candidate_entities

    assert (entity in candidate_entities(text, frozenset({entity, "PERSON"}))) is expected


def test_pruned_types_are_still_found_where_they_occur():
    config = EngineConfig(patterns_only=True)
    found = analyze_texts(["pay to IBAN GB98TJMJ99510898804586 today", "order 1234567 shipped"], config)
    assert [r.entity_type for r in found[0]] == ["IBAN_CODE"]
    assert all(r.entity_type != "IBAN_CODE" for r in found[1])


def test_fast_profile_uses_both_cores_from_a_few_ten_thousand_rows(monkeypatch):
    """The fast profile's row cost was once under-estimated tenfold: every run under 160k rows stayed on one core."""
    from hf_anon_mcp.runners import local

    monkeypatch.setattr(local.os, "cpu_count", lambda: 2)
    assert local.auto_workers(1_000, "fast") == 1  # a worker's start costs more than it saves
    assert local.auto_workers(20_000, "fast") == 2
    assert local.auto_workers(1_000, "balanced") == 1 and local.auto_workers(4_000, "balanced") == 2
