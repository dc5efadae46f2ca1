"""A saver keeps no `Send` alive after the run that made it, on every saver.

A saver remembers the last list it wrote per (thread, ns, channel), so the next step can store
only what was appended (a chat's messages). The tasks channel (the packets of `Send`) is a list
too, but it is emptied every step: remembering it bought nothing and kept every `Send` of the
last fan-out of up to 4,096 threads alive, which the garbage collector then walked at each full
collection. Its versions are stored whole and read back the same.
"""

from __future__ import annotations

import gc
import operator
from typing import Annotated, Any, TypedDict

from threadloom.graph import END, START, StateGraph
from threadloom.types import Send


class State(TypedDict, total=False):
    items: list[int]
    done: Annotated[list[int], operator.add]


def fan_out(saver: Any) -> Any:
    def worker(arg: dict[str, Any]) -> dict[str, Any]:
        return {"done": [arg["n"]]}

    def route(state: State) -> list[Send]:
        return [Send("worker", {"n": n}) for n in state["items"]]

    builder = StateGraph(State).add_node("worker", worker)
    builder.add_conditional_edges(START, route, ["worker"]).add_edge("worker", END)
    return builder.compile(checkpointer=saver)


def live_sends() -> int:
    gc.collect()
    return sum(1 for obj in gc.get_objects() if type(obj) is Send)


def test_no_send_outlives_its_run(saver: Any) -> None:
    graph = fan_out(saver)
    before = live_sends()
    for thread in range(3):
        config = {"configurable": {"thread_id": f"t{thread}"}}
        assert sorted(graph.invoke({"items": list(range(20))}, config)["done"]) == list(range(20))
    assert live_sends() == before


def test_the_sends_of_a_step_read_back_from_history(saver: Any) -> None:
    graph = fan_out(saver)
    config = {"configurable": {"thread_id": "t"}}
    graph.invoke({"items": [1, 2, 3]}, config)
    step0 = next(s for s in graph.get_state_history(config) if s.metadata["step"] == 0)
    assert [t.name for t in step0.tasks] == ["worker"] * 3
    assert sorted(step0.values["items"]) == [1, 2, 3]
    # reading the history twice gives equal results (nothing remembered from the first read)
    again = next(s for s in graph.get_state_history(config) if s.metadata["step"] == 0)
    assert again.tasks == step0.tasks
