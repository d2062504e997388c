"""Resolve a source (file, folder, `save_to_disk` folder or Hub repo id) into a streamed `IterableDataset`.

Everything is read as a stream so memory stays flat however large the data; map-style folders are turned into
iterable ones. Errors are re-raised as `InputError` with our own message: `datasets`' messages can quote a row.
"""

from __future__ import annotations

import json
import logging
import os
import re
import sys
import threading
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import datasets
from datasets import Features, IterableDataset, List, Value
from more_itertools import constrained_batches

# datasets imports torch (when installed) for every IterableDataset, to share its epoch with DataLoader workers:
# seconds and ~185 MB per process for a feature we never use. Keep it when torch is already loaded.
if "torch" not in sys.modules:
    datasets.config.TORCH_AVAILABLE = False

from hf_anon_mcp.errors import HfAnonError, InputError, OfflineError

log = logging.getLogger("hf_anon_mcp.data")

# `datasets` logs parse failures with tracebacks (and sometimes row content) straight to stderr; we report them
# ourselves, once, without content. Its progress bars would also clutter stderr under an MCP client.
datasets.logging.set_verbosity(logging.CRITICAL)
datasets.disable_progress_bars()
# `load_dataset("json", ...)` on a local file pings an S3 bucket to count downloads (HF_UPDATE_DOWNLOAD_COUNTS):
# a scan of a local file must not touch the network, so the count is off unless the user turned it on.
if os.environ.get("HF_UPDATE_DOWNLOAD_COUNTS") is None:
    datasets.config.HF_UPDATE_DOWNLOAD_COUNTS = False

FILE_FORMATS = {".csv": "csv", ".json": "json", ".jsonl": "json", ".parquet": "parquet"}
_REPO_ID = re.compile(r"^[A-Za-z0-9][\w.-]*/[\w.-]+$")
# `datasets` resolves data files through tqdm's `thread_map`, whose `ensure_lock` sets and deletes a class attribute
# without a lock: two sources opened at once in one process (concurrent MCP calls) sometimes failed with
# "type object 'tqdm' has no attribute '_lock'" (huggingface/datasets#7660), reported as a malformed file. Opening is
# quick (tens of ms); reading the rows is not serialised.
_OPEN_LOCK = threading.Lock()
_STRING_TYPES = {"string", "large_string"}


@dataclass
class OpenedSource:
    """A source ready to stream: the dataset, its schema, and its row count when known cheaply."""

    spec: str
    kind: str  # "file" | "folder" | "disk" | "hub"
    dataset: IterableDataset
    rows_total: int | None
    path: Path | None = None
    bytes_total: int | None = None  # the data's size before compression, when known cheaply (sizes the work)

    @property
    def features(self) -> Features:
        return self.dataset.features


def looks_like_repo_id(spec: str) -> bool:
    """`user/name` with no file extension we read and no such local path."""
    return bool(_REPO_ID.match(spec)) and Path(spec).suffix.lower() not in FILE_FORMATS and not Path(spec).exists()


def open_source(spec: str, *, config: str | None = None, split: str | None = None) -> OpenedSource:
    """Open `spec` for streaming. Raises `InputError` (or `OfflineError`) with a one-line reason."""
    if looks_like_repo_id(spec):
        return _open_hub(spec, config=config, split=split)
    path = Path(spec).expanduser()
    if not path.exists():
        raise InputError(f"source not found: {spec}", hint="give a .csv/.json/.jsonl/.parquet file, a folder or a Hub repo id")
    if path.is_dir():
        return _open_folder(spec, path, split=split)
    return _open_file(spec, path)


def _open_file(spec: str, path: Path) -> OpenedSource:
    fmt = FILE_FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise InputError(
            f"unsupported file type '{path.suffix or '(none)'}': {path.name}",
            hint="supported: " + ", ".join(sorted(FILE_FORMATS)),
        )
    if not os.access(path, os.R_OK):
        raise InputError(f"file is not readable: {path.name}")
    if path.stat().st_size == 0:
        raise InputError(f"file is empty: {path.name}")
    ds = _load(fmt, [str(path)], spec)
    return OpenedSource(spec=spec, kind="file", dataset=ds, rows_total=_count_rows(path, fmt), path=path,
                        bytes_total=_data_bytes(path, fmt))


