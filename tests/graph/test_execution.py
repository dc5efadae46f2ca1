"""Superstep execution without a checkpointer: reducers, parallelism, edges, Send, Command, errors
(CONTRACT 2.1–2.8, 3.7; DECISIONS 13)."""

import asyncio
import dataclasses
import operator
import threading
import time
from typing import Annotated, Any, Literal, TypedDict

import pytest
from langchain_core.runnables import RunnableConfig
from pydantic import BaseModel

from threadloom.config import get_config, get_store, get_stream_writer
from threadloom.errors import (
    EmptyInputError,
    GraphRecursionError,
    InvalidUpdateError,
    UnknownStateKeyWarning,
)
from threadloom.graph import END, START, StateGraph
from threadloom.types import Command, Overwrite, RetryPolicy, Send, interrupt


class State(TypedDict, total=False):
    a: str
    log: Annotated[list[str], operator.add]


def append(name: str) -> Any:
    def node(state: State) -> dict[str, Any]:
        return {"log": [name]}

    node.__name__ = name
    return node


def chain(*names: str) -> StateGraph[State]:
    builder = StateGraph(State)
    previous = START
    for name in names:
        builder.add_node(name, append(name))
        builder.add_edge(previous, name)
        previous = name
    return builder


def test_sequential_nodes_and_reducer_default() -> None:
    graph = chain("n1", "n2").compile()
    assert graph.invoke({"a": "x"}) == {"a": "x", "log": ["n1", "n2"]}
    # an unwritten reducer key with a zero-argument type starts at typ()
    values = list(
        StateGraph(State)
        .add_node("n", lambda s: None)
        .add_edge(START, "n")
        .compile()
        .stream({"a": "x"}, stream_mode="values")
    )
    assert values[0] == {"a": "x", "log": []}


def test_parallel_nodes_see_step_start_state_and_apply_in_name_order() -> None:
    seen: dict[str, Any] = {}

    def writer(name: str) -> Any:
        def node(state: State) -> dict[str, Any]:
            seen[name] = list(state.get("log", []))
            return {"log": [name]}

        return node

    builder = StateGraph(State)
    for name in ("zeta", "alpha", "mid"):
        builder.add_node(name, writer(name))
        builder.add_edge(START, name)
    result = builder.compile().invoke({"a": "x"})
    assert result["log"] == ["alpha", "mid", "zeta"]
    assert seen == {"zeta": [], "alpha": [], "mid": []}


def test_parallel_nodes_run_concurrently() -> None:
    barrier = threading.Barrier(2, timeout=5)

    def wait(state: State) -> None:
        barrier.wait()  # deadlocks (and times out) unless both run at once

    builder = StateGraph(State).add_node("p", wait).add_node("q", wait)
    builder.add_edge(START, "p").add_edge(START, "q")
    builder.compile().invoke({"a": "x"})


def test_two_writes_to_plain_key_in_one_step() -> None:
    builder = StateGraph(State)
    builder.add_node("p", lambda s: {"a": "p"}).add_node("q", lambda s: {"a": "q"})
    builder.add_edge(START, "p").add_edge(START, "q")
    with pytest.raises(InvalidUpdateError, match="At key 'a': Can receive only one value per step"):
        builder.compile().invoke({"a": "x"})


def test_join_waits_for_all_sources_but_separate_edges_fire_twice() -> None:
    def build(join: bool) -> Any:
        builder = StateGraph(State)
        for name in ("a", "b", "b2", "j"):
            builder.add_node(name, append(name))
        builder.add_edge(START, "a").add_edge(START, "b").add_edge("b", "b2")
        if join:
            builder.add_edge(["a", "b2"], "j")
        else:
            builder.add_edge("a", "j").add_edge("b2", "j")
        return builder.compile()

    assert build(join=True).invoke({"a": "x"})["log"] == ["a", "b", "b2", "j"]
    assert build(join=False).invoke({"a": "x"})["log"] == ["a", "b", "b2", "j", "j"]


def test_send_fan_out_runs_one_task_per_packet() -> None:
    class FanState(TypedDict, total=False):
        subjects: list[str]
        results: Annotated[list[str], operator.add]

    def route(state: FanState) -> list[Send]:
        return [Send("work", {"s": s}) for s in state["subjects"]]

    def work(arg: dict[str, str]) -> dict[str, Any]:
        return {"results": [arg["s"].upper()]}

    builder = StateGraph(FanState).add_node("work", work)
    builder.add_conditional_edges(START, route)
    out = builder.compile().invoke({"subjects": ["a", "b", "c"]})
    assert out["results"] == ["A", "B", "C"]


