"""The `fast` profile's detector: one compiled multi-pattern pass (Hyperscan) over a batch of texts says where each
rule could match; the rule's own pattern, checksum and validator then run only there.

Presidio's patterns-only loop runs ~35 recognizers over every text, each scanning the whole string with its own
regexes (the URL recognizer's four 6,000-character patterns, the e-mail pattern, ten street patterns, ...): ~1 ms a
generated row. Here every rule has *triggers*, cheap necessary conditions written as Hyperscan expressions (an `@`,
seven digits close together, a street suffix word, a provider's token prefix), compiled into one database that is
scanned once over a whole batch. A trigger hit names a rule and a place; the rule runs its original regex (the
Presidio recognizer's, ours) on a window around the place, or on the row for rare rules, and keeps Presidio's
validation: Luhn for cards, the IBAN checksum, `phonenumbers` for phones, `tldextract` for e-mail domains, the
secret rules' placeholder checks. The post-steps are the same as in patterns-only mode (code filter, names,
address blocks, overlaps), with the name step driven by the scanner's word hits (`engine.fastnames`).

A trigger must fire wherever its rule can match (a superset): then a window holds every match, and the findings are
those of Presidio's patterns-only mode (checked on the dev sets by `tests/test_fastscan.py` and
`bench/fast_parity.py`). Recognizers this module does not know (another country's predefined ones) run as Presidio
recognizers on every text, so nothing is silently dropped.
"""

from __future__ import annotations

import hashlib
import logging
import os
import platform
import re
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import hyperscan
import regex
from presidio_analyzer import EntityRecognizer, PatternRecognizer, RecognizerResult

from hf_anon_mcp.engine import fastnames
from hf_anon_mcp.engine.addresses import extend_addresses
from hf_anon_mcp.engine.analyzer import EngineConfig, get_analyzer
from hf_anon_mcp.engine.postprocess import refine

log = logging.getLogger("hf_anon_mcp.engine")

# Rows are scanned joined by a newline: it ends every row for patterns that look one character past a match.
_SEP = "\n"
# Batches of about this many characters are scanned at once: large enough to amortise the scan call, small enough
# to keep the buffer and the hit list small.
_BATCH_CHARS = 1 << 20
# A window cut short of the row must leave this much room after a match (lookaheads peek a few characters).
_MARGIN = 8

_UTF8 = hyperscan.HS_FLAG_UTF8
_I = hyperscan.HS_FLAG_CASELESS
_SOM = hyperscan.HS_FLAG_SOM_LEFTMOST
_M = hyperscan.HS_FLAG_MULTILINE


# ---- windows: where a rule's own regex runs around a trigger hit ---------------------------------------------------

_SPACE = re.compile(r"\s")


def word_window(text: str, start: int, end: int) -> tuple[int, int]:
    """The whitespace-delimited word holding text[start:end], plus the whitespace after it (lookaheads see it)."""
    pos = start
    while True:
        seg = text[max(0, pos - 256):pos]
        if not seg or seg[-1].isspace():
            break
        last = seg.rsplit(None, 1)[-1]
        pos -= len(last)
        if len(last) < len(seg) or pos == 0:
            break
    found = _SPACE.search(text, end)
    return pos, (found.end() if found else len(text))


def char_region(text: str, start: int, end: int, allowed: str) -> tuple[int, int]:
    """The run of `allowed` characters around text[start:end] (a match cannot cross any other character), plus a
    margin for lookaheads."""
    a = start
    while a > 0:
        seg = text[max(0, a - 128):a]
        kept = seg.rstrip(allowed)
        a -= len(seg) - len(kept)
        if kept or a == 0:
            break
    b = end
    while b < len(text):
        seg = text[b:b + 128]
        kept = seg.lstrip(allowed)
        b += len(seg) - len(kept)
        if kept:
            break
    return a, min(len(text), b + _MARGIN)


def span_window(text: str, start: int, end: int, back: int, ahead: int) -> tuple[int, int]:
    """`back` characters before the hit and `ahead` after it (how far a match may reach past the trigger), plus a
    margin for lookaheads."""
    return max(0, start - back), min(len(text), end + ahead + _MARGIN)


def _merge(windows: Iterable[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[list[int]] = []
    for a, b in sorted(windows):
        if merged and a <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], b)
        else:
            merged.append([a, b])
    return [(a, b) for a, b in merged]


# ---- rules ----------------------------------------------------------------------------------------------------------

Hit = tuple[int, int]  # (start or -1 when the trigger has no start of match, end) in characters of the row
Out = list  # of RecognizerResult


@dataclass
class Trigger:
    """A Hyperscan expression; with `HS_FLAG_SOM_LEFTMOST` in `flags` its hits also say where the match starts.
    `fallback`: triggers to use instead if this one does not compile."""

    expression: str
    flags: int = _UTF8
    fallback: list | None = field(default=None, compare=False)


