"""Differences a differential fuzzer found between threadloom and LangGraph 1.2.22, now fixed.

The fuzzer ran random small programs (graphs and entrypoints) with both import roots and
compared what a user sees. Each test is one difference; its expected values were observed by
running the same program on LangGraph 1.2.22.
"""

from __future__ import annotations

import contextlib
import itertools
import operator
from dataclasses import dataclass
from typing import Annotated, Any, TypedDict

import pytest
from langchain_core.runnables import RunnableConfig
from pydantic import BaseModel, ValidationError

from threadloom.checkpoint.memory import InMemorySaver
from threadloom.errors import InvalidUpdateError
from threadloom.func import entrypoint, task
from threadloom.graph import START, StateGraph
from threadloom.runtime import Runtime
from threadloom.types import Command, RetryPolicy, Send, StateUpdate, StreamWriter, interrupt


class State(TypedDict, total=False):
    log: Annotated[list[str], operator.add]
    arg: int


def _config(thread: str = "1", **extra: Any) -> Any:
    return {"configurable": {"thread_id": thread}, **extra}


def _chain(*names: str, loop: bool = False) -> StateGraph[Any]:
    builder = StateGraph(State)
    for name in names:
        builder.add_node(name, lambda s, name=name: {"log": [name]})
    builder.add_edge(START, names[0])
    for a, b in itertools.pairwise(names):
        builder.add_edge(a, b)
    if loop:
        builder.add_edge(names[-1], names[0])
    return builder


def test_update_state_returns_only_the_saved_checkpoint_config() -> None:
    graph = _chain("a").compile(checkpointer=InMemorySaver())
    config = _config(metadata={"user": "x"}, tags=["t"], recursion_limit=9)
    graph.invoke({"log": []}, config)
    returned = graph.update_state(config, {"log": ["u"]}, as_node="a")
    head = graph.get_state(config).config["configurable"]["checkpoint_id"]
    # LangGraph 1.2.22: the saver's config alone, not the caller's metadata, tags or limit
    assert returned == {
        "configurable": {"thread_id": "1", "checkpoint_ns": "", "checkpoint_id": head}
    }
    updates = [[StateUpdate({"log": ["v"]}, "a")], [StateUpdate({"log": ["w"]}, "a")]]
    returned = graph.bulk_update_state(config, updates)
    assert set(returned) == {"configurable"}
    assert (
        returned["configurable"]["checkpoint_id"]
        == graph.get_state(config).config["configurable"]["checkpoint_id"]
    )


def test_a_finished_task_shows_an_empty_result_and_repeated_writes_folded() -> None:
    builder = StateGraph(State)
    builder.add_node("quiet", lambda s: None)
    builder.add_node("twice", lambda s: Command(update=[("log", ["x"]), ("log", ["y"])]))
    builder.add_edge(START, "quiet").add_edge("quiet", "twice")
    graph = builder.compile(checkpointer=InMemorySaver())
    graph.invoke({"log": []}, _config())
    results = [[(t.name, t.result) for t in s.tasks] for s in graph.get_state_history(_config())]
    assert results == [  # as LangGraph 1.2.22 shows them
        [],
        [("twice", {"log": {"$writes": [["x"], ["y"]]}})],
        [("quiet", {})],
        [("__start__", {"log": []})],
    ]


def _fan_out_then_subgraph(seen_paths: list[Any]) -> Any:
    child = StateGraph(State).add_node("c", lambda s: {"log": ["c"]}).add_edge(START, "c")

    def worker(state: State, config: RunnableConfig) -> Any:
        seen_paths.append(config["metadata"]["langgraph_path"])
        return {"log": [f"w{state['arg']}"]}

    builder = StateGraph(State)
    builder.add_node("fan", lambda s: {"log": ["fan"]})
    builder.add_node("worker", worker)
    builder.add_node("sub", child.compile())
    builder.add_edge(START, "fan")
    builder.add_conditional_edges(
        "fan", lambda s: [Send("worker", {"arg": i, "log": []}) for i in range(2)]
    )
    builder.add_edge("worker", "sub")
    return builder.compile(checkpointer=InMemorySaver())


