"""Person names past the NER model: cue phrases, dialogue speakers, partial names grown, repeated mentions,
lower-case full names and lone first names, without tagging common words."""

from __future__ import annotations

import pytest
from presidio_analyzer import RecognizerResult

from hf_anon_mcp.engine.analyzer import EngineConfig
from hf_anon_mcp.engine.detect import analyze_texts
from hf_anon_mcp.engine.names import common_words, extend_names, first_names


def _people(text: str, results: list[RecognizerResult]) -> list[str]:
    return sorted(text[r.start:r.end] for r in results if r.entity_type == "PERSON")


@pytest.mark.parametrize("text,names", [
    ("Ella: What a wife.\nWolok: Remember me, Jaro?", ["Ella", "Wolok"]),
    ("follow up with patricia desrosiers in a couple of months.", ["patricia desrosiers"]),
    ("my name is borna jerkovac but everyone calls me borna", ["borna", "borna jerkovac"]),
    ("I'm so jealous! said Zelgo to Quorvin", ["Quorvin", "Zelgo"]),
    ("Quorvin lives on 90 Whitchurch Road", ["Quorvin"]),
])
def test_cued_and_lowercase_names_are_added(text, names):
    found = _people(text, extend_names(text, []))
    for name in names:
        assert name in found, (name, found)


@pytest.mark.parametrize("cue", [
    "My name is", "my name's", "Everyone calls me", "She named him", "Her maiden name was", "Then said",
    "I am following up with", "I follow up with", "She spoke to", "Please speak with", "We talk to", "I talked with",
    "a film starring", "directed by", "written by", "signed by",
])
def test_every_cue_phrase_still_reaches_its_pattern(cue):
    """The cue patterns run only on texts holding a cue word (`_CUE_WORDS`): each cue must still find its name."""
    text = f"{cue} Zelgo Quorvin today."
    assert "Zelgo Quorvin" in _people(text, extend_names(text, [])), cue


def test_speaker_labels_need_a_known_name_and_skip_field_keys():
    form = "Date: today\nPhone: unknown\nStatus: open"
    assert extend_names(form, []) == []
    dialogue = "Ella: hi there.\nDate: tomorrow\nZorbin: fine."
    assert _people(dialogue, extend_names(dialogue, [])) == ["Ella", "Zorbin"]


def test_a_partial_name_grows_and_its_other_mentions_are_found():
    text = "we need to add Ryan P Costa as guardian; Costa signs."
    ryan = RecognizerResult("PERSON", text.index("Ryan"), text.index("Ryan") + 4, 0.85)
    found = _people(text, extend_names(text, [ryan]))
    assert found == ["Costa", "Ryan P Costa"]


def test_growing_stops_at_sentence_starts_greetings_and_common_words():
    text = "Hello John, how are you? Yesterday Mary said hi."
    john = RecognizerResult("PERSON", 6, 10, 0.85)
    mary = RecognizerResult("PERSON", text.index("Mary"), text.index("Mary") + 4, 0.85)
    assert _people(text, extend_names(text, [john, mary])) == ["John", "Mary"]


def test_lone_first_names_but_not_common_words():
    text = "Kelsey you should dye your hair. Happy Sunday, Princess!"
    assert _people(text, extend_names(text, [])) == ["Kelsey"]
    assert {"sunday", "princess", "green", "add"} <= common_words()
    assert not ({"sunday", "princess", "add"} & first_names())


def test_text_without_names_is_unchanged():
    text = "The invoice was paid on time and the order shipped."
    assert extend_names(text, []) == []


def test_whole_engine_finds_repeated_mentions():
    text = "A film directed by Maciej Borkowski and starring Borkowski."
    (results,) = analyze_texts([text], EngineConfig())
    assert _people(text, results) == ["Borkowski", "Maciej Borkowski"]


@pytest.mark.parametrize("text,names", [
    ("omg poor emily ! plz can I get pinned", ["emily"]),                # lower-case first name, not a word
    ("Jon is hilarious and you and Skhumba looked great", ["Skhumba"]),  # unknown capitalised word mid-sentence
])
def test_lower_case_first_names_and_unknown_capitalised_words(text, names):
    found = _people(text, extend_names(text, []))
    for name in names:
        assert name in found, (name, found)


@pytest.mark.parametrize("text", [
    "the mason laid bricks while the butler waited",    # first names that are English words in lower case
    "Ugh why does it rain on Mondays",                    # interjection at the start of a sentence
    "our Teachers and Students Contributed the Biggest Flowers",  # inflected dictionary words
    "that was Sooooo good lol",                           # stretched word, chat word
])
def test_words_are_not_names(text):
    assert extend_names(text, []) == []


def test_post_step_names_respect_the_entities_asked_for():
    text = "my name is borna jerkovac, mail me at borna@example.org"
    (everything,) = analyze_texts([text], EngineConfig())
    (emails,) = analyze_texts([text], EngineConfig(entities=("EMAIL_ADDRESS",)))
    assert "borna jerkovac" in _people(text, everything)
    assert {r.entity_type for r in emails} == {"EMAIL_ADDRESS"}
