"""``stream_events(version="v3")``, ``threadloom.stream`` and ``RunControl``: what LangGraph
1.2.22 does with the same programs (run side by side on both while writing these)."""

from __future__ import annotations

import asyncio
import operator
from typing import Annotated, Any, TypedDict

import pytest
from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage

from threadloom.checkpoint.memory import InMemorySaver
from threadloom.config import get_stream_writer
from threadloom.errors import GraphDrained
from threadloom.graph import END, START, StateGraph
from threadloom.runtime import RunControl, Runtime
from threadloom.stream import (
    AsyncGraphRunStream,
    CustomTransformer,
    GraphRunStream,
    StreamChannel,
    StreamTransformer,
    SubgraphRunStream,
    UpdatesTransformer,
)
from threadloom.types import Command, interrupt


class State(TypedDict):
    x: Annotated[list[Any], operator.add]


def step_a(state: State) -> dict[str, Any]:
    get_stream_writer()({"seen": len(state["x"])})
    return {"x": ["a"]}


def ask(state: State) -> dict[str, Any]:
    return {"x": [interrupt("q?")]}


def build(*, with_question: bool = False, **compile_kwargs: Any) -> Any:
    """START -> a -> sub (a subgraph running a) [-> ask (interrupts)]."""
    sub = StateGraph(State).add_node("sa", step_a).add_edge(START, "sa").compile()
    builder = StateGraph(State).add_node("a", step_a).add_node("sub", sub)
    builder.add_edge(START, "a").add_edge("a", "sub")
    if with_question:
        builder.add_node("ask", ask).add_edge("sub", "ask")
    return builder.compile(checkpointer=InMemorySaver(), **compile_kwargs)


def thread(name: str) -> dict[str, Any]:
    return {"configurable": {"thread_id": name}}


def shape(run: Any) -> list[tuple[str, int, Any]]:
    """The main event log as (method, namespace depth, data or lifecycle event)."""
    out = []
    for event in run:
        params = event["params"]
        data = params["data"]
        if event["method"] == "lifecycle":
            data = (data["event"], data.get("graph_name"))
        out.append((event["method"], len(params["namespace"]), data))
    return out


def test_the_main_log_is_values_and_subgraph_lifecycle_numbered_in_order() -> None:
    run = build().stream_events({"x": []}, thread("t"), version="v3")
    assert isinstance(run, GraphRunStream)
    events = list(run)
    assert [e["seq"] for e in events] == list(range(1, len(events) + 1))
    assert shape(iter(events)) == [
        ("values", 0, {"x": []}),
        ("values", 0, {"x": ["a"]}),
        ("values", 1, {"x": ["a"]}),
        ("lifecycle", 0, ("started", "sub")),  # at the subgraph's first task, as LangGraph
        ("values", 1, {"x": ["a", "a"]}),
        ("lifecycle", 0, ("completed", None)),
        ("values", 0, {"x": ["a", "a", "a"]}),
    ]
    started = events[3]["params"]["data"]
    node, task_id = started["namespace"][0].split(":")
    assert (node, started["trigger_call_id"]) == ("sub", task_id)
    assert run.output == {"x": ["a", "a", "a"]}
    assert run.interrupted is False and run.interrupts == []


def test_values_projection_is_the_run_own_level_and_output_its_last() -> None:
    run = build().stream_events({"x": []}, thread("t"), version="v3")
    assert list(run.values) == [{"x": []}, {"x": ["a"]}, {"x": ["a", "a", "a"]}]
    assert run.output == {"x": ["a", "a", "a"]}


def test_an_interrupt_is_reported_and_a_resume_runs_on() -> None:
    graph = build(with_question=True)
    run = graph.stream_events({"x": []}, thread("t"), version="v3")
    assert run.interrupted is True
    assert [i.value for i in run.interrupts] == ["q?"]
    again = graph.stream_events(Command(resume="yes"), thread("t"), version="v3")
    assert again.output == {"x": ["a", "a", "a", "yes"]}
    assert again.interrupted is False