def test_send_to_end_is_rejected() -> None:
    builder = StateGraph(State).add_node("n", append("n"))
    builder.add_conditional_edges(START, lambda s: [Send(END, {})])
    with pytest.raises(InvalidUpdateError, match="Cannot send a packet to the END node"):
        builder.compile().invoke({"a": "x"})


def test_conditional_edges_with_path_map_and_fresh_state() -> None:
    def decide(state: State) -> Literal["yes", "no"]:
        # the branch sees the source node's own writes
        return "yes" if state["log"] == ["first"] else "no"

    builder = StateGraph(State)
    builder.add_node("first", append("first")).add_node("y", append("y")).add_node("n", append("n"))
    builder.add_edge(START, "first")
    builder.add_conditional_edges("first", decide, {"yes": "y", "no": "n"})
    assert builder.compile().invoke({"a": "x"})["log"] == ["first", "y"]


def test_conditional_edge_to_unknown_node_names_it() -> None:
    builder = StateGraph(State).add_node("first", append("first")).add_edge(START, "first")
    builder.add_conditional_edges("first", lambda s: "ghost")
    with pytest.raises(InvalidUpdateError, match="'ghost'"):
        builder.compile().invoke({"a": "x"})


def test_conditional_edge_returning_none_is_invalid() -> None:
    builder = StateGraph(State).add_node("first", append("first")).add_edge(START, "first")
    builder.add_conditional_edges("first", lambda s: None)
    with pytest.raises(ValueError, match="Branch did not return a valid destination"):
        builder.compile().invoke({"a": "x"})


def test_command_update_and_goto_add_to_static_edges() -> None:
    def router(state: State) -> Command[Literal["extra"]]:
        return Command(update={"log": ["router"]}, goto="extra")

    builder = StateGraph(State)
    builder.add_node("router", router).add_node("extra", append("extra"))
    builder.add_node("static", append("static"))
    builder.add_edge(START, "router").add_edge("router", "static")
    assert builder.compile().invoke({"a": "x"})["log"] == ["router", "extra", "static"]


def test_list_of_commands_and_repeated_updates_in_updates_chunk() -> None:
    def node(state: State) -> list[Command[Any]]:
        return [Command(update={"log": ["c1"]}), Command(update={"log": ["c2"]})]

    graph = StateGraph(State).add_node("n", node).add_edge(START, "n").compile()
    assert list(graph.stream({"a": "x"})) == [{"n": [{"log": ["c1"]}, {"log": ["c2"]}]}]


def test_node_returning_non_dict() -> None:
    graph = StateGraph(State).add_node("n", lambda s: "bad").add_edge(START, "n").compile()
    with pytest.raises(InvalidUpdateError, match="Expected dict, got bad"):
        graph.invoke({"a": "x"})


def test_unknown_keys_are_dropped() -> None:
    graph = StateGraph(State).add_node("n", lambda s: {"zzz": 1, "a": "y"})
    out = graph.add_edge(START, "n").compile().invoke({"a": "x"})
    assert out == {"a": "y", "log": []}


def test_recursion_limit_counts_the_start_step() -> None:
    graph = chain("n1", "n2", "n3").compile()
    assert graph.invoke({"a": "x"}, {"recursion_limit": 4})["log"] == ["n1", "n2", "n3"]
    with pytest.raises(GraphRecursionError, match="Recursion limit of 3 reached"):
        graph.invoke({"a": "x"}, {"recursion_limit": 3})
    with pytest.raises(ValueError, match="recursion_limit must be at least 1"):
        graph.invoke({"a": "x"}, {"recursion_limit": 0})


def test_overwrite_replaces_reducer_value() -> None:
    builder = chain("n1")
    builder.add_node("reset", lambda s: {"log": Overwrite(["fresh"])}).add_edge("n1", "reset")
    assert builder.compile().invoke({"a": "x"})["log"] == ["fresh"]


def test_two_overwrites_in_one_step() -> None:
    builder = StateGraph(State)
    builder.add_node("p", lambda s: {"log": Overwrite(["p"])})
    builder.add_node("q", lambda s: {"log": {"__overwrite__": ["q"]}})
    builder.add_edge(START, "p").add_edge(START, "q")
    with pytest.raises(InvalidUpdateError, match="only one Overwrite value per super-step"):
        builder.compile().invoke({"a": "x"})


def test_input_and_output_schemas() -> None:
    class In(TypedDict):
        q: str

    class Out(TypedDict):
        ans: str

    class All(In, Out):
        scratch: str

    def answer(state: All) -> dict[str, Any]:
        return {"ans": state["q"] + "!", "scratch": "s"}

    graph = StateGraph(All, input_schema=In, output_schema=Out).add_node("answer", answer)
    graph = graph.add_edge(START, "answer").compile()
    with pytest.warns(UnknownStateKeyWarning, match="input schema"):
        assert graph.invoke({"q": "hi", "scratch": "dropped"}) == {"ans": "hi!"}
    values = list(graph.stream({"q": "hi"}, stream_mode="values"))
    assert values[-1] == {"q": "hi", "ans": "hi!", "scratch": "s"}


