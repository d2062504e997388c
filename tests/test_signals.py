"""Signals and abandoned clients end a run cleanly: a real 2-worker `anonymize` of 20k generated rows gets SIGTERM,
SIGHUP or SIGINT mid-write; afterwards no process of the run is left, no temporary file, the previous output is
byte-identical, and the exit code is 128 + the signal. The same for `scan`, for `serve`, and for an MCP client that
closes its connection while a 2-worker job runs.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import anyio
import psutil
import pytest

EXE = str(Path(sys.executable).with_name("hf-anon-mcp"))
ENV = {**os.environ, "HF_HUB_OFFLINE": "1"}
PREVIOUS = b"previous output: must survive every interrupted run byte for byte\n"
FIRST = ["Marisol", "Thaddeus", "Ingrid", "Oskar", "Priya", "Liam", "Chen", "Fatima"]
LAST = ["Quintanilla", "Okonkwo", "Holm", "Berg", "Raman", "Walsh", "Wei", "Haddad"]


@pytest.fixture(scope="module")
def rows_20k(tmp_path_factory) -> Path:
    """20,000 generated support tickets with a name, an email and a phone number each."""
    rng = random.Random(21)
    path = tmp_path_factory.mktemp("signals") / "tickets.jsonl"
    with path.open("w", encoding="utf-8") as fh:
        for i in range(20_000):
            a, b = rng.choice(FIRST), rng.choice(LAST)
            fh.write(json.dumps({"id": i, "text": f"Ticket {i}: {a} {b} wrote from {a.lower()}.{b.lower()}"
                                                  f"@example.com, call 415-555-{i % 10_000:04d}."}) + "\n")
    return path


def _temporaries(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if ".hfanon-" in p.name)


def _env(tmp_path: Path) -> dict:
    """The run's environment, with its own TMPDIR: temporaries outside the output folder are checked too."""
    tmp = tmp_path.parent / f"{tmp_path.name}-tmpdir"
    tmp.mkdir(exist_ok=True)
    return {**ENV, "TMPDIR": str(tmp)}


def _leftovers(tmpdir: str) -> list[str]:
    """What a run left in its TMPDIR, but torch's compile cache (`torchinductor_<user>`, made at import, kept)."""
    return sorted(p.name for p in Path(tmpdir).iterdir() if not p.name.startswith("torchinductor_"))