def _open_folder(spec: str, path: Path, *, split: str | None) -> OpenedSource:
    if (path / "dataset_info.json").exists() or (path / "dataset_dict.json").exists():
        return _open_saved(spec, path, split=split)
    files = sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in FILE_FORMATS)
    if not files:
        raise InputError(f"no data files in folder: {path.name}", hint="expected .csv/.json/.jsonl/.parquet files")
    formats = {FILE_FORMATS[p.suffix.lower()] for p in files}
    if len(formats) > 1:
        raise InputError(f"folder mixes file formats ({', '.join(sorted(formats))}): {path.name}")
    fmt = formats.pop()
    ds = _load(fmt, [str(p) for p in files], spec)
    counts = [_count_rows(p, fmt) for p in files]
    total = None if any(c is None for c in counts) else sum(counts)
    sizes = [_data_bytes(p, fmt) for p in files]
    return OpenedSource(spec=spec, kind="folder", dataset=ds, rows_total=total, path=path,
                        bytes_total=None if None in sizes else sum(sizes))


def _open_saved(spec: str, path: Path, *, split: str | None) -> OpenedSource:
    try:
        with _OPEN_LOCK:
            loaded = datasets.load_from_disk(str(path))
    except Exception as err:  # noqa: BLE001 - datasets raises many kinds here
        raise InputError(f"cannot read saved dataset folder: {path.name} ({type(err).__name__})") from None
    if isinstance(loaded, datasets.DatasetDict):
        name = split or ("train" if "train" in loaded else next(iter(loaded), None))
        if name not in loaded:
            raise InputError(f"split '{name}' not in {path.name}", hint="splits: " + ", ".join(loaded))
        loaded = loaded[name]
    return OpenedSource(spec=spec, kind="disk", dataset=loaded.to_iterable_dataset(), rows_total=loaded.num_rows,
                        path=path, bytes_total=loaded.data.nbytes)


def _open_hub(repo_id: str, *, config: str | None, split: str | None) -> OpenedSource:
    from huggingface_hub import constants

    if constants.HF_HUB_OFFLINE or os.environ.get("HF_DATASETS_OFFLINE") == "1":
        raise OfflineError(f"cannot load Hub dataset {repo_id}: offline mode is on (HF_HUB_OFFLINE)")
    try:
        with _OPEN_LOCK:
            ds = datasets.load_dataset(repo_id, name=config, split=split or "train", streaming=True)
    except (ConnectionError, OSError) as err:
        if _is_network_error(err):
            raise OfflineError(f"cannot reach the Hub to load {repo_id}: offline or unreachable") from None
        raise InputError(f"cannot load Hub dataset {repo_id} ({type(err).__name__})") from None
    except Exception as err:  # noqa: BLE001
        if _is_network_error(err):
            raise OfflineError(f"cannot reach the Hub to load {repo_id}: offline or unreachable") from None
        raise InputError(f"cannot load Hub dataset {repo_id} ({type(err).__name__})") from None
    return OpenedSource(spec=repo_id, kind="hub", dataset=ds, rows_total=None)


def _is_network_error(err: BaseException) -> bool:
    names = {type(e).__name__ for e in _chain(err)}
    return bool(names & {"ConnectError", "ConnectionError", "ConnectTimeout", "OfflineModeIsEnabled",
                         "LocalEntryNotFoundError", "gaierror", "TimeoutError"})


def _chain(err: BaseException | None) -> Iterator[BaseException]:
    seen = set()
    while err is not None and id(err) not in seen:
        seen.add(id(err))
        yield err
        err = err.__cause__ or err.__context__


