"""The detect pass: every text of a batch analyzed once; findings stored compactly beside the row, and the batch's
partial statistics attached to its first row (so a Ray block and a local batch carry the same thing)."""

from __future__ import annotations

import json
import pickle
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

from hf_anon_mcp.decisions.cells import texts_in
from hf_anon_mcp.decisions.headers import header_hint
from hf_anon_mcp.decisions.stats import (SHORT_CELL, WORD, DatasetStats, TermStat, caps_pairs, context_key,
                                          possessive_cut)
from hf_anon_mcp.engine.analyzer import EngineConfig, get_analyzer
from hf_anon_mcp.engine.completion import (caps_text, cued_addresses, greeted_names, grow_names,
                                           lower_case_names, names_in_caps, people_named_as_orgs,
                                           labelled_names, postcode_addresses, unmarked_organisations)
from hf_anon_mcp.engine.detect import Finding, find_in_texts
from hf_anon_mcp.engine.entities import is_secret, risk_of
from hf_anon_mcp.engine.names import _english as is_english_word
from hf_anon_mcp.engine.surrogates import normalise
from hf_anon_mcp.models import RiskLevel

FINDINGS = "__hfanon_findings"
STATS = "__hfanon_stats"
WINDOWS = "__hfanon_windows"  # on a batch's first row: pickled {window: findings} of its long texts (`WindowWorker`)
TERM_TYPES = frozenset({"PERSON", "ORGANIZATION", "LOCATION", "NRP"})
# A "name" with a house number, retyped as a street (`_street_like`): still a term, so one that recurs across the
# dataset (`Brightloom Tier 2`, a team's signature) is kept like any frequent name.
NAME_WITH_NUMBER = "name-with-number"


# types the rules derive from a requested one: a date after "born" is a DOB; the two address names
_ALSO = {"DATE_TIME": ("DATE_OF_BIRTH",), "ADDRESS": ("STREET_ADDRESS",), "STREET_ADDRESS": ("ADDRESS",)}


def is_term(entity: str, detector: str) -> bool:
    return entity in TERM_TYPES or detector == NAME_WITH_NUMBER
_BIRTH_CUE = re.compile(r"(?i)\b(?:born|d\.?o\.?b\.?|date of birth|birth ?date|birthday)\b[^\n]{0,24}$")
_POSSESSIVE = re.compile(r"[’']s$")

# One finding as stored: (column index, text index within the cell, entity, start, end, score, detector)
Stored = tuple[int, int, str, int, int, float, str]


@dataclass(frozen=True)
class DetectSpec:
    """What the detect pass looks at: the engine, the columns whose texts are analyzed, and the columns whose
    statistics are gathered (every string column, ids included, so `decide` can type them)."""

    config: EngineConfig
    columns: tuple[str, ...]


def retype_birth_dates(text: str, findings: list[Finding]) -> list[Finding]:
    """A date right after "born", "DOB", "date of birth" is a date of birth: a direct identifier, not a date."""
    out = []
    for f in findings:
        if f.entity_type == "DATE_TIME" and _BIRTH_CUE.search(text[max(0, f.start - 40):f.start]):
            f = f._replace(entity_type="DATE_OF_BIRTH")
        out.append(f)
    return out


_EDGE_WORD = re.compile(r"\S+")


@lru_cache(maxsize=1)
def _stop_words() -> frozenset[str]:
    from spacy.lang.en.stop_words import STOP_WORDS

    return frozenset(STOP_WORDS) | {"hi", "hello", "hey", "dear", "thanks", "thank", "regards", "cheers"}


def _is_stop(token: str) -> bool:
    bare = token.strip(".,;:!?\"()[]").lower().replace("’", "'")
    return bare.split("'")[0] in _stop_words() if bare else True


def clean_names(text: str, findings: list[Finding]) -> list[Finding]:
    """Trim greeting and function words off name-like spans (`I'm Roman Novak` -> `Roman Novak`, `My Aurora Hub`
    -> `Aurora Hub`), and drop person spans holding a code (`Order ORD-468539`): names have no digits, handles
    aside; a name with a house number is a street (`_street_like`)."""
    out = []
    for f in findings:
        if f.entity_type in TERM_TYPES:
            words = list(_EDGE_WORD.finditer(text, f.start, f.end))
            while words and _is_stop(words[0].group()):
                words.pop(0)
            while words and _is_stop(words[-1].group()):
                words.pop()
            if not words:
                continue
            start, end = words[0].start(), words[-1].end()
            while end > start and text[end - 1] in ".,;:!?":
                end -= 1
            if f.entity_type == "PERSON" and not text[start:end].startswith("@") and any(
                    c.isdigit() for c in text[start:end]):
                if not _street_like(text[start:end]):
                    continue
                f = f._replace(entity_type="STREET_ADDRESS", score=min(f.score, 0.6), detector=NAME_WITH_NUMBER)
            f = f._replace(start=start, end=end)
        out.append(f)
    return out


