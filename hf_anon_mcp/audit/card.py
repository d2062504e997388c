"""Markdown lines with an audit's figures, for the privacy section of a model card.

Only what the report holds: ids, counts, bits, AUCs and the verdict; never a canary value or a person's data.
`workflow/card.py` inserts these lines when an audit report is given.
"""

from __future__ import annotations

from hf_anon_mcp.audit.models import AuditReport


def audit_card_lines(report: AuditReport) -> list[str]:
    """The audit as a markdown subsection (starts with a `###` heading, ends without a blank line).

    >>> lines = audit_card_lines(report)
    >>> lines[0]
    '### Leak audit of the fine-tuned model'
    """
    lines = [
        "### Leak audit of the fine-tuned model",
        "",
        f"Audited with hf-anon-mcp (`audit`, report `{report.report_id}`). {len(report.canaries)} canaries "
        f"(random secrets of one format) were planted in the training data and {len(report.controls)} controls "
        f"of the same format were kept out; each is ranked against {report.candidates:,} random values of the "
        f"format. Exposure is log2(K+1) - log2(rank): at most {report.exposure_ceiling_bits:.1f} bits here, about "
        f"{report.chance_exposure_bits:.1f} for a value the model never saw (Carlini et al., The Secret Sharer, "
        "2019).",
        "",
        "| canaries | count | mean exposure (bits) | skew-normal estimate (bits) | memorised (top 2 ranks) |",
        "|---|---:|---:|---:|---:|",
    ]
    for g in report.exposure_by_repetitions:
        label = "controls (never in the data)" if g.repetitions == 0 else f"seen {g.repetitions}x"
        lines.append(f"| {label} | {g.count} | {g.mean_exposure_bits:.2f} | {g.mean_skewnorm_bits:.2f} | "
                     f"{g.memorised} |")
    e = report.extraction
    lines += [
        "",
        f"- Extraction: {e.generations} continuations of the format's prompt wrote {e.canaries_extracted} of "
        f"{len(report.canaries)} canaries verbatim ({e.canaries_extracted_greedy} by greedy decoding) and "
        f"{e.controls_extracted} of {len(report.controls)} controls.",
    ]
    if e.original is not None:
        o = e.original
        lines.append(f"- Original data: {o.values_checked} personal values found before anonymization were probed "
                     f"with their own context; the model wrote {o.leaked} of them"
                     + (" that the base model did not." if o.values_emitted_by_base is not None else "."))
    m = report.membership
    if m is not None:
        baseline = (f"; blind baseline (base model in the target's place) {m.baseline_auc:.2f}"
                    if m.baseline_auc is not None else "")
        lines.append(f"- Membership inference ({'fine-tuned vs base model loss' if m.method == 'reference' else 'loss'}"
                     f", {m.members} training rows vs {m.non_members} held-out rows): AUC {m.auc:.2f}{baseline}; "
                     f"true-positive rate at 1% false positives {m.tpr_at_1pct_fpr:.2f}.")
    lines += ["", f"**Verdict:** {report.verdict}"]
    return lines