def test_transformers_from_compile_and_from_the_call_add_projections() -> None:
    graph = build(transformers=[UpdatesTransformer])
    run = graph.stream_events(
        {"x": []}, thread("t"), version="v3", transformers=[CustomTransformer]
    )
    assert sorted(run.extensions) == [
        "custom",
        "lifecycle",
        "messages",
        "subgraphs",
        "updates",
        "values",
    ]
    for name, _item in run.interleave("updates", "custom"):
        assert name in ("updates", "custom")
    with pytest.raises(AttributeError, match="registered projections: custom, lifecycle"):
        run.tasks  # noqa: B018


def test_interleave_keeps_arrival_order_and_a_subgraph_is_left_to_its_handle() -> None:
    run = build(transformers=[UpdatesTransformer, CustomTransformer]).stream_events(
        {"x": []}, thread("t"), version="v3"
    )
    got = list(run.interleave("custom", "updates"))
    # the subgraph's own custom/updates are on its handle, not the run's
    assert got == [
        ("custom", {"seen": 0}),
        ("updates", {"a": {"x": ["a"]}}),
        ("updates", {"sub": {"x": ["a", "a"]}}),
    ]


class Counter(StreamTransformer):
    """Counts updates on a named channel: its items also reach the main log as custom:count."""

    required_stream_modes = ("updates",)

    def __init__(self, scope: tuple[str, ...] = ()) -> None:
        super().__init__(scope)
        self.channel: StreamChannel[int] = StreamChannel("count")
        self.seen = 0

    def init(self) -> dict[str, Any]:
        return {"count": self.channel}

    def process(self, event: Any) -> bool:
        if event["method"] == "updates" and event["params"]["namespace"] == list(self.scope):
            self.seen += 1
            self.channel.push(self.seen)
        return event["method"] != "updates"  # keep updates out of the main log


def test_a_user_transformer_forwards_its_named_channel_and_can_drop_events() -> None:
    run = build().stream_events({"x": []}, thread("t"), version="v3", transformers=[Counter])
    methods = [(e["method"], e["params"]["data"]) for e in run if e["method"] != "values"]
    assert [m for m in methods if m[0] == "custom:count"] == [
        ("custom:count", 1),
        ("custom:count", 2),
    ]
    assert all(m[0] != "updates" for m in methods)
    assert not hasattr(run, "count")  # not native: only in run.extensions
    assert run.extensions["count"] is not None


def test_subgraph_handles_carry_their_own_projections() -> None:
    run = build().stream_events({"x": []}, thread("t"), version="v3")
    handles: list[SubgraphRunStream] = []
    for handle in run.subgraphs:
        handles.append(handle)
        assert handle.status == "started"
        # (its first state came before the task event that made the handle, as in LangGraph)
        assert list(handle.values) == [{"x": ["a", "a"]}]
    [handle] = handles
    assert (handle.graph_name, handle.status, handle.error) == ("sub", "completed", None)
    assert handle.path[0].startswith("sub:") and handle.trigger_call_id in handle.path[0]


def test_messages_streams_model_tokens_and_whole_messages() -> None:
    def model_node(state: State) -> dict[str, Any]:
        model = GenericFakeChatModel(messages=iter([AIMessage("hello big world", id="ai1")]))
        return {"x": [model.invoke("hi").content]}

    def whole(state: State) -> dict[str, Any]:
        return {"x": [AIMessage("done", id="w1")]}

    builder = StateGraph(State).add_node("m", model_node).add_node("w", whole)
    graph = builder.add_edge(START, "m").add_edge("m", "w").add_edge("w", END).compile()
    run = graph.stream_events({"x": []}, version="v3")
    got = [(s.node, list(s.text), s.output.text) for s in run.messages]
    assert got == [
        ("m", ["hello", " ", "big", " ", "world"], "hello big world"),
        ("w", ["done"], "done"),
    ]


def test_v3_owns_stream_mode_and_subgraphs_and_forwards_the_rest() -> None:
    graph = build()
    for owned in ("stream_mode", "subgraphs"):
        with pytest.raises(TypeError, match=owned):
            graph.stream_events({"x": []}, version="v3", **{owned: None})
    run = graph.stream_events({"x": []}, thread("ib"), version="v3", interrupt_before=["sub"])
    assert run.output == {"x": ["a"]}
    assert graph.get_state(thread("ib")).next == ("sub",)


