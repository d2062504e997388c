"""Whole-word, case-insensitive matching of many terms (values to propagate, name parts, allow-list terms).

A term can only match where a word starts, and the word there must be the term's first word: so the terms are
indexed by their first word (a run of letters and digits), and a text is looked at word by word, with a full
comparison only where a word is some term's first. Memory is the terms themselves plus one dict; building it is
one pass.

Why not Aho-Corasick (`pyahocorasick`, used before): its trie holds a node per character of every term. With
700k propagated values (200k rows of tickets: emails, phones, cards, names) the automaton took 460 MB and 6.3 s to
build in each worker, for matches that can only start at a word anyway.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

_RUN = re.compile(r"[^\W_]+")  # what str.isalnum() accepts, as maximal runs


def lower_same_length(text: str) -> str:
    """Lower case with the same length (offsets stay valid)."""
    low = text.lower()
    return low if len(low) == len(text) else "".join(c if len(c.lower()) != 1 else c.lower() for c in text)


class WordMatcher:
    """Terms (already lower-cased) found at whole-word boundaries in any text, case-insensitively.

    >>> WordMatcher(["jane doe", "+1 555"]).matches("Call Jane Doe at +1 555; not janedoe")
    [(5, 13, 'jane doe'), (17, 23, '+1 555')]
    """

    __slots__ = ("_index", "size")

    _SMALL = 8  # a first word shared by more terms (`001` of phones, `john` of names) indexes them by the second

    def __init__(self, terms: Iterable[str]):
        index: dict[str, list[str]] = {}
        for term in dict.fromkeys(t for t in terms if t):
            first = _RUN.search(term)
            if first is not None:  # a term with no letter or digit never forms a whole word
                index.setdefault(first.group(), []).append(term)
        self.size = sum(len(v) for v in index.values())
        # one string per first word (the common case), a few in a tuple, many by their second word (`""`: none):
        # memory stays near the terms' own, and a text compares only a few terms at a place
        self._index: dict[str, str | tuple[str, ...] | dict[str, str | tuple[str, ...]]] = {
            k: _packed(v) if len(v) <= self._SMALL else _by_second(v) for k, v in index.items()}

    def __bool__(self) -> bool:
        return self.size > 0

    def matches(self, text: str, low: str | None = None) -> list[tuple[int, int, str]]:
        """(start, end, term) of every whole-word occurrence, sorted by start, longest first at a place.
        `low`: the text already lower-cased with `lower_same_length` (several matchers over one text)."""
        low = lower_same_length(text) if low is None else low
        index = self._index
        firsts = {w for w in _RUN.findall(low) if w in index}
        if not firsts:
            return []
        found: list[tuple[int, int, str]] = []
        n = len(low)
        for word in firsts:
            hit = index[word]
            pos = low.find(word)
            while pos >= 0:
                after = pos + len(word)
                if (pos == 0 or not low[pos - 1].isalnum()) and (after >= n or not low[after].isalnum()):
                    if type(hit) is dict:
                        second = _RUN.search(low, after)
                        _compare(found, low, pos, hit.get(""))
                        if second is not None:
                            _compare(found, low, pos, hit.get(second.group()))
                    else:
                        _compare(found, low, pos, hit)
                pos = low.find(word, after)
        found.sort(key=lambda m: (m[0], -(m[1] - m[0])))
        return found


def _lead(term: str) -> int:
    """Characters before the term's first letter or digit (`(239) 610-6678`: 1)."""
    return 0 if term[0].isalnum() else _RUN.search(term).start()


def _packed(terms: list[str]) -> str | tuple[str, ...]:
    return terms[0] if len(terms) == 1 else tuple(terms)


def _by_second(terms: list[str]) -> dict[str, str | tuple[str, ...]]:
    """Terms sharing a first word, by their second word (`""` for terms of one word)."""
    out: dict[str, list[str]] = {}
    for term in terms:
        runs = _RUN.findall(term, 0, 200)
        out.setdefault(runs[1] if len(runs) > 1 else "", []).append(term)
    return {k: _packed(v) for k, v in out.items()}


def _compare(found: list, low: str, pos: int, hit: str | tuple[str, ...] | None) -> None:
    """The candidate terms whose first word starts at `pos`: kept where the text holds them whole."""
    if hit is None:
        return
    for term in ((hit,) if type(hit) is str else hit):
        start = pos - _lead(term)
        if start >= 0 and low.startswith(term, start):
            _add(found, low, start, start + len(term), term)


def _add(found: list, low: str, start: int, end: int, term: str) -> None:
    """Keep a candidate whose both ends are word boundaries."""
    if (start == 0 or not low[start - 1].isalnum()) and (end >= len(low) or not low[end].isalnum()):
        found.append((start, end, term))
