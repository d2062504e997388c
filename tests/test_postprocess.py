"""False-positive control: NER findings that are code, and URLs cut out of a longer word, are dropped; people's
handles, CamelCase user names and real URLs stay."""

from __future__ import annotations

import pytest
from presidio_analyzer import RecognizerResult

from hf_anon_mcp.engine.postprocess import refine


def _ner(text: str, value: str, entity: str = "PERSON") -> RecognizerResult:
    start = text.index(value)
    return RecognizerResult(entity, start, start + len(value), 0.85,
                            recognition_metadata={"recognizer_name": "SpacyRecognizer"})


def _url(text: str, value: str) -> RecognizerResult:
    start = text.index(value)
    return RecognizerResult("URL", start, start + len(value), 0.5,
                            recognition_metadata={"recognizer_name": "UrlRecognizer"})


@pytest.mark.parametrize("text,value", [
    ("DATABRICKS_TOKEN=dapi123456789012345678a9bc01234defg5", "DATABRICKS_TOKEN"),
    ('<add key="ClearTextPassword" value="abc" />', 'key="ClearTextPassword'),
    ("apiVersion: external-secrets.io/v1beta1", "external-secrets.io/v1beta1"),
    ("let flag: Swift.Bool = true", "Swift.Bool"),
    ("Withdraw cash at the ATM today", "ATM"),
])
def test_code_and_acronyms_from_ner_are_dropped(text, value):
    assert refine(text, [_ner(text, value)]) == []


@pytest.mark.parametrize("text,value", [
    ("RT @ Louis_Tomlinson : hello", "@ Louis_Tomlinson"),
    ("follow MildredGaddis for more", "MildredGaddis"),
    ("Mo_lee is here", "Mo_lee"),
    ("We flew to the U.S. last May", "U.S."),
    ("Ask Dr. Alan Ruiz", "Alan Ruiz"),
])
def test_people_and_places_stay(text, value):
    finding = _ner(text, value)
    assert refine(text, [finding]) == [finding]


def test_code_shaped_spans_from_our_own_recognizers_stay():
    text = "handle: @sergen_bt"
    handle = RecognizerResult("PERSON", 8, 18, 0.6, recognition_metadata={"recognizer_name": "HandleRecognizer"})
    assert refine(text, [handle]) == [handle]


def test_urls_cut_out_of_a_longer_word_are_dropped_real_ones_stay():
    code = '        os.environ.get("HF_AUTH_TOKEN")'
    assert refine(code, [_url(code, "os.environ.ge")]) == []
    prose = "see example.com/x, www.foo.org or https://a.io/path."
    kept = [_url(prose, v) for v in ("example.com/x", "www.foo.org", "https://a.io/path")]
    assert refine(prose, kept) == kept
