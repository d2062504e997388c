"""Whole commands, timed as users see them: our CLI and vanilla Presidio's batch pipeline, each a separate process,
one after the other in the same run, on the same generated input; model load, worker start and (for ours) the
default verification included.

    .venv/bin/python bench/whole_command.py --rows 4000 [20000 200000] [--words 30|60] [--runs ...] [--mcp]
    .venv/bin/python bench/whole_command.py --rows 200000 --words 60 --runs "ours fast" --num-proc 2

Rows are support-ticket texts from `bench/generate.py` (~30 words; `--words 60`: ~60 words, every row unique).
For each command it prints wall seconds, rows per second, speed against vanilla Presidio in the same run (its wall
time over ours), the peak resident memory of the whole process tree (polled every 0.1 s with psutil, workers
included), the exit code and the exact command line; also the machine (cores, CPU model) and its load average
before and after each command, since on a shared machine those explain much of the spread. `--mcp` also times two
`anonymize_dataset` calls on the same data through a real MCP client over stdio (the second should cost at most a
third of the first: the server keeps its engine warm).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shlex
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import psutil

HERE = Path(__file__).resolve().parent
PY = sys.executable


def cli() -> list[str]:
    beside = Path(PY).with_name("hf-anon-mcp")
    return [str(beside)] if beside.exists() else [shutil.which("hf-anon-mcp") or "hf-anon-mcp"]


def has_profiles() -> bool:
    """Whether this CLI has `--profile` (fast/balanced/thorough); older ones have `--patterns-only` only."""
    out = subprocess.run([*cli(), "anonymize", "--help"], capture_output=True, text=True)
    return "--profile" in out.stdout


def runs(names: list[str] | None, num_procs: list[int]) -> dict[str, list[str]]:
    """Run name -> extra arguments for our CLI (None: vanilla)."""
    profiles = has_profiles()
    fast = ["--profile", "fast"] if profiles else ["--patterns-only"]
    table: dict[str, list[str] | None] = {"vanilla presidio": None}
    for n in num_procs:
        # 0: as a user runs it, workers chosen by the CLI from the input size
        suffix = "" if n == 0 else ", 1 worker" if n == 1 else f", {n} workers"
        procs = ["--num-proc", str(n)] if n else []
        table[f"ours default{suffix}"] = procs
        table[f"ours fast{suffix}"] = [*fast, *procs]
        if profiles:
            table[f"ours thorough{suffix}"] = ["--profile", "thorough", *procs]
    if not names:
        return table
    return {k: v for k, v in table.items() if any(k == n or k.startswith(n + ",") for n in names)}


def machine() -> dict:
    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        model = platform.processor()
    commit = subprocess.run(["git", "-C", str(HERE.parent), "rev-parse", "--short", "HEAD"], capture_output=True,
                            text=True).stdout.strip()
    return {"nproc": os.cpu_count(), "cpu": model, "python": platform.python_version(),
            "memory_gib": round(psutil.virtual_memory().total / 2**30, 1), "commit": commit}


def timed(cmd: list[str], cwd: Path, log: Path, env: dict | None = None) -> dict:
    """Run `cmd` to completion: wall seconds, peak RSS of its process tree, exit code, load average around it."""
    load_before = os.getloadavg()[0]
    peak = 0
    started = time.perf_counter()
    with open(log, "w") as out:
        proc = subprocess.Popen(cmd, cwd=cwd, stdout=out, stderr=subprocess.STDOUT, env=env)
        parent = psutil.Process(proc.pid)
        while proc.poll() is None:
            try:
                tree = [parent, *parent.children(recursive=True)]
                peak = max(peak, sum(p.memory_info().rss for p in tree))
            except psutil.Error:
                pass
            time.sleep(0.1)
    wall = time.perf_counter() - started
    return {"wall_s": round(wall, 2), "peak_rss_mib": round(peak / 2**20), "exit": proc.returncode,
            "load_before": round(load_before, 1), "load_after": round(os.getloadavg()[0], 1)}


def bench_size(n: int, words: int, table: dict, work: Path) -> list[dict]:
    source = work / f"rows-{n}-{words}w.jsonl"
    if not source.exists():
        subprocess.run([PY, str(HERE / "generate.py"), str(n), str(source), *(["--long"] if words >= 60 else [])],
                       check=True)
    results = []
    for name, extra in table.items():
        output = work / f"out-{n}-{name.replace(' ', '_').replace(',', '')}.parquet"
        if extra is None:
            cmd = [PY, str(HERE / "vanilla_presidio.py"), str(source), str(output)]
        else:
            cmd = [*cli(), "anonymize", str(source), "--out", str(output), "--columns", "text", "--overwrite", *extra]
        result = {"rows": n, "words": words, "run": name, "cmd": shlex.join(cmd)}
        result.update(timed(cmd, work, work / f"log-{n}-{name.replace(' ', '_').replace(',', '')}.txt"))
        result["rows_per_s"] = round(n / result["wall_s"], 1)
        results.append(result)
        print(f"  {name:<28} {result['wall_s']:>8.1f} s {result['rows_per_s']:>9.1f} rows/s "
              f"{result['peak_rss_mib']:>6} MiB  exit {result['exit']}  load {result['load_before']}"
              f"->{result['load_after']}", flush=True)
        if result["exit"]:
            print("    " + (work / f"log-{n}-{name.replace(' ', '_').replace(',', '')}.txt").read_text()[-600:])
    vanilla = next((r for r in results if r["run"] == "vanilla presidio" and not r["exit"]), None)
    for r in results:
        r["x_vanilla"] = round(vanilla["wall_s"] / r["wall_s"], 2) if vanilla and not r["exit"] else None
    return results


def bench_mcp(n: int, words: int, work: Path, request: dict) -> dict:
    """Two `anonymize_dataset` calls on the same data, one server over stdio: seconds of each, peak RSS."""
    import anyio
    from mcp import Client, StdioServerParameters

    source = work / f"rows-{n}-{words}w.jsonl"
    env = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "PYTHONPATH", "XDG_CACHE_HOME",
                                                         "HF_ANON_MCP_SPACY_MODEL", "HF_ANON_MCP_CACHE_DIR")}
    params = StdioServerParameters(command=cli()[0], args=["serve", "--root", str(work)], env=env, cwd=str(work))
    times: list[float] = []
    peak = [0]
    done = threading.Event()

    def poll_server_tree() -> None:
        me = psutil.Process()
        while not done.is_set():
            try:
                tree = [p for p in me.children(recursive=True)]
                peak[0] = max(peak[0], sum(p.memory_info().rss for p in tree))
            except psutil.Error:
                pass
            time.sleep(0.1)

    async def call(client, args: dict):
        result = await client.call_tool("anonymize_dataset", args)  # flat fields, as agents pass them
        while not result.is_error and (result.structured_content or {}).get("status") == "running":
            await anyio.sleep(0.2)
            result = await client.call_tool("get_job", {"job_id": result.structured_content["job_id"]})
        return result

    async def session() -> None:
        async with Client(params) as client:
            for _ in range(2):
                started = time.perf_counter()
                result = await call(client, {"source": source.name, "output": "mcp-out.parquet", "overwrite": True,
                                             "columns": ["text"], **request})
                times.append(time.perf_counter() - started)
                if result.is_error:
                    raise SystemExit("anonymize_dataset failed: " + (result.content[0].text if result.content else ""))

    watcher = threading.Thread(target=poll_server_tree, daemon=True)
    watcher.start()
    try:
        anyio.run(session)
    finally:
        done.set()
    return {"rows": n, "request": request, "first_s": round(times[0], 2), "second_s": round(times[1], 2),
            "second_over_first": round(times[1] / times[0], 3), "peak_rss_mib": round(peak[0] / 2**20)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[4000], help="input sizes (4000 20000 200000)")
    parser.add_argument("--words", type=int, default=30, choices=[30, 60], help="~30-word rows or ~60-word unique ones")
    parser.add_argument("--runs", nargs="+", help='run names, e.g. "vanilla presidio" "ours default" "ours fast"')
    parser.add_argument("--num-proc", type=int, nargs="+", default=[0],
                        help="worker counts for our runs (0: chosen by the CLI, as users run it)")
    parser.add_argument("--mcp", action="store_true", help="also time two anonymize_dataset calls over MCP stdio")
    parser.add_argument("--mcp-request", default="{}", help='extra tool fields, e.g. \'{"profile": "fast"}\'')
    parser.add_argument("--keep", help="work in this folder and keep inputs, outputs and logs")
    parser.add_argument("--json", help="write all results to this file")
    args = parser.parse_args()

    work = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="hf-anon-whole-"))
    work.mkdir(parents=True, exist_ok=True)
    info = machine()
    print(f"machine: {info['nproc']} cores, {info['cpu']}, {info['memory_gib']} GiB, Python {info['python']}, "
          f"commit {info['commit']}; load average now {os.getloadavg()[0]:.1f}")
    table = runs(args.runs, args.num_proc)
    report = {"machine": info, "results": [], "mcp": []}
    try:
        for n in args.rows:
            print(f"\n{n} rows of ~{args.words} words (whole commands, sequential, same input)")
            results = bench_size(n, args.words, table, work)
            report["results"] += results
            print(f"  {'run':<28} {'x vanilla':>9}")
            for r in results:
                print(f"  {r['run']:<28} {r['x_vanilla']!s:>9}")
            print("  commands:")
            for r in results:
                print(f"    {r['run']}: {r['cmd']}")
            if args.mcp:
                m = bench_mcp(n, args.words, work, json.loads(args.mcp_request))
                report["mcp"].append(m)
                print(f"  MCP anonymize_dataset over stdio: first call {m['first_s']} s, second {m['second_s']} s "
                      f"(second/first {m['second_over_first']}, target <= 0.333), server peak {m['peak_rss_mib']} MiB")
    finally:
        if args.json:
            Path(args.json).write_text(json.dumps(report, indent=1))
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
