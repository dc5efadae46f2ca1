"""``put_writes`` without a ``checkpoint_id`` fails on every saver before storing anything, with
LangGraph 1.2.22's kind of error (its savers raise ``KeyError('checkpoint_id')``) and ours."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from threadloom.checkpoint.memory import InMemorySaver
from threadloom.checkpoint.sqlite import SqliteSaver
from threadloom.errors import MissingCheckpointIdError


def _check(saver: Any) -> None:
    config: Any = {"configurable": {"thread_id": "t", "checkpoint_ns": ""}}
    for kind in (KeyError, ValueError, MissingCheckpointIdError):
        with pytest.raises(
            kind, match=r"^put_writes for thread 't' needs config\['configurable'\]"
        ):
            saver.put_writes(config, [("a", 1)], "task")
    assert list(saver.list(None)) == []


def test_in_memory() -> None:
    _check(InMemorySaver())


def test_sqlite(tmp_path: Path) -> None:
    with SqliteSaver.from_conn_string(str(tmp_path / "c.db")) as saver:
        saver.setup()
        _check(saver)
