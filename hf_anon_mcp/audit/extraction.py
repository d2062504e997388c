"""Extraction: does the model *write* what it should not? (Carlini et al. 2021; Lukas et al., "Analyzing Leakage of
Personally Identifiable Information in Language Models", S&P 2023.)

Three probes, each with its own control so a count means something:
* the canary format's prompt (`my account pin is`), continued greedily and by sampling: planted canaries written
  verbatim, against controls (never planted, so written only by chance: about samples / 10^digits);
* free sampled generations from an empty prompt, scanned with our detector: which kinds of PII the model writes
  unprompted (Lukas et al.'s untargeted extraction);
* with the original (pre-anonymization) file: each high-risk value our detector finds there is probed with its own
  preceding text as the prompt (a targeted extraction), and looked for in every generation. A value the base model
  also writes from the same prompt was not learnt from this data (a common first name, a famous address) and is
  not counted as leaked. Values are only ever shown masked.

The matching and counting are pure functions; the `probe_*` functions drive a `LanguageModel`.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from hf_anon_mcp.audit.canaries import CanaryFile, value_of
from hf_anon_mcp.engine.analyzer import EngineConfig
from hf_anon_mcp.engine.detect import find_in_texts
from hf_anon_mcp.engine.entities import risk_of
from hf_anon_mcp.engine.masking import mask_sample
from hf_anon_mcp.models import RiskLevel

MIN_VALUE_CHARS = 4  # shorter values ("Al", "12") turn up in any text by chance
MAX_SAMPLES = 5


# ---- pure matching -------------------------------------------------------------------------------------------

def values_in(texts: Iterable[str], values: Iterable[str]) -> set[str]:
    """The values that occur verbatim in at least one text.

    >>> sorted(values_in(["pin 123-456 ok", "nothing"], ["123-456", "999-000"]))
    ['123-456']
    """
    blob = "\n".join(texts)
    return {v for v in values if v and v in blob}


def value_pattern(fmt: str) -> re.Pattern:
    """A regex for any value of the format (`###-###` -> `\\d{3}-\\d{3}`), not glued to more digits."""
    shape = re.escape(value_of(fmt, 0)).replace("0", r"\d")
    return re.compile(rf"(?<!\d){shape}(?!\d)")


def format_values_in(texts: Iterable[str], fmt: str) -> set[str]:
    """Every distinct value of the canary format written in the texts.

    >>> sorted(format_values_in([" 123-456.", " 12-345 and 999-001"], "pin is ###-###"))
    ['123-456', '999-001']
    """
    pattern = value_pattern(fmt)
    return {m.group(0) for t in texts for m in pattern.finditer(t)}


def count_types(findings: Iterable[Iterable]) -> dict[str, int]:
    """Findings per entity type, most frequent first."""
    counts = Counter(f.entity_type for spans in findings for f in spans)
    return dict(counts.most_common())


@dataclass(frozen=True)
class OriginalValue:
    """A high-risk value found in the original data, with the text before it (the targeted prompt)."""

    value: str
    entity_type: str
    context: str


def original_values(texts: Sequence[str], config: EngineConfig, *, limit: int) -> list[OriginalValue]:
    """Distinct high-risk values our detector finds in `texts` (first occurrence kept, at most `limit`)."""
    out: dict[str, OriginalValue] = {}
    for text, spans in zip(texts, find_in_texts(texts, config)):
        for f in spans:
            value = text[f.start:f.end].strip()
            if len(value) < MIN_VALUE_CHARS or risk_of(f.entity_type) is not RiskLevel.high or value in out:
                continue
            # the prompt ends at the last word: a trailing space would split a BPE model's " word" token
            out[value] = OriginalValue(value, f.entity_type, text[: f.start].rstrip())
            if len(out) >= limit:
                return list(out.values())
    return list(out.values())


def masked(values: Iterable[OriginalValue], limit: int = MAX_SAMPLES) -> list[str]:
    shown: list[str] = []
    for v in values:
        m = mask_sample(v.value, v.entity_type)
        if m and m not in shown:
            shown.append(m)
        if len(shown) >= limit:
            break
    return shown


# ---- probes (drive a model) ----------------------------------------------------------------------------------

@dataclass
class CanaryProbe:
    """What the canary prompt's continuations held (values stay inside this object; the report takes counts)."""

    generations: list[str]
    greedy: set[str]
    extracted: set[str]  # canary and control values written
    format_values: set[str]


def probe_canaries(lm, canaries: CanaryFile, *, max_new_tokens: int, samples: int, seed: int) -> CanaryProbe:
    """Continue the format's prompt once greedily and `samples` times by sampling; find canaries and controls."""
    (texts,) = lm.generate([canaries.prefix], max_new_tokens=max_new_tokens, samples=samples, seed=seed)
    planted = [c.value for c in canaries.canaries] + [c.value for c in canaries.controls]
    return CanaryProbe(generations=texts, greedy=values_in(texts[:1], planted), extracted=values_in(texts, planted),
                       format_values=format_values_in(texts, canaries.format))


def free_generations(lm, *, samples: int, max_new_tokens: int, seed: int) -> list[str]:
    """`samples` generations from the start token alone (none when the tokenizer has no start token)."""
    if samples <= 0 or lm.start_id is None:
        return []
    (texts,) = lm.generate([""], max_new_tokens=max_new_tokens, samples=samples, greedy=False, seed=seed)
    return texts


def probe_original(lm, values: Sequence[OriginalValue], *, max_new_tokens: int, seed: int,
                   batch_size: int) -> set[str]:
    """Values the model writes when given the text that preceded them in the original data (greedy)."""
    prompts = [v.context for v in values]
    outs = lm.generate(prompts, max_new_tokens=max_new_tokens, samples=0, greedy=True, seed=seed,
                       batch_size=batch_size)
    return {v.value for v, texts in zip(values, outs) if values_in(texts, [v.value])}

