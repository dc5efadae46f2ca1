"""What ``as_langgraph_saver`` keeps of threadloom under LangGraph's engine: the head check
(single writer per thread) where LangGraph's calls allow it, time travel as a deliberate branch,
the strict serializer's refusals, the allow-list, lazy history values, and wrapper basics."""

from __future__ import annotations

import dataclasses
import operator
from pathlib import Path
from typing import Annotated, Any, TypedDict

import pytest
from langgraph.channels.delta import DeltaChannel
from langgraph.checkpoint.base import BaseCheckpointSaver as LangGraphSaverBase
from langgraph.graph import START, StateGraph
from langgraph.types import Command, Send, interrupt

from threadloom.checkpoint._lazy import LazyDict
from threadloom.checkpoint.memory import InMemorySaver
from threadloom.checkpoint.sqlite import SqliteSaver
from threadloom.errors import CheckpointConflictError, UnserializableValueError
from threadloom.interop.langgraph import LangGraphSaver, as_langgraph_saver


class Counter(TypedDict):
    n: Annotated[int, operator.add]


def _counter_graph(checkpointer: Any, during: Any = None) -> Any:
    def step(state: Counter) -> dict[str, int]:
        if during is not None:
            during()
        return {"n": 1}

    builder = StateGraph(Counter)
    builder.add_node("step", step)
    builder.add_edge(START, "step")
    return builder.compile(checkpointer=checkpointer)


def _config(thread: str = "t", **more: Any) -> Any:
    return {"configurable": {"thread_id": thread, **more}}


def test_two_writers_on_one_thread_one_fails_with_a_conflict_and_nothing_forks(
    tmp_path: Path,
) -> None:
    path = str(tmp_path / "shared.db")
    with SqliteSaver.from_conn_string(path) as one, SqliteSaver.from_conn_string(path) as two:
        other = _counter_graph(as_langgraph_saver(two))  # another process, in effect
        outcomes: list[Any] = []

        def other_runs_meanwhile() -> None:
            try:
                outcomes.append(other.invoke({"n": 10}, _config()))
            except CheckpointConflictError as conflict:
                outcomes.append(conflict)

        first = _counter_graph(as_langgraph_saver(one), during=other_runs_meanwhile)
        try:
            outcomes.append(first.invoke({"n": 1}, _config()))
        except CheckpointConflictError as conflict:
            outcomes.append(conflict)
        # LangGraph saves first's input checkpoint in the background (durability "async"), so
        # either writer may be the one to find the head moved; exactly one of them does
        failed = [o for o in outcomes if isinstance(o, CheckpointConflictError)]
        assert len(outcomes) == 2 and len(failed) == 1
        assert failed[0].thread_id == "t"
        history = list(other.get_state_history(_config()))
        # one line of checkpoints, each the child of the next older one: no fork
        assert [h.parent_config for h in history[:-1]] == [h.config for h in history[1:]]


def test_without_a_second_writer_runs_follow_each_other_on_one_thread(tmp_path: Path) -> None:
    path = str(tmp_path / "shared.db")
    with SqliteSaver.from_conn_string(path) as one, SqliteSaver.from_conn_string(path) as two:
        a, b = _counter_graph(as_langgraph_saver(one)), _counter_graph(as_langgraph_saver(two))
        a.invoke({"n": 1}, _config())
        b.invoke({"n": 1}, _config())  # reads the head a left: no conflict
        assert a.invoke({"n": 1}, _config()) == {"n": 6}


def _travel(checkpointer: Any) -> list[Any]:
    """Two runs, a replay and a fork from the first run's step, then a run on the latest."""
    graph = _counter_graph(checkpointer)
    seen = [graph.invoke({"n": 1}, _config()), graph.invoke({"n": 1}, _config())]
    history = list(graph.get_state_history(_config()))
    past = next(h for h in reversed(history) if h.metadata["source"] == "loop")
    seen.append(graph.invoke(None, past.config))  # replay from there: a deliberate branch
    forked = graph.update_state(past.config, {"n": 100})
    seen.append(graph.get_state(forked).values)
    seen.append(graph.invoke({"n": 1}, _config()))  # the latest run continues the fork
    seen.append([h.metadata["source"] for h in graph.get_state_history(_config())])
    return seen


def test_time_travel_from_a_past_checkpoint_branches_without_a_conflict() -> None:
    from langgraph.checkpoint.memory import InMemorySaver as LangGraphInMemorySaver

    assert _travel(as_langgraph_saver(InMemorySaver())) == _travel(LangGraphInMemorySaver())


