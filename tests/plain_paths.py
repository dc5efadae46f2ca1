"""What the tests of the sync driver's short path (``sync.run_plain``) share: a record of the
tasks that took it, and observations made comparable across runs (``ids_out``)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest

from threadloom.engine import sync


def record_plain_runs(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """The names of the tasks that take the short path (the ``plain_runs`` fixture)."""
    taken: list[str] = []
    short = sync.run_plain

    def counted(t: Any, runner: Any) -> None:
        taken.append(t.name)
        short(t, runner)

    monkeypatch.setattr(sync, "run_plain", counted)
    yield taken


def history(graph: Any, saver: Any, config: Any, results: str | None = None) -> list[Any]:
    """The thread's snapshots (values, next, metadata, task count) and each checkpoint's saved
    writes; the ``results`` key's list sorted (a fan-out's tasks finish in any order)."""
    seen: list[Any] = []
    for snapshot in graph.get_state_history(config):
        values = snapshot.values
        if results is not None:
            values = {k: sorted(map(repr, v)) if k == results else v for k, v in values.items()}
        seen.append((values, snapshot.next, snapshot.metadata, len(snapshot.tasks)))
    for stored in saver.list(config):
        writes = sorted((w[1], repr(w[2])) for w in stored.pending_writes or ())
        seen.append((stored.metadata.get("step"), writes))
    return seen


def ids_out(seen: list[Any]) -> str:
    """The observations with checkpoint, task and interrupt ids and timestamps (fresh each
    run) taken out."""
    text = re.sub(r"\b[0-9a-f]{32}\b", "<hex>", repr(seen))
    text = re.sub(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", "<id>", text)
    return re.sub(r"\d{4}-\d\d-\d\dT[\d:.+]+", "<ts>", text)