_SPAN_WORD = re.compile(r"[^\s,]+")


def _street_like(span: str) -> bool:
    """A "person" the NER found with a number in it: a street and house number (`Rua Diadema 1903`, `USS Mahler FPO
    AA 70489`) when its numbers stand alone and one of its words is capitalised and no dictionary word; a code
    (`Order ORD-468539`, `Invoice 4411`) otherwise."""
    words = _SPAN_WORD.findall(span.strip(".;:"))
    numbers = [w for w in words if any(c.isdigit() for c in w)]
    names = [w for w in words if not any(c.isdigit() for c in w)]
    return (bool(names) and all(re.fullmatch(r"\d{1,5}[.]?", w) for w in numbers)
            and any(w[:1].isupper() and not is_english_word(w.lower().strip(".")) for w in names))


def term_of(text: str) -> str:
    """A detected name as a term: normalised, possessive cut (`Roman's` -> `roman`)."""
    return _POSSESSIVE.sub("", normalise(text)).strip(" .,;:!?\"'()[]")


_CACHE_TEXTS = 50_000  # findings remembered per process: repeated cells (system prompts, boilerplate) once
_CACHE_CHARS = 4_000  # longer texts are not remembered
_CACHE_BUDGET = 4_000_000  # characters remembered in all: unique 400-character rows would otherwise fill 50k
# entries (about 220 MB a worker at 200k rows, measured) and find nothing again


class TextMemo(dict):
    """A per-process memory of results by text; `chars` counts the characters of the texts it holds."""

    chars = 0

    def forget(self) -> None:
        self.clear()
        self.chars = 0


_cache = TextMemo()


def memoized(texts: list[str], find: Callable[[list[str]], list], cache: TextMemo, key: Callable[[str], object],
             max_texts: int = _CACHE_TEXTS, max_chars: int = _CACHE_CHARS, budget: int = _CACHE_BUDGET) -> list:
    """`find(texts)` for the texts not seen before: each distinct text is looked at once per process, and short
    ones are remembered in `cache` under `key(text)` (forgotten all at once past `max_texts` texts or `budget`
    characters)."""
    known = {t: cache[key(t)] for t in texts if len(t) <= max_chars and key(t) in cache}
    todo = list(dict.fromkeys(t for t in texts if t not in known))
    fresh = dict(zip(todo, find(todo))) if todo else {}
    keep = {t: found for t, found in fresh.items() if len(t) <= max_chars}
    chars = sum(map(len, keep))
    if len(cache) + len(keep) > max_texts or cache.chars + chars > budget:
        cache.forget()
    cache.update((key(t), found) for t, found in keep.items())
    cache.chars += chars
    known.update(fresh)
    return [known[t] for t in texts]


def cached_find(texts: list[str], config: EngineConfig, windows_found=None) -> list[list[Finding]]:
    """`find_in_texts` with a per-process memory of short texts already analyzed with this config: a value repeated
    across batches (or across calls in the MCP server) is detected once."""
    # a rebuilt analyzer (new settings, a test) must not reuse old findings
    engine = 0 if config.patterns_only else id(get_analyzer(config))
    return memoized(texts, lambda todo: find_in_texts(todo, config, windows_found), _cache,
                    lambda t: (engine, config, t))


class WindowWorker:
    """Callable class: {"windows": [text]} -> the same with "found": [pickled findings of each window] (one row).

    The driver shares the windows of a long cell out over the pool before the cell's batch is detected
    (`pipeline.windows_ahead`): one 700k-character cell is otherwise one process's NER while the other cores wait."""

    def __init__(self, config: EngineConfig):
        self.config = config
        warm(config)

    def __call__(self, batch: dict[str, list]) -> dict[str, list]:
        from hf_anon_mcp.engine.detect import analyze_windows

        found = analyze_windows(batch["windows"], self.config)
        return {"windows": batch["windows"], "found": [pickle.dumps(found, protocol=pickle.HIGHEST_PROTOCOL)]}


