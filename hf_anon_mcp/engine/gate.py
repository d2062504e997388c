"""Skip Presidio's per-pattern bookkeeping on texts where none of a recognizer's patterns can match."""

from __future__ import annotations

from presidio_analyzer import PatternRecognizer
from presidio_analyzer import pattern_recognizer as presidio_patterns


def gate_pattern_recognizers(recognizers: list, context_threshold: float | None = None) -> int:
    """Give each plain `PatternRecognizer` an `analyze` that first asks whether any of its patterns matches at all.

    Presidio's pattern loop times and logs every pattern and builds its result list even when nothing matches,
    ~25 µs a recognizer and cell; one `search` per pattern is a few µs. Results are unchanged: when a pattern
    matches, Presidio's own `analyze` runs as before. Recognizers that override `analyze` are left alone.

    With `context_threshold` (NER mode: the analysis score threshold), a recognizer whose every pattern scores
    below it and that has no checksum of its own (US driver licences 0.01-0.3, passports 0.05-0.1) can only report
    a finding that a context word lifted, and Presidio's enhancer finds context words as substrings of the
    lower-cased tokens around the match: with none anywhere in the cell the recognizer is skipped.
    Returns how many were gated.
    """
    gated = 0
    for recognizer in recognizers:
        if type(recognizer).analyze is PatternRecognizer.analyze and recognizer.patterns:
            needs_context = context_threshold is not None and _only_context_lifts(recognizer, context_threshold)
            recognizer.analyze = _gated(recognizer, tuple(w.lower() for w in recognizer.context) if needs_context
                                        else ())
            gated += 1
    return gated


def scores_are_fixed(recognizer) -> bool:
    """A pattern recognizer whose findings keep their pattern's score unless a context word lifts it: no checksum of
    its own (`validate_result` can raise a score to 1.0) and no deny-list."""
    return (isinstance(recognizer, PatternRecognizer) and not recognizer.deny_list
            and type(recognizer).validate_result is PatternRecognizer.validate_result)


def _only_context_lifts(recognizer: PatternRecognizer, threshold: float) -> bool:
    return (bool(recognizer.context) and scores_are_fixed(recognizer)
            and all(p.score < threshold for p in recognizer.patterns))


def _gated(recognizer: PatternRecognizer, context: tuple[str, ...] = ()):
    analyze = recognizer.analyze

    def gated_analyze(text, entities, nlp_artifacts=None, regex_flags=None):
        if context:
            lower = text.lower()
            if not any(word in lower for word in context):
                return []
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
