"""Completing what NER half saw, on plain strings: the other half of a name, names in ALL-CAPS text, and addresses
introduced by a cue ("I live at", "address:") in formats our street patterns do not know.

These run after the analyzer (from the dataset-aware detect pass) and only grow or add spans next to evidence: a
found name, a cue phrase. They know nothing of datasets.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import regex

from hf_anon_mcp.engine.detect import Finding
from hf_anon_mcp.engine.names import _english as is_english_word
from hf_anon_mcp.engine.names import all_first_names, all_last_names, common_words, english_words

_PARTICLES = frozenset({"de", "del", "della", "der", "den", "di", "da", "do", "dos", "das", "du", "van", "von",
                        "la", "le", "ter", "ten", "bin", "ibn", "al", "el", "mac", "mc", "st"})
_NEXT_WORD = re.compile(r"[ \t]+([^\W\d_][\w'’-]*)")
_PREV_WORD = re.compile(r"([^\W\d_][\w'’-]*)[ \t]+$")


def _name_like(word: str, like: str) -> bool:
    """Could `word` be another part of the name `like` (same case style, not an ordinary word)?"""
    low = word.lower()
    if len(word) < 2 or low in _stop_words() or re.split(r"['’]", low)[0] in _stop_words():
        return False
    if low not in all_last_names() and (low in common_words() or is_english_word(low)):
        return False
    if like.isupper():
        return word.isupper()
    if like.islower():
        return word.islower()
    return word[0].isupper()


def _stop_words() -> frozenset[str]:
    from spacy.lang.en.stop_words import STOP_WORDS

    return STOP_WORDS


def grow_names(text: str, findings: list[Finding]) -> list[Finding]:
    """`Maria` + ` gomes` in lower-case text, `<first> OLSSON`, `Maria de Gruijter`: a person span grows over the
    next words that look like more of the same name (particles allowed inside), and over one capitalised
    non-word before it."""
    out = []
    for f in findings:
        if f.entity_type == "PERSON":
            span = text[f.start:f.end]
            end = f.end
            for _ in range(3):
                m = _NEXT_WORD.match(text, end)
                if not m:
                    break
                word = m.group(1)
                if len(word) == 1 and (span[:1].isupper() == word.isupper()):
                    # an initial inside the name: `Tamara T Stanković`, `benjamin a seiler`
                    after = _NEXT_WORD.match(text, m.end() + (text[m.end():m.end() + 1] == "."))
                    if after and _name_like(after.group(1), span):
                        end = after.end()
                        continue
                    break
                if word.lower() in _PARTICLES:
                    after = _NEXT_WORD.match(text, m.end())
                    if after and _name_like(after.group(1), span if not span.islower() else "x"):
                        end = after.end()
                        continue
                    break
                if not _name_like(word, span):
                    break
                end = m.end()
            start = f.start
            m = _PREV_WORD.search(text, max(0, start - 40), start)
            if m:
                word = m.group(1)
                first = word.lower() in _first_names() and (word[0].isupper() or span.islower())
                at_start = m.start() == 0 or text[:m.start()].rstrip().endswith((".", "!", "?", ":", "\n"))
                # a signature or a CV header (`Einojuhani Pyysalo`), not `RT @handle`
                line_start = ((m.start() == 0 or text[:m.start()].endswith("\n")) and not span.startswith("@")
                              and len(word) >= 3 and word[0].isupper() and word[1:].islower())
                if first or ((not at_start or line_start) and _name_like(word, span)):
                    start = m.start()
            f = f._replace(start=start, end=end)
        out.append(f)
    return out


def people_named_as_orgs(text: str, findings: list[Finding]) -> list[Finding]:
    """`Carolina Pedersoli` tagged ORGANIZATION: a span of 2-4 capitalised words that starts with a known first name
    (the gazetteer of `engine.names`) and holds no ordinary word is a person."""
    out = []
    for f in findings:
        if f.entity_type in ("ORGANIZATION", "LOCATION", "NRP"):
            before = _PREV_WORD.search(text, max(0, f.start - 40), f.start)
            if before and before.group(1)[0].isupper() and _gazetteer_name([before.group(1), text[f.start:f.end]]):
                f = f._replace(entity_type="PERSON", start=before.start())  # `Will Bauer` read as an org `Bauer`
            words = text[f.start:f.end].split()
            bare = [re.sub(r"['’]s$", "", w).strip(".,") for w in words]
            if len(words) == 1 and (_known_name(bare[0]) or _lone_first_name(text, f.start, bare[0])):
                f = f._replace(entity_type="PERSON")
            elif 2 <= len(words) <= 4 and all(_known_name(w) or len(w) == 1 or w.lower() in _PARTICLES
                                              for w in bare) and _known_name(bare[-1]):
                f = f._replace(entity_type="PERSON")  # `Faina D. Yefremova`, every word a known name part
            elif (len(words) >= 3 and (lead := _leading_name(bare)) >= 2
                    and bare[0].lower() in all_first_names()):
                # `Julieta S Almeida  Staff development`: a full name run into the words after it
                ends = [m.end() for m in re.finditer(r"\S+", text[f.start:f.end])]
                f = f._replace(entity_type="PERSON", end=f.start + len(text[f.start:f.start + ends[lead - 1]]
                                                                    .rstrip(".,")))
            elif (2 <= len(words) <= 4 and words[0].lower() in all_first_names()
                    and all(w[:1].isupper() or w.lower() in _PARTICLES for w in words)
                    and not any(is_english_word(w.lower().strip(".,")) for w in words[1:]
                                if w.lower() not in _PARTICLES)):
                f = f._replace(entity_type="PERSON")
        out.append(f)
    return out


def _leading_name(words: list[str]) -> int:
    """How many leading words make a name ending on a known surname (`Julieta S Almeida` of `Julieta S Almeida
    Staff`), 0 when none does."""
    lead = 0
    for i, w in enumerate(words):
        if not (_known_name(w) or len(w.rstrip(".")) == 1 or w.lower() in _PARTICLES):
            break
        if i and _known_name(w):
            lead = i + 1
    return lead


_LOCATIVE = re.compile(r"(?i)\b(?:the|in|at|from|to|into|near|of|via|visit|visiting|across|around|outside|inside|"
                       r"toward|towards)[ \t]+$")


def _lone_first_name(text: str, start: int, word: str) -> bool:
    """`Why is Rebecca so impulsive?` read as a place: a capitalised first name from the gazetteer that is no common
    word (`Victoria`, `Paris`, `Jordan` are) and does not follow a place preposition. WordNet lists many first names
    (biblical, mythical), so `_known_name`'s dictionary test cannot decide these. A lower-case word right after it
    (`Houston pride`) reads as a place or brand used as a modifier."""
    low = word.lower()
    after = _NEXT_WORD.match(text, start + len(word))
    attributive = after is not None and after.group(1).islower() and after.group(1) not in _stop_words()
    return (word[:1].isupper() and low in _first_names() and low not in common_words()
            and not _LOCATIVE.search(text, max(0, start - 16), start)
            and not attributive)  # `too much Houston pride`, `the Lyon warehouse`: a place or a brand


def _first_names() -> frozenset[str]:
    return all_first_names()


_NAME = r"([A-ZÀ-Þ][\w'’-]+|[A-ZÀ-Þ]{2,})(?:[ \t]+([A-ZÀ-Þ][\w'’-]+))?"
_GREETING = re.compile(rf"(?:^|(?<=[\s,.!?]))(?i:hi|hello|hey|dear|thanks|thank you|got it|morning|good morning|"
                       rf"good afternoon|welcome|bye)[ \t]*,?[ \t]+{_NAME}(?=[ \t]*[,!.:\n]|[ \t]*$)")
_SIGN_OFF = re.compile(rf"(?:^|(?<=[\s.!?]))(?:--+|—|(?i:cheers|best|regards|kind regards|best regards|thanks|"
                       rf"many thanks|sincerely|yours|cordially|talk soon|warmly))[ \t]*,?[ \t]*\n?[ \t]*{_NAME}"
                       rf"(?=[ \t]*(?:[,|(\n]|$|[ \t]+\S))")


def _gazetteer_name(words: list[str]) -> bool:
    """A known first name followed by a known last name (`Will Smith`, `marc dubois`)."""
    return (len(words) >= 2 and words[0].lower() in _first_names() and words[-1].lower() in all_last_names()
            and words[-1].lower() not in _stop_words())


_LOWER_PAIR = re.compile(r"(?<![\w@.-])([a-zà-ÿ][a-zà-ÿ'’-]+)[ \t]+([a-zà-ÿ][a-zà-ÿ'’-]+)(?![\w@-])")
_SELF = re.compile(rf"\b(?:I'm|I’m|I am|this is|it's|it’s|it is|my name's)[ \t]+{_NAME}")


def lower_case_names(text: str, findings: list[Finding]) -> list[Finding]:
    """`maria gomes` in lower-case writing: a known first name then a known last name, one of them no English
    word and neither a function word (`will smith` stays unless NER saw it)."""
    added = []
    for m in _LOWER_PAIR.finditer(text):
        first, last = m.group(1), m.group(2)
        if first in _stop_words() or not _gazetteer_name([first, last]):
            continue
        if is_english_word(first) and is_english_word(last):
            continue
        if not any(f.start < m.end() and m.start() < f.end and f.entity_type == "PERSON" for f in findings):
            added.append(Finding("PERSON", m.start(), m.end(), 0.5))
    if not added:
        return findings
    return [f for f in findings if not any(a.start <= f.start and f.end <= a.end for a in added)] + added


_LABELLED = re.compile(r"(?im)(?:^|[{,;]\s*\"?)(?:full name|name|customer(?: name)?|contact|patient|applicant|"
                       r"employee|client|from|to|attn|attention)\"?[ \t]*[:=][ \t]*\"?"
                       r"((?:[A-ZÀ-Þ][\w'’.-]*)(?:[ \t]+(?:[A-ZÀ-Þ][\w'’.-]*|[a-z]{1,3})){0,3})")


def labelled_names(text: str, findings: list[Finding]) -> list[Finding]:
    """`Name: Sieda Lopez`, `"customer": "Jo Li"`: a form field that names a person, the whole value."""
    added = []
    for m in _LABELLED.finditer(text):
        start, end = m.start(1), m.end(1)
        value = m.group(1).rstrip(".")
        end = start + len(value)
        words = value.split()
        if not words or any(w.lower() in _stop_words() for w in words[:1]) or not (
                _known_name(words[0]) or len(words) >= 2 or any(f.entity_type == "PERSON" and f.start < end
                                                                and start < f.end for f in findings)):
            continue
        added.append(Finding("PERSON", start, end, 0.6))
    if not added:
        return findings
    return [f for f in findings if not any(a.start <= f.start and f.end <= a.end or
                                           (f.entity_type == "PERSON" and a.start < f.end and f.start < a.end)
                                           for a in added)] + added


def greeted_names(text: str, findings: list[Finding]) -> list[Finding]:
    """Names right after a greeting (`Hi Jan!`, `Got it LENA,`) or a sign-off (`Cheers, Mads (Tier 2)`,
    `-- Bruce, Brightloom Support`) when the first word is a known first name: the places support text puts them."""
    added = []
    for rx in (_GREETING, _SIGN_OFF, _SELF):
        for m in rx.finditer(text):
            first, last = m.group(1), m.group(2)
            if first.lower() not in _first_names():
                continue
            end = m.end(2) if last and _name_like(last, first) else m.end(1)
            start = m.start(1)
            if not any(f.start < end and start < f.end and f.entity_type == "PERSON" for f in findings + added):
                added.append(Finding("PERSON", start, end, 0.5))
    if not added:
        return findings
    # a date or place NER saw in the same words (`I'm Jan.` read as January) gives way to the name
    return [f for f in findings if not any(a.start < f.end and f.start < a.end for a in added)] + added


def _known_name(word: str) -> bool:
    """A capitalised first or last name from the gazetteers that is no English or common word."""
    low = word.lower()
    return (word[:1].isupper() and (low in _first_names() or low in all_last_names())
            and low not in english_words() and low not in common_words())


_ORG_MARKERS = frozenset({
    "inc", "corp", "corporation", "co", "company", "ltd", "llc", "llp", "plc", "gmbh", "ag", "sa", "sas", "bv", "nv",
    "group", "holdings", "bank", "university", "college", "school", "academy", "hospital", "clinic", "institute",
    "foundation", "association", "society", "agency", "ministry", "department", "council", "committee", "club",
    "team", "airlines", "airways", "motors", "systems", "technologies", "technology", "labs", "lab", "solutions",
    "services", "partners", "international", "industries", "enterprises", "studio", "studios", "media", "press",
    "news", "times", "post", "network", "store", "shop", "market", "bros", "brothers", "sons", "ventures", "capital",
    "consulting", "software", "energy", "pharma", "health", "insurance", "church", "party", "union", "fc", "united",
    "city", "state", "government", "court", "office", "bureau", "service", "center", "centre", "museum", "library",
})


def unmarked_organisations(text: str, findings: list[Finding]) -> list[Finding]:
    """An organisation NER found that carries no organisation word (Inc, Bank, University...) and is one to three
    capitalised words: often a person the small model mistyped (`Kónya, Becker and Vasquez`). Typed PERSON so the
    default policy, which keeps organisations, does not keep them; real brands that recur are kept later as the
    dataset's own vocabulary (`decisions.decide`)."""
    out = []
    for f in findings:
        if f.entity_type == "ORGANIZATION":
            words = re.findall(r"[^\W\d_][\w'’.-]*", text[f.start:f.end])
            if (1 <= len(words) <= 3 and all(w[0].isupper() for w in words)
                    and not any(w.lower().strip(".") in _ORG_MARKERS for w in words)
                    and not any(c.isdigit() for c in text[f.start:f.end])
                    and not text[f.start:f.end].isupper()):
                f = f._replace(entity_type="PERSON", score=min(f.score, 0.5))
        out.append(f)
    return out