def test_history_points_subgraph_tasks_at_their_checkpoints_and_send_paths_end_in_false() -> None:
    seen: list[Any] = []
    graph = _fan_out_then_subgraph(seen)
    graph.invoke({"log": []}, _config())
    history = list(graph.get_state_history(_config()))
    [sub_task] = history[1].tasks
    # LangGraph 1.2.22: a historical snapshot's subgraph task points at its namespace
    assert sub_task.state == {
        "configurable": {"thread_id": "1", "checkpoint_ns": f"sub:{sub_task.id}"}
    }
    # and a Send's task path is (PUSH, index, False), in snapshots and in the node's metadata
    assert [t.path for t in history[2].tasks] == [
        ("__pregel_push", 0, False),
        ("__pregel_push", 1, False),
    ]
    assert sorted(seen) == [("__pregel_push", 0, False), ("__pregel_push", 1, False)]


def test_interrupt_after_and_the_recursion_limit_stream_the_last_checkpoint() -> None:
    builder = _chain("a", "b", loop=True)
    graph = builder.compile(checkpointer=InMemorySaver(), interrupt_after=["a"])
    chunks = graph.stream({"log": []}, _config(), stream_mode="checkpoints")
    # LangGraph 1.2.22 streams the checkpoint the breakpoint stopped at
    assert [(c["metadata"]["step"], c["next"]) for c in chunks] == [
        (-1, ["__start__"]),
        (0, ["a"]),
        (1, ["b"]),
    ]
    graph = builder.compile(checkpointer=InMemorySaver())
    seen = []
    with pytest.raises(RecursionError):
        for c in graph.stream({"log": []}, _config(recursion_limit=3), stream_mode="checkpoints"):
            seen.append((c["metadata"]["step"], c["next"]))
    # ... and the one a run past its recursion limit saved last
    assert seen == [(-1, ["__start__"]), (0, ["a"]), (1, ["b"]), (2, ["a"]), (3, ["b"])]


def test_a_resumed_checkpoint_streams_what_its_tasks_saved() -> None:
    calls = {"n": 0}

    def flaky(state: State) -> Any:
        calls["n"] += 1
        if calls["n"] == 1:
            raise ValueError("first time")
        return {"log": ["flaky"]}

    child = StateGraph(State).add_node("c", lambda s: {"log": ["c"]}).add_edge(START, "c")
    builder = _chain("start").add_node("ok", lambda s: {"log": ["ok"]})
    builder.add_node("flaky", flaky).add_node("sub", child.compile())
    for name in ("ok", "flaky", "sub"):
        builder.add_edge("start", name)
    graph = builder.compile(checkpointer=InMemorySaver())
    with pytest.raises(ValueError, match="first time"):
        graph.invoke({"log": []}, _config())
    first = next(iter(graph.stream(None, _config(), stream_mode="checkpoints")))
    tasks = sorted(first["tasks"], key=lambda t: t["name"])
    flaky_id, ok_id, sub_id = (t["id"] for t in tasks)
    assert tasks == [  # as LangGraph 1.2.22 streams them
        {"id": flaky_id, "name": "flaky", "error": "ValueError('first time')", "state": None},
        {"id": ok_id, "name": "ok", "result": {"log": ["ok"]}, "interrupts": (), "state": None},
        {
            "id": sub_id,
            "name": "sub",
            "result": {"log": ["start", "c"]},
            "interrupts": (),
            "state": {"configurable": {"thread_id": "1", "checkpoint_ns": f"sub:{sub_id}"}},
        },
    ]


def test_a_resume_answers_only_the_first_step_of_the_run() -> None:
    builder = _chain("a").add_node("ask", lambda s: {"log": [interrupt("q")]})
    builder.add_edge("a", "ask")
    graph = builder.compile(checkpointer=InMemorySaver())
    graph.invoke({"log": []}, _config())
    graph.update_state(_config(), {"log": ["u"]}, as_node="__start__")  # back before "a"
    out = graph.invoke(Command(resume="late"), _config())
    # LangGraph 1.2.22: "ask" runs two steps later and asks again; the answer was not kept
    assert out["log"] == ["a", "u", "a"]
    assert [i.value for i in out["__interrupt__"]] == ["q"]