def test_abort_stops_the_run() -> None:
    ran: list[str] = []

    def node(state: State) -> dict[str, Any]:
        ran.append("n")
        return {"x": ["n"]}

    graph = StateGraph(State).add_node("n", node).add_edge(START, "n").compile()
    with graph.stream_events({"x": []}, version="v3") as run:
        assert next(iter(run.values)) == {"x": []}
    assert ran == []
    assert run.output == {"x": []}  # what it had seen: the run does not go on


def test_async_run_stream() -> None:
    async def main() -> tuple[Any, ...]:
        graph = build(with_question=True)
        run = await graph.astream_events({"x": []}, thread("t"), version="v3")
        assert isinstance(run, AsyncGraphRunStream)
        states = [v async for v in run.values]
        return states[-1], await run.output(), await run.interrupted()

    last, output, interrupted = asyncio.run(main())
    assert last == output == {"x": ["a", "a", "a"]}
    assert interrupted is True


def test_an_async_only_transformer_is_refused_in_a_sync_run() -> None:
    class Slow(StreamTransformer):
        def init(self) -> dict[str, Any]:
            return {}

        async def aprocess(self, event: Any) -> bool:
            await asyncio.sleep(0)
            return True

    with pytest.raises(RuntimeError, match="astream_events"):
        build().stream_events({"x": []}, version="v3", transformers=[Slow])


# --- RunControl --------------------------------------------------------------------------------


def two_steps(first: Any = None) -> Any:
    class S(TypedDict):
        message: str

    def default_first(state: S) -> dict[str, Any]:
        return {"message": state["message"] + " first"}

    def second(state: S) -> dict[str, Any]:
        return {"message": state["message"] + " second"}

    builder = StateGraph(S).add_node("first", first or default_first).add_node("second", second)
    builder.add_edge(START, "first").add_edge("first", "second")
    return builder.compile(checkpointer=InMemorySaver())


def test_a_drain_requested_in_a_node_stops_before_the_next_step_and_resumes() -> None:
    control = RunControl()
    seen: list[Any] = []

    def first(state: Any, runtime: Runtime) -> dict[str, Any]:
        seen.append(runtime.control)
        control.request_drain("sigterm")
        return {"message": state["message"] + " first"}

    graph = two_steps(first)
    with pytest.raises(GraphDrained, match="sigterm") as caught:
        graph.invoke({"message": "hi"}, thread("d"), control=control)
    assert caught.value.reason == "sigterm" and seen == [control]
    state = graph.get_state(thread("d"))
    assert (state.next, state.values) == (("second",), {"message": "hi first"})
    assert graph.invoke(None, thread("d")) == {"message": "hi first second"}


def test_a_drained_control_stops_a_run_before_its_first_step_in_every_api() -> None:
    graph = two_steps()
    control = RunControl()
    control.request_drain()
    assert control.drain_requested and control.drain_reason == "shutdown"
    with pytest.raises(GraphDrained, match="shutdown"):
        list(graph.stream({"message": "hi"}, thread("s"), control=control))
    with pytest.raises(GraphDrained):
        _ = graph.stream_events(
            {"message": "hi"}, thread("v3"), version="v3", control=control
        ).output
    assert graph.get_state(thread("s")).next == ("__start__",)  # (as LangGraph)


def test_a_node_gets_a_fresh_control_when_none_is_given() -> None:
    got: list[Any] = []

    def first(state: Any, runtime: Runtime) -> dict[str, Any]:
        got.append(runtime.control)
        return {"message": "x"}

    two_steps(first).invoke({"message": "hi"}, thread("f"))
    assert isinstance(got[0], RunControl) and not got[0].drain_requested


def test_control_must_be_a_run_control() -> None:
    with pytest.raises(TypeError, match="RunControl"):
        two_steps().invoke({"message": "hi"}, thread("x"), control="stop")


def test_a_drain_inside_a_subgraph_ends_it_as_drained_and_the_thread_resumes() -> None:
    control = RunControl()

    def drain_here(state: State) -> dict[str, Any]:
        control.request_drain("inner")
        return {"x": ["d"]}

    sub = StateGraph(State).add_node("sa", drain_here).add_node("sb", step_a)
    sub = sub.add_edge(START, "sa").add_edge("sa", "sb").compile()
    builder = StateGraph(State).add_node("a", step_a).add_node("sub", sub)
    graph = builder.add_edge(START, "a").add_edge("a", "sub").compile(checkpointer=InMemorySaver())
    run = graph.stream_events({"x": []}, thread("d"), version="v3", control=control)
    lifecycle: list[str] = []
    with pytest.raises(GraphDrained, match="inner"):
        for event in run:
            if event["method"] == "lifecycle":
                lifecycle.append(event["params"]["data"]["event"])
    assert lifecycle == ["started", "drained"]
    assert graph.get_state(thread("d")).next == ("sub",)
    assert graph.invoke(None, thread("d")) == {"x": ["a", "a", "d", "a"]}


