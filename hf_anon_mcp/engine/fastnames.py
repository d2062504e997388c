"""The name rules of `engine.names` for the fast scanner, run from its word hits.

In patterns-only mode the names a text holds are found by rules over its words: the first-name gazetteer
(`GazetteerNameRecognizer`), cue phrases (`my name is`, `said X to`), lone first names and unknown capitalised words
mid-sentence, the rest of a half-found name, and every other mention of a found name. `engine.names` runs those
rules with regexes over every word of every text (~0.2 ms a 60-word row). Here the scanner's one pass reports the
capitalised words, the cue phrases and (from a second literal pass) the lower-case first names, and each rule runs
only at those places, with the same word lists and tests (`names.first_names`, `_is_word`, `_english`,
`_after_boundary`, `_grow`, `_trim_words`). Where a rule is rare and cheap to gate (dialogue speakers, lower-case
full names), `engine.names`' own function runs on the row.
"""

from __future__ import annotations

import bisect
import re
from functools import lru_cache

import hyperscan
from presidio_analyzer import RecognizerResult

from hf_anon_mcp.engine import names as N

# A capitalised word as `names._SINGLE` and `names._TWO_CAPS` see one (Latin-1 letters), then the character after
# it (every row is followed by a newline in the scanned buffer): one hit per word.
CAPITALISED_WORD = r"[A-ZÀ-Þ][a-zà-ÿ]{2,}[^a-zà-ÿ]"
# Every cue phrase of `names._CUES` (word boundaries dropped: the regex checks them), and "lives/lived on".
CUE_TRIGGER = "|".join([c.replace(r"\b", "") for c in N._CUES] + [r"(?:lives|lived) (?:on|in|at)"])

_WORD = re.compile(r"[^\W\d_][\w'’-]{2,}")
# ASCII punctuation and common Unicode quotes, dashes and spaces become spaces in the copy the lower-case name
# literals are matched in, so a literal " emily " finds the word wherever `names._SINGLE` could.
_BLANKS = str.maketrans({c: " " for c in
                         [chr(i) for i in range(128) if not chr(i).isalnum()]
                         + list("\u00a0\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u202f"
                                "\u3000\u201c\u201d\u2018\u00ab\u00bb\u2026\u2013\u2014\u00b7\u2022")})


@lru_cache(maxsize=1)
def lowercase_names() -> tuple[str, ...]:
    """First names that `_single_first_names` and `_lowercase_full_names` accept in lower case: Latin-1 words (as
    their regexes read them) that are no English word."""
    latin = re.compile(r"[a-zà-ÿ]{3,}")
    return tuple(sorted(n for n in N.first_names() if latin.fullmatch(n) and not N._english(n)))


@lru_cache(maxsize=1)
def lowercase_database() -> hyperscan.Database:
    """Literal ` name ` patterns over the blanked copy: only whole words hit."""
    from hf_anon_mcp.engine.fastscan import compiled_database

    names = lowercase_names()
    return compiled_database([f" {n} ".encode() for n in names], [0] * len(names), literal=True)


def lowercase_hits(texts: list[str], separator: str) -> dict[int, list[tuple[int, int]]]:
    """Row index -> (start, end) of each lower-case first name in it, from one literal pass over the batch."""
    blank = (separator.join(texts) + separator).translate(_BLANKS)
    data = (" " + blank).encode("utf-8", "surrogatepass")
    ascii_only = len(data) == len(blank) + 1
    ends: list[tuple[int, int]] = []
    from hf_anon_mcp.engine.fastscan import scratch_for

    database = lowercase_database()
    database.scan(data, match_event_handler=lambda i, s, e, f, c: ends.append((e, i)), scratch=scratch_for(database))
    if not ends:
        return {}
    names = lowercase_names()
    starts, pos = [], 0
    for t in texts:
        starts.append(pos)
        pos += len(t) + 1
    out: dict[int, list[tuple[int, int]]] = {}
    for e, i in sorted(ends):
        # the literal is " name ": the name ends one byte before the hit, and the buffer has one leading space
        end_byte = e - 2
        if ascii_only:
            end = end_byte
        else:
            end = len(data[1:end_byte + 1].decode("utf-8", "ignore"))
        start = end - len(names[i])
        row = bisect.bisect_right(starts, start) - 1
        out.setdefault(row, []).append((start - starts[row], end - starts[row]))
    return out


