"""Quasi-identifier recognizers: ages, postal codes, job titles."""

from __future__ import annotations

import pytest

from hf_anon_mcp.engine.quasi import AgeRecognizer, JobTitleRecognizer, PostalCodeRecognizer, job_heads


def _found(recognizer, text: str, entity: str) -> list[str]:
    return [text[r.start:r.end] for r in recognizer.analyze(text, [entity], None) if r.score >= 0.4]


@pytest.mark.parametrize("text,expected", [
    ("This 79 year old female presented with", ["79"]),
    ("originally from Dolores, and i'm 64 y/o.", ["64"]),
    ("My brother just turned 60", ["60"]),
    ("Written when he was 78.", ["78"]),
    ("patients aged 45 and over", ["45"]),
    ("We sold 300 units in 2021", []),
    ("a 2000 year old tree", []),  # not an age a person can have
    ("he was 78.5 metres away", []),
])
def test_ages(text, expected):
    assert _found(AgeRecognizer(), text, "AGE") == expected


@pytest.mark.parametrize("text,expected", [
    ("ZIP: 75534-030", ["75534-030"]),
    ("ZIP: 7412 SL", ["7412 SL"]),
    ("postcode SW1A 1AA please", ["SW1A 1AA"]),
    ("zip code 94110", ["94110"]),
    ("ZIP files of 94110 bytes", []),
    ("We sold 94110 units", []),
])
def test_postal_codes_need_their_keyword(text, expected):
    assert _found(PostalCodeRecognizer(), text, "ZIP_CODE") == expected


def test_job_title_lines_in_a_signature_block():
    text = "Janka M. Szász\n\nNetwork and computer systems administrator\n\nPersonal Info\nSewer pipe cleaner\n"
    assert _found(JobTitleRecognizer(), text, "TITLE") == ["Network and computer systems administrator",
                                                          "Sewer pipe cleaner"]


def test_job_titles_in_apposition_or_after_works_as():
    text = 'Marie Langrová, the Packager, said: "I work here." Bob works as a technical writer.'
    assert _found(JobTitleRecognizer(), text, "TITLE") == ["Packager", "technical writer"]


def test_single_line_nouns_are_not_titles():
    assert _found(JobTitleRecognizer(), "the driver was late and the manager left", "TITLE") == []
    assert _found(JobTitleRecognizer(), "Personal Info\nLocation\nNotes", "TITLE") == []


def test_job_heads_come_from_faker_and_exclude_generic_words():
    heads = job_heads()
    assert {"accountant", "librarian", "clerk", "driver"} <= heads
    assert "person" not in heads and "sewer" not in heads
