"""Graphs on a checkpointer: threads, checkpoints, failures, interrupts, the state API
(CONTRACT 1.1–1.9 as seen through runs, 2.8, 2.9, 3.3–3.6; DECISIONS 4, 13, 15)."""

import asyncio
import itertools
import operator
import threading
import time
from typing import Annotated, Any, TypedDict

import pytest

from threadloom.checkpoint.memory import InMemorySaver
from threadloom.errors import (
    CheckpointConflictError,
    InvalidUpdateError,
    PendingInterruptWarning,
)
from threadloom.graph import END, START, StateGraph
from threadloom.types import Command, interrupt


class State(TypedDict, total=False):
    a: str
    log: Annotated[list[str], operator.add]


def cfg(thread: str = "t", **extra: Any) -> dict[str, Any]:
    return {"configurable": {"thread_id": thread, **extra}}


def append(name: str) -> Any:
    def node(state: State) -> dict[str, Any]:
        return {"log": [name]}

    return node


def two_node_graph(saver: Any, **compile_kwargs: Any) -> Any:
    def n1(state: State) -> dict[str, Any]:
        return {"a": state["a"] + "1", "log": ["n1"]}

    builder = StateGraph(State).add_node("n1", n1).add_node("n2", append("n2"))
    builder.add_edge(START, "n1").add_edge("n1", "n2").add_edge("n2", END)
    return builder.compile(checkpointer=saver, **compile_kwargs)


def test_thread_continues_and_new_thread_starts_empty() -> None:
    graph = two_node_graph(InMemorySaver())
    assert graph.invoke({"a": "x"}, cfg("1"))["log"] == ["n1", "n2"]
    assert graph.invoke({"a": "y"}, cfg("1"))["log"] == ["n1", "n2", "n1", "n2"]
    assert graph.invoke({"a": "z"}, cfg("2"))["log"] == ["n1", "n2"]


def test_checkpoint_sequence_matches_the_contract_example() -> None:
    saver = InMemorySaver()
    graph = two_node_graph(saver)
    graph.invoke({"a": "x"}, cfg())
    history = list(saver.list(cfg()))
    assert [(t.metadata["source"], t.metadata["step"]) for t in reversed(history)] == [
        ("input", -1),
        ("loop", 0),
        ("loop", 1),
        ("loop", 2),
    ]
    values = [t.checkpoint["channel_values"] for t in reversed(history)]
    assert values[0] == {"__start__": {"a": "x"}}
    assert values[1] == {"a": "x", "branch:to:n1": None}
    assert values[2] == {"a": "x1", "log": ["n1"], "branch:to:n2": None}
    assert values[3] == {"a": "x1", "log": ["n1", "n2"]}
    ids = [t.checkpoint["id"] for t in history]
    assert ids == sorted(ids, reverse=True)  # ids sort chronologically
    for newer, older in itertools.pairwise(history):
        assert newer.parent_config["configurable"]["checkpoint_id"] == older.checkpoint["id"]
    # pending writes of a checkpoint are the writes of the tasks that ran from it
    assert [(w[1], w[2]) for w in history[2].pending_writes] == [
        ("a", "x1"),
        ("log", ["n1"]),
        ("branch:to:n2", None),
    ]
    assert history[0].pending_writes == []


def test_steps_continue_across_runs() -> None:
    saver = InMemorySaver()
    graph = two_node_graph(saver)
    graph.invoke({"a": "x"}, cfg())
    graph.invoke({"a": "y"}, cfg())
    steps = [t.metadata["step"] for t in saver.list(cfg())]
    assert steps == [6, 5, 4, 3, 2, 1, 0, -1]


def test_config_keys_copied_into_metadata() -> None:
    saver = InMemorySaver()
    graph = two_node_graph(saver)
    config = {
        "configurable": {"thread_id": "r", "user_id": "u", "num": 3, "obj": {}, "__secret": "s"},
        "metadata": {"run_id": "meta-run", "tag": "t"},
    }
    graph.invoke({"a": "x"}, config)
    metadata = graph.get_state({"configurable": {"thread_id": "r"}}).metadata
    assert metadata == {
        "source": "loop",
        "step": 2,
        "parents": {},
        "run_id": "meta-run",
        "tag": "t",
        "user_id": "u",
        "num": 3,
    }


