"""The same programs on LangGraph and on threadloom: the same callback run tree and the same
``astream_events`` sequence (run ids aside; they are compared through who is whose parent)."""

from __future__ import annotations

import asyncio
import importlib
import re
from typing import Annotated, Any
from uuid import UUID

import pytest
from langchain_core.callbacks import BaseCallbackHandler, adispatch_custom_event
from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage, HumanMessage
from langchain_core.tools import tool
from typing_extensions import TypedDict

pytest.importorskip("langgraph")

ROOTS = ("langgraph", "threadloom")
_ID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def _mod(root: str, name: str) -> Any:
    return importlib.import_module(f"{root}.{name}")


class Recorder(BaseCallbackHandler):
    def __init__(self) -> None:
        self.ids: dict[UUID, int] = {}
        self.events: list[tuple[Any, ...]] = []

    def _n(self, run_id: UUID | None) -> int | None:
        return None if run_id is None else self.ids.setdefault(run_id, len(self.ids))

    def _add(self, kind: str, run_id: UUID, kw: dict[str, Any], *extra: Any) -> None:
        metadata = {k: v for k, v in (kw.get("metadata") or {}).items() if k != "lc_versions"}
        self.events.append((kind, self._n(run_id), self._n(kw.get("parent_run_id")),
                            kw.get("name"), kw.get("tags"), _clean(metadata), *extra))  # fmt: skip

    def on_chain_start(self, serialized: Any, inputs: Any, *, run_id: UUID, **kw: Any) -> None:
        self._add("chain_start", run_id, kw, _clean(inputs))

    def on_chain_end(self, outputs: Any, *, run_id: UUID, **kw: Any) -> None:
        self._add("chain_end", run_id, kw, _clean(outputs))

    def on_chain_error(self, error: BaseException, *, run_id: UUID, **kw: Any) -> None:
        self._add("chain_error", run_id, kw, repr(error))

    def on_chat_model_start(
        self, serialized: Any, messages: Any, *, run_id: UUID, **kw: Any
    ) -> None:
        self._add("chat_start", run_id, kw)

    def on_tool_start(self, serialized: Any, input_str: str, *, run_id: UUID, **kw: Any) -> None:
        self._add("tool_start", run_id, kw)


def _clean(value: Any) -> str:
    return _ID.sub("ID", repr(value))


class State(TypedDict):
    x: int
    messages: Annotated[list[Any], lambda a, b: a + b]


@tool
def add(a: int, b: int) -> int:
    """Add two integers."""
    return a + b


def _program(root: str) -> Any:
    graph_mod = _mod(root, "graph")
    model = GenericFakeChatModel(messages=iter([AIMessage("hi there", id="m1")] * 4))

    def one(state: State) -> dict[str, Any]:
        return {"x": state["x"] + add.invoke({"a": 1, "b": 2}), "messages": [model.invoke("q")]}

    def boom(state: State) -> dict[str, Any]:
        if state["x"] > 100:
            raise ValueError("boom")
        return {"x": state["x"] * 2}

    inner = graph_mod.StateGraph(State)
    inner.add_node("one", one)
    inner.add_edge(graph_mod.START, "one")
    outer = graph_mod.StateGraph(State)
    outer.add_node("child", inner.compile())
    outer.add_node("boom", boom, metadata={"team": "billing"})
    outer.add_edge(graph_mod.START, "child")
    outer.add_edge("child", "boom")
    saver = _mod(root, "checkpoint.memory").InMemorySaver()
    return outer.compile(checkpointer=saver)


def _tree(root: str, mode: str, x: int) -> list[tuple[Any, ...]]:
    recorder = Recorder()
    config = {
        "callbacks": [recorder],
        "configurable": {"thread_id": "t"},
        "tags": ["mine"],
        "metadata": {"user": "u"},
    }
    graph = _program(root)
    try:
        if mode == "invoke":
            graph.invoke({"x": x, "messages": []}, config)
        else:
            asyncio.run(graph.ainvoke({"x": x, "messages": []}, config))
    except ValueError:
        pass
    return recorder.events