def caps_text(text: str) -> bool:
    """Mostly upper-case text (a shouted ticket): the NER model, trained on cased news, misses names in it."""
    letters = [c for c in text if c.isalpha()]
    return len(letters) >= 8 and sum(c.isupper() for c in letters) >= 0.8 * len(letters)


def names_in_caps(texts: list[str], find: Callable[[list[str]], list[list[Finding]]]) -> list[list[Finding]]:
    """Names found in the title-cased copy of each ALL-CAPS text (same length, so offsets hold), kept only where the
    span is not an ordinary word."""
    titled = [t.title() for t in texts]
    out = []
    for text, found in zip(texts, find(titled)):
        keep = [f for f in found if f.entity_type == "PERSON" and len(text) == len(text.title())
                and (any(not is_english_word(w.lower()) for w in text[f.start:f.end].split())
                     or _gazetteer_name(text[f.start:f.end].split()))]
        out.append(keep)
    return out


_POST_TOWN = regex.compile(
    r",[ \t]*(?:\d{5}|\d{4}[ \t]?\p{Lu}{2}|\d{2}-\d{3}|\p{Lu}{1,2}\d[\p{Lu}\d]?[ \t]\d\p{Lu}{2})"
    r"[ \t]+\p{Lu}[\p{L}\p{M}'’-]*(?:[ \t-]\p{Lu}[\p{L}\p{M}'’-]*){0,3}")
