"""RemainingSteps and IsLastStep: computed per task as LangGraph 1.2.22 computes them, never stored.

The expected counts were observed by running the same graph on LangGraph 1.2.22.
"""

import operator
from typing import Annotated, Any, TypedDict

from pydantic import BaseModel

from threadloom.checkpoint.memory import InMemorySaver
from threadloom.graph import END, START, StateGraph
from threadloom.managed import IsLastStep, RemainingSteps


class State(TypedDict):
    seen: Annotated[list[Any], operator.add]
    remaining: RemainingSteps
    last: IsLastStep


def loop_until_last_step(schema: Any) -> Any:
    def node(state: Any) -> dict[str, Any]:
        get = state.get if isinstance(state, dict) else lambda k: getattr(state, k)
        return {"seen": [(get("remaining"), get("last"))], "remaining": 99}  # write ignored

    def route(state: Any) -> str:  # a conditional edge sees the managed values too
        last = state["last"] if isinstance(state, dict) else state.last
        return END if last else "node"

    builder = StateGraph(schema)
    builder.add_node("node", node)
    builder.add_edge(START, "node")
    builder.add_conditional_edges("node", route)
    return builder.compile(checkpointer=InMemorySaver())


def test_values_count_down_to_the_recursion_limit() -> None:
    graph = loop_until_last_step(State)
    config = {"configurable": {"thread_id": "1"}, "recursion_limit": 4}
    assert graph.invoke({"seen": []}, config) == {"seen": [(3, False), (2, False), (1, True)]}
    # a second run on the same thread counts from its own start
    again = graph.invoke({"seen": []}, config)
    assert again["seen"][3:] == [(3, False), (2, False), (1, True)]


def test_managed_keys_are_never_stored_or_returned() -> None:
    graph = loop_until_last_step(State)
    config = {"configurable": {"thread_id": "1"}, "recursion_limit": 3}
    chunks = list(graph.stream({"seen": []}, config, stream_mode="values"))
    assert chunks == [{"seen": []}, {"seen": [(2, False)]}, {"seen": [(2, False), (1, True)]}]
    values = graph.get_state(config).values
    assert set(values) == {"seen"}
    saved = graph.checkpointer.get_tuple(config).checkpoint["channel_values"]
    assert "remaining" not in saved and "last" not in saved


class PydanticState(BaseModel):
    seen: Annotated[list[Any], operator.add] = []
    remaining: RemainingSteps = 25
    last: IsLastStep = False


def test_pydantic_state_gets_managed_values() -> None:
    graph = loop_until_last_step(PydanticState)
    config = {"configurable": {"thread_id": "1"}, "recursion_limit": 3}
    assert graph.invoke({"seen": []}, config)["seen"] == [(2, False), (1, True)]
