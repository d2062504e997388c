"""The three passes over a stream of batches, on any runner: detect (findings spilled to a temporary file beside
the run, statistics merged), decide (on the driver), replace (from the spill), then the verification sample.

Nothing is detected twice: the replace pass reads the spilled batches, which carry the stored findings.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import os
import pickle
import time
import uuid
from collections import Counter, deque
from collections.abc import Callable, Iterable, Iterator
from contextlib import nullcontext
from pathlib import Path

from more_itertools import constrained_batches

from hf_anon_mcp.data.writer import TMP_MARK
from hf_anon_mcp.decisions.decide import Decisions, decide
from hf_anon_mcp.errors import AccessError
from hf_anon_mcp.decisions.cells import texts_in
from hf_anon_mcp.decisions.detect import FINDINGS, STATS, WINDOWS, DetectSpec, DetectWorker, WindowWorker
from hf_anon_mcp.decisions.replace import REPORT, SAMPLE, ReplaceSpec, ReplaceStats, ReplaceWorker
from hf_anon_mcp.decisions.stats import DatasetStats
from hf_anon_mcp.engine.detect import WINDOW_BATCH, WINDOW_CHARS, windows
from hf_anon_mcp.decisions.verify import (FIRST_ROUND, NEXT_ROUND, SAMPLE_CHUNK_CHARS, SampleCheckWorker,
                                          SampleSpec, detector_name, enough, independent_available,
                                          sample_chars_for, sample_size, summarize_hits, verdict, wilson)
from hf_anon_mcp.models import VerificationResult
from hf_anon_mcp.policy import AnonymizationPolicy
from hf_anon_mcp.runners.base import Batch
from hf_anon_mcp.runners.local import pools_kept_warm


class Spill:
    """Detected batches kept on disk between the passes (pickled one after another): memory stays flat.

    The file is a temporary of the output (`.<output>.hfanon-<pid>-<random>.spill` beside it): removed when the run
    ends, and swept by the next run for the same output if this one was killed (`data.writer`)."""

    def __init__(self, output: Path):
        name = f".{output.name}{TMP_MARK}{os.getpid()}-{uuid.uuid4().hex[:8]}.spill"
        self.path = output.parent / name
        self._file = open(self.path, "w+b")
        self.batches = 0

    def write(self, batch: Batch) -> None:
        try:
            pickle.dump(batch, self._file, protocol=pickle.HIGHEST_PROTOCOL)
        except OSError as err:
            raise AccessError(f"writing the output failed ({err.strerror or type(err).__name__}); "
                              "nothing was written") from None
        self.batches += 1

    def read(self) -> Iterator[Batch]:
        self._file.flush()
        with open(self._file.name, "rb") as fh:
            for _ in range(self.batches):
                yield pickle.load(fh)

    def close(self) -> None:
        try:
            self._file.close()  # flushes: on a full disk this fails too, and the file goes anyway
        except OSError:
            pass
        self.path.unlink(missing_ok=True)

    def __enter__(self) -> "Spill":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


_MEMO: dict[tuple, tuple[list, list]] = {}  # (spec, batch digest) -> (findings, statistics) of a detected batch
_MEMO_ROWS = 200_000
_memo_rows = 0  # rows held in _MEMO


def _digest(spec: DetectSpec, batch: Batch) -> tuple:
    data = pickle.dumps([batch.get(c) for c in spec.columns], protocol=pickle.HIGHEST_PROTOCOL)
    return spec, hashlib.blake2b(data, digest_size=16).digest()


def _remembered_prefix(spec: DetectSpec, batches: Iterable[Batch]) -> tuple[list[Batch], Iterator[Batch]]:
    """In a long-lived server, the leading batches already detected by an earlier call (the same data again):
    returned whole from memory; the rest, from the first batch not seen, goes to the workers as usual."""
    done: list[Batch] = []
    it = iter(batches)
    for batch in it:
        hit = _MEMO.get(_digest(spec, batch))
        if hit is None:
            return done, itertools.chain([batch], it)
        done.append({**batch, FINDINGS: hit[0], STATS: hit[1]})
    return done, iter(())


def _remember(spec: DetectSpec, batch: Batch, out: Batch) -> None:
    global _memo_rows
    rows = len(out.get(FINDINGS) or [])
    if _memo_rows + rows > _MEMO_ROWS:
        _MEMO.clear()
        _memo_rows = 0
    key = _digest(spec, batch)
    if key not in _MEMO:
        _memo_rows += rows
    _MEMO[key] = (list(out[FINDINGS]), list(out[STATS]))


# A text this long has its windows analyzed over the whole pool before its batch is detected (4 windows or more).
SHARE_CHARS = 4 * WINDOW_CHARS


def windows_ahead(runner, spec: DetectSpec, batches: Iterable[Batch], min_chars: int | None = None) -> Iterator[Batch]:
    """Batches as they come; one holding a long text (`min_chars`, default `SHARE_CHARS`) first has that text's
    windows analyzed by every worker of the pool (`WindowWorker`, two windows a task), their findings attached to
    the batch's first row for the worker that detects it (`WINDOWS`). Without a pool, or in the fast profile (its
    scanner reads a 733k-character cell in ~7 s), batches pass unchanged. Findings are those of one process: the
    windows are the same, and each is analyzed on its own either way."""
    least = SHARE_CHARS if min_chars is None else min_chars
    if getattr(runner, "num_proc", 1) < 2 or spec.config.patterns_only:
        yield from batches
        return
    for batch in batches:
        long = [t for c in spec.columns if c in batch for v in batch[c] for t in texts_in(v) if len(t) >= least]
        pieces = list(dict.fromkeys(piece for t in dict.fromkeys(long) for _, piece in windows(t)))
        if len(pieces) < 2:
            yield batch
            continue
        tasks = [{"windows": pieces[i:i + WINDOW_BATCH]} for i in range(0, len(pieces), WINDOW_BATCH)]
        found: dict = {}
        for out in runner.map(WindowWorker, spec.config, tasks):
            found.update(zip(out["windows"], pickle.loads(out["found"][0])))
        n = len(next(iter(batch.values())))
        yield {**batch, WINDOWS: [pickle.dumps(found, protocol=pickle.HIGHEST_PROTOCOL)] + [None] * (n - 1)}


def detect_pass(runner, spec: DetectSpec, batches: Iterable[Batch], spill: Spill,
                on_batch: Callable[[int], None] | None = None) -> DatasetStats:
    """Run detection on every batch, spill the results, merge the statistics. The MCP server (warm pools) also
    keeps each batch's results, so a second call on the same data detects nothing again."""
    stats = DatasetStats()
    if pools_kept_warm():
        known, rest = _remembered_prefix(spec, batches)
        outputs = itertools.chain(known, _remembering(runner, spec, windows_ahead(runner, spec, rest)))
    else:
        outputs = runner.map(DetectWorker, spec, windows_ahead(runner, spec, batches))
    for out in outputs:
        part = out.get(STATS) or [None]
        if part and part[0] is not None:
            stats.merge(pickle.loads(part[0]))
        out[STATS] = [None] * len(out[STATS])
        spill.write(out)
        if on_batch:
            on_batch(stats.rows)
    return stats


