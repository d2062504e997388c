"""Faults: a killed run, two runs racing for one output, random policy documents. Nothing lost, nothing torn."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import PII_DEV
from hf_anon_mcp.errors import PolicyError
from hf_anon_mcp.policy import AnonymizationPolicy, OperatorName, parse_policy

CLI = [sys.executable, "-m", "hf_anon_mcp.cli"]
ENV = {**os.environ, "HF_HUB_OFFLINE": "1"}


def _anonymize(out: Path, *extra: str) -> subprocess.Popen:
    return subprocess.Popen([*CLI, "anonymize", str(PII_DEV), "--out", str(out), "--columns", "text",
                             "--patterns-only", "--no-verify", "--overwrite", "--batch-size", "10", *extra],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=ENV)


def _temps(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if ".hfanon-" in p.name)


def test_sigkill_mid_run_keeps_previous_output_and_next_run_sweeps_temporaries(tmp_path):
    out = tmp_path / "x.jsonl"
    out.write_text('{"id": "previous"}\n')
    proc = _anonymize(out)
    deadline = time.time() + 120
    while not _temps(tmp_path) and time.time() < deadline and proc.poll() is None:
        time.sleep(0.05)
    time.sleep(0.3)  # let it write a few batches
    assert proc.poll() is None, "the run ended before it could be killed"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert out.read_text() == '{"id": "previous"}\n'  # previous output intact
    assert _temps(tmp_path), "a killed run leaves its temporary behind (nothing else can remove it)"
    again = _anonymize(out)
    assert again.wait(timeout=300) == 0, again.stderr.read()[-1000:]
    assert _temps(tmp_path) == []  # the next run swept it
    assert len(out.read_text().splitlines()) == 754


def test_two_runs_writing_one_output_never_tear_it(tmp_path):
    out = tmp_path / "same.jsonl"
    runs = [_anonymize(out, "--operator", "redact"), _anonymize(out, "--operator", "placeholder")]
    assert [r.wait(timeout=300) for r in runs] == [0, 0], [r.stderr.read()[-500:] for r in runs]
    refs = [_anonymize(tmp_path / "ref-redact.jsonl", "--operator", "redact"),
            _anonymize(tmp_path / "ref-placeholder.jsonl", "--operator", "placeholder")]
    assert [r.wait(timeout=300) for r in refs] == [0, 0]
    final = out.read_text()
    assert len(final.splitlines()) == 754
    assert final in ((tmp_path / "ref-redact.jsonl").read_text(), (tmp_path / "ref-placeholder.jsonl").read_text())
    assert _temps(tmp_path) == []


# ---- fuzzing the policy parser ------------------------------------------------------------------------------

operators = st.sampled_from([o.value for o in OperatorName] + ["shred", "", "MASK", 3, None])
entities = st.sampled_from(["PERSON", "EMAIL_ADDRESS", "SECRET_HF_TOKEN", "PERSN", "", "US_SSN", "x"])
values = st.recursive(st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.text(max_size=8)),
                      lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
                      max_leaves=6)
policies = st.fixed_dictionaries({}, optional={
    "default_operator": operators | st.fixed_dictionaries({"operator": operators}),
    "entity_operators": st.dictionaries(entities, operators, max_size=3),
    "columns": st.dictionaries(st.text(max_size=6), st.sampled_from(["drop", "keep", "entity", "scan", "burn"])
                               | st.fixed_dictionaries({"action": st.just("entity"), "entity": entities}),
                               max_size=3),
    "allow_list": st.lists(st.text(max_size=6), max_size=3) | values,
    "score_threshold": st.floats(-1, 2, allow_nan=False) | values,
    "entities": st.lists(entities, max_size=3) | values,
    "hash_salt": st.text(max_size=20) | st.none(),
    "unexpected": values,
})


@settings(max_examples=300, deadline=None)
@given(policies)
def test_random_policies_parse_or_fail_with_a_policy_error(document):
    try:
        policy = parse_policy(document)
    except PolicyError as err:
        assert str(err).startswith("policy: invalid policy at") or "mapping" in str(err)
        assert "\n" not in str(err)
        return
    assert isinstance(policy, AnonymizationPolicy)
    for entity, spec in policy.entity_operators.items():
        assert not (entity.startswith("SECRET_") and spec.operator is OperatorName.keep)
    assert policy.operator_for("SECRET_HF_TOKEN").operator is not OperatorName.keep


@settings(max_examples=200, deadline=None)
@given(values)
def test_any_json_value_as_policy_is_valid_or_a_policy_error(document):
    try:
        parse_policy(document)
    except PolicyError:
        pass
