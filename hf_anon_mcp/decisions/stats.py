"""Dataset statistics gathered while detecting: per column and per candidate term, mergeable across batches.

Each detect batch yields a partial `DatasetStats`; partials are merged on the driver (local pool or Ray) in any order
(merging is associative and commutative), so the decisions do not depend on who ran which batch. Sizes are bounded
per column (capped sets and counters); what grows with the data is one entry per distinct candidate term and per
distinct word, which is what the decisions need.
"""

from __future__ import annotations

import re
import zlib
from collections import Counter
from dataclasses import dataclass, field

DISTINCT_CAP = 50_000  # distinct values tracked per column; beyond it a column counts as "all distinct"
VALUES_CAP = 256  # values (with counts) kept per column: enough to know a categorical column's labels
SHAPES_CAP = 64
CONTEXTS_CAP = 16
SHORT_CELL = 64  # characters: a cell this short may be one value (a name, a phone) rather than prose

WORD = re.compile(r"[^\W\d_][\w'’.-]*[^\W_]|[^\W\d_]", re.UNICODE)
_CLASS = str.maketrans(
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789",
    "a" * 26 + "A" * 26 + "9" * 10,
)
_RUNS = re.compile(r"(.)\1+")
_DIGIT = re.compile(r"\d")
_LETTER = re.compile(r"[^\W\d_]")
_POSSESSIVE_END = ("'s", "’s")


def shape(value: str) -> str:
    """A cell's shape: letters a/A, digits 9, runs collapsed (`ORD-468539` -> `A-9`, `Jo Li` -> `Aa Aa`)."""
    text = value.strip()[:48].translate(_CLASS)
    text = re.sub(r"[^\x00-\x7f]", "a", text)
    return _RUNS.sub(r"\1", text)


def value_hash(value: str) -> int:
    return zlib.crc32(value.encode("utf-8", "surrogatepass")) ^ (len(value) << 32)


