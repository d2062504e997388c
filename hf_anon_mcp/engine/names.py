"""Person-name recognizers beyond the news-trained NER: @handles, honorific + name, a first-name gazetteer."""

from __future__ import annotations

import re
from functools import lru_cache

from presidio_analyzer import EntityRecognizer, LocalRecognizer, Pattern, PatternRecognizer, RecognizerResult

class HandleRecognizer(PatternRecognizer):
    """`@handles` name people on social media: usernames are identifiers too. An `@` preceded by a word
    character is an email address, not a handle. Tokenised corpora write `@ name`: one space is tolerated."""

    PATTERNS = [Pattern("@handle", r"(?<![\w.@/])@ ?(?=[A-Za-z0-9_]*[A-Za-z])[A-Za-z0-9_]{2,30}\b", 0.6)]

    def __init__(self) -> None:
        super().__init__(supported_entity="PERSON", patterns=self.PATTERNS, name="HandleRecognizer",
                         global_regex_flags=re.UNICODE)


class TitledNameRecognizer(PatternRecognizer):
    """An honorific followed by capitalised words is a person, honorific included (`Dr. Alan Ruiz`)."""

    PATTERNS = [Pattern("honorific + name", r"\b(?:Mr|Mrs|Ms|Miss|Mx|Dr|Prof|Sir|Dame|Madam|Mme|Mlle|Herr|Frau)"
                                            r"\.?\s+[A-ZÀ-Þ][\w'-]+(?:\s+[A-ZÀ-Þ]\.)?(?:\s+[A-ZÀ-Þ][\w'-]+)?", 0.7)]

    def __init__(self) -> None:
        super().__init__(supported_entity="PERSON", patterns=self.PATTERNS, name="TitledNameRecognizer",
                         global_regex_flags=re.UNICODE)


@lru_cache(maxsize=1)
def first_names() -> frozenset[str]:
    """Lower-cased first names from Faker's person providers (many locales): a gazetteer built at first use."""
    import importlib
    import pkgutil

    import faker.providers.person as person

    names: set[str] = set()
    for module in pkgutil.iter_modules(person.__path__):
        try:
            provider = importlib.import_module(f"faker.providers.person.{module.name}").Provider
        except (ImportError, AttributeError):
            continue
        for attr in ("first_names", "first_names_male", "first_names_female"):
            values = getattr(provider, attr, ())
            if not isinstance(values, (dict, tuple, list, set, frozenset)):
                continue
            names.update(n.lower() for n in (values.keys() if isinstance(values, dict) else values)
                         if isinstance(n, str) and n[:1].isalpha() and len(n) > 2)
    return frozenset(names - _COMMON_WORDS)


# Capitalised sentence starts that are also first names somewhere ("Will", "May", "Grace") are not names alone;
# the gazetteer rule needs a following capitalised word, and these never count as first names.
_COMMON_WORDS = frozenset({
    "will", "may", "june", "april", "august", "grace", "hope", "joy", "mark", "bill", "art", "rose", "summer",
    "dawn", "faith", "page", "rich", "major", "king", "guy", "the", "and", "for", "new", "san", "santa", "saint",
    "long", "young", "north", "south", "east", "west", "china", "india", "paris", "london", "victoria", "georgia",
    "carolina", "virginia", "florence", "jordan", "israel", "chad", "del", "van", "von", "der", "den", "sun",
    "star", "sky", "love", "angel", "christian", "royal", "lady", "don", "ali", "max", "per", "man", "can",
})
_TWO_CAPS = re.compile(r"\b([A-ZÀ-Þ][a-zà-ÿ]{2,})(\s+[A-ZÀ-Þ]\.)?\s+([A-ZÀ-Þ][\w'-]{1,})\b")


class GazetteerNameRecognizer(LocalRecognizer):
    """A known first name followed by a capitalised word is a full name (`Marisol Quintanilla`), whether or not
    the small news-trained NER model knows the surname."""

    def __init__(self) -> None:
        super().__init__(supported_entities=["PERSON"], name="GazetteerNameRecognizer", supported_language="en")

    def load(self) -> None:
        pass

    def analyze(self, text: str, entities, nlp_artifacts=None) -> list[RecognizerResult]:
        names = first_names()
        return [RecognizerResult("PERSON", m.start(), m.end(), 0.6)
                for m in _TWO_CAPS.finditer(text) if m.group(1).lower() in names
                and m.group(3).lower() not in _COMMON_WORDS]


def build_name_recognizers() -> list[EntityRecognizer]:
    """Our name recognizers, registered by `engine.recognizers.build_extra_recognizers`."""
    return [HandleRecognizer(), TitledNameRecognizer(), GazetteerNameRecognizer()]
