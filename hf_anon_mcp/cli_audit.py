"""The `audit` subcommand of the shell face; wired into cli.py with `add_audit_commands(sub)`.

Parse, call `audit_finetune`, print a table (or JSON with --json). Errors are `HfAnonError`s that `cli.main` turns
into one line on stderr and exit code 2 (the audit extra missing included).
"""

from __future__ import annotations

import argparse

from hf_anon_mcp.audit.models import AuditReport, AuditRequest


def add_audit_commands(subparsers) -> None:
    """Add `audit` to the `hf-anon-mcp` subparsers."""
    audit = subparsers.add_parser(
        "audit", help="audit a fine-tuned model for leaks: canary exposure, membership inference, extraction")
    audit.add_argument("--model", required=True, help="fine-tuned model: a save_pretrained folder or a Hub repo id")
    audit.add_argument("--canaries", required=True, help="the OUT.canaries.json written when canaries were planted")
    audit.add_argument("--base-model", dest="base_model",
                       help="the model the fine-tune started from (reference for membership and extraction)")
    audit.add_argument("--members", help="data file the model was trained on (membership inference)")
    audit.add_argument("--non-members", dest="non_members", help="held-out data file of the same kind")
    audit.add_argument("--original", help="the data before anonymization: its PII written by the model is reported "
                                          "(masked)")
    audit.add_argument("--text-column", dest="text_column", help="text column of the data files")
    audit.add_argument("--candidates", type=int, help="random values each canary is ranked against (default 1000)")
    audit.add_argument("--max-rows", dest="max_rows", type=int, help="rows read per data file (default 250)")
    audit.add_argument("--max-length", dest="max_length", type=int, help="tokens scored per row (default 128)")
    audit.add_argument("--max-new-tokens", dest="max_new_tokens", type=int, help="tokens per generation (default 32)")
    audit.add_argument("--samples", type=int, help="sampled generations per probe (default 32)")
    audit.add_argument("--batch-size", dest="batch_size", type=int, help="sequences per forward pass (default 16)")
    audit.add_argument("--device", help="auto (default: a GPU when present), cpu, cuda, cuda:N, mps")
    audit.add_argument("--threads", type=int, help="CPU threads for torch (1 is often fastest on a busy machine)")
    audit.add_argument("--profile", choices=["fast", "balanced", "thorough"],
                       help="detector for the original data and the generations (default balanced)")
    audit.add_argument("--patterns-only", dest="profile", action="store_const", const="fast",
                       help="alias of --profile fast")
    audit.add_argument("--seed", type=int, help="seed of the candidates and sampling (default 0)")
    audit.add_argument("--json", action="store_true", help="print the report as JSON on stdout")
    audit.set_defaults(handler=cmd_audit)


def cmd_audit(args: argparse.Namespace) -> int:
    from hf_anon_mcp.audit.run import audit_finetune
    from hf_anon_mcp.cli import progress_bar

    fields = {k: v for k, v in vars(args).items() if k in AuditRequest.model_fields and v is not None}
    request = AuditRequest(**fields)
    update, close = progress_bar("audit")
    try:
        report = audit_finetune(request, progress=update)
    finally:
        close()
    print(report.model_dump_json(indent=2) if args.json else render_audit(report))
    return 0


def _yes(flag: bool) -> str:
    return "yes" if flag else "no"


def render_audit(report: AuditReport) -> str:
    """A readable summary: exposure by repetitions, each canary and control by id, membership, extraction."""
    lines = [
        f"model: {report.model}" + (f"   base: {report.base_model}" if report.base_model else "")
        + f"   device: {report.device}",
        f"canary format: {report.canary_format}   candidates K = {report.candidates} "
        f"(ceiling {report.exposure_ceiling_bits:.2f} bits; never seen ~ {report.chance_exposure_bits:.2f})",
        "", f"{'seen':<10} {'count':>5} {'mean bits':>10} {'skew-normal':>12} {'memorised':>10}",
    ]
    for g in report.exposure_by_repetitions:
        label = "controls" if g.repetitions == 0 else f"{g.repetitions}x"
        lines.append(f"{label:<10} {g.count:>5} {g.mean_exposure_bits:>10.2f} {g.mean_skewnorm_bits:>12.2f} "
                     f"{g.memorised:>10}")
    lines += ["", f"{'id':<14} {'seen':>5} {'rank':>7} {'bits':>7} {'skew-normal':>12} {'written':>8}"]
    for c in report.canaries:
        lines.append(f"{c.id:<14} {c.repetitions:>5} {c.rank:>7} {c.exposure_bits:>7.2f} "
                     f"{c.exposure_skewnorm_bits:>12.2f} {_yes(c.extracted):>8}")
    for c in report.controls:
        lines.append(f"{c.id:<14} {'-':>5} {c.rank:>7} {c.exposure_bits:>7.2f} {c.exposure_skewnorm_bits:>12.2f} "
                     f"{_yes(c.extracted):>8}")
    m = report.membership
    if m is not None:
        baseline = f" (blind baseline {m.baseline_auc:.2f})" if m.baseline_auc is not None else ""
        lines += ["", f"membership ({m.method}, {m.members} members / {m.non_members} non-members): AUC {m.auc:.2f}"
                  f"{baseline}, TPR at 1% FPR {m.tpr_at_1pct_fpr:.2f}; loss-only AUC {m.loss_auc:.2f}"]
    e = report.extraction
    lines += ["", f"extraction: {e.generations} continuations of the format's prompt wrote {e.canaries_extracted} "
              f"of {len(report.canaries)} canaries ({e.canaries_extracted_greedy} greedily) and "
              f"{e.controls_extracted} controls; {e.format_values_emitted} distinct values of the format"]
    pii = ", ".join(f"{t} {n}" for t, n in e.pii_in_generations.items()) or "none"
    lines.append(f"  {e.free_generations} free generations; PII types in all generations: {pii}")
    if e.original is not None:
        o = e.original
        base = f", {o.values_emitted_by_base} also by the base model" if o.values_emitted_by_base is not None else ""
        lines.append(f"  original data: {o.values_checked} PII values probed, {o.values_emitted} written{base}; "
                     f"leaked {o.leaked}" + (f" ({', '.join(o.samples)})" if o.samples else ""))
    lines += ["", f"verdict: {report.verdict}"]
    return "\n".join(lines)
