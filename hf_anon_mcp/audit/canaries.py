"""Canaries: synthetic secrets planted in an anonymized dataset so that a model fine-tuned on it can be audited.

The method is the Secret Sharer's (Carlini et al., 2019): sentences of one fixed format with random digits
(`my account pin is 482-913`) are inserted 1, 4 or 16 times each; as many sentences of the same format are drawn
but never inserted (the controls). After fine-tuning, a canary the model ranks far above random values of the same
format has been memorised; controls show what "not memorised" looks like on this very model.

Everything here is a pure function or a small class over rows, so the anonymize workflow can call it on the
batches it writes (after replacement: a canary must not be anonymized away). The values are secrets of the user's:
the canary file is written with mode 0600, never printed, and push refuses `*.canaries.json`.

>>> plan = make_canaries(6, seed=7)                       # 2 canaries at each of 1, 4 and 16 repetitions
>>> rows = list(plant_canaries(real_rows, plan, text_column="text", total_rows=len(real_rows), seed=7))
>>> len(rows) - len(real_rows) == plan.rows_inserted     # 2 * (1 + 4 + 16) = 42
True
>>> write_canary_file(plan, canary_path_for(Path("out.parquet")))   # out.parquet.canaries.json, mode 0600
"""

from __future__ import annotations

import json
import os
import random
import re
import secrets
from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field, ValidationError, field_validator, model_validator

from hf_anon_mcp.data.sources import replace_strings, strings_in
from hf_anon_mcp.errors import InputError

CANARY_SUFFIX = ".canaries.json"
DIGIT = "#"
# Six digits: 10^6 values (~20 bits), far more than the candidates an audit ranks against. Longer digit runs are
# found by our own phone recognizer (7+ digits), which would make the anonymize verification and the pre-push scan
# report every canary row as residual PII; six digits in this shape are found by neither the patterns nor NER.
DEFAULT_FORMAT = "my account pin is ###-###"
DEFAULT_REPETITIONS = (1, 4, 16)
INSERT_WITHIN_CHARS = 256  # canaries go near the start of a row's text: fine-tuning often truncates long rows
DEFAULT_STRIDE = 50  # unknown dataset size: one canary row per this many rows, the rest at the end
_BOUNDARY = re.compile(r"[.!?](?=\s)")


# ---- the format ----------------------------------------------------------------------------------------------

def check_format(fmt: str) -> str:
    """A format is literal text with `#` for each random digit, at least 4 of them, after a non-empty prefix."""
    digits = fmt.count(DIGIT)
    if digits < 4:
        raise ValueError(f"a canary format needs at least 4 '{DIGIT}' digits (has {digits})")
    if digits > 18:
        raise ValueError(f"a canary format takes at most 18 '{DIGIT}' digits")
    if not fmt[: fmt.index(DIGIT)].strip():
        raise ValueError("a canary format needs words before its first digit (the prompt of the extraction test)")
    return fmt


def format_prefix(fmt: str) -> str:
    """The literal text before the first digit, without trailing spaces: `my account pin is`."""
    return fmt[: fmt.index(DIGIT)].rstrip()


def value_space(fmt: str) -> int:
    """How many distinct values the format holds (10 ** number of digits)."""
    return 10 ** fmt.count(DIGIT)


def value_of(fmt: str, index: int) -> str:
    """The `index`-th value of the format (zero-padded digits poured into the `#`s), e.g. 482913 -> `482-913`.

    The value is the span from the first to the last digit of the format, literal characters inside it kept.
    """
    first, last = fmt.index(DIGIT), fmt.rindex(DIGIT)
    digits = iter(str(index).zfill(fmt.count(DIGIT)))
    return "".join(next(digits) if c == DIGIT else c for c in fmt[first: last + 1])


def fill(fmt: str, value: str) -> str:
    """The format's sentence around `value`: `fill("my account pin is ###-###", "482-913")`."""
    first, last = fmt.index(DIGIT), fmt.rindex(DIGIT)
    return fmt[:first] + value + fmt[last + 1:]


def random_values(fmt: str, n: int, rng: random.Random, exclude: Iterable[str] = ()) -> list[str]:
    """`n` distinct random values of the format, none of them in `exclude`."""
    space = value_space(fmt)
    taken = set(exclude)
    if n + len(taken) > space:
        raise InputError(f"the canary format holds only {space:,} values; {n + len(taken):,} were asked for")
    # distinct indices give distinct values; at most len(taken) of them are dropped
    drawn = (value_of(fmt, i) for i in rng.sample(range(space), n + len(taken)))
    return [v for v in drawn if v not in taken][:n]


# ---- the canary file -----------------------------------------------------------------------------------------

class CanaryEntry(BaseModel):
    """A planted canary: its id (safe to show), its value (secret), and how many rows hold it."""

    id: str
    value: str
    repetitions: int = Field(ge=1)