def test_missing_thread_id_names_the_fix() -> None:
    graph = two_node_graph(InMemorySaver())
    with pytest.raises(ValueError, match="Checkpointer requires one or more"):
        graph.invoke({"a": "x"})
    with pytest.raises(ValueError, match=r"no 'thread_id'.*\{'configurable': \{'thread_id'"):
        graph.invoke({"a": "x"}, {"configurable": {"user_id": "u"}})


def test_get_state_of_unknown_thread_and_without_checkpointer() -> None:
    graph = two_node_graph(InMemorySaver())
    snapshot = graph.get_state(cfg("nobody"))
    assert snapshot.values == {} and snapshot.next == () and snapshot.metadata is None
    with pytest.raises(ValueError, match="No checkpointer set"):
        two_node_graph(None).get_state(cfg())


def test_get_state_fields_after_a_run() -> None:
    graph = two_node_graph(InMemorySaver())
    graph.invoke({"a": "x"}, cfg())
    snapshot = graph.get_state(cfg())
    assert snapshot.values == {"a": "x1", "log": ["n1", "n2"]}
    assert snapshot.next == () and snapshot.tasks == ()
    assert snapshot.config["configurable"]["thread_id"] == "t"
    assert snapshot.parent_config is not None
    assert snapshot.created_at and snapshot.created_at.endswith("+00:00")


def failing_graph(saver: Any, fail: dict[str, bool], calls: list[str]) -> Any:
    def good(state: State) -> dict[str, Any]:
        calls.append("good")
        return {"log": ["good"]}

    def bad(state: State) -> dict[str, Any]:
        calls.append("bad")
        if fail["on"]:
            raise ValueError("bad fails")
        return {"log": ["bad"]}

    builder = StateGraph(State).add_node("good", good).add_node("bad", bad)
    builder.add_edge(START, "good").add_edge(START, "bad")
    return builder.compile(checkpointer=saver)


def test_failed_task_keeps_siblings_writes_and_resume_reruns_only_it() -> None:
    fail, calls = {"on": True}, []
    graph = failing_graph(InMemorySaver(), fail, calls)
    with pytest.raises(ValueError, match="bad fails"):
        graph.invoke({"a": "x"}, cfg())
    snapshot = graph.get_state(cfg())
    assert snapshot.next == ("bad",)
    assert snapshot.values["log"] == ["good"]
    # the live view lists every task of the step; only the unfinished ones are next
    tasks = {t.name: t for t in snapshot.tasks}
    assert tasks["bad"].error == "ValueError('bad fails')" and tasks["bad"].result is None
    assert tasks["good"].error is None and tasks["good"].result == {"log": ["good"]}
    fail["on"] = False
    calls.clear()
    chunks = list(graph.stream(None, cfg(), stream_mode=["updates", "values"]))
    assert chunks == [
        ("values", {"a": "x", "log": []}),
        ("updates", {"good": {"log": ["good"]}, "__metadata__": {"cached": True}}),
        ("updates", {"bad": {"log": ["bad"]}}),
        ("values", {"a": "x", "log": ["bad", "good"]}),  # applied in node-name order
    ]
    assert calls == ["bad"]


def interrupting_graph(saver: Any, calls: list[str]) -> Any:
    def ask(state: State) -> dict[str, Any]:
        calls.append("ask")
        answer = interrupt({"question": "approve?"})
        return {"log": [f"answer:{answer}"]}

    builder = StateGraph(State).add_node("first", append("first")).add_node("ask", ask)
    builder.add_edge(START, "first").add_edge("first", "ask")
    return builder.compile(checkpointer=saver)


