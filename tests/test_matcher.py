"""The word-indexed matcher finds exactly what a character automaton with word-boundary checks finds."""

from __future__ import annotations

import random

import ahocorasick
import pytest

from hf_anon_mcp.decisions.matcher import WordMatcher, lower_same_length


def reference(terms: list[str], text: str) -> list[tuple[int, int, str]]:
    """Every occurrence of every term (Aho-Corasick), kept when both ends are word boundaries."""
    automaton = ahocorasick.Automaton()
    for term in terms:
        automaton.add_word(term, term)
    automaton.make_automaton()
    low = lower_same_length(text)
    out = []
    for end_index, term in automaton.iter(low):
        start, end = end_index - len(term) + 1, end_index + 1
        if (start == 0 or not low[start - 1].isalnum()) and (end >= len(low) or not low[end].isalnum()):
            out.append((start, end, term))
    return sorted(out, key=lambda m: (m[0], -(m[1] - m[0])))


@pytest.mark.parametrize("small", [8, 0])  # 0: every first word's terms looked up by length
def test_same_matches_as_an_automaton_on_random_texts(small, monkeypatch):
    monkeypatch.setattr(WordMatcher, "_SMALL", small)
    rng = random.Random(7)
    words = ["jane", "doe", "ann", "anna", "ßen", "İstanbul", "o'neil", "x", "42", "_id", "café", "jd@ex.org", "ex"]
    seps = [" ", "  ", ", ", ".", "-", "@", "(", ")", "+", "_", "\n", "/"]
    terms = {"jane doe", "ann", "anna", "doe", "jd@ex.org", "ex.org", "(42)", "+1 42", "o'neil", "café", "x",
             "42", "doe-ann", "istanbul", "i̇stanbul", "jane doe jane", "-"}
    for _ in range(400):
        text = "".join(rng.choice(words) + rng.choice(seps) for _ in range(rng.randint(1, 14)))
        text = "".join(c.upper() if rng.random() < 0.2 else c for c in text)
        assert WordMatcher(terms).matches(text) == reference(sorted(t for t in terms if t != "-"), text), text


def test_terms_without_letters_or_digits_never_match_and_empty_matcher_is_falsy():
    assert not WordMatcher(["", "--", " "])
    assert WordMatcher(["--", "a"]).matches("a -- a") == [(0, 1, "a"), (5, 6, "a")]


def test_a_term_inside_a_longer_word_is_not_matched():
    m = WordMatcher(["smith", "smith@acme.io"])
    assert m.matches("Goldsmith wrote to smith@acme.io and Smithson") == [(19, 32, "smith@acme.io"),
                                                                         (19, 24, "smith")]


def test_many_terms_sharing_a_first_word_are_found_by_length():
    phones = [f"001-{i:03d}-555-{i:04d}" for i in range(2000)] + ["(001) 555", "001"]
    m = WordMatcher(phones)
    text = "call 001-007-555-0007 or (001) 555 or 001-9 or x001-007-555-0007"
    assert m.matches(text) == reference(phones, text)
    assert [t for _, _, t in m.matches(text)] == ["001-007-555-0007", "001", "(001) 555", "001", "001"]
