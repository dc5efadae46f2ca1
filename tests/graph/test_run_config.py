"""A run's config: what LangGraph refuses is refused here too, with an error naming the entry,
and what it honours (``max_concurrency``, a ``None`` entry) is honoured.

LangGraph 1.2.22 fails on a config of the wrong kind deep inside, mostly with an
``AttributeError`` (``'int' object has no attribute 'items'``); threadloom raises
``InvalidConfigError``, a ``TypeError`` that is also an ``AttributeError``, naming the entry and
the fix. ``max_concurrency`` caps how many of a step's tasks run at once, on both drivers.
"""

from __future__ import annotations

import asyncio
import operator
import threading
from typing import Annotated, Any, TypedDict

import pytest

from threadloom.checkpoint.memory import InMemorySaver
from threadloom.errors import InvalidConfigError
from threadloom.graph import START, StateGraph
from threadloom.types import Send


class Counter(TypedDict):
    n: int


def one_node(**compile_args: Any) -> Any:
    builder = StateGraph(Counter)
    builder.add_node("inc", lambda s: {"n": s["n"] + 1})
    builder.add_edge(START, "inc")
    return builder.compile(**compile_args)


BAD_CONFIGS = [
    (5, "config", "got int 5"),
    ([], "config", "got list []"),
    ("thread-1", "config", "got str 'thread-1'"),
    ({"configurable": 5}, "config['configurable']", "got int 5"),
    ({"configurable": ["thread_id"]}, "config['configurable']", "got list ['thread_id']"),
    ({"metadata": 5}, "config['metadata']", "got int 5"),
    ({"tags": 5}, "config['tags']", "got int 5"),
    ({"recursion_limit": "10"}, "config['recursion_limit']", "got str '10'"),
    ({"max_concurrency": "4"}, "config['max_concurrency']", "got str '4'"),
]


@pytest.mark.parametrize(("config", "where", "shown"), BAD_CONFIGS)
def test_a_config_of_the_wrong_kind_is_refused_naming_the_entry(
    config: Any, where: str, shown: str
) -> None:
    with pytest.raises(InvalidConfigError) as caught:
        one_node().invoke({"n": 1}, config)
    error = caught.value
    # the type LangGraph fails with, and the one the mistake is
    assert isinstance(error, AttributeError) and isinstance(error, TypeError)
    assert error.where == where and error.value == config if where == "config" else True
    assert str(error).startswith(f"{where} must be ") and shown in str(error)
    assert "Pass " in str(error)


@pytest.mark.parametrize(("config", "where", "shown"), BAD_CONFIGS[:6])
async def test_stream_and_the_state_api_check_the_config_too(
    config: Any, where: str, shown: str
) -> None:
    graph = one_node(checkpointer=InMemorySaver())
    calls = [
        lambda: list(graph.stream({"n": 1}, config)),
        lambda: graph.get_state(config),
        lambda: list(graph.get_state_history(config)),
        lambda: graph.update_state(config, {"n": 2}),
    ]
    for call in calls:
        with pytest.raises(InvalidConfigError, match=r"must be .*" + shown[:6]):
            call()
    with pytest.raises(InvalidConfigError):
        await graph.ainvoke({"n": 1}, config)


def test_max_concurrency_below_one_is_a_value_error() -> None:
    with pytest.raises(ValueError, match=r"max_concurrency'\] must be at least 1, got 0"):
        one_node().invoke({"n": 1}, {"max_concurrency": 0})


def test_a_none_entry_is_left_out_as_in_langgraph() -> None:
    # ensure_config drops None entries: no limit means the default one, not a crash
    graph = one_node()
    config: Any = {"recursion_limit": None, "tags": None, "metadata": None, "configurable": None}
    assert graph.invoke({"n": 1}, config) == {"n": 2}
    assert graph.invoke({"n": 1}, {"max_concurrency": None}) == {"n": 2}


def test_what_langgraph_accepts_still_runs() -> None:
    graph = one_node()
    for config in ({"tags": ("a", "b")}, {"tags": "abc"}, {"max_concurrency": 1.5}):
        assert graph.invoke({"n": 1}, config) == {"n": 2}


def test_a_mapping_that_is_not_a_dict_passes_the_check() -> None:
    # the check tries ``type(x) is dict`` first: other mappings still take the ABC check
    from types import MappingProxyType

    graph = one_node(checkpointer=InMemorySaver())
    config: Any = MappingProxyType(
        {"configurable": MappingProxyType({"thread_id": "m"}), "metadata": MappingProxyType({})}
    )
    assert graph.invoke({"n": 1}, config) == {"n": 2}
    assert graph.get_state({"configurable": {"thread_id": "m"}}).values == {"n": 2}


# --- max_concurrency ---------------------------------------------------------------------------

FANOUT = 6
LIMIT = 2
PATIENCE = 0.3
"""How long a node waits for more siblings than the limit to be running with it (seconds). A
wait that ends is no failure: under the limit it always ends so; without one, siblings arrive
at once (the test then waits without a bound)."""


class Peak:
    """How many fan-out tasks ran at once, at most. Each task waits, once in, until more than
    ``LIMIT`` have run together (which only happens when nothing caps them), or ``PATIENCE``."""

    def __init__(self, capped: bool) -> None:
        self.capped = capped
        self.running = self.peak = 0
        self.lock = threading.Condition()
        self.async_lock: asyncio.Condition | None = None

    def _over(self) -> bool:  # once seen, no task waits any more
        return self.peak > LIMIT

    def node(self, state: Any) -> dict[str, Any]:
        with self.lock:
            self.running += 1
            self.peak = max(self.peak, self.running)
            self.lock.notify_all()
            self.lock.wait_for(self._over, timeout=PATIENCE if self.capped else None)
            self.running -= 1
        return {"done": [state]}

    async def anode(self, state: Any) -> dict[str, Any]:
        if self.async_lock is None:
            self.async_lock = asyncio.Condition()
        async with self.async_lock:
            self.running += 1
            self.peak = max(self.peak, self.running)
            self.async_lock.notify_all()
            try:
                waiting = self.async_lock.wait_for(self._over)
                await asyncio.wait_for(waiting, PATIENCE if self.capped else None)
            except TimeoutError:
                pass
            self.running -= 1
        return {"done": [state]}


class Fanned(TypedDict):
    done: Annotated[list[int], operator.add]


def fan_out(node: Any) -> Any:
    builder = StateGraph(Fanned)
    builder.add_node("start", lambda s: {"done": []})
    builder.add_node("work", node)
    builder.add_edge(START, "start")
    builder.add_conditional_edges("start", lambda s: [Send("work", i) for i in range(FANOUT)])
    return builder.compile()


@pytest.mark.parametrize("capped", [True, False])
def test_max_concurrency_caps_a_steps_tasks_sync(capped: bool) -> None:
    peak = Peak(capped)
    config: Any = {"max_concurrency": LIMIT} if capped else {}
    result = fan_out(peak.node).invoke({"done": []}, config)
    assert sorted(result["done"]) == list(range(FANOUT))
    assert peak.peak <= LIMIT if capped else peak.peak > LIMIT


@pytest.mark.parametrize("capped", [True, False])
async def test_max_concurrency_caps_a_steps_tasks_async(capped: bool) -> None:
    peak = Peak(capped)
    config: Any = {"max_concurrency": LIMIT} if capped else {}
    result = await fan_out(peak.anode).ainvoke({"done": []}, config)
    assert sorted(result["done"]) == list(range(FANOUT))
    assert peak.peak <= LIMIT if capped else peak.peak > LIMIT