def test_interrupt_and_resume() -> None:
    calls: list[str] = []
    graph = interrupting_graph(InMemorySaver(), calls)
    out = graph.invoke({"a": "x"}, cfg())
    [pending] = out["__interrupt__"]
    assert out["log"] == ["first"] and pending.value == {"question": "approve?"}
    updates = list(graph.stream({"a": "x"}, cfg("s")))
    assert updates[-1] == {"__interrupt__": (updates[-1]["__interrupt__"][0],)}
    snapshot = graph.get_state(cfg())
    assert snapshot.next == ("ask",)
    assert snapshot.interrupts == (pending,)
    assert snapshot.tasks[0].interrupts == (pending,)
    out = graph.invoke(Command(resume="yes"), cfg())
    assert out["log"] == ["first", "answer:yes"]
    assert calls == ["ask", "ask", "ask"]  # the node re-ran from the top on resume
    assert graph.get_state(cfg()).next == ()


def test_several_interrupts_in_one_node_replay_answers_in_order() -> None:
    runs: list[int] = []

    def two_questions(state: State) -> dict[str, Any]:
        runs.append(1)
        first = interrupt("first?")
        second = interrupt("second?")
        return {"log": [first, second]}

    graph = StateGraph(State).add_node("q", two_questions).add_edge(START, "q")
    graph = graph.compile(checkpointer=InMemorySaver())
    assert graph.invoke({"a": "x"}, cfg())["__interrupt__"][0].value == "first?"
    out = graph.invoke(Command(resume="one"), cfg())
    assert out["__interrupt__"][0].value == "second?"
    assert graph.invoke(Command(resume="two"), cfg())["log"] == ["one", "two"]
    assert len(runs) == 3


def test_parallel_interrupts_need_ids_and_accept_a_partial_resume_map() -> None:
    def asker(name: str) -> Any:
        def node(state: State) -> dict[str, Any]:
            return {"log": [f"{name}:{interrupt(name)}"]}

        return node

    builder = StateGraph(State).add_node("p1", asker("p1")).add_node("p2", asker("p2"))
    graph = (
        builder.add_edge(START, "p1").add_edge(START, "p2").compile(checkpointer=InMemorySaver())
    )
    out = graph.invoke({"a": "x"}, cfg())
    by_value = {i.value: i for i in out["__interrupt__"]}
    assert set(by_value) == {"p1", "p2"}
    with pytest.raises(RuntimeError, match="multiple pending interrupts"):
        graph.invoke(Command(resume="x"), cfg())
    out = graph.invoke(Command(resume={by_value["p1"].id: "only"}), cfg())
    assert out["log"] == ["p1:only"]
    assert [i.value for i in out["__interrupt__"]] == ["p2"]
    out = graph.invoke(Command(resume={by_value["p2"].id: "later"}), cfg())
    assert out["log"] == ["p1:only", "p2:later"]


def test_static_breakpoints() -> None:
    graph = two_node_graph(InMemorySaver(), interrupt_before=["n2"])
    out = graph.invoke({"a": "x"}, cfg())
    assert out == {"a": "x1", "log": ["n1"]}  # no __interrupt__ key for static breakpoints
    assert list(graph.stream({"a": "x"}, cfg("s")))[-1] == {"__interrupt__": ()}
    snapshot = graph.get_state(cfg())
    assert snapshot.next == ("n2",) and snapshot.interrupts == ()
    assert graph.invoke(None, cfg()) == {"a": "x1", "log": ["n1", "n2"]}
    after = two_node_graph(InMemorySaver(), interrupt_after=["n1"])
    assert after.invoke({"a": "x"}, cfg())["log"] == ["n1"]
    assert after.get_state(cfg()).next == ("n2",)
    assert after.invoke(None, cfg())["log"] == ["n1", "n2"]


def test_new_input_discards_pending_work() -> None:
    calls: list[str] = []
    graph = interrupting_graph(InMemorySaver(), calls)
    graph.invoke({"a": "x"}, cfg())
    with pytest.warns(PendingInterruptWarning):
        out = graph.invoke({"a": "y"}, cfg())
    assert out["log"] == ["first", "first"]  # reducers accumulate; the old interrupt is gone
    assert len(out["__interrupt__"]) == 1


