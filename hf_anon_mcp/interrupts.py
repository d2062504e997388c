"""Signals end a run the way Ctrl-C does, whatever runs the batches.

SIGINT, SIGTERM and SIGHUP each stop the worker processes and raise `Interrupted` in the main thread. The exception
unwinds through the workflow like a `KeyboardInterrupt`, so the atomic writer removes its temporary file, staging
folders are deleted, and the previous output stays as it was; the CLI then exits with 128 + the signal number
(130, 143, 129). Nothing here knows which pool made the children: every child process of this process is ended,
so it keeps working whether batches run in a `ProcessPoolExecutor`, a `multiprocessing.Pool` or anything else
built on `multiprocessing`.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import signal
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

from hf_anon_mcp.errors import Interrupted

log = logging.getLogger("hf_anon_mcp.interrupts")

SIGNALS = tuple(s for s in (signal.SIGINT, signal.SIGTERM, getattr(signal, "SIGHUP", None)) if s is not None)


@contextmanager
def interruptible(spare: frozenset[int] = frozenset()) -> Iterator[None]:
    """Within the block, a SIGINT/SIGTERM/SIGHUP ends the child processes (but those in `spare`, which were there
    before the command started) and raises `Interrupted(signum)`.

    The first signal starts the unwinding; further ones are ignored until the block is left, so a second Ctrl-C
    cannot cut the cleanup short and leave a temporary behind. Outside the main thread this does nothing (Python
    delivers signals to the main thread only).
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    fired: list[int] = []

    def handler(signum, frame):
        if fired:
            return
        fired.append(signum)
        signal_children(signal.SIGTERM, spare)  # workers stop now, not after their batch
        raise Interrupted(signum)

    previous = {s: signal.signal(s, handler) for s in SIGNALS}
    try:
        yield
    finally:
        for s, h in previous.items():
            signal.signal(s, h)


def child_pids() -> frozenset[int]:
    """Every live descendant process of this one (to spare those a command did not start)."""
    return frozenset(_descendants())


def signal_children(signum: int = signal.SIGTERM, spare: frozenset[int] = frozenset()) -> list[int]:
    """Send `signum` to every live child process of this process but those in `spare`; returns their pids.

    Safe inside a signal handler: it only reads the process table and sends signals (no joins, no locks).
    """
    pids = {pid for pid in _child_pids() if pid not in spare and not _exits_with_us(pid)}
    for pid in pids:
        try:
            os.kill(pid, signum)
        except (ProcessLookupError, PermissionError):
            pass
    return sorted(pids)


def end_children(timeout: float = 10.0, spare: frozenset[int] = frozenset()) -> list[int]:
    """Terminate every child process (and theirs) but those in `spare`, wait up to `timeout` seconds, then kill
    what is left.

    Returns the pids that had to be ended. Called once more as the CLI exits, whatever happened before, so no
    worker outlives the command.
    """
    pids = [pid for pid in _descendants() if pid not in spare and not _exits_with_us(pid)]
    if not pids:
        return []
    for pid in pids:
        _kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    alive = set(pids)
    while alive and time.monotonic() < deadline:
        for child in multiprocessing.active_children():  # reaps finished multiprocessing children
            child.join(0)
        alive = {pid for pid in alive if pid_alive(pid)}
        if alive:
            time.sleep(0.05)
    for pid in alive:
        log.warning("child process %d ignored SIGTERM: killing it", pid)
        _kill(pid, signal.SIGKILL)
    for child in multiprocessing.active_children():
        child.join(1.0)
    return sorted(pids)


def _child_pids() -> list[int]:
    """Direct children: those `multiprocessing` knows of, plus any other the kernel lists (e.g. a resource
    tracker, or a pool that starts processes its own way)."""
    pids = {p.pid for p in multiprocessing.active_children() if p.pid}
    pids.update(_proc_children(os.getpid()))
    return list(pids)


def _descendants() -> list[int]:
    try:
        import psutil

        return [p.pid for p in psutil.Process().children(recursive=True)]
    except ImportError:  # psutil is a dev dependency: fall back to /proc (Linux) and multiprocessing
        seen: list[int] = []
        todo = _child_pids()
        while todo:
            pid = todo.pop()
            if pid not in seen:
                seen.append(pid)
                todo.extend(_proc_children(pid))
        return seen


def _exits_with_us(pid: int) -> bool:
    """`multiprocessing`'s resource tracker and fork server ignore SIGTERM and end by themselves when this process
    exits (their pipe closes); the tracker must outlive the workers to unlink their semaphores."""
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as fh:
            cmdline = fh.read()
    except OSError:
        return False
    return b"multiprocessing.resource_tracker" in cmdline or b"multiprocessing.forkserver" in cmdline


def _proc_children(pid: int) -> list[int]:
    """Children of `pid` from /proc (Linux); empty elsewhere."""
    out: list[int] = []
    try:
        for task in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{task}/children") as fh:
                out.extend(int(x) for x in fh.read().split())
    except OSError:
        pass
    return out


def pid_alive(pid: int) -> bool:
    """Is this process still running (a zombie is not)? Shared with the writer's sweep of stale temporaries."""
    try:
        import psutil

        try:
            return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
        except psutil.NoSuchProcess:
            return False
    except ImportError:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return True


def _kill(pid: int, signum: int) -> None:
    try:
        os.kill(pid, signum)
    except (ProcessLookupError, PermissionError):
        pass
