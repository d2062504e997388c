"""The `card` and `push` subcommands of the shell face; wired into cli.py with `add_hub_commands(sub)`.

Like the rest of the CLI they hold no logic: parse, call the workflow, print. Handlers return an exit code (3 for
a preview whose push would be refused) and raise HfAnonError subclasses, which `cli.main` turns into one line on
stderr and exit code 2.
"""

from __future__ import annotations

import argparse

from hf_anon_mcp.hub.models import CardRequest, CardResult, PushRequest, PushResult

PREVIEW_REFUSED = 3  # exit code of a preview (no --confirm) whose push would be refused


def _yes_no(value: str) -> bool:
    v = value.strip().lower()
    if v in ("yes", "y", "true", "1"):
        return True
    if v in ("no", "n", "false", "0"):
        return False
    raise argparse.ArgumentTypeError("expected yes or no")


def add_hub_commands(subparsers) -> None:
    """Add `card` and `push` to the `hf-anon-mcp` subparsers."""
    card = subparsers.add_parser("card", help="write the privacy section of a dataset (or model) card")
    card.add_argument("--scan-report", dest="scan_report_path", help="JSON file of a scan report (scan --json)")
    card.add_argument("--anonymize-report", dest="anonymize_report_path",
                      help="JSON file of an anonymize report (anonymize --json)")
    card.add_argument("--audit-report", dest="audit_report_path",
                      help="JSON file of a leak audit (audit --json): its figures go in a model card")
    card.add_argument("--card", dest="card_path", required=True, help="card file to write (created if missing)")
    card.add_argument("--model-card", action="store_true", help="the card is a model card (default: dataset card)")
    card.add_argument("--differential-privacy", type=_yes_no, metavar="yes|no",
                      help="record whether training used differential privacy")
    card.add_argument("--dp-details", dest="differential_privacy_details",
                      help="free text about differential privacy (e.g. 'DP-SGD, epsilon=8')")
    card.add_argument("--json", action="store_true", help="print the result as JSON on stdout")
    card.set_defaults(handler=cmd_card)

    push = subparsers.add_parser("push", help="preview, or with --confirm perform, a push to a PRIVATE Hub "
                                              "dataset repo")
    push.add_argument("source", help="a data file (uploaded as data/<name>) or a folder")
    push.add_argument("--repo", dest="repo_id", required=True, help="target dataset repo user/name")
    push.add_argument("--card", dest="card_path", help="card to upload as README.md (a copy gets the section)")
    push.add_argument("--scan-report", dest="scan_report_path", help="JSON scan report of the original data")
    push.add_argument("--anonymize-report", dest="anonymize_report_path", help="JSON anonymize report")
    push.add_argument("--make-private", action="store_true", help="make an existing public repo private first")
    push.add_argument("--allow-residual-pii", action="store_true",
                      help="push although high-risk findings remain (recorded in the card)")
    push.add_argument("--patterns-only", action="store_true", help="pre-upload scan without NER (faster)")
    push.add_argument("--differential-privacy", type=_yes_no, metavar="yes|no")
    push.add_argument("--include", action="append", default=[], metavar="PATH",
                      help="a file of the folder that is not a dataset file but should go up too (repeatable); "
                           "canary, key and env files never go up")
    push.add_argument("--confirm", action="store_true", help="really upload (default: preview only)")
    push.add_argument("--json", action="store_true", help="print the result as JSON on stdout")
    push.set_defaults(handler=cmd_push)


def _fields(args: argparse.Namespace, model) -> dict:
    return {k: v for k, v in vars(args).items() if k in model.model_fields and v is not None}


def cmd_card(args: argparse.Namespace) -> int:
    from hf_anon_mcp.workflow.card import write_card_section

    fields = _fields(args, CardRequest)
    fields["card_type"] = "model" if args.model_card else "dataset"
    result = write_card_section(CardRequest(**fields))
    print(result.model_dump_json(indent=2) if args.json else render_card(result))
    return 0


def cmd_push(args: argparse.Namespace) -> int:
    from hf_anon_mcp.workflow.push import push_private

    result = push_private(PushRequest(**_fields(args, PushRequest)))
    words = getattr(args, "words", None)
    print(result.model_dump_json(indent=2) if args.json else render_push(result, words))
    if not result.uploaded and result.blocking and not result.allow_residual_pii:
        return PREVIEW_REFUSED
    return 0


def render_card(result: CardResult) -> str:
    state = "updated" if result.changed else "unchanged"
    return f"{state}: privacy section of {result.card_type} card {result.path} (tags: {', '.join(result.tags)})"


def render_push(result: PushResult, words=None) -> str:
    """A readable preview or outcome: files, rows, findings (types and counts), and what happens next; fields named
    in `words` (the CLI's flags) when given."""
    head = "PUSHED" if result.uploaded else "PREVIEW (nothing uploaded)"
    lines = [f"{head}: {result.repo_id}  ({result.repo_url})",
             f"repo before: {result.visibility_before}   rows: {result.rows}   "
             f"residual risk: {result.residual_risk.value.upper()}"]
    if result.hub_note:
        lines.append(f"note: {result.hub_note}")
    if result.uploaded:
        lines.append(f"commit: {result.commit_sha}  {result.commit_url}   private (read back): {result.private}")
    lines += ["", f"{'file':<40} {'kind':<6} {'bytes':>10} {'rows':>8}"]
    lines += [f"{f.path_in_repo:<40} {f.kind:<6} {f.size:>10} {f.rows if f.rows is not None else '':>8}"
              + ("" if f.scanned else "  (not scanned)") for f in result.files]
    if result.excluded:
        lines.append(f"never uploaded: {', '.join(result.excluded)}")
    if result.not_included:
        lines.append(f"not part of the dataset, left out (name them with `include` to upload): "
                     f"{', '.join(result.not_included)}")
    if result.findings:
        lines += ["", "findings (types and counts only):"]
        lines += [f"  {f.path_in_repo}{': ' + f.column if f.column else ''}  {f.entity_type} x{f.count} "
                  f"({f.risk.value})" for f in result.findings]
    if result.blocking:
        lines += ["", "blocking:"] + [f"  - {b}" for b in result.blocking]
    lines += ["", "done:" if result.uploaded else "would:"] + [f"  - {a}" for a in result.actions]
    text = "\n".join(lines)
    if words is None:
        return text
    from hf_anon_mcp.errors import in_face_words

    return in_face_words(text, words)
