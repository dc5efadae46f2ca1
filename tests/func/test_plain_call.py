"""A plain ``@task`` call (nothing to retry, cache, inject, time or trace) runs on the sync
driver's short path, ``sync.run_plain``, and must do exactly what ``run_task`` does.

Each scenario runs twice, on the short path and with it replaced by ``run_task`` (the general
path), and compares what a user sees: the result or error, the stream, the saved writes and
checkpoints, and what a resume after an interrupt gives.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from plain_paths import history, ids_out, record_plain_runs

from threadloom.checkpoint.memory import InMemorySaver
from threadloom.config import get_config
from threadloom.engine import sync
from threadloom.func import entrypoint, task
from threadloom.types import Command, RetryPolicy, interrupt


@task
def double(n: int) -> int:
    return 2 * n


@task
def fails(n: int) -> int:
    raise ValueError(f"bad {n}")


@task
def asks(n: int) -> str:
    return f"{n}:{interrupt(f'question {n}')}"


@task
def namespace(n: int) -> str:
    return str(get_config()["configurable"]["checkpoint_ns"]).split(":")[0] + f"/{n}"


@task
def nested(n: int) -> int:
    return double(n).result() + 1  # a call made from inside a call


@task
def fire(n: int) -> int:
    double(n)  # started, never waited for: finished when this call ends (settle_calls)
    return n


@task(retry_policy=RetryPolicy(max_attempts=2, initial_interval=0.0, jitter=False))
def retried(n: int) -> int:
    return n


def _scenarios() -> dict[str, Callable[[int], Any]]:
    def ok(count: int) -> Any:
        futures = [double(n) for n in range(count)]
        return [f.result() for f in futures]

    def error(count: int) -> Any:
        try:
            fails(count).result()
        except ValueError as exc:
            return f"caught {exc} {exc.__notes__}"
        return None

    def paused(count: int) -> Any:
        return [asks(n).result() for n in range(count)]

    def configs(count: int) -> Any:
        return [namespace(n).result() for n in range(count)]

    def inner(count: int) -> Any:
        return [nested(n).result() for n in range(count)] + [retried(count).result()]

    def unawaited(count: int) -> Any:
        return [fire(n).result() for n in range(count)]

    return {
        "ok": ok,
        "error": error,
        "paused": paused,
        "configs": configs,
        "inner": inner,
        "unawaited": unawaited,
    }


def _observe(body: Callable[[int], Any]) -> list[Any]:
    """What a user sees of two invokes (and a resume) of an entrypoint running ``body``."""
    saver = InMemorySaver()
    workflow = entrypoint(checkpointer=saver)(body)
    config: Any = {"configurable": {"thread_id": "t"}}
    seen: list[Any] = []
    for payload in (3, Command(resume="yes"), Command(resume="again")):
        seen.append(list(workflow.stream(payload, config, stream_mode=["updates", "values"])))
    return seen + history(workflow, saver, config)


@pytest.fixture
def plain_calls(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """The names of the tasks that took the short path."""
    yield from record_plain_runs(monkeypatch)


@pytest.mark.parametrize("name", sorted(_scenarios()))
def test_plain_path_does_what_run_task_does(
    name: str, plain_calls: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    body = _scenarios()[name]
    short = _observe(body)
    assert plain_calls  # the short path ran
    assert "retried" not in plain_calls  # a retry policy takes the general path
    monkeypatch.setattr(sync, "run_plain", sync.run_task)
    general = _observe(body)
    assert ids_out(short) == ids_out(general)
