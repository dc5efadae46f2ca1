"""A callback handler in ``config["callbacks"]`` sees the graph run as a tree, as in LangGraph.

The expected shapes (names, parents, tags, metadata) were observed on LangGraph 1.2.22 with the
same programs; the run ids are compared only through who is whose parent.
"""

from __future__ import annotations

import asyncio
from typing import Any
from uuid import UUID

import pytest
from langchain_core.callbacks import BaseCallbackHandler
from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage
from langchain_core.runnables import RunnableConfig
from langchain_core.tools import tool
from typing_extensions import TypedDict

from threadloom.checkpoint.memory import InMemorySaver
from threadloom.func import entrypoint, task
from threadloom.graph import END, START, StateGraph
from threadloom.types import Command, RetryPolicy, interrupt


class Recorder(BaseCallbackHandler):
    """Every run start, end and error, with run ids numbered in order of appearance."""

    def __init__(self) -> None:
        self.ids: dict[UUID, int] = {}
        self.events: list[dict[str, Any]] = []

    def _n(self, run_id: UUID | None) -> int | None:
        return None if run_id is None else self.ids.setdefault(run_id, len(self.ids))

    def _add(self, kind: str, run_id: UUID, parent_run_id: UUID | None, **extra: Any) -> None:
        self.events.append(
            {"kind": kind, "run": self._n(run_id), "parent": self._n(parent_run_id), **extra}
        )

    def on_chain_start(self, serialized: Any, inputs: Any, *, run_id: UUID, **kw: Any) -> None:
        self._add(
            "chain_start",
            run_id,
            kw.get("parent_run_id"),
            name=kw.get("name"),
            tags=kw.get("tags"),
            metadata=kw.get("metadata"),
            inputs=inputs,
        )

    def on_chain_end(self, outputs: Any, *, run_id: UUID, **kw: Any) -> None:
        self._add("chain_end", run_id, kw.get("parent_run_id"), outputs=outputs)

    def on_chain_error(self, error: BaseException, *, run_id: UUID, **kw: Any) -> None:
        self._add("chain_error", run_id, kw.get("parent_run_id"), error=error)

    def on_chat_model_start(
        self, serialized: Any, messages: Any, *, run_id: UUID, **kw: Any
    ) -> None:
        self._add("chat_start", run_id, kw.get("parent_run_id"), tags=kw.get("tags"),
                  metadata=kw.get("metadata"))  # fmt: skip

    def on_tool_start(self, serialized: Any, input_str: str, *, run_id: UUID, **kw: Any) -> None:
        self._add("tool_start", run_id, kw.get("parent_run_id"), tags=kw.get("tags"),
                  metadata=kw.get("metadata"))  # fmt: skip

    def starts(self) -> list[dict[str, Any]]:
        return [e for e in self.events if e["kind"].endswith("_start")]

    def shape(self) -> list[tuple[Any, ...]]:
        """(kind, run, parent, name) of every event: the tree and its order."""
        return [(e["kind"], e["run"], e["parent"], e.get("name")) for e in self.events]


class State(TypedDict):
    x: int
    msgs: list[Any]


@tool
def add(a: int, b: int) -> int:
    """Add two integers."""
    return a + b


def _model_graph() -> Any:
    model = GenericFakeChatModel(messages=iter([AIMessage("hi there", id="m1")] * 4))

    def one(state: State) -> dict[str, Any]:
        message = model.invoke("hello")
        return {"x": state["x"] + add.invoke({"a": 1, "b": 2}), "msgs": [message]}

    def two(state: State) -> dict[str, Any]:
        return {"x": state["x"] * 2}

    builder = StateGraph(State)
    builder.add_node("one", one)
    builder.add_node("two", two)
    builder.add_edge(START, "one")
    builder.add_edge("one", "two")
    builder.add_edge("two", END)
    return builder.compile(checkpointer=InMemorySaver())


def _run(graph: Any, mode: str, value: Any, config: dict[str, Any]) -> Any:
    if mode == "invoke":
        return graph.invoke(value, config)
    if mode == "stream":
        return list(graph.stream(value, config))
    if mode == "ainvoke":
        return asyncio.run(graph.ainvoke(value, config))

    async def consume() -> list[Any]:
        return [chunk async for chunk in graph.astream(value, config)]

    return asyncio.run(consume())