def test_a_graph_streamed_inside_a_node_has_its_own_values() -> None:
    inner = StateGraph(State).add_node("i", step_a).add_edge(START, "i").compile()

    def outer(state: State) -> dict[str, Any]:
        return {"x": list(inner.stream_events({"x": ["z"]}, version="v3").values)}

    graph = StateGraph(State).add_node("o", outer).add_edge(START, "o").compile()
    assert graph.invoke({"x": []}) == {"x": [{"x": ["z"]}, {"x": ["z", "a"]}]}


def test_model_tokens_are_protocol_message_events_in_the_main_log() -> None:
    def model_node(state: State) -> dict[str, Any]:
        model = GenericFakeChatModel(messages=iter([AIMessage("hello big", id="ai1")]))
        return {"x": [model.invoke("hi").content]}

    graph = StateGraph(State).add_node("m", model_node).add_edge(START, "m").compile()
    run = graph.stream_events({"x": []}, version="v3")
    got = [e["params"]["data"] for e in run if e["method"] == "messages"]
    assert [event for event, _ in got] == [
        {"event": "message-start", "role": "ai", "id": "ai1"},
        {"event": "content-block-start", "index": 0, "content": {"type": "text", "text": ""}},
        {
            "event": "content-block-delta",
            "index": 0,
            "delta": {"type": "text-delta", "text": "hello"},
        },
        {"event": "content-block-delta", "index": 0, "delta": {"type": "text-delta", "text": " "}},
        {
            "event": "content-block-delta",
            "index": 0,
            "delta": {"type": "text-delta", "text": "big"},
        },
        {
            "event": "content-block-finish",
            "index": 0,
            "content": {"type": "text", "text": "hello big"},
        },
        {"event": "message-finish"},
    ]
    assert {meta["run_id"] for _, meta in got} == {"ai1"}
    assert {meta["langgraph_node"] for _, meta in got} == {"m"}


def test_tee_gives_every_reader_every_item_and_a_second_reader_is_refused() -> None:
    run = build().stream_events({"x": []}, thread("t"), version="v3")
    first, second = run.values.tee(2)
    assert next(first) == {"x": []}
    assert list(second) == [{"x": []}, {"x": ["a"]}, {"x": ["a", "a", "a"]}]
    assert list(first) == [{"x": ["a"]}, {"x": ["a", "a", "a"]}]
    with pytest.raises(RuntimeError, match="already has a subscriber"):
        iter(run.values)

    async def both() -> list[Any]:
        arun = await build().astream_events({"x": []}, thread("u"), version="v3")
        one, two = arun.values.atee(2)
        return [[v async for v in one], [v async for v in two]]

    one, two = asyncio.run(both())
    assert one == two == [{"x": []}, {"x": ["a"]}, {"x": ["a", "a", "a"]}]


def test_low_level_pregel_takes_stream_transformers() -> None:
    from threadloom.channels import LastValue
    from threadloom.pregel import NodeBuilder, Pregel

    app = Pregel(
        nodes={"one": NodeBuilder().subscribe_only("a").do(lambda x: x + 1).write_to("b")},
        channels={"a": LastValue(int), "b": LastValue(int)},
        input_channels="a",
        output_channels="b",
        stream_transformers=[UpdatesTransformer],
    )
    run = app.stream_events(1, version="v3")
    assert list(run.updates) == [{"one": {"b": 2}}]
    assert run.output == {"a": 1, "b": 2}
    with pytest.raises(TypeError, match="pre-built instance"):
        Pregel(
            nodes={"one": NodeBuilder().subscribe_only("a").write_to("b")},
            channels={"a": LastValue(int), "b": LastValue(int)},
            input_channels="a",
            output_channels="b",
            stream_transformers=[UpdatesTransformer()],
        )
