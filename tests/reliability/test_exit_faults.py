"""With ``durability="exit"``, a step whose writes cannot be applied keeps what the run did.

A reducer that raises, or two parallel nodes writing one plain key, fail the run when the step
ends. As when a node fails, the run's last checkpoint and the step's writes are saved on the way
out: the thread shows what ``durability="sync"`` shows (the step to run again, its writes
pending). It used to keep nothing: the input and every finished step were lost. LangGraph 1.2.22
saves the failing step's values half-applied with nothing left to run (docs/differences.md 45).
"""

from __future__ import annotations

import asyncio
import operator
from typing import Annotated, Any, TypedDict

import pytest

from threadloom.checkpoint.memory import InMemorySaver
from threadloom.errors import InvalidUpdateError
from threadloom.graph import START, StateGraph


def _refuse_bad(left: list[str], right: str) -> list[str]:
    if right == "bad":
        raise ValueError("the reducer refuses 'bad'")
    return [*left, right]


class Refusing(TypedDict, total=False):
    log: Annotated[list[str], _refuse_bad]


class Clashing(TypedDict, total=False):
    log: Annotated[list[str], operator.add]
    last: str


def _refused_chain() -> Any:
    """START → n0 → n1, whose update the reducer refuses (a lone task)."""
    builder = StateGraph(Refusing)
    builder.add_node("n0", lambda s: {"log": "n0"})
    builder.add_node("n1", lambda s: {"log": "bad"})
    builder.add_edge(START, "n0")
    builder.add_edge("n0", "n1")
    return builder.compile(checkpointer=InMemorySaver())


def _clashing_fan_out() -> Any:
    """START → n0 → (n1, n2), both writing the plain key ``last`` in one step."""
    builder = StateGraph(Clashing)
    for name in ("n0", "n1", "n2"):
        builder.add_node(name, lambda s, name=name: {"log": [name], "last": name})
    builder.add_edge(START, "n0")
    builder.add_edge("n0", "n1")
    builder.add_edge("n0", "n2")
    return builder.compile(checkpointer=InMemorySaver())


CASES = {
    "reducer-raises": (_refused_chain, {"log": "in"}, ValueError),
    "parallel-clash": (_clashing_fan_out, {"log": []}, InvalidUpdateError),
}


def _thread(graph: Any, run_input: Any, durability: str, is_async: bool) -> list[Any]:
    """Run until it fails; return the thread's history as (step, source, next, values)."""
    config: Any = {"configurable": {"thread_id": "t"}}

    async def arun() -> list[Any]:
        with pytest.raises(Exception):  # noqa: B017 - the case's own error, checked below
            await graph.ainvoke(run_input, config, durability=durability)
        return [s async for s in graph.aget_state_history(config)]

    if is_async:
        history = asyncio.run(arun())
    else:
        with pytest.raises(Exception):  # noqa: B017
            graph.invoke(run_input, config, durability=durability)
        history = list(graph.get_state_history(config))
    return [
        (s.metadata["step"], s.metadata["source"], s.next, s.values, len(s.tasks)) for s in history
    ]


@pytest.mark.parametrize("is_async", [False, True], ids=["sync", "async"])
@pytest.mark.parametrize("case", sorted(CASES))
def test_a_step_that_fails_to_apply_keeps_the_last_checkpoint(case: str, is_async: bool) -> None:
    build, run_input, _ = CASES[case]
    exit_history = _thread(build(), run_input, "exit", is_async)
    sync_history = _thread(build(), run_input, "sync", is_async)
    assert exit_history, "nothing of the run was saved"
    assert exit_history[0] == sync_history[0]  # the same head: the failed step, to run again
    assert exit_history[0][:3] == (1, "loop", ("n1",) if case == "reducer-raises" else ("n1", "n2"))


def test_the_error_is_the_steps_own() -> None:
    for build, run_input, error in CASES.values():
        with pytest.raises(error):
            build().invoke(run_input, {"configurable": {"thread_id": "t"}}, durability="exit")