def _load(fmt: str, files: list[str], spec: str) -> IterableDataset:
    try:
        with _OPEN_LOCK:
            ds = datasets.load_dataset(fmt, data_files=files, split="train", streaming=True)
            if ds.features is None:
                ds = ds._resolve_features()
    except Exception as err:  # noqa: BLE001
        raise read_error(err, files[0], fmt) from None
    return ds


def read_error(err: BaseException, file: str | None, fmt: str | None) -> HfAnonError:
    """A safe, specific message for a file that fails to parse (never quoting its content)."""
    if isinstance(err, HfAnonError):
        return err
    name = Path(file).name if file else "source"
    if isinstance(err, StopIteration):
        return InputError(f"dataset is empty: {name}")
    if any(isinstance(e, UnicodeError) or "utf-8" in str(e).lower() for e in _chain(err)):
        return InputError(f"{name} is not UTF-8 text", hint="re-encode it as UTF-8")
    if fmt == "json" and file and Path(file).suffix.lower() == ".jsonl":
        line = _first_bad_json_line(Path(file))
        if line is not None:
            return InputError(f"malformed JSONL in {name}: bad line {line}")
    if fmt == "json":
        return InputError(f"malformed JSON in {name}", hint="expected JSON Lines or a JSON array of objects")
    if fmt == "csv":
        return InputError(f"malformed CSV in {name} ({type(err).__name__})", hint="check quoting and column counts")
    if fmt == "parquet":
        return InputError(f"unreadable Parquet file {name} (truncated or not Parquet)")
    return InputError(f"cannot read {name} ({type(err).__name__})")


def _first_bad_json_line(path: Path) -> int | None:
    try:
        with path.open(encoding="utf-8") as fh:
            for number, line in enumerate(fh, 1):
                if line.strip():
                    obj = json.loads(line)
                    if not isinstance(obj, dict):
                        return number
    except json.JSONDecodeError:
        return number
    except UnicodeDecodeError:
        return None
    return None


def _data_bytes(path: Path, fmt: str) -> int | None:
    """The data's size: a text file's size; a Parquet file's row groups before compression (its metadata)."""
    try:
        if fmt == "parquet":
            import pyarrow.parquet as pq

            meta = pq.ParquetFile(path).metadata
            return sum(meta.row_group(i).total_byte_size for i in range(meta.num_row_groups))
        return path.stat().st_size
    except Exception:  # noqa: BLE001 - a size is a nicety; reading reports real errors
        return None


def _count_rows(path: Path, fmt: str) -> int | None:
    """Exact row counts where they are cheap: Parquet metadata, JSON Lines newlines."""
    try:
        if fmt == "parquet":
            import pyarrow.parquet as pq

            return pq.ParquetFile(path).metadata.num_rows
        if path.suffix.lower() == ".jsonl":
            with path.open("rb") as fh:
                return sum(1 for line in fh if line.strip())
    except Exception:  # noqa: BLE001 - a count is a nicety; reading reports real errors
        return None
    return None


# ---- columns -------------------------------------------------------------------------------------------------

def holds_text(feature) -> bool:
    """True for string features and containers (lists, dicts, chat messages) holding strings anywhere."""
    if isinstance(feature, Value):
        return feature.dtype in _STRING_TYPES
    if isinstance(feature, dict):
        return any(holds_text(f) for f in feature.values())
    if isinstance(feature, (List, datasets.LargeList, datasets.Sequence)):
        return holds_text(feature.feature)
    if isinstance(feature, (list, tuple)):
        return any(holds_text(f) for f in feature)
    return False


def choose_text_columns(features: Features, requested: list[str] | None) -> list[str]:
    """The caller's columns, checked, or every column that holds text."""
    if requested:
        unknown = [c for c in requested if c not in features]
        if unknown:
            raise InputError(
                f"unknown column(s): {', '.join(map(shown_name, unknown))}", hint="available: " + ", ".join(features)
            )
        no_text = [c for c in requested if not holds_text(features[c])]
        if no_text:
            raise InputError(f"column(s) hold no text: {', '.join(no_text)}", hint="name string columns only")
        return list(requested)
    found = [c for c, f in features.items() if holds_text(f) and not is_id_column(c)]
    if not found:
        raise InputError("no text columns found", hint="columns: " + ", ".join(features))
    return found


