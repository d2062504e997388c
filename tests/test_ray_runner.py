"""The Ray Data runner on a real two-node Ray cluster on this machine (`ray start --head` + `ray start --address`).

Same rows as the worker run in this process, a SIGKILLed actor retried, a failing worker failing the run with one
line and no output folder, a resumed run reusing the shards of the interrupted one, the three-pass shape (stage,
collect on the driver, second map), and a private local Ray that prints nothing on stdout and leaves no process.
"""

from __future__ import annotations

import importlib.util
import json
import os
import pickle
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

import pyarrow as pa
import pyarrow.json as paj
import pyarrow.parquet as pq
import pytest

from hf_anon_mcp.errors import HfAnonError, InputError
from hf_anon_mcp.runners.blocks import first_rows, plan_source, read_block
from hf_anon_mcp.runners.manifest import JOURNAL, Journal, ShardRecord, read_manifest
from hf_anon_mcp.runners.ray_runner import (
    INSTALL_HINT, RayMissingError, RayRunner, WorkerFailed, actor_plan,
)
from tests.ray_cluster import (
    BrokenInit, CountWorker, HoldWorker, ReportWorker, StatsWorker, ToySpec, UpperWorker, ray_env, run_in_process,
    start_cluster,
)

HAS_RAY = importlib.util.find_spec("ray") is not None
needs_ray = pytest.mark.skipif(not HAS_RAY, reason=f"Ray is not installed ({INSTALL_HINT})")
ROWS = 3000
BATCH = 64


def make_rows(n: int, *, poison_at: int | None = None) -> list[dict]:
    rows = []
    for i in range(n):
        rows.append({
            "id": i,
            "text": f"Ticket {i}: café order for row {i}" + (" POISON" if i == poison_at else ""),
            "note": None if i % 7 else f"note {i}",
            "messages": [{"role": "user", "content": f"hello {i}"},
                         {"role": "assistant", "content": "x" * (i % 50)}],
        })
    return rows


