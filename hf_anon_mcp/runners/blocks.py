"""A source cut into blocks that are the same from one run to the next: the unit of work, of output and of resume.

Ray Data's own readers choose block boundaries at run time (by size and available CPUs), so a block of one run has
no name in the next. Resuming an interrupted run needs names: here a block is a fixed piece of one input file
(Parquet: a row range, in whole row groups when they are small; JSON Lines: a byte range ending at a newline; CSV and
JSON arrays: the whole file), and its key is a digest of the file's content hash and that range. The plan is made on
the driver; `read_block` runs wherever Ray schedules it and turns one block into an Arrow table with the plan's schema.

Content hashes: local files are hashed (BLAKE2b over their bytes, one pass on the driver); for remote files
(s3://, gs://, hf://, ...) the store's own content id is used when it gives one (the Hub's LFS sha256 or git blob id,
an S3 ETag), else the size and modification time.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Literal

import pyarrow as pa
import pyarrow.fs as pafs

from hf_anon_mcp.errors import InputError
from hf_anon_mcp.errors import field as field_mark  # `dataclasses.field` is used here too

Format = Literal["parquet", "jsonl", "json", "csv"]
SUFFIXES: dict[str, Format] = {".parquet": "parquet", ".jsonl": "jsonl", ".json": "json", ".csv": "csv"}
DEFAULT_BLOCK_BYTES = 512 * 1024  # JSON Lines: ~2.5k rows of 200 bytes; a few seconds of NER per block and core
DEFAULT_BLOCK_ROWS = 2_000  # Parquet
_SCAN = 64 * 1024  # bytes read at a time when looking for the newline that ends a block


@dataclass(frozen=True)
class Block:
    """One block of the plan: `index` orders the output; `key` names it across runs."""

    index: int
    file: str  # path on the source's file system (as `pyarrow.fs` spells it)
    fmt: Format
    start: int  # Parquet: first row; JSON Lines: first byte; else 0
    stop: int | None  # Parquet: row after the last; JSON Lines: byte after the last; None: to the end of the file
    file_hash: str
    name: str = ""  # a key given (a stage's shard keeps the key of the input block it came from)

    @property
    def key(self) -> str:
        if self.name:
            return self.name
        raw = f"{self.file_hash}|{self.fmt}|{self.start}|{self.stop}"
        return hashlib.blake2b(raw.encode(), digest_size=12).hexdigest()

    def describe(self) -> dict:
        return {"index": self.index, "file": self.file, "format": self.fmt, "start": self.start, "stop": self.stop,
                "file_hash": self.file_hash, "key": self.key}


@dataclass(frozen=True)
class SourcePlan:
    """The blocks of a source, in output order, and the schema every block is read with."""

    source: str
    uri: str  # what `resolve` opens again on a worker: a local path or a URI
    local: bool
    fmt: Format
    schema: pa.Schema
    blocks: tuple[Block, ...] = field(default=())

    @property
    def fingerprint(self) -> str:
        """What changes the rows read besides the blocks' content: the schema they are cast to."""
        return hashlib.blake2b(self.schema.serialize().to_pybytes(), digest_size=12).hexdigest()


# ---- file systems --------------------------------------------------------------------------------------------

def resolve(source: str) -> tuple[pafs.FileSystem, str, bool]:
    """(file system, path on it, is it the local disk) for a path or URI.

    pyarrow's own file systems first (local, s3, gs, hdfs, abfs); any other scheme through fsspec (hf:// with
    huggingface_hub installed, memory://, http(s)://...), wrapped so the rest of the code sees one API.
    """
    if "://" not in source:
        path = Path(source).expanduser().resolve()
        return pafs.LocalFileSystem(), path.as_posix(), True
    try:
        fs, path = pafs.FileSystem.from_uri(source)
        return fs, path, isinstance(fs, pafs.LocalFileSystem)
    except (pa.ArrowInvalid, ValueError):
        pass
    try:
        import fsspec

        ffs, path = fsspec.core.url_to_fs(source)
    except (ImportError, ValueError) as err:
        raise InputError(f"no file system for {_scheme(source)}:// ({type(err).__name__})",
                         hint="install the fsspec implementation for it (s3fs, gcsfs, huggingface_hub)") from None
    return pafs.PyFileSystem(pafs.FSSpecHandler(ffs)), path, False