class NameStep:
    """`names.extend_names` and the gazetteer recognizer, driven by word hits."""

    def __init__(self, gazetteer) -> None:
        self.gazetteer = gazetteer is not None
        self.first_names = N.first_names()
        self._kinds: dict[str, float] = {}

    # -- the gazetteer recognizer (a recognizer: its findings pass the threshold and allow list) -------------------
    def gazetteer_results(self, text: str, caps: list[tuple[int, int]], out: list) -> None:
        """`_TWO_CAPS.finditer` restricted to where a match can start: a capitalised word (the scan consumes each
        match, accepted or not, as `finditer` does)."""
        if not self.gazetteer:
            return
        names, common = self.first_names, N._COMMON_WORDS
        pos = 0
        for k, (s, e) in enumerate(caps):
            if s < pos:
                continue
            if text[s:e].lower() not in names:
                # a match here would be dropped, but `finditer` would skip the words it covers: that matters only
                # if the next capitalised word, a few characters on, is a first name
                following = caps[k + 1] if k + 1 < len(caps) else None
                if following is None or following[0] - e > 4 or text[following[0]:following[1]].lower() not in names:
                    continue
            m = N._TWO_CAPS.match(text, s)
            if m is None:
                continue
            pos = m.end()
            if m.group(1).lower() in names and m.group(3).lower() not in common:
                out.append(RecognizerResult("PERSON", m.start(), m.end(), 0.6))

    # -- the post-step -------------------------------------------------------------------------------------------
    def extend(self, text: str, results: list, caps: list[tuple[int, int]], lows: list[tuple[int, int]],
               cues: list[tuple[int, int]]) -> list:
        """What `names.extend_names(text, results)` returns."""
        lowercase = _all_lowercase(text)
        extra = self._cued(text, cues, lowercase)
        if "\n" in text and ":" in text:
            extra += N._speakers(text, results)
        if lowercase:
            if lows:
                extra += N._lowercase_full_names(text)
        else:
            extra += self._single(text, caps, lows)
        grown = [N._grow(text, r) if r.entity_type == "PERSON" else r for r in results]
        extra = _not_contained(extra, grown)
        persons = [r for r in grown + extra if r.entity_type == "PERSON"]
        if not persons:
            return grown
        return grown + extra + _mentions(text, persons, grown + extra, lowercase)

    def _cued(self, text: str, cues: list[tuple[int, int]], lowercase: bool) -> list:
        if not cues:
            return []
        out = []
        cued = N._CUED_LOWER if lowercase else N._CUED
        for pattern in (cued, N._SAID_TO):
            pos = 0
            for s, _ in cues:
                if s < pos:
                    continue
                m = pattern.match(text, s)
                if m:
                    pos = m.end()
                    out.append(m)
        for _, e in cues:
            if text[e - 2:e] in ("on", "in", "at"):  # "lives on": the name is before it, at a line or sentence start
                for m in N._LIVES.finditer(text, max(0, e - 160), min(len(text), e + 8)):
                    if m.end() == e:
                        out.append(m)
        people = []
        for m in out:
            start, end = N._trim_words(text, m.start(1), m.end(1))
            if end > start:
                people.append(N._person(start, end))
        return people

    def _single(self, text: str, caps: list[tuple[int, int]], lows: list[tuple[int, int]]) -> list:
        """`names._single_first_names` on the words that can yield a finding: capitalised words and lower-case
        first names."""
        out = []
        n = len(text)
        for s, e in sorted(caps + lows):
            if s and (text[s - 1].isalnum() or text[s - 1] in "_@#"):
                continue
            if e < n and (text[e].isalnum() or text[e] in "_'’-"):
                continue
            word = text[s:e]
            kind = self._kinds.get(word)
            if kind is None:
                kind = self._kind(word)
            if kind == 0.45:
                out.append(N._person(s, e, 0.45))
            elif kind == 0.41 and not _after_boundary(text, s):
                out.append(N._person(s, e, 0.41))
        return out

    def _kind(self, word: str) -> float:
        """0.45: a first name; 0.41: an unknown capitalised word (a name if mid-sentence); 0: neither."""
        if len(self._kinds) > 200_000:
            self._kinds.clear()
        if word.lower() in self.first_names:
            kind = 0.45 if not N._is_word(word) and (word[0].isupper() or not N._english(word)) else 0.0
        elif word[0].isupper() and not N._english(word):
            kind = 0.41
        else:
            kind = 0.0
        self._kinds[word] = kind
        return kind


