"""Dataset-aware anonymization on small generated datasets, through the real engine (spaCy + Presidio + rules):
column types, frequent terms, propagation, one fake per person, policies, chats, URLs, verification."""

from __future__ import annotations

import csv
import json
import random
from pathlib import Path

import pytest

from hf_anon_mcp.decisions.headers import header_hint
from hf_anon_mcp.decisions.stats import ColumnStats, shape
from hf_anon_mcp.decisions.surrogates import person_surrogate
from hf_anon_mcp.decisions.verify import sample_size, wilson
from hf_anon_mcp.errors import InputError
from hf_anon_mcp.models import AnonymizeRequest, ScanRequest
from hf_anon_mcp.workflow.anonymize import anonymize
from hf_anon_mcp.workflow.scan import scan

FIRST = ["Roman", "Ingrid", "Tadeusz", "Oluwaseun", "Maren", "Gustavo", "Hyejin", "Bartholomew", "Svetlana", "Ayodele",
         "Leopold", "Marisol", "Kasimir", "Thandiwe", "Evander", "Priyanka"]
LAST = ["Novak", "Halvorsen", "Wojcik", "Adeyemi", "Lindqvist", "Carvalho", "Kwon", "Pemberton", "Volkova", "Okafor",
        "Brandauer", "Quintero", "Zielinski", "Mbeki", "Castellano", "Raghunathan"]
PRODUCTS = ["Quillfeather Pro", "Brightwave Hub", "Corvid Sensor", "Lumen Dock"]
PHRASES = ["Mark as urgent.", "Escalate to tier two.", "Closing as resolved."]


def _tickets(path: Path, n: int = 160, seed: int = 7) -> list[dict]:
    rng = random.Random(seed)
    rows = []
    for i in range(n):
        first, last = FIRST[i % len(FIRST)], LAST[(i * 7) % len(LAST)]
        product = rng.choice(PRODUCTS)
        phone = f"+1 415 555 {rng.randint(1000, 9999)}" if i % 3 else f"0{rng.randint(10, 99)}-{rng.randint(10, 99)}"
        body = rng.choice([
            f"Hello, this is {first} {last}. My {product} will not pair since Monday. {rng.choice(PHRASES)}",
            f"Thanks {first}! The {product} firmware fixed it. {rng.choice(PHRASES)}",
            f"The {product} is overheating after the update. {rng.choice(PHRASES)}",
            f"Customer reports the {product} drops the connection every hour. {rng.choice(PHRASES)}",
        ])
        rows.append({"ticket_id": f"TCK-{100000 + i}", "customer_name": f"{first} {last}",
                     "phone": phone, "product": product, "priority": rng.choice(["low", "normal", "high"]),
                     "created_at": f"2026-0{1 + i % 9}-1{i % 10} 0{i % 10}:1{i % 6}:00", "body": body})
    _write_csv(path, rows)
    return rows


