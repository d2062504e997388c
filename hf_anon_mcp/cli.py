"""The shell face: `hf-anon-mcp scan|anonymize|serve|...` for scripted runs.

Holds no logic: parse arguments into the workflow's request models, call the workflow, print the result. Errors are
turned into one line on stderr in this face's words (`--policy`, not `policy`) and an exit code here, once (see
EXIT_CODES); stdout carries only the result (a table or JSON). A signal ends every command cleanly: workers end,
temporaries go, a previous output stays as it was (`interrupts`).
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Callable

from pydantic import ValidationError

from hf_anon_mcp.entity_names import canonical_anonymize, canonical_entities, canonical_scan
from hf_anon_mcp.errors import HfAnonError, Interrupted, in_face_words
from hf_anon_mcp.headers import detector_header, planned_header
from hf_anon_mcp.models import AnonymizeReport, AnonymizeRequest, Progress, ScanReport, ScanRequest
from hf_anon_mcp.policy import OperatorName

log = logging.getLogger("hf_anon_mcp")

EXIT_CODES = """\
exit codes:
  0    done (for push: the upload, or a preview whose push would be accepted)
  1    internal error: a bug; rerun with -v and report it
  2    bad input or a refusal: arguments, files, policy, paths, token, the Hub, a refused push, a failed doctor
       check; one line on stderr, nothing written
  3    push preview only: the push would be refused (the preview lists what blocks it)
  129  ended by SIGHUP, 130 by SIGINT (Ctrl-C), 143 by SIGTERM: workers stopped, temporaries removed, a previous
       output left byte-identical"""


class Parser(argparse.ArgumentParser):
    """argparse with a one-line error (exit code 2) and the exit codes at the end of every `--help`."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("epilog", EXIT_CODES)
        kwargs.setdefault("formatter_class", argparse.RawDescriptionHelpFormatter)
        super().__init__(*args, **kwargs)

    def error(self, message: str):
        self.exit(2, f"error: {message} (see `{self.prog} --help`)\n")


def _csv(value: str) -> list[str]:
    return [v.strip() for v in value.split(",") if v.strip()]


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(prog="hf-anon-mcp", description=__doc__.splitlines()[0])
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress details to stderr")
    sub = parser.add_subparsers(dest="command", required=True)

    scan = sub.add_parser("scan", help="find PII and secrets in a dataset, column by column")
    _source_args(scan)
    scan.add_argument("--max-rows", type=int, help="scan only the first N rows")
    scan.add_argument("--sample", type=int, help="scan a random sample of N rows")
    scan.add_argument("--include-raw-samples", action="store_true", help="show raw values (off by default)")
    scan.set_defaults(handler=_cmd_scan)

    anon = sub.add_parser("anonymize", help="write an anonymized copy of a dataset, then verify it by re-scanning")
    _source_args(anon)
    anon.add_argument("--out", dest="output", required=True,
                      help="output path: .parquet (default format), .jsonl, .csv, or a folder (save_to_disk)")
    anon.add_argument("--policy", dest="policy_arg", metavar="default|strict|FILE",
                      help="default (direct identifiers, dates of birth, secrets), strict (+ places, organisations, "
                           "dates, ages, titles, ZIP codes), or a JSON/YAML policy file")
    anon.add_argument("--operator", choices=[o.value for o in OperatorName if o is not OperatorName.keep],
                      help="default operator (overrides the policy's default)")
    anon.add_argument("--overwrite", action="store_true", help="replace an existing output")
    anon.add_argument("--verify", choices=["sample", "full", "off"], default="sample",
                      help="sample (default): every row checked for surviving replaced values, plus the independent "
                           "detector on a random sample; full: both detectors on every row; off: no checks")
    anon.add_argument("--no-verify", dest="verify", action="store_const", const="off", help="same as --verify off")
    anon.add_argument("--include-raw-terms", action="store_true",
                      help="name the kept frequent terms in the report (off by default)")
    anon.add_argument("--engine", choices=["local", "ray"], default="local",
                      help="local worker processes (default) or a Ray cluster (the output is then a folder of "
                           "Parquet shards)")
    anon.add_argument("--ray-address", help="address of a running Ray cluster (default with --engine ray: start a "
                                            "local Ray)")
    anon.add_argument("--resume", action="store_true", help="with --engine ray: reuse the shards of an interrupted "
                                                             "run")
    anon.add_argument("--plant-canaries", type=int, metavar="N",
                      help="plant N synthetic secret records to audit the fine-tuned model later (values go to "
                           "OUTPUT.canaries.json, which never leaves this machine)")
    anon.add_argument("--canary-repetitions", type=lambda v: [int(x) for x in _csv(v)], metavar="1,4,16",
                      help="how many times each canary is planted, in turn (default 1,4,16)")
    anon.add_argument("--max-rows", type=int, help="anonymize only the first N rows")
    anon.set_defaults(handler=_cmd_anonymize)

    from hf_anon_mcp.cli_audit import add_audit_commands
    from hf_anon_mcp.cli_hub import add_hub_commands
    from hf_anon_mcp.cli_server import add_server_commands

    add_hub_commands(sub)
    add_audit_commands(sub)
    add_server_commands(sub)
    return parser