def test_update_state_infers_the_node_and_keeps_next() -> None:
    graph = two_node_graph(InMemorySaver(), interrupt_before=["n2"])
    graph.invoke({"a": "x"}, cfg())
    new_config = graph.update_state(cfg(), {"a": "edited", "log": ["upd"]})
    snapshot = graph.get_state(cfg())
    assert (
        snapshot.config["configurable"]["checkpoint_id"]
        == (new_config["configurable"]["checkpoint_id"])
    )
    assert snapshot.values == {"a": "edited", "log": ["n1", "upd"]}  # reducers apply
    assert snapshot.next == ("n2",)
    assert snapshot.metadata["source"] == "update" and snapshot.metadata["step"] == 2


def test_update_state_as_the_next_node_skips_it() -> None:
    graph = two_node_graph(InMemorySaver(), interrupt_before=["n2"])
    graph.invoke({"a": "x"}, cfg())
    graph.update_state(cfg(), {"a": "by n2"}, as_node="n2")
    assert graph.get_state(cfg()).next == ()


def test_update_state_on_empty_thread_acts_as_start() -> None:
    graph = two_node_graph(InMemorySaver())
    graph.update_state(cfg(), {"a": "v"})
    snapshot = graph.get_state(cfg())
    assert snapshot.next == ("n1",)
    assert snapshot.metadata["step"] == 0 and snapshot.metadata["source"] == "update"
    assert graph.invoke(None, cfg())["a"] == "v1"


def test_update_state_errors() -> None:
    graph = two_node_graph(InMemorySaver())
    graph.invoke({"a": "x"}, cfg())
    with pytest.raises(InvalidUpdateError, match="Node nope does not exist"):
        graph.update_state(cfg(), {"a": "v"}, as_node="nope")
    with pytest.raises(ValueError, match="No supersteps provided"):
        graph.bulk_update_state(cfg(), [])
    with pytest.raises(ValueError, match="No updates provided"):
        graph.bulk_update_state(cfg(), [[]])


def test_history_filter_before_and_limit() -> None:
    graph = two_node_graph(InMemorySaver())
    graph.invoke({"a": "x"}, cfg())
    history = list(graph.get_state_history(cfg()))
    assert [s.metadata["step"] for s in history] == [2, 1, 0, -1]
    assert history[-1].next == ("__start__",)
    assert history[1].next == ("n2",)
    assert [s.metadata["step"] for s in graph.get_state_history(cfg(), limit=2)] == [2, 1]
    loops = graph.get_state_history(cfg(), filter={"source": "loop"})
    assert [s.metadata["step"] for s in loops] == [2, 1, 0]
    older = list(graph.get_state_history(cfg(), before=history[1].config))
    assert [s.metadata["step"] for s in older] == [0, -1]


def test_replay_forks_from_an_old_checkpoint_and_reruns() -> None:
    calls: list[str] = []
    graph = interrupting_graph(InMemorySaver(), calls)
    graph.invoke({"a": "x"}, cfg())
    graph.invoke(Command(resume="first answer"), cfg())
    before_ask = next(s for s in graph.get_state_history(cfg()) if s.next == ("ask",))
    calls.clear()
    out = graph.invoke(None, before_ask.config)
    assert calls == ["ask"]  # only ask re-ran, and its interrupt fired again
    assert out["__interrupt__"][0].value == {"question": "approve?"}
    head = graph.get_state(cfg())
    forks = [s for s in graph.get_state_history(cfg()) if s.metadata["source"] == "fork"]
    assert len(forks) == 1
    assert (
        forks[0].parent_config["configurable"]["checkpoint_id"]
        == (before_ask.config["configurable"]["checkpoint_id"])
    )
    assert head.next == ("ask",)
    out = graph.invoke(Command(resume="second answer"), cfg())
    assert out["log"] == ["first", "answer:second answer"]


