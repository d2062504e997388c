"""A real Ray cluster on this machine for the tests (head + a second node joined with `ray start --address`),
stopped in every outcome, and toy workers of the `runners.base.BatchWorker` shape.

Other programs on the machine may run their own Ray: nothing here calls `ray stop` (it stops every Ray of the
user). The cluster lives in its own temporary folder, and stopping it kills the processes whose command line
names that folder, with their children; a watchdog process does the same if the test process dies first.
"""

from __future__ import annotations

import hashlib
import json
import os
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import psutil

VENV_BIN = Path(sys.executable).parent
RAY = str(VENV_BIN / "ray")


# ---- toy workers (importable by Ray workers: the tests' PYTHONPATH reaches them) ----------------------------

@dataclass(frozen=True)
class ToySpec:
    """`slow` seconds of sleep per call; `poison_file`: fail on rows holding POISON while that file exists;
    `rounds` of hashing per string (CPU-bound work, for the benchmark)."""

    slow: float = 0.0
    poison_file: str = ""
    rounds: int = 0
    pid_column: bool = False


def _upper(value):
    if isinstance(value, str):
        return value.upper()
    if isinstance(value, dict):
        return {k: _upper(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_upper(v) for v in value]
    return value


def _strings(value):
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for v in value.values():
            yield from _strings(v)
    elif isinstance(value, list):
        for v in value:
            yield from _strings(v)


class UpperWorker:
    """Upper-cases every string (nested ones too) and adds `n_strings`, the count of strings in the row."""

    def __init__(self, spec: ToySpec):
        self.spec = spec
        self.pid = os.getpid()
        self.node = ""
        if spec.pid_column:
            import ray

            self.node = ray.get_runtime_context().get_node_id() if ray.is_initialized() else "local"

    def __call__(self, batch: dict[str, list]) -> dict[str, list]:
        if self.spec.slow:
            time.sleep(self.spec.slow)
        n = len(next(iter(batch.values())))
        if self.spec.poison_file and os.path.exists(self.spec.poison_file):
            for name, values in batch.items():
                if any("POISON" in s for v in values for s in _strings(v)):
                    raise ValueError(f"poisoned row in column {name}: {values[0]!r}")
        out = {name: [_upper(v) for v in values] for name, values in batch.items()}
        out["n_strings"] = [sum(1 for name in batch for _ in _strings(batch[name][i])) for i in range(n)]
        if self.spec.rounds:  # CPU-bound work, deterministic: a chained hash of the row's strings
            digests = []
            for i in range(n):
                h = b""
                for name in batch:
                    for text in _strings(batch[name][i]):
                        for _ in range(self.spec.rounds):
                            h = hashlib.blake2b(h + text.encode()).digest()
                digests.append(h.hex()[:16])
            out["digest"] = digests
        if self.spec.pid_column:
            out["pid"] = [self.pid] * n
            out["node"] = [self.node] * n
        return out


class ReportWorker(UpperWorker):
    """The replace pass's shape: the batch upper-cased without `__stats`, plus a pickled report (the rows it saw)
    on its first row, a column for the driver rather than the output."""

    def __call__(self, batch: dict[str, list]) -> dict[str, list]:
        import pickle

        n = len(next(iter(batch.values())))
        out = super().__call__({k: v for k, v in batch.items() if k != "__stats"})
        out["__report"] = [pickle.dumps(n)] + [None] * (n - 1) if n else []
        return out


class CountWorker:
    """One row per call: a JSON partial (rows, strings, characters), for `collect`."""

    def __init__(self, spec=None):
        pass

    def __call__(self, batch: dict[str, list]) -> dict[str, list]:
        n = len(next(iter(batch.values())))
        strings = [s for values in batch.values() for v in values for s in _strings(v)]
        return {"partial": [json.dumps({"rows": n, "strings": len(strings), "chars": sum(map(len, strings))})]}


class StatsWorker:
    """The detect pass's shape: the batch unchanged, plus a pickled partial on its first row (None elsewhere)."""

    def __init__(self, spec=None):
        pass

    def __call__(self, batch: dict[str, list]) -> dict[str, list]:
        import pickle
        from collections import Counter

        n = len(next(iter(batch.values())))
        words = Counter(w for values in batch.values() for v in values for s in _strings(v) for w in s.split())
        out = dict(batch)
        out["__stats"] = [pickle.dumps(words)] + [None] * (n - 1) if n else []
        return out


class HoldWorker:
    """Holds the call that sees row `spec["hold"]` until `spec["others"]` other calls have finished (each leaves
    a file in `spec["folder"]`) or `spec["timeout"]` seconds pass; returns the batch unchanged plus `waited`, the
    seconds that call waited. With two actors, the other one must keep getting blocks while one is held."""

    def __init__(self, spec: dict):
        self.spec = spec

    def __call__(self, batch: dict[str, list]) -> dict[str, list]:
        import uuid

        n = len(next(iter(batch.values())))
        folder = Path(self.spec["folder"])
        waited = 0.0
        if self.spec["hold"] in batch["id"]:
            began = time.monotonic()
            while (len(list(folder.glob("done-*"))) < self.spec["others"]
                   and time.monotonic() - began < self.spec["timeout"]):
                time.sleep(0.05)
            waited = time.monotonic() - began
        else:
            (folder / f"done-{uuid.uuid4().hex}").touch()
        return {**batch, "waited": [waited] * n}


class BrokenInit:
    def __init__(self, spec=None):
        raise RuntimeError("model missing")

    def __call__(self, batch):
        return batch


def run_in_process(worker, table, batch_size: int) -> list[dict]:
    """The reference: the worker called in this process over the table, batch by batch, rows in order."""
    rows: list[dict] = []
    for offset in range(0, table.num_rows, batch_size):
        out = worker(table.slice(offset, batch_size).to_pydict())
        names = list(out)
        rows.extend(dict(zip(names, values)) for values in zip(*(out[n] for n in names)))
    return rows


# ---- the cluster ---------------------------------------------------------------------------------------------

def free_ports(n: int) -> list[int]:
    socks, ports = [], []
    for _ in range(n):
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        socks.append(s)
        ports.append(s.getsockname()[1])
    for s in socks:
        s.close()
    return ports


def ray_env(token_auth: bool = False) -> dict[str, str]:
    """The environment for `ray start` and drivers: usage stats off, this worktree first on the path, and
    `RAY_AUTH_MODE=token` when the head turned token authentication on (it does when a token exists in ~/.ray;
    joining nodes and drivers must then say so, Ray does not guess it for them)."""
    env = dict(os.environ)
    if token_auth:
        env["RAY_AUTH_MODE"] = "token"
    env["RAY_USAGE_STATS_ENABLED"] = "0"
    root = str(Path(__file__).resolve().parents[1])
    env["PYTHONPATH"] = os.pathsep.join([root, env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    return env


@dataclass
class LocalCluster:
    temp_dir: Path
    address: str = ""
    token_auth: bool = False
    started: list[list[str]] = field(default_factory=list)
    watchdog: subprocess.Popen | None = None

    def processes(self) -> list[psutil.Process]:
        return cluster_processes(self.temp_dir)

    def actor_processes(self, name_part: str = "MapWorker") -> list[psutil.Process]:
        found = []
        for proc in self.processes():
            try:
                if name_part in " ".join(proc.cmdline()):
                    found.append(proc)
            except psutil.Error:
                continue
        return found

    def stop(self) -> None:
        kill_tree(self.temp_dir)
        if self.watchdog is not None and self.watchdog.poll() is None:
            self.watchdog.kill()
            self.watchdog.wait(5)


def cluster_processes(temp_dir: Path) -> list[psutil.Process]:
    """Processes whose command line names `temp_dir` (gcs_server, raylets, agents...) and all their children
    (the workers, whose command line Ray rewrites to `ray::...`). Never this process or its parents."""
    me = psutil.Process()
    skip = {me.pid, *(p.pid for p in me.parents())}
    marker = str(temp_dir)
    found: dict[int, psutil.Process] = {}
    for proc in psutil.process_iter(["pid", "cmdline"]):
        try:
            if proc.pid in skip or not any(marker in arg for arg in (proc.info["cmdline"] or [])):
                continue
            found[proc.pid] = proc
            for child in proc.children(recursive=True):
                if child.pid not in skip:
                    found[child.pid] = child
        except psutil.Error:
            continue
    return list(found.values())


def kill_tree(temp_dir: Path, grace: float = 5.0) -> None:
    procs = cluster_processes(temp_dir)
    for proc in procs:
        try:
            proc.terminate()
        except psutil.Error:
            pass
    _, alive = psutil.wait_procs(procs, timeout=grace)
    for proc in alive:
        try:
            proc.kill()
        except psutil.Error:
            pass
    psutil.wait_procs(alive, timeout=grace)


_WATCHDOG = """
import sys, time, psutil
sys.path.insert(0, {root!r})
from tests.ray_cluster import kill_tree
from pathlib import Path
parent = {parent}
while psutil.pid_exists(parent):
    time.sleep(1)
kill_tree(Path({temp!r}))
"""


def start_cluster(temp_dir: Path, *, nodes: int = 2, cpus_per_node: int = 1,
                  object_store_bytes: int = 150_000_000) -> LocalCluster:
    """`ray start --head` on this machine plus `nodes - 1` nodes joined with `ray start --address`."""
    temp_dir.mkdir(parents=True, exist_ok=True)
    cluster = LocalCluster(temp_dir=temp_dir)
    root = str(Path(__file__).resolve().parents[1])
    cluster.watchdog = subprocess.Popen(
        [sys.executable, "-c", _WATCHDOG.format(root=root, parent=os.getpid(), temp=str(temp_dir))],
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        for node in range(nodes):
            ports = free_ports(8 + 16)
            cmd = [RAY, "start", "--node-ip-address=127.0.0.1", f"--num-cpus={cpus_per_node}", "--num-gpus=0",
                   f"--temp-dir={temp_dir}", "--disable-usage-stats", f"--object-store-memory={object_store_bytes}",
                   f"--object-manager-port={ports[1]}", f"--node-manager-port={ports[2]}",
                   f"--dashboard-agent-listen-port={ports[3]}", f"--dashboard-agent-grpc-port={ports[4]}",
                   f"--runtime-env-agent-port={ports[5]}", f"--metrics-export-port={ports[6]}",
                   "--worker-port-list=" + ",".join(map(str, ports[8:]))]
            if node == 0:
                cmd += ["--head", f"--port={ports[0]}", "--include-dashboard=false", f"--dashboard-port={ports[7]}"]
                cluster.address = f"127.0.0.1:{ports[0]}"
            else:
                cmd += [f"--address={cluster.address}"]
            cluster.started.append(cmd)
            done = subprocess.run(cmd, env=ray_env(cluster.token_auth), capture_output=True, text=True,
                                  timeout=180)
            if done.returncode != 0:
                raise RuntimeError(f"ray start failed (node {node}): {done.stderr[-2000:]}")
            if node == 0:
                cluster.token_auth = "Token authentication is enabled" in done.stdout + done.stderr
    except BaseException:
        cluster.stop()
        raise
    return cluster