def _remembering(runner, spec: DetectSpec, batches: Iterator[Batch]) -> Iterator[Batch]:
    pending: deque[Batch] = deque()

    def feed() -> Iterator[Batch]:
        for batch in batches:
            pending.append({c: batch.get(c) for c in spec.columns})
            yield batch
    for out in runner.map(DetectWorker, spec, feed()):
        _remember(spec, pending.popleft(), out)
        yield out


def decide_pass(stats: DatasetStats, policy: AnonymizationPolicy, columns: list[str]) -> Decisions:
    return decide(stats, policy, columns)


def replace_pass(runner, spec: ReplaceSpec, spill: Spill, totals: ReplaceStats,
                 samples: list[str]) -> Iterator[Batch]:
    """Anonymized batches in order (internal columns removed); counts merged into `totals`, samples collected."""
    for out in runner.map(ReplaceWorker, spec, spill.read()):
        part = out.pop(REPORT, None) or [None]
        if part[0] is not None:
            totals.merge(pickle.loads(part[0]))
        samples.extend(s for s in out.pop(SAMPLE, []) if s is not None)
        yield out


def sample_rate(rows: int, mode: str) -> float:
    if mode == "off" or rows == 0:
        return 0.0
    if mode == "full":
        return 1.0
    return min(1.0, sample_size(rows) / rows)


