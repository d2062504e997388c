"""Leak-audit bench: the tiny-model figures, and the cost of auditing a 125M-parameter model on this CPU.

1. Tiny model (the test's world, `tests/tiny_lm.py`): a 2-layer GPT-2 trained here with 9 canaries planted, and the
   same fine-tune without them; prints exposure by repetitions, the membership AUC against the blind baseline and
   the extraction counts.
2. A GPT-2-small-shaped model (`GPT2Config()` defaults: 124M parameters, 50,257-token head), random init (no
   weights can be downloaded here), with a byte-level BPE tokenizer trained on the shared dev tweets, and a second
   random init as its base model. Members/non-members are dev tweets joined into rows of at least 128 tokens (the
   default `max_length`, so every row costs the most a row can); `original` is the BTC dev file (NER detector).
   The audit runs with default settings except K, rows and probed values, cut by the same factor; per-step times
   are then extrapolated linearly to the defaults (K = 1,000, 500 + 500 rows, 200 original values) and labelled
   so. The extraction's prompt probes do not grow with K or rows and are counted once.

    PYTHONPATH=. .venv/bin/python bench/audit_bench.py [--threads N] [--scale 10] [--skip-tiny] [--skip-big]

Figures depend on how busy the machine is: they are printed with the load average.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))
SHARED = Path(os.environ.get("HF_ANON_MCP_SHARED", HERE.parent.parent / "shared"))
if not (SHARED / "data").exists():
    SHARED = Path("/work/shared")
TWEETS = [SHARED / "data" / "real-text-dev" / "btc_dev.jsonl", SHARED / "data" / "real-text-dev" / "wnut17_dev.jsonl"]
DEFAULT_K, DEFAULT_ROWS, DEFAULT_VALUES = 1000, 250, 200


def load() -> str:
    return "load average " + ", ".join(f"{x:.1f}" for x in os.getloadavg())


def tiny(threads: int) -> None:
    import torch
    import tiny_lm

    from hf_anon_mcp.audit.models import AuditRequest
    from hf_anon_mcp.audit.run import audit_finetune

    torch.set_num_threads(threads)
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        world = tiny_lm.build_world(Path(tmp))
        print(f"tiny model: 3 trainings in {time.perf_counter() - t0:.0f} s ({load()})")
        for name in ("with", "without"):
            t0 = time.perf_counter()
            report = audit_finetune(AuditRequest(
                model=world[name], canaries=world["canaries"], base_model=world["base"], members=world["members"],
                non_members=world["non_members"], threads=threads, profile="fast", max_new_tokens=48,
                **({"original": world["original"]} if name == "with" else {})))
            took = time.perf_counter() - t0
            groups = {g.repetitions: g for g in report.exposure_by_repetitions}
            ctl = groups[0].mean_exposure_bits
            print(f"  {name} canaries (K={report.candidates}, ceiling {report.exposure_ceiling_bits:.2f} bits), "
                  f"audit {took:.1f} s:")
            for reps, g in sorted(groups.items()):
                label = "controls" if reps == 0 else f"seen {reps:>2}x"
                print(f"    {label:<10} mean exposure {g.mean_exposure_bits:5.2f} bits (skew-normal "
                      f"{g.mean_skewnorm_bits:6.2f}), gap to controls {g.mean_exposure_bits - ctl:+5.2f}, "
                      f"memorised {g.memorised}/{g.count}")
            m, e = report.membership, report.extraction
            print(f"    membership AUC {m.auc:.3f} vs blind baseline {m.baseline_auc:.3f}; TPR@1%FPR "
                  f"{m.tpr_at_1pct_fpr:.3f}; loss-only AUC {m.loss_auc:.3f}")
            orig = f"; original leaked {e.original.leaked} of {e.original.values_checked}" if e.original else ""
            print(f"    extraction: canaries {e.canaries_extracted}/9 ({e.canaries_extracted_greedy} greedy), "
                  f"controls {e.controls_extracted}/9{orig}; leak={report.leak}")


def _tweets() -> list[str]:
    texts = []
    for path in TWEETS:
        with path.open() as fh:
            texts += [json.loads(line)["text"] for line in fh]
    return texts


def _bpe_tokenizer(texts: list[str]):
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=8000, special_tokens=["<|endoftext|>"],
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    tok.train_from_iterator(texts, trainer)
    return PreTrainedTokenizerFast(tokenizer_object=tok, bos_token="<|endoftext|>", eos_token="<|endoftext|>",
                                   pad_token="<|endoftext|>")


def big(threads: int | None, scale: int) -> None:
    import torch
    from transformers import GPT2Config, GPT2LMHeadModel

    from hf_anon_mcp.audit.canaries import make_canaries, write_canary_file
    from hf_anon_mcp.audit.models import AuditRequest
    from hf_anon_mcp.audit.run import audit_finetune

    import random

    tweets = _tweets()
    k, n_rows, n_values = DEFAULT_K // scale, DEFAULT_ROWS // scale, DEFAULT_VALUES // scale
    rows, cur, rng = [], "", random.Random(0)
    order = list(tweets)
    while len(rows) < 2 * n_rows:  # the dev tweets fill ~220 rows of 900 characters; later rounds reshuffle them
        for t in order:
            cur = f"{cur} {t}".strip()
            if len(cur) >= 900:
                rows.append(cur)
                cur = ""
        rng.shuffle(order)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        tok = _bpe_tokenizer(tweets)
        lengths = [len(tok(r)["input_ids"]) for r in rows[: 2 * n_rows]]
        for i, seed in enumerate((0, 1)):
            torch.manual_seed(seed)
            model = GPT2LMHeadModel(GPT2Config())
            model.save_pretrained(root / f"m{i}")
            tok.save_pretrained(root / f"m{i}")
        params = sum(p.numel() for p in model.parameters())
        del model
        for name, part in (("members", rows[:n_rows]), ("non_members", rows[n_rows: 2 * n_rows])):
            with (root / f"{name}.jsonl").open("w") as fh:
                fh.writelines(json.dumps({"text": r}) + "\n" for r in part)
        plan = make_canaries(9, seed=1, text_column="text")
        write_canary_file(plan, root / "c.canaries.json")
        request = AuditRequest(model=str(root / "m0"), canaries=str(root / "c.canaries.json"),
                               base_model=str(root / "m1"), members=str(root / "members.jsonl"),
                               non_members=str(root / "non_members.jsonl"), original=str(TWEETS[0]),
                               text_column="text", candidates=k, max_rows=n_rows, max_original_values=n_values,
                               threads=threads)
        t0, c0 = time.perf_counter(), time.process_time()
        report = audit_finetune(request)
        wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    t = report.timings_s
    planted = len(plan.canaries) + len(plan.controls)
    per_candidate = t["exposure"] / (k + planted)
    member_rows = report.membership.members + report.membership.non_members
    per_row = t["membership"] / member_rows
    original = t.get("original_probe", 0.0)
    fixed_extraction = t["extraction"] - original
    per_value = original / max(1, report.extraction.original.values_checked)
    full = (t["load"] + per_candidate * (DEFAULT_K + planted) + per_row * 2 * DEFAULT_ROWS + fixed_extraction
            + original * scale)
    print(f"125M model ({params / 1e6:.0f}M parameters, vocab 50,257; tokenizer BPE 8k on the dev tweets; rows "
          f"{min(lengths)}-{max(lengths)} tokens before the 128 cut), torch threads {threads or 'default'}, "
          f"{load()}")
    print(f"  measured with K={k}, {n_rows}+{n_rows} rows, {report.extraction.original.values_checked} original "
          f"values (1/{scale} of the defaults): {wall:.0f} s wall, {cpu:.0f} s CPU ({cpu / wall:.0%} of one core "
          f"obtained); steps {json.dumps(t)}")
    print(f"  cost per candidate {per_candidate * 1000:.1f} ms; per member/non-member row (fine-tuned + base, "
          f"128 tokens) {per_row * 1000:.0f} ms; per original value probed {per_value * 1000:.0f} ms; "
          f"prompt probes + free generations + scan {fixed_extraction:.1f} s (fixed)")
    print(f"  EXTRAPOLATED to the defaults (K={DEFAULT_K}, {DEFAULT_ROWS}+{DEFAULT_ROWS} rows, {DEFAULT_VALUES} "
          f"original values), linear in each: {full / 60:.1f} min wall at this load "
          f"({'under' if full < 1800 else 'OVER'} 30 min); {full * cpu / wall / 60:.1f} min of CPU (the wall time "
          f"on an idle machine with --threads 1; the spaCy load inside the original probe is scaled too, so this "
          f"overestimates)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, help="torch threads for the 125M audit (default: torch's choice)")
    parser.add_argument("--scale", type=int, default=10, help="cut K, rows and values by this factor")
    parser.add_argument("--skip-tiny", action="store_true")
    parser.add_argument("--skip-big", action="store_true")
    args = parser.parse_args()
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()
    if not args.skip_tiny:
        tiny(1)
    if not args.skip_big:
        big(args.threads, args.scale)


if __name__ == "__main__":
    main()
