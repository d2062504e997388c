"""Phone numbers: one cheap pass for digit-group candidates, then `phonenumbers` validation or a phone word nearby.

Presidio's `PhoneRecognizer` runs `phonenumbers.PhoneNumberMatcher` over the whole text once per region (eight by
default): 1.5 ms of a 3.6 ms patterns-only row, and it still misses numbers that are announced as phones but are
not valid in those regions (`Phone: 451 5986`, `Desk: +41 (0)96 471 07 95`, `call 72 128 827`).
"""

from __future__ import annotations

import re
from functools import lru_cache

import phonenumbers
from phonenumbers import PhoneMetadata
from presidio_analyzer import AnalysisExplanation, LocalRecognizer, RecognizerResult
from presidio_analyzer.predefined_recognizers import PhoneRecognizer

# Digit groups that may be a phone number: optional +/00 country prefix, (area) groups, separators, extension.
_CANDIDATE = re.compile(
    r"(?<![\w+/.:-])(?:\+|\b00)?\(?\d+(?:(?:[ .\-/]|\s?\(|\)\s?)\d+)*"
    r"(?:\s?(?:x|ext\.?|#)\s?\d{1,6})?(?![\w/:]|[.-]\d)"
)
# Words that announce a phone number just before it (`Phone:`, `call me on`, `Fax`, `reach me at`).
_CONTEXT = re.compile(
    r"(?:phone|mobile|cell|tel|telephone|fax|desk|call|ring|text|sms|whats ?app|contact|reach|dial|answering|"
    r"my number|hotline|helpline|landline|registered)\b[^\n\d]{0,20}(?:\n[^\n\d]{0,3})?$",
    re.IGNORECASE,
)
_SSN_SHAPE = re.compile(r"^\d{3}-\d{2}-\d{4}$")  # US social security numbers, not a phone format
_DOTTED_SINGLE = re.compile(r"(?:^|\.)\d\.")  # 1.2.3.4567: versions and section numbers, not phones
_EXT = re.compile(r"\s?(?:x|ext\.?|#)\s?\d{1,6}$")
_DATE_LIKE = re.compile(r"^\d{4}[-/.]\d{1,2}[-/.]\d{1,2}$|^\d{1,2}[-/.]\d{1,2}[-/.]\d{4}$")


class PhoneNumberRecognizer(LocalRecognizer):
    """Phone numbers in any of `regions`, validated by `phonenumbers`, or of phone shape right after a phone word.

    Scores: 0.6 with a phone word before it (whether or not `phonenumbers` knows the number plan), 0.5 when
    valid in a configured region. Presidio's context words still apply on top in NER mode.
    """

    CONTEXT = PhoneRecognizer.CONTEXT + ["mobile", "fax", "tel", "desk", "contact"]

    def __init__(self, regions: tuple[str, ...] = PhoneRecognizer.DEFAULT_SUPPORTED_REGIONS,
                 supported_language: str = "en") -> None:
        self.regions = tuple(regions)
        super().__init__(supported_entities=["PHONE_NUMBER"], supported_language=supported_language,
                         context=self.CONTEXT, name="PhoneNumberRecognizer")

    def load(self) -> None:
        pass

    def analyze(self, text: str, entities, nlp_artifacts=None) -> list[RecognizerResult]:
        return [RecognizerResult(
            "PHONE_NUMBER", start, end, score,
            AnalysisExplanation(recognizer=self.name, original_score=score, textual_explanation=why),
            {RecognizerResult.RECOGNIZER_NAME_KEY: self.name, RecognizerResult.RECOGNIZER_IDENTIFIER_KEY: self.id},
        ) for start, end, score, why in self.spans(text)]

    def spans(self, text: str, pos: int = 0, endpos: int | None = None) -> list[tuple[int, int, float, str]]:
        """(start, end, score, why) of the phone numbers in text[pos:endpos]; the fast scanner calls this on the
        digit runs it found, `analyze` on the whole text."""
        results = []
        for match in _CANDIDATE.finditer(text, pos, len(text) if endpos is None else endpos):
            value = match.group().rstrip(" (")
            digits = sum(c.isdigit() for c in _EXT.sub("", value))
            if not 7 <= digits <= 15 or _DATE_LIKE.match(value) or _DOTTED_SINGLE.search(value) \
                    or _SSN_SHAPE.match(value):
                continue
            announced = _CONTEXT.search(text, max(0, match.start() - 40), match.start()) is not None
            if announced:
                score, why = 0.6, "phone shape after a phone word"
            elif valid_in(value, self.regions):
                score, why = 0.5, "valid phone number (phonenumbers)"
            else:
                continue
            results.append((match.start(), match.start() + len(value), score, why))
        return results


