"""Run batch work in worker processes that each build the engine once, keeping input order and memory bounded.

`datasets`' `IterableDataset.map` takes no `num_proc`, so streamed batches are fed to a process pool ourselves.
"""

from __future__ import annotations

import multiprocessing as mp
import threading
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from typing import TypeVar

from hf_anon_mcp.errors import CancelledError

T = TypeVar("T")
R = TypeVar("R")


def ordered_map(fn: Callable[[T], R], items: Iterable[T], *, num_proc: int = 1,
                initializer: Callable | None = None, initargs: tuple = (),
                cancel: threading.Event | None = None) -> Iterator[R]:
    """`map(fn, items)` in order, over `num_proc` processes, with at most 2 batches in flight per worker.

    `fn` and `initializer` must be importable module-level functions (workers are spawned, not forked: forking a
    process that runs an event loop and threads is unsafe).
    """
    if num_proc <= 1:
        if initializer:
            initializer(*initargs)
        for item in items:
            _check(cancel)
            yield fn(item)
        return
    ctx = mp.get_context("spawn")
    with ProcessPoolExecutor(num_proc, mp_context=ctx, initializer=initializer, initargs=initargs) as pool:
        pending: deque[Future] = deque()
        try:
            for item in items:
                _check(cancel)
                pending.append(pool.submit(fn, item))
                if len(pending) >= 2 * num_proc:
                    yield pending.popleft().result()
            while pending:
                _check(cancel)
                yield pending.popleft().result()
        except BaseException:
            # Cancelled, interrupted, failed, or the consumer stopped (GeneratorExit): nobody wants the batches in
            # flight, so the workers end now instead of finishing them (the pool's exit would wait for them).
            for fut in pending:
                fut.cancel()
            terminate_workers(pool)
            raise


def terminate_workers(pool: ProcessPoolExecutor) -> None:
    """End a pool's worker processes at once (Python 3.14 has `ProcessPoolExecutor.terminate_workers`)."""
    if hasattr(pool, "terminate_workers"):  # pragma: no cover - Python 3.14+
        pool.terminate_workers()
        return
    processes = list((getattr(pool, "_processes", None) or {}).values())  # read before shutdown clears it
    for process in processes:
        if process.is_alive():
            process.terminate()
    pool.shutdown(wait=False, cancel_futures=True)
    for process in processes:
        process.join(5)


def _check(cancel: threading.Event | None) -> None:
    if cancel is not None and cancel.is_set():
        raise CancelledError("cancelled by the caller; nothing was written")