@dataclass
class Rule:
    """Triggers, and what runs on the rows (and places) where one fired."""

    name: str
    entities: frozenset[str]
    triggers: list[Trigger]
    run: Callable[[str, list[Hit], Out], None]
    names_input: bool = False  # hits feed the name step instead of producing findings
    also_when: Callable[[str], bool] | None = None  # a row test that stands for a trigger (checked on every row)


def _meta(recognizer: EntityRecognizer) -> dict:
    return {RecognizerResult.RECOGNIZER_NAME_KEY: recognizer.name,
            RecognizerResult.RECOGNIZER_IDENTIFIER_KEY: recognizer.id}


def compile_pattern(pattern: str, flags: int):
    """Presidio's pattern compiled with `re` when `re` reads it (the same spans on these patterns; ~50x faster to
    compile the URL patterns, and no per-call timeout bookkeeping), else with `regex` as Presidio does (`\K`,
    `\p{Lu}`). Windows are a few dozen characters, so Presidio's regex timeout has nothing to guard here."""
    try:
        return re.compile(pattern, flags)
    except re.error:
        return regex.compile(pattern, flags=flags)


class PatternRunner:
    """A Presidio pattern recognizer's patterns on windows, scored as Presidio's pattern loop scores them: the
    pattern's score, 1.0 or dropped by `validate_result`, dropped by `invalidate_result`."""

    def __init__(self, recognizer: PatternRecognizer, patterns: Sequence | None = None,
                 validate: Callable[[str], bool | None] | None = None) -> None:
        self.recognizer = recognizer
        self.entity = recognizer.supported_entities[0]
        flags = recognizer.global_regex_flags
        self.patterns = [(p.score, compile_pattern(p.regex, flags)) for p in (patterns or recognizer.patterns)]
        cls = type(recognizer)
        self.validate = validate or (recognizer.validate_result
                                     if cls.validate_result is not PatternRecognizer.validate_result else None)
        self.invalidate = (recognizer.invalidate_result
                           if cls.invalidate_result is not PatternRecognizer.invalidate_result else None)
        self.meta = _meta(recognizer)

    def run(self, text: str, windows: list[tuple[int, int]], out: Out, cut: bool = True) -> None:
        """`cut`: windows may end before the row; a match ending within `_MARGIN` of such an end is an artefact
        of the cut and is dropped (the window around that match's own trigger finds it whole)."""
        n = len(text)
        for a, b in _merge(windows):
            limit = b - _MARGIN if cut and b < n else b
            for score, compiled in self.patterns:
                for m in compiled.finditer(text, a, b):
                    start, end = m.span()
                    if start == end or end > limit:
                        continue
                    value = text[start:end]
                    s = score
                    if self.validate is not None:
                        valid = self.validate(value)
                        if valid is not None:
                            s = EntityRecognizer.MAX_SCORE if valid else EntityRecognizer.MIN_SCORE
                    if self.invalidate is not None and self.invalidate(value):
                        s = EntityRecognizer.MIN_SCORE
                    if s > EntityRecognizer.MIN_SCORE:
                        out.append(RecognizerResult(self.entity, start, end, s, None, self.meta))


def _word_rule(name: str, runner: PatternRunner, triggers: list[Trigger]) -> Rule:
    def run(text: str, hits: list[Hit], out: Out) -> None:
        runner.run(text, [word_window(text, e - 1 if s < 0 else s, e) for s, e in hits], out, cut=False)
    return Rule(name, frozenset({runner.entity}), triggers, run)


def _region_rule(name: str, runners: list[PatternRunner], allowed: str, triggers: list[Trigger]) -> Rule:
    def run(text: str, hits: list[Hit], out: Out) -> None:
        windows = [char_region(text, e - 1 if s < 0 else s, e, allowed) for s, e in hits]
        for runner in runners:
            runner.run(text, windows, out, cut=False)
    return Rule(name, frozenset(r.entity for r in runners), triggers, run)


def _span_rule(name: str, runner: PatternRunner, triggers: list[Trigger], back: int, ahead: int) -> Rule:
    def run(text: str, hits: list[Hit], out: Out) -> None:
        runner.run(text, [span_window(text, e if s < 0 else s, e, back, ahead) for s, e in hits], out)
    return Rule(name, frozenset({runner.entity}), triggers, run)


def _row_rule(name: str, recognizer: EntityRecognizer, triggers: list[Trigger],
              entities: Sequence[str] | None = None) -> Rule:
    """Rare rules: the recognizer itself on the whole row when a trigger fired."""
    wanted = list(entities or recognizer.supported_entities)

    def run(text: str, hits: list[Hit], out: Out) -> None:
        out.extend(recognizer.analyze(text, wanted, None))
    return Rule(name, frozenset(wanted), triggers, run)


# ---- e-mail, URL, IP and other single-token patterns (Presidio's recognizers, word by word) ---------------------

_EMAIL_DOMAINS: dict[str, bool] = {}


