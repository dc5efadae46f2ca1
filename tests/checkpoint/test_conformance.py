"""The conformance suite, run on InMemorySaver: every capability, extended ones included."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator

from threadloom.checkpoint.base import BaseCheckpointSaver
from threadloom.checkpoint.conformance import (
    Capability,
    ProgressCallbacks,
    checkpointer_test,
    registry,
    validate,
)
from threadloom.checkpoint.conformance.suites import SUITES
from threadloom.checkpoint.memory import InMemorySaver


@checkpointer_test(name="InMemorySaver")
async def memory_saver() -> AsyncIterator[InMemorySaver]:
    saver = InMemorySaver()
    yield saver
    saver._threads.clear()  # cleanup runs after the suite


async def test_in_memory_saver_is_full() -> None:
    report = await validate(memory_saver)
    failures = [f for r in report.results.values() for f in r.failures]
    assert failures == []
    assert report.passed_all_base() and report.passed_all()
    assert report.conformance_level() == "FULL"
    assert all(r.detected for r in report.results.values())
    assert sum(r.tests_passed for r in report.results.values()) == sum(map(len, SUITES.values()))
    out = io.StringIO()
    report.print_report(file=out)
    assert "Result: FULL (8/8)" in out.getvalue()
    assert report.to_dict()["conformance_level"] == "FULL"
    assert registry["InMemorySaver"] is memory_saver


class BaseOnly(InMemorySaver):
    """A saver without the extended capabilities (their async methods are the base's)."""

    adelete_for_runs = BaseCheckpointSaver.adelete_for_runs  # type: ignore[assignment]
    acopy_thread = BaseCheckpointSaver.acopy_thread  # type: ignore[assignment]
    aprune = BaseCheckpointSaver.aprune  # type: ignore[assignment]


class BrokenList(InMemorySaver):
    """Lists oldest first: a contract violation the suite must catch."""

    async def alist(self, config, *, filter=None, before=None, limit=None):  # type: ignore[no-untyped-def, override]
        items = list(self.list(config, filter=filter, before=before))[::-1]
        for item in items[:limit]:
            yield item


async def test_undetected_capabilities_are_not_implemented() -> None:
    @checkpointer_test(name="base-only")
    async def make() -> AsyncIterator[BaseOnly]:
        yield BaseOnly()

    report = await validate(make, progress=ProgressCallbacks.quiet())
    assert report.conformance_level() == "FULL"
    assert not report.results[Capability.PRUNE].detected
    assert report.results[Capability.PRUNE].passed is None


async def test_failures_are_reported(capsys) -> None:  # type: ignore[no-untyped-def]
    @checkpointer_test(name="broken", skip_capabilities={"prune"})
    async def make() -> AsyncIterator[BrokenList]:
        yield BrokenList()

    report = await validate(make, progress=ProgressCallbacks.default())
    result = report.results[Capability.LIST]
    assert result.passed is False and result.tests_failed > 0
    assert any("test_list_newest_first" in failure for failure in result.failures)
    assert report.conformance_level() == "NONE" and not report.passed_all_base()
    assert report.results[Capability.PRUNE].passed is None  # skipped on request
    assert "F" in capsys.readouterr().out


async def test_capabilities_argument_and_lifespan() -> None:
    events: list[str] = []

    async def lifespan() -> AsyncIterator[None]:
        events.append("start")
        yield
        events.append("stop")

    @checkpointer_test(name="narrow", lifespan=lifespan)
    async def make() -> AsyncIterator[InMemorySaver]:
        events.append("saver")
        yield InMemorySaver()

    report = await validate(make, capabilities={"put"})
    assert report.results[Capability.PUT].passed is True
    assert report.results[Capability.LIST].passed is None
    assert events == ["start", "saver", "stop"]
