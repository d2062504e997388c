"""The worker contract shared by the local pool and the Ray Data runner (Ray's offline batch inference shape)."""

from __future__ import annotations

from typing import Any, Protocol

Batch = dict[str, list[Any]]


class BatchWorker(Protocol):
    """A callable class: `__init__(spec)` loads models once per process/actor; `__call__` maps a batch to a batch.

    `spec` is a small picklable object (a frozen dataclass or pydantic model) that fully decides what the worker
    does, so two processes built from the same spec give identical outputs. Batches are plain dicts of equal-length
    lists of Python values (what `datasets` yields and what `pyarrow.Table.to_pydict()` gives); a worker may add
    or drop columns, and must keep the row order.
    """

    def __init__(self, spec: Any) -> None: ...

    def __call__(self, batch: Batch) -> Batch: ...
