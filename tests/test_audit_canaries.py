"""Canary generation, planting and the canary file: pure functions, no model."""

from __future__ import annotations

import json
import os
import stat
from collections import Counter

import pytest

from hf_anon_mcp.audit.canaries import (DEFAULT_FORMAT, CanaryFile, CanaryPlanter, canary_path_for, fill,
                                        format_prefix, is_canary_file, make_canaries, plant_canaries,
                                        random_values, read_canary_file, value_of, write_canary_file)
from hf_anon_mcp.engine.analyzer import EngineConfig
from hf_anon_mcp.engine.detect import find_in_texts
from hf_anon_mcp.errors import InputError

pytestmark = pytest.mark.audit


def _rows(n: int) -> list[dict]:
    return [{"id": i, "text": f"Row {i} says hello. It has two sentences! And a third.", "score": i * 0.5}
            for i in range(n)]


def test_format_helpers():
    assert format_prefix(DEFAULT_FORMAT) == "my account pin is"
    assert value_of(DEFAULT_FORMAT, 482913) == "482-913"
    assert value_of(DEFAULT_FORMAT, 7) == "000-007"
    assert fill(DEFAULT_FORMAT, "482-913") == "my account pin is 482-913"
    assert fill("pin: ####, ok", "1234") == "pin: 1234, ok"


def test_random_values_are_distinct_and_avoid_excluded():
    import random

    values = random_values("code ####", 9000, random.Random(1), exclude=["0000", "1234"])
    assert len(values) == len(set(values)) == 9000
    assert "0000" not in values and "1234" not in values
    with pytest.raises(InputError):
        random_values("code ####", 9999, random.Random(1), exclude=["0000", "1111"])


def test_make_canaries_round_robin_repetitions_and_controls():
    plan = make_canaries(7, seed=3, text_column="text")
    assert [c.repetitions for c in plan.canaries] == [1, 4, 16, 1, 4, 16, 1]
    assert plan.rows_inserted == 1 + 4 + 16 + 1 + 4 + 16 + 1
    assert len(plan.controls) == 7
    values = [c.value for c in plan.canaries] + [c.value for c in plan.controls]
    assert len(set(values)) == 14
    assert make_canaries(7, seed=3, text_column="text").canaries == plan.canaries  # seeded: reproducible
    assert make_canaries(7, text_column="text").canaries != plan.canaries  # unseeded: from `secrets`
    custom = make_canaries(2, repetitions=[2, 8], fmt="the door code is ####", seed=1)
    assert [c.repetitions for c in custom.canaries] == [2, 8]
    for bad in (dict(n=0), dict(n=2, repetitions=[0]), dict(n=2, fmt="no digits here"), dict(n=2, fmt="## only")):
        with pytest.raises(InputError):
            make_canaries(**bad)


def test_default_canaries_are_not_pii_to_our_detector():
    """Planted rows must not make the anonymize verification or the pre-push scan report residual PII."""
    plan = make_canaries(60, seed=11)
    texts = [plan.sentence(c.value) for c in plan.canaries + plan.controls]
    assert not any(find_in_texts(texts, EngineConfig(patterns_only=True)))


def test_planting_inserts_each_canary_its_repetitions_spread_over_the_data():
    plan = make_canaries(6, seed=5, text_column="text")
    rows = _rows(1000)
    out = list(plant_canaries(rows, plan, text_column="text", total_rows=len(rows), seed=9))
    assert len(out) == 1000 + plan.rows_inserted
    real = [r for r in out if "pin is" not in r["text"]]
    assert real == rows  # the real rows, unchanged and in order
    where = {c.value: [i for i, r in enumerate(out) if c.value in r["text"]] for c in plan.canaries}
    for c in plan.canaries:
        assert len(where[c.value]) == c.repetitions
    assert not any(ctl.value in r["text"] for ctl in plan.controls for r in out)
    positions = sorted(i for idx in where.values() for i in idx)
    assert positions[0] < 100 and positions[-1] > 900  # spread over the whole file, not bunched
    sixteen = where[plan.canaries[2].value]
    assert max(sixteen) - min(sixteen) > 500
    # deterministic from the seed
    again = list(plant_canaries(rows, plan, text_column="text", total_rows=len(rows), seed=9))
    assert again == out
    assert list(plant_canaries(rows, plan, text_column="text", total_rows=len(rows), seed=10)) != out


def test_canary_rows_copy_their_neighbour_and_frame_the_sentence():
    plan = make_canaries(3, seed=2, text_column="text")
    rows = _rows(50)
    out = list(plant_canaries(rows, plan, text_column="text", total_rows=50, seed=4))
    for i, row in enumerate(out):
        if "pin is" not in row["text"]:
            continue
        donor = out[i + 1] if i + 1 < len(out) else out[i - 1]
        assert row["id"] == donor["id"] and row["score"] == donor["score"]
        value = next(c.value for c in plan.canaries if c.value in row["text"])
        sentence = plan.sentence(value)
        assert sentence + "." in row["text"]
        rest = row["text"].replace(" " + sentence + ".", "").replace(sentence + ". ", "")
        assert rest == donor["text"]  # the donor's own text around it, nothing else


