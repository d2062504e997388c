"""Person-name recognizers beyond the news-trained NER: @handles, honorific + name, a first-name gazetteer."""

from __future__ import annotations

import re
from functools import lru_cache

from presidio_analyzer import EntityRecognizer, LocalRecognizer, Pattern, PatternRecognizer, RecognizerResult
from spacy.lang.en.stop_words import STOP_WORDS

from hf_anon_mcp.config import DEFAULT_SPACY_MODEL

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
    """Lower-cased first names that are no common English word (`will`, `grace` excluded)."""
    return all_first_names() - common_words()


@lru_cache(maxsize=1)
def all_last_names() -> frozenset[str]:
    """Lower-cased last names from Faker's person providers (many locales)."""
    return _faker_names(("last_names",))


@lru_cache(maxsize=1)
def all_first_names() -> frozenset[str]:
    """Lower-cased first names from Faker's person providers (many locales): a gazetteer built at first use."""
    return _faker_names(("first_names", "first_names_male", "first_names_female"))


def _faker_names(attrs: tuple[str, ...]) -> frozenset[str]:
    import importlib
    import pkgutil

    import faker.providers.person as person

    names: set[str] = set()
    for module in pkgutil.iter_modules(person.__path__):
        try:
            provider = importlib.import_module(f"faker.providers.person.{module.name}").Provider
        except (ImportError, AttributeError):
            continue
        for attr in attrs:
            values = getattr(provider, attr, ())
            if not isinstance(values, (dict, tuple, list, set, frozenset)):
                continue
            names.update(n.lower() for n in (values.keys() if isinstance(values, dict) else values)
                         if isinstance(n, str) and n[:1].isalpha() and len(n) > 2)
    return frozenset(names)


@lru_cache(maxsize=1)
def common_words() -> frozenset[str]:
    """English words that are also someone's first name somewhere: spaCy's stop words, Faker's English lorem
    vocabulary, and our own list of calendar, colour, family, royal and faith words."""
    from faker.providers.lorem.en_US import Provider as Lorem

    return frozenset(STOP_WORDS) | {w.lower() for w in Lorem.word_list} | _COMMON_WORDS