class ControlEntry(BaseModel):
    """A value of the same format that was never planted: the audit's "not memorised" reference."""

    id: str
    value: str


class CanaryFile(BaseModel):
    """`OUT.canaries.json`: what was planted where the anonymized output went. Keep it on this machine."""

    kind: Literal["hf-anon-mcp-canaries"] = "hf-anon-mcp-canaries"
    version: Literal[1] = 1
    format: str = Field(description="Literal text with '#' for each random digit.")
    text_column: str | None = Field(None, description="The column the canary rows carry their sentence in.")
    created: str = Field(default_factory=lambda: datetime.now(timezone.utc).isoformat(timespec="seconds"))
    canaries: list[CanaryEntry]
    controls: list[ControlEntry]

    @field_validator("format")
    @classmethod
    def _format(cls, value: str) -> str:
        return check_format(value)

    @model_validator(mode="after")
    def _consistent(self) -> "CanaryFile":
        ids = [c.id for c in self.canaries] + [c.id for c in self.controls]
        if len(set(ids)) != len(ids):
            raise ValueError("canary and control ids must be unique")
        values = [c.value for c in self.canaries] + [c.value for c in self.controls]
        if len(set(values)) != len(values):
            raise ValueError("canary and control values must be distinct")
        shape = re.compile(re.escape(value_of(self.format, 0)).replace("0", r"\d"))
        if not all(shape.fullmatch(v) for v in values):
            raise ValueError("every value must have the shape of the format")
        return self

    @property
    def prefix(self) -> str:
        return format_prefix(self.format)

    @property
    def rows_inserted(self) -> int:
        return sum(c.repetitions for c in self.canaries)

    def sentence(self, value: str) -> str:
        return fill(self.format, value)


def make_canaries(n: int, *, repetitions: Sequence[int] = DEFAULT_REPETITIONS, fmt: str = DEFAULT_FORMAT,
                  text_column: str | None = None, seed: int | None = None) -> CanaryFile:
    """`n` canaries, their repetitions taken from `repetitions` in turn (n=6 -> two each at 1, 4 and 16), plus
    `n` controls of the same format that are never planted.

    `seed=None` (the default) draws the values from `secrets`: canaries made with a seed written in code could be
    recomputed by anyone who reads it. Tests pass a seed.
    """
    if n < 1:
        raise InputError("plant at least one canary")
    reps = [int(r) for r in repetitions]
    if not reps or any(r < 1 for r in reps):
        raise InputError("canary repetitions must be positive whole numbers")
    try:
        check_format(fmt)
    except ValueError as err:
        raise InputError(str(err)) from None
    rng = random.Random(secrets.randbits(128) if seed is None else seed)
    values = random_values(fmt, 2 * n, rng)
    width = len(str(n))
    return CanaryFile(
        format=fmt, text_column=text_column,
        canaries=[CanaryEntry(id=f"canary-{i + 1:0{width}d}", value=values[i], repetitions=reps[i % len(reps)])
                  for i in range(n)],
        controls=[ControlEntry(id=f"control-{i + 1:0{width}d}", value=values[n + i]) for i in range(n)],
    )


def canary_path_for(output: str | Path) -> Path:
    """Where the canary file of an output goes: beside it, `<output name>.canaries.json` (a folder output's file
    sits outside the folder, so uploading the folder cannot take it along)."""
    output = Path(output)
    return output.with_name(output.name + CANARY_SUFFIX)


def is_canary_file(path: str | Path) -> bool:
    """True for a file push must refuse: its name ends with `.canaries.json`."""
    return Path(path).name.lower().endswith(CANARY_SUFFIX)


def write_canary_file(canaries: CanaryFile, path: str | Path) -> Path:
    """Write the file atomically (temp file beside it, then rename), readable by its owner only (0600)."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(canaries.model_dump_json(indent=2) + "\n")
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o600)  # O_CREAT's mode is cut by the umask only downwards; make it exact
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path


def read_canary_file(path: str | Path) -> CanaryFile:
    """Load a canary file; a bad one is an `InputError` naming fields, never values."""
    path = Path(path).expanduser()
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError(f"canary file not found: {path}") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise InputError(f"canary file is not readable JSON: {path} ({type(err).__name__})") from None
    try:
        return CanaryFile.model_validate(data)
    except ValidationError as err:
        problems = "; ".join(".".join(str(p) for p in e["loc"]) + f": {e['msg']}" for e in err.errors()[:5])
        raise InputError(f"not a canary file of hf-anon-mcp: {path} ({problems or 'invalid'})") from None


# ---- planting ------------------------------------------------------------------------------------------------

def frame(text: str, sentence: str, rng: random.Random) -> str:
    """`sentence` placed in a real row's text, at its start or after one of its sentence ends in the first
    `INSERT_WITHIN_CHARS` characters, so the canary row reads like the column around it."""
    if not text or not text.strip():
        return sentence + "."
    cuts = [0] + [m.end() for m in _BOUNDARY.finditer(text, 0, INSERT_WITHIN_CHARS)]
    if len(text) <= INSERT_WITHIN_CHARS:
        cuts.append(len(text))
    at = rng.choice(cuts)
    if at == 0:
        return f"{sentence}. {text}"
    return f"{text[:at]} {sentence}.{text[at:]}" if at < len(text) else f"{text.rstrip()} {sentence}."


def canary_cell(value: Any, sentence: str, rng: random.Random) -> Any:
    """The donor row's cell with the canary in it: a string is framed; in a nested cell (a chat's list of turns)
    the longest string is framed and everything else kept, so the structure still fits the column's type."""
    if value is None or isinstance(value, str):
        return frame(value or "", sentence, rng)
    texts = list(strings_in(value))
    if not texts:
        return sentence + "."
    longest = max(range(len(texts)), key=lambda i: len(texts[i]))
    texts[longest] = frame(texts[longest], sentence, rng)
    return replace_strings(value, iter(texts))


