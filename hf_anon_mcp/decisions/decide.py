"""The decide pass: from whole-dataset statistics to what is a private identifier here.

Rules are stated on the dataset's own numbers (shares of rows and cells, distinct counts), never on a list of words
tuned to one dataset. The report carries each column's type with its reason, and the kept frequent terms as counts.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from hf_anon_mcp.decisions.headers import header_hint
from hf_anon_mcp.decisions.stats import WORD, ColumnStats, DatasetStats
from hf_anon_mcp.engine.entities import DATE_OF_BIRTH, is_direct, is_secret
from hf_anon_mcp.engine.names import _english as is_english_word
from hf_anon_mcp.engine.names import all_first_names, all_last_names, common_words
from hf_anon_mcp.models import ColumnDecision, KeptTerm
from hf_anon_mcp.policy import AnonymizationPolicy

_DATE_SHAPES = ("9-9-9", "9/9/9", "9.9.9", "9-9-9A9:9:9", "9-9-9 9:9:9", "9-9-9 9:9", "9-9-9A9:9:9.9",
                "9-9-9A9:9:9A", "9-9-9A9:9:9.9A", "9-9-9 9:9:9.9", "a 9, 9", "Aa 9, 9", "9 Aa 9")
_GENERIC_LOCAL_PARTS = frozenset({"info", "support", "admin", "sales", "contact", "help", "noreply", "no-reply",
                                  "team", "billing", "office", "hello", "service", "hr", "jobs", "press", "mail"})


@dataclass
class Decisions:
    """What the replace pass applies to every row, the same on every worker (picklable, broadcast once)."""

    columns: dict[str, ColumnDecision]
    policy: AnonymizationPolicy
    kept_terms: frozenset[str] = frozenset()
    kept_report: list[KeptTerm] = field(default_factory=list)
    propagate: dict[str, str] = field(default_factory=dict)  # normalised value -> entity, replaced everywhere
    row_only: frozenset[str] = frozenset()  # name tokens that are also words: replaced only beside their full name
    persons: dict[str, str] = field(default_factory=dict)  # name token or full name -> the person's key (full name)
    id_shapes: frozenset[str] = frozenset()  # shapes of identifier columns: such tokens in text are ids too
    rows: int = 0

    def replaces(self, entity_type: str) -> bool:
        return self.policy.replaces(entity_type)


def _person_like(tokens: list[str]) -> bool:
    """Starts with a known first name that is no common word, and holds no ordinary word after it: `Fiene`,
    `Maria`, `Tijn Akkerman` (not `Jasper Pro`, `Mark`, `Python`); or a first name and a known surname, whatever
    the dictionary says of either (`Michael Smith`, `Mark Johnson`: WordNet lists smiths, and many surnames as
    proper nouns, so the dictionary test alone kept popular full names as "vocabulary"). A lone surname is not: a
    frequent one is as often a firm (`Garcia LLC`) or a famous name (`the n-th Fibonacci number`)."""
    first, last = all_first_names(), all_last_names()
    if tokens[0] not in first:
        return False
    if (len(tokens) >= 2 and tokens[-1] in last
            and all(t in first or t in last or len(t) == 1 for t in tokens[1:])):
        return True
    return tokens[0] not in common_words() and not any(is_english_word(t) for t in tokens[1:])


def _phrase_rows(tokens: list[str], stats: DatasetStats) -> int:
    """Rows holding a term, from above: a single word's rows; for a phrase, the rarest of its adjacent pairs, counted
    exactly when both words were capitalised (`Michael Smith`), else bounded by the rarer word (`Bank of`)."""
    if len(tokens) == 1:
        return stats.word_rows.get(tokens[0], 0)
    counts = []
    for a, b in zip(tokens, tokens[1:]):
        pair = f"{a} {b}"
        counts.append(stats.pair_rows[pair] if pair in stats.pair_rows
                      else min(stats.word_rows.get(a, 0), stats.word_rows.get(b, 0)))
    return min(counts)


def _frequent_threshold(rows: int) -> int:
    """Rows a term must appear in to count as part of the dataset's vocabulary rather than someone's name: 1% of
    rows, and never fewer than 10, so a customer who wrote a handful of tickets is never "frequent"."""
    return max(10, math.ceil(0.01 * rows))


def type_column(col: ColumnStats, rows: int, policy: AnonymizationPolicy) -> ColumnDecision:
    """Identifier, structured PII, free text, categorical label or timestamp, from the whole column."""
    name = col.name
    rule = policy.columns.get(name)
    if rule is not None and rule.action != "scan":
        action = {"drop": "drop", "keep": "keep", "entity": "replace_cells"}[rule.action]
        return ColumnDecision(column=name, kind="policy", entity=rule.entity, action=action,
                              reason=f"the policy says '{rule.action}'")
    if not col.cells:
        return ColumnDecision(column=name, kind="empty", action="keep", reason="no text")
    hint = header_hint(name)
    top_shape, shape_share = col.dominant_shape()
    n = col.cells
    short = col.mean_chars <= 64 and not col.nested
    whole = {e: c / n for e, c in col.whole.items()}
    best = max(whole, key=whole.get, default=None)
    best_share = whole.get(best, 0.0) if best else 0.0
    is_date = any(top_shape.startswith(s) for s in _DATE_SHAPES)
    # 1. Dates and timestamps: one date shape throughout (a date-of-birth header makes them PII, below).
    if short and shape_share >= 0.9 and is_date and hint != DATE_OF_BIRTH:
        return ColumnDecision(column=name, kind="timestamp", action="keep",
                              reason=f"{shape_share:.0%} of cells have the date shape '{top_shape}'")
    # 2. Structured PII: most cells are one value of one type, and the header or the variety of values agrees;
    #    without a header, only a direct identifier's column (a column of company names is not a person's data).
    if short and best and best_share >= 0.5 and not is_secret(best) and (
            hint == best or (col.uniqueness >= 0.2 and is_direct(best))):
        entity = DATE_OF_BIRTH if hint == DATE_OF_BIRTH and best == "DATE_TIME" else best
        return ColumnDecision(column=name, kind="structured_pii", entity=entity, action="replace_cells",
                              reason=f"{best_share:.0%} of cells are one {best}"
                              + (f"; header names {hint}" if hint == best else f"; {col.uniqueness:.0%} distinct"))
    if short and hint and (whole.get(hint, 0.0) + col.any.get(hint, 0) / n) >= 0.3 and col.mean_words <= 6:
        return ColumnDecision(column=name, kind="structured_pii", entity=hint, action="replace_cells",
                              reason=f"header names {hint} and {col.any.get(hint, 0) / n:.0%} of cells hold one; "
                                     "cells that fail validation are replaced too")
    if short and hint == DATE_OF_BIRTH and is_date and shape_share >= 0.8:
        return ColumnDecision(column=name, kind="structured_pii", entity=DATE_OF_BIRTH, action="replace_cells",
                              reason="header names a date of birth and the cells are dates")
    direct_share = max((c for e, c in col.any.items() if is_direct(e)), default=0) / n
    # 3. Identifiers and codes: one word, a fixed shape with digits, no validated PII.
    if (short and col.no_space / n >= 0.95 and col.with_digit / n >= 0.9 and shape_share >= 0.9
            and direct_share < 0.05):
        return ColumnDecision(column=name, kind="identifier", action="keep",
                              reason=f"{shape_share:.0%} of cells share the shape '{top_shape}', "
                                     f"{col.uniqueness:.0%} distinct, no PII found")
    # 4. Categorical labels: few distinct short values repeated across rows.
    labels = col.distinct_count <= max(12, min(200, 0.05 * n)) and n >= 10 and col.mean_words <= 4
    if short and labels and not col.values_capped:
        return ColumnDecision(column=name, kind="categorical", action="keep",
                              reason=f"{col.distinct_count} distinct values over {n} cells")
    kind = "free_text" if col.mean_words >= 4 or col.nested else "short_text"
    return ColumnDecision(column=name, kind=kind, action="spans",
                          reason=f"{col.mean_words:.1f} words a cell on average: span-level decisions")


def decide(stats: DatasetStats, policy: AnonymizationPolicy, columns: list[str]) -> Decisions:
    """Column types, frequent terms to keep, values to propagate and person keys, from the whole dataset."""
    decisions = {c: type_column(stats.columns.get(c) or ColumnStats(c), stats.rows, policy) for c in columns}
    categorical_values = {v.casefold() for c, d in decisions.items() if d.kind == "categorical"
                          for v in stats.columns[c].values}
    structured_values: dict[str, str] = {}
    for c, d in decisions.items():
        if d.action == "replace_cells" and d.entity:
            col = stats.columns.get(c)
            for value in stats.short_values.get(c, set()) | (set(col.values) if col else set()):
                structured_values[" ".join(value.casefold().split())] = d.entity
    name_tokens = {t for v, e in structured_values.items() if e == "PERSON" for t in v.split()}

    threshold = _frequent_threshold(stats.rows)
    kept: dict[str, int] = {}
    for term, stat in stats.terms.items():
        tokens = [w.lower() for w in WORD.findall(term)]
        if not tokens:
            continue
        occurrences = max(stat.rows, _phrase_rows(tokens, stats))
        a_word = len(tokens) == 1 and (is_english_word(tokens[0]) or tokens[0] in common_words())
        if term in structured_values or (not a_word and any(t in name_tokens for t in tokens)):
            continue
        a_label = term in categorical_values or any(term in v.split() or term == v for v in categorical_values)
        if a_label and occurrences >= 2:
            kept[term] = occurrences  # a category's label (a product, a team) is not a person here
            continue
        if occurrences < threshold or _person_like(tokens):
            continue  # frequent first names (a support agent's signature) are still someone's name
        kept[term] = occurrences  # the dataset's own vocabulary: a product, the company, a template phrase
    kept_tokens = {t for term in kept for t in term.split()}
    categorical_words = {w for v in categorical_values for w in v.split()}  # `maxwell` of `Maxwell Soundbar`

    propagate: dict[str, str] = {}
    row_only: set[str] = set()
    persons: dict[str, str] = {}

    def add_person(full: str, weight: int) -> None:
        tokens = [t for t in full.split() if len(t.strip(".")) > 1]
        if not tokens or full in kept:
            return
        if len(tokens) < 2:  # a lone name found somewhere: elsewhere only if it cannot be an ordinary word
            if len(full) >= 3 and not is_english_word(full) and full not in common_words() and full not in kept_tokens:
                propagate.setdefault(full, "PERSON")
            return
        propagate.setdefault(full, "PERSON")
        persons.setdefault(full, full)
        for token in (tokens[0], tokens[-1]):
            if len(token) < 3:
                continue
            persons.setdefault(token, full)
            if (token in kept_tokens or is_english_word(token) or token in common_words()
                    or token in categorical_words):
                row_only.add(token)  # a word too: replaced only where the full name is in the same row
            else:
                propagate.setdefault(token, "PERSON")

    by_weight = sorted(stats.terms.items(), key=lambda kv: (-kv[1].rows, kv[0]))
    for term, stat in by_weight:
        if stat.entities.most_common(1)[0][0] == "PERSON" and term not in kept:
            add_person(term, stat.rows)
    for value, entity in sorted(structured_values.items()):
        if entity == "PERSON":
            add_person(value, 1)
        elif len(value) >= 5:
            propagate.setdefault(value, entity)
    for value, entity in sorted(stats.values.items()):
        if len(value) >= 5 and policy.replaces(entity):
            propagate.setdefault(value, entity)
        if entity == "EMAIL_ADDRESS" and "@" in value:
            local = value.split("@", 1)[0]
            if (len(local) >= 4 and any(c.isalpha() for c in local) and local not in _GENERIC_LOCAL_PARTS
                    and not is_english_word(local) and local not in kept):
                propagate.setdefault(local, "PERSON")
    allowed = {" ".join(a.casefold().split()) for a in policy.allow_list}
    allowed_words = {w for a in allowed for w in a.split()}
    propagate = {v: e for v, e in propagate.items()
                 if policy.replaces(e) and v not in kept and v not in allowed and v not in allowed_words}
    report = [KeptTerm(rows=n, share=round(n / max(1, stats.rows), 4), term=t)
              for t, n in sorted(kept.items(), key=lambda kv: -kv[1])]
    id_shapes = frozenset(stats.columns[c].dominant_shape()[0] for c, d in decisions.items()
                          if d.kind == "identifier" and c in stats.columns
                          and any(ch in stats.columns[c].dominant_shape()[0] for ch in "aA")
                          and "9" in stats.columns[c].dominant_shape()[0])
    return Decisions(columns=decisions, policy=policy, kept_terms=frozenset(kept), kept_report=report, id_shapes=id_shapes,
                     propagate=propagate, row_only=frozenset(row_only), persons=persons, rows=stats.rows)
