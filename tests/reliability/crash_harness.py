"""Kill a run with SIGKILL, resume it in a new process, and check nothing was lost or re-done.

One trial: a worker process runs a workload (a graph or a functional run) on a durable backend
and is killed, at a random moment or by one of its own nodes at a fixed point. A second, new
process resumes the thread the way a user would (``invoke(None, config)``, or the input again
when not even the input was saved). Then:

- the final state equals the state of an uninterrupted run (computed in memory);
- no node or task whose result was saved before the kill ran again (every run is recorded in
  an append-only, fsynced side log, with the process that ran it);
- graph runs: what the killed process ran but did not save belongs to the step in flight (the
  checkpoint's ``next``);
- the backend checks clean (``PRAGMA integrity_check`` for SQLite) and the thread's history is
  one chain (each checkpoint's parent listed, no parent with two children) that decodes.

Backends are table rows (``BACKENDS``): a name, whether runs use the async API, how to open the
saver from a *location* (a directory for SQLite; a DSN for a server database), a sync saver for
inspection, and an integrity check. ``tests/reliability/test_crash_resume.py`` runs a few trials
of each; ``scripts/crash_trials.py`` runs thousands.

Workers are forked from the process running the trials (multiprocessing's "fork"), which holds
no saver open while they run, so a trial costs the run rather than an interpreter start (a
"forkserver" or "spawn" worker re-imports for about 1.5 s); each worker is still a new process
that shares nothing with the one that was killed.
"""

from __future__ import annotations

import asyncio
import hashlib
import multiprocessing
import operator
import os
import random
import signal
import sqlite3
import time
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import AbstractContextManager, asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, TypedDict

from threadloom.checkpoint.memory import InMemorySaver
from threadloom.checkpoint.postgres import PostgresSaver
from threadloom.checkpoint.postgres.aio import AsyncPostgresSaver
from threadloom.checkpoint.sqlite import SqliteSaver
from threadloom.checkpoint.sqlite.aio import AsyncSqliteSaver
from threadloom.func import entrypoint, task
from threadloom.graph import END, START, StateGraph

THREAD: Any = {"configurable": {"thread_id": "crash"}}
INPUT: Any = {"log": ["@input@"]}
NODE_SLEEP = 0.03  # seconds each node or task works: kills land inside steps, not between runs

# -- backends -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Backend:
    """A durable saver under test, as a table row."""

    name: str
    is_async: bool
    """Runs use ``ainvoke`` on an async saver (else ``invoke`` on a sync one)."""
    open_saver: Callable[[str], Any]
    """Location → context manager (async when ``is_async``) yielding a set-up saver."""
    inspector: Callable[[str], AbstractContextManager[Any]]
    """Location → context manager yielding a sync saver on the same data, for checks."""
    integrity: Callable[[str], list[str]]
    """Location → problems found by the database's own check (empty when clean)."""


def _sqlite_file(location: str) -> str:
    return str(Path(location) / "threads.db")


@contextmanager
def _sqlite_saver(location: str) -> Iterator[SqliteSaver]:
    with SqliteSaver.from_conn_string(_sqlite_file(location)) as saver:
        saver.setup()
        yield saver


@asynccontextmanager
async def _async_sqlite_saver(location: str) -> AsyncIterator[AsyncSqliteSaver]:
    async with AsyncSqliteSaver.from_conn_string(_sqlite_file(location)) as saver:
        await saver.setup()
        yield saver


def _sqlite_integrity(location: str) -> list[str]:
    conn = sqlite3.connect(_sqlite_file(location))
    try:
        rows = [row[0] for row in conn.execute("PRAGMA integrity_check")]
    finally:
        conn.close()
    return [] if rows == ["ok"] else rows


def _pg_dsn(location: str) -> str:
    """The database of a location, made on first use, on the session's PostgreSQL server (the
    parent starts it before forking workers: ``start_servers``)."""
    import psycopg
    from postgres_server import TEMPLATE, shared_server

    server = shared_server()
    name = "crash_" + hashlib.sha1(location.encode()).hexdigest()[:20]
    with psycopg.connect(server.uri(), autocommit=True) as conn:
        if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone() is None:
            conn.execute(f"CREATE DATABASE {name} TEMPLATE {TEMPLATE} STRATEGY FILE_COPY")  # type: ignore[call-overload]
    return server.uri(name)


@contextmanager
def _pg_saver(location: str) -> Iterator[PostgresSaver]:
    with PostgresSaver.from_conn_string(_pg_dsn(location)) as saver:
        saver.setup()
        yield saver


@asynccontextmanager
async def _async_pg_saver(location: str) -> AsyncIterator[AsyncPostgresSaver]:
    async with AsyncPostgresSaver.from_conn_string(_pg_dsn(location)) as saver:
        await saver.setup()
        yield saver


