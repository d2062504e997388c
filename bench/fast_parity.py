"""The fast profile's scanner against Presidio's patterns-only mode, in the same run, on the labelled dev data.

    .venv/bin/python bench/fast_parity.py [--data pii,btc,wnut,secrets] [--rows N]
    .venv/bin/python bench/fast_parity.py --data none --generated 20000   # speed on 60-word unique rows

Both detectors run on the same texts and their findings are replaced with the default policy's placeholders; the
black-box scorer (`../shared/bin/pii_removal_score.py`) gives removal recall and over-redaction for each. Also
printed: how many findings the two share exactly (type and span), and rows per CPU-second of each detector in this
process (in-harness: no I/O, no model load, no worker start; the engines are built before timing).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import evaluate  # noqa: E402

# ../shared beside the repository; a git worktree elsewhere names it with HF_ANON_MCP_SHARED
_SHARED = Path(os.environ.get("HF_ANON_MCP_SHARED", evaluate.SHARED))


def detectors():
    from hf_anon_mcp.engine import detect
    from hf_anon_mcp.engine.analyzer import EngineConfig, get_analyzer
    from hf_anon_mcp.engine.fastscan import fast_analyze, get_scanner

    config = EngineConfig(patterns_only=True)
    get_analyzer(config)
    get_scanner(config)
    return config, {
        "presidio patterns-only": lambda texts: detect._analyze_texts(texts, config),
        "fast scanner": lambda texts: fast_analyze(texts, config),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", default="pii,btc,wnut,secrets")
    parser.add_argument("--rows", type=int, default=0, help="first N rows of each set (0: all)")
    parser.add_argument("--generated", type=int, default=0,
                        help="also time both detectors on N generated ~60-word unique rows (Presidio on 1/10)")
    args = parser.parse_args()
    evaluate.SHARED = _SHARED
    score = evaluate.load_scorer()
    from hf_anon_mcp.engine.anonymizer import OperatorPlan, anonymize_text
    from hf_anon_mcp.policy import AnonymizationPolicy

    plan = OperatorPlan(AnonymizationPolicy())
    config, engines = detectors()
    keys = ("direct_recall", "quasi_recall", "all_recall", "over_redaction", "fp_rows_over_redaction")
    print(f"{'data':<8} {'detector':<24} " + " ".join(f"{k:>14}" for k in keys) + f" {'rows/cpu-s':>11}")
    if args.generated:
        generated(args.generated, engines)
    for name in [d for d in args.data.split(",") if d in evaluate.DATASETS]:
        path = _SHARED / evaluate.DATASETS[name].relative_to(evaluate.DATASETS[name].parents[2])
        rows = evaluate.read(path)
        if args.rows:
            rows = rows[:args.rows]
        texts = [r["text"] for r in rows]
        spans = {}
        for engine, run in engines.items():
            run(texts[:20])  # warm caches that are built at first use
            started = time.process_time()
            results = run(texts)
            cpu = time.process_time() - started
            spans[engine] = {(i, r.entity_type, r.start, r.end) for i, res in enumerate(results) for r in res}
            outputs = [anonymize_text(t, r, plan)[0] for t, r in zip(texts, results)]
            removal = score(rows, [{"text": o} for o in outputs])
            fp = [(r, o) for r, o in zip(rows, outputs) if r.get("label") == "fp"]
            if fp:
                removal["fp_rows_over_redaction"] = score([r for r, _ in fp], [{"text": o} for _, o in fp])[
                    "over_redaction"]
            print(f"{name:<8} {engine:<24} " + " ".join(f"{removal.get(k)!s:>14}" for k in keys)
                  + f" {len(texts) / cpu:>11.0f}")
        a, b = spans.values()
        print(f"{name:<8} findings: {len(a)} presidio, {len(b)} fast, {len(a & b)} identical "
              f"({len(a - b)} only presidio, {len(b - a)} only fast)")


def generated(n: int, engines: dict) -> None:
    """In-harness speed on generated support-ticket rows of ~60 words, every row unique (no repeated-cell cache):
    rows per CPU-second of this one process, best of three rounds for the fast scanner."""
    import generate

    texts = [r["text"] for r in generate.long_rows(n)]
    fast, presidio = engines["fast scanner"], engines["presidio patterns-only"]
    fast(texts[:200])
    rounds = []
    for _ in range(3):
        started = time.process_time()
        found = fast(texts)
        rounds.append(time.process_time() - started)
    sample = texts[:max(200, n // 10)]
    started = time.process_time()
    slow = presidio(sample)
    slow_cpu = time.process_time() - started
    same = sum({(r.entity_type, r.start, r.end) for r in a} == {(r.entity_type, r.start, r.end) for r in b}
               for a, b in zip(slow, found))
    words = sum(len(t.split()) for t in texts) / len(texts)
    print(f"generated: {n} unique rows, {words:.0f} words on average, {sum(map(len, found)) / n:.1f} findings a row")
    print(f"  fast scanner: {n / min(rounds):.0f} rows per CPU-second (best of 3: "
          f"{', '.join(f'{r:.1f}' for r in rounds)} CPU s)")
    print(f"  presidio patterns-only: {len(sample) / slow_cpu:.0f} rows per CPU-second on the first {len(sample)}; "
          f"identical findings on {same} of them")


if __name__ == "__main__":
    sys.exit(main())
