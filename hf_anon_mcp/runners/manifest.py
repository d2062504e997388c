"""The record of a block-by-block run: which input block made which shard, so an interrupted run can resume.

While a run writes, each finished shard is appended (and fsync'ed) to `_journal.jsonl` in the work folder; the first
line of the journal holds the run's fingerprint (the reader's schema, every worker class and the digest of its spec,
the output format). `resume` reuses a shard only when the journal's fingerprint is the current one, its block key
(file content hash + range) is in the current plan, and the shard file is there with the size recorded. The published
folder carries `_manifest.json` instead: every block, its key, its shard and its row count.
"""

from __future__ import annotations

import hashlib
import json
import os
import pickle
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field

VERSION = 1
JOURNAL = "_journal.jsonl"
MANIFEST = "_manifest.json"


class ShardRecord(BaseModel):
    """One finished shard: the input block it came from (`key`), its file name, rows and size on disk."""

    key: str
    shard: str
    rows: int
    bytes: int
    side: str | None = None  # the block's columns kept apart from the output (see `RayOutput.write`)


class BlockRecord(BaseModel):
    index: int = Field(description="position of the block (and its shard) in the output")
    file: str = Field(description="input file the block was read from")
    format: str
    start: int = Field(description="Parquet: first row; JSON Lines: first byte; else 0")
    stop: int | None = Field(description="Parquet: row after the last; JSON Lines: byte after the last; null: end")
    file_hash: str = Field(description="content hash of the input file (or the store's content id)")
    key: str = Field(description="digest of file_hash and the range: the block's name across runs")
    shard: str
    rows: int = Field(description="rows in the shard")
    resumed: bool = Field(False, description="shard written by an earlier, interrupted run and reused")


class Manifest(BaseModel):
    """`_manifest.json` of a published output folder."""

    version: int = VERSION
    source: str
    format: str
    steps: list[str] = Field(description="worker classes applied, in order")
    fingerprint: str
    rows: int
    blocks: list[BlockRecord]

    def write(self, folder: Path) -> Path:
        path = folder / MANIFEST
        tmp = folder / f".{MANIFEST}.tmp"
        tmp.write_text(self.model_dump_json(indent=1), encoding="utf-8")
        os.replace(tmp, path)
        return path


def read_manifest(folder: Path) -> Manifest:
    return Manifest.model_validate_json((folder / MANIFEST).read_text(encoding="utf-8"))


def digest(*parts: Any) -> str:
    """A short stable digest of strings / bytes."""
    h = hashlib.blake2b(digest_size=12)
    for part in parts:
        h.update(part if isinstance(part, bytes) else str(part).encode())
        h.update(b"\x1f")
    return h.hexdigest()


def spec_digest(spec: Any) -> str:
    """Digest of a worker spec. Pydantic models by their JSON; anything else by its pickle.

    A pickle is stable for the same values built the same way, but not for sets of strings across processes (hash
    randomisation): two equal specs may then get different digests, which only costs the reuse of shards, never
    reuses a shard made from another spec. Pass `fingerprint=` to `map` for a digest of your own.
    """
    dump = getattr(spec, "model_dump_json", None)
    if callable(dump):
        return digest(type(spec).__qualname__, dump())
    return digest(pickle.dumps(spec, protocol=4))


class Journal:
    """Append-only list of finished shards in one work folder."""

    def __init__(self, folder: Path, fingerprint: str, fmt: str):
        self.folder = folder
        self.path = folder / JOURNAL
        self.header = {"version": VERSION, "fingerprint": fingerprint, "format": fmt}

    def reusable(self, keys: set[str]) -> dict[str, ShardRecord]:
        """Shards of an earlier run of the same pipeline whose block is still in the plan and whose file is whole."""
        if not self.path.exists():
            return {}
        lines = self.path.read_text(encoding="utf-8").splitlines()
        try:
            if not lines or json.loads(lines[0]) != self.header:
                return {}
        except json.JSONDecodeError:
            return {}
        found: dict[str, ShardRecord] = {}
        for line in lines[1:]:
            try:
                record = ShardRecord.model_validate_json(line)
            except ValueError:
                continue  # a line cut short by a kill: that shard is redone
            shard = self.folder / record.shard
            side_ok = record.side is None or (self.folder / record.side).is_file()
            if record.key in keys and shard.is_file() and shard.stat().st_size == record.bytes and side_ok:
                found[record.key] = record
        return found

    def start(self, kept: dict[str, ShardRecord]) -> None:
        """Rewrite the journal with the header and the kept records (dropping stale ones), durably."""
        tmp = self.folder / f".{JOURNAL}.tmp"
        with tmp.open("w", encoding="utf-8") as fh:
            fh.write(json.dumps(self.header) + "\n")
            for record in kept.values():
                fh.write(record.model_dump_json() + "\n")
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, self.path)

    def append(self, record: ShardRecord) -> None:
        with self.path.open("a", encoding="utf-8") as fh:
            fh.write(record.model_dump_json() + "\n")
            fh.flush()
            os.fsync(fh.fileno())