@pytest.mark.parametrize("x", [1, 1000], ids=["ok", "error"])
@pytest.mark.parametrize("mode", ["invoke", "ainvoke"])
def test_the_run_tree_is_langgraphs(mode: str, x: int) -> None:
    theirs, ours = (_tree(root, mode, x) for root in ROOTS)
    assert ours == theirs


class Chat(TypedDict):
    messages: Annotated[list[Any], lambda a, b: a + b]


def _events(root: str, version: str) -> list[str]:
    graph_mod = _mod(root, "graph")
    model = GenericFakeChatModel(messages=iter([AIMessage("hi there", id="m1")] * 4))

    async def chat(state: Chat) -> dict[str, Any]:
        await adispatch_custom_event("progress", {"p": 1})
        return {"messages": [await model.ainvoke(state["messages"])]}

    def after(state: Chat) -> dict[str, Any]:
        return {"messages": []}

    builder = graph_mod.StateGraph(Chat)
    builder.add_node("chat", chat)
    builder.add_node("after", after)
    builder.add_edge(graph_mod.START, "chat")
    builder.add_edge("chat", "after")
    graph = builder.compile()

    async def collect() -> list[str]:
        ids: dict[str, int] = {}
        out = []
        async for event in graph.astream_events(
            {"messages": [HumanMessage("hi", id="h")]}, version=version
        ):
            event = dict(event)
            event["run_id"] = ids.setdefault(event["run_id"], len(ids))
            event["parent_ids"] = [ids.setdefault(p, len(ids)) for p in event.get("parent_ids", [])]
            event["metadata"] = {
                k: v for k, v in event.get("metadata", {}).items() if k != "lc_versions"
            }
            out.append(_clean(event))
        return out

    return asyncio.run(collect())


@pytest.mark.filterwarnings("ignore:astream_events version='v1' is deprecated")
@pytest.mark.parametrize("version", ["v2", "v1"])
def test_astream_events_are_langgraphs(version: str) -> None:
    theirs, ours = (_events(root, version) for root in ROOTS)
    assert ours == theirs


def _agent_tree(root: str, mode: str) -> list[tuple[Any, ...]]:
    """A model node and a ``ToolNode`` (issue 11's run tree): the model calls ``add``, then
    answers; each library's own ``StateGraph``, ``ToolNode`` and ``tools_condition``."""
    graph_mod, prebuilt = _mod(root, "graph"), _mod(root, "prebuilt")
    script = [
        AIMessage("", id="a1", tool_calls=[{"name": "add", "args": {"a": 1, "b": 2}, "id": "c1"}]),
        AIMessage("3", id="a2"),
    ]
    model = GenericFakeChatModel(messages=iter(script))

    def agent(state: Chat) -> dict[str, Any]:
        return {"messages": [model.invoke(state["messages"])]}

    builder = graph_mod.StateGraph(Chat)
    builder.add_node("agent", agent)
    builder.add_node("tools", prebuilt.ToolNode([add]))
    builder.add_edge(graph_mod.START, "agent")
    builder.add_conditional_edges("agent", prebuilt.tools_condition)
    builder.add_edge("tools", "agent")
    recorder = Recorder()
    config = {"callbacks": [recorder], "configurable": {"thread_id": "t"}}
    saver = _mod(root, "checkpoint.memory").InMemorySaver()
    graph = builder.compile(checkpointer=saver)
    question = {"messages": [HumanMessage("1+2?", id="h")]}
    if mode == "invoke":
        graph.invoke(question, config)
    else:
        asyncio.run(graph.ainvoke(question, config))
    return recorder.events


@pytest.mark.parametrize("mode", ["invoke", "ainvoke"])
def test_the_run_tree_of_a_model_node_and_a_tool_node_is_langgraphs(mode: str) -> None:
    theirs, ours = (_agent_tree(root, mode) for root in ROOTS)
    assert any(event[3] == "tools_condition" for event in ours)  # the router is a run too
    assert any(event[0] == "tool_start" for event in ours)
    assert ours == theirs