def test_dataclass_and_pydantic_states() -> None:
    @dataclasses.dataclass
    class DC:
        n: int
        tags: Annotated[list[str], operator.add] = dataclasses.field(default_factory=list)

    class PM(BaseModel):
        n: int
        tags: Annotated[list[str], operator.add] = []

    for schema in (DC, PM):

        def bump(state: Any, schema: Any = schema) -> dict[str, Any]:
            assert isinstance(state, schema)
            return {"n": state.n + 1, "tags": ["bumped"]}

        graph = StateGraph(schema).add_node("bump", bump).add_edge(START, "bump").compile()
        assert graph.invoke({"n": 1}) == {"n": 2, "tags": ["bumped"]}


def test_retry_policy_retries_then_succeeds() -> None:
    calls: list[int] = []

    def flaky(state: State) -> dict[str, Any]:
        calls.append(1)
        if len(calls) < 3:
            raise ConnectionError("down")
        return {"a": "ok"}

    policy = RetryPolicy(initial_interval=0.001, jitter=False)
    graph = StateGraph(State).add_node("flaky", flaky, retry_policy=policy)
    assert graph.add_edge(START, "flaky").compile().invoke({"a": "x"})["a"] == "ok"
    assert len(calls) == 3


def test_retry_policy_gives_up_and_skips_value_errors() -> None:
    calls: list[int] = []

    def broken(state: State) -> dict[str, Any]:
        calls.append(1)
        raise ValueError("bad input")

    policy = RetryPolicy(initial_interval=0.001, jitter=False)
    graph = StateGraph(State).add_node("broken", broken, retry_policy=policy)
    with pytest.raises(ValueError, match="bad input") as info:
        graph.add_edge(START, "broken").compile().invoke({"a": "x"})
    assert len(calls) == 1  # ValueError is not retried by default
    assert any("During task with name 'broken'" in note for note in info.value.__notes__)


def test_defer_runs_after_unequal_branches() -> None:
    builder = StateGraph(State)
    for name in ("a", "b", "b2"):
        builder.add_node(name, append(name))
    builder.add_node("final", append("final"), defer=True)
    builder.add_edge(START, "a").add_edge(START, "b").add_edge("b", "b2")
    builder.add_edge("a", "final").add_edge("b2", "final")
    assert builder.compile().invoke({"a": "x"})["log"] == ["a", "b", "b2", "final"]


def test_stream_modes_single_list_and_tuple() -> None:
    graph = chain("n1").compile()
    assert list(graph.stream({"a": "x"})) == [{"n1": {"log": ["n1"]}}]
    as_list = list(graph.stream({"a": "x"}, stream_mode=["updates", "values"]))
    as_tuple = list(graph.stream({"a": "x"}, stream_mode=("updates", "values")))
    assert as_list == as_tuple  # DECISIONS 14: a tuple of modes behaves like a list
    assert as_list == [
        ("values", {"a": "x", "log": []}),
        ("updates", {"n1": {"log": ["n1"]}}),
        ("values", {"a": "x", "log": ["n1"]}),
    ]


def test_updates_chunk_is_none_when_node_writes_nothing() -> None:
    graph = StateGraph(State).add_node("n3", lambda s: None).add_edge(START, "n3").compile()
    assert list(graph.stream({"a": "x"})) == [{"n3": None}]


def test_custom_stream_from_writer_and_get_stream_writer() -> None:
    def node(state: State, writer: Any) -> None:
        writer({"progress": 1})
        get_stream_writer()({"progress": 2})

    graph = StateGraph(State).add_node("n", node).add_edge(START, "n").compile()
    assert list(graph.stream({"a": "x"}, stream_mode="custom")) == [
        {"progress": 1},
        {"progress": 2},
    ]
    assert graph.invoke({"a": "x"}) == {"a": "x", "log": []}  # writer is a no-op otherwise


def test_context_accessors_outside_a_run() -> None:
    for accessor in (get_config, get_store, get_stream_writer):
        with pytest.raises(RuntimeError, match="Called get_config outside of a runnable context"):
            accessor()
    with pytest.raises(RuntimeError, match="outside of a runnable context"):
        interrupt("x")


def test_config_and_runtime_injection() -> None:
    seen: dict[str, Any] = {}

    def node(state: State, config: RunnableConfig, runtime: Any) -> None:
        seen["user"] = config["configurable"]["user_id"]
        seen["step"] = config["metadata"]["langgraph_step"]
        seen["context"] = runtime.context
        seen["same"] = get_config()["configurable"]["user_id"]

    graph = StateGraph(State).add_node("n", node).add_edge(START, "n").compile()
    graph.invoke({"a": "x"}, {"configurable": {"user_id": "u1"}}, context={"tenant": "t"})
    assert seen == {"user": "u1", "step": 1, "context": {"tenant": "t"}, "same": "u1"}