def _source_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("source", help="a .csv/.json/.jsonl/.parquet file, a folder, or a Hub repo id user/name")
    p.add_argument("--columns", type=_csv, help="comma-separated text columns (default: all text columns)")
    p.add_argument("--config", dest="config_name", help="Hub dataset config")
    p.add_argument("--split", help="split to read (default train)")
    p.add_argument("--profile", choices=["fast", "balanced", "thorough"],
                   help="how hard to look: fast (patterns only, no NER), balanced (default: + spaCy NER and rules), "
                        "thorough (+ the Rampart ONNX model; needs pip install \"hf-anon-mcp[thorough]\")")
    p.add_argument("--patterns-only", dest="profile", action="store_const", const="fast",
                   help="alias of --profile fast")
    p.add_argument("--entities", type=_csv, help="comma-separated entity types to look for")
    p.add_argument("--score-threshold", type=float, help="minimum finding score (default 0.4)")
    p.add_argument("--num-proc", type=int, help="worker processes (default: chosen from the input size)")
    p.add_argument("--batch-size", type=int, default=256, help="rows per batch")
    p.add_argument("--json", action="store_true", help="print the report as JSON on stdout")


def _request_fields(args: argparse.Namespace, model) -> dict:
    return {k: v for k, v in vars(args).items() if k in model.model_fields and v is not None}


def progress_bar(desc: str, header: str = "") -> tuple[Callable[[Progress], None], Callable[[], None]]:
    """A tqdm bar on stderr driven by workflow progress events, under a header naming the profile and detectors;
    silent when stderr is not a terminal (the report then carries the header)."""
    from tqdm import tqdm

    bar = tqdm(desc=desc, unit="rows", file=sys.stderr, disable=None, dynamic_ncols=True)
    if header and not bar.disable:
        bar.write(f"{desc}: {header}", file=sys.stderr)

    def update(event: Progress) -> None:
        if event.total and bar.total != event.total:
            bar.total = event.total
        bar.n = event.done
        bar.set_postfix_str(event.stage, refresh=False)
        bar.refresh()

    return update, bar.close


def _run_workflow(args: argparse.Namespace, stage: str, workflow, model, render) -> int:
    """Build the request from the arguments, run the workflow with a progress bar, print table or JSON."""
    fields = _request_fields(args, model)
    if fields.get("entities"):
        fields["entities"] = canonical_entities(fields["entities"])  # aliases accepted on input
    request = model(**fields)
    update, close = progress_bar(stage, planned_header(request))
    try:
        report = workflow(request, progress=update)
    finally:
        close()
    report = canonical_scan(report) if isinstance(report, ScanReport) else canonical_anonymize(report)
    print(report.model_dump_json(indent=2) if args.json else render(report))
    return 0


def _cmd_scan(args: argparse.Namespace) -> int:
    from hf_anon_mcp.workflow.scan import scan

    return _run_workflow(args, "scan", scan, ScanRequest, render_scan)


def _cmd_anonymize(args: argparse.Namespace) -> int:
    from hf_anon_mcp.policy import PRESETS
    from hf_anon_mcp.workflow.anonymize import anonymize

    if args.policy_arg in PRESETS:
        args.policy = args.policy_arg
    elif args.policy_arg:
        args.policy_file = args.policy_arg

    return _run_workflow(args, "anonymize", anonymize, AnonymizeRequest, render_anonymize)