def write_jsonl(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return path


def read_parts(folder: Path) -> list[dict]:
    parts = sorted(folder.glob("part-*.parquet"))
    return pa.concat_tables([pq.read_table(p) for p in parts]).to_pylist()


def expected_rows(path: Path, spec: ToySpec = ToySpec()) -> list[dict]:
    return run_in_process(UpperWorker(spec), paj.read_json(str(path)), BATCH)


@pytest.fixture(scope="module")
def data(tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("ray-data")
    rows = make_rows(ROWS)
    jsonl = write_jsonl(root / "tickets.jsonl", rows)
    folder = root / "parquet"
    folder.mkdir()
    table = paj.read_json(str(jsonl))
    for k in range(3):
        pq.write_table(table.slice(k * 1000, 1000), folder / f"train-{k:05d}-of-00003.parquet", row_group_size=250)
    return {"root": root, "jsonl": jsonl, "parquet": folder}


@pytest.fixture(scope="module")
def cluster():
    if not HAS_RAY:
        pytest.skip(f"Ray is not installed ({INSTALL_HINT})")
    temp = Path(tempfile.mkdtemp(prefix="hfr-", dir="/tmp"))  # short: Ray's socket paths have a length limit
    c = start_cluster(temp, nodes=2, cpus_per_node=1)
    saved = os.environ.get("RAY_AUTH_MODE")
    if c.token_auth:
        os.environ["RAY_AUTH_MODE"] = "token"  # read by Ray when it is first imported (by the runner)
    try:
        yield c
    finally:
        c.stop()
        if saved is None:
            os.environ.pop("RAY_AUTH_MODE", None)
        else:
            os.environ["RAY_AUTH_MODE"] = saved
        left = c.processes()
        shutil.rmtree(temp, ignore_errors=True)
        assert not left, f"cluster processes left: {[p.pid for p in left]}"


@pytest.fixture(scope="module")
def runner(cluster):
    with RayRunner(address=cluster.address, block_bytes=48 * 1024, block_rows=400) as r:
        yield r


# ---- without a cluster ---------------------------------------------------------------------------------------

def test_actor_plan_leaves_room_for_reads():
    assert actor_plan(2) == (2, 0.75)
    assert actor_plan(1) == (1, 0.75)
    assert actor_plan(2, num_actors=1) == (1, 0.75)
    actors, each = actor_plan(2, num_actors=4)
    assert actors == 4 and actors * each <= 0.75 * 2 + 1e-9
    assert actor_plan(64)[0] == 64
    assert actor_plan(0.5) == (1, 0.37)
    assert actor_plan(8, cpus_per_actor=2.0) == (8, 2.0)


def test_missing_ray_is_one_line_with_the_install_command(monkeypatch):
    monkeypatch.setitem(sys.modules, "ray", None)
    with pytest.raises(RayMissingError) as err:
        RayRunner().__enter__()
    assert INSTALL_HINT in str(err.value) and "\n" not in str(err.value)
    assert isinstance(err.value, HfAnonError)


def test_blocks_are_named_by_content_and_range(tmp_path):
    a = write_jsonl(tmp_path / "a.jsonl", make_rows(400))
    write_jsonl(tmp_path / "b.jsonl", make_rows(300))
    first = plan_source(str(tmp_path), block_bytes=8 * 1024)
    again = plan_source(str(tmp_path), block_bytes=8 * 1024)
    assert [b.key for b in first.blocks] == [b.key for b in again.blocks]
    assert len({b.key for b in first.blocks}) == len(first.blocks) > 4
    data = a.read_bytes()
    a_blocks = [b for b in first.blocks if b.file == str(a)]
    assert a_blocks[0].start == 0 and a_blocks[-1].stop == len(data)
    for left, right in zip(a_blocks, a_blocks[1:]):
        assert left.stop == right.start and data[left.stop - 1:left.stop] == b"\n"
    write_jsonl(a, make_rows(401))  # one file changes: only its blocks get new names
    changed = plan_source(str(tmp_path), block_bytes=8 * 1024)
    old = {b.key for b in first.blocks}
    assert {b.key for b in changed.blocks if b.file != str(a)} <= old
    assert not {b.key for b in changed.blocks if b.file == str(a)} & old


@pytest.mark.parametrize("keep", [1, 333, 699, 700, 5000])
def test_first_rows_cut_json_lines_and_parquet_like_a_local_max_rows(tmp_path, data, keep):
    """Blocks up to the row, the last one ended just after it: blank lines are no rows; Parquet by row counts."""
    rows = make_rows(700)
    lines = [json.dumps(r, ensure_ascii=False) + "\n" for r in rows]
    src = tmp_path / "gaps.jsonl"
    src.write_text("".join(line + ("\n  \n" if i % 97 == 5 else "") for i, line in enumerate(lines)))
    plan = first_rows(plan_source(str(src), block_bytes=4 * 1024), keep)
    got = [r for b in plan.blocks for r in read_block(plan, b).to_pylist()]
    assert [r["id"] for r in got] == list(range(min(keep, 700)))
    parquet = first_rows(plan_source(str(data["parquet"]), block_rows=400), keep)
    ids = [r["id"] for b in parquet.blocks for r in read_block(parquet, b).to_pylist()]
    assert ids == list(range(min(keep, 3000)))


def test_first_rows_of_a_csv_is_a_clear_error(tmp_path):
    src = tmp_path / "t.csv"
    src.write_text("a,b\n1,2\n")
    with pytest.raises(InputError, match="Parquet or JSON Lines"):
        first_rows(plan_source(str(src)), 1)


def test_hub_and_object_store_uris_resolve_without_network(no_network):
    from hf_anon_mcp.runners.blocks import resolve

    fs, path, local = resolve("hf://datasets/someorg/somename/data")
    assert type(fs.handler.fs).__name__ == "HfFileSystem" and path == "datasets/someorg/somename/data"
    assert not local and not no_network


def test_glob_sources_pick_matching_files(tmp_path):
    (tmp_path / "data").mkdir()
    for name in ("train-00000.jsonl", "train-00001.jsonl", "test-00000.jsonl"):
        write_jsonl(tmp_path / "data" / name, make_rows(5))
    plan = plan_source(str(tmp_path / "data" / "train-*.jsonl"))
    assert sorted({Path(b.file).name for b in plan.blocks}) == ["train-00000.jsonl", "train-00001.jsonl"]
    with pytest.raises(InputError, match="no data files match"):
        plan_source(str(tmp_path / "data" / "valid-*.jsonl"))


def test_bad_sources_are_one_line_input_errors(tmp_path):
    with pytest.raises(InputError, match="source not found"):
        plan_source(str(tmp_path / "nope.jsonl"))
    (tmp_path / "mixed").mkdir()
    write_jsonl(tmp_path / "mixed" / "a.jsonl", make_rows(3))
    (tmp_path / "mixed" / "b.csv").write_text("a,b\n1,2\n")
    with pytest.raises(InputError, match="mixes file formats"):
        plan_source(str(tmp_path / "mixed"))
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"text": "Marisol Quintanilla"}\n{"text": oops Marisol}\n')
    with pytest.raises(InputError) as err:
        plan_source(str(bad))
    assert "Marisol" not in str(err.value) and "bad.jsonl" in str(err.value)


def test_journal_reuses_only_whole_shards_of_the_same_pipeline(tmp_path):
    journal = Journal(tmp_path, "fp-1", "parquet")
    journal.start({})
    for key in ("a", "b", "c"):
        (tmp_path / f"blk-{key}.parquet").write_bytes(b"x" * 10)
        journal.append(ShardRecord(key=key, shard=f"blk-{key}.parquet", rows=5, bytes=10))
    (tmp_path / "blk-b.parquet").write_bytes(b"x" * 4)  # cut short
    with (tmp_path / JOURNAL).open("a") as fh:
        fh.write('{"key": "d", "sha')  # a line cut by a kill
    assert set(Journal(tmp_path, "fp-1", "parquet").reusable({"a", "b", "c", "d"})) == {"a", "c"}
    assert set(Journal(tmp_path, "fp-1", "parquet").reusable({"c"})) == {"c"}  # block no longer planned
    assert Journal(tmp_path, "fp-2", "parquet").reusable({"a", "c"}) == {}  # another pipeline
    assert Journal(tmp_path, "fp-1", "jsonl").reusable({"a", "c"}) == {}  # another format


# ---- on the cluster ------------------------------------------------------------------------------------------

@needs_ray
def test_same_rows_as_in_process_on_two_nodes(runner, data, tmp_path):
    src = runner.read(str(data["jsonl"]))
    assert src.num_blocks >= 8
    # slow enough (~5 s of calls) that the second actor, started on the other node, gets blocks too
    result = runner.write(runner.map(src, UpperWorker, ToySpec(pid_column=True, slow=0.1), batch_size=BATCH),
                          tmp_path / "out")
    rows = read_parts(tmp_path / "out")
    nodes = {r.pop("node") for r in rows}
    for r in rows:
        r.pop("pid")
    assert rows == expected_rows(data["jsonl"])  # every cell, in order, nested messages included
    assert len(nodes) == 2, "both nodes of the cluster ran actors"
    in_type = src.plan.schema.field("messages").type
    assert pq.read_schema(tmp_path / "out" / "part-00000.parquet").field("messages").type == in_type
    manifest = read_manifest(tmp_path / "out")
    assert result.rows == manifest.rows == ROWS and result.shards == len(manifest.blocks) == src.num_blocks
    assert [b.shard for b in manifest.blocks] == sorted(p.name for p in (tmp_path / "out").glob("part-*"))
    assert manifest.steps == ["tests.ray_cluster.UpperWorker"]
    assert not list(tmp_path.glob(".*partial*")) and not (tmp_path / "out" / JOURNAL).exists()


@needs_ray
def test_fsspec_uri_source_to_jsonl_output(runner, data, tmp_path):
    """A URI pyarrow does not know goes through fsspec (a `simplecache::file://` chain here: the code path of
    hf://), read by tasks on any node (not pinned to the driver's)."""
    src = runner.read(f"simplecache::file://{data['parquet']}")
    assert not src.plan.local and src.plan.blocks[0].file_hash.startswith("stat:")
    assert src.num_blocks == 9  # 1000 rows a file, blocks of 400 rows
    runner.write(runner.map(src, UpperWorker, ToySpec(), batch_size=50), tmp_path / "out", fmt="jsonl")
    got = [json.loads(line) for p in sorted((tmp_path / "out").glob("part-*.jsonl"))
           for line in p.read_text(encoding="utf-8").splitlines()]
    want = json.loads(json.dumps(expected_rows(data["jsonl"]), default=str))
    assert got == want


@needs_ray
def test_killed_actor_is_retried_and_output_unchanged(runner, cluster, data, tmp_path):
    src = runner.read(str(data["jsonl"]))
    killed: list[int] = []
    stop = threading.Event()

    def kill_one_actor():
        journal = tmp_path / ".out.hfanon-ray-partial" / JOURNAL
        while not stop.is_set():
            written = len(journal.read_text().splitlines()) - 1 if journal.exists() else 0
            actors = cluster.actor_processes("MapWorker")
            if written >= 1 and actors:
                os.kill(actors[0].pid, signal.SIGKILL)
                killed.append(actors[0].pid)
                return
            time.sleep(0.2)

    killer = threading.Thread(target=kill_one_actor, daemon=True)
    killer.start()
    try:
        runner.write(runner.map(src, UpperWorker, ToySpec(slow=0.15), batch_size=BATCH), tmp_path / "out")
    finally:
        stop.set()
        killer.join(5)
    assert killed, "no actor was killed while the run was going"
    manifest = read_manifest(tmp_path / "out")
    assert manifest.rows == ROWS
    assert read_parts(tmp_path / "out") == expected_rows(data["jsonl"])


@needs_ray
def test_a_slow_block_does_not_stall_the_other_actor(runner, data, tmp_path):
    """Output is kept in input order, so blocks finished after a slow one wait on the driver's side. At Ray
    Data's downstream-capacity ratio (2) they counted as a full queue while the driver held a block, and the other
    actor got no more blocks (on 20k rows one of two actors idled up to 19 s of a 75 s pass).

    Here the driver holds block 0 for 12 s (a slow write; block 1 waits in its prefetch) while an actor holds
    block 2 until all other blocks but two are done (Ray Data may queue up to two more on the held actor). With the
    stall, block 2 waited until the driver let go of block 0."""
    folder = tmp_path / "marks"
    folder.mkdir()
    src = runner.read(str(data["jsonl"]))
    assert len(src.plan.blocks) >= 9
    hold = read_block(src.plan, src.plan.blocks[2]).column("id")[0].as_py()
    spec = {"folder": str(folder), "others": len(src.plan.blocks) - 3, "timeout": 60.0, "hold": hold}
    written: list[int] = []

    def slow_first_write(batch: dict[str, list]) -> dict[str, list]:
        if not written:
            time.sleep(12)
        written.append(len(batch["id"]))
        return batch

    with runner.output(tmp_path / "out") as out:
        out.write(runner.map(src, HoldWorker, spec, batch_size=10_000), each=slow_first_write)
    rows = read_parts(tmp_path / "out")
    assert [r["id"] for r in rows] == list(range(ROWS))  # still in input order
    assert len(list(folder.glob("done-*"))) == len(src.plan.blocks) - 1
    waited = max(r["waited"] for r in rows)
    assert waited < 9.0, f"the other actor stopped getting blocks while one was held ({waited:.1f} s)"


def _operators(runner: RayRunner, source: str) -> list[str]:
    ds = runner.dataset(runner.map(runner.read(source), UpperWorker, ToySpec(), batch_size=BATCH))
    return re.findall(r"^Operator \d+ (\S+?):", ds.materialize().stats(), re.M)


@needs_ray
def test_reads_run_in_the_actors_unless_the_files_are_on_the_drivers_node_only(runner, data):
    """With the actors' CPU request, Ray Data fuses the read into the first step's actor tasks: no read worker
    processes start and blocks do not cross the object store. Local files on a cluster reached by address are
    read by tasks pinned to the driver's node (the only one sure to have them). The runner's own local Ray fuses
    local files too (the local Ray test)."""
    remote = _operators(runner, f"simplecache::file://{data['parquet']}")
    assert "MapBatches(_read_blocks)->MapBatches(_Adapter)" in remote
    local = _operators(runner, str(data["jsonl"]))
    assert "MapBatches(_read_blocks)" in local and "MapBatches(_Adapter)" in local


@needs_ray
def test_failing_worker_fails_in_one_line_and_publishes_nothing(runner, cluster, tmp_path):
    rows = make_rows(ROWS, poison_at=ROWS - 5)  # in the last block: earlier blocks get written first
    source = write_jsonl(tmp_path / "poisoned.jsonl", rows)
    poison = tmp_path / "poison-on"
    poison.touch()
    out = tmp_path / "out"
    work = tmp_path / ".out.hfanon-ray-partial"
    src = runner.read(str(source))
    with pytest.raises(WorkerFailed) as err:
        runner.write(runner.map(src, UpperWorker, ToySpec(poison_file=str(poison)), batch_size=BATCH), out)
    message = str(err.value)
    assert message == f"worker UpperWorker failed on input block {src.num_blocks - 1} (ValueError)"
    assert "POISON" not in message and "poisoned" not in message  # the exception's own text quotes the row
    assert not out.exists(), "no output folder after a failed run"
    deadline = time.time() + 20
    while cluster.actor_processes("MapWorker") and time.time() < deadline:
        time.sleep(0.5)
    assert not cluster.actor_processes("MapWorker"), "the failed run's actors are gone"
    done = [json.loads(line) for line in (work / JOURNAL).read_text().splitlines()[1:]]
    assert len(done) == src.num_blocks - 1, "every block before the failing one was written (resumable)"


_DRIVER = """
import sys
from hf_anon_mcp.runners.ray_runner import RayRunner
from tests.ray_cluster import ReportWorker, ToySpec
with RayRunner(address=sys.argv[3], block_bytes=48 * 1024) as r:
    with r.output(sys.argv[2]) as out:
        mapped = r.map(r.read(sys.argv[1]), ReportWorker, ToySpec(slow=0.2), batch_size=64)
        out.write(mapped, keep_apart=["__report"])
"""


@needs_ray
def test_killed_driver_then_resume_reuses_its_shards(runner, cluster, data, tmp_path):
    out = tmp_path / "out"
    work = tmp_path / ".out.hfanon-ray-partial"
    journal = work / JOURNAL
    driver = subprocess.Popen([sys.executable, "-c", _DRIVER, str(data["jsonl"]), str(out), cluster.address],
                              env=ray_env(cluster.token_auth), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.time() + 150
        while time.time() < deadline and driver.poll() is None:
            if journal.exists() and len(journal.read_text().splitlines()) >= 3:  # header + 2 shards
                break
            time.sleep(0.2)
        assert driver.poll() is None, driver.stderr.read().decode()[-2000:]
        driver.send_signal(signal.SIGKILL)
    finally:
        driver.kill()
        driver.wait(30)
    assert not out.exists()
    done = [json.loads(line) for line in journal.read_text().splitlines()[1:]]
    mtimes = {d["key"]: (work / d["shard"]).stat().st_mtime_ns for d in done}
    src = runner.read(str(data["jsonl"]))
    assert 2 <= len(mtimes) < src.num_blocks

    with runner.output(out, resume=True) as output:
        result = output.write(runner.map(src, ReportWorker, ToySpec(slow=0.2), batch_size=64),
                              keep_apart=["__report"])
        seen = sum(pickle.loads(v) for v in output.side("__report") if v is not None)
    assert seen == ROWS, "the kept-apart reports of reused blocks are read back too"
    manifest = read_manifest(out)
    resumed = {b.key: b for b in manifest.blocks if b.resumed}
    assert set(resumed) == set(mtimes) and result.resumed_blocks == len(mtimes)
    for key, block in resumed.items():
        assert (out / block.shard).stat().st_mtime_ns == mtimes[key], "a reused shard was rewritten"
    assert read_parts(out) == expected_rows(data["jsonl"])
    assert not work.exists()


@needs_ray
def test_worker_that_cannot_start_and_bad_rows_fail_cleanly(runner, tmp_path):
    source = write_jsonl(tmp_path / "t.jsonl", make_rows(50))
    with pytest.raises(WorkerFailed, match=r"^worker BrokenInit failed while starting \(RuntimeError\)$"):
        runner.write(runner.map(runner.read(str(source)), BrokenInit, None), tmp_path / "out")
    assert not (tmp_path / "out").exists()
    bad = tmp_path / "late-bad.jsonl"
    bad.write_text("".join(json.dumps(r) + "\n" for r in make_rows(2000)) + '{"text": Marisol oops}\n')
    src = runner.read(str(bad))  # the bad line is past the first block: found on the cluster
    with pytest.raises(InputError) as err:
        runner.write(runner.map(src, UpperWorker, ToySpec()), tmp_path / "out")
    assert "late-bad.jsonl" in str(err.value) and "Marisol" not in str(err.value)
    assert not (tmp_path / "out").exists()


@needs_ray
def test_three_pass_shape_stage_collect_map(runner, data, tmp_path):
    """detect (stage) -> statistics merged on the driver -> second map over the staged rows -> output."""
    src = runner.read(str(data["jsonl"]))
    with runner.output(tmp_path / "out") as out:
        staged = out.stage("detect", runner.map(src, StatsWorker, None, batch_size=BATCH))
        words = runner.collect(staged, "__stats", merge=lambda a, b: a + b)
        counts = runner.collect(runner.map(src, CountWorker, None, batch_size=BATCH), "partial", loads=json.loads,
                                merge=lambda a, b: {k: a[k] + b[k] for k in a})
        def drop_counts(batch):  # a driver-side step on each block, in order
            return {k: v for k, v in batch.items() if k != "n_strings"}

        out.write(runner.map(staged, ReportWorker, ToySpec(), batch_size=BATCH), keep_apart=["__report"],
                  schema=src.plan.schema, each=drop_counts)
        reports = [pickle.loads(v) for v in out.side("__report") if v is not None]
        # small driver-made batches (a verification sample) through the same actors, the local pool's way
        little = [{"text": ["a b", "c"]}, {"text": ["dé f g"]}]
        assert list(runner.pool.map(CountWorker, None, little)) == [CountWorker()(b) for b in little]
    assert sum(reports) == ROWS and len(reports) == sum(-(-b.stop // BATCH) for b in staged.plan.blocks)
    table = paj.read_json(str(data["jsonl"]))
    local = Counter()
    for row in run_in_process(StatsWorker(), table, BATCH):
        if row["__stats"] is not None:
            local += pickle.loads(row["__stats"])
    assert words == local and words["Ticket"] == ROWS
    assert counts["rows"] == ROWS
    rows = read_parts(tmp_path / "out")
    assert [r["text"] for r in rows] == [r["text"].upper() for r in table.to_pylist()]
    want = [{k: v for k, v in r.items() if k != "n_strings"} for r in expected_rows(data["jsonl"])]
    assert rows == want  # no __stats, no __report: the output holds the data only
    assert pq.read_schema(tmp_path / "out" / "part-00000.parquet").equals(src.plan.schema)
    manifest = read_manifest(tmp_path / "out")
    assert manifest.steps == ["tests.ray_cluster.StatsWorker", "tests.ray_cluster.ReportWorker"]
    assert manifest.blocks[0].file == str(data["jsonl"])  # the manifest names input blocks, not stage shards
    assert not list(tmp_path.glob(".*partial*"))


_LOCAL_RUN = """
import os, signal, sys, threading, time
from pathlib import Path
from hf_anon_mcp.runners.ray_runner import RayRunner
from tests.ray_cluster import ToySpec, UpperWorker, cluster_processes

source, out, temp = sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3])
killed = []

def kill_an_actor():  # Ray then reports the death and the retry: the driver prints that on stdout unless told
    journal = out.parent / f".{out.name}.hfanon-ray-partial" / "_journal.jsonl"
    while not killed:
        if journal.exists() and len(journal.read_text().splitlines()) > 1:
            for proc in cluster_processes(temp):
                try:
                    if "MapWorker" in " ".join(proc.cmdline()):
                        os.kill(proc.pid, signal.SIGKILL)
                        killed.append(proc.pid)
                        return
                except Exception:
                    pass
        time.sleep(0.2)

threading.Thread(target=kill_an_actor, daemon=True).start()
with RayRunner(num_actors=2, temp_dir=str(temp), block_bytes=16384) as r:
    result = r.write(r.map(r.read(source), UpperWorker, ToySpec(slow=0.1), batch_size=16), out)
    stats = r.dataset(r.map(r.read(source), UpperWorker, ToySpec(), batch_size=16)).materialize().stats()
fused = "MapBatches(_read_blocks)->MapBatches(_Adapter)" in stats  # our own local Ray: reads in the actors
sys.stderr.write(f"rows={result.rows} killed={len(killed)} fused={fused}\\n")
"""


@needs_ray
def test_local_ray_prints_nothing_and_leaves_no_process(tmp_path):
    from tests.ray_cluster import cluster_processes

    source = write_jsonl(tmp_path / "t.jsonl", make_rows(600))
    temp = Path(tempfile.mkdtemp(prefix="hfl-", dir="/tmp"))
    try:
        done = subprocess.run([sys.executable, "-c", _LOCAL_RUN, str(source), str(tmp_path / "out"), str(temp)],
                              capture_output=True, text=True, timeout=300, env=ray_env())
        assert done.returncode == 0, done.stderr[-3000:]
        assert done.stdout == "", "stdout is the MCP transport: nothing may be printed there"
        assert "rows=600 killed=1 fused=True" in done.stderr
        assert read_parts(tmp_path / "out") == expected_rows(source)
        time.sleep(1)
        assert not cluster_processes(temp), "the local Ray started by the runner is gone"
    finally:
        from tests.ray_cluster import kill_tree

        kill_tree(temp)
        shutil.rmtree(temp, ignore_errors=True)


@needs_ray
def test_unreachable_address_is_one_line(tmp_path):
    from tests.ray_cluster import free_ports

    code = ("from hf_anon_mcp.runners.ray_runner import RayRunner\n"
            f"RayRunner(address='127.0.0.1:{free_ports(1)[0]}').__enter__()\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=240, env=ray_env())
    assert done.returncode != 0
    last = done.stderr.strip().splitlines()[-1]
    assert "RayRunError: cannot connect to the Ray cluster at 127.0.0.1:" in last and "nothing answers" in last


def test_a_small_input_is_cut_finer_so_every_actor_gets_blocks(tmp_path, monkeypatch):
    """Default sizes shrink for an input of a few blocks (16 blocks per actor wanted, 64 KiB at least); sizes a
    user chose are kept as they are."""
    monkeypatch.delenv("HF_ANON_MCP_RAY_BLOCK_BYTES", raising=False)
    monkeypatch.delenv("HF_ANON_MCP_RAY_BLOCK_ROWS", raising=False)
    src = tmp_path / "rows.jsonl"
    src.write_text("".join(json.dumps({"text": f"row {i} " + "x" * 180}) + "\n" for i in range(2000)))  # ~400 KiB
    auto = RayRunner()
    auto.num_actors = 2
    assert len(plan_source(str(src)).blocks) == 1  # one default block of 512 KiB
    assert len(auto.read(str(src)).plan.blocks) >= 6
    chosen = RayRunner(block_bytes=512 * 1024)
    chosen.num_actors = 2
    assert len(chosen.read(str(src)).plan.blocks) == 1
