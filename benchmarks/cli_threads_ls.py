"""How long `threadloom threads ls` takes on a database of 10,000 threads (issue 12: < 1 s).

Fills a SQLite file, or with ``--postgres`` a database of a throwaway embedded PostgreSQL 18
server, through the saver's public API: each thread is an input checkpoint and a loop checkpoint
with a two-message conversation, written for user_id u0..u99. On PostgreSQL (where 20,000 single
puts take minutes on a loaded 2-core machine) the first thread is written through the API and
cloned by SQL into the others (same rows; thread id, user and time vary). Then times the grouped
listing query alone, the whole command in process (open, check, query, table) through click's
runner, and the command as a new process (imports included; wall and CPU time, since the wall
time of a new process on a loaded shared machine is mostly waiting for a core).

Run: `.venv/bin/python benchmarks/cli_threads_ls.py [N] [--postgres]`.
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from click.testing import CliRunner
from langchain_core.messages import AIMessage, HumanMessage

from threadloom.checkpoint.base import create_checkpoint, empty_checkpoint
from threadloom.cli import _postgres_threads, _sqlite_threads
from threadloom.cli._backend import check_sqlite_file
from threadloom.cli.app import cli


def write_thread(saver: Any, n: int) -> None:
    """Thread ``n``: an input checkpoint, then a loop checkpoint holding a two-message chat."""
    config = {"configurable": {"thread_id": f"thread-{n:05d}", "checkpoint_ns": ""}}
    meta = {"source": "input", "step": -1, "user_id": f"u{n % 100}"}
    first = empty_checkpoint()
    first["channel_versions"] = {"messages": "1"}
    first["channel_values"] = {"messages": [HumanMessage(f"hello {n}")]}
    config = saver.put(config, first, meta, {"messages": "1"})
    second = create_checkpoint(first, None, 0)
    second["channel_versions"] = {"messages": "2"}
    second["channel_values"] = {"messages": [HumanMessage(f"hello {n}"), AIMessage(f"hi {n}")]}
    meta = {"source": "loop", "step": 0, "user_id": f"u{n % 100}"}
    saver.put(config, second, meta, {"messages": "2"})


@contextmanager
def sqlite_database(threads: int) -> Iterator[tuple[list[str], Callable[[], Any], Any]]:
    """(CLI location options, a listing connection factory, the listing module)."""
    from threadloom.checkpoint.sqlite import SqliteSaver

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "many.db"
        with SqliteSaver.from_conn_string(str(path)) as saver:
            saver.setup()
            for n in range(threads):
                write_thread(saver, n)
        yield ["--db", str(path)], lambda: check_sqlite_file(path), _sqlite_threads


_THREAD = "format('thread-%%s', lpad(n::text, 5, '0'))"
CLONE_CHECKPOINTS = f"""
INSERT INTO threadloom_checkpoints (thread_id, checkpoint_ns, checkpoint_id,
    parent_checkpoint_id, type, checkpoint, metadata_type, metadata_blob, metadata, ts, run_id)
SELECT {_THREAD}, checkpoint_ns, checkpoint_id, parent_checkpoint_id, type, checkpoint,
    metadata_type, metadata_blob, jsonb_set(metadata, '{{user_id}}', to_jsonb('u' || n %% 100)),
    to_char((ts::timestamptz + n * interval '1 second') AT TIME ZONE 'UTC',
        'YYYY-MM-DD"T"HH24:MI:SS.US"+00:00"'), run_id
FROM threadloom_checkpoints, generate_series(1, %s - 1) AS n WHERE thread_id = 'thread-00000'
"""
CLONE_BLOBS = f"""
INSERT INTO threadloom_checkpoint_blobs (thread_id, checkpoint_ns, channel, version, kind, type,
    data, base_version, delta_index, length)
SELECT {_THREAD}, checkpoint_ns, channel, version, kind, type, data, base_version, delta_index,
    length
FROM threadloom_checkpoint_blobs, generate_series(1, %s - 1) AS n WHERE thread_id = 'thread-00000'
"""


@contextmanager
def postgres_database(threads: int) -> Iterator[tuple[list[str], Callable[[], Any], Any]]:
    import psycopg
    from store_postgres import fresh_database, server

    from threadloom.checkpoint.postgres import PostgresSaver

    with server() as pg:
        dsn = fresh_database(pg, "threads_ls")
        with PostgresSaver.from_conn_string(dsn) as saver:
            saver.setup()
            write_thread(saver, 0)
        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute(CLONE_CHECKPOINTS, (threads,))
            conn.execute(CLONE_BLOBS, (threads,))
            conn.execute("VACUUM ANALYZE")  # as autovacuum would soon after a bulk load
        yield ["--dsn", dsn], lambda: psycopg.connect(dsn, autocommit=True), _postgres_threads


def cpu_of_children() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("threads", nargs="?", type=int, default=10_000)
    parser.add_argument("--postgres", action="store_true", help="an embedded PostgreSQL server")
    args = parser.parse_args()
    database = postgres_database if args.postgres else sqlite_database
    started = time.perf_counter()
    with database(args.threads) as (where, connect, listing):
        kind = "PostgreSQL" if args.postgres else "SQLite"
        print(f"filled {args.threads} threads on {kind} in {time.perf_counter() - started:.1f} s")
        conn = connect()
        for _ in range(3):
            started = time.perf_counter()
            rows = listing.list_threads(conn, limit=50)
            total = listing.count_threads(conn)
            query = time.perf_counter() - started
            print(f"grouped query (page of {len(rows)}, total {total}): {query * 1000:.0f} ms")
        conn.close()
        for _ in range(3):
            started = time.perf_counter()
            result = CliRunner().invoke(cli, ["threads", "ls", *where])
            assert result.exit_code == 0, result.output
            print(f"`threads ls` in process: {(time.perf_counter() - started) * 1000:.0f} ms")
        command = [sys.executable, "-m", "threadloom.cli", "threads", "ls", *where]
        for _ in range(3):  # wall time, and CPU time (what it costs without the machine's load)
            before, started = cpu_of_children(), time.perf_counter()
            subprocess.run(command, check=True, capture_output=True)
            wall, cpu = time.perf_counter() - started, cpu_of_children() - before
            print(f"`threads ls` as a new process: {wall * 1000:.0f} ms ({cpu * 1000:.0f} ms CPU)")


if __name__ == "__main__":
    main()