def test_durability_exit_saves_only_the_final_checkpoint() -> None:
    saver = InMemorySaver()
    graph = two_node_graph(saver)
    graph.invoke({"a": "x"}, cfg(), durability="exit")
    history = list(saver.list(cfg()))
    assert [(t.metadata["source"], t.metadata["step"]) for t in history] == [("loop", 2)]
    assert graph.get_state(cfg()).values == {"a": "x1", "log": ["n1", "n2"]}
    for durability in ("sync", "async"):
        saver = InMemorySaver()
        two_node_graph(saver).invoke({"a": "x"}, cfg(), durability=durability)
        assert len(list(saver.list(cfg()))) == 4


def test_durability_exit_with_an_interrupt_can_resume() -> None:
    saver = InMemorySaver()
    graph = interrupting_graph(saver, [])
    graph.invoke({"a": "x"}, cfg(), durability="exit")
    assert [t.metadata["step"] for t in saver.list(cfg())] == [1]
    assert graph.invoke(Command(resume="ok"), cfg(), durability="exit")["log"] == [
        "first",
        "answer:ok",
    ]


def test_durability_without_checkpointer_only_warns() -> None:
    graph = two_node_graph(None)
    for durability in ("sync", "async", "exit"):
        with pytest.warns(UserWarning, match="`durability` has no effect"):
            assert graph.invoke({"a": "x"}, durability=durability)["log"] == ["n1", "n2"]


def test_two_writers_on_one_thread_conflict_instead_of_forking() -> None:
    """DECISIONS 4: a run whose thread moved on underneath it fails loudly; nothing is lost."""
    entered, release = threading.Event(), threading.Event()

    def slow(state: State) -> dict[str, Any]:
        if state["a"] == "slow":
            entered.set()
            assert release.wait(10)
        return {"log": [state["a"]]}

    saver = InMemorySaver()
    graph = StateGraph(State).add_node("slow", slow).add_edge(START, "slow")
    graph = graph.compile(checkpointer=saver)
    errors: list[BaseException] = []

    def run_slow() -> None:
        try:
            graph.invoke({"a": "slow"}, cfg())
        except BaseException as exc:
            errors.append(exc)

    graph.invoke({"a": "first"}, cfg())
    worker = threading.Thread(target=run_slow)
    worker.start()
    assert entered.wait(10)
    graph.invoke({"a": "fast"}, cfg())  # another writer advances the thread meanwhile
    release.set()
    worker.join(10)
    [error] = errors
    assert isinstance(error, CheckpointConflictError)
    assert "thread 't'" in str(error)
    assert graph.get_state(cfg()).values["log"] == ["first", "fast"]


def test_unserializable_state_value_names_its_path() -> None:
    class Opaque:
        pass

    graph = StateGraph(State).add_node("n", lambda s: {"log": [Opaque()]}).add_edge(START, "n")
    graph = graph.compile(checkpointer=InMemorySaver())
    with pytest.raises(TypeError, match=r"log.*\[0\]"):
        graph.invoke({"a": "x"}, cfg())


async def test_async_interrupt_resume_and_state() -> None:
    async def ask(state: State) -> dict[str, Any]:
        return {"log": [f"answer:{interrupt('?')}"]}

    graph = StateGraph(State).add_node("ask", ask).add_edge(START, "ask")
    graph = graph.compile(checkpointer=InMemorySaver())
    out = await graph.ainvoke({"a": "x"}, cfg())
    assert out["__interrupt__"][0].value == "?"
    assert (await graph.aget_state(cfg())).next == ("ask",)
    out = await graph.ainvoke(Command(resume="yes"), cfg())
    assert out["log"] == ["answer:yes"]
    history = [s async for s in graph.aget_state_history(cfg())]
    assert [s.metadata["step"] for s in history] == [1, 0, -1]
    await graph.aupdate_state(cfg(), {"log": ["manual"]})
    assert (await graph.aget_state(cfg())).values["log"] == ["answer:yes", "manual"]


