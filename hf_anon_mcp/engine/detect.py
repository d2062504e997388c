"""Analyze many strings at once: repeated values analyzed once, NER batched through `nlp.pipe`, overlaps resolved."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import NamedTuple

import re
import threading
from functools import lru_cache

from more_itertools import constrained_batches

from presidio_analyzer import PatternRecognizer, RecognizerResult

from hf_anon_mcp.engine.addresses import extend_addresses
from hf_anon_mcp.engine.analyzer import EngineConfig, get_analyzer
from hf_anon_mcp.engine.entities import is_direct
from hf_anon_mcp.engine.fastscan import fast_analyze
from hf_anon_mcp.engine.names import extend_names
from hf_anon_mcp.engine.postprocess import refine, without_lead_words


class Finding(NamedTuple):
    """A detected span: small and picklable, so worker processes can return it cheaply."""

    entity_type: str
    start: int
    end: int
    score: float
    detector: str = "presidio"  # "rampart" when only the second detector saw it (profile thorough)


def find_in_texts(texts: Sequence[str], config: EngineConfig,
                  windows_found: Mapping[str, list[RecognizerResult]] | None = None) -> list[list[Finding]]:
    """`analyze_texts` as plain tuples."""
    return [[Finding(r.entity_type, r.start, r.end, round(r.score, 4), _detector(r)) for r in res]
            for res in analyze_texts(texts, config, windows_found)]


def _detector(result: RecognizerResult) -> str:
    name = (result.recognition_metadata or {}).get(RecognizerResult.RECOGNIZER_NAME_KEY)
    return "rampart" if name == "RampartRecognizer" else "presidio"


def analyze_texts(texts: Sequence[str], config: EngineConfig,
                  windows_found: Mapping[str, list[RecognizerResult]] | None = None) -> list[list[RecognizerResult]]:
    """Findings for each text, in input order, without overlapping spans.

    Identical strings (frequent in real columns: names, cities, boilerplate) are analyzed once; NER runs batched
    through `nlp.pipe`, and only on texts with letters; each recognizer runs only on texts it could match.
    `windows_found` holds windows of long texts already analyzed elsewhere (`analyze_windows` in other processes).
    """
    with _lock(config.presidio_config):
        if config.patterns_only:  # the fast profile: one compiled multi-pattern pass (engine.fastscan)
            return fast_analyze(texts, config)
        return _analyze_texts(texts, config, windows_found)


def analyze_windows(pieces: Sequence[str], config: EngineConfig) -> list[list[RecognizerResult]]:
    """Windows of long texts (`windows`) analyzed as `analyze_texts` analyzes them before joining them: so the
    windows of one long cell can be shared out over worker processes and handed back as `windows_found`."""
    with _lock(config.presidio_config):
        found = _analyze_unique(list(dict.fromkeys(pieces)), set(pieces), config)
    return [found.get(p, []) for p in pieces]


@lru_cache(maxsize=8)
def _lock(config: EngineConfig) -> threading.Lock:
    """One analysis at a time per engine in a process: spaCy pipelines are not documented as thread-safe, and
    threads gain nothing on CPU-bound NER (the GIL); concurrent jobs interleave batch by batch."""
    return threading.Lock()


def _analyze_texts(texts: Sequence[str], config: EngineConfig,
                   windows_found: Mapping[str, list[RecognizerResult]] | None = None) -> list[list[RecognizerResult]]:
    unique, long_texts = split_long(dict.fromkeys(t for t in texts if t and not t.isspace()))
    pieces = {piece for parts in long_texts.values() for _, piece in parts}
    ahead = windows_found or {}
    found = {p: ahead[p] for p in pieces if p in ahead}
    found.update(_analyze_unique([t for t in unique if t not in found], pieces, config))
    join_long(found, long_texts)
    if config.profile == "thorough":  # + the independent detector on the same unique texts, overlaps merged
        from hf_anon_mcp.engine.rampart import with_second_opinion

        whole = [t for t in dict.fromkeys(texts) if t in found]
        found.update(zip(whole, with_second_opinion(whole, [found[t] for t in whole], config, _all_entities(config))))
    return [found.get(t, []) for t in texts]


def _analyze_unique(unique: list[str], pieces: set[str], config: EngineConfig) -> dict[str, list[RecognizerResult]]:
    """Each of `unique` (no long texts; `pieces` are windows, given to spaCy a few at a time) analyzed: NER, then
    Presidio's recognizers with its artifacts, then our rules."""
    analyzer = get_analyzer(config)
    found: dict[str, list[RecognizerResult]] = {}
    everything = _all_entities(config)
    kwargs = dict(
        language=config.language,
        score_threshold=config.score_threshold,
        allow_list=list(config.allow_list) or None,
        ad_hoc_recognizers=[_deny_recognizer(config.deny_list, config.language)] if config.deny_list else None,
    )

    def run(text: str, artifacts) -> None:
        results = analyzer.analyze(text=text, entities=candidate_entities(text, everything),
                                   nlp_artifacts=artifacts, **kwargs)
        results = refine(text, results)
        if "PERSON" in everything:
            results = without_lead_words(text, extend_names(text, results))
        # the address step adds address and postcode spans whatever the policy asked for: keep what it asked for
        extended = extend_addresses(text, results)
        found[text] = resolve_overlaps([r for r in extended if r.entity_type in everything])

    if config.patterns_only:
        for text in unique:
            run(text, None)
    else:
        nlp_engine = analyzer.nlp_engine
        nlp = nlp_engine.nlp[config.language]
        worded = [t for t in unique if _HAS_LETTER.search(t)]
        # spaCy keeps every new string it meets (names, emails) in its vocabulary for the life of the process:
        # over 200k rows that grew a worker by ~100 MB. Docs made inside a memory zone are freed at its end;
        # nothing below keeps a reference to them.
        with nlp.memory_zone():
            # spaCy's batch holds every token of its docs: long texts and windows go a few at a time
            for group in ([t for t in worded if t not in pieces], [t for t in worded if t in pieces]):
                for batch in ner_batches(group):
                    for text, artifacts in nlp_engine.process_batch(batch, config.language, batch_size=len(batch)):
                        run(text, artifacts)
            for text in unique:
                if text not in found:  # no letters, no names: tokenize only, skip NER
                    run(text, nlp_engine._doc_to_nlp_artifact(nlp.make_doc(text), config.language))
    return found


