"""Issue 22 as users run it: whole `anonymize` commands, local engine against Ray, on generated support tickets.

    .venv/bin/python bench/ray_whole.py --rows 20000                 # identity on a 2-node cluster + 1 vs 2 actors
    .venv/bin/python bench/ray_whole.py --rows 20000 --skip-scaling  # identity only

1. **Identity**: the local run (`--engine local`) and the Ray run through `--ray-address` of a real two-node cluster
   started here on loopback (`ray start --head` + `ray start --address`, one CPU each, in a temporary folder, stopped
   in every outcome): every cell of every row compared, and the report's counts.
2. **Scaling**: `--engine ray --num-proc 1` against `--num-proc 2` (actors) on a local Ray each, alternating; wall
   time of the whole command, and Ray's start-up apart (the `Ray ready in X s` line the CLI logs with `-v`).

Every run is a separate process with the same surrogate key (so fakes agree), default profile and verification.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))

PY = sys.executable
CLI = str(Path(PY).with_name("hf-anon-mcp"))
READY = re.compile(r"Ray ready in ([\d.]+) s: (\d+) actor")


def run(args: list[str], env: dict, log: Path) -> dict:
    started = time.perf_counter()
    done = subprocess.run([CLI, "-v", "anonymize", *args, "--json"], env=env, capture_output=True, text=True)
    wall = time.perf_counter() - started
    log.write_text(done.stderr)
    if done.returncode:
        raise SystemExit(f"anonymize failed ({done.returncode}): {done.stderr.strip().splitlines()[-1:]}")
    report = json.loads(done.stdout)
    ready = READY.search(done.stderr)
    return {"wall_s": round(wall, 2), "report": report,
            "ray_startup_s": float(ready.group(1)) if ready else None,
            "actors": int(ready.group(2)) if ready else None}


def rows_of(path: Path) -> list[dict]:
    import pyarrow.parquet as pq

    if path.is_dir():
        return [r for shard in sorted(path.glob("*.parquet")) for r in pq.read_table(shard).to_pylist()]
    return pq.read_table(path).to_pylist()


def identity(src: Path, work: Path, env: dict) -> dict:
    from ray_cluster import ray_env, start_cluster

    local = run([str(src), "--out", str(work / "local.parquet"), "--columns", "text", "--overwrite"], env,
                work / "local.log")
    cluster = start_cluster(work / "cluster", nodes=2, cpus_per_node=1)
    try:
        driver_env = {**ray_env(cluster.token_auth), **{k: v for k, v in env.items() if k.startswith("HF_ANON")}}
        ray = run([str(src), "--out", str(work / "ray_out"), "--columns", "text", "--overwrite", "--engine", "ray",
                   "--ray-address", cluster.address], driver_env, work / "ray.log")
    finally:
        cluster.stop()
    a, b = rows_of(work / "local.parquet"), rows_of(work / "ray_out")
    differing = sum(1 for x, y in zip(a, b) if x != y) + abs(len(a) - len(b))
    same_counts = local["report"].get("replaced") == ray["report"].get("replaced")
    return {"rows_local": len(a), "rows_ray": len(b), "rows_differing": differing, "same_replaced_counts": same_counts,
            "local_wall_s": local["wall_s"], "ray_cluster_wall_s": ray["wall_s"],
            "ray_cluster_startup_s": ray["ray_startup_s"], "ray_cluster_actors": ray["actors"],
            "verdict_local": local["report"]["verification"]["verdict"],
            "verdict_ray": ray["report"]["verification"]["verdict"]}


def scaling(src: Path, work: Path, env: dict, repeat: int) -> list[dict]:
    out = []
    for i in range(repeat):
        for actors in (1, 2):
            r = run([str(src), "--out", str(work / f"scale-{actors}"), "--columns", "text", "--overwrite",
                     "--engine", "ray", "--num-proc", str(actors)], env, work / f"scale-{actors}-{i}.log")
            rows = r["report"]["rows_out"]
            after_start = r["wall_s"] - (r["ray_startup_s"] or 0.0)
            out.append({"actors": r["actors"], "wall_s": r["wall_s"], "ray_startup_s": r["ray_startup_s"],
                        "rows_per_s": round(rows / r["wall_s"], 1),
                        "rows_per_s_after_startup": round(rows / after_start, 1)})
            print(f"  {actors} actor(s): {r['wall_s']:.1f} s whole ({out[-1]['rows_per_s']} rows/s), Ray start-up "
                  f"{r['ray_startup_s']} s, {out[-1]['rows_per_s_after_startup']} rows/s after it", flush=True)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rows", type=int, default=20_000)
    ap.add_argument("--repeat", type=int, default=1, help="rounds of 1 and 2 actors (alternating)")
    ap.add_argument("--skip-identity", action="store_true")
    ap.add_argument("--skip-scaling", action="store_true")
    ap.add_argument("--keep", type=Path, help="work here and keep everything")
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    work = args.keep or Path(tempfile.mkdtemp(prefix="hf-anon-ray-"))
    work.mkdir(parents=True, exist_ok=True)
    src = work / f"rows-{args.rows}.jsonl"
    if not src.exists():
        subprocess.run([PY, str(HERE / "generate.py"), str(args.rows), str(src)], check=True)
    env = {**os.environ, "HF_ANON_MCP_SURROGATE_SECRET": "bench-" + "k" * 32, "RAY_DISABLE_USAGE_STATS": "1"}
    print(f"{args.rows} rows, {os.cpu_count()} cores, load {os.getloadavg()[0]:.1f}", flush=True)
    result: dict = {"rows": args.rows}
    if not args.skip_identity:
        result["identity"] = ident = identity(src, work, env)
        print(f"identity: local {ident['local_wall_s']} s, Ray 2-node cluster {ident['ray_cluster_wall_s']} s "
              f"(start-up {ident['ray_cluster_startup_s']} s, {ident['ray_cluster_actors']} actors); rows "
              f"{ident['rows_local']} / {ident['rows_ray']}, rows differing {ident['rows_differing']}, same replaced "
              f"counts {ident['same_replaced_counts']}", flush=True)
    if not args.skip_scaling:
        print("scaling (local Ray per run):", flush=True)
        result["scaling"] = runs = scaling(src, work, env, args.repeat)
        one = [r for r in runs if r["actors"] == 1]
        two = [r for r in runs if r["actors"] == 2]
        if one and two:
            best = lambda rs, k: min(r[k] for r in rs)  # noqa: E731
            whole = best(one, "wall_s") / best(two, "wall_s")
            after = (min(r["wall_s"] - (r["ray_startup_s"] or 0) for r in one)
                     / min(r["wall_s"] - (r["ray_startup_s"] or 0) for r in two))
            result["speedup_whole"], result["speedup_after_startup"] = round(whole, 2), round(after, 2)
            print(f"1 -> 2 actors: {whole:.2f}x whole command, {after:.2f}x after Ray's start-up (target 1.7x)")
    if args.json:
        args.json.write_text(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