_IDENTIFIER = re.compile(r"^[\w.-]{1,64}$")


def shown_name(name: str) -> str:
    """A caller-given name for an error message: identifier-like names as is; anything else (a value passed
    by mistake, e.g. a person's name) masked."""
    from hf_anon_mcp.engine.masking import mask_sample

    return name if _IDENTIFIER.match(name) else mask_sample(name, "NAME")


def is_id_column(name: str) -> bool:
    """`id`, `uuid`...: row keys, not free text; kept as they are unless named explicitly.

    Only exact key names: a `user_id` column may well hold an email address, so it is scanned.
    """
    return name.lower() in {"id", "uuid", "guid", "idx", "index"}


def strings_in(value) -> Iterator[str]:
    """Every string inside a cell, depth first (dict values only, not keys)."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for v in value.values():
            yield from strings_in(v)
    elif isinstance(value, (list, tuple)):
        for v in value:
            yield from strings_in(v)


def replace_strings(value, replacements: Iterator[str]):
    """Rebuild a cell with its strings taken, in `strings_in` order, from `replacements`."""
    if isinstance(value, str):
        return next(replacements)
    if isinstance(value, dict):
        return {k: replace_strings(v, replacements) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [replace_strings(v, replacements) for v in value]
    return value


# ---- reading -------------------------------------------------------------------------------------------------

def limited(source: OpenedSource, *, max_rows: int | None = None, sample: int | None = None,
            seed: int = 0) -> tuple[IterableDataset, int | None]:
    """The dataset cut to `max_rows` (first rows) or a `sample` of rows (shuffled buffer), and its expected size."""
    ds, total = source.dataset, source.rows_total
    if sample:
        ds = ds.shuffle(seed=seed, buffer_size=max(1000, min(sample * 10, 100_000))).take(sample)
        total = sample if total is None else min(sample, total)
    elif max_rows:
        ds = ds.take(max_rows)
        total = max_rows if total is None else min(max_rows, total)
    return ds, total


def expected_bytes(source: OpenedSource, rows: int | None) -> int | None:
    """The size of the part of the source a run reads (`rows` of `rows_total`), when both are known."""
    if source.bytes_total is None:
        return None
    if rows is None or not source.rows_total or rows >= source.rows_total:
        return source.bytes_total
    return source.bytes_total * rows // source.rows_total


def by_size(batches: Iterable[dict[str, list]], columns: Sequence[str], max_chars: int) -> Iterator[dict[str, list]]:
    """Batches cut so their texts in `columns` hold at most about `max_chars` characters (a row is never cut):
    a few long documents in one batch of rows would otherwise keep one worker busy while the others wait."""
    from hf_anon_mcp.decisions.cells import texts_in

    for batch in batches:
        n = len(next(iter(batch.values()))) if batch else 0
        sizes = [sum(len(t) for c in columns if c in batch for t in texts_in(batch[c][i])) for i in range(n)]
        if sum(sizes) <= max_chars:
            yield batch
            continue
        for rows in constrained_batches(range(n), max_chars, get_len=sizes.__getitem__, strict=False):
            yield {k: v[rows[0]:rows[-1] + 1] for k, v in batch.items()}


def iter_batches(source: OpenedSource, ds: IterableDataset, batch_size: int) -> Iterator[dict[str, list]]:
    """Column batches; a parse error mid-stream becomes an `InputError` naming the file (and line, for JSONL)."""
    fmt = FILE_FORMATS.get(source.path.suffix.lower()) if source.path and source.path.is_file() else None
    try:
        yield from ds.iter(batch_size=batch_size)
    except HfAnonError:
        raise
    except Exception as err:  # noqa: BLE001
        file = str(source.path) if source.path and source.path.is_file() else None
        raise read_error(err, file, fmt) from None