# Cells longer than this are analyzed in overlapping windows; spaCy takes `WINDOW_BATCH` windows at a time.
WINDOW_CHARS = 20_000
WINDOW_OVERLAP = 2_000
WINDOW_BATCH = 2
NER_BATCH = 64  # texts a spaCy batch, up to WINDOW_BATCH * WINDOW_CHARS characters


def ner_batches(texts: list[str], count: int = NER_BATCH, chars: int = WINDOW_BATCH * WINDOW_CHARS) -> list[list[str]]:
    """Consecutive batches of at most `count` texts and about `chars` characters (a text is never split): 64
    documents of 20k characters in one batch held about 1.3 GB in spaCy (documents just under the window size)."""
    return [list(b) for b in constrained_batches(texts, chars, max_count=count, strict=False)]


def split_long(unique: Iterable[str]) -> tuple[list[str], dict[str, list[tuple[int, str]]]]:
    """The texts to analyze, long ones replaced by their windows, and each long text's (offset, window) list."""
    texts = list(unique)
    long_texts = {t: windows(t) for t in texts if len(t) > WINDOW_CHARS}
    if not long_texts:
        return texts, {}
    pieces = [piece for parts in long_texts.values() for _, piece in parts]
    return [t for t in texts if t not in long_texts] + list(dict.fromkeys(pieces)), long_texts


def join_long(found: dict[str, list], long_texts: dict[str, list[tuple[int, str]]]) -> None:
    """Each long text's findings: its windows' findings at their offsets, merged where windows overlap."""
    for text, parts in long_texts.items():
        found[text] = resolve_overlaps([_shifted(r, offset) for offset, piece in parts for r in found.get(piece, [])])


