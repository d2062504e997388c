"""Batches sized by their text and worker counts by the data's size: a few long documents spread over the workers."""

from __future__ import annotations

import json

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from hf_anon_mcp.data.sources import by_size, expected_bytes, limited, open_source
from hf_anon_mcp.runners import local

from conftest import write_jsonl


def test_batches_are_cut_by_characters_never_inside_a_row():
    batch = {"id": list(range(6)), "text": ["a" * 100, "b" * 300, "c" * 50, "d" * 500, "e" * 10, "f" * 10],
             "chat": [[{"role": "user", "content": "x" * 100}]] * 6}
    parts = list(by_size([batch], ["text", "chat"], 400))
    # the chat turns count too: 200, 400, 150, 600, 110, 110 characters
    assert [p["id"] for p in parts] == [[0], [1], [2], [3], [4, 5]]
    assert all(set(p) == set(batch) and len(p["text"]) == len(p["chat"]) == len(p["id"]) for p in parts)
    assert [t for p in parts for t in p["text"]] == batch["text"]
    small = {"id": [0, 1], "text": ["a", "b"]}
    assert list(by_size([small], ["text"], 400)) == [small]


def test_long_rows_make_a_small_row_count_a_large_input(monkeypatch):
    monkeypatch.setattr(local.os, "cpu_count", lambda: 2)
    assert local.auto_workers(300, "balanced") == 1  # by rows alone: one process
    assert local.auto_workers(300, "balanced", size=6_000_000) == 2  # 300 documents of 20k characters
    assert local.auto_workers(300, "balanced", size=60_000) == 1
    assert local.auto_workers(None, "fast", size=50_000_000) == 2
    assert local.auto_workers(20_000, "fast", size=None) == 2


def test_the_data_size_is_read_from_the_files(tmp_path):
    rows = [{"id": i, "text": " ".join(f"parcel {i}-{j} never arrived at depot {j}" for j in range(40))}
            for i in range(50)]
    jsonl = write_jsonl(tmp_path / "docs.jsonl", rows)
    src = open_source(str(jsonl))
    assert src.bytes_total == jsonl.stat().st_size
    parquet = tmp_path / "docs.parquet"
    pq.write_table(pa.Table.from_pylist(rows), parquet)
    src = open_source(str(parquet))
    text_chars = sum(len(r["text"]) for r in rows)
    assert src.bytes_total >= text_chars > 2 * parquet.stat().st_size  # before compression, not the file's size
    _, expected = limited(src, max_rows=10)
    assert expected_bytes(src, expected) == src.bytes_total * 10 // 50


def test_cutting_batches_by_size_changes_nothing_in_the_output(tmp_path, monkeypatch):
    from hf_anon_mcp.models import AnonymizeRequest
    from hf_anon_mcp.workflow import anonymize as workflow

    people = ["Marisol Quintanilla", "Thaddeus Okonkwo", "Ingrid Vasquez-Holm", "Kwame Mensah"]
    docs = [{"id": i, "text": "\n\n".join(
        f"Ticket {i}-{j}: {people[(i + j) % 4]} wrote from {people[(i + j) % 4].split()[0].lower()}{j}@example.org "
        f"and asked us to call 415-555-01{j:02d} about the parcel left at the depot in the rain. "
        f"Mark as urgent and reply to {people[(i + 2 * j) % 4]} today." for j in range(12))} for i in range(6)]
    src = write_jsonl(tmp_path / "docs.jsonl", docs)
    outputs = []
    real = workflow.by_size
    for chars in (10 ** 9, 3_000):  # one batch; then about a document a batch
        cut = []
        monkeypatch.setattr(workflow, "BATCH_CHARS", chars)
        monkeypatch.setattr(workflow, "by_size", lambda b, c, m: (cut.append(p) or p for p in real(b, c, m)))
        out = tmp_path / f"out-{chars}.jsonl"
        workflow.anonymize(AnonymizeRequest(source=str(src), output=str(out), num_proc=1))
        outputs.append([json.loads(line) for line in out.read_text().splitlines()])
        assert len(cut) == (1 if chars > 10 ** 6 else 6)
    assert outputs[0] == outputs[1]
    assert all("Okonkwo" not in r["text"] and "415-555-01" not in r["text"] for r in outputs[0])
    assert all("left at the depot in the rain" in r["text"] for r in outputs[0])


def test_sources_opened_at_once_are_opened_one_at_a_time(tmp_path, monkeypatch):
    """`datasets` resolves data files with tqdm's `thread_map`, which is not thread-safe (huggingface/datasets#7660):
    concurrent MCP calls failed now and then with a "malformed JSON" error. Opening is serialised; reading is not."""
    import threading
    import time

    import datasets

    from hf_anon_mcp.data import sources

    files = [write_jsonl(tmp_path / f"f{i}.jsonl", [{"id": i, "text": f"row {i}"}]) for i in range(6)]
    inside, most, lock = [0], [0], threading.Lock()
    real = datasets.load_dataset

    def watched(*args, **kwargs):
        with lock:
            inside[0] += 1
            most[0] = max(most[0], inside[0])
        time.sleep(0.05)
        try:
            return real(*args, **kwargs)
        finally:
            with lock:
                inside[0] -= 1

    monkeypatch.setattr(sources.datasets, "load_dataset", watched)
    opened = []
    threads = [threading.Thread(target=lambda f=f: opened.append(sources.open_source(str(f)))) for f in files]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(opened) == 6 and most[0] == 1