def _stop(proc: subprocess.Popen) -> None:
    """After a failed assertion: end the run gently (so it cleans up), then for sure."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()


def _wait_for(predicate, timeout: float, what: str, proc: subprocess.Popen | None = None) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if proc is not None and proc.poll() is not None:
            raise AssertionError(f"the run ended before {what}: {proc.stderr.read()[-1500:]}")
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)


def _family(pid: int) -> list[psutil.Process]:
    try:
        return psutil.Process(pid).children(recursive=True)
    except psutil.NoSuchProcess:
        return []


def _workers(family: list[psutil.Process]) -> list[psutil.Process]:
    out = []
    for p in family:
        try:
            if "spawn_main" in " ".join(p.cmdline()):
                out.append(p)
        except psutil.NoSuchProcess:
            pass
    return out


def _assert_all_gone(processes: list[psutil.Process], timeout: float = 30.0) -> None:
    """Every process is gone (the resource tracker ends on its own once its parent is gone)."""
    _, alive = psutil.wait_procs(processes, timeout=timeout)
    assert alive == [], [(p.pid, p.cmdline()) for p in alive]


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP, signal.SIGINT],
                         ids=["SIGTERM-143", "SIGHUP-129", "SIGINT-130"])
def test_a_signal_ends_a_two_worker_anonymize_cleanly(tmp_path, rows_20k, signum):
    out = tmp_path / "tickets.anon.parquet"
    out.write_bytes(PREVIOUS)
    env = _env(tmp_path)
    proc = subprocess.Popen([EXE, "anonymize", str(rows_20k), "--out", str(out), "--overwrite", "--num-proc", "2",
                             "--patterns-only", "--batch-size", "100"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env, cwd=tmp_path)
    try:  # a temporary beside the output and both workers busy: mid-run
        _wait_for(lambda: _temporaries(tmp_path) and len(_workers(_family(proc.pid))) == 2, 600,
                  "two workers and a temporary output", proc)
        family = _family(proc.pid)
        proc.send_signal(signum)
        _, err = proc.communicate(timeout=120)
    finally:
        _stop(proc)
    assert proc.returncode == 128 + signum, err[-1500:]
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"error: interrupted by {signal.Signals(signum).name}"), err
    assert "Traceback" not in err
    _assert_all_gone(family)
    assert _temporaries(tmp_path) == [] and _leftovers(env["TMPDIR"]) == []
    assert out.read_bytes() == PREVIOUS


def test_sigterm_ends_a_two_worker_scan(tmp_path, rows_20k):
    env = _env(tmp_path)
    proc = subprocess.Popen([EXE, "scan", str(rows_20k), "--num-proc", "2", "--patterns-only", "--batch-size", "100"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=tmp_path)
    try:
        _wait_for(lambda: len(_workers(_family(proc.pid))) == 2, 600, "two workers", proc)
        time.sleep(1.0)
        family = _family(proc.pid)
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=120)
    finally:
        _stop(proc)
    assert proc.returncode == 143 and out == "", err[-1500:]
    assert err.strip().startswith("error: interrupted by SIGTERM") and "Traceback" not in err
    _assert_all_gone(family)
    assert _leftovers(env["TMPDIR"]) == []


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP, signal.SIGINT])
def test_a_signal_ends_the_stdio_server(tmp_path, signum):
    proc = subprocess.Popen([EXE, "serve", "--root", str(tmp_path)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, env=ENV)
    time.sleep(3.0)  # started and waiting on stdin
    proc.send_signal(signum)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 128 + signum and out == b"", err[-1500:]
    assert b"Traceback" not in err and f"server stopped by {signal.Signals(signum).name}".encode() in err


def test_a_client_closing_mid_job_stops_the_workers_and_writes_nothing(tmp_path, rows_20k):
    """An MCP client over stdio starts a 2-worker anonymization, then goes away (closes the server's stdin, as
    clients do when they quit): the server stops the job, its workers end, and nothing is written."""
    from mcp import Client, StdioServerParameters

    src = tmp_path / "tickets.jsonl"
    src.write_bytes(rows_20k.read_bytes())
    out = tmp_path / "tickets.anon.parquet"
    out.write_bytes(PREVIOUS)
    log = tmp_path.parent / f"{tmp_path.name}-server.log"
    tmpdir = _env(tmp_path)["TMPDIR"]
    params = StdioServerParameters(command="bash", args=["-c", f'exec "{EXE}" serve --root "{tmp_path}" 2>>"{log}"'],
                                   env={"HF_HUB_OFFLINE": "1", "XDG_CACHE_HOME": str(tmp_path / ".cache"),
                                        "TMPDIR": tmpdir, "PATH": os.environ.get("PATH", ""),
                                        "PYTHONPATH": os.environ.get("PYTHONPATH", "")},
                                   cwd=str(tmp_path))
    seen: dict[str, list] = {}

    def server_pid() -> int | None:
        for p in psutil.Process().children(recursive=True):
            try:
                if "serve" in p.cmdline() and str(tmp_path) in p.cmdline():
                    return p.pid
            except psutil.NoSuchProcess:
                pass
        return None

    async def go():
        async with Client(params, mode="legacy") as client:
            async with anyio.create_task_group() as tg:
                async def call():
                    await client.call_tool("anonymize_dataset", {
                        "source": "tickets.jsonl", "output": out.name, "overwrite": True, "num_proc": 2,
                        "patterns_only": True, "batch_size": 100})
                tg.start_soon(call)
                deadline = anyio.current_time() + 600
                while anyio.current_time() < deadline:
                    pid = server_pid()
                    if _temporaries(tmp_path) and pid and len(_workers(_family(pid))) == 2:
                        break
                    await anyio.sleep(0.2)
                pid = server_pid()
                seen["server"] = [psutil.Process(pid)] if pid else []
                seen["family"] = _family(pid) if pid else []
                seen["workers"] = _workers(seen["family"])
                tg.cancel_scope.cancel()  # the client quits with the call in flight
    anyio.run(go)
    assert seen["server"] and len(seen["workers"]) == 2, seen
    _assert_all_gone(seen["server"] + seen["family"], timeout=60)
    assert _temporaries(tmp_path) == [] and _leftovers(tmpdir) == []
    assert out.read_bytes() == PREVIOUS
    assert "Traceback" not in log.read_text()