def windows(text: str, size: int = WINDOW_CHARS, overlap: int = WINDOW_OVERLAP) -> list[tuple[int, str]]:
    """(offset, window) pieces of a long text: at most `size` characters each, each starting about `overlap`
    characters before the previous one ends, cut at whitespace (a blank line, else a line break, else a space)
    and never inside a PEM private-key block.

    Costs that grow faster than a text (spaCy's batch memory, per-finding scans over a text's tokens or words)
    then stay those of one window: time grows linearly with the cell and memory stays that of a few windows (a
    733k-character cell cut in 100k pieces took 140 s and 3.0 GB). An entity cut by one window's edge lies whole
    in the next, within the overlap; the overlapping findings are merged by `join_long`.
    """
    if len(text) <= size:
        return [(0, text)]
    out: list[tuple[int, str]] = []
    start = 0
    while start + size < len(text):
        cut = _cut(text, start + size // 2, start + size)
        out.append((start, text[start:cut]))
        nxt = max(start + 1, cut - overlap)
        space = _SPACE.search(text, nxt, cut)
        start = space.end() if space else nxt
    out.append((start, text[start:]))
    return out


_SPACE = re.compile(r"\s")


def _cut(text: str, low: int, high: int) -> int:
    """Where to end a window: after the last blank line, line break or space in [low, high), outside PEM blocks."""
    for mark in ("\n\n", "\n", " "):
        found = text.rfind(mark, low, high)
        if found >= 0:
            cut = found + len(mark)
            break
    else:
        cut = high
    begin = text.rfind("-----BEGIN", low, cut)
    if begin > low and text.rfind("-----END", begin, cut) < 0:
        cut = begin  # end the window before the block: the next one holds it whole
    return cut


def _shifted(result: RecognizerResult, offset: int) -> RecognizerResult:
    return RecognizerResult(result.entity_type, result.start + offset, result.end + offset, result.score,
                            result.analysis_explanation, result.recognition_metadata)


_HAS_LETTER = re.compile(r"[^\W\d_]")
_SEVEN_DIGITS = re.compile(r"(?:\d\D{0,3}){7}")
# Entity types whose every recognizer needs 7+ digits close together (numbers, ids, phones, cards, IBANs).
_NEED_DIGITS = frozenset({"PHONE_NUMBER", "CREDIT_CARD", "US_SSN", "US_ITIN", "US_BANK_NUMBER", "US_PASSPORT",
                          "UK_NHS", "IBAN_CODE", "MEDICAL_LICENSE"})
# Pattern-only types (no NER source) that need at least one digit.
_NEED_A_DIGIT = frozenset({"IP_ADDRESS", "CRYPTO", "MAC_ADDRESS", "UUID", "US_DRIVER_LICENSE"})
_DIGIT = re.compile(r"\d")
# Pattern-only types whose every pattern needs this (Presidio compiles them case-insensitively, so letters are any
# letters): an IBAN starts with two letters and two digits, a DEA number is a letter then 7 digits.
_NEEDS = {"IBAN_CODE": re.compile(r"[^\W\d_]{2}\d{2}"), "MEDICAL_LICENSE": re.compile(r"[^\W\d_]\d{7}")}


def candidate_entities(text: str, everything: frozenset[str]) -> list[str]:
    """The entity types worth looking for in `text`: cheap character tests skip recognizers that cannot match.

    Presidio runs every recognizer on every text; most cells have no `@` and few digits, and the phone matcher
    alone (pure Python) was half of all analysis time.
    """
    skip: set[str] = set()
    if "@" not in text:
        skip.add("EMAIL_ADDRESS")
    if not _DIGIT.search(text):
        skip |= _NEED_DIGITS | _NEED_A_DIGIT
    elif not _SEVEN_DIGITS.search(text):
        skip |= _NEED_DIGITS
    if "." not in text and ":" not in text:
        skip |= {"URL", "IP_ADDRESS"}
    skip |= {entity for entity, needed in _NEEDS.items() if entity not in skip and not needed.search(text)}
    return [e for e in everything if e not in skip]


@lru_cache(maxsize=8)
def _all_entities(config: EngineConfig) -> frozenset[str]:
    if config.entities:
        return frozenset(config.entities) | ({"DENY_LIST"} if config.deny_list else set())
    supported = set(get_analyzer(config).get_supported_entities(config.language))
    return frozenset(supported | ({"DENY_LIST"} if config.deny_list else set()))


@lru_cache(maxsize=8)
def _deny_recognizer(terms: tuple[str, ...], language: str) -> PatternRecognizer:
    """A policy's deny-list: these exact terms are always PII (entity DENY_LIST)."""
    return PatternRecognizer(supported_entity="DENY_LIST", deny_list=list(terms), supported_language=language)


def resolve_overlaps(results: list[RecognizerResult], rank=None) -> list[RecognizerResult]:
    """One finding per stretch of overlapping findings: their union, typed by the strongest (see `_union`).

    Presidio returns every recognizer's opinion (a URL inside an email, a date inside a phone number). A report
    must count each piece of text once, and replacing the union means no fragment of a weaker span survives.
    `rank` (a key on a finding) picks the one that types a stretch instead of (score, length).
    """
    merged: list[RecognizerResult] = []
    cluster: list[RecognizerResult] = []
    end = -1
    for res in sorted(results, key=lambda r: (r.start, -r.end)):
        if cluster and res.start >= end:
            merged.append(_union(cluster, rank))
            cluster = []
        cluster.append(res)
        end = max(end, res.end) if len(cluster) > 1 else res.end
    if cluster:
        merged.append(_union(cluster, rank))
    return merged


def _union(cluster: list[RecognizerResult], rank=None) -> RecognizerResult:
    """Typed by `rank`'s best, by default a direct identifier when one is in the cluster (an IPv6 address NER also
    calls an organisation must not be kept as a quasi-identifier), then by score, then by length."""
    best = max(cluster, key=rank or (lambda r: (is_direct(r.entity_type), r.score, r.end - r.start)))
    if len(cluster) == 1:
        return best
    return RecognizerResult(best.entity_type, min(r.start for r in cluster), max(r.end for r in cluster), best.score,
                            best.analysis_explanation, best.recognition_metadata)
