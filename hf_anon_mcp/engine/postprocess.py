"""False-positive control applied to Presidio's raw findings, before overlaps are merged."""

from __future__ import annotations

import re

from presidio_analyzer import RecognizerResult

# Technical words the small NER model takes for organisations or people ("IBAN", "SSN", "PIN").
_NOT_NAMES = frozenset({"iban", "ssn", "pin", "cvv", "cvc", "id", "url", "ip", "api", "dob", "vat", "swift", "bic",
                        "atm", "otp", "faq", "pdf", "sms", "gps", "utc", "gmt", "email", "e-mail", "tel", "fax",
                        "zip", "po", "apt", "suite", "n/a",
                        # configuration field names (`USERNAME`, `PASSWORD` in a .env or YAML file)
                        "username", "password", "passwd", "pwd", "token", "secret", "hostname", "localhost"})
_NER_TYPES = frozenset({"PERSON", "ORGANIZATION", "LOCATION", "NRP"})
# Code, not a name: brackets, quotes or `=` (`key="ClearTextPassword`), an UPPER_SNAKE constant (`SNYK_TOKEN`), a
# dotted or slashed path (`Swift.Bool`, `external-secrets.io/v1beta1`), a version (`jjwt-jackson-0.11.2`), a word
# mixing letters and 2+ digits (`sgp_652d9a2e48FC7E`, `BcAeb6640ad7`), a masked run (`glpat-XXXXXXXX`), a
# command-line flag (`curl -X POST`), a DNA sequence (`TAGTACCCGAGCTTACCG`).
# Handles and CamelCase user names (`@Louis_Tomlinson`, `MildredGaddis`) look like code too but are people: they stay.
_CODE_LIKE = re.compile(
    r"[=(){}\[\]<>\"$;]|\b[A-Z0-9]+(?:_[A-Z0-9]+)+\b|[^\W_]{2}[./][^\W_]{2}|\d+\.\d+\.\d"
    r"|(?=[^\W_]*\d[^\W_]*\d)(?=[^\W_]*[^\W\d_][^\W_]*[^\W\d_])[^\W_]{5,}|([xX*#])\1{3}"
    r"|(?:^|\s)--?[A-Za-z][\w-]*(?=\s|$)|\b[ACGTUN]{10,}\b")
# Greetings, thanks and apologies NER takes into the name they lead (`Sorry Kwame,`, `Thanks Priya`): never part of it.
_LEAD_WORDS = re.compile(r"(?i:hi|hello|hey|dear|thanks|thank you|sorry|welcome|congrats|cheers|ok|okay|yes|no|"
                         r"please|bye|goodbye|good (?:morning|afternoon|evening))[,!]?\s+(?=[^\W\d_])")
# More digits in a row than any written date holds (`xoxp-572370529330-...` read as a date).
_LONG_NUMBER = re.compile(r"\d{9}")


def refine(text: str, results: list[RecognizerResult]) -> list[RecognizerResult]:
    """Drop NER findings that are technical acronyms, code identifiers or hold no letters (digit groups tagged
    ORGANIZATION), and URLs cut out of a longer word (`os.environ.ge` in `os.environ.get(`)."""
    return [r for r in results if not _spurious(text, r)]


def without_lead_words(text: str, results: list[RecognizerResult]) -> list[RecognizerResult]:
    """Persons found with the greeting or apology that leads them (`Sorry Kwame`, `Dear Ms Lindqvist`) lose that
    word: it is no one's name, and kept in a person's span it made `Sorry Kwame` a phrase recurring with every
    customer's first name. Run after names are grown, which may reach back over it."""
    out = []
    for r in results:
        lead = _LEAD_WORDS.match(text, r.start) if r.entity_type == "PERSON" else None
        if lead is not None and lead.end() < r.end:
            r = RecognizerResult(r.entity_type, lead.end(), r.end, r.score, r.analysis_explanation,
                                 r.recognition_metadata)
        out.append(r)
    return out


def _spurious(text: str, r: RecognizerResult) -> bool:
    value = text[r.start:r.end]
    if r.entity_type in _NER_TYPES:
        bare = value.strip(" .,:;'\"()")
        if bare.lower() in _NOT_NAMES or not any(c.isalpha() for c in bare):
            return True
        if not _from_ner(r) or "@" in bare:
            return False
        return _CODE_LIKE.search(bare) is not None or text[r.start - 1:r.start] == "$"
    if r.entity_type == "DATE_TIME" and _from_ner(r):
        return _LONG_NUMBER.search(value) is not None
    if r.entity_type == "URL" and "://" not in value and not value.lower().startswith("www."):
        after = text[r.end:r.end + 1]
        return (after.isalnum() or after in "_(") if after else False
    return False


def _from_ner(r: RecognizerResult) -> bool:
    return (r.recognition_metadata or {}).get("recognizer_name") == "SpacyRecognizer"