@dataclasses.dataclass
class Point:
    x: int


class Holder(TypedDict):
    p: Any


def _point_graph(checkpointer: Any) -> Any:
    builder = StateGraph(Holder)
    builder.add_node("n", lambda state: {"p": Point(state["p"])})
    builder.add_edge(START, "n")
    return builder.compile(checkpointer=checkpointer)


def test_a_value_the_strict_serializer_refuses_fails_with_threadloom_s_error() -> None:
    graph = _point_graph(as_langgraph_saver(InMemorySaver()))
    with pytest.raises(UnserializableValueError, match="Point") as caught:
        graph.invoke({"p": 1}, _config())
    assert "with_allowlist" in str(caught.value)


def test_types_allowed_on_the_saver_or_by_langgraph_s_compile_are_stored(tmp_path: Path) -> None:
    key = (Point.__module__, Point.__qualname__)
    with SqliteSaver.from_conn_string(str(tmp_path / "p.db")) as saver:
        wrapper = as_langgraph_saver(saver)
        widened = wrapper.with_allowlist({key, ("a", "b", "c")})  # as LangGraph's compile does
        assert widened is not wrapper and widened.saver is not saver
        assert wrapper.saver is saver  # the user's objects are not changed
        graph = _point_graph(widened)
        assert graph.invoke({"p": 3}, _config()) == {"p": Point(3)}
        assert _point_graph(as_langgraph_saver(saver.with_allowlist([Point]))).get_state(
            _config()
        ).values == {"p": Point(3)}


class Fan(TypedDict):
    got: Annotated[list[int], operator.add]


def test_sends_pending_between_steps_cross_as_threadloom_s_and_come_back() -> None:
    def fan(state: Fan) -> list[Send]:
        return [Send("work", {"got": [i]}) for i in range(3)]

    builder = StateGraph(Fan)
    builder.add_node("start", lambda state: {"got": []})
    builder.add_node("work", lambda state: {"got": [state["got"][0] * 10]})
    builder.add_edge(START, "start")
    builder.add_conditional_edges("start", fan, ["work"])
    saver = InMemorySaver()
    graph = builder.compile(checkpointer=as_langgraph_saver(saver), interrupt_before=["work"])
    graph.invoke({"got": []}, _config())
    stored = saver.get_tuple(_config())
    assert stored is not None
    assert {type(s).__module__ for s in stored.checkpoint["channel_values"]["__pregel_tasks"]} == {
        "threadloom.types"
    }
    assert [t.name for t in graph.get_state(_config()).tasks] == ["work"] * 3
    assert sorted(graph.invoke(None, _config())["got"]) == [0, 10, 20]


def _listed_values(checkpointer: Any) -> list[Any]:
    graph = _counter_graph(checkpointer)
    for _ in range(3):
        graph.invoke({"n": 1}, _config())
    return [t.checkpoint["channel_values"] for t in checkpointer.list(_config())]


def test_history_values_stay_lazy_until_langgraph_reads_them(tmp_path: Path) -> None:
    from langgraph.checkpoint.memory import InMemorySaver as LangGraphInMemorySaver

    with SqliteSaver.from_conn_string(str(tmp_path / "h.db")) as saver:
        listed = _listed_values(as_langgraph_saver(saver))
        assert {type(values) for values in listed} == {LazyDict}  # nothing decoded yet
        assert listed == _listed_values(LangGraphInMemorySaver())


def test_the_wrapper_is_a_langgraph_saver_with_threadloom_s_versions() -> None:
    saver = InMemorySaver()
    wrapper = as_langgraph_saver(saver)
    assert isinstance(wrapper, LangGraphSaverBase) and isinstance(wrapper, LangGraphSaver)
    assert as_langgraph_saver(wrapper) is wrapper
    assert wrapper.saver is saver
    first = wrapper.get_next_version(None, None)
    assert first == saver.get_next_version(None, None)[:32] + first[32:]
    assert wrapper.get_next_version(first, None) > first
    assert "InMemorySaver" in repr(wrapper)


def test_a_langgraph_saver_or_anything_else_is_refused_with_the_fix() -> None:
    from langgraph.checkpoint.memory import InMemorySaver as LangGraphInMemorySaver

    with pytest.raises(TypeError, match=r"as_langgraph_saver\(\) takes a threadloom"):
        as_langgraph_saver(LangGraphInMemorySaver())  # type: ignore[arg-type]


