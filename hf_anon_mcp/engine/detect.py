"""Analyze many strings at once: repeated values analyzed once, NER batched through `nlp.pipe`, overlaps resolved."""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import re
import threading
from functools import lru_cache

from presidio_analyzer import PatternRecognizer, RecognizerResult

from hf_anon_mcp.engine.addresses import extend_addresses
from hf_anon_mcp.engine.analyzer import EngineConfig, get_analyzer
from hf_anon_mcp.engine.fastscan import fast_analyze
from hf_anon_mcp.engine.names import extend_names
from hf_anon_mcp.engine.postprocess import refine


class Finding(NamedTuple):
    """A detected span: small and picklable, so worker processes can return it cheaply."""

    entity_type: str
    start: int
    end: int
    score: float


def find_in_texts(texts: Sequence[str], config: EngineConfig) -> list[list[Finding]]:
    """`analyze_texts` as plain tuples."""
    return [[Finding(r.entity_type, r.start, r.end, round(r.score, 4)) for r in res]
            for res in analyze_texts(texts, config)]


def analyze_texts(texts: Sequence[str], config: EngineConfig) -> list[list[RecognizerResult]]:
    """Findings for each text, in input order, without overlapping spans.

    Identical strings (frequent in real columns: names, cities, boilerplate) are analyzed once; NER runs batched
    through `nlp.pipe`, and only on texts with letters; each recognizer runs only on texts it could match.
    """
    with _lock(config):
        if config.patterns_only:  # the fast profile: one compiled multi-pattern pass (engine.fastscan)
            return fast_analyze(texts, config)
        return _analyze_texts(texts, config)


@lru_cache(maxsize=8)
def _lock(config: EngineConfig) -> threading.Lock:
    """One analysis at a time per engine in a process: spaCy pipelines are not documented as thread-safe, and
    threads gain nothing on CPU-bound NER (the GIL); concurrent jobs interleave batch by batch."""
    return threading.Lock()


def _analyze_texts(texts: Sequence[str], config: EngineConfig) -> list[list[RecognizerResult]]:
    analyzer = get_analyzer(config)
    unique = list(dict.fromkeys(t for t in texts if t and not t.isspace()))
    long_texts = {t: chunks(t) for t in unique if len(t) > CHUNK_CHARS}
    if long_texts:
        pieces = [piece for parts in long_texts.values() for _, piece in parts]
        unique = [t for t in unique if t not in long_texts] + list(dict.fromkeys(pieces))
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
            results = extend_names(text, results)
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
            for text, artifacts in nlp_engine.process_batch(worded, config.language, batch_size=64):
                run(text, artifacts)
            for text in unique:
                if text not in found:  # no letters, no names: tokenize only, skip NER
                    run(text, nlp_engine._doc_to_nlp_artifact(nlp.make_doc(text), config.language))
    for text, parts in long_texts.items():
        found[text] = [_shifted(r, offset) for offset, piece in parts for r in found.get(piece, [])]
    return [found.get(t, []) for t in texts]


CHUNK_CHARS = 100_000


def chunks(text: str, size: int = CHUNK_CHARS) -> list[tuple[int, str]]:
    """(offset, piece) cuts of a long text at whitespace, each at most `size` characters.

    spaCy refuses texts over `nlp.max_length` (1M characters) and NER memory grows with length; a 10 MB cell
    is analyzed piece by piece instead. An entity cut by a boundary is rare: cuts fall on whitespace, preferably
    a line break.
    """
    out, start = [], 0
    while start < len(text):
        end = min(start + size, len(text))
        if end < len(text):
            cut = max(text.rfind("\n", start + size // 2, end), text.rfind(" ", start + size // 2, end))
            end = cut + 1 if cut > start else end
        out.append((start, text[start:end]))
        start = end
    return out


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


def resolve_overlaps(results: list[RecognizerResult]) -> list[RecognizerResult]:
    """One finding per stretch of overlapping findings: their union, typed by the strongest (score, then length).

    Presidio returns every recognizer's opinion (a URL inside an email, a date inside a phone number). A report
    must count each piece of text once, and replacing the union means no fragment of a weaker span survives.
    """
    merged: list[RecognizerResult] = []
    cluster: list[RecognizerResult] = []
    end = -1
    for res in sorted(results, key=lambda r: (r.start, -r.end)):
        if cluster and res.start >= end:
            merged.append(_union(cluster))
            cluster = []
        cluster.append(res)
        end = max(end, res.end) if len(cluster) > 1 else res.end
    if cluster:
        merged.append(_union(cluster))
    return merged


def _union(cluster: list[RecognizerResult]) -> RecognizerResult:
    best = max(cluster, key=lambda r: (r.score, r.end - r.start))
    if len(cluster) == 1:
        return best
    return RecognizerResult(best.entity_type, min(r.start for r in cluster), max(r.end for r in cluster), best.score,
                            best.analysis_explanation, best.recognition_metadata)
