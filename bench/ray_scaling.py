"""Ray runner scaling: rows/s of a whole run (plan, read, map, write) with 1 and 2 actors; Ray's start-up apart.

    .venv/bin/python bench/ray_scaling.py --rows 20000                       # CPU-bound toy worker, local Ray
    .venv/bin/python bench/ray_scaling.py --rows 20000 --worker mod:Class --spec mod:make_spec
    .venv/bin/python bench/ray_scaling.py --address 127.0.0.1:6379 ...       # an existing cluster
    .venv/bin/python bench/ray_scaling.py --stats mod:make_stats --stats-rows 20000 200000   # driver memory only

Each measurement starts its own Ray (`startup s`: `ray.init` and the cluster query, not counted in rows/s), then
times `read` + `map` + `write` of generated support-ticket rows (bench/generate.py) to a Parquet folder: actor
start-up (the worker's `__init__`) is inside, as it is for a user. Runs alternate 1, 2, 1, 2... actors to spread
a drifting machine's noise over both. `--worker` takes any `runners.base.BatchWorker` class, `--spec` a callable
returning its spec (default: the toy's, `--rounds` chained hashes per string cell).

`--stats module:callable`: `callable(rows)` returns the statistics object the driver holds for that many rows
(the decide pass's input); printed: its pickled size and its size in memory (tracemalloc while unpickling it), per
million rows, and two extrapolations to 100M rows: linear from each size (an upper bound when the statistics grow
sublinearly, as capped counters and vocabularies do) and from the growth between the smallest and largest size.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import pickle
import shutil
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

from generate import rows as generated_rows  # noqa: E402

from hf_anon_mcp.runners.ray_runner import RayRunner, load_worker  # noqa: E402


class HashWorker:
    """CPU-bound toy worker: every string cell hashed `spec["rounds"]` times in a chain; adds a `digest` column.
    Deterministic, so 1- and 2-actor outputs can be compared."""

    def __init__(self, spec: dict):
        self.rounds = int(spec.get("rounds", 2000))

    def __call__(self, batch: dict[str, list]) -> dict[str, list]:
        n = len(next(iter(batch.values())))
        digests = []
        for i in range(n):
            h = b""
            for values in batch.values():
                if isinstance(values[i], str):
                    data = values[i].encode()
                    for _ in range(self.rounds):
                        h = hashlib.blake2b(h + data, digest_size=16).digest()
            digests.append(h.hex())
        return {**batch, "digest": digests}


def toy_stats(rows: int):
    """Default `--stats`: a word -> rows counter over generated rows (the shape of the detect pass's word counts)."""
    from collections import Counter

    counts: Counter = Counter()
    for row in generated_rows(rows):
        counts.update(set(row["text"].lower().split()))
    return counts


def detect_stats(rows: int, profile: str = "fast"):
    """`--stats ray_scaling:detect_stats`: the detect pass's real statistics (`decisions.stats.DatasetStats`) over
    generated rows, merged as the driver merges them (profile from `HF_ANON_MCP_BENCH_PROFILE`, default fast)."""
    import pickle as _pickle

    from hf_anon_mcp.decisions.detect import STATS, DetectSpec, DetectWorker
    from hf_anon_mcp.engine.analyzer import EngineConfig

    worker = DetectWorker(DetectSpec(EngineConfig(profile=os.environ.get("HF_ANON_MCP_BENCH_PROFILE", profile)),
                                     ("text",)))
    stats, batch = None, []

    def flush():
        nonlocal stats
        out = worker({k: [r[k] for r in batch] for k in batch[0]})
        part = _pickle.loads(out[STATS][0])
        stats = part if stats is None else stats.merge(part)
        batch.clear()

    for row in generated_rows(rows):
        batch.append(row)
        if len(batch) == 256:
            flush()
    if batch:
        flush()
    return stats


def load_callable(ref: str):
    return load_worker(ref)


class CpuSampler:
    """CPU seconds used by the actor processes (`ray::MapWorker...`, local Ray: descendants of this process),
    sampled every 0.2 s (an actor's last 0.2 s may be missed; it is gone once the run ends)."""

    def __init__(self):
        import threading

        self.seen: dict[int, float] = {}
        self.other: dict[int, float] = {}  # every other descendant: raylet, GCS, read tasks, Ray's own workers
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        import psutil

        me = psutil.Process()
        while not self.stop.is_set():
            for proc in me.children(recursive=True):
                try:
                    t = proc.cpu_times()
                    target = self.seen if "MapWorker" in " ".join(proc.cmdline()) else self.other
                    target[proc.pid] = t.user + t.system
                except psutil.Error:
                    continue
            self.stop.wait(0.2)

    def __enter__(self):
        import psutil

        self._self = psutil.Process().cpu_times()
        self._other_before: dict[int, float] = {}
        for proc in psutil.Process().children(recursive=True):
            try:
                t = proc.cpu_times()
                self._other_before[proc.pid] = t.user + t.system
            except psutil.Error:
                continue
        self.thread.start()
        return self

    def __exit__(self, *exc):
        import psutil

        self.stop.set()
        self.thread.join()
        now = psutil.Process().cpu_times()
        self.driver = (now.user + now.system) - (self._self.user + self._self.system)

    @property
    def ray_other(self) -> float:
        return sum(v - self._other_before.get(pid, 0.0) for pid, v in self.other.items())

    @property
    def total(self) -> float:
        return sum(self.seen.values())


def one_run(source: Path, out: Path, *, actors: int, address: str | None, worker, spec, batch_size: int,
            block_bytes: int, rows: int) -> dict:
    began = time.perf_counter()
    with RayRunner(address=address, num_actors=actors, block_bytes=block_bytes) as runner:
        startup = time.perf_counter() - began
        t0 = time.perf_counter()
        with CpuSampler() as cpu:
            blocks = runner.read(str(source))
            result = runner.write(runner.map(blocks, worker, spec, batch_size=batch_size), out, overwrite=True)
        run = time.perf_counter() - t0
        cpus = runner.cpus_per_actor
    assert result.rows == rows, (result.rows, rows)
    return {"actors": actors, "cpus_each": cpus, "blocks": blocks.num_blocks, "startup_s": round(startup, 2),
            "run_s": round(run, 2), "rows_per_s": round(rows / run, 1), "actor_cpu_s": round(cpu.total, 1),
            "actor_processes": len(cpu.seen), "driver_cpu_s": round(cpu.driver, 1),
            "other_ray_cpu_s": round(cpu.ray_other, 1)}


def in_process_rate(worker, spec, source: Path, batch_size: int, limit: int = 2000) -> float:
    """The worker alone in this process on the first `limit` rows: the ceiling for one actor."""
    lines = source.read_text(encoding="utf-8").splitlines()[:limit]
    batch_rows = [json.loads(line) for line in lines]
    w = worker(spec)
    t0 = time.perf_counter()
    for i in range(0, len(batch_rows), batch_size):
        part = batch_rows[i:i + batch_size]
        w({k: [r[k] for r in part] for k in part[0]})
    return len(batch_rows) / (time.perf_counter() - t0)


def decision_memory(obj, rows: int) -> dict:
    """Pickled size and in-memory size (tracemalloc while unpickling) of a statistics object, per million rows."""
    blob = pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    copy = pickle.loads(blob)
    in_memory = tracemalloc.get_traced_memory()[0] - before
    tracemalloc.stop()
    del copy
    per_million = 1_000_000 / rows
    return {"rows": rows, "pickled_mb": round(len(blob) / 2**20, 2), "memory_mb": round(in_memory / 2**20, 2),
            "memory_mb_per_million_rows": round(in_memory * per_million / 2**20, 1),
            "memory_gb_at_100m_rows_linear": round(in_memory * per_million * 100 / 2**30, 2)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", type=int, default=20_000)
    ap.add_argument("--actors", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--repeat", type=int, default=1, help="rounds of the actor list (alternating)")
    ap.add_argument("--address", default=None, help="a Ray cluster (default: a local Ray per run)")
    ap.add_argument("--worker", default=None, help="module:Class (default: the CPU-bound toy HashWorker)")
    ap.add_argument("--spec", default=None, help="module:callable returning the worker's spec")
    ap.add_argument("--rounds", type=int, default=2000, help="toy worker: hashes per string cell")
    ap.add_argument("--batch-size", type=int, default=256)
    ap.add_argument("--block-bytes", type=int, default=256 * 1024)
    ap.add_argument("--stats", default=None, help="module:callable(rows) -> the driver's statistics object")
    ap.add_argument("--stats-rows", type=int, nargs="+", default=[])
    args = ap.parse_args()

    if args.stats or args.stats_rows:  # the driver's memory only
        make = load_callable(args.stats) if args.stats else toy_stats
        sizes = []
        for n in sorted(args.stats_rows or [args.rows]):
            sizes.append(decision_memory(make(n), n))
            print(json.dumps({"stats": args.stats or "toy word counter", **sizes[-1]}))
        if len(sizes) > 1:  # growth between the two ends: what another million rows costs, sublinear or not
            a, b = sizes[0], sizes[-1]
            marginal = (b["memory_mb"] - a["memory_mb"]) / (b["rows"] - a["rows"]) * 1_000_000
            print(json.dumps({"marginal_memory_mb_per_million_rows": round(marginal, 1),
                              "memory_gb_at_100m_rows_from_marginal": round(
                                  (b["memory_mb"] + marginal * (100 - b["rows"] / 1e6)) / 1024, 2)}))
        return

    worker = load_worker(args.worker) if args.worker else HashWorker
    spec = load_callable(args.spec)() if args.spec else {"rounds": args.rounds}
    tmp = Path(tempfile.mkdtemp(prefix="ray-scaling-"))
    try:
        source = tmp / "rows.jsonl"
        with source.open("w", encoding="utf-8") as fh:
            for row in generated_rows(args.rows):
                fh.write(json.dumps(row) + "\n")
        print(json.dumps({"in_process_rows_per_s": round(in_process_rate(worker, spec, source, args.batch_size), 1)}))
        results = []
        for _ in range(args.repeat):
            for actors in args.actors:
                r = one_run(source, tmp / f"out-{actors}", actors=actors, address=args.address, worker=worker,
                            spec=spec, batch_size=args.batch_size, block_bytes=args.block_bytes, rows=args.rows)
                results.append(r)
                print(json.dumps(r), flush=True)
        import pyarrow.parquet as pq

        tables = [pq.read_table(tmp / f"out-{a}") for a in args.actors]
        same = all(t.equals(tables[0]) for t in tables[1:])
        best = {a: max(r["rows_per_s"] for r in results if r["actors"] == a) for a in args.actors}
        base = best.get(min(args.actors))
        print(f"\n{args.rows} rows, {os.cpu_count()} CPUs here, load average {os.getloadavg()[0]:.1f} "
              f"(a shared machine: figures are noisy)")
        print("| actors | CPUs each | blocks | startup s | run s | rows/s | vs fewest actors | CPU s: actors / "
              "driver / rest of Ray |")
        print("| --- | --- | --- | --- | --- | --- | --- | --- |")
        for r in results:
            print(f"| {r['actors']} | {r['cpus_each']} | {r['blocks']} | {r['startup_s']} | {r['run_s']} | "
                  f"{r['rows_per_s']} | {r['rows_per_s'] / base:.2f}x | {r['actor_cpu_s']} / {r['driver_cpu_s']} / "
                  f"{r['other_ray_cpu_s']} |")
        print(f"best rows/s: {best}; outputs identical across actor counts: {same}")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