@dataclass
class ColumnStats:
    """What a column looks like as a whole: how long, how unique, what shape, how much of it is which entity."""

    name: str
    cells: int = 0
    chars: int = 0
    words: int = 0
    multiword: int = 0  # cells of 3+ words
    no_space: int = 0
    with_digit: int = 0
    with_letter: int = 0
    nested: bool = False
    distinct: set[int] = field(default_factory=set)
    distinct_capped: bool = False
    values: Counter = field(default_factory=Counter)
    values_capped: bool = False
    shapes: Counter = field(default_factory=Counter)
    whole: Counter = field(default_factory=Counter)  # entity -> cells it covers (mostly) whole
    any: Counter = field(default_factory=Counter)  # entity -> cells with a finding of it

    def add(self, text: str, spans: list[tuple[str, int, int]]) -> None:
        """Count one text of the column with its findings (entity, start, end)."""
        stripped = text.strip()
        if not stripped:
            return
        self.cells += 1
        self.chars += len(stripped)
        n_words = len(stripped.split())
        self.words += n_words
        self.multiword += n_words >= 3
        self.no_space += n_words == 1
        self.with_digit += _DIGIT.search(stripped) is not None
        self.with_letter += _LETTER.search(stripped) is not None
        if not self.distinct_capped:
            self.distinct.add(value_hash(stripped))
            if len(self.distinct) > DISTINCT_CAP:
                self.distinct_capped, self.distinct = True, set()
        if len(stripped) <= SHORT_CELL and not self.values_capped:
            self.values[stripped] += 1
            if len(self.values) > VALUES_CAP:
                self.values_capped, self.values = True, Counter()
        cell_shape = shape(stripped)
        if len(self.shapes) < SHAPES_CAP or cell_shape in self.shapes:
            self.shapes[cell_shape] += 1
        else:
            self.shapes["*"] += 1
        seen: set[str] = set()
        covered: Counter = Counter()
        for entity, start, end in spans:
            seen.add(entity)
            covered[entity] += end - start
        for entity in seen:
            self.any[entity] += 1
            if covered[entity] >= 0.6 * len(stripped):
                self.whole[entity] += 1

    def merge(self, other: "ColumnStats") -> None:
        for name in ("cells", "chars", "words", "multiword", "no_space", "with_digit", "with_letter"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.nested = self.nested or other.nested
        if self.distinct_capped or other.distinct_capped:
            self.distinct_capped, self.distinct = True, set()
        else:
            self.distinct |= other.distinct
            if len(self.distinct) > DISTINCT_CAP:
                self.distinct_capped, self.distinct = True, set()
        if self.values_capped or other.values_capped:
            self.values_capped, self.values = True, Counter()
        else:
            self.values.update(other.values)
            if len(self.values) > VALUES_CAP:
                self.values_capped, self.values = True, Counter()
        self.shapes.update(other.shapes)
        self.whole.update(other.whole)
        self.any.update(other.any)

    # ---- derived ------------------------------------------------------------------------------------------
    @property
    def distinct_count(self) -> int:
        return self.cells if self.distinct_capped else len(self.distinct)

    @property
    def uniqueness(self) -> float:
        return self.distinct_count / self.cells if self.cells else 0.0

    @property
    def mean_words(self) -> float:
        return self.words / self.cells if self.cells else 0.0

    @property
    def mean_chars(self) -> float:
        return self.chars / self.cells if self.cells else 0.0

    def dominant_shape(self) -> tuple[str, float]:
        if not self.shapes:
            return "", 0.0
        top, count = self.shapes.most_common(1)[0]
        return top, count / max(1, self.cells)


@dataclass
class TermStat:
    """A candidate term (a detected name, organisation or place): where and how it was detected."""

    rows: int = 0
    entities: Counter = field(default_factory=Counter)
    columns: set[str] = field(default_factory=set)
    contexts: set[int] = field(default_factory=set)

    def merge(self, other: "TermStat") -> None:
        self.rows += other.rows
        self.entities.update(other.entities)
        self.columns |= other.columns
        if len(self.contexts) < CONTEXTS_CAP:
            self.contexts |= set(list(other.contexts)[: CONTEXTS_CAP - len(self.contexts)])


@dataclass
class DatasetStats:
    """Everything the decide pass reads: rows, column statistics, candidate terms, word document frequencies and
    the values of direct identifiers found (for propagation)."""

    rows: int = 0
    columns: dict[str, ColumnStats] = field(default_factory=dict)
    terms: dict[str, TermStat] = field(default_factory=dict)
    word_rows: Counter = field(default_factory=Counter)  # lower-cased word -> rows holding it
    pair_rows: Counter = field(default_factory=Counter)  # "word word" of two adjacent capitalised words -> rows
    values: dict[str, str] = field(default_factory=dict)  # normalised direct-identifier value -> entity type
    short_values: dict[str, set[str]] = field(default_factory=dict)  # column -> its short cells (header-hinted)

    def column(self, name: str) -> ColumnStats:
        if name not in self.columns:
            self.columns[name] = ColumnStats(name)
        return self.columns[name]

    def merge(self, other: "DatasetStats") -> "DatasetStats":
        self.rows += other.rows
        for name, col in other.columns.items():
            if name in self.columns:
                self.columns[name].merge(col)
            else:
                self.columns[name] = col
        for term, stat in other.terms.items():
            if term in self.terms:
                self.terms[term].merge(stat)
            else:
                self.terms[term] = stat
        self.word_rows.update(other.word_rows)
        self.pair_rows.update(other.pair_rows)
        for value, entity in other.values.items():
            self.values.setdefault(value, entity)
        for name, vals in other.short_values.items():
            self.short_values.setdefault(name, set()).update(vals)
        return self


_CAPS_RUN = re.compile(r"(?<![\w'’-])[A-ZÀ-Þ][\w'’-]*(?:[ \t]+[A-ZÀ-Þ][\w'’-]*)+")


def caps_pairs(text: str) -> set[str]:
    """Adjacent capitalised words, lower-cased (`michael smith`, `lumen dock`): how many rows hold a multi-word
    name or product as a phrase. The rows of each word alone only bound that from above (`michael` of `Port
    Michael` and `smith` of `Smith Group` say nothing of `Michael Smith`)."""
    out = set()
    for run in _CAPS_RUN.finditer(text):
        words = [_without_possessive(w) for w in run.group().lower().split()]
        out.update(f"{a} {b}" for a, b in zip(words, words[1:]))
    return out


def _without_possessive(word: str) -> str:
    return word[:-2] if word.endswith(_POSSESSIVE_END) else word


def possessive_cut(words) -> set[str]:
    """Lower-cased words, each without a possessive `'s` (`roman's` -> `roman`)."""
    out = set(words)  # distinct first: a row repeats its words, and few end in 's
    cut = [w for w in out if w.endswith(_POSSESSIVE_END)]
    if cut:
        out.difference_update(cut)
        out.update(w[:-2] for w in cut)
    return out


def context_key(text: str, start: int, end: int) -> int:
    """The words just before and after a span, lower-cased: how many different contexts a term appears in."""
    before = WORD.findall(text[max(0, start - 24):start])
    after = WORD.findall(text[end:end + 24])
    key = f"{before[-1].lower() if before else ''}\x1f{after[0].lower() if after else ''}"
    return zlib.crc32(key.encode("utf-8", "surrogatepass"))