def test_without_langgraph_the_module_says_which_extra_to_install(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import importlib
    import sys

    from threadloom.errors import LangGraphNotInstalledError

    for name in ("langgraph", "langgraph.checkpoint", "langgraph.checkpoint.base"):
        monkeypatch.setitem(sys.modules, name, None)  # what a missing package looks like
    monkeypatch.delitem(sys.modules, "threadloom.interop.langgraph")
    with pytest.raises(LangGraphNotInstalledError) as caught:
        importlib.import_module("threadloom.interop.langgraph")
    assert isinstance(caught.value, ImportError)
    assert "pip install 'threadloom[langgraph]'" in str(caught.value)
    assert caught.value.missing == "langgraph"


def test_a_chat_on_langgraph_s_engine_keeps_threadloom_s_list_deltas(tmp_path: Path) -> None:
    from langchain_core.messages import AIMessage
    from langgraph.graph import MessagesState

    def answer(state: MessagesState) -> dict[str, Any]:
        return {"messages": [AIMessage(f"echo {state['messages'][-1].content}")]}

    builder = StateGraph(MessagesState)
    builder.add_node("answer", answer)
    builder.add_edge(START, "answer")
    with SqliteSaver.from_conn_string(str(tmp_path / "chat.db")) as saver:
        graph = builder.compile(checkpointer=as_langgraph_saver(saver))
        for turn in range(20):
            graph.invoke({"messages": [("user", f"turn {turn} " + "x" * 200)]}, _config())
        report = as_langgraph_saver(saver).thread_size_report("t")
        messages = graph.get_state(_config()).values["messages"]
    assert len(messages) == 40 and messages[-1].content.startswith("echo turn 19")
    # every new version of the message list after the first stores only what was appended
    assert report.delta_blobs >= 2 * 20 - 2
    # so the thread holds about one copy of the conversation, not one per checkpoint (60)
    one_copy = sum(len(m.content) for m in messages)
    assert report.blob_bytes < 6 * one_copy


def _extend(state: list[Any] | None, writes: Any) -> list[Any]:
    return [*(state or []), *(item for write in writes for item in write)]


class Items(TypedDict):
    items: Annotated[list[Any], DeltaChannel(_extend, snapshot_frequency=1)]


def test_langgraph_s_delta_channel_snapshot_is_refused_with_threadloom_s_error() -> None:
    builder = StateGraph(Items)
    builder.add_node("n", lambda state: {"items": [len(state["items"])]})
    builder.add_edge(START, "n")
    graph = builder.compile(checkpointer=as_langgraph_saver(InMemorySaver()))
    with pytest.raises(UnserializableValueError, match="_DeltaSnapshot"):
        graph.invoke({"items": ["u"]}, _config())


class Branches(TypedDict):
    done: Annotated[list[str], operator.add]


def _interrupted_branch_run(checkpointer: Any) -> list[Any]:
    """Two parallel nodes, one interrupting: the resume must reuse the other's saved writes."""
    calls: list[str] = []

    def good(state: Branches) -> dict[str, list[str]]:
        calls.append("good")
        return {"done": ["good"]}

    def asks(state: Branches) -> dict[str, list[str]]:
        calls.append("asks")
        return {"done": [f"asks:{interrupt('go?')}"]}

    builder = StateGraph(Branches)
    builder.add_node("good", good)
    builder.add_node("asks", asks)
    builder.add_edge(START, "good")
    builder.add_edge(START, "asks")
    graph = builder.compile(checkpointer=checkpointer)
    graph.invoke({"done": []}, _config())
    state = graph.get_state(_config())
    seen = [sorted(t.name for t in state.tasks), [len(t.interrupts) for t in state.tasks]]
    resumed = graph.invoke(Command(resume="yes"), _config())
    return [*seen, sorted(resumed["done"]), sorted(calls)]


def test_pending_writes_of_an_interrupted_step_are_reused_as_langgraph_reuses_them(
    tmp_path: Path,
) -> None:
    from langgraph.checkpoint.memory import InMemorySaver as LangGraphInMemorySaver

    with SqliteSaver.from_conn_string(str(tmp_path / "w.db")) as saver:
        got = _interrupted_branch_run(as_langgraph_saver(saver))
    assert got == _interrupted_branch_run(LangGraphInMemorySaver())
    assert got[-2] == ["asks:yes", "good"]
    assert got[-1] == ["asks", "asks", "good"]  # good ran once: its saved writes were reused