def test_schema_types_round_trip_through_the_strict_serializer() -> None:
    """DECISIONS 7: compile() allows the state's own types, so they come back as themselves."""
    import dataclasses
    import enum

    from pydantic import BaseModel

    class Mood(enum.Enum):
        HAPPY = "happy"

    @dataclasses.dataclass
    class Note:
        text: str
        mood: Mood

    class Profile(BaseModel):
        name: str
        tags: tuple[str, ...] = ()

    class Rich(TypedDict, total=False):
        profile: Profile
        notes: Annotated[list[Note], operator.add]

    def write(state: Rich) -> dict[str, Any]:
        return {
            "profile": Profile(name="bob", tags=("a", "b")),
            "notes": [Note("hi", Mood.HAPPY)],
        }

    saver = InMemorySaver()
    graph = StateGraph(Rich).add_node("write", write).add_edge(START, "write")
    graph = graph.compile(checkpointer=saver)
    graph.invoke({"notes": []}, cfg())
    values = graph.get_state(cfg()).values
    assert values["profile"] == Profile(name="bob", tags=("a", "b"))
    assert isinstance(values["profile"].tags, tuple)
    assert values["notes"] == [Note("hi", Mood.HAPPY)]
    assert isinstance(values["notes"][0].mood, Mood)
    # the user's saver object is not widened: a graph-owned clone is
    assert graph.checkpointer is saver


def test_send_fan_out_resumes_only_the_failed_packet() -> None:
    class Fan(TypedDict, total=False):
        items: list[int]
        done: Annotated[list[int], operator.add]

    calls: list[int] = []
    fail = {"on": True}

    def work(arg: dict[str, int]) -> dict[str, Any]:
        calls.append(arg["i"])
        if arg["i"] == 2 and fail["on"]:
            raise RuntimeError("packet 2 failed")
        return {"done": [arg["i"]]}

    from threadloom.types import Send

    builder = StateGraph(Fan).add_node("work", work)
    builder.add_conditional_edges(START, lambda s: [Send("work", {"i": i}) for i in s["items"]])
    graph = builder.compile(checkpointer=InMemorySaver())
    with pytest.raises(RuntimeError, match="packet 2 failed"):
        graph.invoke({"items": [1, 2, 3]}, cfg())
    assert graph.get_state(cfg()).next == ("work",)
    fail["on"] = False
    calls.clear()
    assert graph.invoke(None, cfg())["done"] == [1, 2, 3]
    assert calls == [2]


async def test_async_failure_then_resume() -> None:
    fail, calls = {"on": True}, []
    graph = failing_graph(InMemorySaver(), fail, calls)
    with pytest.raises(ValueError, match="bad fails"):
        await graph.ainvoke({"a": "x"}, cfg())
    fail["on"] = False
    calls.clear()
    assert (await graph.ainvoke(None, cfg()))["log"] == ["bad", "good"]
    assert calls == ["bad"]


async def test_async_failure_keeps_a_sync_siblings_writes_when_it_finishes_later() -> None:
    # a sync node runs in a worker thread, which cannot be stopped: it finishes after its
    # sibling failed, and its writes are saved, so resuming does not run it (and its side
    # effects) a second time
    bad_raised, calls = threading.Event(), []

    def slow(state: State) -> dict[str, Any]:
        calls.append("slow")
        assert bad_raised.wait(10)
        time.sleep(0.2)  # most often finishes after the failure is handled (passes either way)
        return {"log": ["slow"]}

    def bad(state: State) -> dict[str, Any]:
        calls.append("bad")
        if len(calls) <= 2:  # the first run fails
            bad_raised.set()
            raise ValueError("bad fails")
        return {"log": ["bad"]}

    builder = StateGraph(State).add_node("slow", slow).add_node("bad", bad)
    builder.add_edge(START, "slow").add_edge(START, "bad")
    graph = builder.compile(checkpointer=InMemorySaver())
    with pytest.raises(ValueError, match="bad fails"):
        await graph.ainvoke({"a": "x"}, cfg())
    assert sorted(calls) == ["bad", "slow"]
    snapshot = await graph.aget_state(cfg())
    assert snapshot.next == ("bad",) and snapshot.values["log"] == ["slow"]
    assert (await graph.ainvoke(None, cfg()))["log"] == ["bad", "slow"]
    assert sorted(calls) == ["bad", "bad", "slow"]


