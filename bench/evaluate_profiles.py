"""Profiles side by side: vanilla Presidio, `balanced` and `thorough` on the labelled dev data, and the speed and
memory of the Rampart ONNX recognizer alone.

    .venv/bin/python bench/evaluate_profiles.py [--data pii,btc,wnut] [--speed-rows 4000] [--json OUT]
        [--shared ../shared]

Accuracy: the black-box removal score of `../shared/bin/pii_removal_score.py` (placeholders, the default policy)
for every engine on every set: direct-identifier removal, PERSON removal and over-redaction (the share of other
tokens lost), plus `rampart alone` (the second detector's findings only, as `independent_findings` gives them).
`thorough` reuses `balanced`'s findings and adds the second detector, exactly as `engine/detect.py` merges them.

Speed: generated support-ticket texts of ~30 words (`bench/generate.py`) split between 2 spawned processes that
start together, each loading the model once and classifying its half in batches of 256 texts through
`RampartRecognizer.analyze_batch`; texts/s is all texts over the slower process's wall time, `cpu s` the two
processes' CPU time; added RSS is each process's peak RSS minus its RSS before the model was loaded. On a shared
machine wall time depends on the other load: texts per CPU-second is the steadier figure.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import evaluate  # noqa: E402  (bench/evaluate.py: vanilla engine, data paths, scorer loader)


def removal(score, rows: list[dict], outputs: list[str]) -> dict:
    s = score(rows, [{"text": o} for o in outputs])
    per = s["per_type"]
    return {"direct": s["direct_recall"], "person": per.get("PERSON", {}).get("removal_recall"),
            "all": s["all_recall"], "over_redaction": s["over_redaction"],
            "per_type": {k: v["removal_recall"] for k, v in per.items()}}


def accuracy(names: list[str], datasets: dict[str, Path], score) -> dict:
    from hf_anon_mcp.engine.analyzer import EngineConfig
    from hf_anon_mcp.engine.anonymizer import OperatorPlan, anonymize_text
    from hf_anon_mcp.engine.detect import _all_entities, analyze_texts
    from hf_anon_mcp.engine.rampart import RampartRecognizer, with_second_opinion
    from hf_anon_mcp.policy import AnonymizationPolicy

    plan = OperatorPlan(AnonymizationPolicy())
    vanilla = evaluate.vanilla()
    balanced, thorough = EngineConfig(), EngineConfig(profile="thorough")
    recognizer = RampartRecognizer()
    report = {}
    for name in names:
        rows = evaluate.read(datasets[name])
        texts = [r["text"] for r in rows]
        res: dict[str, dict] = {}
        t = time.perf_counter()
        _, outputs = vanilla(texts)
        res["vanilla"] = {**removal(score, rows, outputs), "s": round(time.perf_counter() - t, 1)}
        t = time.perf_counter()
        found = analyze_texts(texts, balanced)
        res["balanced"] = {**removal(score, rows, [anonymize_text(x, r, plan)[0] for x, r in zip(texts, found)]),
                           "s": round(time.perf_counter() - t, 1)}
        t = time.perf_counter()
        merged = with_second_opinion(texts, [list(r) for r in found], thorough, _all_entities(thorough))
        res["thorough"] = {**removal(score, rows, [anonymize_text(x, r, plan)[0] for x, r in zip(texts, merged)]),
                           "s": round(res["balanced"]["s"] + time.perf_counter() - t, 1)}
        alone = recognizer.analyze_batch(texts)
        res["rampart alone"] = removal(score, rows, [anonymize_text(x, r, plan)[0] for x, r in zip(texts, alone)])
        report[name] = res
        print(f"\n## {name} ({len(rows)} rows): removal by placeholders (direct identifiers / PERSON / all labelled), "
              "over-redaction, seconds")
        for engine, r in res.items():
            print(f"  {engine:<14} direct {r['direct']!s:>6}  PERSON {r['person']!s:>6}  all {r['all']!s:>6}  "
                  f"over-redaction {r['over_redaction']!s:>6}  {r.get('s', '')}", flush=True)
    return report


def _speed_worker(texts: list[str], barrier, queue) -> None:
    import resource

    import psutil

    from hf_anon_mcp.engine.names import english_words, first_names
    from hf_anon_mcp.engine.rampart import RampartRecognizer

    english_words(), first_names()  # the shape checks' word lists belong to the engine, not to the model
    before = psutil.Process().memory_info().rss
    recognizer = RampartRecognizer()  # loads the session (once per process)
    barrier.wait()
    wall, cpu = time.perf_counter(), time.process_time()
    found = 0
    for i in range(0, len(texts), 256):
        found += sum(len(r) for r in recognizer.analyze_batch(texts[i:i + 256]))
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    queue.put({"texts": len(texts), "wall_s": wall, "cpu_s": cpu, "findings": found,
               "added_rss_mib": round((peak - before) / 2**20, 1), "rss_before_mib": round(before / 2**20, 1)})


def speed(rows: int, procs: int = 2) -> dict:
    from generate import rows as generated

    texts = [r["text"] for r in generated(rows)]
    words = sum(len(t.split()) for t in texts) / len(texts)
    ctx = mp.get_context("spawn")
    barrier, queue = ctx.Barrier(procs), ctx.Queue()
    workers = [ctx.Process(target=_speed_worker, args=(texts[i::procs], barrier, queue)) for i in range(procs)]
    for w in workers:
        w.start()
    results = [queue.get(timeout=1800) for _ in workers]
    for w in workers:
        w.join()
    wall = max(r["wall_s"] for r in results)
    cpu = sum(r["cpu_s"] for r in results)
    out = {"texts": len(texts), "mean_words": round(words, 1), "processes": procs,
           "texts_per_s": round(len(texts) / wall, 1), "texts_per_cpu_s": round(len(texts) / cpu, 1),
           "added_rss_mib_per_process": [r["added_rss_mib"] for r in results],
           "added_rss_mib_total": round(sum(r["added_rss_mib"] for r in results), 1)}
    print(f"\n## Rampart recognizer alone: {len(texts)} texts of ~{words:.0f} words, {procs} processes\n"
          f"  {out['texts_per_s']} texts/s (wall), {out['texts_per_cpu_s']} texts per CPU-second, "
          f"added peak RSS {out['added_rss_mib_per_process']} MiB per process ({out['added_rss_mib_total']} total)")
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", default="pii,btc,wnut", help="comma-separated: pii, btc, wnut (empty: none)")
    parser.add_argument("--speed-rows", type=int, default=4000, help="texts for the speed run (0: skip)")
    parser.add_argument("--shared", type=Path, default=evaluate.SHARED, help="the shared data folder")
    parser.add_argument("--json", help="write all figures to this file")
    args = parser.parse_args()
    datasets = {k: args.shared / v.relative_to(evaluate.SHARED) for k, v in evaluate.DATASETS.items()}
    evaluate.SHARED = args.shared
    report = {}
    names = [n for n in args.data.split(",") if n]
    if names:
        report["accuracy"] = accuracy(names, datasets, evaluate.load_scorer())
    if args.speed_rows:
        report["speed"] = speed(args.speed_rows)
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