def _email_rule(recognizer) -> Rule:
    """Presidio's e-mail pattern on the word around each `@`; `tldextract` judges the domain once per domain (its
    verdict depends only on the part after the last `@`)."""

    def validate(value: str) -> bool:
        domain = value.rpartition("@")[2].lower()
        valid = _EMAIL_DOMAINS.get(domain)
        if valid is None:
            if len(_EMAIL_DOMAINS) > 100_000:
                _EMAIL_DOMAINS.clear()
            valid = _EMAIL_DOMAINS[domain] = bool(recognizer.validate_result(value))
        return valid

    return _word_rule("email", PatternRunner(recognizer, validate=validate), [Trigger("@")])


def _url_rule(recognizer) -> Rule:
    # windowed.WordUrlRecognizer's trigger; every URL pattern needs an ASCII `x.tld` or `://`
    return _word_rule("url", PatternRunner(recognizer),
                      [Trigger(r"[A-Za-z0-9_\-]\.[A-Za-z]{2}|://", _UTF8)])


def _ip_rule(recognizer) -> Rule:
    return _word_rule("ip", PatternRunner(recognizer),
                      [Trigger(r"\d\.\d|[0-9A-Fa-f]:[0-9A-Fa-f:]|::", _UTF8)])


_HEX = "[0-9A-Fa-f]"
_MONTHS = "(?:JAN|FEB|MAR|APR|MAY|JUN|JUL|AUG|SEP|OCT|NOV|DEC)"
_TOKEN_TRIGGERS = {
    "MacAddressRecognizer": [Trigger(rf"{_HEX}{{2}}[:\-]{_HEX}{{2}}[:\-]|{_HEX}{{4}}\.{_HEX}{{4}}\.")],
    "UuidRecognizer": [Trigger(rf"{_HEX}{{8}}-{_HEX}{{4}}-")],
    "CryptoRecognizer": [Trigger(r"(?:bc1|[13])[a-zA-HJ-NP-Z0-9]{25}")],
    # Presidio compiles the DEA pattern case-insensitively: any two letters, then seven digits
    "MedicalLicenseRecognizer": [Trigger(r"[A-Za-z][A-Za-z9]\d{7}")],
    # every date pattern has two separators between digit groups, or a month abbreviation next to a hyphen
    "DateRecognizer": [Trigger(r"\d[/.\-]\d{1,2}[/.\-]\d"), Trigger(rf"\d-{_MONTHS}|{_MONTHS}-\d", _UTF8 | _I)],
}


# ---- digits: cards, SSN/ITIN, IBAN, phones -----------------------------------------------------------------------

_DIGITS_AND_SEPARATORS = "0123456789 -."


def _iban_rule(recognizer) -> Rule:
    """Presidio's IBAN pattern anchored at each `LLdd` start (its lookbehind allows no other), with its group loop
    and checksum validation."""
    pattern = compile_pattern(recognizer.patterns[0].regex, recognizer.global_regex_flags)
    score = recognizer.patterns[0].score
    meta = _meta(recognizer)

    def run(text: str, hits: list[Hit], out: Out) -> None:
        done = -1
        for s, e in sorted(hits):
            if s < done:
                continue
            m = pattern.match(text, s)
            if not m:
                continue
            done = m.end()
            for group in reversed(range(1, len(m.groups()) + 1)):
                end = m.span(group)[1] if m.span(group)[1] > 0 else m.end()
                value = text[s:end]
                if not value:
                    continue
                valid = recognizer.validate_result(value)
                result = score if valid is None else (EntityRecognizer.MAX_SCORE if valid else 0.0)
                if result > 0:
                    out.append(RecognizerResult("IBAN_CODE", s, end, result, None, meta))
                    break

    return Rule("iban", frozenset({"IBAN_CODE"}), [Trigger(r"[A-Za-z]{2}\d{2}", _UTF8 | _SOM)], run)


# Characters a phone candidate may hold (`engine.phones._CANDIDATE`): digits, separators, brackets, `+`, extensions.
_PHONE_CHARS = "0123456789+()./- \t\n\r\x0b\x0c\u00a0xet#"


def _phone_rule(recognizer) -> Rule:
    meta = _meta(recognizer)

    def run(text: str, hits: list[Hit], out: Out) -> None:
        for a, b in _merge(char_region(text, e - 1, e - 1, _PHONE_CHARS) for _, e in hits):
            for start, end, score, _why in recognizer.spans(text, a, b):
                out.append(RecognizerResult("PHONE_NUMBER", start, end, score, None, meta))

    # seven digits with at most three other characters between neighbours (the ext. part is not counted), then
    # the end of the digit run
    return Rule("phone", frozenset({"PHONE_NUMBER"}),
                [Trigger(r"\d(?:[^0-9A-Za-z]{0,3}\d){6,}[^0-9]", _UTF8)], run)


# ---- patterns next to a keyword or shape: addresses, ages, postal codes, titles, names ------------------------------


