"""Recognizers we add to Presidio's predefined ones, each for a gap measured on the dev data (bench/evaluate.py).

Every recognizer here is a Presidio recognizer (patterns + validation + context words), so scores, context boosts
and allow/deny lists work as users of Presidio expect. All rules are general formats, not lists of dev values.
"""

from __future__ import annotations

import re
from functools import lru_cache

from presidio_analyzer import EntityRecognizer, LocalRecognizer, Pattern, PatternRecognizer, RecognizerResult
from presidio_analyzer.predefined_recognizers import CreditCardRecognizer


class AnyCardNumberRecognizer(CreditCardRecognizer):
    """Card numbers of every issuer range and length (12-19 digits: Maestro, 2-series Mastercard, 19-digit Visa,
    JCB, UnionPay), grouped by spaces or dashes, validated by Presidio's own Luhn check.

    Presidio's pattern only admits numbers starting 1/3/4/5/6 in 13-16 digit shapes, so a quarter of the dev
    file's (valid, Faker-made) card numbers went through untouched.
    """

    PATTERNS = [Pattern("Card number, any issuer (Luhn-checked)", r"\b\d(?:[ -]?\d){11,18}\b", 0.3)]

    def __init__(self) -> None:
        super().__init__(patterns=self.PATTERNS, name="AnyCardNumberRecognizer")

    def validate_result(self, pattern_text: str) -> bool:
        digits = EntityRecognizer.sanitize_value(pattern_text, self.replacement_pairs)
        if len(set(digits)) < 3:  # 0000 0000 0000 0000 and friends are not cards
            return False
        return super().validate_result(pattern_text)


_SUFFIXES = (
    "Street|Streets|St|Avenue|Ave|Road|Rd|Boulevard|Blvd|Lane|Ln|Drive|Dr|Court|Ct|Way|Place|Pl|Terrace|Ter|"
    "Parkway|Pkwy|Highway|Hwy|Circle|Cir|Square|Squares|Sq|Trail|Trl|Crescent|Close|Row|Mews|Walk|Gardens|Plaza|"
    "Alley|Loop|Pike|Ridge|Crossing|Fort|Station|Mill|Mall|Junction|Heights|Harbor|Haven|Manor|Meadows?|Mount|"
    "Port|Ranch|Springs?|Valley|Village|Views?|Vista|Points?|Parks?|Estates?|Falls|Fields?|Forks?|Grove|Hills?|"
    "Islands?|Lakes?|Landing|Oval|Pass|Radial|Rapids?|Shores?|Spurs?|Stravenue|Summit|Throughway|Tunnel|Turnpike|"
    "Underpass|Union|Wells?|Expressway|Extension|Freeway|Green|Cove|Creek|Bridge|Bluffs?|Bend|Camp|Canyon|Cape|"
    "Causeway|Center|Centre|Corners?|Course|Curve|Dale|Dam|Divide|Flats?|Ford|Forest|Garden|Gateway|Glen|Hollow|"
    "Inlet|Key|Knolls?|Lodge|Motorway|Neck|Orchard|Prairie|Ramp|Ridge|Route|Shoal|Skyway|Track|Trafficway|Trace"
)
_UNIT = r"(?:,?\s*(?:Apt\.?|Apartment|Suite|Ste\.?|Unit|Flat|Floor|Fl\.?|Room|#)\s*#?\d+[A-Za-z]?)?"
_WORD = r"[A-ZÀ-Þ][\w'.-]*"


class StreetAddressRecognizer(PatternRecognizer):
    """Street addresses: `1668 Glyn St`, `14 Crown Street, Suite 321`, `Pfarrgasse 91`, `ul. Lipowa 5`, units,
    PO boxes and military addresses, and a ZIP after a state code. Presidio has no address recognizer, and the
    small NER model tags only fragments of addresses as places."""

    PATTERNS = [
        Pattern("number + street + suffix (+ unit)",
                rf"\b\d{{1,6}}[A-Za-z]?\s+(?:{_WORD}\s+){{0,4}}(?:{_SUFFIXES})\b\.?{_UNIT}", 0.6),
        Pattern("street word with a suffix + number (continental)",
                r"\b(?:[A-ZÀ-Þ][\w'-]*\s+)?[A-ZÀ-Þ][\w'-]*(?:stra(?:ss|ß)e|gasse|weg|platz|allee|gade|vej|katu|"
                r"laan|straat|plein|utca|ulica|torget|väg|vägen|gatan)\s+\d{1,5}[a-z]?\b", 0.6),
        Pattern("street prefix word + name + number",
                r"\b(?:ul\.|u\.|rue|via|calle|avenida|rua|av\.|viale|piazza|boulevard|chemin|carrer|strada)\s+"
                r"(?:[\w'.-]+\s+){1,4}\d{1,5}[a-z]?\b", 0.55),
        Pattern("unit", r"\b(?:Apt\.?|Apartment|Suite|Ste\.)\s*#?\d+[A-Za-z]?\b", 0.5),
        Pattern("PO box / military", r"\b(?:P\.?\s?O\.?\s*Box|PSC|Unit)\s+\d{1,6}(?:,?\s*Box\s+\d{1,6})?"
                                     r"(?:\s*(?:APO|FPO|DPO)\s+A[AEP]\s+\d{5})?", 0.6),
        Pattern("state + ZIP", r"\b(?:A[KLRZ]|C[AOT]|D[CE]|FL|GA|HI|I[ADLN]|K[SY]|LA|M[ADEINOST]|N[CDEHJMVY]|"
                               r"O[HKR]|PA|RI|S[CD]|T[NX]|UT|V[AT]|W[AIVY])\s+\d{5}(?:-\d{4})?\b", 0.6),
    ]
    CONTEXT = ["address", "live", "lives", "located", "street", "ship", "deliver", "delivery", "mail", "home",
               "office", "apartment", "suite", "postal", "zip"]

    def __init__(self) -> None:
        super().__init__(supported_entity="STREET_ADDRESS", patterns=self.PATTERNS, context=self.CONTEXT,
                         name="StreetAddressRecognizer", global_regex_flags=re.UNICODE)


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


def build_extra_recognizers() -> list[EntityRecognizer]:
    """Our PII recognizers (secrets live in `engine.secrets`)."""
    return [AnyCardNumberRecognizer(), StreetAddressRecognizer(), HandleRecognizer(), TitledNameRecognizer(),
            GazetteerNameRecognizer()]