_ADDRESS_START = regex.compile(r"(?:^|[\n\"“:;(]|\.[ \t]|\b(?i:to|at|is|in|from|of|address|addr))[ \t]*")


def postcode_addresses(text: str, findings: list[Finding]) -> list[Finding]:
    """`Loispad 76, 6449 ZL Wâlterswâld`, `57, chemin Océane Dupré, 97698 Collin`: a street part holding a house
    number, then a postcode and a town after a comma, is an address whatever the country's street words."""
    if "," not in text or _DIGIT.search(text) is None:
        return findings
    added = []
    for m in _POST_TOWN.finditer(text):
        window_start = max(0, m.start() - 70)
        starts = [b.end() for b in _ADDRESS_START.finditer(text, window_start, m.start())]
        start = starts[-1] if starts else window_start
        street = text[start:m.start()]
        if not regex.search(r"\d", street) or not regex.search(r"\p{L}{3}", street) or "@" in street:
            continue
        start += len(street) - len(street.lstrip(" \t,"))
        added.append(Finding("STREET_ADDRESS", start, m.end(), 0.6))
    if not added:
        return findings
    kept = [f for f in findings if not any(a.start <= f.start and f.end <= a.end for a in added)
            and not (f.entity_type in ("STREET_ADDRESS", "ADDRESS") and any(a.start < f.end and f.start < a.end
                                                                           for a in added))]
    return kept + added