def _scheme(uri: str) -> str:
    return uri.split("://", 1)[0]


def _fsspec_of(fs: pafs.FileSystem):
    handler = getattr(fs, "handler", None)
    return getattr(handler, "fs", None)


# ---- planning ------------------------------------------------------------------------------------------------

def plan_source(source: str, *, block_bytes: int = DEFAULT_BLOCK_BYTES, block_rows: int = DEFAULT_BLOCK_ROWS,
                schema: pa.Schema | None = None) -> SourcePlan:
    """List the source's data files and cut them into blocks. Raises `InputError` with a one-line reason.

    `schema` fixes the column types (pass the local run's `features.arrow_schema` to read exactly as it does);
    without it, Parquet files give theirs and JSON/CSV types are inferred from the first block of each file.
    """
    fs, root, local = resolve(source)
    files, fmt = _list_files(fs, root, source)
    hashes = [_file_hash(fs, f, local) for f in files]
    blocks: list[Block] = []
    for path, digest in zip(files, hashes):
        for start, stop in _ranges(fs, path, fmt, block_bytes=block_bytes, block_rows=block_rows):
            blocks.append(Block(len(blocks), path, fmt, start, stop, digest))
    if not blocks:
        raise InputError(f"no rows in source: {_shown(source)}")
    if schema is None:
        schema = _infer_schema(fs, files, fmt, blocks)
    # Workers open the source again by this name: a local path must not depend on the driver's working folder.
    uri = root if "://" not in source else source
    return SourcePlan(source=source, uri=uri, local=local, fmt=fmt, schema=schema, blocks=tuple(blocks))


def first_rows(plan: SourcePlan, max_rows: int) -> SourcePlan:
    """The plan cut to its first `max_rows` rows (as `--max-rows` reads locally): whole blocks, then the block
    holding the last row, ended just after it. Parquet and JSON Lines only: their blocks are row and line ranges,
    while a CSV or JSON array file is one block whose rows are known only by parsing it (on a worker)."""
    fs, _, _ = resolve(plan.uri)
    kept: list[Block] = []
    left = max_rows
    for block in plan.blocks:
        if left <= 0:
            break
        if block.fmt == "parquet" and block.stop is not None:
            rows = block.stop - block.start
            if rows > left:
                block, rows = replace(block, stop=block.start + left), left
        elif block.stop is not None:  # JSON Lines: count the non-blank lines (blank ones are no rows)
            with fs.open_input_file(block.file) as fh:
                data = fh.read_at(block.stop - block.start, block.start)
            pos = rows = 0
            while pos < len(data) and rows < left:
                newline = data.find(b"\n", pos)
                end = len(data) if newline < 0 else newline + 1
                rows += bool(data[pos:end].strip())
                pos = end
            if pos < len(data):
                block = replace(block, stop=block.start + pos)
        else:
            raise InputError(f"{field_mark('max_rows')} with the Ray engine needs Parquet or JSON Lines files",
                             hint=f"convert the source, or run without {field_mark('engine', 'ray')}")
        kept.append(block)
        left -= rows
    return replace(plan, blocks=tuple(kept))


def _shown(source: str) -> str:
    return source if "://" in source else Path(source).name