MODES = ["invoke", "stream", "ainvoke", "astream"]


@pytest.mark.parametrize("mode", MODES)
def test_graph_nodes_and_model_calls_form_one_tree(mode: str) -> None:
    recorder = Recorder()
    config = {
        "callbacks": [recorder],
        "configurable": {"thread_id": "t"},
        "tags": ["mine"],
        "metadata": {"user": "u"},
    }
    _run(_model_graph(), mode, {"x": 1, "msgs": []}, config)

    assert recorder.shape() == [
        ("chain_start", 0, None, "LangGraph"),
        ("chain_start", 1, 0, "one"),
        ("chat_start", 2, 1, None),
        ("tool_start", 3, 1, None),
        ("chain_end", 1, 0, None),
        ("chain_start", 4, 0, "two"),
        ("chain_end", 4, 0, None),
        ("chain_end", 0, None, None),
    ]
    graph_run, one, chat, tool_run, two = recorder.starts()
    assert graph_run["tags"] == ["mine"]
    assert graph_run["metadata"] == {"user": "u", "thread_id": "t", "ls_integration": "langgraph"}
    assert graph_run["inputs"] == {"x": 1, "msgs": []}
    assert recorder.events[-1]["outputs"]["x"] == 8
    assert one["tags"] == ["graph:step:1", "mine"]
    assert two["tags"] == ["graph:step:2", "mine"]
    ns = one["metadata"]["langgraph_checkpoint_ns"]
    assert ns.startswith("one:")
    assert one["metadata"] == {
        "user": "u",
        "thread_id": "t",
        "ls_integration": "langgraph",
        "langgraph_step": 1,
        "langgraph_node": "one",
        "langgraph_triggers": ("branch:to:one",),
        "langgraph_path": ("__pregel_pull", "one"),
        "langgraph_checkpoint_ns": ns,
    }
    assert one["inputs"] == {"x": 1, "msgs": []}
    assert recorder.events[4]["outputs"]["x"] == 4  # the node's own return value
    # a model or tool called in a node: below the node run, tagged as its first step
    for child in (chat, tool_run):
        assert child["tags"] == ["seq:step:1", "mine"]
        assert child["metadata"]["langgraph_node"] == "one"
        assert child["metadata"]["checkpoint_ns"] == ns
    assert chat["metadata"]["ls_integration"] == "langchain_chat_model"


class Step(TypedDict):
    x: int


def _subgraph_parent() -> Any:
    inner = StateGraph(Step)
    inner.add_node("inner", lambda s: {"x": s["x"] + 1})
    inner.add_edge(START, "inner")

    def boom(state: Step) -> Step:
        if state["x"] > 100:
            raise ValueError("boom")
        return state

    outer = StateGraph(Step)
    outer.add_node("child", inner.compile())
    outer.add_node("boom", boom)
    outer.add_edge(START, "child")
    outer.add_edge("child", "boom")
    return outer.compile()


@pytest.mark.parametrize("mode", MODES)
def test_a_subgraph_is_a_graph_run_below_its_node(mode: str) -> None:
    recorder = Recorder()
    _run(_subgraph_parent(), mode, {"x": 1}, {"callbacks": [recorder]})
    assert recorder.shape() == [
        ("chain_start", 0, None, "LangGraph"),
        ("chain_start", 1, 0, "child"),
        ("chain_start", 2, 1, "LangGraph"),
        ("chain_start", 3, 2, "inner"),
        ("chain_end", 3, 2, None),
        ("chain_end", 2, 1, None),
        ("chain_end", 1, 0, None),
        ("chain_start", 4, 0, "boom"),
        ("chain_end", 4, 0, None),
        ("chain_end", 0, None, None),
    ]
    _, child, subgraph, inner, _ = recorder.starts()
    assert subgraph["tags"] == ["seq:step:1"]
    assert inner["tags"] == ["graph:step:1"]
    assert subgraph["metadata"]["checkpoint_ns"] == child["metadata"]["langgraph_checkpoint_ns"]
    assert inner["metadata"]["langgraph_checkpoint_ns"].startswith(
        child["metadata"]["langgraph_checkpoint_ns"] + "|inner:"
    )