def _pg_integrity(location: str) -> list[str]:
    """PostgreSQL applies a transaction whole or not at all; the chain check does the rest."""
    _pg_dsn(location)
    return []


def start_servers(backend: str) -> None:
    """Start the server a backend needs in this process, before workers are forked from it."""
    if backend.startswith("postgres"):
        from postgres_server import shared_server

        shared_server()


BACKENDS: dict[str, Backend] = {
    "sqlite": Backend("sqlite", False, _sqlite_saver, _sqlite_saver, _sqlite_integrity),
    "aiosqlite": Backend("aiosqlite", True, _async_sqlite_saver, _sqlite_saver, _sqlite_integrity),
    "postgres": Backend("postgres", False, _pg_saver, _pg_saver, _pg_integrity),
    "postgres_async": Backend("postgres_async", True, _async_pg_saver, _pg_saver, _pg_integrity),
}
"""A Postgres saver joins as one more row (location: a DSN per trial, e.g. a fresh schema)."""

# -- workloads -----------------------------------------------------------------------------------


@dataclass
class Ctx:
    """What a worker's nodes need: where to record runs, and where to die (if anywhere)."""

    side_log: str = ""
    die_at: str | None = None
    die_after_saved: str | None = None
    """Before dying at ``die_at``, wait until this marker's result is saved."""
    location: str = ""
    backend: str = ""
    die_at_statement: int | None = None
    """SQLite: die as the saver's connection starts its n-th statement of the run (1-based), so
    inside a save's transaction too: a kill point in the saver, reached without timing."""
    count_statements_to: str = ""
    """SQLite: write how many statements the run's saver ran to this file when it ends."""


CTX = Ctx()


