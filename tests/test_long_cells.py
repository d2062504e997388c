"""Long cells: analyzed in overlapping windows, so every entity is found once, at the right offsets, wherever the
windows are cut; time grows linearly with the cell."""

from __future__ import annotations

import random
import time

import pytest

from hf_anon_mcp.engine import detect
from hf_anon_mcp.engine.analyzer import EngineConfig
from hf_anon_mcp.engine.detect import WINDOW_CHARS, analyze_texts, windows

FAST = EngineConfig(patterns_only=True)
BALANCED = EngineConfig()

FILLER = ("the parcel was damaged and the courier left it outside in the rain again so we asked for a refund "
          "and waited for an answer that never came while the support queue kept growing every single week ")


def long_cell(size: int, seed: int = 5) -> tuple[str, list[tuple[str, str]]]:
    """A cell of about `size` characters: filler prose with an e-mail and a titled full name every ~600 characters
    (so some straddle every place a window is cut). Returns the cell and the (value, type) planted."""
    rnd = random.Random(seed)
    planted: list[tuple[str, str]] = []
    parts: list[str] = []
    length = 0
    i = 0
    while length < size:
        if i % 3 == 2:
            email = f"user{i}.mail@example.org"
            tag = "".join("abcdefghijklmnopqrstuvwxyz"[i // 26 ** k % 26] for k in range(3))
            name = f"Dr. {rnd.choice(['Ingrid', 'Marisol', 'Thaddeus', 'Zoltan'])} Quex{tag}"
            planted += [(email, "EMAIL_ADDRESS"), (name, "PERSON")]
            piece = f"Please write to {email} and ask {name} about ticket {i}. "
        else:
            piece = FILLER
        parts.append(piece)
        length += len(piece)
        i += 1
    return "".join(parts), planted


def _near_every_cut(text: str, planted: list[tuple[str, str]]) -> bool:
    starts = sorted(text.index(v) for v, _ in planted)
    cuts = [offset + len(piece) for offset, piece in windows(text)][:-1]
    return all(any(abs(s - c) < 700 for s in starts) for c in cuts)


def _check(text: str, planted: list[tuple[str, str]], config: EngineConfig) -> None:
    assert _near_every_cut(text, planted)
    [results] = analyze_texts([text], config)
    spans = [(r.start, r.end) for r in results]
    assert spans == sorted(spans) and all(a[1] <= b[0] for a, b in zip(spans, spans[1:])), "overlapping findings"
    found = {}
    for r in results:
        found.setdefault(text[r.start:r.end], []).append(r.entity_type)
    for value, entity in planted:
        hits = [v for v in found if value in v]
        assert hits, f"{entity} {value!r} not found"
    emails = [text[r.start:r.end] for r in results if r.entity_type == "EMAIL_ADDRESS"]
    assert sorted(emails) == sorted(v for v, e in planted if e == "EMAIL_ADDRESS"), "an e-mail found twice or cut"


def test_windows_cover_the_text_overlap_and_cut_at_whitespace():
    text, _ = long_cell(150_000)
    parts = windows(text)
    assert len(parts) > 6
    assert parts[0][0] == 0 and parts[-1][0] + len(parts[-1][1]) == len(text)
    for (a, first), (b, second) in zip(parts, parts[1:]):
        assert text[a:a + len(first)] == first and text[b:b + len(second)] == second
        assert a < b < a + len(first), "consecutive windows must overlap"
        assert a + len(first) - b >= detect.WINDOW_OVERLAP // 2
        assert text[a + len(first) - 1].isspace() and (b == 0 or text[b - 1].isspace())
        assert len(first) <= WINDOW_CHARS


def test_windows_do_not_cut_a_private_key_block():
    block = "-----BEGIN RSA PRIVATE KEY-----\n" + "\n".join("A" * 64 for _ in range(60)) + "\n-----END RSA PRIVATE KEY-----\n"
    text = FILLER * 90 + block + FILLER * 200
    for offset, piece in windows(text):
        inside = "-----BEGIN" in piece, "-----END" in piece
        assert inside in ((True, True), (False, False), (False, True)), "a window ends inside the key block"


def test_a_733k_character_cell_in_the_fast_profile():
    text, planted = long_cell(733_000)
    assert len(text) >= 733_000
    _check(text, planted, FAST)


def test_a_long_cell_in_the_balanced_profile():
    text, planted = long_cell(70_000, seed=9)
    assert len(windows(text)) >= 4
    _check(text, planted, BALANCED)


def test_time_grows_linearly_with_the_cell():
    """CPU time of the fast profile on a 4x longer cell: ~4x (linear), far from 16x (quadratic). Generous slack,
    measured on CPU time so other processes on the machine do not count."""
    small, _ = long_cell(100_000, seed=1)
    large, _ = long_cell(400_000, seed=2)
    analyze_texts(["warm up: mail a@example.org"], FAST)

    def cpu(text: str) -> float:
        started = time.process_time()
        analyze_texts([text], FAST)
        return time.process_time() - started

    ratio = min(cpu(large) for _ in range(2)) / min(cpu(small) for _ in range(2))
    assert ratio < 8, f"4x the text took {ratio:.1f}x the time"


@pytest.mark.parametrize("size", [WINDOW_CHARS - 1, WINDOW_CHARS + 1])
def test_cells_around_the_window_size_give_the_same_findings(size):
    text, planted = long_cell(size, seed=3)
    text = text[:size]
    whole = analyze_texts([text], FAST)[0]
    assert whole, "nothing found"
    assert all(0 <= r.start < r.end <= len(text) for r in whole)


def _key(findings) -> list[tuple]:
    return [(f.entity_type, f.start, f.end, round(f.score, 4)) for f in findings]


def test_windows_analyzed_apart_give_the_findings_of_the_whole_cell(monkeypatch):
    """The windows of one cell can be analyzed two at a time (in other processes) and handed back: the cell's
    findings are the same, and its worker runs no NER on them again."""
    text, planted = long_cell(70_000, seed=9)
    pieces = [piece for _, piece in windows(text)]
    assert len(pieces) >= 4
    [whole] = analyze_texts([text], BALANCED)
    ahead = {}
    for i in range(0, len(pieces), detect.WINDOW_BATCH):
        ahead.update(zip(pieces[i:i + detect.WINDOW_BATCH],
                         detect.analyze_windows(pieces[i:i + detect.WINDOW_BATCH], BALANCED)))
    analyzed: list[str] = []
    real = detect._analyze_unique
    monkeypatch.setattr(detect, "_analyze_unique", lambda unique, *a: analyzed.extend(unique) or real(unique, *a))
    [joined] = analyze_texts([text], BALANCED, ahead)
    assert not set(analyzed) & set(pieces)
    assert _key(joined) == _key(whole) and len(whole) >= len(planted)


def test_a_long_cell_is_shared_out_over_the_pool():
    """The driver has a long cell's windows analyzed by the pool's workers before its batch is detected; the
    detected batch is the one a single process makes."""
    from hf_anon_mcp.decisions.detect import FINDINGS, WINDOWS, DetectSpec, DetectWorker
    from hf_anon_mcp.decisions.pipeline import windows_ahead
    from hf_anon_mcp.runners.local import LocalRunner

    text, _ = long_cell(50_000, seed=4)
    batch = {"id": [1, 2], "text": ["Call Marisol Quintanilla at 415-555-0143.", text]}
    spec = DetectSpec(BALANCED, ("text",))
    with LocalRunner(2) as runner:
        [shared] = list(windows_ahead(runner, spec, [batch], min_chars=30_000))
        assert list(windows_ahead(runner, DetectSpec(FAST, ("text",)), [batch], min_chars=30_000)) == [batch]
    with LocalRunner(1) as alone:
        assert list(windows_ahead(alone, spec, [batch], min_chars=30_000)) == [batch]
    import pickle

    ahead = pickle.loads(shared[WINDOWS][0])
    assert set(ahead) == {piece for _, piece in windows(text)} and shared[WINDOWS][1] is None
    worker = DetectWorker(spec)
    detected, alone_out = worker(shared), worker(batch)
    assert WINDOWS not in detected
    assert detected[FINDINGS] == alone_out[FINDINGS] and "EMAIL_ADDRESS" in detected[FINDINGS][1]


def test_spacy_takes_long_texts_a_few_at_a_time(monkeypatch):
    """Texts just under the window size are not windowed, but 64 of them in one spaCy batch held ~1.3 GB: NER
    batches are bounded by characters as well as by count."""
    from hf_anon_mcp.engine.analyzer import get_analyzer

    assert detect.ner_batches(["a" * 10] * 130) == [["a" * 10] * 64, ["a" * 10] * 64, ["a" * 10] * 2]
    docs = [long_cell(15_000, seed=s)[0][:15_000] for s in range(5)]
    assert [len(b) for b in detect.ner_batches(docs)] == [2, 2, 1]
    engine = get_analyzer(BALANCED).nlp_engine
    sizes: list[int] = []
    real = engine.process_batch
    monkeypatch.setattr(engine, "process_batch", lambda texts, *a, **k: sizes.append(len(texts)) or real(texts, *a, **k))
    results = analyze_texts(docs + ["Write to Ingrid Quexaab at user1.mail@example.org."], BALANCED)
    assert sizes and max(sizes) <= 2 and sum(sizes) == 6
    assert all(any(r.entity_type == "EMAIL_ADDRESS" for r in found) for found in results)
