"""The issue-19 benchmark's own checks: the generator's truth is complete and consistent, and the scorer tells a
perfect anonymizer from a leaky or destructive one. A few hundred rows, no CLI run."""

from __future__ import annotations

import csv
import importlib.util
import json
import re
import sys
from pathlib import Path

import phonenumbers
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

BENCH = Path(__file__).resolve().parents[1] / "bench"


def _load(name: str):
    spec = importlib.util.spec_from_file_location(name, BENCH / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up by name
    spec.loader.exec_module(module)
    return module


gen = _load("finetune_gen")
score_mod = _load("finetune_score")

ROWS = 300


@pytest.fixture(scope="module")
def data(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("ft")
    gen.write(out, ROWS, seed=11)
    return out


def _rows(data: Path, fmt: str) -> list[dict]:
    return score_mod.read_rows(data / gen.FILES[fmt])


def _truth(data: Path, fmt: str) -> list[dict]:
    return [json.loads(line) for line in (data / f"{fmt}.truth.jsonl").read_text(encoding="utf-8").splitlines()]


def _write_like(original: Path, out: Path, rows: list[dict]) -> None:
    """Write rows the way the CLI would: same format as the path's suffix."""
    if out.suffix == ".csv":
        with out.open("w", encoding="utf-8", newline="") as fh:
            writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
            writer.writeheader()
            writer.writerows(rows)
    elif out.suffix == ".jsonl":
        out.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    else:
        pq.write_table(pa.Table.from_pylist(rows, schema=pq.read_schema(original)), out)


def _set_cell(row: dict, loc: str, value: str) -> None:
    head, *rest = loc.split(".")
    if rest:
        row[head][int(rest[0])][rest[1]] = value
    else:
        row[head] = value


def _oracle(data: Path, out_dir: Path, *, spare=lambda entry: False) -> Path:
    """A perfect anonymizer built from the truth: every PII span becomes `<TYPE>` (unless `spare` keeps it)."""
    out_dir.mkdir(exist_ok=True)
    for fmt in gen.FORMATS:
        rows, truth = _rows(data, fmt), _truth(data, fmt)
        for row, t in zip(rows, truth):
            for loc, spans in t["cells"].items():
                text = score_mod.cell_at(row, loc)
                for s in sorted(spans, key=lambda s: -s["start"]):
                    if not spare(s):
                        text = text[:s["start"]] + f"<{s['type']}>" + text[s["end"]:]
                _set_cell(row, loc, text)
        _write_like(data / gen.FILES[fmt], out_dir / gen.FILES[fmt], rows)
    return out_dir


def test_generation_is_deterministic_and_seed_dependent(tmp_path):
    a, b, c = tmp_path / "a", tmp_path / "b", tmp_path / "c"
    gen.write(a, 40, seed=3)
    gen.write(b, 40, seed=3)
    gen.write(c, 40, seed=4)
    for name in list(gen.FILES.values()) + [f"{f}.truth.jsonl" for f in gen.FORMATS]:
        assert (a / name).read_bytes() == (b / name).read_bytes(), name
    assert (a / "tickets.csv").read_bytes() != (c / "tickets.csv").read_bytes()


def test_truth_spans_point_at_their_values(data):
    for fmt in gen.FORMATS:
        for row, t in zip(_rows(data, fmt), _truth(data, fmt)):
            for loc, spans in t["cells"].items():
                text = score_mod.cell_at(row, loc)
                for s in spans:
                    assert text[s["start"]:s["end"]] == s["value"], (fmt, t["row"], loc)
                    runs = score_mod.digit_runs(text)  # the scorer finds each value in its original cell
                    assert any(n.found_in(text, runs) for n in score_mod.needles(s)), (fmt, t["row"], loc)


def test_truth_is_complete_a_perfect_anonymizer_passes_every_target(data, tmp_path):
    result = score_mod.score(data, [_oracle(data, tmp_path / "oracle")])
    overall = result["overall"]
    assert overall["rows_with_identifiers"] > ROWS  # tickets alone have one per row
    assert overall["rows_leaking"] == 0, overall["leaks_by_kind"]
    assert overall["secrets"] > 0 and overall["secrets_left"] == 0
    assert overall["pii_free_words_lost"] == 0 and overall["pii_rows_other_words_lost"] == 0
    assert overall["structured_cells"] == 3 * ROWS and overall["structured_cells_not_replaced"] == 0
    assert all(t["pass"] is not False for t in result["targets"]), result["targets"]


def test_the_original_data_fails_every_leak_target(data):
    result = score_mod.score(data, [data])
    overall = result["overall"]
    assert overall["leak_share"] == 1.0
    assert overall["secrets_left"] == overall["secrets"] > 0
    assert overall["structured_cells_unchanged"] == overall["structured_cells"]
    assert overall["protected_cells_changed"] == 0 and overall["chat_rows_broken"] == 0
    failed = {t["key"] for t in result["targets"] if t["pass"] is False}
    assert failed == {"leak_share", "structured_cells_not_replaced", "secrets_left"}


def test_a_first_name_left_alone_counts_as_a_leak(data, tmp_path):
    """Replacing full names but not the lone first name ("Thanks Roman!") leaks that row."""
    out = _oracle(data, tmp_path / "partial", spare=lambda s: s["type"] == "PERSON" and s["form"] == "first")
    result = score_mod.score(data, [out])
    spared = sum(1 for fmt in gen.FORMATS for t in _truth(data, fmt)
                 if any(s["form"] == "first" and len(s["value"]) >= 3 for spans in t["cells"].values()
                        for s in spans if s["type"] == "PERSON"))
    assert spared > 10
    assert result["overall"]["leaks_by_kind"]["person_first"] == spared
    assert result["overall"]["rows_leaking"] == spared


def test_damage_to_ids_words_chats_and_secrets_is_counted(data, tmp_path):
    out = _oracle(data, tmp_path / "damaged")
    tickets = score_mod.read_rows(out / "tickets.csv")
    free = [i for i, t in enumerate(_truth(data, "tickets")) if t["pii_free"]]
    tickets[0]["sku"] = "<ORGANIZATION>"
    tickets[1]["ticket_id"] = "<ID>"
    words = tickets[free[0]]["body"].split()
    tickets[free[0]]["body"] = " ".join(["<PERSON>"] + words[1:])  # one word of a PII-free row lost
    _write_like(data / "tickets.csv", out / "tickets.csv", tickets)
    chats = score_mod.read_rows(out / "chats.jsonl")
    chats[0]["messages"] = chats[0]["messages"][:-1]
    chats[1]["messages"][-1]["role"] = "user" if chats[1]["messages"][-1]["role"] == "assistant" else "assistant"
    _write_like(data / "chats.jsonl", out / "chats.jsonl", chats)
    secret_row = next(t for t in _truth(data, "chats") if any(s["type"] == "SECRET" for v in t["cells"].values()
                                                               for s in v))
    original_chats = _rows(data, "chats")
    chats[secret_row["row"]] = original_chats[secret_row["row"]]  # one conversation left as it was
    _write_like(data / "chats.jsonl", out / "chats.jsonl", chats)

    result = score_mod.score(data, [out / "tickets.csv", out / "chats.jsonl"])
    t, c = result["formats"]["tickets"], result["formats"]["chats"]
    assert t["protected_changed_by_column"] == {"sku": 1, "ticket_id": 1}
    assert t["pii_free_words_lost"] == 1 and t["pii_free_rows_touched"] == 1
    assert c["chat_rows_broken"] == 2 - (secret_row["row"] in (0, 1))
    n_secrets = sum(1 for v in secret_row["cells"].values() for s in v if s["type"] == "SECRET")
    assert c["secrets_left"] == n_secrets
    assert result["missing_formats"] == ["instructions"]
    assert {x["key"]: x["pass"] for x in result["targets"]}["secrets_left"] is False


def test_entities_filter_checks_only_named_types_but_always_secrets(data):
    result = score_mod.score(data, [data], entities={"PERSON"})
    kinds = set(result["overall"]["leaks_by_kind"])
    assert kinds == {"person_full", "person_first", "person_last", "secret"}
    assert result["formats"]["tickets"]["structured_cells"] == ROWS  # only customer_name


def test_generated_data_has_the_shapes_the_issue_asks_for(data):
    tickets, truth = _rows(data, "tickets"), _truth(data, "tickets")
    ids = [r["ticket_id"] for r in tickets]
    assert len(set(ids)) == len(ids) and all(re.fullmatch(r"TCK-\d{6}", i) for i in ids)
    assert all(re.fullmatch(r"[A-Z]{3}-\d{4}-[A-Z]{2}", r["sku"]) for r in tickets)
    phones = [s for t in truth for s in t["cells"]["phone"]]
    invalid = [p for p in phones if not p["valid"]]
    assert 0.1 < len(invalid) / len(phones) < 0.35
    for p in phones:  # the flag agrees with phonenumbers itself
        parsed = score_mod.digit_runs(p["value"])
        assert any(p["digits"] in run for run in parsed)
    bodies = [s for t in truth for s in t["cells"].get("body", [])]
    forms = {s["form"] for s in bodies if s["type"] == "PERSON"}
    assert {"first", "upper", "lower", "full"} <= forms
    assert any(s.get("role") == "agent" for s in bodies)
    assert 0.2 < sum(t["pii_free"] for t in truth) / ROWS < 0.4
    top_product_share = max(sum(r["product"] == p for r in tickets) for p, _, _ in gen.PRODUCTS) / ROWS
    assert top_product_share > 0.15
    assert any("Mark as urgent" in r["body"] for r in tickets)
    chats = _rows(data, "chats")
    providers = {s["provider"] for t in _truth(data, "chats") for v in t["cells"].values() for s in v
                 if s["type"] == "SECRET"}
    assert providers == set(gen.SECRET_SLOTS)
    secrets = [s["value"] for t in _truth(data, "chats") for v in t["cells"].values() for s in v
               if s["type"] == "SECRET"]
    assert not [s for s in secrets if re.search(r"(.)\1{3}", s, re.I)]  # no fill runs that read as placeholders
    assert all(set(m) == {"role", "content"} for c in chats for m in c["messages"])
    for t in _truth(data, "chats"):  # secrets only in user messages
        for loc, spans in t["cells"].items():
            if any(s["type"] == "SECRET" for s in spans):
                assert chats[t["row"]]["messages"][int(loc.split(".")[1])]["role"] == "user"
    itruth = _truth(data, "instructions")
    assert 0.5 < sum(t["pii_free"] for t in itruth) / ROWS < 0.7
    cards = [s for t in itruth for v in t["cells"].values() for s in v if s["type"] == "CREDIT_CARD"]
    assert cards and all(gen.luhn_ok(c["value"]) for c in cards)
    assert any(s["type"] == "DATE_OF_BIRTH" for t in itruth for v in t["cells"].values() for s in v)


def test_phone_validity_flag_matches_phonenumbers():
    import random

    rng = random.Random(5)
    for want in (True, False) * 20:
        p = gen.phone(rng, want)
        assert p.valid is want
        assert phonenumbers.is_valid_number(phonenumbers.parse(f"+{p.cc}{p.core}")) is want
        assert all(re.search(r"\D", r) for r in p.renders)  # never a bare digit string (CSV would make it a number)


def test_cli_faces_report_errors_in_one_line(tmp_path, capsys):
    assert score_mod.main([str(tmp_path), str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: no manifest.json") and err.count("\n") == 1