def _street_rules(recognizer) -> list[Rule]:
    """One trigger per street pattern, each running that pattern on a window around its hit."""
    from hf_anon_mcp.engine import addresses as A

    by_name = {p.name: p for p in recognizer.patterns}
    spec = [
        ("number + street + suffix (+ unit)", rf"\b(?:{A._SUFFIXES})\b", 160, 48),
        ("street word with a suffix + number (continental)",
         r"(?:stra(?:ss|ß)e|gasse|weg|platz|allee|gade|vej|katu|laan|straat|plein|utca|ulica|torget|väg|vägen|gatan)"
         r"\s+\d", 100, 6),
        ("street prefix word + name + number",
         r"\b(?:ul\.|u\.|rue|via|calle|avenida|rua|av\.|viale|piazza|boulevard|chemin|carrer|strada)\s", 8, 160),
        ("building number + street name + house number (continental)",
         r"\d[ \t]+[^\s\d]\S*(?:[ \t]+\S+){0,5}[ \t]+\d{1,5}[a-zA-Z]?\.?[ \t]*(?:[\n,?!.]|(?i:apt|suite|st))",
         200, 24),
        ("building number + house number + capitalised street name", r"\d[ \t]+\d{1,5}[ \t]+[^\s\d]", 24, 120),
        ("street corner", r"the corner of", 16, 220),
        ("unit", r"(?:Apt\.?|Apartment|Suite|Ste\.)\s*#?\d", 24, 12),
        ("PO box / military", r"(?i:P\.?\s?O\.?\s*Box|PSC)|Unit\s+\d", 24, 80),
        ("navy ship address", r"USN", 8, 90),
        ("state + ZIP", r"[A-Z]{2}\s+\d{5}", 24, 16),
    ]
    rules = []
    for name, trigger, back, ahead in spec:
        pattern = by_name.get(name)
        if pattern is None:
            continue
        flags = _UTF8 | (_I if name == "street corner" else 0)
        rules.append(_span_rule(f"street:{name}", PatternRunner(recognizer, [pattern]),
                                [Trigger(trigger, flags)], back, ahead))
    covered = {name for name, *_ in spec}
    rest = [p for p in recognizer.patterns if p.name not in covered]
    if rest:  # patterns added later without a trigger here: on every row with a digit
        runner = PatternRunner(recognizer, rest)
        rules.append(Rule("street:rest", frozenset({runner.entity}), [Trigger(r"\d")],
                          lambda text, hits, out: runner.run(text, [(0, len(text))], out, cut=False)))
    return rules


def _named_street_rule(recognizer) -> Rule:
    # both patterns end right before "street" / "st.", within a few words of a capital or number
    return _span_rule("named street", PatternRunner(recognizer), [Trigger(r"street|st\.", _UTF8 | _I)], 260, 0)


def _age_rules(recognizer) -> list[Rule]:
    by_name = {p.name: p for p in recognizer.patterns}
    spec = [
        ("N years old", r"\d[ \-]?(?:years?|yrs?)[ \-]old|\d[ \-]?(?:y/o|yo)", 40, 8),
        ("aged / turned N", r"(?:aged?|turned|turning|age:)[ \t]{1,2}\d", 16, 4),
        ("when someone was N", r"(?:when|since)[ \t](?:he|she|i|they|we|you)[ \t](?:was|were)[ \t]\d", 32, 4),
    ]
    return [_span_rule(f"age:{name}", PatternRunner(recognizer, [by_name[name]]), [Trigger(t, _UTF8 | _I)],
                       back, ahead) for name, t, back, ahead in spec if name in by_name]


def _zip_rule(recognizer) -> Rule:
    return _span_rule("zip", PatternRunner(recognizer),
                      [Trigger(r"zip|postal[ \-]?code|post[ \-]?code|plz|postleitzahl|code postal|cep", _UTF8 | _I)],
                      16, 48)


def _titled_rule(recognizer) -> Rule:
    return _span_rule("titled name", PatternRunner(recognizer),
                      [Trigger(r"\b(?:Mr|Mrs|Ms|Miss|Mx|Dr|Prof|Sir|Dame|Madam|Mme|Mlle|Herr|Frau)\.?\s", _UTF8)],
                      24, 90)


def _handle_rule(recognizer) -> Rule:
    runner = PatternRunner(recognizer)
    _, pattern = runner.patterns[0]
    score = recognizer.patterns[0].score

    def run(text: str, hits: list[Hit], out: Out) -> None:
        for _, e in hits:  # the handle pattern starts at its `@` (after a lookbehind)
            m = pattern.match(text, e - 1)
            if m:
                out.append(RecognizerResult("PERSON", m.start(), m.end(), score, None, runner.meta))

    return Rule("handle", frozenset({"PERSON"}), [Trigger("@")], run)


def _job_title_rule(recognizer) -> Rule:
    # appositions follow ", the", "works as a", "I am a"; signature blocks (two line breaks) are found per row
    rule = _row_rule("job title", recognizer, [
        Trigger(r",[ \t]+the[ \t]|(?i:works?|worked|working)[ \t]+as[ \t]+an?[ \t]|(?i:i'm|i[ \t]+am)[ \t]+an?[ \t]",
                _UTF8)])
    rule.also_when = lambda text: text.count("\n") >= 2
    return rule


