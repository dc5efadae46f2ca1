"""Bad ``@task`` arguments and calls fail at once with LangGraph 1.2.22's kind of error (observed
by running the same programs on it), with a message that names the value and the fix."""

from __future__ import annotations

from typing import Any

import pytest

from threadloom.func import entrypoint, task


def _sync_flow_of_an_async_task() -> Any:
    """A sync entrypoint calling an async ``@task``."""

    @task
    async def double(x: int) -> int:
        return 2 * x

    @entrypoint()
    def flow(x: int) -> Any:
        return double(x).result()

    return flow


def test_an_async_task_called_in_a_sync_run_is_a_runtime_error() -> None:
    flow = _sync_flow_of_an_async_task()
    # before: the run returned the task's coroutine, never awaited
    # LangGraph's message first (a caller matching it still matches), then the task and the fix
    with pytest.raises(
        RuntimeError,
        match=r"^In an sync context async tasks cannot be called: task 'double' is async.*ainvoke",
    ):
        flow.invoke(1)


async def test_an_async_task_called_in_an_async_run_of_a_sync_entrypoint_runs() -> None:
    flow = _sync_flow_of_an_async_task()
    assert await flow.ainvoke(2) == 4


@pytest.mark.parametrize("policy", [5, "retry", [None]])
def test_a_retry_policy_of_the_wrong_kind_fails_when_the_task_is_made(policy: Any) -> None:
    with pytest.raises(TypeError, match=r"retry_policy must be a RetryPolicy or a sequence"):
        task(retry_policy=policy)(lambda x: x)


def test_a_task_name_that_is_not_a_str_is_a_type_error() -> None:
    with pytest.raises(TypeError, match=r"A task's name must be a str, got int 5"):
        task(name=5)(lambda x: x)  # type: ignore[arg-type]
