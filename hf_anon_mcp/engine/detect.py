"""Analyze many strings at once: repeated values analyzed once, NER batched through `nlp.pipe`, overlaps resolved."""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

from presidio_analyzer import RecognizerResult

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
    )
    if config.patterns_only:
        for text in unique:
            found[text] = resolve_overlaps(analyzer.analyze(text=text, **kwargs))
    else:
        batches = analyzer.nlp_engine.process_batch(unique, config.language, batch_size=64)
        for text, artifacts in batches:
            found[text] = resolve_overlaps(analyzer.analyze(text=text, nlp_artifacts=artifacts, **kwargs))
    return [found.get(t, []) for t in texts]


def resolve_overlaps(results: list[RecognizerResult]) -> list[RecognizerResult]:
    """Keep the strongest of overlapping findings (higher score, then longer span), sorted by position.

    Presidio returns every recognizer's opinion (a URL inside an email, a phone inside a card number); a report
    must count each piece of text once.
    """
    kept: list[RecognizerResult] = []
    for res in sorted(results, key=lambda r: (-r.score, -(r.end - r.start), r.start)):
        if all(res.end <= k.start or res.start >= k.end for k in kept):
            kept.append(res)
    return sorted(kept, key=lambda r: r.start)