@lru_cache(maxsize=65536)
def valid_in(value: str, regions: tuple[str, ...]) -> bool:
    """Whether `value` is a valid number for `phonenumbers`: international form once, else in one of `regions`.

    Long card-like runs (13+ digits passing Luhn) are left to the card recognizer. `phonenumbers.parse` and
    `is_valid_number` cost 50-150 µs a region on this machine, and an invalid number is tried in every region. The
    verdict comes first from `phonenumbers`' own metadata (`_metadata_verdict`: the number-type patterns of the
    region's country), and the library runs only where that reading is not plain: a leading 0 (trunk and
    international prefixes), prefixes it rewrites. Verdicts are kept per digit string.
    """
    plain = re.sub(r"\D", "", _EXT.sub("", value))
    if len(plain) >= 13 and _luhn(plain):
        return False
    international = value.startswith("+") or value.startswith("00")
    key = (plain, international, regions)
    verdict = _VERDICTS.get(key)
    if verdict is None:
        verdict = _valid(plain, international, value, regions)
        if len(_VERDICTS) > 200_000:
            _VERDICTS.clear()
        _VERDICTS[key] = verdict
    return verdict


_VERDICTS: dict[tuple, bool] = {}
_NO, _YES, _ASK = 0, 1, 2


def _valid(plain: str, international: bool, value: str, regions: tuple[str, ...]) -> bool:
    tried: set[int] = set()
    for region in (None,) if international else regions:
        if region is None:
            verdict = _international_verdict(plain[2:] if value.startswith("00") else plain)
        else:
            metadata = PhoneMetadata.metadata_for_region(region)
            if metadata is None or metadata.country_code in tried:
                continue  # an unknown region cannot parse a national number; one sharing a code gives the same verdict
            tried.add(metadata.country_code)
            verdict = _metadata_verdict(plain, metadata)
        if verdict == _NO:
            continue
        if verdict == _YES and not plain.startswith("0"):
            return True
        try:
            number = phonenumbers.parse("+" + value[2:] if value.startswith("00") else value, region)
        except phonenumbers.NumberParseException:
            continue
        if phonenumbers.is_valid_number(number):
            return True
    return False


@lru_cache(maxsize=None)
def _number_patterns(country_code: int) -> re.Pattern[str] | None:
    """Every number-type pattern (fixed line, mobile, toll free, ...) of every region using `country_code`: a
    national number valid there matches one of them (`phonenumbers`' own validity test is made of these)."""
    parts = []
    for region in phonenumbers.COUNTRY_CODE_TO_REGION_CODE.get(country_code, ()):
        metadata = (PhoneMetadata.metadata_for_nongeo_region(country_code) if region == "001"
                    else PhoneMetadata.metadata_for_region(region))
        for kind in _NUMBER_TYPES:
            desc = getattr(metadata, kind, None) if metadata else None
            if desc is not None and desc.national_number_pattern:
                parts.append(desc.national_number_pattern)
    return re.compile("(?:" + "|".join(parts) + ")") if parts else None


_NUMBER_TYPES = ("fixed_line", "mobile", "toll_free", "premium_rate", "shared_cost", "personal_number", "voip",
                 "pager", "uan", "voicemail")


def _metadata_verdict(plain: str, metadata) -> int:
    """National-format digits read with `metadata`'s region: `_NO` when the national number `phonenumbers.parse`
    would keep (the digits, without a leading country code or national prefix) matches none of the country's
    number patterns (then `phonenumbers` says invalid too), `_YES` when one does, `_ASK` for prefixes the library
    rewrites (international dialling, transform rules)."""
    if metadata.international_prefix and re.match(metadata.international_prefix, plain):
        return _ASK
    candidates = {plain}
    code = str(metadata.country_code)
    if plain.startswith(code):
        candidates.add(plain[len(code):])
    if metadata.national_prefix_for_parsing:
        for digits in list(candidates):
            prefix = re.match(metadata.national_prefix_for_parsing, digits)
            if prefix:
                if metadata.national_prefix_transform_rule and prefix.groups() and prefix.groups()[-1] is not None:
                    return _ASK
                candidates.add(digits[prefix.end():])
    patterns = _number_patterns(metadata.country_code)
    return _YES if patterns is not None and any(patterns.fullmatch(d) for d in candidates) else _NO


def _international_verdict(plain: str) -> int:
    """The same for +CC digits: the country code (1-3 digits, as `phonenumbers` reads it), then a national number
    matching one of that country's patterns, with or without a national prefix."""
    for size in (1, 2, 3):
        code = int(plain[:size] or 0)
        if code not in phonenumbers.COUNTRY_CODE_TO_REGION_CODE:
            continue
        rest = plain[size:]
        regions = phonenumbers.COUNTRY_CODE_TO_REGION_CODE[code]
        metadata = (PhoneMetadata.metadata_for_nongeo_region(code) if regions[0] == "001"
                    else PhoneMetadata.metadata_for_region(regions[0]))
        if metadata is None:
            return _ASK
        candidates = {rest}
        if metadata.national_prefix_for_parsing:
            prefix = re.match(metadata.national_prefix_for_parsing, rest)
            if prefix:
                if metadata.national_prefix_transform_rule and prefix.groups() and prefix.groups()[-1] is not None:
                    return _ASK
                candidates.add(rest[prefix.end():])
        patterns = _number_patterns(code)
        return _YES if patterns is not None and any(patterns.fullmatch(d) for d in candidates) else _NO
    return _NO


def _luhn(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch) * (2 if i % 2 else 1)
        total += d - 9 if d > 9 else d
    return total % 10 == 0