_CUE = re.compile(
    r"(?i)\b(?:i (?:now )?live (?:at|on)|(?:he|she|they) lives? (?:at|on)|(?<=[a-z] )lives? (?:at|on)|living (?:at|on)|"
    r"my (?:home |new |postal )?address is|(?:meet|see) (?:me|you|us|them) at|drops? (?:you|me) off at|"
    r"(?:home|postal|mailing|billing|shipping|delivery) address(?: is| to| at)?:?|address:|ship(?:ping)? (?:it )?to|"
    r"deliver(?:ed|y)? (?:it )?to|send (?:it|the (?:parcel|package|replacement|refund|invoice|order)) to|"
    r"moved to|(?:be )?arranged at|pick(?:ed)?[ -]?up (?:is )?at|"
    r"(?<!email )(?<!e-mail )(?<!mail )(?<!web )(?<!ip )(?<!mac )(?<!url )address(?:[ \t]+(?:is|to|at))?:?)"
    r"(?:[ \t]+|[ \t]*\n[ \t]*)"  # `address:` and the value on the next line (a form, a CV)
)
_DIGIT = re.compile(r"\d")
_TIME = re.compile(r"(?i)\d{1,2}(?:[:.]\d{2})?\s*(?:am\b|pm\b|a\.m|p\.m|o'?clock|h\b|hours?\b)|\d{1,2}:\d{2}")
_SEGMENT = re.compile(r"[^\n;!?]{6,90}?(?=\.(?:\s|$)|[\n;!?]|\s+(?:and|but|so|or)\s|$)")


