"""Small programs run on threadloom and LangGraph 1.2.22 side by side (session 14): public details
LangGraph's own tests cover thinly. Each test passes on LangGraph with the import root swapped;
the ones named for a difference failed on threadloom before its fix.
"""

from __future__ import annotations

import operator
from typing import Annotated, Any, TypedDict
from uuid import UUID

from langchain_core.callbacks import BaseCallbackHandler
from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage, HumanMessage, ToolMessage
from langchain_core.tools import InjectedToolCallId, tool

from threadloom.checkpoint.memory import InMemorySaver
from threadloom.errors import GraphInterrupt
from threadloom.graph import END, START, MessagesState, StateGraph
from threadloom.prebuilt import ToolNode
from threadloom.types import Command, Send, interrupt

T: Any = {"configurable": {"thread_id": "t"}}


class State(TypedDict, total=False):
    log: Annotated[list[str], operator.add]
    n: int


class Runs(BaseCallbackHandler):
    """Every chain run's start, end or error, by name."""

    def __init__(self) -> None:
        self.log: list[tuple[str, Any, Any]] = []
        self.names: dict[UUID, Any] = {}

    def on_chain_start(self, serialized: Any, inputs: Any, *, run_id: UUID, **kw: Any) -> None:
        self.names[run_id] = kw.get("name")
        self.log.append(("start", kw.get("name"), None))

    def on_chain_end(self, outputs: Any, *, run_id: UUID, **kw: Any) -> None:
        self.log.append(("end", self.names[run_id], outputs))

    def on_chain_error(self, error: BaseException, *, run_id: UUID, **kw: Any) -> None:
        self.log.append(("error", self.names[run_id], error))


def _asking_subgraph() -> Any:
    """p1 -> sub (child_a asks, then child_b), with a saver on the parent."""

    def child_a(state: State) -> State:
        return {"log": [f"child:{interrupt('sub?')}"]}

    sub = StateGraph(State).add_node("child_a", child_a)
    sub = sub.add_node("child_b", lambda s: {"log": ["child_b"]})
    sub = sub.add_edge(START, "child_a").add_edge("child_a", "child_b").compile()
    parent = StateGraph(State).add_node("p1", lambda s: {"log": ["p1"]}).add_node("sub", sub)
    return parent.add_edge(START, "p1").add_edge("p1", "sub").compile(checkpointer=InMemorySaver())


def _paused_subgraph_runs(log: list[tuple[str, Any, Any]]) -> list[tuple[str, Any, Any]]:
    # the subgraph's own run is the second "LangGraph" one
    return [
        (kind, name, type(value).__name__ if kind == "error" else value)
        for kind, name, value in log
        if name in ("LangGraph", "sub", "child_a")
    ]


def test_a_paused_subgraphs_run_ends_with_the_interrupt_it_raises() -> None:
    # its run ended with on_chain_end(values): a tracer showed a finished subgraph
    runs = Runs()
    graph = _asking_subgraph()
    graph.invoke({"log": []}, {**T, "callbacks": [runs]})
    assert _paused_subgraph_runs(runs.log) == [
        ("start", "LangGraph", None),
        ("start", "sub", None),
        ("start", "LangGraph", None),
        ("start", "child_a", None),
        ("error", "child_a", "GraphInterrupt"),
        ("error", "LangGraph", "GraphInterrupt"),
        ("error", "sub", "GraphInterrupt"),
        ("end", "LangGraph", {"log": ["p1"]}),
    ]
    raised = next(v for kind, name, v in runs.log if kind == "error" and name == "LangGraph")
    assert isinstance(raised, GraphInterrupt)
    assert [i.value for i in raised.args[0]] == ["sub?"]
    # resumed, every run ends
    runs.log.clear()
    assert graph.invoke(Command(resume="ok"), {**T, "callbacks": [runs]}) == {
        "log": ["p1", "p1", "child:ok", "child_b"]  # the subgraph's output adds to the log
    }
    assert [kind for kind, name, _ in runs.log if name == "LangGraph"] == [
        "start",
        "start",
        "end",
        "end",
    ]