def test_node_asking_for_store_without_one_fails_clearly() -> None:
    def node(state: State, store: Any) -> None:
        return None

    graph = StateGraph(State).add_node("n", node).add_edge(START, "n").compile()
    with pytest.raises(ValueError, match=r"Node 'n' asks for a 'store'.*compile\(store="):
        graph.invoke({"a": "x"})


def test_empty_command_input_is_rejected() -> None:
    graph = chain("n1").compile()
    with pytest.raises(EmptyInputError, match="Received empty Command input"):
        graph.invoke(Command())
    with pytest.raises(InvalidUpdateError, match="There is no parent graph"):
        graph.invoke(Command(graph=Command.PARENT, update={"a": "y"}))
    with pytest.raises(EmptyInputError, match="Received no input for __start__"):
        graph.invoke(None)


def test_resume_without_checkpointer() -> None:
    with pytest.raises(RuntimeError, match=r"Cannot use Command\(resume=\.\.\.\) without"):
        chain("n1").compile().invoke(Command(resume="yes"))


def test_interrupt_without_checkpointer_is_returned() -> None:
    def ask(state: State) -> dict[str, Any]:
        return {"a": interrupt("approve?")}

    graph = StateGraph(State).add_node("ask", ask).add_edge(START, "ask").compile()
    out = graph.invoke({"a": "x"})
    assert out["a"] == "x"
    [pending] = out["__interrupt__"]
    assert pending.value == "approve?" and len(pending.id) == 32


async def test_async_graph_runs_async_and_sync_nodes_concurrently() -> None:
    started: list[float] = []

    async def slow(state: State) -> dict[str, Any]:
        started.append(time.perf_counter())
        await asyncio.sleep(0.05)
        return {"log": ["slow"]}

    def sync_node(state: State) -> dict[str, Any]:
        return {"log": ["sync"]}

    builder = StateGraph(State).add_node("slow", slow).add_node("sync", sync_node)
    builder.add_edge(START, "slow").add_edge(START, "sync")
    graph = builder.compile()
    assert (await graph.ainvoke({"a": "x"}))["log"] == ["slow", "sync"]
    chunks = [c async for c in graph.astream({"a": "x"}, stream_mode=["updates"])]
    assert sorted(c[1] and next(iter(c[1])) for c in chunks) == ["slow", "sync"]
    with pytest.raises(TypeError, match="ainvoke"):
        graph.invoke({"a": "x"})


async def test_async_custom_stream_and_errors() -> None:
    async def node(state: State, writer: Any) -> None:
        writer("hello")

    async def boom(state: State) -> None:
        raise KeyError("boom")

    graph = StateGraph(State).add_node("n", node).add_edge(START, "n").compile()
    assert [c async for c in graph.astream({"a": "x"}, stream_mode="custom")] == ["hello"]
    failing = StateGraph(State).add_node("boom", boom).add_edge(START, "boom").compile()
    with pytest.raises(KeyError, match="boom"):
        await failing.ainvoke({"a": "x"})


def test_batch_and_abatch() -> None:
    graph = chain("n1").compile()
    assert [out["log"] for out in graph.batch([{"a": "x"}, {"a": "y"}])] == [["n1"], ["n1"]]
    with pytest.raises(ValueError, match="2 inputs but 1 configs"):
        graph.batch([{"a": "x"}, {"a": "y"}], [{}])
    results = asyncio.run(graph.abatch([{"a": "x"}, {"a": "y"}]))
    assert [r["a"] for r in results] == ["x", "y"]


def test_context_schema_builds_the_runtime_context() -> None:
    @dataclasses.dataclass
    class Context:
        user: str
        tone: str = "plain"

    seen: list[Any] = []

    def node(state: State, runtime: Any) -> None:
        seen.append(runtime.context)

    graph = StateGraph(State, context_schema=Context).add_node("n", node).add_edge(START, "n")
    graph.compile().invoke({"a": "x"}, context={"user": "u1"})
    assert seen == [Context(user="u1", tone="plain")]


def test_root_schema_graph_holds_one_value() -> None:
    graph = StateGraph(int).add_node("inc", lambda x: x + 1).add_node("wrap", lambda x: {"a": x})
    graph = graph.add_edge(START, "inc").add_edge("inc", "wrap").compile()
    assert graph.invoke(1) == {"a": 2}  # a dict is just a value of a root channel
    assert list(graph.stream(1)) == [{"inc": 2}, {"wrap": {"a": 2}}]
