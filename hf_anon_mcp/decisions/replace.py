"""The replace pass: the new copy written from stored findings and dataset-wide decisions; nothing detected twice.

Per text: drop kept frequent terms, cut allow-list terms out of spans, replace whole URLs (never a cut inside a host
name), add every other whole-word occurrence of a value replaced anywhere (propagation), then apply the policy's
operators (Presidio operators; one fake per person for surrogates). The same worker records what it did, checks that
no replaced value survives in any string column, and hands a keyed random sample of rows to verification.
"""

from __future__ import annotations

import hashlib
import json
import pickle
import re
from collections import Counter
from dataclasses import dataclass, field

from presidio_anonymizer.operators import OperatorType

from hf_anon_mcp.decisions.cells import rebuild, texts_in
from hf_anon_mcp.decisions.decide import Decisions
from hf_anon_mcp.decisions.detect import FINDINGS, STATS, is_term, stored_findings, term_of
from hf_anon_mcp.decisions.matcher import WordMatcher, lower_same_length
from hf_anon_mcp.decisions.stats import shape
from hf_anon_mcp.decisions.surrogates import email_surrogate, person_surrogate
from hf_anon_mcp.engine.anonymizer import OperatorPlan, get_anonymizer
from hf_anon_mcp.engine.entities import is_direct, is_secret
from hf_anon_mcp.policy import OperatorName

REPORT = "__hfanon_replace"
SAMPLE = "__hfanon_sample"
INTERNAL = (FINDINGS, STATS, REPORT, SAMPLE)

_URL = re.compile(r"(?i)\b(?:https?://|www\.)[^\s<>\"'`)\]]+")
_PROFILE = re.compile(r"(?i)/(?:in|u|user|users|profile|profiles|people|member|members|author|@)[/=]|/@[\w.-]+|/~\w")
_URL_WORDS = re.compile(r"[a-z0-9]+")


@dataclass
class Span:
    start: int
    end: int
    entity: str
    how: str = "found"  # found | propagated | url | cell


@dataclass
class ReplaceStats:
    """What one batch's replace did: counts only, never values."""

    rows: int = 0
    replaced: Counter = field(default_factory=Counter)  # (column, entity) -> spans replaced
    kept: Counter = field(default_factory=Counter)  # (column, entity) -> findings reported and kept
    propagated: Counter = field(default_factory=Counter)  # (column, entity) -> occurrences added by propagation
    frequent_kept: int = 0
    survivors: Counter = field(default_factory=Counter)  # entity -> replaced values still in the output

    def merge(self, other: "ReplaceStats") -> "ReplaceStats":
        self.rows += other.rows
        for name in ("replaced", "kept", "propagated", "survivors"):
            getattr(self, name).update(getattr(other, name))
        self.frequent_kept += other.frequent_kept
        return self


@dataclass
class ReplaceSpec:
    """Everything a replace worker needs: the decisions (broadcast once), the operator plan and the columns."""

    decisions: Decisions
    plan: OperatorPlan
    columns: tuple[str, ...]  # the detect pass's columns, in its order (stored findings point into it)
    string_columns: tuple[str, ...]  # every top-level string column, for the survivor check
    dropped: tuple[str, ...] = ()
    sample_rate: float = 0.0
    sample_key: bytes = b""


def _overlaps(a_start: int, a_end: int, spans: list[Span]) -> bool:
    return any(s.start < a_end and a_start < s.end for s in spans)


def merge_spans(spans: list[Span]) -> list[Span]:
    """One span per overlapping stretch, typed by its direct identifier (or its longest part)."""
    out: list[Span] = []
    for span in sorted(spans, key=lambda s: (s.start, -s.end)):
        if out and span.start < out[-1].end:
            last = out[-1]
            keep = last if (is_direct(last.entity) or not is_direct(span.entity)) else span
            out[-1] = Span(last.start, max(last.end, span.end), keep.entity, keep.how)
        else:
            out.append(span)
    return out