def _list_files(fs: pafs.FileSystem, root: str, source: str) -> tuple[list[str], Format]:
    if any(c in root for c in "*?["):
        return _glob(fs, root, source)
    info = fs.get_file_info(root)
    if info.type == pafs.FileType.NotFound:
        raise InputError(f"source not found: {_shown(source)}")
    if info.type == pafs.FileType.File:
        fmt = SUFFIXES.get(Path(info.path).suffix.lower())
        if fmt is None:
            raise InputError(f"unsupported file type '{Path(info.path).suffix or '(none)'}': {Path(info.path).name}",
                             hint="supported: .parquet, .jsonl, .json, .csv")
        return [info.path], fmt
    found = fs.get_file_info(pafs.FileSelector(root, recursive=True))
    files = sorted(i.path for i in found if i.type == pafs.FileType.File and not _hidden(i.path, root)
                   and Path(i.path).suffix.lower() in SUFFIXES)
    if not files:
        raise InputError(f"no data files in folder: {_shown(source)}", hint="expected .parquet/.jsonl/.json/.csv")
    formats = {SUFFIXES[Path(f).suffix.lower()] for f in files}
    if formats == {"json", "jsonl"}:
        formats = {"jsonl"}
    if len(formats) > 1:
        raise InputError(f"folder mixes file formats ({', '.join(sorted(formats))}): {_shown(source)}")
    return files, formats.pop()


def _glob(fs: pafs.FileSystem, pattern: str, source: str) -> tuple[list[str], Format]:
    """`data/train-*.parquet`: the files under the pattern's fixed prefix that match it (`fnmatch`, `*` crossing
    `/` too), one format."""
    import fnmatch

    parts = pattern.split("/")
    fixed = next(i for i, part in enumerate(parts) if any(c in part for c in "*?["))
    base = "/".join(parts[:fixed]) or "/"
    try:
        found = fs.get_file_info(pafs.FileSelector(base, recursive=True))
    except (FileNotFoundError, OSError):
        raise InputError(f"source not found: {_shown(source)}") from None
    files = sorted(i.path for i in found if i.type == pafs.FileType.File and fnmatch.fnmatch(i.path, pattern)
                   and Path(i.path).suffix.lower() in SUFFIXES and not _hidden(i.path, base))
    if not files:
        raise InputError(f"no data files match {_shown(source)}", hint="expected .parquet/.jsonl/.json/.csv")
    formats = {SUFFIXES[Path(f).suffix.lower()] for f in files}
    if formats == {"json", "jsonl"}:
        formats = {"jsonl"}
    if len(formats) > 1:
        raise InputError(f"pattern matches several file formats ({', '.join(sorted(formats))}): {_shown(source)}")
    return files, formats.pop()


def _hidden(path: str, root: str) -> bool:
    """Files (or folders) starting with `.` or `_` are metadata (manifests, temporaries), as pyarrow treats them."""
    rel = path[len(root):].lstrip("/")
    return any(part.startswith((".", "_")) for part in rel.split("/"))


def _file_hash(fs: pafs.FileSystem, path: str, local: bool) -> str:
    if local:
        with open(path, "rb") as fh:
            return "blake2b:" + hashlib.file_digest(fh, lambda: hashlib.blake2b(digest_size=16)).hexdigest()
    ffs = _fsspec_of(fs)
    if ffs is not None:
        info = ffs.info(path)
        lfs = info.get("lfs") or {}
        for name, value in (("sha256", lfs.get("sha256")), ("sha256", info.get("sha256")),
                            ("blob", info.get("blob_id")), ("etag", info.get("ETag") or info.get("etag")),
                            ("md5", info.get("md5"))):
            if value:
                return f"{name}:{str(value).strip(chr(34))}"
    info = fs.get_file_info(path)
    return f"stat:{info.size}:{info.mtime_ns}"


def _ranges(fs, path: str, fmt: Format, *, block_bytes: int, block_rows: int) -> list[tuple[int, int | None]]:
    if fmt == "parquet":
        import pyarrow.parquet as pq

        try:
            with fs.open_input_file(path) as fh:
                rows = pq.ParquetFile(fh).metadata.num_rows
        except (pa.ArrowInvalid, OSError):
            raise InputError(f"unreadable Parquet file {Path(path).name} (truncated or not Parquet)") from None
        return [(a, min(a + block_rows, rows)) for a in range(0, rows, block_rows)]
    if fmt == "jsonl" or (fmt == "json" and _is_json_lines(fs, path)):
        return _line_ranges(fs, path, block_bytes)
    size = fs.get_file_info(path).size
    return [(0, None)] if size else []


