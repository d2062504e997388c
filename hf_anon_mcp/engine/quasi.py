"""Quasi-identifier recognizers: ages, postal codes and job titles, which Presidio does not look for.

Each is narrow on purpose: a bare number or a common noun is no identifier; the same number after "turned" or a
noun on its own line of a signature block is. Policies that do not want quasi-identifiers leave these entity types
out (`entities`), like any other.
"""

from __future__ import annotations

import importlib
import pkgutil
import re
from functools import lru_cache

import regex
from presidio_analyzer import EntityRecognizer, LocalRecognizer, Pattern, PatternRecognizer, RecognizerResult
from presidio_analyzer.nlp_engine import NlpArtifacts


class AgeRecognizer(PatternRecognizer):
    """A person's age: `79 year old`, `31 y/o`, `aged 45`, `just turned 60`, `when he was 78`. Only the number
    is the finding, so "year old" stays readable."""

    PATTERNS = [
        Pattern("N years old", r"\b\d{1,3}(?=[ -]?(?i:years?|yrs?)[ -]old\b|[ -]?(?i:y/o|yo)\b)", 0.6),
        # `\K` (the `regex` module Presidio compiles with) starts the finding after the keyword: cheaper than
        # a lookbehind tried at every position.
        Pattern("aged / turned N", r"\b(?i:aged?|turned|turning|age:)[ \t]{1,2}\K\d{1,3}\b(?![.,]?\d)", 0.6),
        Pattern("when someone was N",
                r"\b(?i:when|since)[ \t](?i:he|she|i|they|we|you)[ \t](?i:was|were)[ \t]\K\d{1,3}\b(?![.,]?\d)",
                0.55),
    ]
    CONTEXT = ["age", "aged", "old", "born", "turned", "years"]

    def __init__(self) -> None:
        super().__init__(supported_entity="AGE", patterns=self.PATTERNS, context=self.CONTEXT, name="AgeRecognizer",
                         global_regex_flags=re.UNICODE)

    def invalidate_result(self, pattern_text: str) -> bool | None:
        return not 0 < int(pattern_text) <= 120


class PostalCodeRecognizer(PatternRecognizer):
    """A postal code announced as one (`ZIP: 75534-030`, `postcode SW1A 1AA`, `PLZ 8592`): digits alone are
    no postal code, but after the word they are, in any country's format. Codes inside address blocks are
    covered by the address extension instead."""

    PATTERNS = [
        Pattern("postal code after its keyword",
                r"\b(?i:zip(?:[ -]?code)?|postal[ -]?code|post[ -]?code|plz|postleitzahl|code postal|cep)"
                r"[ \t]*[:#]?[ \t]*\K"
                r"(?:\d{3,6}(?:[ -]\d{2,4})?(?:[ ]?[A-Z]{2}\b)?|[A-Z]{1,2}\d[A-Z\d]?[ ]?\d[A-Z]{2}|[A-Z]\d[A-Z][ ]?\d[A-Z]\d)"
                r"(?![\w-])", 0.6),
    ]

    def __init__(self) -> None:
        super().__init__(supported_entity="ZIP_CODE", patterns=self.PATTERNS, name="PostalCodeRecognizer",
                         global_regex_flags=re.UNICODE)


# Head nouns of job titles beyond those in Faker's English job lists (which are UK-flavoured).
_MORE_HEADS = """
driver cleaner installer attendant packager soldier distributor clerk cashier waiter waitress chef cook janitor
mechanic electrician plumber carpenter farmer guard receptionist salesperson nanny caregiver courier labourer
laborer welder machinist painter baker butcher tailor sheriff judge pastor priest intern founder president ceo cto
cfo coo vp supervisor foreman dispatcher bartender barber hairdresser housekeeper landscaper logger miner
repairer fabricator assembler inspector estimator appraiser auditor bookkeeper teller investigator detective
officer sergeant lieutenant captain director manager coordinator administrator specialist technician consultant
controller librarian accountant writer nurse physician dentist pharmacist therapist aide assistant operator
tender setter grader sorter sewer loader mover porter usher host hostess steward stewardess concierge
""".split()
_NOT_HEADS = frozenset({"person", "boy", "make", "land", "copy", "sub", "staff", "crew", "emeritus", "associate",
                        "visitor", "runner", "professional", "sewer"})


@lru_cache(maxsize=1)
def job_heads() -> frozenset[str]:
    """Last words of Faker's English job titles (`Accountant, chartered` -> accountant) plus common US ones."""
    import faker.providers.job as job

    heads = set(_MORE_HEADS)
    for module in pkgutil.iter_modules(job.__path__):
        if module.name.startswith("en"):
            for title in importlib.import_module(f"{job.__name__}.{module.name}").Provider.jobs:
                word = title.split(",")[0].split()[-1].lower()
                if word.isalpha():
                    heads.add(word)
    return frozenset(heads - _NOT_HEADS)


_LINE = regex.compile(r"(?m)^[ \t?•·*\-]*(?P<title>\p{L}[\p{L}'’\- ,&/]{1,70}?)[ \t]*$")
_APPOSITIVE = regex.compile(r"(?:,[ \t]+the|\b(?i:works?|worked|working)[ \t]+as[ \t]+an?|\b(?i:i'm|i[ \t]+am)[ \t]+an?)"
                            r"[ \t]+(?P<title>(?:[\p{L}'’\-]+[ \t]+){0,3}[\p{L}'’\-]+)(?=[ \t]*[,.!?;]|$)")
_AGENT_SUFFIX = regex.compile(r"\p{L}{3,}(?:er|or|ist|ian|ant|grapher)$")


class JobTitleRecognizer(LocalRecognizer):
    """Job titles (TITLE): a line of its own in a multi-line block (a signature, a profile) whose last word is a
    job noun, or a title set off as an apposition (`Marie, the Packager, said`) or after "works as a"."""

    def __init__(self) -> None:
        super().__init__(supported_entities=["TITLE"], name="JobTitleRecognizer")

    def load(self) -> None:  # the word list is built at first use
        pass

    def analyze(self, text: str, entities: list[str], nlp_artifacts: NlpArtifacts | None = None
                ) -> list[RecognizerResult]:
        heads = job_heads()
        results = []
        if text.count("\n") >= 2:
            for m in _LINE.finditer(text):
                title = m.group("title")
                words = title.replace(",", " ").split()
                if not 1 <= len(words) <= 6 or "," in title and " and " not in title:
                    continue
                last = words[-1].lower()
                if last in heads:
                    results.append(self._result(m.start("title"), m.end("title"), 0.6))
                elif len(words) <= 4 and _AGENT_SUFFIX.match(last) and not words[0][0].isdigit():
                    results.append(self._result(m.start("title"), m.end("title"), 0.45))
        for m in _APPOSITIVE.finditer(text):
            if m.group("title").split()[-1].lower() in heads:
                results.append(self._result(m.start("title"), m.end("title"), 0.6))
        return results

    def _result(self, start: int, end: int, score: float) -> RecognizerResult:
        return RecognizerResult("TITLE", start, end, score,
                                recognition_metadata={RecognizerResult.RECOGNIZER_NAME_KEY: self.name,
                                                      RecognizerResult.RECOGNIZER_IDENTIFIER_KEY: self.id})


def build_quasi_recognizers() -> list[EntityRecognizer]:
    """Registered by `engine.recognizers.build_extra_recognizers`."""
    return [AgeRecognizer(), PostalCodeRecognizer(), JobTitleRecognizer()]
