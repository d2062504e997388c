"""Resident memory over time of a command and its workers: shows whether memory plateaus or keeps growing.

    .venv/bin/python bench/rss_trace.py -- .venv/bin/hf-anon-mcp anonymize rows.jsonl --columns text \
        --out /tmp/out.parquet --overwrite --num-proc 2 --no-verify

Samples the whole process tree every `--every` seconds and prints (elapsed s, total MiB, [MiB per process]) about
25 times over the run, then the peak. `bench/speed.py` gives one peak per run; this shows the shape.
"""

from __future__ import annotations

import argparse
import subprocess
import time

import psutil


def trace(cmd: list[str], every: float) -> tuple[list[tuple[int, int, list[int]]], int]:
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    parent = psutil.Process(proc.pid)
    start, samples = time.time(), []
    while proc.poll() is None:
        try:
            rss = [round(p.memory_info().rss / 2**20) for p in (parent, *parent.children(recursive=True))]
            samples.append((round(time.time() - start), sum(rss), rss))
        except psutil.Error:
            pass
        time.sleep(every)
    return samples, proc.returncode


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--every", type=float, default=1.0, help="seconds between samples")
    parser.add_argument("cmd", nargs=argparse.REMAINDER, help="the command, after --")
    args = parser.parse_args()
    cmd = args.cmd[1:] if args.cmd[:1] == ["--"] else args.cmd
    samples, rc = trace(cmd, args.every)
    step = max(1, len(samples) // 25)
    for i, sample in enumerate(samples):
        if i % step == 0 or i == len(samples) - 1:
            print(sample)
    print("peak MiB", max((s[1] for s in samples), default=0), "exit", rc)


if __name__ == "__main__":
    main()
