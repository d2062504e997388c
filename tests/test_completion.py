"""The detect pass's completion rules through the real engine (spaCy + Presidio + rules): what the small NER model
mistypes or cuts, completed; what it would wrongly add, left alone."""

from __future__ import annotations

import pytest

from hf_anon_mcp.decisions.detect import FINDINGS, NAME_WITH_NUMBER, DetectSpec, DetectWorker, stored_findings
from hf_anon_mcp.engine.analyzer import EngineConfig
from hf_anon_mcp.engine.completion import cued_addresses


@pytest.fixture(scope="module")
def detect():
    worker = DetectWorker(DetectSpec(EngineConfig(), ("text",)))

    def run(texts: list[str]) -> list[list[tuple[str, str, str]]]:
        out = worker({"text": texts})
        return [[(f[2], text[f[3]:f[4]], f[6]) for f in stored_findings(enc)] for text, enc in zip(texts, out[FINDINGS])]
    return run


def _typed(found: list[tuple[str, str, str]], entity: str) -> list[str]:
    return [value for e, value, _ in found if e == entity]


def test_a_name_with_a_house_number_is_a_street_and_a_code_is_nothing(detect):
    street, code = detect(["He lives on the north side of Rua Diadema 1903.",
                           "Please check Order ORD-468539 again."])
    assert any("Rua Diadema 1903" in v for v in _typed(street, "STREET_ADDRESS"))
    assert any(d == NAME_WITH_NUMBER for e, v, d in street if "Diadema" in v)  # a term: frequent ones are kept
    assert not any("468539" in v for e, v, _ in code if e in ("PERSON", "STREET_ADDRESS"))


def test_a_lone_first_name_read_as_a_place_is_a_person_unless_it_follows_a_place_word(detect):
    person, place = detect(["Why is Rebecca so impulsive?", "The unit goes back to the Denver warehouse."])
    assert "Rebecca" in _typed(person, "PERSON")
    assert "Denver" not in _typed(place, "PERSON")


def test_names_grow_over_initials_and_a_header_name(detect):
    initial, header = detect(["have you heard Tamara T Stanković speak yet?",
                              "Einojuhani Pyysalo\nLocal transit bus driver"])
    assert any("Tamara T Stanković" in v for v in _typed(initial, "PERSON")), initial
    assert any("Einojuhani Pyysalo" in v for v in _typed(header, "PERSON")), header


@pytest.mark.parametrize("text,address", [
    ("address:\n106 rúa olmos 44, belfast, south africa.", "106 rúa olmos 44, belfast, south africa"),
    ("Verda lives on 33 avenue de Provence street.", "33 avenue de Provence street"),
    ("the bus drops you off at 74678 midtvollen 130 st.", "74678 midtvollen 130 st"),
    ("I moved last month, the new address is rue Loiseau 12, 24393 Lyon.", "rue Loiseau 12, 24393 Lyon"),
    # the cue's preposition is no part of the address (it was replaced with it)
    ("I changed the billing address to 000 Hogan Course in Lake Patriciaburgh; thanks", "000 Hogan Course in Lake "
                                                                                      "Patriciaburgh"),
])
def test_cued_addresses_with_the_value_on_the_next_line_or_after_a_weak_cue(text, address):
    assert address in [text[f.start:f.end] for f in cued_addresses(text, [])]


@pytest.mark.parametrize("text", ["I'll meet you at 5 pm tomorrow.", "see you at 10:30 then",
                                  "meet me at noon on 12 May", "Our team lives on 3 floors"])
def test_weak_cues_need_a_place_not_a_time_or_a_count(text):
    assert cued_addresses(text, []) == []


def test_handles_do_not_grow_over_rt_and_modifier_places_stay_places(detect):
    rt, pride = detect(["RT @someone : the world cup is here", "Some people have too much Houston pride lol"])
    assert not any(v.startswith("RT") for e, v, _ in rt if e == "PERSON"), rt
    assert "Houston" not in _typed(pride, "PERSON")


def test_the_cue_prefilter_passes_every_text_the_cue_pattern_matches():
    """`_may_hold_cue` skips `_CUE` on rows without a needle: it must never skip one `_CUE` matches, whatever the
    case of its letters (re's IGNORECASE matches `ı` and `İ` to `i`, which `casefold` alone does not give)."""
    import re

    from hf_anon_mcp.engine.completion import _CUE, _may_hold_cue

    same = {ch: [chr(cp) for cp in range(0x2400) if re.fullmatch(f"(?i){ch}", chr(cp))]
            for ch in "abcdefghijklmnopqrstuvwxyz"}
    cues = ["I live at 4 Elm", "she lives on 4 Elm", "living at 4 Elm", "my address is 4 Elm", "meet me at 4 Elm",
            "see you at 4 Elm", "drop me off at 4 Elm", "shipping address: 4 Elm", "ship it to 4 Elm",
            "delivered to 4 Elm", "send the parcel to 4 Elm", "moved to 4 Elm", "arranged at 4 Elm",
            "picked up at 4 Elm", "the address: 4 Elm"]
    checked = 0
    for cue in cues:
        assert _CUE.search(cue) and _may_hold_cue(cue)
        for i, ch in enumerate(cue):
            for other in same.get(ch.lower(), ()):
                text = cue[:i] + other + cue[i + 1:]
                if _CUE.search(text):
                    checked += 1
                    assert _may_hold_cue(text), text
    assert checked > 400
    assert not _may_hold_cue("Refund approved for ticket 4411, thanks")