async def test_astream_events_shows_no_end_of_a_paused_subgraph() -> None:
    graph = _asking_subgraph()
    events = [
        (event["event"], event["name"], len(event["parent_ids"]))
        async for event in graph.astream_events({"log": []}, T, version="v2")
        if event["name"] == "LangGraph"
    ]
    assert events == [
        ("on_chain_start", "LangGraph", 0),
        ("on_chain_stream", "LangGraph", 0),
        ("on_chain_start", "LangGraph", 2),
        ("on_chain_stream", "LangGraph", 0),
        ("on_chain_end", "LangGraph", 0),
    ]


def test_subgraph_state_while_it_asks() -> None:
    graph = _asking_subgraph()
    out = graph.invoke({"log": []}, T)
    assert [i.value for i in out["__interrupt__"]] == ["sub?"]
    state = graph.get_state(T, subgraphs=True)
    assert state.next == ("sub",)
    [task] = state.tasks
    assert [i.value for i in task.interrupts] == ["sub?"]
    sub = task.state
    assert sub.next == ("child_a",) and sub.values == {"log": ["p1"]}
    assert sub.metadata["source"] == "loop" and sub.metadata["step"] == 0
    assert sorted(sub.config["configurable"]) == [
        "checkpoint_id",
        "checkpoint_map",
        "checkpoint_ns",
        "thread_id",
    ]
    # without subgraphs=True the task's state is the subgraph's config only
    [plain] = graph.get_state(T).tasks
    assert sorted(plain.state["configurable"]) == ["checkpoint_ns", "thread_id"]  # type: ignore[index]
    # the subgraph's own config reads (and edits) its state
    assert graph.get_state(sub.config).next == ("child_a",)
    graph.update_state(sub.config, {"log": ["edited"]})
    edited = graph.get_state(T, subgraphs=True).tasks[0].state
    assert edited.values == {"log": ["p1", "edited"]}  # type: ignore[union-attr]
    assert graph.invoke(Command(resume="r"), T) == {
        "log": ["p1", "p1", "edited", "child:r", "child_b"]
    }


def _two_askers() -> Any:
    def a(state: State) -> State:
        return {"log": [f"a:{interrupt('a?')}"]}

    def b(state: State) -> State:
        return {"log": [f"b:{interrupt('b?')}"]}

    builder = StateGraph(State).add_node("a", a).add_node("b", b)
    builder.add_node("c", lambda s: {"log": ["c"]})
    builder.add_edge(START, "a").add_edge(START, "b").add_edge(["a", "b"], "c")
    return builder.compile(checkpointer=InMemorySaver())


def test_parallel_interrupts_answered_one_at_a_time() -> None:
    graph = _two_askers()
    out = graph.invoke({"log": []}, T)
    ids = {i.value: i.id for i in out["__interrupt__"]}
    assert sorted(ids) == ["a?", "b?"]
    assert graph.get_state(T).next == ("a", "b")
    out = graph.invoke(Command(resume={ids["a?"]: "A"}), T)
    assert out["log"] == ["a:A"]
    assert [i.value for i in out["__interrupt__"]] == ["b?"]
    state = graph.get_state(T)
    assert state.next == ("b",)
    assert graph.invoke(Command(resume={ids["b?"]: "B"}), T) == {"log": ["a:A", "b:B", "c"]}


def test_one_answer_to_parallel_interrupts_is_refused() -> None:
    graph = _two_askers()
    graph.invoke({"log": []}, T)
    try:
        graph.invoke(Command(resume="X"), T)
    except RuntimeError as exc:
        assert "multiple pending interrupts" in str(exc)
    else:
        raise AssertionError("no error")


def test_an_error_beside_an_interrupt_keeps_both_tasks_pending() -> None:
    def bad(state: State) -> State:
        raise ValueError("bad")

    builder = StateGraph(State).add_node("asker", lambda s: {"log": [interrupt("q")]})
    builder = builder.add_node("bad", bad).add_edge(START, "asker").add_edge(START, "bad")
    graph = builder.compile(checkpointer=InMemorySaver())
    try:
        graph.invoke({"log": []}, T)
    except ValueError as exc:
        assert str(exc) == "bad"
    state = graph.get_state(T)
    assert state.next == ("asker", "bad")
    tasks = {t.name: t for t in state.tasks}
    assert [i.value for i in tasks["asker"].interrupts] == ["q"]
    assert tasks["asker"].error is None
    assert tasks["bad"].error == "ValueError('bad')" and tasks["bad"].interrupts == ()