def test_a_resume_streams_every_task_of_the_step_then_the_saved_updates() -> None:
    builder = _chain("start").add_node("ok", lambda s: {"log": ["ok"]})
    builder.add_node("ask", lambda s: {"log": [interrupt("q")]})
    builder.add_edge("start", "ok").add_edge("start", "ask")
    graph = builder.compile(checkpointer=InMemorySaver())
    graph.invoke({"log": []}, _config())
    chunks = graph.stream(Command(resume="yes"), _config(), stream_mode=["tasks", "updates"])
    seen = [(m, c["name"], "result" in c) if m == "tasks" else (m, c) for m, c in chunks]
    assert seen == [  # as LangGraph 1.2.22
        ("tasks", "ask", False),
        ("tasks", "ok", False),  # finished before the interrupt: it starts, but does not run
        ("updates", {"ok": {"log": ["ok"]}, "__metadata__": {"cached": True}}),
        ("updates", {"ask": {"log": ["yes"]}}),
        ("tasks", "ask", True),
    ]


def test_the_nodes_a_step_triggers_run_in_name_order() -> None:
    builder = _chain("start")
    for name in ("zeta", "mid", "alpha"):
        builder.add_node(name, lambda s, name=name: {"log": [name]})
        builder.add_edge("start", name)
    graph = builder.compile(checkpointer=InMemorySaver())
    started = [
        c["name"] for c in graph.stream({"log": []}, _config(), stream_mode="tasks") if "input" in c
    ]
    assert started == ["start", "alpha", "mid", "zeta"]  # LangGraph 1.2.22
    chunks = graph.stream({"log": []}, _config("2"), stream_mode="checkpoints")
    assert [c["next"] for c in chunks] == [["__start__"], ["start"], ["alpha", "mid", "zeta"], []]


def test_a_retry_policy_retries_a_node_that_returned_an_invalid_update() -> None:
    tries = {"n": 0}

    def bad(state: State) -> Any:
        tries["n"] += 1
        return ["not", "a", "dict"] if tries["n"] == 1 else {"log": ["fine"]}

    builder = StateGraph(State)
    builder.add_node("bad", bad, retry_policy=RetryPolicy(initial_interval=0.0, jitter=False))
    out = builder.add_edge(START, "bad").compile().invoke({"log": []})
    # LangGraph 1.2.22's InvalidUpdateError is retried by the default retry_on
    assert (out, tries["n"]) == ({"log": ["fine"]}, 2)


def test_task_calls_stream_their_tasks_and_debug_events() -> None:
    @task
    def double(x: int) -> int:
        return 2 * x

    @entrypoint(checkpointer=InMemorySaver())
    def main(x: int) -> int:
        return double(x).result() + 1

    events = [
        (c["name"], c.get("input"), c.get("result"))
        for c in main.stream(3, _config(), stream_mode="tasks")
    ]
    assert events == [  # as LangGraph 1.2.22
        ("main", 3, None),
        ("double", ((3,), {}), None),
        ("double", None, {"__return__": 6}),
        ("main", None, {"__end__": 7}),
    ]
    debug = [
        (c["type"], c["payload"].get("name"))
        for c in main.stream(4, _config("2"), stream_mode="debug")
    ]
    assert debug == [
        ("checkpoint", None),
        ("task", "main"),
        ("task", "double"),
        ("task_result", "double"),
        ("task_result", "main"),
        ("checkpoint", None),
    ]


def test_an_interrupt_inside_a_task_call_has_its_own_id() -> None:
    @task
    def ask(x: int) -> Any:
        return interrupt(f"task{x}")

    @entrypoint(checkpointer=InMemorySaver())
    def asker(x: int) -> Any:
        return [ask(1).result(), interrupt("main")]

    first = asker.invoke(1, _config())["__interrupt__"][0]
    second = asker.invoke(Command(resume="A"), _config())["__interrupt__"][0]
    # LangGraph 1.2.22: the call's interrupt id comes from the call's own namespace
    assert (first.value, second.value) == ("task1", "main")
    assert first.id != second.id
    assert asker.invoke(Command(resume="B"), _config()) == ["A", "B"]