# ---- secrets: each rule behind a trigger derived from its own regex, else its needles ------------------------------


def _relaxed(pattern: str) -> str | None:
    """A Hyperscan expression matching wherever `pattern` (Python `re` syntax) matches, or None.

    Negative lookarounds and word boundaries are dropped, positive lookarounds kept as plain text, named groups
    unnamed; ASCII-only classes (`\\w`, `\\d`, `\\s`) admit any non-ASCII character too, since Python's are Unicode.
    """
    out: list[str] = []
    stack: list[bool] = []
    drop = 0
    i, n = 0, len(pattern)
    wide = r"\x{80}-\x{10FFFF}"
    while i < n:
        c = pattern[i]
        if c == "\\":
            esc = pattern[i:i + 2]
            i += 2
            if esc in ("\\b", "\\B", "\\K", "\\A", "\\Z", "\\z"):
                continue
            if esc[1:].isdigit():
                return None  # back-reference
            if not drop:
                out.append(f"(?:{esc}|[{wide}])" if esc in ("\\w", "\\d", "\\s") else esc)
            continue
        if c == "[":
            j = i + 1
            if pattern[j:j + 1] == "^":
                j += 1
            if pattern[j:j + 1] == "]":
                j += 1
            while pattern[j] != "]":
                j += 2 if pattern[j] == "\\" else 1
            cls = pattern[i:j + 1]
            if not cls.startswith("[^") and any(k in cls for k in ("\\w", "\\d", "\\s")):
                cls = cls[:-1] + wide + "]"
            if not drop:
                out.append(cls)
            i = j + 1
            continue
        if c == "(":
            look = re.match(r"\(\?(<!|<=|=|!)", pattern[i:])
            if look:
                negative = look.group(1) in ("<!", "!")
                stack.append(negative)
                if negative:
                    drop += 1
                elif not drop:
                    out.append("(?:")
                i += len(look.group())
                continue
            named = re.match(r"\(\?P<\w+>", pattern[i:])
            stack.append(False)
            if not drop:
                out.append("(?:" if named else "(")
            i += len(named.group()) if named else 1
            continue
        if c == ")":
            negative = stack.pop()
            i += 1
            if negative:
                drop -= 1
                quantifier = re.match(r"[?*+]|\{\d*,?\d*\}", pattern[i:])
                if quantifier:
                    i += len(quantifier.group())
                continue
            if not drop:
                out.append(")")
            continue
        if not drop:
            out.append(c)
        i += 1
    return "".join(out)


def _hs_flags(flags: int) -> int:
    hs = _UTF8
    if flags & re.IGNORECASE:
        hs |= _I
    if flags & re.MULTILINE:
        hs |= _M
    if flags & re.DOTALL:
        hs |= hyperscan.HS_FLAG_DOTALL
    return hs


def _compiles(expression: str, flags: int) -> bool:
    try:
        hyperscan.Database().compile(expressions=[expression.encode()], ids=[0], flags=[flags])
        return True
    except hyperscan.error:
        return False


def _needle_triggers(rule) -> list[Trigger]:
    return [Trigger(re.escape(n), _UTF8) for n in rule.needles] + \
        [Trigger(re.escape(n), _UTF8 | _I) for n in rule.needles_ci] or [Trigger(".", _UTF8 | hyperscan.HS_FLAG_DOTALL)]


def _rule_triggers(rule) -> list[Trigger]:
    """A secret `_Rule`'s regex relaxed for Hyperscan (`get_scanner` falls back to its needles if it does not
    compile)."""
    relaxed = _relaxed(rule.regex.pattern)
    if relaxed is None:
        return _needle_triggers(rule)
    trigger = Trigger(relaxed, _hs_flags(rule.regex.flags))
    trigger.fallback = _needle_triggers(rule)
    return [trigger]


def _secret_rules(recognizer) -> list[Rule]:
    """One Rule per secret rule of a `_RuleRecognizer`: the recognizer runs only the rules whose trigger fired."""
    rules = []
    for rule in recognizer.rules:
        def run(text: str, hits: list[Hit], out: Out, rule=rule) -> None:
            out.extend(recognizer.analyze(text, None, None, only=(rule,)))
        rules.append(Rule(f"secret:{rule.name or rule.entity}", frozenset({rule.entity}), _rule_triggers(rule), run))
    return rules


_SECRET_ROW_TRIGGERS = {
    "PrivateKeyRecognizer": [Trigger("PRIVATE KEY")],
    "UrlCredentialsRecognizer": [Trigger(r"://[^\s:/?#@'\"<>]*:[^\s/?#'\"<>]+@", _UTF8)],
    # a secret keyword, the rest of the key name, then an assignment, a `,` argument or an XML `value=`
    "GenericSecretRecognizer": [Trigger(r"(?:key|secret|token|pass|pwd|credential|access)[A-Za-z0-9_.\-]{0,40}"
                                        r"[\"'\]]{0,2}\s*[=:,?]", _UTF8 | _I)],
}


