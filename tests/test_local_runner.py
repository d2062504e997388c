"""The local runner's pool: what a worker process keeps between the passes of a command."""

from __future__ import annotations

import os

from hf_anon_mcp.runners import local
from hf_anon_mcp.runners.local import LocalRunner


class _Holder:
    """A pass's worker that holds memory for its pass, as the replace pass's worker holds the decisions."""

    def __init__(self, spec):
        self.held = bytearray(spec)

    def __call__(self, batch):
        return {"pid": [os.getpid()]}


class _Probe:
    """Reports which workers the process it runs in still holds."""

    def __init__(self, spec):
        pass

    def __call__(self, batch):
        return {"pid": [os.getpid()], "built": [sorted(cls.__name__ for cls, _ in local._BUILT)]}


def _batches(n: int) -> list[dict]:
    return [{"x": [i]} for i in range(n)]


def test_a_pool_worker_drops_what_it_built_for_a_pass_that_ended():
    with LocalRunner(2) as runner:
        first = {out["pid"][0] for out in runner.map(_Holder, 1 << 20, _batches(8))}
        probes = list(runner.map(_Probe, None, _batches(8)))
    assert first & {p["pid"][0] for p in probes}  # a process that ran the first pass was probed
    assert all(p["built"][0] == ["_Probe"] for p in probes)


def test_an_in_process_pass_drops_its_worker_even_when_stopped_early():
    with LocalRunner(1) as runner:
        outputs = runner.map(_Holder, 16, _batches(4))
        next(outputs)
        assert any(cls is _Holder for cls, _ in local._BUILT)
        outputs.close()  # the consumer stopped (an error downstream, a cancel)
    assert not any(cls is _Holder for cls, _ in local._BUILT)