async def test_async_failure_cancels_a_running_async_sibling() -> None:
    started, calls = threading.Event(), []

    async def forever(state: State) -> dict[str, Any]:
        calls.append("forever")
        started.set()
        await asyncio.sleep(3600)  # cancelled here when its sibling fails
        return {"log": ["forever"]}

    async def bad(state: State) -> dict[str, Any]:
        while not started.is_set():
            await asyncio.sleep(0)
        raise ValueError("bad fails")

    builder = StateGraph(State).add_node("forever", forever).add_node("bad", bad)
    builder.add_edge(START, "forever").add_edge(START, "bad")
    graph = builder.compile(checkpointer=InMemorySaver())
    with pytest.raises(ValueError, match="bad fails"):
        await graph.ainvoke({"a": "x"}, cfg())
    assert calls == ["forever"]
    assert set((await graph.aget_state(cfg())).next) == {"bad", "forever"}


def test_interrupt_chunks_in_values_and_updates_modes() -> None:
    graph = interrupting_graph(InMemorySaver(), [])
    chunks = list(graph.stream({"a": "x"}, cfg(), stream_mode=["updates", "values"]))
    pending = chunks[-1][1]["__interrupt__"]
    assert chunks[-2:] == [
        ("updates", {"__interrupt__": pending}),
        ("values", {"a": "x", "log": ["first"], "__interrupt__": pending}),
    ]
    # a replay starts by showing the state it replays from
    first = next(s for s in graph.get_state_history(cfg()) if s.next == ("ask",))
    replay = list(graph.stream(None, first.config, stream_mode=["values"]))
    assert replay[0] == ("values", {"a": "x", "log": ["first"]})


def test_update_state_as_input_keeps_older_pending_tasks() -> None:
    graph = two_node_graph(InMemorySaver(), interrupt_before=["n2"])
    graph.invoke({"a": "x"}, cfg())
    graph.update_state(cfg(), {"a": "new"}, as_node="__input__")
    snapshot = graph.get_state(cfg())
    assert set(snapshot.next) == {"__start__", "n2"}
    assert snapshot.metadata["source"] == "input"
    # the pending n2 runs alongside the new input; the input's own path stops before n2 again
    assert graph.invoke(None, cfg())["log"] == ["n1", "n2", "n1"]


def test_update_state_as_end_clears_pending_tasks() -> None:
    graph = two_node_graph(InMemorySaver(), interrupt_before=["n2"])
    graph.invoke({"a": "x"}, cfg())
    graph.update_state(cfg(), None, as_node="__end__")
    snapshot = graph.get_state(cfg())
    assert snapshot.next == () and snapshot.metadata["source"] == "update"


def test_update_state_as_copy_forks_a_sibling() -> None:
    graph = two_node_graph(InMemorySaver(), interrupt_before=["n2"])
    graph.invoke({"a": "x"}, cfg())
    head = graph.get_state(cfg())
    graph.update_state(cfg(), None, as_node="__copy__")
    copy = graph.get_state(cfg())
    assert copy.metadata["source"] == "fork"
    assert copy.values == head.values and copy.next == head.next
    assert copy.parent_config == head.parent_config  # a sibling of the copied checkpoint


def test_interrupt_response_schema_validates_the_answer() -> None:
    from pydantic import BaseModel, ValidationError

    class Answer(BaseModel):
        ok: bool

    def ask(state: State) -> dict[str, Any]:
        answer = interrupt("approve?", response_schema=Answer)
        return {"a": repr(answer)}

    graph = StateGraph(State).add_node("ask", ask).add_edge(START, "ask")
    graph = graph.compile(checkpointer=InMemorySaver())
    [pending] = graph.invoke({"a": ""}, cfg())["__interrupt__"]
    assert pending.response_schema["properties"]["ok"]["type"] == "boolean"
    with pytest.raises(ValidationError):
        graph.invoke(Command(resume={"ok": "maybe"}), cfg())
    assert graph.get_state(cfg()).next == ("ask",)
    assert graph.invoke(Command(resume={"ok": True}), cfg())["a"] == "Answer(ok=True)"
