"""Analyze many strings at once: repeated values analyzed once, NER batched through `nlp.pipe`, overlaps resolved."""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

from functools import lru_cache

from presidio_analyzer import PatternRecognizer, RecognizerResult

from hf_anon_mcp.engine.analyzer import EngineConfig, get_analyzer


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

    Identical strings (frequent in real columns: names, cities, boilerplate) are analyzed once.
    """
    analyzer = get_analyzer(config)
    unique = list(dict.fromkeys(t for t in texts if t and not t.isspace()))
    found: dict[str, list[RecognizerResult]] = {}
    kwargs = dict(
        language=config.language,
        entities=list(config.entities) if config.entities else None,
        score_threshold=config.score_threshold,
        allow_list=list(config.allow_list) or None,
        ad_hoc_recognizers=[_deny_recognizer(config.deny_list, config.language)] if config.deny_list else None,
    )
    if config.patterns_only:
        for text in unique:
            found[text] = resolve_overlaps(analyzer.analyze(text=text, **kwargs))
    else:
        batches = analyzer.nlp_engine.process_batch(unique, config.language, batch_size=64)
        for text, artifacts in batches:
            found[text] = resolve_overlaps(analyzer.analyze(text=text, nlp_artifacts=artifacts, **kwargs))
    return [found.get(t, []) for t in texts]


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
