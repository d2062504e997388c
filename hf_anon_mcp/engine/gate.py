"""Skip Presidio's per-pattern bookkeeping on texts where none of a recognizer's patterns can match."""

from __future__ import annotations

from presidio_analyzer import PatternRecognizer
from presidio_analyzer import pattern_recognizer as presidio_patterns


def gate_pattern_recognizers(recognizers: list) -> int:
    """Give each plain `PatternRecognizer` an `analyze` that first asks whether any of its patterns matches at all.

    Presidio's pattern loop times and logs every pattern and builds its result list even when nothing matches,
    ~25 µs a recognizer and cell; one `search` per pattern is a few µs. Results are unchanged: when a pattern
    matches, Presidio's own `analyze` runs as before. Recognizers that override `analyze` are left alone.
    Returns how many were gated.
    """
    gated = 0
    for recognizer in recognizers:
        if type(recognizer).analyze is PatternRecognizer.analyze and recognizer.patterns:
            recognizer.analyze = _gated(recognizer)
            gated += 1
    return gated


def _gated(recognizer: PatternRecognizer):
    analyze = recognizer.analyze

    def gated_analyze(text, entities, nlp_artifacts=None, regex_flags=None):
        if _any_match(recognizer, text, regex_flags or recognizer.global_regex_flags):
            return analyze(text, entities, nlp_artifacts, regex_flags)
        return []

    return gated_analyze


def _any_match(recognizer: PatternRecognizer, text: str, flags: int) -> bool:
    for pattern in recognizer.patterns:
        if not pattern.compiled_regex or pattern.compiled_with_flags != flags:
            pattern.compiled_with_flags = flags  # the same cache Presidio fills, so it compiles once either way
            pattern.compiled_regex = presidio_patterns.re.compile(pattern.regex, flags=flags)  # Presidio's `regex`
        if pattern.compiled_regex.search(text, timeout=presidio_patterns.REGEX_TIMEOUT_SECONDS):
            return True
    return False