def check_sample(runner, samples: list[str], policy: AnonymizationPolicy, mode: str,
                 engine_config=None, decisions: Decisions | None = None) -> VerificationResult:
    """Run the independent detector over the sampled output rows (on the same warm pool)."""
    result = VerificationResult(full_rescan=mode == "full")
    if mode == "off":
        result.sample_note = "verification was turned off"
        return result
    ok, why = independent_available()
    if not ok:
        result.sample_note = why
        return result
    started = time.perf_counter()
    # a random order (the rows were chosen by a keyed hash; their order is the input's), checked in rounds until
    # the interval is within ±2 points; `full` checks every row
    order = sorted(samples, key=lambda s: hashlib.blake2b(s.encode("utf-8", "surrogatepass"), digest_size=8).digest())
    window_chars = sample_chars_for(min(len(order), FIRST_ROUND))
    spec = SampleSpec(full=mode == "full", engine_config=engine_config,
                      kept_terms=decisions.kept_terms if decisions else frozenset(),
                      id_shapes=decisions.id_shapes if decisions else frozenset(), sample_chars=window_chars)
    hit_rows: list = []
    rows, types, examples = 0, Counter(), []
    done = 0
    with _cores_if_alone(runner):
        while done < len(order):
            size = FIRST_ROUND if done == 0 else NEXT_ROUND
            part = order[done:] if mode == "full" else order[done:done + size]
            done += len(part)
            chunks = [{"sample": chunk} for chunk in _sample_chunks(part, window_chars)]
            hit_rows += [json.loads(h) for out in runner.map(SampleCheckWorker, spec, chunks) for h in out["hits"]]
            rows, types, examples = summarize_hits(hit_rows, policy.replaces)
            if mode != "full" and enough(rows, len(hit_rows)):
                break
    result.sample_seconds = round(time.perf_counter() - started, 2)
    result.sample_checked = True
    result.sample_detector = detector_name()
    if engine_config is not None and getattr(engine_config, "profile", "") == "thorough":
        result.sample_note = ("the thorough profile also used this detector to find what was replaced: the sample "
                              "check is not independent of detection")
    # a row's JSON is longer than any of its texts: only rows longer than a window are read again
    if mode != "full" and any(len(s) > window_chars and any(len(t) > window_chars for t in json.loads(s)["texts"])
                              for s in order[:done]):
        result.sample_window_chars = window_chars
    result.sample_rows = len(hit_rows)
    result.sample_rows_with_direct = rows
    result.sample_share = round(rows / len(hit_rows), 5) if hit_rows else 0.0
    lo, hi = wilson(rows, len(hit_rows))
    result.sample_ci95 = (round(lo, 5), round(hi, 5))
    result.sample_types = dict(types)
    result.sample_examples = examples
    return result


def _sample_chunks(rows: list[str], window_chars: int) -> list[list[str]]:
    """Tasks of at most 64 sampled rows and about `SAMPLE_CHUNK_CHARS` characters to read (a row counts at most
    one window), so a sample of long rows is shared evenly between the workers."""
    return [list(c) for c in constrained_batches(rows, SAMPLE_CHUNK_CHARS, max_count=64,
                                                 get_len=lambda row: min(len(row), window_chars), strict=False)]


def _cores_if_alone(runner):
    """An in-process runner (one worker: a small input, a Ray driver after its actors are done) checks the sample
    with every core, up to 4; a pool's workers keep one thread each."""
    if getattr(runner, "num_proc", 0) != 1:
        return nullcontext()
    from hf_anon_mcp.engine import rampart

    return rampart.use_threads(min(4, os.cpu_count() or 1))


def finish_verification(result: VerificationResult, totals: ReplaceStats, policy: AnonymizationPolicy,
                        structure_ok: bool, structure_note: str) -> VerificationResult:
    result.propagation_survivors = sum(totals.survivors.values())
    result.survivor_types = dict(totals.survivors)
    result.structure_ok, result.structure_note = structure_ok, structure_note
    return verdict(result, policy.replaces)

