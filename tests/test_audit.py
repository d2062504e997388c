"""The leak audit against real models trained here: a tiny GPT-2 from scratch (nothing downloaded).

One module fixture trains a base model on public rows, then fine-tunes two copies on the same anonymized rows: one
with canaries planted (and one email the "anonymizer" missed), one without canaries. The audit must tell them apart,
and no output of it (report, table, stderr) may hold a canary value or the raw email.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("torch")
pytest.importorskip("transformers")
pytest.importorskip("scipy")

import tiny_lm  # noqa: E402

from hf_anon_mcp.audit.card import audit_card_lines  # noqa: E402
from hf_anon_mcp.audit.models import AuditRequest  # noqa: E402
from hf_anon_mcp.audit.run import audit_finetune  # noqa: E402
from hf_anon_mcp.cli_audit import render_audit  # noqa: E402

pytestmark = pytest.mark.audit

EXE = str(Path(sys.executable).with_name("hf-anon-mcp"))
LEAKED = tiny_lm.LEAKED
EMAILS = tiny_lm.EMAILS
K = 500  # candidates in the library audits (the default is 1000; half keeps the test quick; ceiling log2(501) = 8.97 bits)
FAST = dict(threads=1, profile="fast", samples=8, max_new_tokens=48, candidates=K)  # chars: 48 fit an email


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # on a busy 2-core machine one thread trains this model several times faster
    try:
        yield tiny_lm.build_world(tmp_path_factory.mktemp("audit"))
    finally:
        torch.set_num_threads(threads)


def _secrets(world) -> list[str]:
    plan = world["plan"]
    return [c.value for c in plan.canaries + plan.controls] + [LEAKED, LEAKED.split("@")[0]]


def _assert_clean(text: str, world) -> None:
    leaks = [v for v in _secrets(world) if v in text]
    assert not leaks, f"raw values in output: {len(leaks)}"


def _gap(report, repetitions: int) -> float:
    groups = {g.repetitions: g for g in report.exposure_by_repetitions}
    return groups[repetitions].mean_exposure_bits - groups[0].mean_exposure_bits


@pytest.fixture(scope="module")
def report_with(world):
    return audit_finetune(AuditRequest(model=world["with"], canaries=world["canaries"], base_model=world["base"],
                                       members=world["members"], non_members=world["non_members"],
                                       original=world["original"], **FAST))


def test_canaries_seen_16_times_stand_out_by_5_bits(report_with, world):
    r = report_with
    assert _gap(r, 16) >= 5.0, r.exposure_by_repetitions
    assert _gap(r, 16) >= _gap(r, 1)  # more repetitions, more exposure
    sixteen = [c for c in r.canaries if c.repetitions == 16]
    assert all(c.exposure_skewnorm_bits > max(x.exposure_skewnorm_bits for x in r.controls) for c in sixteen)
    assert r.leak and r.verdict.startswith("LEAK")
    assert r.exposure_ceiling_bits == pytest.approx(8.969, abs=1e-3) and r.candidates == K


def test_membership_beats_the_blind_baseline(report_with):
    m = report_with.membership
    assert m is not None and m.method == "reference" and m.members == 150 and m.non_members == 150
    assert m.canary_rows_excluded == 63  # 3 canaries x (1 + 4 + 16) rows
    assert m.auc > 0.6 and m.auc - m.baseline_auc > 0.1, m
    assert abs(m.baseline_auc - 0.5) < 0.15  # the base model never saw either set
    assert m.mean_loss_members < m.mean_loss_non_members


def test_missed_email_is_reported_masked(report_with):
    o = report_with.extraction.original
    assert o is not None and o.values_checked >= 11  # 11 distinct emails (and the names the detector finds)
    # only the missed email was in the training data: the replaced ones cannot come out
    assert o.by_type.get("EMAIL_ADDRESS") == 1, o
    assert o.samples and all("***" in s for s in o.samples) and "m***@e***.org" in o.samples


def test_no_raw_value_in_report_table_or_card(report_with, world):
    _assert_clean(report_with.model_dump_json(), world)
    _assert_clean(render_audit(report_with), world)
    _assert_clean("\n".join(audit_card_lines(report_with)), world)
    card = "\n".join(audit_card_lines(report_with))
    assert "seen 16x" in card and "Verdict" in card and f"{report_with.membership.auc:.2f}" in card


def test_batched_generation_matches_one_prompt_at_a_time(world):
    """Left-padded batches must not change what greedy decoding writes (positions come from the mask)."""
    from hf_anon_mcp.audit.lm import load_model

    lm = load_model(world["with"], "cpu")
    prompts = ["Ticket 1002: Marisol can be reached at", "Please refund my", "Order 12", "my account pin is"]
    alone = [lm.generate([p], max_new_tokens=20)[0] for p in prompts]
    assert lm.generate(prompts, max_new_tokens=20, batch_size=4) == alone
    assert any(LEAKED in text for text in alone[0])


def test_model_trained_without_canaries_shows_no_exposure(world):
    r = audit_finetune(AuditRequest(model=world["without"], canaries=world["canaries"], **FAST))
    assert _gap(r, 16) < 2.0, r.exposure_by_repetitions
    assert r.extraction.canaries_extracted == 0 and r.membership is None
    assert not any(g.memorised for g in r.exposure_by_repetitions)
    assert not r.leak and r.verdict.startswith("No leak found")


def test_cli_json_holds_no_raw_value(world):
    """One CLI run (a subprocess imports torch: seconds); the table is `render_audit`, checked above."""
    args = [EXE, "audit", "--model", world["with"], "--canaries", world["canaries"], "--base-model", world["base"],
            "--original", world["original"], "--candidates", "200", "--threads", "1", "--patterns-only",
            "--samples", "8", "--max-new-tokens", "48", "--json"]
    done = subprocess.run(args, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    report = json.loads(done.stdout)
    assert {c["id"] for c in report["canaries"]} == {c.id for c in world["plan"].canaries}
    assert report["candidates"] == 200 and report["extraction"]["original"]["leaked"] >= 1
    assert report["leak"] is True
    _assert_clean(done.stdout + done.stderr, world)


def test_cli_bad_inputs_are_one_line_exit_2(world, tmp_path, capsys):
    from hf_anon_mcp.cli import main

    runs = [
        ["--model", world["with"], "--canaries", str(tmp_path / "missing.canaries.json")],
        ["--model", str(tmp_path / "no-such-model"), "--canaries", world["canaries"]],
        ["--model", world["with"], "--canaries", world["canaries"], "--members", world["members"]],
        ["--model", world["with"], "--canaries", world["canaries"], "--candidates", "3"],
        ["--model", world["root"] / "heldout.jsonl", "--canaries", world["canaries"]],  # a file, not a model
    ]
    for extra in runs:
        code = main(["audit", *map(str, extra)])
        out, err = capsys.readouterr()
        assert code == 2, (extra, err[-1500:])
        lines = err.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("error: ") and "Traceback" not in err, err[-1500:]
        _assert_clean(out + err, world)


# As if torch and transformers were not installed: a None entry in sys.modules makes `import torch` fail and
# `importlib.util.find_spec("torch")` (how datasets and transformers probe for it) answer None.
BLOCKER = """
import sys
sys.modules["torch"] = None
sys.modules["transformers"] = None
from hf_anon_mcp.cli import main
sys.exit(main(sys.argv[1:]))
"""


def test_without_the_extra_a_one_line_error_names_the_install(world):
    done = subprocess.run([sys.executable, "-c", BLOCKER, "audit", "--model", world["with"], "--canaries",
                           world["canaries"]], capture_output=True, text=True, timeout=300)
    assert done.returncode == 2, done.stderr[-1500:]
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "pip install 'hf-anon-mcp[audit]'" in lines[0] and "torch" in lines[0]


def test_model_card_carries_the_audit_figures(report_with, world, tmp_path):
    """`card --model-card --audit-report R`: the audit's figures under the card's privacy section, at the
    section's heading depth, no raw value; a file that is no audit report is a one-line error, exit 2."""
    report = tmp_path / "audit.json"
    report.write_text(report_with.model_dump_json())
    card = tmp_path / "README.md"
    done = subprocess.run([EXE, "card", "--model-card", "--card", str(card), "--audit-report", str(report)],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    text = card.read_text()
    assert "Leak audit of the fine-tuned model" in text and report_with.report_id in text
    assert f"{report_with.membership.auc:.2f}" in text and "seen 16x" in text
    heading = next(line for line in text.splitlines() if "Leak audit of the fine-tuned model" in line)
    section = next(line for line in text.splitlines() if line.lstrip("#").strip() == "Privacy and personal data")
    assert len(heading) - len(heading.lstrip("#")) == len(section) - len(section.lstrip("#")) + 1
    _assert_clean(text + done.stdout + done.stderr, world)
    bad = subprocess.run([EXE, "card", "--model-card", "--card", str(card), "--audit-report", str(world["canaries"])],
                         capture_output=True, text=True, timeout=300)
    assert bad.returncode == 2 and "not an audit report" in bad.stderr
    assert len(bad.stderr.strip().splitlines()) == 1 and "audit report" in bad.stderr, bad.stderr


def test_mcp_card_tool_takes_the_audit_report_id(report_with, world, tmp_path):
    """Over MCP the card tool takes `audit_report_id` (flat, like the other report ids) from the server's store."""
    import anyio
    from mcp import Client

    from hf_anon_mcp.config import Settings
    from hf_anon_mcp.reports import ReportStore
    from hf_anon_mcp.server import build_server

    ReportStore(tmp_path / ".reports").save(report_with)
    server = build_server(Settings(reports_dir=tmp_path / ".reports"), roots=[tmp_path])

    async def go():
        async with Client(server) as client:
            ok = await client.call_tool("write_model_card_privacy_section", {
                "card_path": "MODEL_CARD.md", "card_type": "model", "audit_report_id": report_with.report_id})
            bad = await client.call_tool("write_model_card_privacy_section", {
                "card_path": "MODEL_CARD.md", "card_type": "model", "audit_report_id": "audit-000000000000"})
            return ok, bad
    ok, bad = anyio.run(go)
    assert not ok.is_error, ok.content[0].text
    assert "Leak audit of the fine-tuned model" in ok.structured_content["section_markdown"]
    assert "seen 16x" in (tmp_path / "MODEL_CARD.md").read_text()
    _assert_clean((tmp_path / "MODEL_CARD.md").read_text() + json.dumps(ok.structured_content), world)
    said = bad.content[0].text
    assert bad.is_error and ("audit_report_id" in said or "audit-000000000000" in said), said