@pytest.mark.parametrize("mode", MODES)
def test_an_error_is_reported_on_the_node_and_the_graph_run(mode: str) -> None:
    recorder = Recorder()
    with pytest.raises(ValueError, match="boom"):
        _run(_subgraph_parent(), mode, {"x": 1000}, {"callbacks": [recorder]})
    assert recorder.shape()[-3:] == [
        ("chain_start", 4, 0, "boom"),
        ("chain_error", 4, 0, None),
        ("chain_error", 0, None, None),
    ]
    assert str(recorder.events[-1]["error"]) == "boom"


@pytest.mark.parametrize("mode", ["invoke", "ainvoke"])
def test_functional_task_calls_are_runs_below_the_entrypoint(mode: str) -> None:
    @task
    def double(x: int) -> int:
        return x * 2

    @entrypoint()
    def workflow(x: int) -> int:
        return double(x).result() + double(x + 1).result()

    if mode == "ainvoke":

        @task
        async def adouble(x: int) -> int:
            return x * 2

        @entrypoint()
        async def aworkflow(x: int) -> int:
            return await adouble(x) + await adouble(x + 1)

        recorder = Recorder()
        assert asyncio.run(aworkflow.ainvoke(3, {"callbacks": [recorder]})) == 14
        name = "adouble"
        entry = "aworkflow"
    else:
        recorder = Recorder()
        assert workflow.invoke(3, {"callbacks": [recorder]}) == 14
        name, entry = "double", "workflow"
    assert recorder.shape() == [
        ("chain_start", 0, None, "LangGraph"),
        ("chain_start", 1, 0, entry),
        ("chain_start", 2, 1, name),
        ("chain_end", 2, 1, None),
        ("chain_start", 3, 1, name),
        ("chain_end", 3, 1, None),
        ("chain_end", 1, 0, None),
        ("chain_end", 0, None, None),
    ]
    _, ep, first, second = recorder.starts()
    assert ep["tags"] == ["graph:step:0"]
    assert first["tags"] == ["seq:step:1"]
    assert first["metadata"]["langgraph_node"] == name
    assert first["metadata"]["langgraph_triggers"] == ("__pregel_push",)
    assert first["metadata"]["langgraph_path"] == (
        "__pregel_push",
        ("__pregel_pull", entry),
        0,
        True,
    )
    assert second["metadata"]["langgraph_path"][2] == 1
    assert (first["inputs"], second["inputs"]) == ({"x": 3}, {"x": 4})  # arguments by name
    assert first["metadata"]["langgraph_checkpoint_ns"].startswith(
        ep["metadata"]["langgraph_checkpoint_ns"] + f"|{name}:"
    )
    assert recorder.events[-1]["outputs"] == 14


def test_an_interrupt_and_a_retry_are_reported_as_langgraph_does() -> None:
    attempts = {"n": 0}

    def ask(state: Step) -> Step:
        return {"x": interrupt("how many?")}

    def flaky(state: Step) -> Step:
        attempts["n"] += 1
        if attempts["n"] < 2:
            raise ValueError("once")
        return {"x": state["x"] + 1}

    builder = StateGraph(Step)
    builder.add_node("ask", ask)
    retry = RetryPolicy(initial_interval=0.001, retry_on=ValueError)
    builder.add_node("flaky", flaky, retry_policy=retry)
    builder.add_edge(START, "ask")
    builder.add_edge("ask", "flaky")
    graph = builder.compile(checkpointer=InMemorySaver())
    thread = {"configurable": {"thread_id": "1"}}

    paused = Recorder()
    graph.invoke({"x": 1}, {**thread, "callbacks": [paused]})
    # the node stops with GraphInterrupt (an error of its run); the graph run ends normally
    assert [e["kind"] for e in paused.events] == [
        "chain_start",
        "chain_start",
        "chain_error",
        "chain_end",
    ]
    assert type(paused.events[2]["error"]).__name__ == "GraphInterrupt"

    resumed = Recorder()
    assert graph.invoke(Command(resume=5), {**thread, "callbacks": [resumed]}) == {"x": 6}
    # each attempt is a run of its own
    assert resumed.shape() == [
        ("chain_start", 0, None, "LangGraph"),
        ("chain_start", 1, 0, "ask"),
        ("chain_end", 1, 0, None),
        ("chain_start", 2, 0, "flaky"),
        ("chain_error", 2, 0, None),
        ("chain_start", 3, 0, "flaky"),
        ("chain_end", 3, 0, None),
        ("chain_end", 0, None, None),
    ]


