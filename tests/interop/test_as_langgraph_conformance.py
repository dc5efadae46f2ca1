"""LangGraph's public checkpointer conformance suite, through ``as_langgraph_saver``, on every
threadloom saver backend: every capability, the extended ones included."""

from __future__ import annotations

from collections.abc import AsyncIterator

from interop_backends import Storage, open_saver
from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.checkpoint.conformance import checkpointer_test, validate
from langgraph.checkpoint.conformance.report import ProgressCallbacks

from threadloom.interop.langgraph import as_langgraph_saver


async def test_conformance_suite_passes_in_full(backend: str, new_storage: Storage) -> None:
    @checkpointer_test(name=f"as_langgraph_saver({backend})")
    async def make() -> AsyncIterator[BaseCheckpointSaver[str]]:
        async with open_saver(backend, new_storage()) as saver:
            yield as_langgraph_saver(saver)

    report = await validate(make, progress=ProgressCallbacks.quiet())
    failures = [f for r in report.results.values() for f in r.failures]
    assert failures == []
    assert all(r.detected for r in report.results.values())  # extended capabilities too
    assert report.passed_all()
    assert report.conformance_level() == "FULL"
