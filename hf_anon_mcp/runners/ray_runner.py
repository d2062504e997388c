"""Run batch workers on a Ray cluster with Ray Data: the same worker classes as the local pool, output identical.

    with RayRunner(address="10.0.0.1:6379") as runner:          # or RayRunner() for a local Ray on this machine
        src = runner.read("data/")                                  # files cut into blocks named across runs
        with runner.output("out/", fmt="parquet", resume=False) as out:
            detected = out.stage("detect", runner.map(src, DetectWorker, detect_spec, batch_size=64))
            stats = runner.collect(detected, STATS, merge=DatasetStats.merge)   # statistics merged on the driver
            decisions = decide(stats)                                               # on the driver, as locally
            result = out.write(runner.map(detected, ReplaceWorker, ReplaceSpec(decisions)))
        # leaving the `with` renames the finished folder into place; an error leaves no `out/`

What runs where. Reads are Ray tasks (pinned to the driver's node for local paths, anywhere for s3://, gs://,
hf://...); each `map` is a `map_batches` over a fixed pool of actors, each actor building its worker once from
`spec` (the spec travels in the object store: that is the broadcast of the decisions); the driver receives the
mapped blocks in order and writes one shard per input block, so the output, the manifest and a resumed run all
speak of the same blocks. Writing on the driver keeps `--out ./folder` on the machine that asked for it; the
mapped rows cross the network once more than with Ray's distributed writers, which NER-bound work does not feel.

Actors and CPUs: one actor per cluster CPU unless told otherwise; each asks for 0.75 CPU (so on every node a
quarter CPU per actor stays free for the 0.25-CPU read tasks and Ray's own work). An actor killed mid-run is
restarted and its task retried by Ray Data (`max_restarts=-1`, `max_task_retries=-1`, Ray Data's defaults for
actor pools); an exception raised by a worker is not retried (it would fail again) and fails the run with one line
naming the worker, the block and the exception type (never its message, which may quote a cell).
"""

from __future__ import annotations

import gc
import json
import logging
import math
import os
import pickle
import shutil
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Literal

import pyarrow as pa
import pyarrow.parquet as pq
from pydantic import BaseModel

from hf_anon_mcp.errors import AccessError, HfAnonError, InputError
from hf_anon_mcp.runners.base import Batch
from hf_anon_mcp.runners.blocks import (
    Block, SourcePlan, default_block_sizes, first_rows, plan_source, read_block, unify,
)
from hf_anon_mcp.runners.manifest import (
    JOURNAL, BlockRecord, Journal, Manifest, ShardRecord, digest, spec_digest,
)

log = logging.getLogger("hf_anon_mcp.ray")

INSTALL_HINT = "pip install 'hf-anon-mcp[ray]'"
BLOCK_COLUMN = "__hfr_block"  # the input block a row came from; carried through every map, dropped on write
ERROR_COLUMN = "__hfr_error"  # a block that failed: one row, the error as JSON (see `_error_table`)
ACTOR_CPU_SHARE = 0.75
READ_CPUS = 0.25
OutputFormat = Literal["parquet", "jsonl"]
_EXT = {"parquet": "parquet", "jsonl": "jsonl"}
_PARTIAL = ".hfanon-ray-partial"


class RayMissingError(InputError):
    """Ray (the optional extra) is not installed."""

    kind = "ray-missing"


class RayRunError(HfAnonError):
    """A Ray run failed after Ray's own retries (or could not start)."""

    kind = "ray"


class WorkerFailed(RayRunError):
    """A worker raised: named by class, block and exception type only (its message may quote a cell)."""

    kind = "worker"

    def __init__(self, worker: str, block: int | None, error: str):
        self.worker, self.block, self.error = worker, block, error
        where = "while starting" if block is None else f"on input block {block}"
        super().__init__(f"worker {worker} failed {where} ({error})")

    def __reduce__(self):
        return (WorkerFailed, (self.worker, self.block, self.error))


# A small input is cut into at least this many blocks per actor: the last round leaves actors idle for up to one
# block, so finer blocks shorten that tail (20k rows: 9 blocks of ~12 s on 2 actors, 5 rounds; now 34 of ~3.5 s).
BLOCKS_PER_ACTOR = 16
MIN_BLOCK_BYTES = 64 * 1024
MIN_BLOCK_ROWS = 250
# How far finished blocks may run ahead of what the driver is reading before Ray Data stops feeding the actors
# (in multiples of the driver's in-flight bytes; Ray's default is 2). See `_configure_data`.
DOWNSTREAM_RATIO = 32.0


def _ray():
    try:
        import ray
        import ray.data  # noqa: F401 - the `data` extra
    except ImportError:
        raise RayMissingError("Ray is not installed", hint=f"install it with: {INSTALL_HINT}") from None
    return ray


def actor_plan(cluster_cpus: float, num_actors: int | None = None,
               cpus_per_actor: float | None = None) -> tuple[int, float]:
    """(actors, CPUs each) for a cluster with `cluster_cpus` CPUs.

    One actor per CPU (at least one); each asks for 0.75 CPU, or less when more actors than CPUs are asked for,
    so that actors never take more than 3/4 of the cluster's CPUs and Ray Data's read tasks (0.25 CPU each) and
    Ray's own tasks can always be scheduled. 2 cores: 2 actors at 0.75; 1 core: 1 actor at 0.75.
    """
    actors = num_actors or max(1, int(cluster_cpus))
    if cpus_per_actor is None:
        cpus_per_actor = min(ACTOR_CPU_SHARE, ACTOR_CPU_SHARE * max(cluster_cpus, 0.0) / actors)
        cpus_per_actor = max(0.01, math.floor(cpus_per_actor * 100) / 100)  # rounded down: never over 3/4
    return actors, cpus_per_actor