_DETERMINERS = frozenset("the a an this that these those our your their its each every any no".split())
_SENTENCE_MARKS = frozenset('.!?:\n"#|*>([-')


def _after_boundary(text: str, pos: int) -> bool:
    """`names._after_boundary` without its two regex searches: within the 8 characters before `pos`, a sentence
    mark followed only by whitespace (or the text's start), or a determiner word followed by whitespace."""
    window = max(0, pos - 8)
    before = text[window:pos]
    kept = before.rstrip()
    if pos == 0:
        return True
    gap = before[len(kept):]
    if "\n" in gap or (kept and kept[-1] in _SENTENCE_MARKS):
        return True
    if not gap:
        return False
    word_start = len(kept)
    while word_start > 0 and kept[word_start - 1].isalpha():
        word_start -= 1
    word = kept[word_start:]
    if word.lower() not in _DETERMINERS:
        return False
    at = window + word_start
    return at == 0 or not (text[at - 1].isalnum() or text[at - 1] == "_")


def _not_contained(new: list, known: list) -> list:
    """`names._not_contained` (new spans not inside a known span nor an earlier kept one, longest first), with plain
    loops over span tuples: the generator it runs per pair was a tenth of the name step."""
    spans = [(k.start, k.end) for k in known]
    kept = []
    for r in sorted(new, key=lambda r: r.start - r.end):
        start, end = r.start, r.end
        for s, e in spans:
            if s <= start and end <= e:
                break
        else:
            kept.append(r)
            spans.append((start, end))
    return kept


def _all_lowercase(text: str) -> bool:
    if text == text.lower():
        return True
    return "<" in text and N._all_lowercase(text)


def _token_start(text: str, i: int) -> bool:
    """Whether `names._NAME_TOKEN.finditer` would start a token at i (not inside an earlier token)."""
    if i == 0:
        return True
    before = text[i - 1]
    if before.isalnum() or before in "_@":
        return False
    if before in "'’-":  # a token continues over these: does one run into them from the left?
        j = i - 1
        while j > 0 and (text[j - 1].isalnum() or text[j - 1] in "_'’-"):
            j -= 1
        return j == i - 1 or not any(c.isalpha() for c in text[j:i - 1])
    return True


def _mentions(text: str, persons: list, found: list, lowercase: bool) -> list:
    """`names._mentions`: every other occurrence of a found name's words, found with `str.find`."""
    words = {w for r in persons for w in _WORD.findall(text[r.start:r.end]) if not N._is_word(w)}
    if not words:
        return []
    hay = text
    if lowercase:
        words = {w.lower() for w in words}
        hay = text.lower()
        if len(hay) != len(text):
            return N._mentions(text, persons, found, lowercase)
    covered = [(r.start, r.end) for r in found]
    out = []
    for word in words:
        if hay.count(word) < 2:  # only the found name itself
            continue
        i = hay.find(word)
        while i >= 0:
            end = i + len(word)
            if (end == len(text) or not (text[end].isalnum() or text[end] in "_'’-")) and _token_start(text, i) \
                    and not any(s <= i < e for s, e in covered):
                out.append(N._person(i, end, 0.5))
            i = hay.find(word, i + 1)
    return out