def test_a_node_that_failed_after_an_answer_keeps_that_answer() -> None:
    fails = {"n": 0}

    def asks_then_fails(state: State) -> Any:
        answer = interrupt("q")
        fails["n"] += 1
        if fails["n"] == 1:
            raise ValueError("after the answer")
        return {"log": [answer]}

    builder = StateGraph(State).add_node("n", asks_then_fails).add_edge(START, "n")
    graph = builder.compile(checkpointer=InMemorySaver())
    asked = graph.invoke({"log": []}, _config())["__interrupt__"][0].id
    with pytest.raises(ValueError, match="after the answer"):
        graph.invoke(Command(resume={asked: "first"}), _config())
    # LangGraph 1.2.22 saves the answer with the error: the second answer is not used
    assert graph.invoke(Command(resume={asked: "second"}), _config()) == {"log": ["first"]}


def test_unknown_output_keys_fail_before_the_run_changes_anything() -> None:
    graph = _chain("a").compile(checkpointer=InMemorySaver())
    graph.invoke({"log": []}, _config())
    before = [s.config for s in graph.get_state_history(_config())]
    # LangGraph 1.2.22: ValueError("Key nope not in channels"), nothing saved
    with pytest.raises(ValueError, match=r"^Key nope not in channels"):
        graph.invoke({"log": []}, _config(), output_keys=["nope"])
    assert [s.config for s in graph.get_state_history(_config())] == before


def test_an_update_without_as_node_on_a_waiting_single_node_graph_is_its_input() -> None:
    builder = StateGraph(State).add_node("a", lambda s: {"log": [interrupt("q")]})
    graph = builder.add_edge(START, "a").compile(checkpointer=InMemorySaver())
    graph.invoke({"log": []}, _config())
    graph.update_state(_config(), {"log": ["u"]})
    state = graph.get_state(_config())
    # LangGraph 1.2.22 infers the node that read the newest version: here __start__, so "a",
    # which never finished, still runs next
    assert (state.next, state.values) == (("a",), {"log": ["u"]})


def test_a_command_for_the_parent_from_a_worker_is_neither_streamed_nor_saved() -> None:
    # With "custom" among the stream modes every task runs on a worker thread (chunks from inside
    # a task must flow while it runs), where the Command(graph=PARENT) of the subgraph's node
    # used to come back as that task's error: streamed as its result and saved as an __error__
    # write. LangGraph 1.2.22 does neither; the parent task takes the command.
    child = StateGraph(State)
    child.add_node("c0", lambda s: {"log": ["c0"]})
    child.add_node(
        "c1", lambda s: Command(update={"log": ["c1"]}, goto="after", graph=Command.PARENT)
    )
    child.add_edge(START, "c0").add_edge("c0", "c1")
    parent = StateGraph(State)
    parent.add_node("sub", child.compile(), destinations=("after",))
    parent.add_node("after", lambda s: {"log": ["after"]})
    parent.add_edge(START, "sub")
    saver = InMemorySaver()
    graph = parent.compile(checkpointer=saver)
    seen = [
        (len(ns), chunk["name"], "result" if "result" in chunk else "start", chunk.get("error"))
        for ns, mode, chunk in graph.stream(
            {"log": []}, _config(), stream_mode=["tasks", "custom"], subgraphs=True
        )
    ]
    assert seen == [
        (0, "sub", "start", None),
        (1, "c0", "start", None),
        (1, "c0", "result", None),
        (1, "c1", "start", None),
        (0, "sub", "result", None),
        (0, "after", "start", None),
        (0, "after", "result", None),
    ]
    assert graph.get_state(_config()).values == {"log": ["c1", "after"]}
    channels = {w[1] for t in saver.list(None) for w in t.pending_writes or []}
    assert "__error__" not in channels and "log" in channels


