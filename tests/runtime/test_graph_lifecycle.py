"""``GraphCallbackHandler``: told when a run pauses on interrupts and when it resumes.

Statuses, checkpoint ids and namespaces as LangGraph 1.2.22 reports them for the same graph.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import pytest
from langchain_core.callbacks import BaseCallbackHandler, CallbackManager
from typing_extensions import TypedDict

from threadloom.callbacks import GraphCallbackHandler, GraphInterruptEvent, GraphResumeEvent
from threadloom.checkpoint.memory import InMemorySaver
from threadloom.graph import START, StateGraph
from threadloom.types import Command, Interrupt, interrupt


class Recorder(GraphCallbackHandler):
    def __init__(self, *, fail: bool = False, raise_error: bool = False) -> None:
        self.events: list[GraphInterruptEvent | GraphResumeEvent] = []
        self.fail, self.raise_error = fail, raise_error

    def on_interrupt(self, event: GraphInterruptEvent) -> None:
        self.events.append(event)
        if self.fail:
            raise ValueError("handler broke")

    def on_resume(self, event: GraphResumeEvent) -> None:
        self.events.append(event)


class AsyncRecorder(GraphCallbackHandler):
    def __init__(self) -> None:
        self.events: list[Any] = []

    async def on_interrupt(self, event: GraphInterruptEvent) -> None:
        self.events.append(event)

    async def on_resume(self, event: GraphResumeEvent) -> None:
        self.events.append(event)


class State(TypedDict):
    answer: str | None


def _graph() -> Any:
    def ask(state: State) -> State:
        return {"answer": interrupt("which?")}

    def sub_ask(state: State) -> State:
        return {"answer": interrupt("and?")}

    inner = StateGraph(State)
    inner.add_node("sub_ask", sub_ask)
    inner.add_edge(START, "sub_ask")
    builder = StateGraph(State)
    builder.add_node("ask", ask)
    builder.add_node("other", lambda s: s)
    builder.add_node("sub", inner.compile())
    builder.add_edge(START, "ask")
    builder.add_edge("ask", "other")
    builder.add_edge("other", "sub")
    return builder.compile(checkpointer=InMemorySaver(), interrupt_before=["other"])


def test_pauses_and_resumes_are_reported() -> None:
    graph, recorder = _graph(), Recorder()
    config = {"configurable": {"thread_id": "1"}, "callbacks": [recorder]}
    assert "__interrupt__" in graph.invoke({"answer": None}, config)
    graph.invoke(Command(resume="a"), config)  # then stops before "other"
    graph.invoke(None, config)  # then the subgraph asks
    assert graph.invoke(Command(resume="b"), config) == {"answer": "b"}

    kinds = [(type(e).__name__, e.status, e.checkpoint_ns) for e in recorder.events]
    assert [(k, s, len(ns)) for k, s, ns in kinds] == [
        ("GraphInterruptEvent", "pending", 0),
        ("GraphResumeEvent", "pending", 0),
        ("GraphInterruptEvent", "interrupt_before", 0),
        ("GraphResumeEvent", "pending", 0),
        ("GraphInterruptEvent", "pending", 0),  # the subgraph's pause, reported by the root
        ("GraphResumeEvent", "pending", 0),
        ("GraphResumeEvent", "pending", 1),  # the subgraph resumes too
    ]
    first, resumed, before = recorder.events[:3]
    assert isinstance(first, GraphInterruptEvent) and isinstance(before, GraphInterruptEvent)
    assert [i.value for i in first.interrupts] == ["which?"]
    assert all(isinstance(i, Interrupt) for i in first.interrupts)
    assert before.interrupts == ()
    assert resumed.checkpoint_id == first.checkpoint_id  # resumed where it paused
    assert recorder.events[3].checkpoint_id == before.checkpoint_id
    assert recorder.events[6].checkpoint_ns[0].startswith("sub:")
    assert first.run_id is not None and first.run_id != resumed.run_id


def test_async_handlers_and_async_runs() -> None:
    graph, recorder = _graph(), AsyncRecorder()
    config = {"configurable": {"thread_id": "2"}, "callbacks": [recorder]}

    async def run() -> None:
        await graph.ainvoke({"answer": None}, config)
        await graph.ainvoke(Command(resume="a"), config)

    asyncio.run(run())
    assert [type(e).__name__ for e in recorder.events] == [
        "GraphInterruptEvent",
        "GraphResumeEvent",
        "GraphInterruptEvent",
    ]


def test_a_failing_handler_is_logged_unless_it_asks_to_raise(
    caplog: pytest.LogCaptureFixture,
) -> None:
    graph, broken, recorder = _graph(), Recorder(fail=True), Recorder()
    config = {"configurable": {"thread_id": "3"}, "callbacks": [broken, recorder]}
    with caplog.at_level(logging.WARNING):
        assert "__interrupt__" in graph.invoke({"answer": None}, config)
    assert len(recorder.events) == 1
    assert "handler broke" in caplog.text

    strict = Recorder(fail=True, raise_error=True)
    config = {"configurable": {"thread_id": "4"}, "callbacks": [strict]}
    with pytest.raises(ValueError, match="handler broke"):
        _graph().invoke({"answer": None}, config)


def test_only_graph_handlers_get_lifecycle_events_even_in_a_manager() -> None:
    class Plain(BaseCallbackHandler):
        def __init__(self) -> None:
            self.custom: list[str] = []

        def on_custom_event(self, name: str, data: Any, **kwargs: Any) -> None:
            self.custom.append(name)

    plain, recorder = Plain(), Recorder()
    manager = CallbackManager.configure(inheritable_callbacks=[plain])
    manager.add_handler(recorder)
    graph = _graph()
    config: Any = {"configurable": {"thread_id": "5"}, "callbacks": manager}
    graph.invoke({"answer": None}, config)
    assert len(recorder.events) == 1
    assert plain.custom == []
