"""Presidio's single-token recognizers (URL, email, IP address) run only on the words that could hold a match.

Their regexes are scanned from every position of the text: the URL recognizer's four 6,000-character patterns
(every top-level domain spelled out) cost 0.6 ms on a 200-character row, more than the rest of the patterns
together. None of these entities contains whitespace, so running the same recognizer on each whitespace-delimited
word that holds a cheap trigger (`x.yz`, `@`) finds exactly the same spans.
"""

from __future__ import annotations

import re

from presidio_analyzer import PatternRecognizer, RecognizerResult
from presidio_analyzer.predefined_recognizers import EmailRecognizer, IpRecognizer, UrlRecognizer


class TokenWindowMixin:
    """Run a `PatternRecognizer` only on the non-whitespace runs that contain a `TRIGGER` match."""

    TRIGGER: re.Pattern[str]

    def analyze(self, text: str, entities, nlp_artifacts=None, regex_flags=None) -> list[RecognizerResult]:
        results: list[RecognizerResult] = []
        end = -1
        for hit in self.TRIGGER.finditer(text):
            if hit.start() < end:
                continue  # inside a word already analyzed
            start = _word_start(text, hit.start())
            end = _word_end(text, hit.end())
            for r in super().analyze(text[start:end], entities, nlp_artifacts, regex_flags):
                r.start += start
                r.end += start
                results.append(r)
        return results


_SPACE = re.compile(r"\s")


def _word_start(text: str, pos: int) -> int:
    while pos > 0 and not text[pos - 1].isspace():
        pos -= 1
    return pos


def _word_end(text: str, pos: int) -> int:
    found = _SPACE.search(text, pos)
    return found.start() if found else len(text)


class WordUrlRecognizer(TokenWindowMixin, UrlRecognizer):
    """Presidio's `UrlRecognizer` on words holding `name.tld`-like text or `://`."""

    TRIGGER = re.compile(r"[\w-]\.[^\W\d_]{2}|://")

    def __init__(self, supported_language: str = "en") -> None:
        super().__init__(supported_language=supported_language, name="UrlRecognizer")


class WordEmailRecognizer(TokenWindowMixin, EmailRecognizer):
    """Presidio's `EmailRecognizer` on words holding an `@`."""

    TRIGGER = re.compile("@")

    def __init__(self, supported_language: str = "en") -> None:
        super().__init__(supported_language=supported_language, name="EmailRecognizer")


class WordIpRecognizer(TokenWindowMixin, IpRecognizer):
    """Presidio's `IpRecognizer` on words holding a digit or hex group next to a dot or colon."""

    TRIGGER = re.compile(r"\d\.\d|[0-9A-Fa-f]:[0-9A-Fa-f:]|::")

    def __init__(self, supported_language: str = "en") -> None:
        super().__init__(supported_language=supported_language, name="IpRecognizer")


def windowed_replacements(language: str) -> dict[str, PatternRecognizer]:
    """Presidio recognizer name -> the same recognizer, run word by word."""
    return {"UrlRecognizer": WordUrlRecognizer(language), "EmailRecognizer": WordEmailRecognizer(language),
            "IpRecognizer": WordIpRecognizer(language)}