def _write_csv(path: Path, rows: list[dict]) -> None:
    with path.open("w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


def _read(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


@pytest.fixture(scope="module")
def tickets(tmp_path_factory):
    folder = tmp_path_factory.mktemp("tickets")
    src = folder / "tickets.csv"
    rows = _tickets(src)
    out = folder / "out.jsonl"
    report = anonymize(AnonymizeRequest(source=str(src), output=str(out), operator="surrogate", num_proc=1))
    return rows, _read(out), report


def test_column_types_from_the_whole_column(tickets):
    _, _, report = tickets
    kinds = {d.column: (d.kind, d.entity) for d in report.column_decisions}
    assert kinds["ticket_id"] == ("identifier", None)
    assert kinds["customer_name"] == ("structured_pii", "PERSON")
    assert kinds["phone"] == ("structured_pii", "PHONE_NUMBER")
    assert kinds["product"][0] == kinds["priority"][0] == "categorical"
    assert kinds["created_at"][0] == "timestamp"
    assert kinds["body"][0] == "free_text"
    assert all(d.reason for d in report.column_decisions)


def test_ids_labels_and_timestamps_untouched_and_structured_pii_replaced_in_every_cell(tickets):
    rows, out, _ = tickets
    for key in ("ticket_id", "product", "priority", "created_at"):
        assert [str(r[key]) for r in rows] == [str(o[key]) for o in out], key
    assert all(o["customer_name"] != r["customer_name"] for r, o in zip(rows, out))
    # phones that fail validation (a third of them) are replaced too, because the column is a phone column
    assert all(o["phone"] != r["phone"] for r, o in zip(rows, out))


def test_no_name_part_survives_anywhere(tickets):
    rows, out, report = tickets
    text = json.dumps(out).lower()
    for first in FIRST:
        assert f" {first.lower()}" not in text and f"{first.lower()}!" not in text, first
    for last in LAST:
        assert last.lower() not in text, last
    assert report.verification is not None and report.verification.propagation_survivors == 0


def test_frequent_products_and_template_phrases_are_kept(tickets):
    rows, out, report = tickets
    for r, o in zip(rows, out):
        for phrase in PHRASES:
            if phrase in r["body"]:
                assert phrase in o["body"]
        assert r["product"] in o["body"]
    pii_free = [(r, o) for r, o in zip(rows, out) if r["body"].startswith(("The ", "Customer"))]
    assert pii_free and all(r["body"] == o["body"] for r, o in pii_free)
    assert report.kept_frequent_terms and all(t.term is None for t in report.kept_frequent_terms)


def test_one_fake_per_person_everywhere(tickets):
    rows, out, _ = tickets
    for r, o in zip(rows, out):
        first = r["customer_name"].split()[0]
        fake_first = o["customer_name"].split()[0]
        if r["body"].startswith(f"Thanks {first}!"):
            assert o["body"].startswith(f"Thanks {fake_first}!")
        if f"this is {r['customer_name']}." in r["body"]:
            assert f"this is {o['customer_name']}." in o["body"]


def test_person_surrogate_family_and_case():
    persons = {"roman novak": "roman novak", "roman": "roman novak", "novak": "roman novak"}
    full = person_surrogate("Roman Novak", persons, b"k" * 32, "en_US")
    first, last = full.split()
    assert person_surrogate("Roman", persons, b"k" * 32, "en_US") == first
    assert person_surrogate("NOVAK", persons, b"k" * 32, "en_US") == last.upper()
    assert person_surrogate("R. Novak", persons, b"k" * 32, "en_US") == f"{first[0]}. {last}"
    assert "roman" not in full.lower() and "novak" not in full.lower()


def test_secrets_replaced_under_a_policy_that_names_only_two_types(tmp_path):
    src = tmp_path / "chat.jsonl"
    key = "sk_live_" + "4eC39HqLyjWDarjtT1zdp7dc9X"
    rows = [{"messages": [{"role": "system", "content": "You are a support bot."},
                          {"role": "user", "content": f"My key is {key} and my mail is maren.lindqvist@example.org"},
                          {"role": "assistant", "content": "Please rotate that key now, Maren."}]}] * 3
    src.write_text("".join(json.dumps(r) + "\n" for r in rows))
    out = tmp_path / "out.jsonl"
    report = anonymize(AnonymizeRequest(source=str(src), output=str(out), entities=["PERSON", "EMAIL_ADDRESS"]))
    got = _read(out)
    assert key not in out.read_text() and "maren.lindqvist" not in out.read_text()
    assert [[m["role"] for m in r["messages"]] for r in got] == [["system", "user", "assistant"]] * 3
    assert got[0]["messages"][0] == rows[0]["messages"][0]
    assert any(s.entity_type.startswith("SECRET_") for s in report.replaced)
    kept = tmp_path / "kept.jsonl"
    report = anonymize(AnonymizeRequest(source=str(src), output=str(kept), policy={"keep_secrets": True}))
    assert key in kept.read_text() and report.secrets_kept


def test_allow_list_inside_a_longer_span_and_urls_whole(tmp_path):
    src = tmp_path / "notes.jsonl"
    rows = [{"text": "Ingrid Halvorsen from Acme Support called; see https://social.example.com/in/ingrid-halvorsen "
                     "and the docs at https://docs.example.com/setup/guide."}] * 2
    src.write_text("".join(json.dumps(r) + "\n" for r in rows))
    out = tmp_path / "out.jsonl"
    anonymize(AnonymizeRequest(source=str(src), output=str(out), policy={"allow_list": ["Acme Support"]}))
    text = _read(out)[0]["text"]
    assert "Acme Support" in text and "Halvorsen" not in text
    assert "https://docs.example.com/setup/guide" in text  # generic URL kept by the default policy
    assert "social.example" not in text and "ingrid" not in text.lower()  # personal URL replaced whole


def test_strict_replaces_quasi_identifiers_default_keeps_them(tmp_path):
    src = tmp_path / "q.jsonl"
    src.write_text(json.dumps({"text": "Tadeusz Wojcik moved to Lisbon and works at Globex Corporation."}) + "\n")
    default, strict = tmp_path / "d.jsonl", tmp_path / "s.jsonl"
    anonymize(AnonymizeRequest(source=str(src), output=str(default)))
    anonymize(AnonymizeRequest(source=str(src), output=str(strict), policy="strict"))
    assert "Lisbon" in default.read_text() and "Wojcik" not in default.read_text()
    assert "Lisbon" not in strict.read_text()


def test_verdict_never_says_none(tickets):
    _, _, report = tickets
    assert report.residual_risk.value != "none"
    assert "none" not in report.verification.verdict.lower().split()
    assert report.verification.verdict


def test_scan_reports_decisions_and_no_advice_to_anonymize_ids(tmp_path):
    src = tmp_path / "tickets.csv"
    _tickets(src, n=80)
    report = scan(ScanRequest(source=str(src)))
    kinds = {d.column: d.kind for d in report.column_decisions}
    assert kinds["ticket_id"] == "identifier"
    assert not any(r.startswith("anonymize column `ticket_id`") for r in report.recommendations)
    assert any("`ticket_id`" in r and r.startswith("kept as they are") for r in report.recommendations)
    assert report.propagation_candidates > 0


def test_statistics_helpers():
    assert shape("ORD-468539") == "A-9" and shape("Jo Li") == "Aa Aa"
    col = ColumnStats("x")
    for i in range(50):
        col.add(f"SKU-{i:04d}", [])
    assert col.uniqueness == 1.0 and col.dominant_shape() == ("A-9", 1.0)
    assert header_hint("customer_name") == "PERSON" and header_hint("product_name") is None
    assert header_hint("ticket_id") is None and header_hint("date_of_birth") == "DATE_OF_BIRTH"
    assert header_hint("phoneNumber") == "PHONE_NUMBER" and header_hint("user_id") is None


def test_wilson_and_sample_size_hand_computed():
    lo, hi = wilson(0, 100)
    assert lo == 0.0 and abs(hi - 0.03699) < 1e-4  # z^2/(n+z^2) = 3.8415/103.8415
    lo, hi = wilson(5, 100)
    assert abs(lo - 0.02154) < 1e-4 and abs(hi - 0.11175) < 1e-4
    assert sample_size(10) == 10 and sample_size(10_000_000) == 2401
    assert sample_size(20_000) < 2401


def test_canaries_planted_after_replacement_and_only_counted_in_the_report(tmp_path):
    src = tmp_path / "tickets.csv"
    _tickets(src, n=60)
    out = tmp_path / "out.jsonl"
    report = anonymize(AnonymizeRequest(source=str(src), output=str(out), plant_canaries=2,
                                        canary_repetitions=[1, 4], verify="off"))
    canary_file = Path(report.canary_file)
    values = [c["value"] for c in json.loads(canary_file.read_text())["canaries"]]
    rows = _read(out)
    assert report.canaries_planted == 2 and report.canary_rows == 5 and len(rows) == 65 == report.rows_out
    text = out.read_text()
    assert sorted(text.count(v) for v in values) == [1, 4]  # planted verbatim: canaries are not anonymized
    assert oct(canary_file.stat().st_mode & 0o777) == "0o600"
    assert not any(v in report.model_dump_json() for v in values)


def test_ray_engine_gives_the_local_output_row_for_row(tmp_path, monkeypatch):
    """The same three passes on a local Ray (actor pools): same cells, same report counts, same verdict kind."""
    pytest.importorskip("ray")
    import pyarrow.parquet as pq

    monkeypatch.setenv("HF_ANON_MCP_SURROGATE_SECRET", "k" * 32)  # one key for both runs: the same fakes
    src = tmp_path / "tickets.csv"
    _tickets(src, n=120)
    local = anonymize(AnonymizeRequest(source=str(src), output=str(tmp_path / "local.parquet"), num_proc=1,
                                       operator="surrogate", verify="off"))
    ray = anonymize(AnonymizeRequest(source=str(src), output=str(tmp_path / "ray_out"), engine="ray",
                                     operator="surrogate", verify="off"))
    a = pq.read_table(tmp_path / "local.parquet").to_pylist()
    b = [row for shard in sorted((tmp_path / "ray_out").glob("*.parquet")) for row in pq.read_table(shard).to_pylist()]
    assert len(a) == len(b) == 120 and a == b
    assert local.replaced_totals() == ray.replaced_totals()
    assert [d.kind for d in local.column_decisions] == [d.kind for d in ray.column_decisions]


def test_ray_engine_takes_max_rows_and_plants_canaries(tmp_path, monkeypatch):
    """`max_rows` and `plant_canaries` on Ray as locally: the first rows only (JSON Lines cut mid-block, blank lines
    no rows), every canary planted verbatim, and the other rows those of the local run."""
    pytest.importorskip("ray")
    import pyarrow.parquet as pq

    monkeypatch.setenv("HF_ANON_MCP_SURROGATE_SECRET", "k" * 32)
    rows = _tickets(tmp_path / "unused.csv", n=150)
    src = tmp_path / "tickets.jsonl"
    src.write_text("".join(json.dumps(r) + ("\n\n" if i == 10 else "\n") for i, r in enumerate(rows)))
    local = anonymize(AnonymizeRequest(source=str(src), output=str(tmp_path / "local.parquet"), num_proc=1,
                                       max_rows=70, operator="surrogate", verify="off"))
    ray = anonymize(AnonymizeRequest(source=str(src), output=str(tmp_path / "ray_out"), engine="ray", max_rows=70,
                                     plant_canaries=2, canary_repetitions=[1, 3], canary_column="body",
                                     operator="surrogate", verify="off"))
    values = [c["value"] for c in json.loads(Path(ray.canary_file).read_text())["canaries"]]
    out = [row for shard in sorted((tmp_path / "ray_out").glob("*.parquet")) for row in pq.read_table(shard).to_pylist()]
    planted = [r for r in out if any(v in r["body"] for v in values)]
    assert sorted(sum(v in r["body"] for r in planted) for v in values) == [1, 3]
    assert len(out) == 74 == ray.rows_out and ray.canary_rows == 4
    assert [r for r in out if r not in planted] == pq.read_table(tmp_path / "local.parquet").to_pylist()
    assert local.rows_out == 70
    with pytest.raises(InputError, match="cannot go with `resume`"):
        anonymize(AnonymizeRequest(source=str(src), output=str(tmp_path / "again"), engine="ray", resume=True,
                                   plant_canaries=1, verify="off"))
    with pytest.raises(InputError, match="Parquet or JSON Lines"):
        anonymize(AnonymizeRequest(source=str(tmp_path / "unused.csv"), output=str(tmp_path / "csv_out"),
                                   engine="ray", max_rows=5, verify="off"))
    assert not (tmp_path / "again").exists() and not (tmp_path / "csv_out").exists()


def test_survivor_check_reads_text_columns_not_category_labels(tmp_path):
    """A customer surnamed like a product: the product label column keeps the word, and that is no survivor; the
    same word left in free text would be one."""
    src = tmp_path / "t.csv"
    rows = [{"customer_name": f"{FIRST[i % 16]} Maxwell" if i % 4 == 0 else f"{FIRST[i % 16]} {LAST[i % 16]}",
             "product": "Maxwell Soundbar" if i % 2 else "Lumen Dock",
             "body": f"The {'Maxwell Soundbar' if i % 2 else 'Lumen Dock'} hums at night. Mark as urgent."}
            for i in range(80)]
    _write_csv(src, rows)
    report = anonymize(AnonymizeRequest(source=str(src), output=str(tmp_path / "o.jsonl"), verify="off"))
    kinds = {d.column: d.kind for d in report.column_decisions}
    assert kinds["product"] == "categorical"
    out = _read(tmp_path / "o.jsonl")
    assert [o["product"] for o in out] == [r["product"] for r in rows]
    assert report.verification.propagation_survivors == 0


def test_popular_full_names_are_never_vocabulary_and_a_team_signature_is(tmp_path):
    """`Michael Smith` in 30 of 200 rows, beside towns and firms sharing its words (`Port Michael`, `Smith Group`):
    a person (WordNet lists `smith`; the rows of each word alone said nothing of the phrase). `Brightloom Tier 2`
    signing 100 rows is the team, kept, though the NER reads it as a name with a house number."""
    src = tmp_path / "t.jsonl"
    rows = []
    for i in range(200):
        body = [f"Ticket {i}: the parcel went via Port Michael and Smith Group handled it.",
                f"Customer Michael Smith asked for a refund on order {1000 + i}.",
                f"The courier lost parcel {i} near Lake Michael."][i % 3 if i < 90 else 2]
        if i % 2:
            body += "\nBrightloom Tier 2"
        rows.append({"text": body})
    src.write_text("".join(json.dumps(r) + "\n" for r in rows))
    out = tmp_path / "o.jsonl"
    report = anonymize(AnonymizeRequest(source=str(src), output=str(out), verify="off",
                                        include_raw_terms=True))
    text = out.read_text()
    assert "Michael Smith" not in text
    assert text.count("Brightloom Tier 2") == 100, [k.term for k in report.kept_frequent_terms]
    assert "michael smith" not in {k.term for k in report.kept_frequent_terms}


def test_a_first_name_after_an_apology_is_not_vocabulary(tmp_path):
    """Chats where the agent answers `Sorry <first name>,`: NER reads `Sorry Kwame` as the person, and that phrase
    recurred with each first name, so it looked like a template phrase and was kept, and the first name inside it
    with it (489 of 600 such generated chats kept it). The engine now cuts the apology off the person's span."""
    src = tmp_path / "chats.jsonl"
    firsts = ["Kwame", "Tobias", "Priya", "Jonas", "Beatriz", "Ingrid", "Mateo", "Amelia"]
    lasts = ["Okafor", "Lindqvist", "Ramanathan", "Duarte", "Kowalczyk", "Haddad", "Moreau", "Petrov"]
    rows = []
    for i in range(320):
        first, last = firsts[i % 8], lasts[(i // 8) % 8]
        rows.append({"messages": [
            {"role": "user", "content": f"Hello, I'm {first} {last}. My parcel for order #{10000 + i} is late."},
            {"role": "assistant", "content": f"Sorry {first}, I've marked order #{10000 + i} as urgent."}]})
    src.write_text("".join(json.dumps(r) + "\n" for r in rows))
    out = tmp_path / "o.jsonl"
    report = anonymize(AnonymizeRequest(source=str(src), output=str(out), verify="off", include_raw_terms=True))
    replies = [json.loads(line)["messages"][1]["content"] for line in out.read_text().splitlines()]
    left = [r for r in replies if any(f in r for f in firsts)]
    assert not left, (len(left), left[:3], [k.term for k in report.kept_frequent_terms])
    assert not any(k.term and k.term.startswith("sorry ") for k in report.kept_frequent_terms)
    assert all(f"#{10000 + i} as urgent" in r for i, r in enumerate(replies))  # the rest of the reply is kept


def test_sequential_sample_stops_when_the_interval_is_two_points_wide(tmp_path):
    from hf_anon_mcp.decisions.verify import FIRST_ROUND, enough

    assert not enough(0, FIRST_ROUND - 1) and not enough(200, FIRST_ROUND - 1)  # never before the first round
    assert enough(0, FIRST_ROUND)  # 0 of 400: Wilson (0, 0.95%), half-width 0.48 points
    assert enough(12, FIRST_ROUND)  # 3%: (1.7%, 5.2%), half-width 1.7 points
    assert enough(200, FIRST_ROUND)  # 50%: ±4.9 points, but wholly above the 2% line: the verdict is "review"
    assert not enough(3, FIRST_ROUND, margin=0.002)  # 0.75%: (0.26%, 2.2%), neither narrow nor above the line
    pytest.importorskip("onnxruntime")
    src = tmp_path / "clean.jsonl"
    src.write_text("".join(json.dumps({"text": f"Step {i}: restart the router and wait a minute."}) + "\n"
                           for i in range(3000)))
    report = anonymize(AnonymizeRequest(source=str(src), output=str(tmp_path / "o.jsonl")))
    v = report.verification
    assert v.sample_checked and v.sample_rows == FIRST_ROUND and v.sample_rows_with_direct == 0, v
    assert v.sample_ci95[1] < 0.01 and v.sample_seconds > 0


def test_survivor_check_skips_id_columns_kept_whole(tmp_path):
    """A number the engine replaced in free text (`Duplicate of TCK-...` read as a licence) that is also part of
    another row's ticket id: the id column is kept whole by decision, so that is no survivor."""
    src = tmp_path / "t.csv"
    rows = [{"ticket_id": f"TCK-{940200 + i}", "body": f"Closed. Duplicate of {940200 + (i + 1) % 60}, see notes."}
            for i in range(60)]
    _write_csv(src, rows)
    report = anonymize(AnonymizeRequest(source=str(src), output=str(tmp_path / "o.jsonl"), verify="off"))
    assert {d.column: d.kind for d in report.column_decisions}["ticket_id"] == "identifier"
    assert [o["ticket_id"] for o in _read(tmp_path / "o.jsonl")] == [r["ticket_id"] for r in rows]
    assert report.verification.propagation_survivors == 0


def test_a_long_lived_server_detects_the_same_data_once(tmp_path, monkeypatch):
    """With pools kept warm (the MCP server), a second anonymize of the same data takes every batch's findings from
    memory: the detect worker is not called again, and the output, counts and verdict are the same."""
    from hf_anon_mcp.decisions import detect as detect_module
    from hf_anon_mcp.runners.local import keep_pools_warm

    src = tmp_path / "t.csv"
    _tickets(src, n=90, seed=11)
    calls = []
    real = detect_module.DetectWorker.__call__
    monkeypatch.setattr(detect_module.DetectWorker, "__call__", lambda self, b: calls.append(1) or real(self, b))
    keep_pools_warm()
    try:
        req = dict(source=str(src), num_proc=1, verify="off", batch_size=32)
        first = anonymize(AnonymizeRequest(output=str(tmp_path / "a.jsonl"), **req))
        n_first = len(calls)
        second = anonymize(AnonymizeRequest(output=str(tmp_path / "b.jsonl"), **req))
    finally:
        keep_pools_warm(False)
    assert n_first == 3 and len(calls) == n_first  # 90 rows in batches of 32, none detected twice
    assert _read(tmp_path / "a.jsonl") == _read(tmp_path / "b.jsonl")
    assert first.replaced_totals() == second.replaced_totals()


def test_the_sample_check_reads_one_window_of_a_long_text():
    """A 50k-character text: one keyed window of ~10k characters (the same each time, cut at spaces), with our
    replacements' spans moved into it; short texts whole."""
    from hf_anon_mcp.decisions.verify import SAMPLE_CHARS, window

    text = " ".join(f"word{i}" for i in range(8000))
    inserted = [(i, i + 5) for i in range(0, len(text) - 5, 997)]
    part, moved = window(text, inserted)
    assert SAMPLE_CHARS <= len(part) <= SAMPLE_CHARS + 12 and part in text and window(text, inserted) == (part, moved)
    start = text.index(part)
    assert start == 0 or text[start - 1] == " "
    assert moved == [(max(0, a - start), min(start + len(part), b) - start) for a, b in inserted
                     if a < start + len(part) and b > start] and moved
    assert window("short text", [(0, 5)]) == ("short text", [(0, 5)])


def test_a_sample_of_many_long_rows_reads_smaller_windows_spread_over_the_workers():
    """267 sampled documents of 20k characters took 115 s of a 240 s command at 10k characters each: the window
    shrinks with the first round's rows (never below 1,500), tasks hold about 40k characters, and the verdict
    says long texts were read in part."""
    import json as _json

    from hf_anon_mcp.decisions import pipeline
    from hf_anon_mcp.decisions.verify import (SAMPLE_BUDGET, SAMPLE_CHARS, SAMPLE_MIN_CHARS, VerificationResult,
                                              sample_chars_for, verdict)

    assert sample_chars_for(1) == SAMPLE_CHARS and sample_chars_for(400) == max(SAMPLE_MIN_CHARS, SAMPLE_BUDGET // 400)
    assert sample_chars_for(267) < SAMPLE_CHARS and sample_chars_for(10_000) == SAMPLE_MIN_CHARS
    rows = [_json.dumps({"texts": ["word " * 4000], "inserted": [[]]}) for _ in range(267)]
    size = sample_chars_for(267)
    chunks = pipeline._sample_chunks(rows, size)
    assert [r for c in chunks for r in c] == rows and len(chunks) >= 267 * size // pipeline.SAMPLE_CHUNK_CHARS > 5
    assert all(len(c) * size <= pipeline.SAMPLE_CHUNK_CHARS for c in chunks)
    short = [_json.dumps({"texts": ["a short row"], "inserted": [[]]}) for _ in range(400)]
    assert [len(c) for c in pipeline._sample_chunks(short, sample_chars_for(400))] == [64] * 6 + [16]
    result = verdict(VerificationResult(sample_checked=True, sample_rows=267, sample_rows_with_direct=0,
                                        sample_ci95=(0.0, 0.01), sample_detector="x", sample_window_chars=size),
                     lambda e: True)
    assert f"longer than {size:,} characters were read in one random window" in result.verdict
