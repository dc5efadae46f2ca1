"""A saver subclass's overridden public method is the one a run reaches, on every backend.

LangGraph's contract: a run calls ``put``/``put_writes``/``get_tuple`` (sync) or their ``a``
twins (async); ``InMemorySaver``-like savers run their async methods through the sync ones, and
loop-bound savers (``AsyncSqliteSaver``, ``AsyncPostgresSaver``) run their sync methods through
the async ones. threadloom's one-call step save (``put_step``) must not bypass an override.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any, TypedDict

import pytest

from threadloom.checkpoint._sql_saver import AsyncSqlSaver
from threadloom.graph import END, START, StateGraph

OVERRIDABLE = ["put", "put_writes", "get_tuple", "aput", "aput_writes", "aget_tuple"]
CALLS = {"put": 4, "put_writes": 3, "get_tuple": 1}
"""How often LangGraph 1.2.22 calls each method in a run of ``_graph``: a checkpoint for the
empty start, the input and each of the two nodes; the writes of the input task and of each
node; one read of the thread's latest checkpoint."""


class _S(TypedDict):
    x: int


def _graph(saver: Any) -> Any:
    builder = StateGraph(_S)
    builder.add_node("a", lambda s: {"x": s["x"] + 1})
    builder.add_node("b", lambda s: {"x": s["x"] * 2})
    builder.add_edge(START, "a")
    builder.add_edge("a", "b")
    builder.add_edge("b", END)
    return builder.compile(checkpointer=saver)


def _record_calls_to(saver: Any, name: str) -> list[str]:
    """Turn ``saver`` into an instance of a subclass overriding ``name`` (calling the inherited
    method); return the list each call appends ``name`` to."""
    seen: list[str] = []
    base = type(saver)
    inherited: Callable[..., Any] = getattr(base, name)
    override: Callable[..., Any]
    if name.startswith("a"):

        async def override(self: Any, *args: Any, **kwargs: Any) -> Any:
            seen.append(name)
            return await inherited(self, *args, **kwargs)
    else:

        def override(self: Any, *args: Any, **kwargs: Any) -> Any:
            seen.append(name)
            return inherited(self, *args, **kwargs)

    saver.__class__ = type(f"Recording{base.__name__}", (base,), {name: override})
    return seen


def _reached(saver: Any, name: str, driver: str) -> bool:
    """Does a run with ``driver`` reach an override of ``name`` (as in LangGraph)?"""
    if (driver == "sync") == (not name.startswith("a")):
        return True  # the driver calls it
    loop_bound = isinstance(saver, AsyncSqlSaver)
    return loop_bound if driver == "sync" else not loop_bound


@pytest.mark.parametrize("driver", ["sync", "async"])
@pytest.mark.parametrize("name", OVERRIDABLE)
def test_an_overridden_method_is_reached(saver: Any, name: str, driver: str) -> None:
    seen = _record_calls_to(saver, name)
    expected = _reached(saver, name, driver)
    graph = _graph(saver)
    config: Any = {"configurable": {"thread_id": "t"}}

    if driver == "sync":
        result = graph.invoke({"x": 1}, config)
    elif isinstance(saver, AsyncSqlSaver):
        result = asyncio.run_coroutine_threadsafe(graph.ainvoke({"x": 1}, config), saver.loop)
        result = result.result()
    else:
        result = asyncio.run(graph.ainvoke({"x": 1}, config))

    assert result == {"x": 4}
    calls = CALLS[name.removeprefix("a")] if expected else 0
    assert len(seen) == calls, f"{type(saver).__name__}.{name} was bypassed by a {driver} run"
    assert graph.get_state(config).values == {"x": 4}
    # every step is saved: the empty start, the input, a, b
    assert [t.metadata["step"] for t in saver.list(config)] == [2, 1, 0, -1]