def _place_words(value: str) -> bool:
    """After a weak cue (`lives on`, `meet you at`): a street word or a word no dictionary has (`midtvollen`,
    `Provence`), not `3 floors`."""
    from hf_anon_mcp.engine.addresses import _SUFFIXES

    return bool(re.search(rf"(?i)\b(?:{_SUFFIXES})\b", value)) or any(
        not is_english_word(w.lower()) for w in re.findall(r"[^\W\d_]{3,}", value))


# Every alternative of `_CUE` holds one of these; `_may_hold_cue` tests for them in ~3 µs where `_CUE.search` took
# ~70 µs on a 60-word row (a third of rows hold one: "see", "send" ...).
_CUE_NEEDLES = ("liv", "address", "meet", "see", "drop", "ship", "deliver", "send", "moved", "arranged", "pick")
# What `re`'s IGNORECASE matches to a needle's letter and `str.casefold` does not turn into it: `ı` and `İ` (which
# casefolds to `i` + U+0307) both match `i`.
_FOLD_I = {0x131: "i", 0x307: None}


def _may_hold_cue(text: str) -> bool:
    """Could `_CUE` match in `text`? A necessary condition, exact for `re`'s case-insensitive matching."""
    folded = text.casefold()
    if not folded.isascii():
        folded = folded.translate(_FOLD_I)
    return any(needle in folded for needle in _CUE_NEEDLES)


def cued_addresses(text: str, findings: list[Finding]) -> list[Finding]:
    """An address after a cue phrase, up to the end of its clause, when it holds a number and a capitalised word
    and no email or link. Formats vary too much by country for street patterns alone (`aleja Jaskółcza 03/64,
    35-662 Dębica`, `Studio 48C Mason Mission, Carlland YO5 2FY`)."""
    if not _may_hold_cue(text):
        return findings
    added = []
    for cue in _CUE.finditer(text):
        seg = _SEGMENT.match(text, cue.end())
        if not seg:
            continue
        value = seg.group().rstrip(" ,")
        if (not any(c.isdigit() for c in value) or not re.search(r"[^\W\d_]{3}", value) or "@" in value
                or "://" in value or value.lower().startswith(("is ", "the ", "a ", "an ")) or _TIME.match(value)):
            continue
        if "address" not in cue.group().lower() and not (  # a weak cue: `lives on`, `meet you at`
                (value[:1].isdigit() or value[:1].isupper() or text.islower()) and _place_words(value)):
            continue
        start, end = seg.start(), seg.start() + len(value)
        if any(f.entity_type in ("STREET_ADDRESS", "ADDRESS") and f.start <= start and f.end >= end for f in findings):
            continue
        added.append(Finding("STREET_ADDRESS", start, end, 0.6))
    if not added:
        return findings
    kept = [f for f in findings if not any(a.start <= f.start and f.end <= a.end and f.entity_type in
                                           ("LOCATION", "PERSON", "ORGANIZATION", "DATE_TIME", "ZIP_CODE",
                                            "STREET_ADDRESS") for a in added)]
    return kept + added