# ---- names: the scanner's word hits feed `engine.fastnames` --------------------------------------------------------


def _name_inputs() -> list[Rule]:
    def nothing(text: str, hits: list[Hit], out: Out) -> None:
        pass

    return [
        Rule("caps", frozenset({"PERSON"}), [Trigger(fastnames.CAPITALISED_WORD, _UTF8 | _SOM)], nothing, True),
        Rule("cue", frozenset({"PERSON"}), [Trigger(fastnames.CUE_TRIGGER, _UTF8 | _I | _SOM)], nothing, True),
    ]


# ---- the scanner ----------------------------------------------------------------------------------------------------


@dataclass
class Scanner:
    """Every rule for one engine config, its trigger database, and the recognizers without a trigger."""

    config: EngineConfig
    everything: frozenset[str]
    rules: list[Rule]
    trigger_rule: list[int]  # trigger id -> rule index
    trigger_som: list[bool]  # trigger id -> reports where its match starts
    database: hyperscan.Database
    names: fastnames.NameStep | None
    unmatched: list[EntityRecognizer] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.row_tests = [(i, r.also_when) for i, r in enumerate(self.rules) if r.also_when is not None]

    def scan(self, texts: Sequence[str]) -> list[list[RecognizerResult]]:
        out: list[list[RecognizerResult]] = []
        batch: list[str] = []
        size = 0
        for text in texts:
            batch.append(text)
            size += len(text) + 1
            if size >= _BATCH_CHARS:
                out.extend(self._scan_batch(batch))
                batch, size = [], 0
        if batch:
            out.extend(self._scan_batch(batch))
        return out

    def _scratch(self) -> hyperscan.Scratch:
        return scratch_for(self.database)

    def _scan_batch(self, texts: list[str]) -> list[list[RecognizerResult]]:
        buffer = _SEP.join(texts) + _SEP
        data = buffer.encode("utf-8", "surrogatepass")
        hits: list[tuple[int, int, int]] = []
        append = hits.append
        self.database.scan(data, match_event_handler=lambda i, s, e, f, c: append((e, i, s)),
                           scratch=self._scratch())
        hits.sort()
        if len(data) == len(buffer):  # ASCII: byte offsets are character offsets
            byte_starts = _starts(texts)
        else:
            byte_starts = _starts([len(t.encode("utf-8", "surrogatepass")) for t in texts], lengths=True)
        per_row: dict[int, list[tuple[int, int, int]]] = {}
        row = 0
        last = len(texts) - 1
        for e, i, s in hits:  # a hit may end on the separator after its row (triggers that read one more character)
            while row < last and e > byte_starts[row + 1]:
                row += 1
            per_row.setdefault(row, []).append((i, s, e))
        lows = fastnames.lowercase_hits(texts, _SEP) if self.names is not None else {}
        tested: dict[int, list[int]] = {}
        for index, test in self.row_tests:
            for row, text in enumerate(texts):
                if test(text):
                    tested.setdefault(row, []).append(index)
        results: list[list[RecognizerResult]] = [[] for _ in texts]
        som = self.trigger_som
        for row in per_row.keys() | lows.keys() | tested.keys():
            text = texts[row]
            base = byte_starts[row]
            to_char = None if text.isascii() else _char_offsets(data[base:byte_starts[row + 1]])
            by_rule: dict[int, list[Hit]] = {}
            for i, s, e in per_row.get(row, ()):
                e -= base
                s = max(0, s - base) if som[i] else -1
                if to_char is not None:
                    e = to_char(e)
                    s = to_char(s) if s >= 0 else -1
                by_rule.setdefault(self.trigger_rule[i], []).append((s, e))  # e may pass the row's end by one
            for index in tested.get(row, ()):
                by_rule.setdefault(index, [])
            results[row] = self._row(text, by_rule, lows.get(row, []))
        if self.unmatched:
            for row, text in enumerate(texts):
                extra = [r for rec in self.unmatched for r in rec.analyze(text, list(rec.supported_entities), None)]
                if extra:
                    results[row] = self._post(text, results[row], extra, [], [], [])
        return results

    def _row(self, text: str, by_rule: dict[int, list[Hit]], lows: list[Hit]) -> list[RecognizerResult]:
        found: list[RecognizerResult] = []
        caps: list[Hit] = []
        cues: list[Hit] = []
        for index, hits in by_rule.items():
            rule = self.rules[index]
            if rule.name == "caps":
                caps = sorted((s, e - 1) for s, e in hits)  # the hit ends after the character following the word
            elif rule.name == "cue":
                cues = sorted(hits)
            else:
                rule.run(text, hits, found)
        if self.names is not None:
            self.names.gazetteer_results(text, caps, found)
        return self._post(text, [], found, caps, lows, cues)

    def _post(self, text: str, done: list[RecognizerResult], found: list[RecognizerResult], caps: list[Hit],
              lows: list[Hit], cues: list[Hit]) -> list[RecognizerResult]:
        """Presidio's threshold and allow list, then the patterns-only post-steps of `detect._analyze_texts`."""
        from hf_anon_mcp.engine.detect import resolve_overlaps

        config = self.config
        results = [r for r in found if r.score >= config.score_threshold]
        if config.allow_list:
            allowed = set(config.allow_list)
            results = [r for r in results if text[r.start:r.end] not in allowed]
        results = refine(text, done + results)
        if self.names is not None:
            results = self.names.extend(text, results, caps, lows, cues)
        if not results:
            return []
        extended = extend_addresses(text, results)
        everything = self.everything
        return resolve_overlaps([r for r in extended if r.entity_type in everything])


