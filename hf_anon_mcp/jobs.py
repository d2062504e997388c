"""Long runs as jobs: a blocking workflow runs in a thread; callers wait a bounded time, then follow it by id.

Cancellation is cooperative: the workflow checks the job's event between batches, its worker processes are ended,
and it leaves no output. When the server stops (its client closed stdio, or a signal), `stop_all_jobs` cancels
every running job of the process and waits for each to clean up, so no temporary file or worker outlives it.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
import weakref
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from hf_anon_mcp.errors import CancelledError, HfAnonError
from hf_anon_mcp.models import Progress

log = logging.getLogger("hf_anon_mcp.jobs")

Work = Callable[[Callable[[Progress], None], threading.Event], Any]


@dataclass
class Job:
    job_id: str
    kind: str
    label: str = ""  # the progress header: profile and detectors (e.g. "profile fast: ...; names NOT detected")
    status: str = "running"  # running | done | failed | cancelled
    progress: Progress = field(default_factory=lambda: Progress(stage="starting", done=0))
    result: Any = None
    error: HfAnonError | None = None
    started: float = field(default_factory=time.monotonic)
    cancel: threading.Event = field(default_factory=threading.Event)
    finished: threading.Event = field(default_factory=threading.Event)

    def report(self, event: Progress) -> None:
        self.progress = event


_REGISTRIES: "weakref.WeakSet[JobRegistry]" = weakref.WeakSet()


class JobRegistry:
    """Jobs of this server process, by id; finished ones are kept (bounded) so `get_job` can still answer."""

    def __init__(self, keep: int = 200):
        self._jobs: dict[str, Job] = {}
        self._lock = threading.Lock()
        self._keep = keep
        _REGISTRIES.add(self)

    def start(self, kind: str, work: Work, label: str = "") -> Job:
        job = Job(job_id=f"job-{uuid.uuid4().hex[:12]}", kind=kind, label=label)
        with self._lock:
            self._jobs[job.job_id] = job
            self._trim()
        threading.Thread(target=self._run, args=(job, work), name=job.job_id, daemon=True).start()
        return job

    def _run(self, job: Job, work: Work) -> None:
        try:
            job.result = work(job.report, job.cancel)
            job.status = "done"
        except CancelledError as err:
            job.status, job.error = "cancelled", err
        except HfAnonError as err:
            job.status, job.error = "failed", err
        except Exception as err:  # noqa: BLE001 - reported by type only: messages may hold data
            log.error("job %s (%s) failed: internal error %s", job.job_id, job.kind, type(err).__name__)
            job.status = "failed"
            job.error = HfAnonError(f"internal error ({type(err).__name__}); see the server log")
        finally:
            job.finished.set()

    def running(self) -> list[Job]:
        with self._lock:
            return [j for j in self._jobs.values() if not j.finished.is_set()]

    def get(self, job_id: str) -> Job | None:
        with self._lock:
            return self._jobs.get(job_id)

    def _trim(self) -> None:
        done = [j for j in self._jobs.values() if j.finished.is_set()]
        for job in sorted(done, key=lambda j: j.started)[: max(0, len(self._jobs) - self._keep)]:
            self._jobs.pop(job.job_id, None)


def running_job_ids() -> frozenset[str]:
    """Ids of every running job of this process."""
    return frozenset(job.job_id for registry in list(_REGISTRIES) for job in registry.running())


def stop_all_jobs(timeout: float = 30.0, spare: frozenset[str] = frozenset()) -> int:
    """Cancel every running job of this process (but those in `spare`) and wait (up to `timeout` s in all) for
    each to clean up.

    Returns how many jobs were still running. Called when the server stops: job threads are daemon threads, and
    one killed at interpreter exit would leave its temporary file behind.
    """
    jobs = [job for registry in list(_REGISTRIES) for job in registry.running() if job.job_id not in spare]
    for job in jobs:
        job.cancel.set()
    deadline = time.monotonic() + timeout
    for job in jobs:
        if not job.finished.wait(max(0.0, deadline - time.monotonic())):
            log.warning("job %s did not stop within %.0f s", job.job_id, timeout)
    return len(jobs)