def _tool_calls(*names: str) -> AIMessage:
    calls = [{"name": n, "args": {}, "id": f"call-{n}"} for n in names]
    return AIMessage("", id="ai1", tool_calls=calls)


def test_tools_route_with_command_goto() -> None:
    @tool
    def to_b(tool_call_id: Annotated[str, InjectedToolCallId]) -> Any:
        """Go to b."""
        return Command(
            goto="b", update={"messages": [ToolMessage("b!", tool_call_id=tool_call_id)]}
        )

    @tool
    def to_c(tool_call_id: Annotated[str, InjectedToolCallId]) -> Any:
        """Go to c."""
        return Command(
            goto="c", update={"messages": [ToolMessage("c!", tool_call_id=tool_call_id)]}
        )

    builder = StateGraph(MessagesState)
    builder.add_node("agent", lambda s: {"messages": [_tool_calls("to_b", "to_c")]})
    builder.add_node("tools", ToolNode([to_b, to_c]))
    builder.add_node("b", lambda s: {"messages": [AIMessage("in b", id="ai2")]})
    builder.add_node("c", lambda s: {"messages": [AIMessage("in c", id="ai3")]})
    builder.add_edge(START, "agent").add_edge("agent", "tools")
    chunks = list(builder.compile().stream({"messages": [HumanMessage("hi", id="h")]}))
    assert [list(c) for c in chunks[:2]] == [["agent"], ["tools"]]
    assert sorted(next(iter(c)) for c in chunks[2:]) == ["b", "c"]  # one step, in any order
    # the two Commands' updates come as one list of the tools node's updates
    assert [[m.content for m in u["messages"]] for u in chunks[1]["tools"]] == [["b!"], ["c!"]]


def test_a_tool_in_a_subgraph_routes_the_parent() -> None:
    @tool
    def up(tool_call_id: Annotated[str, InjectedToolCallId]) -> Any:
        """Up."""
        message = ToolMessage("up!", tool_call_id=tool_call_id)
        return Command(graph=Command.PARENT, goto="done", update={"messages": [message]})

    inner = StateGraph(MessagesState)
    inner.add_node("agent", lambda s: {"messages": [_tool_calls("up")]})
    inner.add_node("tools", ToolNode([up])).add_edge(START, "agent").add_edge("agent", "tools")
    outer = StateGraph(MessagesState).add_node("inner", inner.compile())
    outer.add_node("done", lambda s: {"messages": [AIMessage("done", id="ai9")]})
    graph = outer.add_edge(START, "inner").compile(checkpointer=InMemorySaver())
    chunks = list(graph.stream({"messages": [HumanMessage("hi", id="h")]}, T, subgraphs=True))
    assert [(len(ns), sorted(update)) for ns, update in chunks] == [
        (1, ["agent"]),
        (0, ["inner"]),
        (0, ["done"]),
    ]
    contents = [m.content for m in graph.get_state(T).values["messages"]]
    assert contents == ["hi", "up!", "done"]


def test_a_command_fanning_out_with_sends_streams_each_task() -> None:
    def a(state: State) -> Command[Any]:
        sends = [Send("b", {"log": ["x"], "n": 1}), Send("b", {"log": ["y"], "n": 2})]
        return Command(goto=sends, update={"log": ["a"]})

    builder = StateGraph(State).add_node("a", a)
    builder.add_node("b", lambda s: {"log": [f"b{s['n']}"]}).add_edge(START, "a")
    graph = builder.compile(checkpointer=InMemorySaver())
    tasks = [c for m, c in graph.stream({"log": []}, T, stream_mode=["tasks"]) if "input" in c]
    assert [(t["name"], t["input"], t["triggers"]) for t in tasks] == [
        ("a", {"log": []}, ("branch:to:a",)),
        ("b", {"log": ["x"], "n": 1}, ("__pregel_push",)),
        ("b", {"log": ["y"], "n": 2}, ("__pregel_push",)),
    ]
    assert graph.get_state(T).values == {"log": ["a", "b1", "b2"]}