# ---- the lineage of a dataset --------------------------------------------------------------------------------

@dataclass(frozen=True)
class Step:
    """One `map`: a worker class, its spec, and how many rows each call gets."""

    worker_cls: type
    spec: Any
    batch_size: int
    fingerprint: str

    @property
    def name(self) -> str:
        return f"{self.worker_cls.__module__}.{self.worker_cls.__qualname__}"


@dataclass(frozen=True)
class Blocks:
    """A planned, lazy dataset: blocks of a source (or of a stage written earlier) and the maps applied to them.

    Nothing runs until `RayOutput.stage`, `RayOutput.write` or `RayRunner.collect`; `dataset()` gives the Ray
    Dataset for anything else (its rows carry the internal `__hfr_block` column).
    """

    plan: SourcePlan
    origin: str  # the user's source, for the manifest
    root_fingerprint: str
    steps: tuple[Step, ...] = ()
    history: tuple[str, ...] = ()  # worker names of stages this was read back from
    source_schema: pa.Schema | None = None  # the input's schema (metadata included), kept through stages
    inputs: tuple[Block, ...] = ()  # the input blocks (a stage's blocks are its shards; the manifest names these)

    @property
    def fingerprint(self) -> str:
        return digest(self.root_fingerprint, *(s.fingerprint for s in self.steps))

    @property
    def step_names(self) -> list[str]:
        return [*self.history, *(s.name for s in self.steps)]

    @property
    def num_blocks(self) -> int:
        return len(self.plan.blocks)


# ---- what runs on the workers --------------------------------------------------------------------------------

def _read_blocks(batch: pa.Table, plan: SourcePlan) -> pa.Table:
    """Ray task: the blocks named in `batch` (one, as planned) read and tagged with their index. A block that
    cannot be parsed comes back as an error row (I/O errors are left to Ray's own retries)."""
    tables = []
    for index in batch.column("block").to_pylist():
        try:
            table = read_block(plan, plan.blocks[index])
        except HfAnonError as err:
            return _error_table(index, err)
        tables.append(table.append_column(BLOCK_COLUMN, pa.array([index] * table.num_rows, pa.int32())))
    return pa.concat_tables(tables) if len(tables) != 1 else tables[0]


def _project(table: pa.Table, columns: list[str]) -> pa.Table:
    if ERROR_COLUMN in table.column_names:
        return table
    missing = [c for c in columns if c not in table.column_names]
    if missing:
        index = table.column(BLOCK_COLUMN)[0].as_py() if table.num_rows else -1
        return _error_table(index, InputError(f"no column {', '.join(missing)} in the mapped rows"))
    return table.select([*columns, BLOCK_COLUMN])


def _error_table(index: int, err: HfAnonError) -> pa.Table:
    """A failure as data: one row naming the block and the error (class and one-line message, nothing else).

    Workers' failures travel to the driver this way rather than as exceptions: the driver stops at the first one
    it meets in block order (so every earlier block is written and can be resumed), closes the run as a normal
    stop, and Ray logs no traceback (a Ray task error's traceback holds the executor and its actors alive as long
    as anything keeps the log record).
    """
    payload = {"module": type(err).__module__, "cls": type(err).__qualname__, "message": str(err)}
    if isinstance(err, WorkerFailed):
        payload.update(worker=err.worker, block=err.block, error=err.error)
    return pa.table({BLOCK_COLUMN: pa.array([index], pa.int32()), ERROR_COLUMN: [json.dumps(payload)]})


def _error_from(payload: str) -> HfAnonError:
    import importlib

    data = json.loads(payload)
    if data["cls"] == "WorkerFailed":
        return WorkerFailed(data["worker"], data["block"], data["error"])
    try:
        cls = getattr(importlib.import_module(data["module"]), data["cls"])
        if isinstance(cls, type) and issubclass(cls, HfAnonError):
            return cls(data["message"])
    except (ImportError, AttributeError, TypeError):
        pass
    return RayRunError(data["message"])


class _Adapter:
    """Ray actor body around one worker (`runners.base.BatchWorker`): Arrow in, the worker's dict-of-lists, Arrow out.

    Columns the worker returns under an input column's name keep that column's Arrow type (so `messages` stays a
    list of structs with the same fields, strings stay `string` or `large_string`); new columns take the type the
    worker declares in a class attribute `output_types = {name: pa.DataType}`, else the one pyarrow infers. Each
    input block is cut into calls of `batch_size` rows, never mixing two blocks in one call. A worker that fails
    to start or raises turns the block into an error row (see `_error_table`).
    """

    def __init__(self, worker_cls: type, spec: Any, batch_size: int):
        self.name = worker_cls.__qualname__
        self.batch_size = max(1, int(batch_size))
        self.output_types: dict[str, pa.DataType] = dict(getattr(worker_cls, "output_types", None) or {})
        self.worker = None
        self.init_error: HfAnonError | None = None
        try:
            self.worker = worker_cls(spec)
        except HfAnonError as err:
            self.init_error = err
        except Exception as err:  # noqa: BLE001 - named by type only
            self.init_error = WorkerFailed(self.name, None, type(err).__name__)

    def __call__(self, table: pa.Table) -> pa.Table:
        if ERROR_COLUMN in table.column_names:
            return table  # an earlier step failed on this block: pass the error on
        blocks = table.column(BLOCK_COLUMN)
        if self.init_error is not None:
            return _error_table(blocks[0].as_py() if len(blocks) else -1, self.init_error)
        outputs = []
        for index, start, stop in _runs(blocks):
            rows = table.slice(start, stop - start).drop_columns([BLOCK_COLUMN])
            for offset in range(0, rows.num_rows, self.batch_size):
                try:
                    result = self._call(rows.slice(offset, self.batch_size), index)
                except HfAnonError as err:
                    return _error_table(index, err)
                outputs.append(result.append_column(BLOCK_COLUMN, pa.array([index] * result.num_rows, pa.int32())))
        if not outputs:
            return table.slice(0, 0)
        return outputs[0] if len(outputs) == 1 else pa.concat_tables(outputs, promote_options="permissive")

    def _call(self, piece: pa.Table, index: int) -> pa.Table:
        try:
            result = self.worker(piece.to_pydict())
        except HfAnonError:
            raise
        except Exception as err:  # noqa: BLE001 - named by type only
            raise WorkerFailed(self.name, index, type(err).__name__) from None
        try:
            return self._to_table(result, piece.schema)
        except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError, ValueError, OverflowError) as err:
            raise WorkerFailed(self.name, index, f"output not representable in Arrow: {type(err).__name__}") from None

    def _to_table(self, result: dict[str, list], schema: pa.Schema) -> pa.Table:
        return batch_to_table(result, schema, self.output_types)


