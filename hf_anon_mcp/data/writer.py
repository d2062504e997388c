"""Write a dataset atomically: batches go to a temporary path beside the output, renamed into place only when
complete. A failed, interrupted or killed run leaves the previous output (if any) intact and no partial dataset;
temporaries left by a killed run are removed by the next run for the same output.
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import uuid
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from hf_anon_mcp.errors import AccessError, InputError
from hf_anon_mcp.interrupts import pid_alive

OUTPUT_FORMATS = {".parquet": "parquet", ".jsonl": "jsonl", ".json": "jsonl", ".csv": "csv"}
TMP_MARK = _TMP_MARK = ".hfanon-"  # temporaries of an output: .<output name>.hfanon-<pid>-...


def output_format(path: Path) -> str:
    """Format from the output path: a known suffix, or no suffix for a `save_to_disk` folder."""
    suffix = path.suffix.lower()
    if suffix in OUTPUT_FORMATS:
        return OUTPUT_FORMATS[suffix]
    if suffix == "":
        return "save_to_disk"
    raise InputError(f"unsupported output type '{suffix}'", hint="use .parquet, .jsonl, .csv, or a folder name")


def check_output(output: Path, source: Path | None, *, overwrite: bool) -> None:
    """Refuse, before any work, an output that would overwrite the input or an existing output, or can't be written."""
    out = output.resolve()
    if source is not None:
        src = source.resolve()
        if out == src or (src.is_dir() and src in out.parents):
            raise InputError("output path is the input (or inside it): choose another output path")
    if out.exists() and not overwrite:
        raise InputError(f"output exists: {output.name}", hint="pass overwrite (--overwrite) or choose another path")
    parent = out.parent
    if not parent.is_dir():
        raise AccessError(f"output folder does not exist: {parent}")
    if not _can_create_in(parent):
        raise AccessError(f"output folder is not writable: {parent}")


def _can_create_in(folder: Path) -> bool:
    """Try it: permission bits say nothing for root, read-only mounts or pseudo file systems."""
    probe = folder / f".hfanon-probe-{os.getpid()}-{uuid.uuid4().hex[:6]}"
    try:
        probe.touch(exist_ok=False)
    except OSError:
        return False
    probe.unlink(missing_ok=True)
    return True


def sweep_stale_temporaries(output: Path) -> list[Path]:
    """Remove temporaries of `output` left by runs whose process is gone (e.g. killed with SIGKILL)."""
    removed = []
    for tmp in output.parent.glob(f".{output.name}{_TMP_MARK}*"):
        pid = _pid_of(tmp.name)
        if pid is not None and not pid_alive(pid):
            shutil.rmtree(tmp, ignore_errors=True) if tmp.is_dir() else tmp.unlink(missing_ok=True)
            removed.append(tmp)
    return removed


def _pid_of(name: str) -> int | None:
    try:
        return int(name.split(_TMP_MARK, 1)[1].split("-", 1)[0])
    except (IndexError, ValueError):
        return None


class AtomicDatasetWriter:
    """Stream column batches into `output` in its format; `commit()` renames into place, `abort()` cleans up.

    Use as a context manager: leaving the block with an exception (or Ctrl-C) aborts.
    """

    def __init__(self, output: Path, schema: pa.Schema):
        self.output = output
        self.format = output_format(output)
        self.schema = schema
        self.rows = 0
        token = f"{_TMP_MARK}{os.getpid()}-{uuid.uuid4().hex[:8]}"
        self.tmp = output.parent / f".{output.name}{token}.tmp"
        self._data_tmp = self.tmp if self.format != "save_to_disk" else output.parent / f".{output.name}{token}.parquet"
        self._handle = None
        self._writer = None
        self._done = False

    def __enter__(self) -> "AtomicDatasetWriter":
        sweep_stale_temporaries(self.output)
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is not None or not self._done:
            self.abort()

    def write_batch(self, batch: dict[str, list]) -> None:
        """Append a batch; a full disk or a file-size limit becomes a clear error (the caller's `with` cleans up)."""
        try:
            self._write(batch)
        except OSError as err:
            raise AccessError(f"writing the output failed ({err.strerror or type(err).__name__}); "
                              "nothing was written") from None

    def _write(self, batch: dict[str, list]) -> None:
        table = pa.Table.from_pydict({name: batch[name] for name in self.schema.names}, schema=self.schema)
        self.rows += table.num_rows
        if self.format in ("parquet", "save_to_disk"):
            if self._writer is None:
                self._writer = pq.ParquetWriter(self._data_tmp, self.schema)
            self._writer.write_table(table)
        elif self.format == "jsonl":
            self._open().writelines(json.dumps(row, ensure_ascii=False, default=str) + "\n"
                                    for row in table.to_pylist())
        else:
            self._write_csv(table)

    def _open(self):
        if self._handle is None:
            self._handle = self._data_tmp.open("w", encoding="utf-8", newline="")
        return self._handle

    def _write_csv(self, table: pa.Table) -> None:
        fresh = self._handle is None
        writer = csv.writer(self._open())
        if fresh:
            writer.writerow(self.schema.names)
        for row in table.to_pylist():
            writer.writerow([_csv_cell(row[name]) for name in self.schema.names])

    def commit(self) -> Path:
        """Finish the file and move it into place (replacing an existing output atomically)."""
        try:
            return self._commit()
        except OSError as err:
            raise AccessError(f"finishing the output failed ({err.strerror or type(err).__name__}); "
                              "nothing was written") from None

    def _commit(self) -> Path:
        self._close()
        if self.format == "save_to_disk":
            self._parquet_to_saved_folder()
        if self.output.is_dir() and self.format == "save_to_disk":
            old = self.output.parent / f".{self.output.name}{_TMP_MARK}{os.getpid()}-old"
            os.replace(self.output, old)
            os.replace(self.tmp, self.output)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(self.tmp, self.output)
        self._done = True
        return self.output

    def _parquet_to_saved_folder(self) -> None:
        from datasets import Dataset

        cache = self.tmp.with_suffix(".cache")
        try:
            if self.rows == 0:
                ds = Dataset.from_dict({n: [] for n in self.schema.names})
            else:
                ds = Dataset.from_parquet(str(self._data_tmp), cache_dir=str(cache))
            ds.save_to_disk(str(self.tmp))
        finally:
            self._data_tmp.unlink(missing_ok=True)
            shutil.rmtree(cache, ignore_errors=True)

    def _close(self) -> None:
        if self._writer is not None:
            self._writer.close()
            self._writer = None
        if self._handle is not None:
            self._handle.close()
            self._handle = None
        if self.format in ("parquet", "save_to_disk") and not self._data_tmp.exists():
            pq.write_table(self.schema.empty_table(), self._data_tmp)
        elif self.format in ("jsonl", "csv") and not self._data_tmp.exists():
            self._data_tmp.write_text(",".join(self.schema.names) + "\n" if self.format == "csv" else "")

    def abort(self) -> None:
        """Remove every temporary of this run; the previous output, if any, is untouched."""
        try:
            self._close()
        except Exception:  # noqa: BLE001 - cleanup must not mask the original error
            pass
        for path in {self.tmp, self._data_tmp, self.tmp.with_suffix(".cache")}:
            if path.is_dir():
                shutil.rmtree(path, ignore_errors=True)
            else:
                path.unlink(missing_ok=True)


def _csv_cell(value):
    if isinstance(value, (list, dict)):
        return json.dumps(value, ensure_ascii=False, default=str)
    return "" if value is None else value