def render_anonymize(report: AnonymizeReport) -> str:
    """A readable summary of an anonymization: what changed, where it went, what the re-scan still sees."""
    lines = [
        f"wrote {report.rows_out} rows ({report.output_format}) to {report.output_path}   "
        f"({report.rows_per_s:.0f} rows/s)",
        f"detection: {detector_header(report.detector)}",
        f"default operator: {report.default_operator}"
        + (f"   dropped: {', '.join(report.columns_dropped)}" if report.columns_dropped else "")
        + (f"   kept as is: {', '.join(report.columns_kept)}" if report.columns_kept else ""),
    ]
    if report.surrogate_key_source:
        lines.append(f"surrogate key: {report.surrogate_key_source} (keep it secret; needed for consistent reruns)")
    lines.append(f"policy: {report.policy_level}" + ("   SECRETS KEPT (keep_secrets: true)" if report.secrets_kept
                                                       else "   secrets replaced"))
    if report.column_decisions:
        lines += ["", f"{'column':<18} {'type':<15} {'action':<14} reason"]
        lines += [f"{d.column:<18} {d.kind + (f' {d.entity}' if d.entity else ''):<15} {d.action:<14} {d.reason}"
                  for d in report.column_decisions]
    lines += ["", f"{'column':<18} {'entity':<26} {'replaced':>9}  operator"]
    lines += [f"{r.column:<18} {r.entity_type:<26} {r.count:>9}  {r.operator}" for r in report.replaced]
    if report.propagated:
        lines.append(f"propagated (same value found elsewhere): {sum(p.count for p in report.propagated)} occurrences")
    if report.kept:
        kept = {}
        for k in report.kept:
            kept[k.entity_type] = kept.get(k.entity_type, 0) + k.count
        lines.append("reported and kept by the policy: " + ", ".join(f"{e} {n}" for e, n in sorted(kept.items())))
    if report.kept_frequent_terms:
        lines.append(f"kept frequent terms (products, the company, template phrases): {len(report.kept_frequent_terms)}"
                     + "".join(f"\n  {t.term}: {t.rows} rows ({t.share:.1%})" for t in report.kept_frequent_terms
                               if t.term))
    if report.canaries_planted:
        lines.append(f"canaries: {report.canaries_planted} planted in {report.canary_rows} rows; values in "
                     f"{report.canary_file} (keep it on this machine; push refuses it)")
    lines += ["", f"verification: residual risk {report.residual_risk.value.upper()}; {report.residual_note}"]
    if report.verification and report.verification.sample_examples:
        lines += [f"  {e}" for e in report.verification.sample_examples]
    return "\n".join(lines)


def render_scan(report: ScanReport) -> str:
    """A readable table of a scan report (masked samples only, unless raw ones were asked for)."""
    det = report.detector
    of = f" of {report.rows_total}" if report.rows_total else ""
    lines = [
        f"source: {report.source}",
        f"rows scanned: {report.rows_scanned}{of}   overall risk: {report.overall_risk.value.upper()}   "
        f"({report.rows_per_s:.0f} rows/s)",
        f"detection: {detector_header(det)}",
    ]
    if det.cannot_detect:
        lines.append(f"cannot be detected in this profile: {', '.join(det.cannot_detect)}")
    lines += ["", f"{'column':<18} {'entity':<26} {'count':>7} {'rows':>7} {'score':>6}  samples"]
    for col in report.columns:
        if not col.entities:
            lines.append(f"{col.column:<18} {'(nothing found)':<26}")
        for stat in col.entities:
            lines.append(f"{col.column:<18} {stat.entity_type:<26} {stat.count:>7} {stat.rows_affected:>7} "
                         f"{stat.mean_score:>6.2f}  {', '.join(stat.samples)}")
    if report.recommendations:
        lines += ["", "recommendations:"] + [f"  - {r}" for r in report.recommendations]
    return "\n".join(lines)