def batch_to_table(batch: dict[str, list], schema: pa.Schema,
                   declared: dict[str, pa.DataType] | None = None) -> pa.Table:
    """A dict-of-lists batch back to Arrow: a column named like one of `schema` keeps that field's type (and
    metadata), so nested types survive the round trip unchanged; `declared` types first; others inferred."""
    declared = declared or {}
    arrays, fields = [], []
    for name, values in batch.items():
        kept = schema.field(name) if name in schema.names else None
        array = None
        if name in declared:
            array = pa.array(values, type=declared[name])
        elif kept is not None:
            try:
                array = pa.array(values, type=kept.type)
            except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError, OverflowError):
                array = None  # the worker changed the column's type: infer it
        if array is None:
            array = pa.array(values)
        arrays.append(array)
        fields.append(kept.with_type(array.type) if kept is not None else pa.field(name, array.type))
    return pa.Table.from_arrays(arrays, schema=pa.schema(fields))


def _runs(column: pa.ChunkedArray) -> Iterator[tuple[int, int, int]]:
    """(value, start, stop) of each run of equal values in an int column."""
    values = column.to_pylist()
    start = 0
    for i in range(1, len(values) + 1):
        if i == len(values) or values[i] != values[start]:
            yield values[start], start, i
            start = i


# ---- the runner ----------------------------------------------------------------------------------------------

