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
    ("sgp_652d9a2e48FC7E!FcDbEA1BC2E2A6CE23cFe7F7D", "sgp_652d9a2e48FC7E"),
    ('notes = "Maven - io.jsonwebtoken:jjwt-jackson-0.11.2"', "jjwt-jackson-0.11.2"),
    ("glpat-XXXXXXXXXXX-XXXXXXXX", "glpat-XXXXXXXXXXX-XXXXXXXX"),
    ('public static final String API_ORG_EXIST = "x";', "String API_ORG_EXIST"),
    ("$config = array(", "config"),
    ("curl -k -X POST -I https://api.example.com", "curl -k -X POST -I"),
    ("primer TAGTACCCGAGCTTACCGTCGG binds here", "TAGTACCCGAGCTTACCGTCGG"),
    ("USERNAME=admin\nPASSWORD=hunter2", "PASSWORD"),
])
def test_code_and_acronyms_from_ner_are_dropped(text, value):
    assert refine(text, [_ner(text, value)]) == []


@pytest.mark.parametrize("text,value", [
    ("RT @ Louis_Tomlinson : hello", "@ Louis_Tomlinson"),
    ("follow MildredGaddis for more", "MildredGaddis"),
    ("Mo_lee is here", "Mo_lee"),
    ("We flew to the U.S. last May", "U.S."),
    ("Ask Dr. Alan Ruiz", "Alan Ruiz"),
    ("Agent 47 met Area 51 staff", "Agent 47"),
    ("Grab a 7-Eleven coffee", "7-Eleven"),
    ("Signed, Maxx Power", "Maxx Power"),
    ("Jean-Paul Sartre and Mary-Kate Olsen met", "Jean-Paul Sartre"),
    ("Anna - Maria wrote back", "Anna - Maria"),
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


def test_long_digit_runs_are_not_dates_but_dates_stay():
    token = '"token4": "xoxp-572370529330-573807301142-572331691188-####"'
    assert refine(token, [_ner(token, "572370529330-573807301142", "DATE_TIME")]) == []
    date = "Born on 20211021, moved on 12 May 2020"
    kept = [_ner(date, "20211021", "DATE_TIME"), _ner(date, "12 May 2020", "DATE_TIME")]
    assert refine(date, kept) == kept


@pytest.mark.parametrize("text, found, name", [
    ("Sorry Kwame, I've marked order #10000 as urgent.", "Sorry Kwame", "Kwame"),
    ("Thanks Priya Ramanathan for the update.", "Thanks Priya Ramanathan", "Priya Ramanathan"),
    ("Good morning Ingrid, your parcel left today.", "Good morning Ingrid", "Ingrid"),
])
def test_a_greeting_or_apology_leading_a_person_is_cut_off(text, found, name):
    from hf_anon_mcp.engine.postprocess import without_lead_words

    start = text.index(found)
    r = RecognizerResult("PERSON", start, start + len(found), 0.85)
    (out,) = without_lead_words(text, [r])
    assert text[out.start:out.end] == name and out.entity_type == "PERSON"


def test_a_lead_word_alone_or_in_another_type_is_left_as_it_is():
    from hf_anon_mcp.engine.postprocess import without_lead_words

    text = "Sorry, Thanks Ltd called. Hi"
    spans = [RecognizerResult("PERSON", 0, 5, 0.85), RecognizerResult("ORGANIZATION", 7, 17, 0.85),
             RecognizerResult("PERSON", 26, 28, 0.85)]
    assert without_lead_words(text, spans) == spans


def test_the_engine_replaces_the_name_not_the_apology():
    """NER reads `Sorry Kwame` as the person (en_core_web_sm); the word before the name is no one's."""
    from hf_anon_mcp.engine.analyzer import EngineConfig
    from hf_anon_mcp.engine.detect import analyze_texts

    text = "Sorry Kwame, I've marked order #10000 as urgent."
    (found,) = analyze_texts([text], EngineConfig())
    assert [text[r.start:r.end] for r in found if r.entity_type == "PERSON"] == ["Kwame"]
