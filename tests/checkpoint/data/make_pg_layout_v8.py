"""Writes ``pg_layout_v8.json``: the rows of a PostgresSaver database in the layout of migration 8
(text thread and checkpoint ids in every row, a row per ``empty`` version, an index of ids) and
what that code read back from them.

Kept to show how the fixture was made; it only makes a v8 dump when run with threadloom as it was
before migration 9 (commit afbecf5), with a DSN: ``python make_pg_layout_v8.py DSN``.
``test_postgres_layout.py`` loads the rows into a v8 schema and opens them with today's code,
which must read the same and go on.
"""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from typing import Any

import psycopg

from threadloom.checkpoint.postgres import PostgresSaver

HERE = Path(__file__).parent
TABLES = ("threadloom_checkpoints", "threadloom_checkpoint_blobs", "threadloom_checkpoint_writes")


def _sibling(name: str, path: Path) -> Any:
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its postponed annotations resolve in its own namespace
    spec.loader.exec_module(module)
    return module


def snapshot(saver: PostgresSaver) -> list[dict[str, Any]]:
    """Every checkpoint as plain JSON, per thread and namespace, newest first."""
    out = []
    for item in saver.list(None):
        checkpoint = dict(item.checkpoint)
        out.append(
            {
                "config": item.config["configurable"],
                "parent": item.parent_config["configurable"] if item.parent_config else None,
                "checkpoint": {**checkpoint, "channel_values": dict(checkpoint["channel_values"])},
                "metadata": item.metadata,
                "pending_writes": [list(w) for w in item.pending_writes or []],
            }
        )
    return sorted(out, key=lambda c: (c["config"]["thread_id"], c["config"]["checkpoint_ns"]))


def write(saver: PostgresSaver) -> None:
    """The threads of the fixture: a graph's chat with an interrupt and a fork (UUID ids, list
    deltas, pending writes, ``empty`` versions), and checkpoints put by hand with ids that are
    not UUIDs, in two namespaces, with metadata JSON cannot hold (a tuple) and a NUL (stripped)."""
    build = _sibling("make_layout_v0", HERE / "make_layout_v0.py").build
    graph = build(saver)
    chat = {"configurable": {"thread_id": "chat"}}
    for turn in range(12):  # more than 8 deltas: the chain has a wide delta
        graph.invoke({"items": [f"user {turn}"], "count": turn}, chat)
    graph.invoke({"items": ["last"], "count": 12}, chat)  # stops at the interrupt
    history = list(graph.get_state_history(chat))
    fork = graph.update_state(history[5].config, {"items": ["forked"]})
    graph.invoke(None, fork)
    for ns, note in (("", ("a", "tuple")), ("inner", "nul \x00 inside")):
        other = {"configurable": {"thread_id": "other", "checkpoint_ns": ns}}
        config = saver.put(
            other,
            {
                "v": 4,
                "id": "0001",
                "ts": "2026-01-02T03:04:05.678901+00:00",
                "channel_values": {"n": 7, "xs": [1, 2]},
                "channel_versions": {"n": 1, "xs": 2},
                "versions_seen": {"node": {"n": 1}},
                "updated_channels": ["n", "xs"],
            },
            {"source": "update", "step": 3, "parents": {}, "note": note},
            {"n": 1, "xs": 2},
        )
        saver.put_writes(config, [("n", 8), ("xs", [3])], "task-1", "path")


def dump(dsn: str, tables: tuple[str, ...], name: str) -> None:
    """Write the threads with the installed saver code, then dump the rows of ``tables`` and
    what that code read back to ``name`` beside this file (``make_pg_layout_compact`` uses it
    for the later layouts)."""
    with PostgresSaver.from_conn_string(dsn) as saver:
        saver.setup()
        write(saver)
        expected = snapshot(saver)
    with psycopg.connect(dsn) as conn:
        rows = {
            table: conn.execute(  # type: ignore[call-overload]
                f"SELECT coalesce(json_agg(t), '[]') FROM {table} t"
            ).fetchone()[0]
            for table in tables
        }
    dump = {"rows": rows, "expected": expected}
    (HERE / name).write_text(json.dumps(dump, indent=1, default=repr) + "\n")


def main(dsn: str) -> None:
    dump(dsn, TABLES, "pg_layout_v8.json")


if __name__ == "__main__":
    main(sys.argv[1])