class RayRunner:
    """Connect to a Ray cluster (or start a local Ray), plan, map, collect and write. Use as a context manager.

    `address`: a cluster's address (`host:6379`, `ray://...`, `auto`); None uses `RAY_ADDRESS` when set (as under
    `ray job submit`), else starts a private local Ray with this machine's CPUs, shut down on exit. A Ray already
    initialised in this process is used as it is and left running.
    """

    def __init__(self, address: str | None = None, num_actors: int | None = None, *,
                 cpus_per_actor: float | None = None, block_bytes: int | None = None, block_rows: int | None = None,
                 runtime_env: dict | None = None, temp_dir: str | None = None, num_cpus: int | None = None):
        self.address = address
        self._num_actors = num_actors
        self._cpus_per_actor = cpus_per_actor
        env_bytes, env_rows = default_block_sizes()
        self.block_bytes = block_bytes or env_bytes
        self.block_rows = block_rows or env_rows
        # sizes nobody chose may shrink so that every actor gets several blocks (`read`)
        self._sizes_chosen = bool(block_bytes or block_rows or os.environ.get("HF_ANON_MCP_RAY_BLOCK_BYTES")
                                  or os.environ.get("HF_ANON_MCP_RAY_BLOCK_ROWS"))
        self.runtime_env = runtime_env
        self.temp_dir = temp_dir
        self.num_cpus = num_cpus
        self.num_actors = 0
        self.cpus_per_actor = 0.0
        self.startup_seconds = 0.0
        self._started = False
        self._saved_context: dict[str, Any] = {}
        self._saved_logging: tuple[int, bool] = (logging.NOTSET, True)
        self._node_id = ""
        self._private = False  # a local Ray this runner started: one node, now and later

    # -- lifecycle --
    def __enter__(self) -> "RayRunner":
        ray = _ray()
        began = time.perf_counter()
        _route_ray_prints_to_stderr()
        if not ray.is_initialized():
            self._init(ray)
            self._started = True
        try:
            cpus = float(ray.cluster_resources().get("CPU", 1.0))
            self.num_actors, self.cpus_per_actor = actor_plan(cpus, self._num_actors, self._cpus_per_actor)
            self._node_id = ray.get_runtime_context().get_node_id()
            self._configure_data()
        except BaseException:
            self._shutdown()
            raise
        self.startup_seconds = time.perf_counter() - began
        log.info("ray: %s actors x %.2f CPU on %.0f CPUs", self.num_actors, self.cpus_per_actor, cpus)
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        self._restore_data()
        self._shutdown()

    def _init(self, ray) -> None:
        address = self.address or os.environ.get("RAY_ADDRESS") or None
        common = dict(logging_level=logging.ERROR, log_to_driver=False, runtime_env=self.runtime_env)
        if address and not _reachable(address):
            raise RayRunError(f"cannot connect to the Ray cluster at {address} (nothing answers there)",
                              hint="check the address and that the cluster is running (ray status)")
        try:
            if address:
                ray.init(address=address, **common)
            else:
                ray.init(address="local", num_cpus=self.num_cpus or os.cpu_count() or 1, include_dashboard=False,
                         _temp_dir=self.temp_dir, **common)
                self._private = True
        except Exception as err:  # noqa: BLE001 - ConnectionError, AuthenticationError, ValueError...
            where = f"the Ray cluster at {address}" if address else "a local Ray"
            auth = "token" in str(err).lower() or "authenticat" in str(err).lower()
            hint = ("the cluster uses token authentication: set RAY_AUTH_MODE=token and the token "
                    "(RAY_AUTH_TOKEN or ~/.ray/auth_token) before starting" if auth
                    else "check the address and that the cluster is running (ray status)")
            raise RayRunError(f"cannot start {where} ({type(err).__name__})" if not address
                              else f"cannot connect to {where} ({type(err).__name__})", hint=hint) from None

    def _shutdown(self) -> None:
        if self._started:
            import ray

            ray.shutdown()
            self._started = False

    def _configure_data(self) -> None:
        from ray.data import DataContext

        ctx = DataContext.get_current()
        wanted = {"enable_progress_bars": False, "print_on_execution_start": False, "enable_auto_log_stats": False,
                  # Ray Data reserves a share of the cluster per operator; on a small cluster that left the detect
                  # actor pool one actor while the other idled (1 -> 2 actors: 1.11x; without: 1.29x at 20k rows)
                  "op_resource_reservation_enabled": False,
                  # Output is kept in input order: blocks finished after a slow one wait on the driver's side.
                  # At Ray's ratio (2: outputs up to 3x what the driver is reading) they stopped feeding the other
                  # actors (20k rows: one of two actors idle up to 19 s of a 75 s pass); 32 still bounds buffering.
                  "downstream_capacity_backpressure_ratio": DOWNSTREAM_RATIO,
                  "max_errored_blocks": 0, "raise_original_map_exception": True}
        self._saved_context = {name: getattr(ctx, name) for name in wanted}
        self._saved_context["preserve_order"] = ctx.execution_options.preserve_order
        for name, value in wanted.items():
            setattr(ctx, name, value)
        ctx.execution_options.preserve_order = True  # output rows in input order, shards in block order
        # Ray Data has its own handlers (stderr and a session log file); its records, which can carry tracebacks
        # holding Ray objects, stay out of the application's handlers (the MCP server's, a log buffer), and its
        # INFO chatter ("execution finished in ...") out of stderr.
        data_logger = logging.getLogger("ray.data")
        self._saved_logging = (data_logger.level, data_logger.propagate)
        data_logger.setLevel(logging.ERROR)
        data_logger.propagate = False

    def _restore_data(self) -> None:
        if not self._saved_context:
            return
        from ray.data import DataContext

        ctx = DataContext.get_current()
        data_logger = logging.getLogger("ray.data")
        data_logger.level, data_logger.propagate = self._saved_logging
        saved = dict(self._saved_context)
        ctx.execution_options.preserve_order = saved.pop("preserve_order")
        for name, value in saved.items():
            setattr(ctx, name, value)
        self._saved_context = {}

    # -- planning --
    def read(self, source: str, *, schema: pa.Schema | None = None, max_rows: int | None = None) -> Blocks:
        """Plan `source` (a local file or folder of Parquet / JSON Lines / JSON / CSV, or any s3://, gs://, hf://...
        URI): list its files, hash them, cut them into blocks. Nothing is read on the cluster yet. `max_rows`: its
        first rows only (Parquet and JSON Lines)."""
        def planned(block_bytes: int, block_rows: int) -> SourcePlan:
            plan = plan_source(source, block_bytes=block_bytes, block_rows=block_rows, schema=schema)
            return first_rows(plan, max_rows) if max_rows else plan

        plan = planned(self.block_bytes, self.block_rows)
        want = BLOCKS_PER_ACTOR * max(1, self.num_actors)
        if not self._sizes_chosen and 0 < len(plan.blocks) < want:
            # a small input in a few big blocks leaves actors idle at the end (9 blocks on 2 actors: 5 rounds);
            # smaller blocks balance them. Large inputs keep the default sizes (and their shard count).
            factor = -(-want // len(plan.blocks))
            plan = planned(max(MIN_BLOCK_BYTES, self.block_bytes // factor),
                           max(MIN_BLOCK_ROWS, self.block_rows // factor))
        return Blocks(plan=plan, origin=source, root_fingerprint=digest("source", plan.fingerprint),
                      source_schema=plan.schema, inputs=plan.blocks)

    def map(self, blocks: Blocks, worker_cls: type, spec: Any, *, batch_size: int = 256,
            fingerprint: str | None = None) -> Blocks:
        """Apply `worker_cls(spec)` (built once per actor) to every batch of `batch_size` rows; lazy.

        `fingerprint` (optional) names the spec for resume; by default a digest of the spec's JSON or pickle.
        """
        if not callable(worker_cls) or not isinstance(worker_cls, type):
            raise InputError("map needs a worker class (see runners.base.BatchWorker)")
        step = Step(worker_cls, spec, batch_size, digest(f"{worker_cls.__module__}.{worker_cls.__qualname__}",
                                                         fingerprint or spec_digest(spec)))
        return replace(blocks, steps=(*blocks.steps, step))

    def dataset(self, blocks: Blocks, *, skip: set[str] | frozenset[str] = frozenset()):
        """The Ray Dataset of `blocks` (minus the blocks whose key is in `skip`), in block order."""
        ray = _ray()
        plan = blocks.plan
        todo = [b.index for b in plan.blocks if b.key not in skip]
        if not todo:
            return None
        read_args: dict[str, Any] = dict(batch_format="pyarrow", batch_size=None, num_cpus=READ_CPUS,
                                         fn_kwargs={"plan": plan})  # serialised once with the operator
        if blocks.steps and (self._private or not plan.local):
            # Read inside the first step's actors: with the same CPU request Ray Data fuses the read into the actor
            # pool's tasks, so no read worker processes start (each pass started two, booting while the actors
            # loaded their models) and no block crosses the object store between reading and mapping. Local files
            # only on our own local Ray: a cluster's actors may land on nodes without them, now or after scaling.
            read_args["num_cpus"] = self.cpus_per_actor
        elif plan.local:
            read_args["label_selector"] = {"ray.io/node-id": self._node_id}  # the files are on this node's disk
        ds = ray.data.from_items([{"block": i} for i in todo], override_num_blocks=len(todo))
        ds = ds.map_batches(_read_blocks, **read_args)
        for step in blocks.steps:
            ds = self._map_step(ds, step, len(todo))
        return ds

    def _map_step(self, ds, step: Step, blocks: int):
        from ray.data import ActorPoolStrategy

        return ds.map_batches(_Adapter, fn_constructor_args=(step.worker_cls, step.spec, step.batch_size),
                              batch_format="pyarrow", batch_size=None, zero_copy_batch=True,
                              compute=ActorPoolStrategy(size=max(1, min(self.num_actors, blocks))),
                              num_cpus=self.cpus_per_actor)

    def stream(self, worker_cls: type, spec: Any, batches: Iterable[Batch]) -> Iterator[Batch]:
        """The local pool's `map(worker_cls, spec, batches)` on the actor pool: batches made on the driver (e.g.
        the verification sample), each mapped as one call, results in order. All batches are put in the object
        store first: for small inputs only; datasets go through `read` and `map`."""
        ray = _ray()
        tables = [pa.Table.from_pydict(b) for b in batches]
        if not tables:
            return
        tagged = [t.append_column(BLOCK_COLUMN, pa.array([i] * t.num_rows, pa.int32())) for i, t in enumerate(tables)]
        plan = SourcePlan(source="stream:", uri="", local=False, fmt="parquet", schema=tables[0].schema,
                          blocks=tuple(Block(i, "", "parquet", 0, t.num_rows, "", name=f"stream-{i}")
                                       for i, t in enumerate(tables)))
        step = Step(worker_cls, spec, max(t.num_rows for t in tables) or 1, "")
        ds = ray.data.from_arrow(tagged)
        rows = self._iterate(self._map_step(ds, step, len(tables)),
                             Blocks(plan=plan, origin="stream:", root_fingerprint=""))
        ds = None  # only the iterator holds the run (see `_iterate` on failures)
        for _, table in rows:
            yield table.to_pydict()

    @property
    def pool(self) -> "_PoolView":
        """An object with the local pool's `map(worker_cls, spec, batches)`, for code written against it."""
        return _PoolView(self)

    def iter_blocks(self, blocks: Blocks, *, skip: set[str] | frozenset[str] = frozenset(),
                    columns: list[str] | None = None) -> Iterator[tuple[Block, pa.Table]]:
        """Run `blocks` and yield (block, its rows) in block order, on the driver. Errors become `HfAnonError`."""
        ds = self.dataset(blocks, skip=skip)
        if ds is None:
            return
        if columns is not None:  # only these columns leave the cluster (error rows pass as they are)
            ds = ds.map_batches(_project, fn_kwargs={"columns": columns}, batch_format="pyarrow", batch_size=None,
                                num_cpus=READ_CPUS)
        rows, ds = self._iterate(ds, blocks), None  # only the iterator holds the run (see `_iterate`)
        yield from rows

    def _iterate(self, ds, blocks: Blocks) -> Iterator[tuple[Block, pa.Table]]:
        batches = ds.iter_batches(batch_format="pyarrow", batch_size=None, prefetch_batches=1)
        last = -1
        pending: tuple[int, list[pa.Table]] | None = None
        error: HfAnonError | None = None
        try:
            for table in batches:
                if ERROR_COLUMN in table.column_names:
                    failed = [v for v in table.column(ERROR_COLUMN).to_pylist() if v]
                    if failed:
                        failed_block = table.column(BLOCK_COLUMN)[0].as_py()
                        if pending is not None and pending[0] != failed_block:
                            yield blocks.plan.blocks[pending[0]], _concat(pending[1])  # complete: keep it
                            pending = None
                        raise _error_from(failed[0])
                    table = table.drop_columns([ERROR_COLUMN])  # merged with an error block upstream: rows
                for index, start, stop in _runs(table.column(BLOCK_COLUMN)):
                    part = table.slice(start, stop - start).drop_columns([BLOCK_COLUMN])
                    if pending is not None and pending[0] == index:
                        pending[1].append(part)
                        continue
                    if index < last:
                        raise RayRunError("internal error: blocks arrived out of order")
                    if pending is not None:
                        yield blocks.plan.blocks[pending[0]], _concat(pending[1])
                    pending, last = (index, [part]), index
            if pending is not None:
                yield blocks.plan.blocks[pending[0]], _concat(pending[1])
        except (KeyboardInterrupt, SystemExit, GeneratorExit):
            raise
        except BaseException as exc:  # noqa: BLE001 - every failure becomes one HfAnonError line
            error = _translate(exc)
        finally:
            close = getattr(batches, "close", None)
            if close is not None:
                close()
        if error is not None:
            # The failed run's actors live as long as something holds their handles, and the tracebacks of Ray's
            # exceptions do (through the executor's frames): drop them so the actors (and their CPUs) go now,
            # not when the caller lets go of the error. Raised outside the `except` so no context is chained.
            ds = batches = pending = None
            gc.collect()
            raise error

    def collect(self, blocks: Blocks, column: str, *, merge: Callable[[Any, Any], Any],
                loads: Callable[[Any], Any] = pickle.loads, initial: Any = None) -> Any:
        """Fold the non-null cells of `column` on the driver, in row order: `acc = merge(acc, loads(cell))`.

        This is how per-block partial statistics (a pickled partial on a block's first row, say) become the
        dataset's statistics: only `column` leaves the cluster. From a stage, the column is read straight from the
        stage's shards without running anything. `merge` should be associative: batch boundaries differ between
        runners, block order does not.
        """
        acc = initial

        def fold(values: list) -> None:
            nonlocal acc
            for value in values:
                if value is not None:
                    item = loads(value)
                    acc = item if acc is None else merge(acc, item)

        if blocks.plan.source.startswith("stage:") and not blocks.steps:
            for block in blocks.plan.blocks:
                fold(pq.read_table(block.file, columns=[column]).column(column).to_pylist())
            return acc
        for _, table in self.iter_blocks(blocks, columns=[column]):
            fold(table.column(column).to_pylist())
        return acc

    # -- output --
    def output(self, out_dir: str | Path, *, fmt: OutputFormat = "parquet", resume: bool = False,
               overwrite: bool = False, progress: Callable[[int], None] | None = None) -> "RayOutput":
        """A folder of shards being built; see `RayOutput`."""
        return RayOutput(self, Path(out_dir), fmt=fmt, resume=resume, overwrite=overwrite, progress=progress)

    def write(self, blocks: Blocks, out_dir: str | Path, *, fmt: OutputFormat = "parquet", resume: bool = False,
              overwrite: bool = False, progress: Callable[[int], None] | None = None) -> "WriteResult":
        """Run `blocks` and publish them as `out_dir/part-00000.<fmt>`... plus `_manifest.json`."""
        with self.output(out_dir, fmt=fmt, resume=resume, overwrite=overwrite, progress=progress) as out:
            result = out.write(blocks)
        return result


def _route_ray_prints_to_stderr() -> None:
    """Ray's driver prints the cluster's error messages (an actor died, a task will be retried) on stdout, with
    `print`, even with `log_to_driver=False`; stdout is the MCP transport and the CLI's result. Those messages go to
    stderr instead. (Ray looks `print_to_stdstream` up on its module at each message; if a Ray release moves it,
    the stdout test fails.)"""
    try:
        from ray._private import worker
    except ImportError:  # pragma: no cover - a Ray without it
        return
    original = getattr(worker, "print_to_stdstream", None)
    if original is None or getattr(original, "_hfanon", False):
        return

    def to_stderr(data, ignore_prefix, _original=original):
        return _original({**data, "is_err": True}, ignore_prefix)

    to_stderr._hfanon = True
    worker.print_to_stdstream = to_stderr


class _PoolView:
    def __init__(self, runner: RayRunner):
        self.runner = runner

    def map(self, worker_cls: type, spec: Any, batches: Iterable[Batch]) -> Iterator[Batch]:
        return self.runner.stream(worker_cls, spec, batches)


def _reachable(address: str, timeout: float = 5.0) -> bool:
    """Does anything accept a TCP connection at `host:port`? (`ray.init` retries an unreachable address for
    minutes.) Addresses that are not `host:port` (`auto`, `ray://...`) are left to Ray."""
    import socket

    host, sep, port = address.rpartition(":")
    if not sep or "://" in address or not port.isdigit():
        return True
    try:
        with socket.create_connection((host.strip("[]"), int(port)), timeout=timeout):
            return True
    except OSError:
        return False


def _concat(parts: list[pa.Table]) -> pa.Table:
    return parts[0] if len(parts) == 1 else pa.concat_tables(parts, promote_options="permissive")


def _translate(exc: BaseException) -> HfAnonError:
    """What a Ray run raised, as one `HfAnonError` line (never a worker's message or a traceback). Tracebacks of
    the chain are cleared: they hold the failed run's executor and actor handles."""
    found = _find_error(exc)
    if found is None:
        found = RayRunError(f"Ray run failed ({_root_name(exc)})", hint="after Ray's retries")
    for err in list(_chain(exc)):
        err.__traceback__ = None
    found.__traceback__ = None
    found.__context__ = None
    found.__cause__ = None
    return found


def _chain(exc: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    stack = [exc]
    while stack:
        err = stack.pop()
        if err is None or id(err) in seen:
            continue
        seen.add(id(err))
        yield err
        stack.extend([getattr(err, "cause", None), err.__cause__, err.__context__,
                      *(a for a in getattr(err, "args", ()) if isinstance(a, BaseException))])


def _is_ray_wrapper(err: BaseException) -> bool:
    return type(err).__module__.startswith("ray.") or "RayTaskError" in type(err).__name__


def _find_error(exc: BaseException) -> HfAnonError | None:
    """The first `HfAnonError` in the chain that is not a Ray wrapper (Ray's `RayTaskError(X)` subclasses X but
    prints a traceback); rebuilt from its args when only the wrapper is at hand."""
    for err in _chain(exc):
        if isinstance(err, HfAnonError):
            if not _is_ray_wrapper(err):
                return err
            cause = getattr(err, "cause", None)
            if isinstance(cause, HfAnonError):
                return cause
    return None


def _root_name(exc: BaseException) -> str:
    names = [type(e).__name__ for e in _chain(exc)]
    return names[-1] if names else type(exc).__name__


# ---- the output folder ---------------------------------------------------------------------------------------

class WriteResult(BaseModel):
    """What `write` published."""

    path: str
    format: str
    rows: int
    shards: int
    resumed_blocks: int
    manifest: str


class RayOutput:
    """An output folder under construction: shards go to a hidden work folder beside `out_dir`
    (`.<name>.hfanon-ray-partial/`), renamed into place when the `with` block ends without an error.

    On an error or interrupt nothing is published and the work folder stays, holding the finished shards and
    their journal: a later run with `resume=True` reuses those (and finished stages) whose blocks and pipeline
    are unchanged; a later run without it starts over and removes them.
    """

    def __init__(self, runner: RayRunner, out_dir: Path, *, fmt: OutputFormat, resume: bool, overwrite: bool,
                 progress: Callable[[int], None] | None):
        if fmt not in _EXT:
            raise InputError(f"unsupported output format '{fmt}'", hint="parquet or jsonl")
        self.runner = runner
        self.out_dir = out_dir.expanduser().absolute()
        self.fmt = fmt
        self.resume = resume
        self.overwrite = overwrite
        self.progress = progress
        self.work = self.out_dir.parent / f".{self.out_dir.name}{_PARTIAL}"
        self._result: tuple[Blocks, dict[str, ShardRecord], set[str]] | None = None
        self._side: tuple[str, ...] = ()
        self._published: WriteResult | None = None

    def __enter__(self) -> "RayOutput":
        from hf_anon_mcp.data.writer import check_output

        check_output(self.out_dir, None, overwrite=self.overwrite)
        if self.out_dir.exists() and not self.out_dir.is_dir():
            raise InputError(f"output exists and is not a folder: {self.out_dir.name}")
        if self.work.exists() and not self.resume:
            shutil.rmtree(self.work)
        try:
            self.work.mkdir(exist_ok=True)
        except OSError as err:
            raise AccessError(f"cannot create the work folder beside the output ({err.strerror})") from None
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None and self._result is not None:
            self._published = self._publish()
            return
        if exc_type is not None:
            log.error("ray: nothing published; finished shards kept in %s (run again with resume to reuse them)",
                      self.work)

    @property
    def result(self) -> WriteResult | None:
        return self._published

    def stage(self, name: str, blocks: Blocks) -> Blocks:
        """Run `blocks` now and keep their rows in the work folder (one Parquet shard per block); returns the
        same blocks read back from there, so later maps (and `collect`) do not run the earlier ones again.
        Resumable like the output itself."""
        if not name.replace("-", "").replace("_", "").isalnum():
            raise InputError("a stage name is letters, digits, - and _")
        folder = self.work / "_stages" / name
        folder.mkdir(parents=True, exist_ok=True)
        records, _ = self._run(blocks, folder, "parquet")
        schemas = [pq.read_schema(folder / records[b.key].shard) for b in blocks.plan.blocks]
        schema = unify(schemas)
        staged = tuple(Block(b.index, str(folder / records[b.key].shard), "parquet", 0, records[b.key].rows,
                             b.file_hash, name=b.key) for b in blocks.plan.blocks)
        plan = SourcePlan(source=f"stage:{name}", uri=str(folder), local=True, fmt="parquet", schema=schema,
                          blocks=staged)
        return Blocks(plan=plan, origin=blocks.origin, root_fingerprint=blocks.fingerprint,
                      history=tuple(blocks.step_names), source_schema=blocks.source_schema, inputs=blocks.inputs)

    def write(self, blocks: Blocks, *, keep_apart: tuple[str, ...] | list[str] = (), schema: pa.Schema | None = None,
              each: Callable[[dict[str, list]], dict[str, list]] | None = None) -> WriteResult:
        """Run `blocks` into the output's shards; published when the `with` block ends. Returns what will be
        published (also in `result` afterwards).

        `keep_apart`: columns the workers add for the driver (per-batch reports, samples) rather than for the
        output: they are left out of the shards and kept beside them, block by block, resumed blocks included;
        read them with `side(column)` before the `with` block ends.
        `schema`: the output's schema (e.g. the input's features minus dropped columns); every shard is cast to it.
        Default: the input's schema when the columns are the input's, else the types the rows carry.
        `each`: a function applied on the driver to each block's rows, in block order, before writing (a batch in,
        a batch out; e.g. numbering placeholders in order of first appearance). Blocks reused by `resume` do not
        pass through it again, so a stateful `each` should go with a spec that changes per run (no reuse).
        """
        if self._result is not None:
            raise InputError("an output is written once")
        self._side = tuple(keep_apart)
        records, resumed = self._run(blocks, self.work, self.fmt, cast_to=schema or blocks.source_schema,
                                     keep_apart=self._side, each=each, strict=schema is not None)
        self._result = (blocks, records, resumed)
        rows = sum(r.rows for r in records.values())
        return WriteResult(path=str(self.out_dir), format=self.fmt, rows=rows, shards=len(blocks.plan.blocks),
                           resumed_blocks=len(resumed), manifest=str(self.out_dir / "_manifest.json"))

    def side(self, column: str) -> Iterator[Any]:
        """The values of a `keep_apart` column, every block in order (those of resumed blocks included)."""
        if self._result is None or column not in self._side:
            raise InputError(f"{column} was not kept apart by write()")
        blocks, records, _ = self._result
        for block in blocks.plan.blocks:
            record = records[block.key]
            if record.side is None:
                continue
            table = pq.read_table(self.work / record.side)
            if column in table.column_names:
                yield from table.column(column).to_pylist()

    # -- internals --
    def _run(self, blocks: Blocks, folder: Path, fmt: str, cast_to: pa.Schema | None = None,
             keep_apart: tuple[str, ...] = (), each: Callable[[dict[str, list]], dict[str, list]] | None = None,
             strict: bool = False) -> tuple[dict[str, ShardRecord], set[str]]:
        plan = blocks.plan
        journal = Journal(folder, digest(blocks.fingerprint, fmt), fmt)
        kept = journal.reusable({b.key for b in plan.blocks}) if self.resume else {}
        keep = {r.shard for r in kept.values()} | {r.side for r in kept.values() if r.side}
        for stale in folder.glob("blk-*"):
            if stale.name not in keep:
                stale.unlink()
        journal.start(kept)
        if kept:
            log.info("ray: resuming, %d of %d blocks already written", len(kept), len(plan.blocks))
        records = dict(kept)
        schema_seen: pa.Schema | None = None
        for block, table in self.runner.iter_blocks(blocks, skip=set(kept)):
            apart = [c for c in keep_apart if c in table.column_names]
            side = None
            if apart:  # written before the shard and its journal line: a journalled shard has its side file
                side = _write_shard(folder, f"{block.key}.side", table.select(apart), "parquet").shard
                table = table.drop_columns(apart)
            if each is not None:
                table = batch_to_table(each(table.to_pydict()), table.schema)
            table = _fit(table, cast_to, strict=strict)
            schema_seen = schema_seen or table.schema
            record = _write_shard(folder, block.key, table, fmt)
            record.side = side
            journal.append(record)
            records[block.key] = record
            if self.progress is not None:
                self.progress(record.rows)
        for block in plan.blocks:  # blocks that produced no rows still get their (empty) shard
            if block.key not in records:
                empty = (schema_seen or cast_to or pa.schema([])).empty_table()
                record = _write_shard(folder, block.key, empty, fmt)
                journal.append(record)
                records[block.key] = record
        return records, set(kept)

    def _publish(self) -> WriteResult:
        blocks, records, resumed = self._result
        ext = _EXT[self.fmt]
        plan = blocks.plan
        if self.fmt == "parquet":
            _unify_shards([self.work / records[b.key].shard for b in plan.blocks])
        entries = []
        for block in blocks.inputs or plan.blocks:
            record = records[block.key]
            final = f"part-{block.index:05d}.{ext}"
            os.replace(self.work / record.shard, self.work / final)
            entries.append(BlockRecord(index=block.index, file=block.file, format=block.fmt, start=block.start,
                                       stop=block.stop, file_hash=block.file_hash, key=block.key, shard=final,
                                       rows=record.rows, resumed=block.key in resumed))
        manifest = Manifest(source=blocks.origin, format=self.fmt, steps=blocks.step_names,
                            fingerprint=digest(blocks.fingerprint, self.fmt), rows=sum(e.rows for e in entries),
                            blocks=entries)
        manifest.write(self.work)
        (self.work / JOURNAL).unlink(missing_ok=True)
        shutil.rmtree(self.work / "_stages", ignore_errors=True)
        for side in self.work.glob("blk-*"):  # the kept-apart columns' files
            side.unlink()
        if self.out_dir.exists():  # overwrite was checked on entry
            old = self.out_dir.parent / f".{self.out_dir.name}.hfanon-{os.getpid()}-old"
            os.replace(self.out_dir, old)
            os.replace(self.work, self.out_dir)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(self.work, self.out_dir)
        return WriteResult(path=str(self.out_dir), format=self.fmt, rows=manifest.rows, shards=len(entries),
                           resumed_blocks=len(resumed), manifest=str(self.out_dir / "_manifest.json"))


def _fit(table: pa.Table, schema: pa.Schema | None, *, strict: bool = False) -> pa.Table:
    """Cast to `schema` (types and metadata). Not strict (the input's schema by default): only when the columns
    are the schema's, else as is. Strict (a schema the caller gave): always, or one clear error."""
    if schema is None or (not strict and table.schema.names != schema.names):
        return table
    if table.schema.equals(schema, check_metadata=True):
        return table
    try:
        return table.select(schema.names).cast(schema)
    except (KeyError, pa.ArrowInvalid, pa.ArrowTypeError, ValueError):
        if strict:
            extra = sorted(set(table.schema.names) - set(schema.names))
            missing = sorted(set(schema.names) - set(table.schema.names))
            detail = f"; extra: {', '.join(extra)}" if extra else ""
            detail += f"; missing: {', '.join(missing)}" if missing else ""
            raise RayRunError(f"the mapped rows do not fit the output schema{detail}") from None
        return table


def _write_shard(folder: Path, key: str, table: pa.Table, fmt: str) -> ShardRecord:
    """One block's rows to `blk-<key>.<ext>`, written to a temporary name, fsync'ed, then renamed."""
    name = f"blk-{key}.{_EXT[fmt]}"
    tmp = folder / f".{name}.tmp"
    try:
        if fmt == "parquet":
            pq.write_table(table, tmp)
        else:
            with tmp.open("w", encoding="utf-8", newline="") as fh:
                fh.writelines(json.dumps(row, ensure_ascii=False, default=str) + "\n" for row in table.to_pylist())
        with tmp.open("rb") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, folder / name)
    except OSError as err:
        tmp.unlink(missing_ok=True)
        raise AccessError(f"writing a shard failed ({err.strerror or type(err).__name__})") from None
    return ShardRecord(key=key, shard=name, rows=table.num_rows, bytes=(folder / name).stat().st_size)


def _unify_shards(paths: list[Path]) -> None:
    """Parquet shards of one output must share a schema (a column all null in one block is `null`-typed there):
    rewrite the few that differ, cast to the unified schema."""
    schemas = [pq.read_schema(p) for p in paths]
    if all(s.equals(schemas[0], check_metadata=False) for s in schemas):
        return
    target = unify(schemas)
    for path, schema in zip(paths, schemas):
        if not schema.equals(target, check_metadata=False):
            tmp = path.with_name(f".{path.name}.tmp")
            pq.write_table(pq.read_table(path).cast(target), tmp)
            os.replace(tmp, path)


def load_worker(ref: str) -> type:
    """`module:Class` -> the class (for `--worker` options)."""
    import importlib

    module, _, name = ref.partition(":")
    if not module or not name:
        raise InputError("a worker is given as module:Class")
    try:
        obj = importlib.import_module(module)
        for part in name.split("."):
            obj = getattr(obj, part)
    except (ImportError, AttributeError):
        raise InputError(f"cannot import worker {ref}") from None
    return obj


__all__ = ["RayRunner", "RayOutput", "Blocks", "WriteResult", "RayRunError", "RayMissingError", "WorkerFailed",
           "actor_plan", "load_worker", "BLOCK_COLUMN", "INSTALL_HINT"]