def test_a_conditional_edge_to_end_is_a_chain_run_of_its_own() -> None:
    def route(state: State) -> str:
        return "b"

    builder = StateGraph(State).add_node("a", lambda s: {"log": ["a"]})
    builder.add_node("b", lambda s: {"log": ["b"]}).add_edge(START, "a")
    builder.add_conditional_edges("a", route).add_conditional_edges("b", lambda s: END)
    runs = Runs()
    builder.compile().invoke({"log": []}, {"callbacks": [runs]})
    assert [(kind, name) for kind, name, _ in runs.log][:6] == [
        ("start", "LangGraph"),
        ("start", "a"),
        ("start", "route"),
        ("end", "route"),
        ("end", "a"),
        ("start", "b"),
    ]
    assert ("end", "route", "b") in runs.log


def _lambda_routed() -> Any:
    builder = StateGraph(State).add_node("a", lambda s: {"log": ["a"]}).add_edge(START, "a")
    return builder.add_conditional_edges("a", lambda s: END).compile()


def test_a_lambda_routers_run_is_named_as_langgraph_names_it() -> None:
    # it was "condition" (the branch's name); LangGraph names the run after its router wrapper
    runs = Runs()
    _lambda_routed().invoke({"log": []}, {"callbacks": [runs]})
    assert [name for kind, name, _ in runs.log if kind == "start"] == [
        "LangGraph",
        "a",
        "RunnableCallable",
    ]
    assert ("end", "RunnableCallable", END) in runs.log


async def test_a_lambda_routers_run_has_no_name_in_an_async_run() -> None:
    names = [
        (event["event"], event["name"])
        async for event in _lambda_routed().astream_events({"log": []}, version="v2")
        if "seq:step:3" in event["tags"]
    ]
    assert names == [("on_chain_start", "Unnamed"), ("on_chain_end", "Unnamed")]


def _chatting() -> Any:
    def node(state: State) -> State:
        model = GenericFakeChatModel(messages=iter([AIMessage(content="hi")]))
        return {"log": [str(model.invoke("q").content)]}

    return StateGraph(State).add_node("a", node).add_edge(START, "a").compile()


def test_messages_metadata_shows_the_callers_tags_only() -> None:
    # with callbacks in the config it showed LangChain's own tags: "tags": ["seq:step:1"]
    graph = _chatting()
    for config, tags in (
        ({}, None),
        ({"callbacks": [BaseCallbackHandler()]}, None),
        ({"tags": ["mine"]}, ["mine"]),
        ({"callbacks": [BaseCallbackHandler()], "tags": ["mine"]}, ["mine"]),
    ):
        metas = [meta for _, meta in graph.stream({"log": []}, config, stream_mode="messages")]
        assert metas and all(meta.get("tags") == tags for meta in metas), config


async def test_async_messages_metadata_shows_the_callers_tags_only() -> None:
    config: Any = {"callbacks": [BaseCallbackHandler()]}
    chunks = _chatting().astream({"log": []}, config, stream_mode="messages")
    metas = [meta async for _, meta in chunks]
    assert metas and all("tags" not in meta for meta in metas)


def test_an_async_node_or_entrypoint_run_by_invoke_raises_langgraphs_error() -> None:
    # threadloom said "Node 'x' is an async function: ..." (same TypeError, another text)
    from threadloom.func import entrypoint

    async def some_fn(state: State) -> State:
        return {"n": 1}

    graph = StateGraph(State).add_node("x", some_fn).add_edge(START, "x").compile()
    expected = 'No synchronous function provided to "{}".\nEither initialize with a synchronous'
    try:
        graph.invoke({"n": 0})
    except TypeError as exc:
        assert str(exc).startswith(expected.format("x"))
    else:
        raise AssertionError("no error")

    @entrypoint()
    async def main(value: int) -> int:
        return value

    try:
        main.invoke(1)
    except TypeError as exc:
        assert str(exc).startswith(expected.format("main"))
    else:
        raise AssertionError("no error")