def _record(marker: str) -> None:
    """Append ``pid marker`` to the side log and fsync it; then die here if asked to."""
    if CTX.side_log:
        fd = os.open(CTX.side_log, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            os.write(fd, f"{os.getpid()} {marker}\n".encode())
            os.fsync(fd)
        finally:
            os.close(fd)
    if CTX.die_at == marker:
        if CTX.die_after_saved is not None:
            _wait_until_saved(CTX.die_after_saved)
        os.kill(os.getpid(), signal.SIGKILL)
    time.sleep(NODE_SLEEP)


def _wait_until_saved(marker: str, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    with BACKENDS[CTX.backend].inspector(CTX.location) as saver:
        while time.monotonic() < deadline:
            if marker in saved_markers(saver):
                return
            time.sleep(0.01)
    raise AssertionError(f"{marker!r} was not saved within {timeout} s")


class State(TypedDict):
    log: Annotated[list[str], operator.add]


def _node(name: str) -> Callable[[State], dict[str, list[str]]]:
    marker = f"@{name}@"

    def run(state: State) -> dict[str, list[str]]:
        _record(marker)
        return {"log": [marker]}

    return run


def build_graph(saver: Any) -> Any:
    """A chain, a fan-out of three parallel nodes joined again, and a chain."""
    builder = StateGraph(State)
    for name in ("a", "b", "c1", "c2", "c3", "d", "e"):
        builder.add_node(name, _node(name))
    builder.add_edge(START, "a")
    builder.add_edge("a", "b")
    for name in ("c1", "c2", "c3"):
        builder.add_edge("b", name)
    builder.add_edge(["c1", "c2", "c3"], "d")
    builder.add_edge("d", "e")
    builder.add_edge("e", END)
    return builder.compile(checkpointer=saver)


@task
def step(name: str, value: Any) -> str:
    marker = f"@{name}@"
    _record(marker)
    return f"{marker}{value!r}"


def build_functional(saver: Any) -> Any:
    """Tasks in a chain, three in parallel, and one over their results."""

    @entrypoint(checkpointer=saver)
    def flow(inputs: dict[str, Any]) -> list[str]:
        first = step("t1", inputs["log"]).result()
        parallel = [step(f"t{i}", first) for i in (2, 3, 4)]
        middle = [future.result() for future in parallel]
        last = step("t5", middle).result()
        return [first, *middle, last]

    return flow


WORKLOADS: dict[str, tuple[Callable[[Any], Any], tuple[str, ...]]] = {
    "graph": (build_graph, ("a", "b", "c1", "c2", "c3", "d", "e")),
    "functional": (build_functional, ("t1", "t2", "t3", "t4", "t5")),
}
"""Workload → (builder taking a saver, the names of its nodes or tasks, each run once)."""

KILL_POINTS: dict[str, list[tuple[str, str | None]]] = {
    "graph": [("@a@", None), ("@c2@", "@c1@"), ("@d@", None), ("@e@", None)],
    "functional": [("@t1@", None), ("@t3@", "@t2@"), ("@t5@", None)],
}
"""Deterministic kill points: (node that kills its own process, a peer saved before it dies)."""

# -- inspection ----------------------------------------------------------------------------------


def saved_markers(saver: Any) -> set[str]:
    """Markers of nodes and tasks whose results the saver holds for the thread (values of the
    latest checkpoint and its pending writes)."""
    found: set[str] = set()
    saved = saver.get_tuple(THREAD)
    if saved is None:
        return found
    text = repr(saved.checkpoint["channel_values"]) + repr(
        [value for _, _, value in saved.pending_writes or []]
    )
    for piece in text.split("@")[1::2]:
        found.add(f"@{piece}@")
    return found


def history_problems(saver: Any) -> list[str]:
    """A thread's checkpoints must form one chain that decodes."""
    listed = list(saver.list(THREAD))
    ids = {item.config["configurable"]["checkpoint_id"] for item in listed}
    children: dict[str, int] = {}
    problems = []
    for item in listed:
        parent = (item.parent_config or {}).get("configurable", {}).get("checkpoint_id")
        if parent is None:
            continue
        if parent not in ids:
            problems.append(f"parent {parent} of {item.config} is not listed")
        children[parent] = children.get(parent, 0) + 1
        if saver.get_tuple(item.config) is None:
            problems.append(f"{item.config} is listed but cannot be read")
    problems += [f"checkpoint {p} has {n} children (a fork)" for p, n in children.items() if n > 1]
    roots = [item for item in listed if item.parent_config is None]
    if listed and len(roots) != 1:
        problems.append(f"{len(roots)} checkpoints without a parent")
    return problems


# -- worker --------------------------------------------------------------------------------------


def _statement_tracer() -> Callable[[str], None] | None:
    """The trace callback that counts the saver's statements and dies at ``die_at_statement``
    (None when the worker needs neither)."""
    if CTX.die_at_statement is None and not CTX.count_statements_to:
        return None
    seen = [0]

    def trace(statement: str) -> None:
        seen[0] += 1
        if seen[0] == CTX.die_at_statement:
            os.kill(os.getpid(), signal.SIGKILL)  # before this statement runs
        if CTX.count_statements_to:
            Path(CTX.count_statements_to).write_text(str(seen[0]))

    return trace


def worker(workload: str, backend: str, location: str, ctx: Ctx, resume: bool, ready: Any) -> None:
    """Run (or resume) the thread; ``ready`` is set once the saver is open and the graph built."""
    CTX.__dict__.update(ctx.__dict__)
    build = WORKLOADS[workload][0]
    row = BACKENDS[backend]

    # Resume as a user would: from the last checkpoint, or with the input again if the killed
    # run did not even save that.
    if row.is_async:

        async def run() -> None:
            async with row.open_saver(location) as saver:
                runnable = build(saver)
                inputs = None if resume and await saver.aget_tuple(THREAD) else INPUT
                if (trace := _statement_tracer()) is not None:
                    await saver.conn.set_trace_callback(trace)
                ready.set()
                await runnable.ainvoke(inputs, THREAD)

        asyncio.run(run())
    else:
        with row.open_saver(location) as saver:
            runnable = build(saver)
            inputs = None if resume and saver.get_tuple(THREAD) else INPUT
            if (trace := _statement_tracer()) is not None:
                saver.conn.set_trace_callback(trace)
            ready.set()
            runnable.invoke(inputs, THREAD)


# -- a trial -------------------------------------------------------------------------------------


@dataclass
class Outcome:
    """What one trial saw."""

    killed: bool
    """The worker died by SIGKILL (False: the run ended before the kill landed)."""
    seconds: float
    """From the worker being ready to its end (the run's length when it was not killed)."""
    saved_at_kill: set[str] = field(default_factory=set)
    rerun: set[str] = field(default_factory=set)
    """Saved markers the resuming process ran again: must be empty."""
    problems: list[str] = field(default_factory=list)


def _start(workload: str, backend: str, location: str, ctx: Ctx, resume: bool) -> Any:
    context = multiprocessing.get_context("fork")
    ready = context.Event()
    process = context.Process(
        target=worker, args=(workload, backend, location, ctx, resume, ready), daemon=True
    )
    process.start()
    deadline = time.monotonic() + 60
    while not ready.wait(0.02):  # ready, or dead before getting there (its error is on stderr)
        if not process.is_alive() or time.monotonic() > deadline:
            process.kill()
            raise AssertionError(f"worker for {workload}/{backend} did not start")
    return process


_REFERENCE: dict[str, Any] = {}


def reference_state(workload: str) -> Any:
    """The final state of an uninterrupted run, computed in memory."""
    if workload not in _REFERENCE:
        runnable = WORKLOADS[workload][0](InMemorySaver())
        saved_ctx = Ctx(**CTX.__dict__)
        CTX.__dict__.update(Ctx().__dict__)
        try:
            runnable.invoke(INPUT, THREAD)
            _REFERENCE[workload] = runnable.get_state(THREAD).values
        finally:
            CTX.__dict__.update(saved_ctx.__dict__)
    return _REFERENCE[workload]


def run_trial(
    workload: str,
    backend: str,
    location: str,
    *,
    kill_after: float | None = None,
    die_at: tuple[str, str | None] | None = None,
    die_at_statement: int | None = None,
) -> Outcome:
    """One trial in the empty directory ``location``: kill after ``kill_after`` seconds (a random
    moment), at the node ``die_at`` names, or as the saver starts its ``die_at_statement``-th
    SQL statement of the run; resume; check. ``Outcome.problems`` lists what failed."""
    start_servers(backend)
    row = BACKENDS[backend]
    Path(location).mkdir(parents=True, exist_ok=True)
    side_log = str(Path(location) / "runs.log")
    ctx = Ctx(side_log=side_log, location=location, backend=backend)
    if die_at is not None:
        ctx.die_at, ctx.die_after_saved = die_at
    ctx.die_at_statement = die_at_statement
    first = _start(workload, backend, location, ctx, resume=False)
    started = time.monotonic()
    if kill_after is not None:
        first.join(kill_after)
        if first.is_alive():
            os.kill(first.pid, signal.SIGKILL)
    first.join(60)
    killed = first.exitcode == -signal.SIGKILL
    outcome = Outcome(killed=killed, seconds=time.monotonic() - started)
    if first.exitcode not in (0, -signal.SIGKILL):
        outcome.problems.append(f"the first worker failed with exit code {first.exitcode}")
        return outcome

    with row.inspector(location) as saver:
        outcome.saved_at_kill = saved_markers(saver)
        graph_next: tuple[str, ...] = ()
        if workload == "graph" and saver.get_tuple(THREAD) is not None:
            graph_next = tuple(WORKLOADS[workload][0](saver).get_state(THREAD).next)
    ran_before = _runs(side_log)

    second = _start(workload, backend, location, Ctx(side_log=side_log), resume=True)
    second.join(120)
    if second.exitcode != 0:
        outcome.problems.append(f"the resuming worker failed with exit code {second.exitcode}")
        return outcome

    runs = _runs(side_log)
    first_runs = ran_before.get(first.pid, [])
    second_runs = runs.get(second.pid, [])
    outcome.rerun = outcome.saved_at_kill & set(second_runs)
    if outcome.rerun:
        outcome.problems.append(f"saved before the kill, yet ran again: {sorted(outcome.rerun)}")
    if workload == "graph":
        unsaved = {m for m in first_runs if m not in outcome.saved_at_kill}
        outside = {m for m in unsaved if m.strip("@") not in graph_next}
        if outside and killed:
            outcome.problems.append(
                f"ran before the kill, not saved, and not in the step in flight {graph_next}: "
                f"{sorted(outside)}"
            )
    names = WORKLOADS[workload][1]
    for name in names:
        count = first_runs.count(f"@{name}@") + second_runs.count(f"@{name}@")
        if not 1 <= count <= 2:
            outcome.problems.append(f"{name} ran {count} times")
    with row.inspector(location) as saver:
        final = WORKLOADS[workload][0](saver).get_state(THREAD).values
        if final != reference_state(workload):
            outcome.problems.append(f"final state {final!r} != {reference_state(workload)!r}")
        outcome.problems += history_problems(saver)
    outcome.problems += row.integrity(location)
    return outcome


def _runs(side_log: str) -> dict[int, list[str]]:
    runs: dict[int, list[str]] = {}
    if not os.path.exists(side_log):
        return runs
    with open(side_log) as file:
        for line in file:
            pid, marker = line.split()
            runs.setdefault(int(pid), []).append(marker)
    return runs


def random_trial(
    workload: str, backend: str, location: str, rng: random.Random, span: float
) -> Outcome:
    """A trial killed at a random moment within ``span`` seconds of the worker being ready
    (``span``: a little more than an uninterrupted run takes, see ``run_trial(...).seconds``)."""
    return run_trial(workload, backend, location, kill_after=rng.uniform(0, span))


def statements_of_a_run(workload: str, backend: str, location: str) -> int:
    """How many SQL statements the saver runs for one uninterrupted run of ``workload`` (the
    range ``run_trial(die_at_statement=...)`` picks its kill points from)."""
    row = BACKENDS[backend]
    Path(location).mkdir(parents=True, exist_ok=True)
    counted = str(Path(location) / "statements")
    ctx = Ctx(location=location, backend=backend, count_statements_to=counted)
    process = _start(workload, backend, location, ctx, resume=False)
    process.join(120)
    assert process.exitcode == 0, f"the counting run of {workload}/{backend} failed"
    assert row.integrity(location) == []
    return int(Path(counted).read_text())