def test_messages_stream_and_a_handler_together() -> None:
    recorder = Recorder()
    chunks = list(
        _model_graph().stream(
            {"x": 1, "msgs": []},
            {"callbacks": [recorder], "configurable": {"thread_id": "m"}},
            stream_mode="messages",
        )
    )
    streamed = [m for m, _ in chunks if isinstance(m, AIMessage)]
    assert "".join(str(m.content) for m in streamed) == "hi there"  # each token once
    assert [e["name"] for e in recorder.starts() if e["kind"] == "chain_start"] == [
        "LangGraph",
        "one",
        "two",
    ]


def test_run_name_and_run_id_name_the_graph_run_only() -> None:
    recorder = Recorder()
    run_id = UUID(int=7)
    _subgraph_parent().invoke(
        {"x": 1}, {"callbacks": [recorder], "run_name": "mine", "run_id": run_id}
    )
    names = [e["name"] for e in recorder.starts()]
    assert names == ["mine", "child", "LangGraph", "inner", "boom"]
    assert next(iter(recorder.ids)) == run_id


def test_no_callbacks_no_run_tree() -> None:
    graph = _subgraph_parent()
    seen: list[Any] = []

    def node_config(state: Step, config: RunnableConfig) -> Step:
        seen.append(config.get("callbacks"))
        return state

    builder = StateGraph(Step)
    builder.add_node("look", node_config)
    builder.add_edge(START, "look")
    assert builder.compile().invoke({"x": 1}) == {"x": 1}
    assert seen == [None]
    assert graph.invoke({"x": 1}) == {"x": 2}


def test_node_metadata_is_on_the_node_run_and_below() -> None:
    model = GenericFakeChatModel(messages=iter([AIMessage("ok")]))
    builder = StateGraph(Step)
    builder.add_node("ask", lambda s: {"x": len(str(model.invoke("q").content))}, metadata={"k": 1})
    builder.add_edge(START, "ask")
    recorder = Recorder()
    builder.compile().invoke({"x": 0}, {"callbacks": [recorder]})
    _, node, chat = recorder.starts()
    assert node["metadata"]["k"] == 1
    assert chat["metadata"]["k"] == 1


def test_tracing_switched_on_without_callbacks_in_the_config() -> None:
    from langchain_core.tracers.context import collect_runs

    with collect_runs() as collector:  # a configure hook (LangSmith's env tracing is another)
        _subgraph_parent().invoke({"x": 1})
    # the graph and its subgraph, each a root: this hook is not inherited (so in LangGraph too)
    assert [run.name for run in collector.traced_runs] == ["LangGraph", "LangGraph"]
    assert sorted(run.outputs["x"] for run in collector.traced_runs) == [2, 2]
    with collect_runs() as collector:
        pass
    _subgraph_parent().invoke({"x": 1})  # switched off again: nothing collected
    assert collector.traced_runs == []


def test_a_graph_invoked_in_a_traced_node_without_config_nests_below_it() -> None:
    inner = StateGraph(Step)
    inner.add_node("inner", lambda s: {"x": s["x"] + 1})
    inner.add_edge(START, "inner")
    helper = inner.compile()

    outer = StateGraph(Step)
    outer.add_node("call", lambda s: helper.invoke(s))  # no config passed on
    outer.add_edge(START, "call")
    recorder = Recorder()
    assert outer.compile().invoke({"x": 1}, {"callbacks": [recorder]}) == {"x": 2}
    assert recorder.shape()[:4] == [
        ("chain_start", 0, None, "LangGraph"),
        ("chain_start", 1, 0, "call"),
        ("chain_start", 2, 1, "LangGraph"),
        ("chain_start", 3, 2, "inner"),
    ]