class ReplaceWorker:
    """Callable class (see `runners.base.BatchWorker`): batch with stored findings -> anonymized batch."""

    def __init__(self, spec: ReplaceSpec):
        self.spec = spec
        d = spec.decisions
        self.matcher = WordMatcher(d.propagate)
        self.row_matcher = WordMatcher(d.row_only)
        self.allow = WordMatcher(term.casefold() for term in d.policy.allow_list)
        self.engine = get_anonymizer()
        self._operators: dict[str, tuple] = {}
        # columns kept whole by decision, which the survivor check does not read: a label shared by many rows
        # (`Maxwell Soundbar`) is no one's name, whatever it spells; an id column is kept whatever a number in it
        # matches
        self.kept_whole = frozenset(c for c, cd in d.columns.items()
                                    if cd.kind in ("categorical", "timestamp", "identifier"))

    # ---- operators ---------------------------------------------------------------------------------------
    def _operate(self, value: str, entity: str) -> str:
        plan: OperatorPlan = self.spec.plan
        op = plan.policy.operator_for(entity).operator
        if op is OperatorName.surrogate and entity in ("PERSON", "EMAIL_ADDRESS"):
            fn = person_surrogate if entity == "PERSON" else email_surrogate
            return fn(value, self.spec.decisions.persons, plan.surrogate_secret, plan.policy.surrogate_locale)
        if entity not in self._operators:
            config = plan.config_for(entity)
            operator = self.engine.operators_factory.create_operator_class(config.operator_name,
                                                                           OperatorType.Anonymize)
            params = {**config.params, "entity_type": entity}
            operator.validate(params=params)
            self._operators[entity] = (operator, params)
        operator, params = self._operators[entity]
        return operator.operate(text=value, params=params)

    def _apply(self, text: str, spans: list[Span]) -> tuple[str, list[tuple[int, int]]]:
        """The text with spans replaced, and where the replacements now stand in it."""
        pieces, inserted, pos, out_len = [], [], 0, 0
        for span in spans:
            pieces.append(text[pos:span.start])
            out_len += span.start - pos
            new = self._operate(text[span.start:span.end], span.entity)
            inserted.append((out_len, out_len + len(new)))
            pieces.append(new)
            out_len += len(new)
            pos = span.end
        pieces.append(text[pos:])
        return "".join(pieces), inserted

    # ---- decisions per text ------------------------------------------------------------------------------
    def _spans(self, text: str, found: list[tuple], column: str, row_text: str, stats: ReplaceStats) -> list[Span]:
        d = self.spec.decisions
        spans: list[Span] = []
        for (_, _, entity, start, end, _score, detector) in found:
            if is_term(entity, detector) and term_of(text[start:end]) in d.kept_terms:
                stats.frequent_kept += 1
                continue
            if d.id_shapes and not is_secret(entity) and self._in_id_token(text, start, end):
                continue
            spans.append(Span(start, end, entity))
        spans = self._urls(text, spans)
        replaced = []
        for span in spans:
            if d.replaces(span.entity) or span.how == "url":
                replaced.append(span)
            else:
                stats.kept[(column, span.entity)] += 1
        low = lower_same_length(text)
        for start, end, term in self.matcher.matches(text, low):
            entity = d.propagate[term]
            if not _overlaps(start, end, replaced) and not self._left_as_id(text, start, end, entity):
                replaced.append(Span(start, end, entity, "propagated"))
        for start, end, term in self.row_matcher.matches(text, low):
            key = d.persons.get(term)
            if (text[start].isupper() and key and key in row_text and key != term
                    and not _overlaps(start, end, replaced)):
                replaced.append(Span(start, end, "PERSON", "propagated"))
        return merge_spans(self._allowed(text, replaced))

    def _left_as_id(self, text: str, start: int, end: int, entity: str) -> bool:
        """Propagation and the survivor check alike leave an id-shaped word whole (secrets aside)."""
        return bool(self.spec.decisions.id_shapes) and not is_secret(entity) and self._in_id_token(text, start, end)

    def _in_id_token(self, text: str, start: int, end: int) -> bool:
        """Inside a word shaped like the dataset's identifier column (`TCK-165744` in a ticket's text)."""
        while start > 0 and not text[start - 1].isspace():
            start -= 1
        while end < len(text) and not text[end].isspace():
            end += 1
        return shape(text[start:end].strip(".,;:!?()[]\"'")) in self.spec.decisions.id_shapes

    def _urls(self, text: str, spans: list[Span]) -> list[Span]:
        """A URL is replaced whole or kept whole: personal ones (a name, handle or profile path) always."""
        if "www." not in text and "://" not in text:
            return spans
        d = self.spec.decisions
        out = list(spans)
        for match in _URL.finditer(text):
            u_start, u_end = match.start(), match.end()
            while u_end > u_start and text[u_end - 1] in ".,;:!?":
                u_end -= 1
            inside = [s for s in out if s.start < u_end and u_start < s.end]
            words = set(_URL_WORDS.findall(text[u_start:u_end].lower()))
            personal = (bool(_PROFILE.search(text[u_start:u_end]))
                        or any(s.entity != "URL" and is_direct(s.entity) for s in inside)
                        or any(w in d.propagate for w in words if len(w) >= 3))
            out = [s for s in out if s not in inside]
            if personal or d.replaces("URL"):
                out.append(Span(u_start, u_end, "URL", "url"))
            else:
                out.extend(s for s in inside if s.start >= u_start and s.end <= u_end and s.entity == "URL")
        return out

    def _allowed(self, text: str, spans: list[Span]) -> list[Span]:
        """Allow-list terms are kept wherever they occur, also inside a longer span (which is cut around them)."""
        if not self.allow or not spans:
            return spans
        for a_start, a_end, _ in self.allow.matches(text):
            cut = []
            for s in spans:
                if s.start < a_end and a_start < s.end:
                    for lo, hi in ((s.start, a_start), (a_end, s.end)):
                        piece = text[lo:hi] if hi > lo else ""
                        if len(piece.strip(" ,.;:-")) >= 2:
                            strip_lo = lo + len(piece) - len(piece.lstrip(" ,.;:-"))
                            strip_hi = hi - (len(piece) - len(piece.rstrip(" ,.;:-")))
                            cut.append(Span(strip_lo, strip_hi, s.entity, s.how))
                else:
                    cut.append(s)
            spans = cut
        return spans

    def _cell_spans(self, text: str, entity: str) -> list[Span]:
        stripped = text.strip()
        if not stripped:
            return []
        start = text.index(stripped)
        return [Span(start, start + len(stripped), entity, "cell")]

    # ---- the batch ---------------------------------------------------------------------------------------
    def __call__(self, batch: dict[str, list]) -> dict[str, list]:
        spec, d = self.spec, self.spec.decisions
        n = len(batch[FINDINGS]) if FINDINGS in batch else 0
        stats = ReplaceStats(rows=n)
        out = {k: list(v) for k, v in batch.items() if k not in INTERNAL and k not in spec.dropped}
        samples: list[str | None] = [None] * n
        for row in range(n):
            found_by_text: dict[tuple[int, int], list[tuple]] = {}
            for f in stored_findings(batch[FINDINGS][row]):
                found_by_text.setdefault((f[0], f[1]), []).append(f)
            row_text = " \n ".join(lower_same_length(t) for c in spec.columns for t in texts_in(batch[c][row]))
            sampled = spec.sample_rate > 0 and self._sampled(row_text)
            sample_texts, sample_spans = [], []
            for ci, column in enumerate(spec.columns):
                if column in spec.dropped:
                    continue
                decision = d.columns[column]
                value = batch[column][row]
                new_texts = []
                for ti, text in enumerate(texts_in(value)):
                    found = found_by_text.get((ci, ti), [])
                    if decision.action == "replace_cells" and (decision.kind == "policy"
                                                               or d.replaces(decision.entity)):
                        spans = self._cell_spans(text, decision.entity)
                    elif decision.action in ("keep", "replace_cells"):
                        spans = [Span(f[3], f[4], f[2]) for f in found if is_secret(f[2]) and d.replaces(f[2])]
                        spans = merge_spans(spans)
                    else:
                        spans = self._spans(text, found, column, row_text, stats)
                    for s in spans:
                        stats.replaced[(column, s.entity)] += 1
                        if s.how == "propagated":
                            stats.propagated[(column, s.entity)] += 1
                    new, inserted = self._apply(text, spans) if spans else (text, [])
                    new_texts.append(new)
                    if sampled:
                        sample_texts.append(new)
                        sample_spans.append(inserted)
                out[column][row] = rebuild(value, iter(new_texts)) if new_texts else value
            self._survivors(out, row, stats)
            if sampled:
                samples[row] = json.dumps({"texts": sample_texts, "inserted": sample_spans})
        out[SAMPLE] = samples
        out[REPORT] = [pickle.dumps(stats, protocol=pickle.HIGHEST_PROTOCOL)] + [None] * (n - 1) if n else []
        return out

    def _sampled(self, row_text: str) -> bool:
        digest = hashlib.blake2b(row_text.encode("utf-8", "surrogatepass"), key=self.spec.sample_key[:64],
                                 digest_size=8).digest()
        return int.from_bytes(digest, "big") / 2**64 < self.spec.sample_rate

    def _survivors(self, out: dict[str, list], row: int, stats: ReplaceStats) -> None:
        """Propagation check: no replaced value may remain anywhere in the row's string columns."""
        if not self.matcher:
            return
        for column in self.spec.string_columns:
            if column not in out or column in self.kept_whole:
                continue
            for text in texts_in(out[column][row]):
                for start, end, term in self.matcher.matches(text):
                    entity = self.spec.decisions.propagate[term]
                    if not self._left_as_id(text, start, end, entity):  # `TCK-165744` is no survivor
                        stats.survivors[entity] += 1
