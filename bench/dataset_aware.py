"""Issue 19's benchmark end to end: generate the three fine-tuning formats, anonymize each with the whole CLI, score.

    python bench/dataset_aware.py --rows 2000            # ~2k rows per format, two policies
    python bench/dataset_aware.py --rows 300 --keep /tmp/ft --json /tmp/ft/figures.json

For each policy (the default, i.e. no `--policy`; then a file naming only `entities: [PERSON, EMAIL_ADDRESS]`, under
which secrets must still be replaced) it runs, per format, as a user would:

    hf-anon-mcp anonymize <format file> --out <same format> [--policy FILE] --overwrite --json

in a fresh process, timed by wall clock (model load and the tool's own verification included; on a shared machine
the times are noisy), then scores the outputs with `finetune_score.py` against the generator's truth and prints the
targets with PASS/FAIL. Only those CLI flags are used, so the script measures today's pipeline and the
dataset-aware one alike. The tool's own verdict (its `--json` report) is shown beside the measured figures.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import finetune_gen  # noqa: E402
import finetune_score  # noqa: E402

DEFAULT_CLI = "/work/main/.venv/bin/hf-anon-mcp"
POLICIES = [
    ("default", None, None),
    ("PERSON+EMAIL_ADDRESS", "entities: [PERSON, EMAIL_ADDRESS]\n", {"PERSON", "EMAIL_ADDRESS"}),
]


def run_cli(cli: str, source: Path, output: Path, policy: Path | None, timeout: float) -> dict:
    """One CLI run in its own process group (so a timeout ends its workers too): wall time, exit code, report."""
    cmd = [cli, "anonymize", str(source), "--out", str(output), "--overwrite", "--json"]
    if policy is not None:
        cmd += ["--policy", str(policy)]
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=source.parent, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)
    try:
        stdout, stderr = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            stdout, stderr = proc.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            stdout, stderr = proc.communicate()
        return {"exit": None, "wall_s": time.perf_counter() - started, "error": f"timed out after {timeout:.0f} s"}
    wall = time.perf_counter() - started
    result = {"exit": proc.returncode, "wall_s": wall}
    if proc.returncode != 0:
        lines = [line for line in stderr.splitlines() if line.strip()]
        result["error"] = lines[-1] if lines else f"exit code {proc.returncode}"
        return result
    try:
        report = json.loads(stdout)
    except ValueError:
        report = {}
    result["tool_verdict"] = tool_verdict(report)
    return result


def tool_verdict(report: dict) -> str:
    """What the tool itself concluded, from whichever fields its report has (today: residual_risk)."""
    verification = report.get("verification")
    if isinstance(verification, dict):
        for key in ("verdict", "summary", "message"):
            if isinstance(verification.get(key), str):
                return verification[key]
    if isinstance(verification, str):
        return verification
    if "residual_risk" in report:
        note = report.get("residual_note") or ""
        return f"residual risk {str(report['residual_risk']).upper()}" + (f" ({note})" if note else "")
    return "(no verdict in the report)"


def run_policy(name: str, policy_text: str | None, work: Path, data: Path, formats: list[str], cli: str,
               timeout: float) -> dict:
    out_dir = work / f"out-{name.replace('+', '_').lower()}"
    out_dir.mkdir(exist_ok=True)
    policy = None
    if policy_text is not None:
        policy = work / f"policy-{out_dir.name}.yaml"
        policy.write_text(policy_text, encoding="utf-8")
    runs = {}
    for fmt in formats:
        src = data / finetune_gen.FILES[fmt]
        runs[fmt] = run_cli(cli, src, out_dir / src.name, policy, timeout)
        print(f"  {name}: {fmt} {'ok' if runs[fmt]['exit'] == 0 else 'FAILED'} in {runs[fmt]['wall_s']:.1f} s",
              file=sys.stderr, flush=True)
    return {"out_dir": out_dir, "runs": runs}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=2000, help="rows per format")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--cli", default=DEFAULT_CLI, help=f"the hf-anon-mcp executable (default {DEFAULT_CLI})")
    parser.add_argument("--formats", default=",".join(finetune_gen.FORMATS))
    parser.add_argument("--policies", default="all", help="'all', 'default' or 'PERSON+EMAIL_ADDRESS'")
    parser.add_argument("--timeout", type=float, default=1200, help="seconds per CLI run")
    parser.add_argument("--keep", type=Path, help="write data and outputs here and keep them (default: a temp dir)")
    parser.add_argument("--json", type=Path, help="also write every figure to this JSON file")
    args = parser.parse_args(argv)
    formats = [f for f in args.formats.split(",") if f]
    if set(formats) - set(finetune_gen.FORMATS):
        parser.error("unknown format")
    policies = [p for p in POLICIES if args.policies == "all" or p[0] == args.policies]
    if not policies:
        parser.error("unknown policy")

    with tempfile.TemporaryDirectory(prefix="ft-bench-") as tmp:
        work = args.keep or Path(tmp)
        work.mkdir(parents=True, exist_ok=True)
        data = work / "data"
        finetune_gen.write(data, args.rows, args.seed, formats)
        print(f"generated {args.rows} rows per format (seed {args.seed}) in {data}", file=sys.stderr)
        figures = {"rows": args.rows, "seed": args.seed, "cli": args.cli, "policies": {}}
        for name, text, entities in policies:
            ran = run_policy(name, text, work, data, formats, args.cli, args.timeout)
            outputs = [ran["out_dir"] / finetune_gen.FILES[f] for f in formats
                       if (ran["out_dir"] / finetune_gen.FILES[f]).exists() and ran["runs"][f]["exit"] == 0]
            print(f"\n=== policy: {name}" + (" (no --policy)" if text is None else f" ({text.strip()})") + " ===")
            print("wall time per CLI run (fresh process: model load and verification included; noisy machine):")
            for fmt, run in ran["runs"].items():
                rate = f"{args.rows / run['wall_s']:.0f} rows/s" if run["exit"] == 0 else ""
                print(f"  {fmt:14} {run['wall_s']:7.1f} s  {rate:>12}  "
                      + (f"tool says: {run['tool_verdict']}" if run["exit"] == 0 else f"FAILED: {run['error']}"))
            total = sum(r["wall_s"] for r in ran["runs"].values())
            print(f"  {'total':14} {total:7.1f} s")
            result = None
            if outputs:
                result = finetune_score.score(data, outputs, entities)
                print(finetune_score.table(result))
            figures["policies"][name] = {"entities": sorted(entities) if entities else None,
                                         "runs": ran["runs"], "score": result}
        if args.json:
            args.json.write_text(json.dumps(figures, indent=2, default=str) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