def test_with_durability_exit_a_resume_update_is_saved_only_if_no_checkpoint_holds_it() -> None:
    def asks(state: State) -> Any:
        answer = interrupt("q")
        if state.get("arg") == 9:
            raise ValueError("refused")
        return {"log": [answer]}

    def run(arg: int) -> list[Any]:
        builder = StateGraph(State).add_node("a", lambda s: {"log": ["a"]}).add_node("b", asks)
        builder.add_node("c", lambda s: {"log": ["c"]})
        builder.add_edge(START, "a").add_edge("a", "b").add_edge("b", "c")
        graph = builder.compile(checkpointer=InMemorySaver())
        graph.invoke({"log": []}, _config(), durability="exit")
        with contextlib.suppress(ValueError):
            graph.invoke(Command(resume="R", update={"arg": arg}), _config(), durability="exit")
        return [(s.metadata["step"], s.values) for s in graph.get_state_history(_config())]

    # LangGraph 1.2.22: the update is not saved on the checkpoint the run resumed from, whose
    # values stay as they were, when the run saved a later one; it is when the run failed first
    assert run(1) == [(3, {"log": ["a", "R", "c"], "arg": 1}), (1, {"log": ["a"]})]
    assert run(9) == [(1, {"log": ["a"], "arg": 9})]


def test_a_subgraph_compiled_with_its_own_saver_uses_its_parents() -> None:
    def asks(state: State) -> Any:
        return {"log": ["a:" + interrupt("q")]}

    own = InMemorySaver()
    sub = StateGraph(State).add_node("a", asks).add_edge(START, "a").compile(checkpointer=own)
    parent = StateGraph(State).add_node("sub", sub).add_edge(START, "sub")
    # LangGraph 1.2.22: in a parent without a saver, the subgraph saves nothing (no thread needed)
    assert parent.compile().invoke({"log": []})["log"] == []
    saver = InMemorySaver()
    graph = parent.compile(checkpointer=saver)
    graph.invoke({"log": []}, _config())
    # its checkpoints are in the parent's saver, so the parent's snapshot shows its state
    state = graph.get_state(_config(), subgraphs=True).tasks[0].state
    assert state is not None and not isinstance(state, dict) and state.values == {"log": []}
    assert graph.invoke(Command(resume="R"), _config()) == {"log": ["a:R"]}
    assert list(own.list(None)) == []
    assert len(list(saver.list(None))) == 6


def test_invoke_and_a_subgraphs_chunks_read_only_the_output_schema() -> None:
    class Out(TypedDict):
        ans: str

    class Full(TypedDict, total=False):
        q: str
        ans: str
        tmp: Annotated[list[str], operator.add]

    def inner(*nodes: str) -> Any:
        builder = StateGraph(Full, output_schema=Out).add_node("a", lambda s: {"tmp": ["x"]})
        builder.add_node("b", lambda s: {"ans": "y", "tmp": ["b"]}).add_edge(START, nodes[0])
        for a, b in itertools.pairwise(nodes):
            builder.add_edge(a, b)
        return builder.compile()

    quiet = inner("a")  # no output key is ever written
    graph = StateGraph(Full).add_node("inner", inner("a", "b")).add_edge(START, "inner").compile()
    # LangGraph 1.2.22: None when no output key was written; a subgraph's chunks are those of its
    # invoke, so its values and updates hold only its output keys (no values before one is written)
    assert quiet.invoke({"q": "z"}) is None
    chunks = [
        (len(ns), mode, data)
        for ns, mode, data in graph.stream(
            {"q": "z"}, stream_mode=["values", "updates"], subgraphs=True
        )
    ]
    assert chunks == [
        (0, "values", {"q": "z", "tmp": []}),
        (1, "updates", {"a": None}),
        (1, "updates", {"b": {"ans": "y"}}),
        (1, "values", {"ans": "y"}),
        (0, "updates", {"inner": {"ans": "y"}}),
        (0, "values", {"q": "z", "ans": "y", "tmp": []}),
    ]