def test_nested_cells_keep_their_structure():
    plan = make_canaries(1, repetitions=[3], seed=1)
    chat = [{"role": "user", "content": "My order is late. What now?"}, {"role": "assistant", "content": "Sorry!"}]
    out = list(plant_canaries([{"messages": chat}] * 4, plan, text_column="messages", total_rows=4, seed=1))
    planted = [r for r in out if any("pin is" in m["content"] for m in r["messages"])]
    assert len(planted) == 3
    for row in planted:
        assert [m["role"] for m in row["messages"]] == ["user", "assistant"]
        assert row["messages"][1]["content"] == "Sorry!"
        assert plan.canaries[0].value in row["messages"][0]["content"]
    assert chat[0]["content"] == "My order is late. What now?"  # the input is never modified


def test_batches_give_the_same_rows_as_the_row_stream():
    plan = make_canaries(4, seed=8, text_column="text")
    rows = _rows(300)
    expected = list(plant_canaries(rows, plan, text_column="text", total_rows=300, seed=6))
    planter = CanaryPlanter(plan, text_column="text", total_rows=300, seed=6)
    got: list[dict] = []
    for start in range(0, 300, 64):
        batch = {k: [r[k] for r in rows[start: start + 64]] for k in ("id", "text", "score")}
        out = planter.batch(batch)
        got += [dict(zip(out, vals)) for vals in zip(*out.values())]
    tail = planter.finish_batch(["id", "text", "score"])
    if tail:
        got += [dict(zip(tail, vals)) for vals in zip(*tail.values())]
    assert got == expected
    assert planter.inserted == plan.rows_inserted


def test_unknown_size_and_short_streams_still_plant_everything():
    plan = make_canaries(3, seed=1, text_column="text")
    out = list(plant_canaries(_rows(30), plan, text_column="text", total_rows=None, seed=1))
    assert sum("pin is" in r["text"] for r in out) == plan.rows_inserted
    # fewer rows than announced: what is left goes at the end
    out = list(plant_canaries(_rows(10), plan, text_column="text", total_rows=1000, seed=1))
    assert sum("pin is" in r["text"] for r in out) == plan.rows_inserted
    with pytest.raises(InputError):
        list(plant_canaries([], plan, text_column="text", total_rows=0, seed=1))
    with pytest.raises(InputError, match="no column"):
        list(plant_canaries(_rows(30), plan, text_column="body", total_rows=30, seed=1))


def test_canary_file_is_private_atomic_and_round_trips(tmp_path):
    plan = make_canaries(3, seed=1, text_column="text")
    path = canary_path_for(tmp_path / "out.parquet")
    assert path.name == "out.parquet.canaries.json" and is_canary_file(path)
    assert is_canary_file(canary_path_for(tmp_path / "folder")) and not is_canary_file(tmp_path / "out.json")
    old = os.umask(0o000)  # even a permissive umask gets 0600
    try:
        write_canary_file(plan, path)
    finally:
        os.umask(old)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert [p.name for p in tmp_path.iterdir()] == [path.name]  # no temp file left
    loaded = read_canary_file(path)
    assert loaded == plan
    data = json.loads(path.read_text())
    assert data["format"] == DEFAULT_FORMAT and data["canaries"][0]["repetitions"] == 1


def test_bad_canary_files_are_one_line_errors_without_values(tmp_path):
    plan = make_canaries(2, seed=1)
    with pytest.raises(InputError, match="not found"):
        read_canary_file(tmp_path / "missing.canaries.json")
    broken = tmp_path / "broken.canaries.json"
    broken.write_text("{not json")
    with pytest.raises(InputError, match="not readable JSON"):
        read_canary_file(broken)
    wrong = tmp_path / "wrong.canaries.json"
    data = json.loads(plan.model_dump_json())
    data["controls"][0]["value"] = data["canaries"][0]["value"]  # duplicate value
    data["canaries"][1]["value"] = "12345678"  # wrong shape
    wrong.write_text(json.dumps(data))
    with pytest.raises(InputError) as err:
        read_canary_file(wrong)
    message = str(err.value)
    assert "\n" not in message
    assert not any(c.value in message for c in plan.canaries + plan.controls) and "12345678" not in message
    with pytest.raises(ValueError):
        CanaryFile(format=DEFAULT_FORMAT, canaries=[], controls=[{"id": "a", "value": "1-2"}])
    assert Counter(c.repetitions for c in make_canaries(9, seed=1).canaries) == {1: 3, 4: 3, 16: 3}