def _both(first, second):
    def run(text: str, hits: list[Hit], out: Out) -> None:
        first(text, hits, out)
        second(text, hits, out)
    return run


def _starts(values, lengths: bool = False) -> list[int]:
    """Offsets where each row starts in the joined buffer (rows joined by one separator)."""
    starts, pos = [], 0
    for v in values:
        starts.append(pos)
        pos += (v if lengths else len(v)) + 1
    starts.append(pos)
    return starts


def _char_offsets(raw: bytes) -> Callable[[int], int]:
    """Byte offset in a row's UTF-8 -> character offset."""
    cache: dict[int, int] = {}

    def convert(offset: int) -> int:
        if offset not in cache:
            cache[offset] = len(raw[:offset].decode("utf-8", "ignore"))
        return cache[offset]
    return convert


# ---- building ---------------------------------------------------------------------------------------------------------


def _rules_for(recognizer) -> list[Rule] | None:
    """The rules standing in for one Presidio recognizer of the patterns-only registry, or None if unknown."""
    from hf_anon_mcp.engine.secrets import _RuleRecognizer

    kind = type(recognizer).__name__
    if kind == "WordEmailRecognizer":
        return [_email_rule(recognizer)]
    if kind == "WordUrlRecognizer":
        return [_url_rule(recognizer)]
    if kind == "WordIpRecognizer":
        return [_ip_rule(recognizer)]
    if kind in _TOKEN_TRIGGERS:
        return [_word_rule(kind, PatternRunner(recognizer), _TOKEN_TRIGGERS[kind])]
    if kind in ("CreditCardRecognizer", "AnyCardNumberRecognizer"):
        return [_region_rule("cards", [PatternRunner(recognizer)], "0123456789 -",
                             [Trigger(r"\d(?:[ \-]?\d){11}")])]
    if kind in ("UsSsnRecognizer", "UsItinRecognizer"):
        return [_region_rule("ssn", [PatternRunner(recognizer)], _DIGITS_AND_SEPARATORS,
                             [Trigger(r"\d{3}[ .\-]\d{2}[ .\-]\d{4}")])]
    if kind == "IbanRecognizer":
        return [_iban_rule(recognizer)]
    if kind == "PhoneNumberRecognizer":
        return [_phone_rule(recognizer)]
    if kind == "StreetAddressRecognizer":
        return _street_rules(recognizer)
    if kind == "NamedStreetRecognizer":
        return [_named_street_rule(recognizer)]
    if kind == "AgeRecognizer":
        return _age_rules(recognizer)
    if kind == "PostalCodeRecognizer":
        return [_zip_rule(recognizer)]
    if kind == "TitledNameRecognizer":
        return [_titled_rule(recognizer)]
    if kind == "HandleRecognizer":
        return [_handle_rule(recognizer)]
    if kind == "JobTitleRecognizer":
        return [_job_title_rule(recognizer)]
    if kind == "GazetteerNameRecognizer":
        return []  # the name step runs it on the scanner's capitalised words
    if kind in _SECRET_ROW_TRIGGERS:
        return [_row_rule(kind, recognizer, _SECRET_ROW_TRIGGERS[kind])]
    if isinstance(recognizer, _RuleRecognizer):
        return _secret_rules(recognizer)
    return None