def test_a_task_gets_the_parameters_it_asks_for_that_its_call_did_not_pass() -> None:
    @dataclass
    class Context:
        user: str

    @task
    def greet(word: str, *, runtime: Runtime[Context], writer: StreamWriter) -> str:
        writer({"greeting": word})
        return f"{word} {runtime.context.user}"

    @task
    def chosen(word: str, *, config: RunnableConfig) -> str:
        return f"{word} {config}"

    @entrypoint(checkpointer=InMemorySaver(), context_schema=Context)
    def flow(word: str) -> list[str]:
        return [greet(word).result(), chosen(word, config="mine").result()]

    # LangGraph 1.2.22 fills in runtime and writer for a task as for a node
    chunks = list(flow.stream("hi", _config(), context=Context("ann"), stream_mode="custom"))
    assert chunks == [{"greeting": "hi"}]
    assert flow.get_state(_config()).values == ["hi ann", "hi mine"]


class _Question(BaseModel):
    q: str


class _Answered(BaseModel):
    q: object = ""
    ans: str = ""


def _validating_graph() -> Any:
    """``a`` writes a ``q`` that ``b``'s input model refuses; ``c`` reads the state as it is."""
    builder = StateGraph(_Answered)
    builder.add_node("a", lambda s: {"q": 3})

    def b(s: _Question) -> dict[str, str]:
        return {"ans": "b"}

    builder.add_node("b", b)
    builder.add_node("c", lambda s: {"ans": "c"})
    builder.add_edge(START, "a").add_edge("a", "b").add_edge("a", "c")
    return builder.compile(checkpointer=InMemorySaver())


def _stream_until_it_fails(graph: Any, value: Any, thread: str, modes: Any) -> list[Any]:
    chunks: list[Any] = []
    with pytest.raises(ValidationError, match="1 validation error for _Question"):
        chunks.extend(graph.stream(value, _config(thread), stream_mode=modes))
    return chunks


async def _astream_until_it_fails(graph: Any, value: Any, thread: str, modes: Any) -> list[Any]:
    chunks: list[Any] = []
    with pytest.raises(ValidationError, match="1 validation error for _Question"):
        async for chunk in graph.astream(value, _config(thread), stream_mode=modes):
            chunks.append(chunk)
    return chunks


async def test_a_node_input_that_fails_validation_drops_the_chunks_not_yet_streamed() -> None:
    graph = _validating_graph()
    modes = ["values", "updates"]
    # LangGraph 1.2.22 streams a step's chunks once the next step is prepared, and a lone task's
    # with them: building b's input fails, so a's update and the values after it never come out
    assert _stream_until_it_fails(graph, {"q": "x"}, "1", modes) == [("values", {"q": "x"})]
    assert await _astream_until_it_fails(graph, {"q": "x"}, "2", modes) == [("values", {"q": "x"})]
    # an input that fails the first node's model: not even the input's values chunk
    builder = StateGraph(_Answered, input_schema=_Question)

    def first(s: _Question) -> dict[str, str]:
        return {"ans": s.q + "!"}

    builder.add_node("first", first).add_edge(START, "first")
    direct = builder.compile()
    assert _stream_until_it_fails(direct, {"q": 3}, "3", modes) == []
    assert list(direct.stream({"q": "x"}, stream_mode=modes)) == [
        ("values", {"q": "x"}),
        ("updates", {"first": {"ans": "x!"}}),
        ("values", {"q": "x", "ans": "x!"}),
    ]
    # the input checkpoint and a's are saved all the same (threadloom's get_state shows them;
    # LangGraph's fails with the same ValidationError: docs/differences.md)
    snapshot = graph.get_state(_config("1"))
    assert (snapshot.values, snapshot.next) == ({"q": 3}, ("b", "c"))


def test_a_lone_task_whose_writes_fail_to_apply_still_streams_its_update() -> None:
    builder = StateGraph(State)
    builder.add_node("n", lambda s: Command(update=[("arg", 1), ("arg", 2)]))
    builder.add_edge(START, "n")
    chunks: list[Any] = []
    with pytest.raises(InvalidUpdateError, match="only one value per step"):
        chunks.extend(builder.compile().stream({"arg": 0}, stream_mode=["updates", "values"]))
    # docs/differences.md 32: every finished task's update is out (LangGraph drops this one)
    assert chunks == [
        ("values", {"log": [], "arg": 0}),
        ("updates", {"n": [{"arg": 1}, {"arg": 2}]}),
    ]
