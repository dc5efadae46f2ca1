"""The shared SQL read path: reading the head costs the same few queries however long the thread.

The saver remembers the list version it last wrote; reading that version back must use it, not
walk the delta chain down one query per level (a round trip each on PostgreSQL).
"""

from __future__ import annotations

from pathlib import Path

from threadloom.checkpoint.base import empty_checkpoint
from threadloom.checkpoint.sqlite import SqliteSaver


def test_reading_the_head_back_does_not_walk_the_delta_chain(tmp_path: Path) -> None:
    with SqliteSaver.from_conn_string(str(tmp_path / "c.db")) as saver:
        parent = None
        log: list[str] = []
        for i in range(1, 31):
            log.append(f"message {i}")
            checkpoint = {**empty_checkpoint(), "id": f"{i:04}"}
            checkpoint["channel_values"] = {"messages": list(log)}
            checkpoint["channel_versions"] = {"messages": i}
            configurable = {"thread_id": "t", "checkpoint_ns": ""}
            if parent is not None:
                configurable["checkpoint_id"] = parent
            saver.put({"configurable": configurable}, checkpoint, {}, {"messages": i})  # type: ignore[arg-type]
            parent = checkpoint["id"]
        statements: list[str] = []
        saver.conn.set_trace_callback(statements.append)
        head = saver.get_tuple({"configurable": {"thread_id": "t"}})
        again = saver.get_tuple({"configurable": {"thread_id": "t"}})
        saver.conn.set_trace_callback(None)
    assert head is not None and head.checkpoint["channel_values"]["messages"] == log
    assert again is not None and again.checkpoint["channel_values"]["messages"] == log
    # the head this saver wrote is kept (``_sql_head``): no value row is read at all
    assert sum("FROM checkpoint_blobs" in s for s in statements) == 0
    with SqliteSaver.from_conn_string(str(tmp_path / "c.db")) as cold:
        cold.get_tuple({"configurable": {"thread_id": "t"}})  # the tracker learns the head
        statements.clear()
        cold.conn.set_trace_callback(statements.append)
        cold._core.heads.forget("t", "")  # read it again in full, with the tracker's list
        head = cold.get_tuple({"configurable": {"thread_id": "t"}})
    assert head is not None and head.checkpoint["channel_values"]["messages"] == log
    assert sum("FROM checkpoint_blobs" in s for s in statements) == 1