def _is_json_lines(fs, path: str) -> bool:
    with fs.open_input_file(path) as fh:
        head = fh.read(_SCAN).lstrip()
    return not head.startswith(b"[")


def _line_ranges(fs, path: str, block_bytes: int) -> list[tuple[int, int]]:
    """Byte ranges of about `block_bytes`, each ending just after a newline (or at the end of the file)."""
    with fs.open_input_file(path) as fh:
        size = fh.size()
        cuts = [0]
        while cuts[-1] + block_bytes < size:
            pos = cuts[-1] + block_bytes
            while True:
                chunk = fh.read_at(min(_SCAN, size - pos), pos)
                nl = chunk.find(b"\n")
                if nl >= 0:
                    pos += nl + 1
                    break
                pos += len(chunk)
                if not chunk or pos >= size:
                    pos = size
                    break
            if pos >= size:
                break
            cuts.append(pos)
        cuts.append(size)
    return [(a, b) for a, b in zip(cuts, cuts[1:]) if b > a]


def unify(schemas: list[pa.Schema]) -> pa.Schema:
    """pyarrow's permissive unification (int + float -> float, null + T -> T, struct fields merged)."""
    return pa.unify_schemas(schemas, promote_options="permissive") if len(schemas) > 1 else schemas[0]


def _infer_schema(fs, files: list[str], fmt: Format, blocks: list[Block]) -> pa.Schema:
    """One schema for every block: Parquet footers unified; JSON/CSV from the first block of each file.

    Unification is pyarrow's permissive one (int + float -> float, struct fields merged); a column that is only
    null in the sampled rows is read as string, the commonest case being an optional text field.
    """
    if fmt == "parquet":
        import pyarrow.parquet as pq

        schemas = []
        for path in files:
            with fs.open_input_file(path) as fh:
                schemas.append(pq.ParquetFile(fh).schema_arrow)
    else:
        first: dict[str, Block] = {}
        for block in blocks:
            first.setdefault(block.file, block)
        schemas = []
        for block in first.values():
            try:
                schemas.append(_sample_schema(fs, block))
            except InputError:
                raise
            except (pa.ArrowInvalid, pa.ArrowTypeError, ValueError, UnicodeDecodeError) as err:
                raise _parse_error(block, err) from None
    try:
        schema = unify(schemas)
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        raise InputError("the source's files have incompatible column types",
                         hint="pass an explicit schema or split the source") from None
    fields = [f.with_type(pa.string()) if pa.types.is_null(f.type) else f for f in schema]
    return pa.schema(fields, metadata=schema.metadata)


def _sample_schema(fs, block: Block) -> pa.Schema:
    if block.fmt != "csv":
        return _read_raw(fs, block, None).schema
    import pyarrow.csv as pacsv

    with fs.open_input_file(block.file) as fh:
        reader = pacsv.open_csv(fh, read_options=pacsv.ReadOptions(block_size=1 << 20, use_threads=False))
        return reader.schema


# ---- reading one block (on a Ray worker) ---------------------------------------------------------------------

def read_block(plan: SourcePlan, block: Block) -> pa.Table:
    """The block's rows as a table with the plan's schema; parse errors become `InputError` naming the file."""
    fs, _, _ = resolve(plan.uri)
    try:
        table = _read_raw(fs, block, plan.schema)
    except InputError:
        raise
    except (pa.ArrowInvalid, pa.ArrowTypeError, ValueError, UnicodeDecodeError) as err:
        raise _parse_error(block, err) from None
    if table.schema != plan.schema:
        try:
            table = table.select(plan.schema.names).cast(plan.schema)
        except (KeyError, pa.ArrowInvalid, pa.ArrowTypeError, ValueError):
            raise InputError(f"{Path(block.file).name} (block {block.index}) does not fit the source's column types",
                             hint="pass an explicit schema") from None
    return table