class CanaryPlanter:
    """Inserts the canary rows into a stream of output rows (or column batches), at positions spread over the
    dataset and fixed by `seed`.

    Each canary row is a copy of the real row it is inserted before, its `text_column` cell holding the canary
    sentence in that row's own text; every other column (ids included) is copied, so the row fits the schema and
    looks like its neighbours. With `total_rows` known, the dataset is cut into as many equal strata as there are
    canary rows and each gets one at a random place (copies of one canary end up far apart); without it, one canary
    row goes into every `DEFAULT_STRIDE` rows and whatever is left when the stream ends is appended.
    """

    def __init__(self, canaries: CanaryFile, *, text_column: str, total_rows: int | None, seed: int | None = None):
        self.canaries = canaries
        self.text_column = text_column
        self.rng = random.Random(secrets.randbits(128) if seed is None else seed)
        inserts = [c.value for c in canaries.canaries for _ in range(c.repetitions)]
        self.rng.shuffle(inserts)
        n = len(inserts)
        if total_rows is not None and total_rows > 0:
            bounds = [total_rows * i // n for i in range(n + 1)]
            positions = [lo + self.rng.randrange(max(1, hi - lo)) for lo, hi in zip(bounds, bounds[1:])]
        else:
            positions = [i * DEFAULT_STRIDE + self.rng.randrange(DEFAULT_STRIDE) for i in range(n)]
        self._queue = sorted(zip(positions, inserts))
        self._next = 0
        self.rows_seen = 0
        self.inserted = 0
        self._last: dict | None = None

    def _canary_row(self, donor: dict, value: str) -> dict:
        if self.text_column not in donor:
            raise InputError(f"cannot plant canaries: no column {self.text_column!r} in the output",
                             hint="choose one of: " + ", ".join(map(str, donor)))
        row = dict(donor)
        row[self.text_column] = canary_cell(donor[self.text_column], self.canaries.sentence(value), self.rng)
        self.inserted += 1
        return row

    def rows(self, rows: Iterable[dict]) -> Iterator[dict]:
        """The rows, in order, with canary rows inserted before the rows at their positions."""
        for row in rows:
            while self._next < len(self._queue) and self._queue[self._next][0] <= self.rows_seen:
                yield self._canary_row(row, self._queue[self._next][1])
                self._next += 1
            self.rows_seen += 1
            self._last = row
            yield row

    def finish(self) -> Iterator[dict]:
        """The canary rows still due after the last real row (each a copy of that row)."""
        if self._next < len(self._queue) and self._last is None:
            raise InputError("cannot plant canaries in an empty dataset")
        while self._next < len(self._queue):
            yield self._canary_row(self._last, self._queue[self._next][1])
            self._next += 1

    def batch(self, batch: dict[str, list]) -> dict[str, list]:
        """A column batch (`{column: [values]}`, as `datasets` and our writer use) with its canary rows inserted."""
        names = list(batch)
        size = len(batch[names[0]]) if names else 0
        rows = [{k: batch[k][i] for k in names} for i in range(size)]
        return _columns(list(self.rows(rows)), names)

    def finish_batch(self, names: Sequence[str]) -> dict[str, list] | None:
        """`finish()` as a column batch, or None when nothing is left."""
        rows = list(self.finish())
        return _columns(rows, names) if rows else None


def _columns(rows: list[dict], names: Sequence[str]) -> dict[str, list]:
    return {k: [r[k] for r in rows] for k in names}


def plant_canaries(rows: Iterable[dict], canaries: CanaryFile, *, text_column: str, total_rows: int | None,
                   seed: int | None = None) -> Iterator[dict]:
    """`rows` with the canary rows inserted (see `CanaryPlanter`); the generator ends with every canary planted."""
    planter = CanaryPlanter(canaries, text_column=text_column, total_rows=total_rows, seed=seed)
    yield from planter.rows(rows)
    yield from planter.finish()
