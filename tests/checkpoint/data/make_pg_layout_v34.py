"""Writes ``pg_layout_v34.json``: the rows of a PostgresSaver database in the layout of
migration 34 (a write with the bytes of a value row of its step stored as a reference to it,
writes and values of ``None`` riding on other rows, short type tags and task paths, ``ts`` a
``timestamptz``, metadata as its JSON text) and what that code read back from them.

The threads are those of ``make_pg_layout_v8.write``. Kept to show how the fixture was made; it
only makes a v34 dump when run with threadloom at schema 34 (commit 3bdf9d7), with a DSN:
``python make_pg_layout_v34.py DSN``. ``test_postgres_layout.py`` loads the rows into a v34
schema and opens them with today's code, which must read the same and go on.
"""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import psycopg

from threadloom.checkpoint.postgres import PostgresSaver

HERE = Path(__file__).parent
TABLES = (
    "threadloom_threads",
    "threadloom_checkpoints",
    "threadloom_checkpoint_blobs",
    "threadloom_checkpoint_writes",
)


def _v8_maker() -> object:
    spec = importlib.util.spec_from_file_location(
        "make_pg_layout_v8", HERE / "make_pg_layout_v8.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def main(dsn: str) -> None:
    v8 = _v8_maker()
    with PostgresSaver.from_conn_string(dsn) as saver:
        saver.setup()
        v8.write(saver)  # type: ignore[attr-defined]
        expected = v8.snapshot(saver)  # type: ignore[attr-defined]
    with psycopg.connect(dsn) as conn:
        rows = {
            table: conn.execute(  # type: ignore[call-overload]
                f"SELECT coalesce(json_agg(t), '[]') FROM {table} t"
            ).fetchone()[0]
            for table in TABLES
        }
    dump = {"rows": rows, "expected": expected}
    (HERE / "pg_layout_v34.json").write_text(json.dumps(dump, indent=1, default=repr) + "\n")


if __name__ == "__main__":
    main(sys.argv[1])
