"""How long `threadloom threads ls` takes on a SQLite file of 10,000 threads (issue 12: < 1 s).

Fills a file through SqliteSaver's public API (each thread: an input checkpoint and a loop
checkpoint with a two-message conversation, written for user_id u0..u99), then times the grouped
listing query alone, the whole command in process (open, check, query, table) through click's
runner, and the command as a new process (imports included).
Run: `.venv/bin/python benchmarks/cli_threads_ls.py [N]`.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from pathlib import Path

from click.testing import CliRunner
from langchain_core.messages import AIMessage, HumanMessage

from threadloom.checkpoint.base import create_checkpoint, empty_checkpoint
from threadloom.checkpoint.sqlite import SqliteSaver
from threadloom.cli import _sqlite_threads
from threadloom.cli._backend import check_sqlite_file
from threadloom.cli.app import cli


def fill(path: Path, threads: int) -> None:
    with SqliteSaver.from_conn_string(str(path)) as saver:
        saver.setup()
        for n in range(threads):
            config = {"configurable": {"thread_id": f"thread-{n:05d}", "checkpoint_ns": ""}}
            meta = {"source": "input", "step": -1, "user_id": f"u{n % 100}"}
            first = empty_checkpoint()
            first["channel_versions"] = {"messages": "1"}
            first["channel_values"] = {"messages": [HumanMessage(f"hello {n}")]}
            config = saver.put(config, first, meta, {"messages": "1"})  # type: ignore[arg-type]
            second = create_checkpoint(first, None, 0)
            second["channel_versions"] = {"messages": "2"}
            second["channel_values"] = {
                "messages": [HumanMessage(f"hello {n}"), AIMessage(f"hi {n}")]
            }
            meta = {"source": "loop", "step": 0, "user_id": f"u{n % 100}"}
            saver.put(config, second, meta, {"messages": "2"})  # type: ignore[arg-type]


def main() -> None:
    threads = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "many.db"
        started = time.perf_counter()
        fill(path, threads)
        print(f"filled {threads} threads in {time.perf_counter() - started:.1f} s")
        conn = check_sqlite_file(path)
        for _ in range(3):
            started = time.perf_counter()
            rows = _sqlite_threads.list_threads(conn, limit=50)
            total = _sqlite_threads.count_threads(conn)
            query = time.perf_counter() - started
            print(f"grouped query (page of {len(rows)}, total {total}): {query * 1000:.0f} ms")
        conn.close()
        for _ in range(3):
            started = time.perf_counter()
            result = CliRunner().invoke(cli, ["threads", "ls", "--db", str(path)])
            assert result.exit_code == 0, result.output
            print(f"`threads ls` in process: {(time.perf_counter() - started) * 1000:.0f} ms")
        command = [sys.executable, "-m", "threadloom.cli", "threads", "ls", "--db", str(path)]
        for _ in range(3):
            started = time.perf_counter()
            subprocess.run(command, check=True, capture_output=True)
            print(f"`threads ls` as a new process: {(time.perf_counter() - started) * 1000:.0f} ms")


if __name__ == "__main__":
    main()