@lru_cache(maxsize=4)
def get_scanner(config: EngineConfig) -> Scanner:
    """The scanner for `config`, built once per process (the trigger database compiles in about a second)."""
    from hf_anon_mcp.engine.detect import _all_entities, _deny_recognizer

    analyzer = get_analyzer(config)
    everything = _all_entities(config)
    rules: list[Rule] = []
    unmatched: list[EntityRecognizer] = []
    recognizers = list(analyzer.registry.recognizers)
    if config.deny_list:
        recognizers.append(_deny_recognizer(config.deny_list, config.language))
    for recognizer in recognizers:
        if recognizer.supported_language != config.language:
            continue
        if not set(recognizer.supported_entities) & everything:
            continue
        if type(recognizer).__name__ == "PatternRecognizer" and recognizer.supported_entities == ["DENY_LIST"]:
            terms = "|".join(re.escape(t) for t in recognizer.deny_list)
            rules.append(_span_rule("deny list", PatternRunner(recognizer), [Trigger(terms, _UTF8 | _I)],
                                    max(map(len, recognizer.deny_list)) + 2, 0))
            continue
        made = _rules_for(recognizer)
        if made is None:
            log.info("fast scan: %s has no trigger, it runs on every text", recognizer.name)
            unmatched.append(recognizer)
            continue
        for rule in made:
            if not rule.entities & everything:
                continue
            twin = next((r for r in rules if r.name == rule.name and r.triggers == rule.triggers), None)
            if twin is None:
                rules.append(rule)
            else:  # two recognizers behind one trigger (card patterns, SSN and ITIN): one hit list, both run
                twin.run = _both(twin.run, rule.run)
                twin.entities = twin.entities | rule.entities
    names = None
    if "PERSON" in everything:
        names = fastnames.NameStep(next((r for r in recognizers if type(r).__name__ == "GazetteerNameRecognizer"),
                                        None))
        rules.extend(_name_inputs())
    expressions, flags, trigger_rule, trigger_som = [], [], [], []
    try:
        database = _database([t for rule in rules for t in rule.triggers])
    except hyperscan.error:  # a relaxed secret regex Hyperscan cannot take: those rules fall back to their needles
        for rule in rules:
            rule.triggers = [f for t in rule.triggers
                             for f in ([t] if t.fallback is None or _compiles(t.expression, t.flags) else t.fallback)]
        database = _database([t for rule in rules for t in rule.triggers])
    for index, rule in enumerate(rules):
        for trigger in rule.triggers:
            expressions.append(trigger.expression)
            trigger_rule.append(index)
            trigger_som.append(bool(trigger.flags & _SOM))
    log.info("fast scanner ready: %d rules, %d triggers, %d recognizers without a trigger", len(rules),
             len(expressions), len(unmatched))
    return Scanner(config, everything, rules, trigger_rule, trigger_som, database, names, unmatched)


def cache_dir() -> Path:
    """Where compiled trigger databases are kept between runs (`HF_ANON_MCP_CACHE_DIR`, else the user cache)."""
    configured = os.environ.get("HF_ANON_MCP_CACHE_DIR")
    if configured:
        return Path(configured)
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "hf-anon-mcp"


def compiled_database(expressions: Sequence[bytes], flags: Sequence[int], literal: bool = False) -> hyperscan.Database:
    """A Hyperscan block-mode database, loaded from the cache when the same expressions were compiled before.

    Compiling the trigger database takes ~2 s and the lower-case first-name literals ~1 s, in every process that
    scans (each worker); loading a serialized database takes milliseconds. The key is a hash of the expressions,
    flags and Hyperscan version; the file is written to a temporary name and renamed, so readers never see half.
    """
    key = hashlib.sha256(repr((hyperscan.__version__, platform.machine(), literal, list(expressions),
                               list(flags))).encode()).hexdigest()[:32]
    path = cache_dir() / f"fastscan-{key}.hsdb"
    try:
        return hyperscan.loadb(path.read_bytes(), hyperscan.HS_MODE_BLOCK)
    except (OSError, hyperscan.error):
        pass
    database = hyperscan.Database()
    database.compile(expressions=list(expressions), ids=list(range(len(expressions))), flags=list(flags),
                     literal=literal)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        tmp.write_bytes(hyperscan.dumpb(database))
        os.replace(tmp, path)
    except OSError as err:  # a read-only home: compile each time
        log.info("fast scan: cannot cache the trigger database (%s)", err.strerror)
    return database


_SCRATCH = threading.local()


def scratch_for(database: hyperscan.Database) -> hyperscan.Scratch:
    """Hyperscan's per-thread working memory for `database` (a scratch cannot serve two scans at once)."""
    spaces = getattr(_SCRATCH, "spaces", None)
    if spaces is None:
        spaces = _SCRATCH.spaces = {}
    scratch = spaces.get(id(database))
    if scratch is None:
        scratch = spaces[id(database)] = hyperscan.Scratch(database)
    return scratch


def _database(triggers: list[Trigger]) -> hyperscan.Database:
    return compiled_database([t.expression.encode() for t in triggers], [t.flags for t in triggers])


def fast_analyze(texts: Sequence[str], config: EngineConfig) -> list[list[RecognizerResult]]:
    """Findings for each text, in input order, without overlapping spans: the fast profile's detector.

    Repeated texts are scanned once; empty and blank texts have none; long texts are scanned in overlapping
    windows (`detect.windows`), as in the other profiles.
    """
    from hf_anon_mcp.engine.detect import join_long, split_long

    unique, long_texts = split_long(dict.fromkeys(t for t in texts if t and not t.isspace()))
    found = dict(zip(unique, get_scanner(config).scan(unique)))
    join_long(found, long_texts)
    return [found.get(t, []) for t in texts]


def fast_find(texts: Sequence[str], config: EngineConfig):
    """`fast_analyze` as `detect.Finding` tuples."""
    from hf_anon_mcp.engine.detect import Finding

    return [[Finding(r.entity_type, r.start, r.end, round(r.score, 4)) for r in res]
            for res in fast_analyze(texts, config)]
