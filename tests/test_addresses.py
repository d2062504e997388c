"""Street addresses: the street recognizer's new shapes, and growing a street into its whole address block."""

from __future__ import annotations

import pytest
from presidio_analyzer import RecognizerResult

from hf_anon_mcp.engine.addresses import NamedStreetRecognizer, StreetAddressRecognizer, extend_addresses
from hf_anon_mcp.engine.analyzer import EngineConfig
from hf_anon_mcp.engine.detect import analyze_texts


def _streets(text: str) -> list[str]:
    found = [r for recognizer in (StreetAddressRecognizer(), NamedStreetRecognizer())
             for r in recognizer.analyze(text, ["STREET_ADDRESS"], None)]
    return [text[r.start:r.end] for r in found if r.score >= 0.4]


@pytest.mark.parametrize("text,expected", [
    ("Andrew had given me his address: 5366 Pivovarská 276", "5366 Pivovarská 276"),
    ("974 Via Roma 131\n Apt. 425", "974 Via Roma 131"),
    ("Timotea lives on Via dei Fiorentini 17 street.", "Via dei Fiorentini 17"),
    ("Sofie lives on 69 Av Sidi Lakhmi street.", "69 Av Sidi Lakhmi"),
    ("The restaurant is at 9816 214 Pavlou Drandaki", "9816 214 Pavlou Drandaki"),
    ("What is your address? it is the corner of Dalbraut 99 and Frederikke Coves",
     "the corner of Dalbraut 99 and Frederikke Coves"),
    ("Meet me at USNS Bergman\nFPO AP 93757", "USNS Bergman\nFPO AP 93757"),
    ("psc 5420, box 2708\napo aa 33879", "psc 5420, box 2708\napo aa 33879"),
])
def test_street_shapes(text, expected):
    assert expected in _streets(text)


@pytest.mark.parametrize("text", [
    "Sandra lives on the hill since 2019",
    "In 2019 we sold 5 of them",
    "Top 10 Songs of 2019\nlisten now",
    "the corner store sells milk",
])
def test_no_street_in_ordinary_sentences(text):
    assert _streets(text) == []


def _grown(text: str, street: str) -> str:
    start = text.index(street)
    anchor = RecognizerResult("STREET_ADDRESS", start, start + len(street), 0.6)
    (block,) = [r for r in extend_addresses(text, [anchor]) if r.entity_type == "STREET_ADDRESS"]
    return text[block.start:block.end]


@pytest.mark.parametrize("text,street,expected", [
    ("Send it to 20789 Allika 46\n Suite 501\n Riisa\n\n Estonia 61853? I am away.", "Allika 46",
     "20789 Allika 46\n Suite 501\n Riisa\n\n Estonia 61853"),
    ("It is 370 3911 Fourth Avenue Suite 697, Mora de Rubielos, Spain 16200, and more", "3911 Fourth Avenue Suite 697",
     "370 3911 Fourth Avenue Suite 697, Mora de Rubielos, Spain 16200"),
    ("Meet at 4241 Steinfelden 73\nSAVONLINNA\n, SV\n 77233 for this card", "4241 Steinfelden 73",
     "4241 Steinfelden 73\nSAVONLINNA\n, SV\n 77233"),
    ("Address:\n14 Crown Street\nLondon\nMobile: 0341 8387176", "14 Crown Street", "14 Crown Street\nLondon"),
    ("I live at 12 Main Street and I like it", "12 Main Street", "12 Main Street"),
    ("Ship to 12 Main Street. Thanks, Bob", "12 Main Street", "12 Main Street"),
])
def test_address_blocks_grow_over_their_parts_and_stop_at_the_sentence(text, street, expected):
    assert _grown(text, street) == expected


def test_ner_fragments_inside_an_address_are_absorbed():
    text = "Please return to 56539 Rua Cyro Franco 1213\nGRASSE, PA 39551 in case of an issue."
    (result,) = [r for r in analyze_texts([text], EngineConfig())[0] if r.entity_type != "PERSON" or True]
    assert result.entity_type == "STREET_ADDRESS"
    assert text[result.start:result.end] == "56539 Rua Cyro Franco 1213\nGRASSE, PA 39551"


def test_text_without_an_address_is_returned_unchanged():
    results = [RecognizerResult("PERSON", 0, 4, 0.85)]
    assert extend_addresses("John lives here", results) == results
