"""The local runner: one pool of warm worker processes per command, used by every pass (detect, replace, verify).

Workers are spawned (not forked: the MCP server runs an event loop and threads) and build each worker class once per
process: a spec is pickled once to a file beside the run and loaded by each process the first time it sees it, so a
large decisions object crosses no pipe per batch. Small inputs run in-process: no spawn, no second model load.
"""

from __future__ import annotations

import gc
import multiprocessing as mp
import os
import pickle
import tempfile
import threading
import uuid
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from pathlib import Path

from hf_anon_mcp.errors import CancelledError
from hf_anon_mcp.runners.base import Batch

# Per process: (worker class, spec token) -> the built worker. Lives as long as the process (or the server).
_BUILT: dict[tuple[type, str], object] = {}
_MAX_BUILT = 8
# Specs of passes that have ended (driver side), sent with every task: a worker drops what it built for them. A
# replace pass's worker holds the decisions (tens of MB at 200k rows); kept, it sat beside the ONNX model of the
# sample check that follows, and in the MCP server beside the next calls' work.
_RETIRED: deque[str] = deque(maxlen=4 * _MAX_BUILT)

# A long-lived process (the MCP server) keeps its pools between calls: the second call finds its workers warm
# (engine loaded, repeated texts remembered). Keyed by worker count; a failed or cancelled run discards its pool.
_WARM: dict[int, ProcessPoolExecutor] = {}
_keep_warm = False


def pools_kept_warm() -> bool:
    """Is this a long-lived process (the MCP server) that keeps its pools, and may keep results, between calls?"""
    return _keep_warm


def keep_pools_warm(enabled: bool = True) -> None:
    """Keep worker pools alive between runs in this process (the MCP server turns this on)."""
    global _keep_warm
    _keep_warm = enabled
    if not enabled:
        for pool in _WARM.values():
            pool.shutdown(wait=True, cancel_futures=True)  # idle between calls: quick
        _WARM.clear()


# Estimated cost of a row, in seconds, and of a spawned worker's start (import + model load), measured on 2 cores.
# fast: 60k unique 60-word rows took 70 s in one process (about 1.1 ms a row, whole command); 30-word rows about
# half. The old 0.05 ms kept every fast run under 160k rows on one core.
_ROW_COST = {"fast": 0.0005, "balanced": 0.006, "thorough": 0.010}
# The same per byte of data, for inputs whose rows are long (documents): a 733 KB cell took 27 s balanced in one
# process; 20k ~30-word rows (4.6 MB of JSON Lines) about 110 CPU s; fast 200k 60-word rows (88 MB) about 200 CPU s.
_BYTE_COST = {"fast": 0.000002, "balanced": 0.000025, "thorough": 0.00004}
_SPAWN_COST = 4.0
# Characters of text per task: rows are cut into smaller batches past this, so a few long documents spread over the
# workers (256 rows of ~60 words hold ~100k)
BATCH_CHARS = 250_000


def auto_workers(rows: int | None, profile: str = "balanced", size: int | None = None) -> int:
    """Worker processes for an input of `rows` (and `size` bytes, when known): more than one only when the work
    saves more than the spawn costs. Long rows make a small row count a large input."""
    cores = os.cpu_count() or 1
    if cores < 2 or (rows is None and size is None):
        return min(2, cores) if rows is None and profile != "fast" else 1
    work = max((rows or 0) * _ROW_COST.get(profile, 0.006), (size or 0) * _BYTE_COST.get(profile, 0.000025))
    return min(cores, 2) if work > 2 * _SPAWN_COST else 1


def _run(worker_cls: type, token: str, spec_path: str | None, spec, batch: Batch,
         retired: tuple[str, ...] = ()) -> Batch:
    if retired:
        _retire(retired)
    key = (worker_cls, token)
    worker = _BUILT.get(key)
    if worker is None:
        if spec is None:
            with open(spec_path, "rb") as fh:
                spec = pickle.load(fh)
        if len(_BUILT) >= _MAX_BUILT:
            _BUILT.pop(next(iter(_BUILT)))
        worker = _BUILT[key] = worker_cls(spec)
    return worker(batch)


def _retire(tokens: tuple[str, ...]) -> None:
    """Forget the workers built for passes that have ended (their memory goes back to the process at once)."""
    gone = [key for key in _BUILT if key[1] in tokens]
    for key in gone:
        del _BUILT[key]
    if gone:
        gc.collect()  # a worker's objects may hold reference cycles


class LocalRunner:
    """`map(worker_cls, spec, batches)` in order, in this process or over a pool of warm processes.

    >>> with LocalRunner(num_proc=2) as runner:
    ...     out = list(runner.map(DetectWorker, spec, batches))
    """

    def __init__(self, num_proc: int = 1, *, cancel: threading.Event | None = None,
                 initializer=None, initargs: tuple = ()):
        self.num_proc = max(1, num_proc)
        self.cancel = cancel
        self._initializer, self._initargs = initializer, initargs
        self._pool: ProcessPoolExecutor | None = None
        self._dir: tempfile.TemporaryDirectory | None = None

    def __enter__(self) -> "LocalRunner":
        if self.num_proc > 1:
            self._dir = tempfile.TemporaryDirectory(prefix="hfanon-specs-")
            self._pool = _WARM.pop(self.num_proc, None) if _keep_warm else None
            if self._pool is None:
                self._pool = ProcessPoolExecutor(self.num_proc, mp_context=mp.get_context("spawn"),
                                                 initializer=self._initializer, initargs=self._initargs)
        elif self._initializer:
            self._initializer(*self._initargs)
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if self._pool is not None:
            if exc_type is not None:  # an error, a cancel or a signal: stop the workers now, not after the queue
                for process in list(getattr(self._pool, "_processes", {}).values()):
                    process.terminate()
                self._pool.shutdown(wait=True, cancel_futures=True)
            elif _keep_warm and self.num_proc not in _WARM:
                _WARM[self.num_proc] = self._pool
            else:
                self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None
        if self._dir is not None:
            self._dir.cleanup()
            self._dir = None

    def map(self, worker_cls: type, spec, batches: Iterable[Batch]) -> Iterator[Batch]:
        token = uuid.uuid4().hex
        if self._pool is None:
            try:
                for batch in batches:
                    self._check()
                    yield _run(worker_cls, token, None, spec, batch)
            finally:
                _BUILT.pop((worker_cls, token), None)
            return
        path = Path(self._dir.name) / f"{token}.pkl"
        with open(path, "wb") as fh:
            pickle.dump(spec, fh, protocol=pickle.HIGHEST_PROTOCOL)
        pending: deque[Future] = deque()
        try:
            for batch in batches:
                self._check()
                pending.append(self._pool.submit(_run, worker_cls, token, str(path), None, batch, tuple(_RETIRED)))
                if len(pending) >= 2 * self.num_proc:
                    yield pending.popleft().result()
            while pending:
                self._check()
                yield pending.popleft().result()
        finally:
            for fut in pending:
                fut.cancel()
            _RETIRED.append(token)

    def _check(self) -> None:
        if self.cancel is not None and self.cancel.is_set():
            raise CancelledError("cancelled by the caller; nothing was written")