class DetectWorker:
    """Callable class (see `runners.base.BatchWorker`): loads the engine once, then maps batch -> batch + findings."""

    def __init__(self, spec: DetectSpec):
        self.spec = spec
        warm(spec.config)
        self.hinted = {c for c in spec.columns if header_hint(c)}
        entities = spec.config.entities
        self.wanted = None if entities is None else set(entities).union(*(_ALSO.get(e, ()) for e in entities))

    def __call__(self, batch: dict[str, list]) -> dict[str, list]:
        columns = self.spec.columns
        n = len(next(iter(batch.values()))) if batch else 0
        where: list[tuple[int, int, int]] = []  # (row, column index, text index) of each text
        texts: list[str] = []
        for ci, col in enumerate(columns):
            for row, value in enumerate(batch[col]):
                for ti, text in enumerate(texts_in(value)):
                    where.append((row, ci, ti))
                    texts.append(text)
        ahead = batch.get(WINDOWS)
        found = cached_find(texts, self.spec.config, pickle.loads(ahead[0]) if ahead and ahead[0] else None)
        if not self.spec.config.patterns_only:
            caps = [i for i, t in enumerate(texts) if caps_text(t)]
            if caps:
                extra = names_in_caps([texts[i] for i in caps], lambda ts: cached_find(ts, self.spec.config))
                for i, more in zip(caps, extra):
                    found[i] = found[i] + [f for f in more if not any(f.start < g.end and g.start < f.end
                                                                      for g in found[i])]
        stored: list[list[Stored]] = [[] for _ in range(n)]
        stats = DatasetStats(rows=n)
        row_terms: list[set[str]] = [set() for _ in range(n)]
        row_words: list[set[str]] = [set() for _ in range(n)]
        row_pairs: list[set[str]] = [set() for _ in range(n)]
        wanted = self.wanted
        for (row, ci, ti), text, findings in zip(where, texts, found):
            col = columns[ci]
            findings = clean_names(text, retype_birth_dates(text, findings))
            if not self.spec.config.patterns_only:
                findings = unmarked_organisations(text, people_named_as_orgs(text, findings))
                findings = labelled_names(text, greeted_names(text, findings))
                findings = grow_names(text, lower_case_names(text, findings))
            findings = postcode_addresses(text, cued_addresses(text, findings))
            if wanted is not None:  # the rules add types too: a policy's `entities` bounds them like the engine's
                findings = [f for f in findings if f.entity_type in wanted or is_secret(f.entity_type)]
            cstats = stats.column(col)
            cstats.nested = cstats.nested or not isinstance(batch[col][row], str)
            cstats.add(text, [(f.entity_type, f.start, f.end) for f in findings])
            if col in self.hinted and len(text.strip()) <= SHORT_CELL and isinstance(batch[col][row], str):
                stats.short_values.setdefault(col, set()).add(text.strip())
            row_words[row].update(possessive_cut(map(str.lower, WORD.findall(text))))
            row_pairs[row].update(caps_pairs(text))
            for f in findings:
                stored[row].append((ci, ti, f.entity_type, f.start, f.end, f.score, getattr(f, "detector", "")))
                value = text[f.start:f.end]
                if is_term(f.entity_type, f.detector):
                    term = term_of(value)
                    if not term:
                        continue
                    stat = stats.terms.setdefault(term, TermStat())
                    if term not in row_terms[row]:
                        row_terms[row].add(term)
                        stat.rows += 1
                    stat.entities[f.entity_type] += 1
                    stat.columns.add(col)
                    if len(stat.contexts) < 16:
                        stat.contexts.add(context_key(text, f.start, f.end))
                elif risk_of(f.entity_type) is RiskLevel.high and len(value) <= 200:
                    stats.values.setdefault(normalise(value), f.entity_type)
        for words, pairs in zip(row_words, row_pairs):
            stats.word_rows.update(words)
            stats.pair_rows.update(pairs)
        out = {k: v for k, v in batch.items() if k != WINDOWS}
        out[FINDINGS] = [json.dumps(s, separators=(",", ":")) for s in stored]
        out[STATS] = [pickle.dumps(stats, protocol=pickle.HIGHEST_PROTOCOL)] + [None] * (n - 1) if n else []
        return out


def warm(config: EngineConfig) -> None:
    """Load what the profile needs once per process: the compiled scanner (fast) or the analyzer (others)."""
    if config.patterns_only:
        from hf_anon_mcp.engine.fastscan import get_scanner

        get_scanner(config)
    else:
        get_analyzer(config)


def stored_findings(encoded: str | None) -> list[Stored]:
    return [tuple(f) for f in json.loads(encoded)] if encoded else []