# Capitalised sentence starts that are also first names somewhere ("Will", "May", "Grace") are not names alone;
# the gazetteer rule needs a following capitalised word, and these never count as first names.
_COMMON_WORDS = frozenset({
    "will", "may", "june", "april", "august", "grace", "hope", "joy", "mark", "bill", "art", "rose", "summer",
    "dawn", "faith", "page", "rich", "major", "king", "guy", "the", "and", "for", "new", "san", "santa", "saint",
    "long", "young", "north", "south", "east", "west", "china", "india", "paris", "london", "victoria", "georgia",
    "carolina", "virginia", "florence", "jordan", "israel", "chad", "del", "van", "von", "der", "den", "sun",
    "star", "sky", "love", "angel", "christian", "royal", "lady", "don", "ali", "max", "per", "man", "can",
    "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday", "jan", "feb", "mar", "apr", "jun",
    "jul", "aug", "sep", "sept", "oct", "nov", "dec", "january", "february", "march", "july", "september", "october",
    "november", "december", "princess", "prince", "queen", "lord", "male", "female", "sister", "brother", "baby",
    "silver", "gold", "golden", "orange", "green", "red", "blue", "brown", "black", "white", "pink", "violet",
    "tiny", "fate", "jail", "wood", "bird", "charity", "marry", "viva", "tan", "marine", "kit", "til", "justice",
    "peace", "brain", "gal", "link", "jet", "sad", "darling", "tab", "berry", "muslim", "jewish", "catholic",
    "french", "english", "roman", "general", "true", "chance", "beat", "sterling", "honey", "sugar", "candy",
    # chat words no dictionary lists
    "lol", "lmao", "lmfao", "rofl", "omg", "idk", "smh", "pls", "plz", "haha", "hahaha", "hehe", "aww", "nah",
    "hmm", "wtf", "tbh", "imo", "imho", "btw", "fyi", "ikr", "yall", "yay", "yup", "nope", "gonna", "gotta",
    "wanna", "atleast", "dont", "cant", "wont", "didnt", "doesnt", "isnt", "ive", "thats", "whats", "app", "apps",
    "bio", "blog", "vlog", "vlogs", "selfie", "emoji", "hashtag", "retweet", "tweet", "tweets", "online", "fave",
    "collab", "mom", "mommy", "dad", "daddy", "bro", "sis", "fam", "homie", "homies", "guys", "dude",
    # technical words no dictionary lists
    "dataset", "datasets", "parquet", "jsonl", "json", "csv", "yaml", "toml", "github", "gitlab", "docker",
    "kubernetes", "python", "pypi", "conda", "linux", "ubuntu", "macos", "windows", "android", "iphone", "ios",
    "presidio", "spacy", "faker", "huggingface", "repo", "repos", "url", "urls", "api", "apis", "sdk", "cli",
    "config", "configs", "metadata", "backend", "frontend", "login", "logout", "username", "email", "emails",
    "google", "facebook", "twitter", "youtube", "instagram", "tiktok", "whatsapp", "linkedin", "reddit",
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


# ---- growing and propagating PERSON findings (a post-processing step, after Presidio) ----

_CAP = r"[A-ZÀ-Þ][\w'’-]+"
_ANY = r"[^\W\d_][\w'’-]+"
# Cue phrases that introduce a name: the name is the (capitalised) words that follow, or precede "lives on".
_CUES = [r"\bmy name is", r"\bmy name's", r"\bcalls? me", r"\bnamed (?:him|her|them)", r"\bmaiden name (?:is|was)",
         r"\bsaid", r"\b(?:follow(?:ing)? up|spoke|speak|talk(?:ed)?) (?:with|to)",
         r"\b(?:starring|directed by|written by|signed by)"]
_CUED = re.compile(rf"(?i:{'|'.join(_CUES)})\s+({_CAP}(?:\s+[A-ZÀ-Þ]\.?(?=\s))?(?:\s+{_CAP}){{0,2}})")
_CUED_LOWER = re.compile(rf"(?:{'|'.join(_CUES)})\s+({_ANY}(?:\s+[a-z]\.?(?=\s))?(?:\s+{_ANY})?)")
_SAID_TO = re.compile(rf"\bsaid {_CAP} to ({_CAP})")
_LIVES = re.compile(rf"(?m)(?:^|(?<=[.!?]\s))({_CAP}(?:\s+{_CAP})?)\s+(?:lives|lived) (?:on|in|at)\b")
_LABEL = re.compile(r"(?m)^([A-ZÀ-Þ][\w'’-]+):[ \t]+\S")
# Field keys look like dialogue labels ("Name: ...", "Date: ..."): never a speaker.
_FIELD_KEYS = frozenset({
    "name", "date", "time", "phone", "tel", "email", "mail", "address", "city", "country", "zip", "postcode", "note",
    "notes", "subject", "from", "to", "cc", "re", "q", "a", "question", "answer", "title", "status", "id", "user",
    "username", "password", "comment", "comments", "description", "summary", "location", "company", "age", "sex",
    "gender", "dob", "birthday", "occupation", "job", "role", "website", "url", "source", "update", "edit", "warning",
    "error", "info", "example", "result", "results", "output", "input", "step", "tip", "tl", "ps", "nb", "re", "fwd",
    "hi", "hello", "hey", "dear", "thanks", "thank", "welcome", "congrats", "cheers", "regards", "yes", "no",
    "ok", "okay", "sorry", "please", "yesterday", "today", "tomorrow", "tonight", "president", "minister", "senator",
    "author", "reviewer", "customer", "agent", "patient", "doctor", "nurse", "bot", "assistant", "system", "human",
})


def extend_names(text: str, results: list[RecognizerResult]) -> list[RecognizerResult]:
    """Names the NER model half-saw or saw once: add cue-introduced names, dialogue speakers, the rest of a partly
    found name (`Ryan` -> `Ryan P Costa`), and every other mention of a found name's words in the same text
    (`directed by Maciej Borkowski and starring Borkowski`)."""
    lowercase = _all_lowercase(text)
    extra = _cued_names(text, lowercase) + _speakers(text, results)
    if lowercase:
        extra += _lowercase_full_names(text)
    else:
        extra += _single_first_names(text)
    grown = [_grow(text, r) if r.entity_type == "PERSON" else r for r in results]
    extra = _not_contained(extra, grown)
    persons = [r for r in grown + extra if r.entity_type == "PERSON"]
    if not persons:
        return grown
    return grown + extra + _mentions(text, persons, grown + extra, lowercase)


# Our own placeholders (`<EMAIL_ADDRESS>`, `<PERSON_2>`) say nothing about how the writer uses capitals: ignoring
# them keeps anonymizing twice the same as once.
_PLACEHOLDER = re.compile(r"<[A-Z][A-Z_]*[A-Z](?:_\d+)?>")


def _all_lowercase(text: str) -> bool:
    return not any(c.isupper() for c in _PLACEHOLDER.sub("", text))


def _not_contained(new: list[RecognizerResult], known: list[RecognizerResult]) -> list[RecognizerResult]:
    """New spans not inside a known span nor an earlier new one (longest first); overlaps merge later."""
    kept: list[RecognizerResult] = []
    for r in sorted(new, key=lambda r: r.start - r.end):
        if not any(k.start <= r.start and r.end <= k.end for k in (*known, *kept)):
            kept.append(r)
    return kept


def _person(start: int, end: int, score: float = 0.6) -> RecognizerResult:
    return RecognizerResult("PERSON", start, end, score)


def _is_word(token: str) -> bool:
    low = token.lower()
    return low in common_words() or low in _FIELD_KEYS


# Every cue above, "said X to" and "X lives on" holds one of these words: a text without any skips the patterns,
# which are tried at every position of every text.
_CUE_WORDS = ("name", "call", "said", "follow", "spoke", "speak", "talk", "starring", "directed", "written", "signed",
              "lives", "lived")


def _cued_names(text: str, lowercase: bool) -> list[RecognizerResult]:
    folded = text.casefold()  # as the patterns' (?i) matches: `ſaid` is `said`
    if not any(word in folded for word in _CUE_WORDS):
        return []
    out = []
    for pattern in (_CUED_LOWER if lowercase else _CUED, _SAID_TO, _LIVES):
        for m in pattern.finditer(text):
            start, end = _trim_words(text, m.start(1), m.end(1))
            if end > start:
                out.append(_person(start, end))
    return out


def _trim_words(text: str, start: int, end: int) -> tuple[int, int]:
    """Cut a cued span at its first common word (`said Gladys to` keeps `Gladys`)."""
    pos = start
    for m in re.finditer(r"\S+", text[start:end]):
        if _is_word(m.group().strip(".'’")):
            break
        pos = start + m.end()
    return start, pos


def _speakers(text: str, results: list[RecognizerResult]) -> list[RecognizerResult]:
    """`Ella: What a wife.` / `Destiny: Remember me?`: in a text of two or more labelled lines where one label is
    a known first name or a found person, every label that is not a field key (`Name:`, `Date:`) is a speaker."""
    labels = [m for m in _LABEL.finditer(text) if m.group(1).lower() not in _FIELD_KEYS]
    if len(labels) < 2:
        return []
    names = first_names()
    person_starts = {r.start for r in results if r.entity_type == "PERSON"}
    if not any(m.group(1).lower() in names or m.start(1) in person_starts for m in labels):
        return []
    return [_person(m.start(1), m.end(1)) for m in labels if not _is_word(m.group(1))]


_LOWER_FULL = re.compile(r"\b([a-zà-ÿ]{3,})(\s+[a-z]\.?)?\s+([a-zà-ÿ][\w'’-]{2,})\b")


def _lowercase_full_names(text: str) -> list[RecognizerResult]:
    """In all-lowercase text, a known first name followed by a word that is not a common word (`patricia
    desrosiers`)."""
    names = first_names()
    return [_person(m.start(), m.end(), 0.5) for m in _LOWER_FULL.finditer(text)
            if m.group(1) in names and not _english(m.group(1)) and not _is_word(m.group(3))]


_SINGLE = re.compile(r"(?<![\w@#])[A-ZÀ-Þa-zà-ÿ][a-zà-ÿ]{2,}(?![\w'’-])")


def _single_first_names(text: str) -> list[RecognizerResult]:
    """A word standing alone that is a name: a known first name, capitalised (`Kelsey you should...`) or lower-case
    when it is no English word (`poor emily`, not `a mason`); or an unknown capitalised word that is no English
    word, mid-sentence and not after a determiner (`you and Skhumba`, not `# Dataset` nor `the Parquet file`)."""
    names, out = first_names(), []
    for m in _SINGLE.finditer(text):
        word = m.group()
        if word.lower() in names:
            if not _is_word(word) and (word[0].isupper() or not _english(word)):
                out.append(_person(m.start(), m.end(), 0.45))
        elif word[0].isupper() and not _english(word) and not _after_boundary(text, m.start()):
            out.append(_person(m.start(), m.end(), 0.41))
    return out


def _after_boundary(text: str, pos: int) -> bool:
    window = max(0, pos - 8)
    return bool(_SENTENCE_START.search(text, window, pos) or _DETERMINER.search(text, window, pos))


# A sentence, heading, list item or table cell starts here: a capital proves nothing (`Ugh`, `# Dataset card`).
_SENTENCE_START = re.compile(r"(?:^|[.!?:\n\"#|*>(\[-]\s*)$")
# `the Dataset`, `a Parquet file`: a determiner announces a thing, not a person.
_DETERMINER = re.compile(r"(?i)\b(?:the|a|an|this|that|these|those|our|your|their|its|each|every|any|no)\s+$")


@lru_cache(maxsize=1)
def english_words() -> frozenset[str]:
    """WordNet's English words (~90k, lower case): the lemma index the installed spaCy model ships for its
    lemmatizer, read without loading the pipeline, so patterns-only mode can use it too."""
    from spacy.lookups import Lookups
    from spacy.util import get_package_path

    path = next(get_package_path(DEFAULT_SPACY_MODEL).glob("*/lemmatizer/lookups"), None)
    if path is None:  # a model without lemmatizer tables: no word is known, the name rules stay as before
        return frozenset()
    lookups = Lookups().from_disk(path)
    irregular = lookups.get_table("lemma_exc")  # got, went, children
    return frozenset(w for table in (lookups.get_table("lemma_index"), irregular) for words in table.values()
                     for w in words)


_ELONGATED = re.compile(r"(.)\1\1")


@lru_cache(maxsize=65536)
def _english(word: str) -> bool:
    """A dictionary word in some inflected form (`Teachers`, `Gets`, `Contributed`), or a stretched one
    (`Pleaseee`)."""
    low = word.lower()
    if _ELONGATED.search(low) or _is_word(low):
        return True
    words = english_words()
    stems = {low}
    for suffix, add in (("s", ""), ("es", ""), ("ies", "y"), ("ed", ""), ("d", ""), ("ied", "y"), ("ing", ""),
                        ("ing", "e"), ("ly", ""), ("ily", "y"), ("er", ""), ("r", ""), ("ier", "y"), ("est", ""),
                        ("st", ""), ("iest", "y")):
        if low.endswith(suffix):
            stem = low[:-len(suffix)]
            stems |= {stem + add, stem[:-1]} if stem[-1:] == stem[-2:-1] else {stem + add}  # bigg-est
    return any(f in words for f in stems if len(f) > 1)


_BEFORE = re.compile(rf"({_ANY})[ \t]+$")
_AFTER = re.compile(rf"^(?:[ \t]+[A-ZÀ-Þ]\.?)?[ \t]+{_CAP}")


def _grow(text: str, r: RecognizerResult) -> RecognizerResult:
    """Take in a capitalised (or known first-name) word just before a person, and `P Costa` just after one."""
    start, end = r.start, r.end
    before = _BEFORE.search(text, max(0, start - 40), start)
    if before:
        word = before.group(1)
        sentence_start = _SENTENCE_START.search(text, max(0, before.start(1) - 8), before.start(1)) is not None
        known = word.lower() in first_names() and (word[0].isupper() or _all_lowercase(text))
        if not _is_word(word) and (known or (word[0].isupper() and not sentence_start)):
            start = before.start(1)
    after = _AFTER.match(text[end:end + 40])
    if after and re.search(r"[ \t][A-ZÀ-Þ]\.?[ \t]", after.group()) and not _is_word(after.group().split()[-1]):
        end += after.end()
    if (start, end) == (r.start, r.end):
        return r
    return RecognizerResult("PERSON", start, end, r.score, r.analysis_explanation, r.recognition_metadata)


# A whole word that could be a name, not inside a handle or a longer word: scanning tokens against a set avoids
# compiling one regex per text (which also evicted other modules' patterns from `re`'s cache).
_NAME_TOKEN = re.compile(r"(?<![\w@])[^\W\d_][\w'’-]*")


def _mentions(text: str, persons: list[RecognizerResult], found: list[RecognizerResult],
              lowercase: bool) -> list[RecognizerResult]:
    """Every other occurrence of a found name's words (not common words) is the same person."""
    words = {w for r in persons for w in re.findall(r"[^\W\d_][\w'’-]{2,}", text[r.start:r.end])
             if not _is_word(w)}
    if not words:
        return []
    if lowercase:
        words = {w.lower() for w in words}
    covered = [(r.start, r.end) for r in found]
    return [_person(m.start(), m.end(), 0.5) for m in _NAME_TOKEN.finditer(text)
            if (m.group().lower() if lowercase else m.group()) in words
            and not any(s <= m.start() < e for s, e in covered)]