def _parse_error(block: Block, err: BaseException) -> InputError:
    name = Path(block.file).name
    if isinstance(err, UnicodeDecodeError) or "utf" in str(err).lower():
        return InputError(f"{name} is not UTF-8 text", hint="re-encode it as UTF-8")
    if block.fmt in ("jsonl", "json"):
        if "unexpected field" in str(err) or "changed from" in str(err) or "conversion" in str(err).lower():
            return InputError(f"{name} (block {block.index}) does not fit the column types inferred from its first "
                              "rows", hint="pass an explicit schema")
        return InputError(f"malformed JSON in {name} (block {block.index})")
    if block.fmt == "csv":
        return InputError(f"malformed CSV in {name} ({type(err).__name__})", hint="check quoting and column counts")
    return InputError(f"unreadable Parquet file {name} (truncated or not Parquet)")


def _read_raw(fs, block: Block, schema: pa.Schema | None) -> pa.Table:
    if block.fmt == "parquet":
        return _read_parquet_rows(fs, block, schema)
    with fs.open_input_file(block.file) as fh:
        if block.stop is None:
            data = fh.read()
        else:
            data = fh.read_at(block.stop - block.start, block.start)
    if block.fmt == "csv":
        import pyarrow.csv as pacsv

        convert = pacsv.ConvertOptions(column_types=schema) if schema is not None else None
        return pacsv.read_csv(pa.BufferReader(data), convert_options=convert)
    if block.stop is None and data.lstrip().startswith(b"["):
        rows = json.loads(data.decode("utf-8"))
        if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
            raise InputError(f"malformed JSON in {Path(block.file).name}",
                             hint="expected JSON Lines or a JSON array of objects")
        return pa.Table.from_pylist(rows, schema=schema)
    import pyarrow.json as paj

    data.decode("utf-8")  # pyarrow's JSON reader does not check the encoding; the local run's reader does
    parse = paj.ParseOptions(explicit_schema=schema, unexpected_field_behavior="error") if schema is not None \
        else paj.ParseOptions()
    read = paj.ReadOptions(use_threads=False, block_size=max(1 << 20, len(data) + 1))
    return paj.read_json(io.BytesIO(data), read_options=read, parse_options=parse)


def _read_parquet_rows(fs, block: Block, schema: pa.Schema | None) -> pa.Table:
    """Rows [start, stop) of a Parquet file, decoding only the row groups that hold them."""
    import pyarrow.parquet as pq

    with fs.open_input_file(block.file) as fh:
        pf = pq.ParquetFile(fh)
        meta = pf.metadata
        groups, first_row, offset = [], None, 0
        for i in range(meta.num_row_groups):
            n = meta.row_group(i).num_rows
            if offset + n > block.start and offset < block.stop:
                groups.append(i)
                first_row = offset if first_row is None else first_row
            offset += n
        if not groups:
            return (schema or pf.schema_arrow).empty_table()
        table = pf.read_row_groups(groups, use_threads=False)
    return table.slice(block.start - first_row, block.stop - block.start)


def block_bytes_of(block: Block) -> int | None:
    return None if block.stop is None or block.fmt == "parquet" else block.stop - block.start


def default_block_sizes() -> tuple[int, int]:
    """Block sizes from the environment (`HF_ANON_MCP_RAY_BLOCK_BYTES`, `..._BLOCK_ROWS`) or the defaults."""
    return (int(os.environ.get("HF_ANON_MCP_RAY_BLOCK_BYTES", DEFAULT_BLOCK_BYTES)),
            int(os.environ.get("HF_ANON_MCP_RAY_BLOCK_ROWS", DEFAULT_BLOCK_ROWS)))