def configure_logging(verbose: bool) -> None:
    """Logs go to stderr only: stdout is the result (and the MCP stdio transport)."""
    logging.basicConfig(stream=sys.stderr, level=logging.INFO if verbose else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s")
    logging.getLogger("presidio-analyzer").setLevel(logging.ERROR)
    logging.getLogger("presidio-anonymizer").setLevel(logging.ERROR)


def main(argv: list[str] | None = None) -> int:
    """Run one command; returns its exit code (EXIT_CODES). Signals end it cleanly, whatever the command.

    Only what the command started is ended afterwards: processes and server jobs that existed before (when `main`
    is called in-process) are spared.
    """
    from hf_anon_mcp.interrupts import child_pids, interruptible
    from hf_anon_mcp.jobs import running_job_ids

    parser = build_parser()
    args = parser.parse_args(argv)
    configure_logging(args.verbose)
    before = (child_pids(), running_job_ids())
    with interruptible(spare=before[0]):
        try:
            code = _run(parser, args)
        except Interrupted as err:  # a signal while an earlier error was being reported
            code = err.exit_code
        try:
            _end_everything(*before)
        except Interrupted as err:  # a signal during the final cleanup: it goes on, further signals are ignored
            code = err.exit_code
            _end_everything(*before)
    return code


def _run(parser: argparse.ArgumentParser, args: argparse.Namespace) -> int:
    words = args.words = cli_words(parser, args.command)
    try:
        return args.handler(args)
    except HfAnonError as err:
        print(f"error: {in_face_words(str(err), words)}", file=sys.stderr)
        return err.exit_code
    except ValidationError as err:
        fields = ", ".join(_flag_of(e["loc"], words) + f": {e['msg']}" for e in err.errors())
        print(f"error: invalid arguments ({fields})", file=sys.stderr)
        return 2
    except Interrupted as err:
        if args.command == "serve":  # how clients stop a stdio server: not an error, but still 128 + signal
            print(f"hf-anon-mcp: server stopped by {err.name}; running jobs cancelled, nothing half-written",
                  file=sys.stderr)
        else:
            print(f"error: {err}: workers stopped, no partial output left", file=sys.stderr)
        return err.exit_code
    except KeyboardInterrupt:
        print("error: interrupted; nothing was written", file=sys.stderr)
        return 130
    except Exception as err:  # noqa: BLE001 - never a traceback with local values on a user's terminal or log
        print(f"error: internal error ({type(err).__name__}); rerun with -v and report it", file=sys.stderr)
        log.debug("internal error", exc_info=args.verbose)
        return 1


def _end_everything(spare_pids: frozenset[int] = frozenset(), spare_jobs: frozenset[str] = frozenset()) -> None:
    """No job, worker or temporary outlives the command: stop its server jobs, then end any child process it left."""
    from hf_anon_mcp.interrupts import end_children
    from hf_anon_mcp.jobs import stop_all_jobs

    stop_all_jobs(spare=spare_jobs)
    end_children(spare=spare_pids)


# Request fields filled from an option whose dest differs (`--policy default|strict|FILE` fills policy or policy_file).
FIELD_OPTIONS = {"policy": "policy_arg", "policy_file": "policy_arg"}


def cli_words(parser: argparse.ArgumentParser, command: str | None):
    """`rename(field, value)` for `in_face_words`: a request field as this command's flag (`policy_file` ->
    `--policy`, `overwrite=true` -> `--overwrite`, `verify=false` -> `--no-verify`)."""
    actions: dict[str, list[argparse.Action]] = {}
    sub = next((a.choices.get(command) for a in parser._actions  # noqa: SLF001 - argparse's only way to list them
                if isinstance(a, argparse._SubParsersAction)), None)  # noqa: SLF001
    for action in (sub or parser)._actions:  # noqa: SLF001
        if action.option_strings and action.dest != "help":
            actions.setdefault(action.dest, []).append(action)

    def rename(name: str, value: str | None) -> str | None:
        found = actions.get(name) or actions.get(FIELD_OPTIONS.get(name, ""))
        if not found:
            return None
        action = found[0]
        if action.nargs == 0:  # a switch: pick the one that sets the value asked for
            wanted = None if value is None else value.lower() == "true"
            for a in found:
                if wanted is None or getattr(a, "const", None) == wanted:
                    action = a
                    break
            return f"`{_long(action)}`"
        return f"`{_long(action)} {value}`" if value is not None else f"`{_long(action)}`"
    return rename


def _long(action: argparse.Action) -> str:
    return next((o for o in action.option_strings if o.startswith("--")), action.option_strings[0])


def _flag_of(loc: tuple, words) -> str:
    name = ".".join(str(p) for p in loc)
    shown = words(str(loc[0]), None) if loc else None
    return shown.strip("`") if shown and len(loc) == 1 else name


if __name__ == "__main__":
    sys.exit(main())
