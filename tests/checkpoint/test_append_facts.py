"""The O(1) delta check: a list channel that only appended tells the saver, which then skips the
prefix compare; anything else (a replaced element, a list changed in place) takes the full
compare and is stored exactly."""

from __future__ import annotations

import gc
import operator
import sqlite3
from pathlib import Path
from typing import Annotated, Any, TypedDict

import pytest
from langchain_core.messages import AIMessage, AnyMessage, HumanMessage

from threadloom import _appended
from threadloom.checkpoint import _delta
from threadloom.checkpoint._delta import BlobRow
from threadloom.checkpoint.memory import InMemorySaver
from threadloom.checkpoint.sqlite import SqliteSaver
from threadloom.graph import END, START, StateGraph
from threadloom.graph.message import add_messages


class Items(TypedDict):
    items: Annotated[list[str], operator.add]
    n: int


class Chat(TypedDict):
    messages: Annotated[list[AnyMessage], add_messages]
    n: int


def replace_third(left: list[str], right: list[str]) -> list[str]:
    """Appends, and replaces the third element once there are more than three."""
    out = [*left, *right]
    if len(left) > 3:
        out[2] = "replaced"
    return out


class Edited(TypedDict):
    items: Annotated[list[str], replace_third]
    n: int


def _loop_graph(schema: type, node: Any, steps: int, saver: InMemorySaver) -> Any:
    def more(state: Any) -> str:
        return "step" if state["n"] < steps else END

    builder = StateGraph(schema).add_node("step", node).add_edge(START, "step")
    return builder.add_conditional_edges("step", more).compile(checkpointer=saver)


@pytest.fixture
def compares(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Lengths of the prefixes the saver compared element by element."""
    seen: list[int] = []
    full_compare = _delta.extends

    def counting(prefix: Any, value: list[Any]) -> bool:
        seen.append(len(prefix))
        return full_compare(prefix, value)

    monkeypatch.setattr(_delta, "extends", counting)
    return seen


def _rows(saver: InMemorySaver, thread: str, channel: str) -> list[BlobRow]:
    blobs = saver._threads[thread].blobs
    rows = [row for (ns, ch, _v), row in blobs.items() if ch == channel and ns == ""]
    return [row for row in rows if type(row) is BlobRow]


def _history_values(saver: InMemorySaver, thread: str, channel: str) -> list[Any]:
    """Every stored version read back from bytes by a saver with empty caches."""
    cold = InMemorySaver()
    cold._threads = saver._threads
    config = {"configurable": {"thread_id": thread}}
    return [t.checkpoint["channel_values"].get(channel) for t in cold.list(config)]


def test_append_only_steps_skip_the_prefix_compare(compares: list[int]) -> None:
    def step(state: Items) -> dict[str, Any]:
        return {"items": [f"item {state['n']}"], "n": state["n"] + 1}

    saver = InMemorySaver()
    graph = _loop_graph(Items, step, 30, saver)
    config = {"configurable": {"thread_id": "t"}, "recursion_limit": 100}
    seed = [f"seed {i}" for i in range(500)]
    out = graph.invoke({"items": seed, "n": 0}, config)
    assert out["items"] == seed + [f"item {n}" for n in range(30)]
    assert compares == []  # every step was proven to append; no prefix was compared
    kinds = [row.kind for row in _rows(saver, "t", "items")]
    assert kinds.count("delta") >= 29
    history = _history_values(saver, "t", "items")
    assert history[0] == out["items"]
    assert [len(v) for v in history if v is not None] == sorted(
        (len(v) for v in history if v is not None), reverse=True
    )


def _chat_turns(saver: Any, compares: list[int]) -> tuple[dict[str, Any], Any]:
    """Six chat turns on one thread; ``compares`` is cleared after the first. Returns the last
    turn's output and the thread's config."""

    def step(state: Chat) -> dict[str, Any]:
        return {"messages": [AIMessage(f"answer {state['n']}")], "n": state["n"] + 1}

    builder = StateGraph(Chat).add_node("step", step).add_edge(START, "step")
    graph = builder.add_edge("step", END).compile(checkpointer=saver)
    config: Any = {"configurable": {"thread_id": "chat"}}
    graph.invoke({"messages": [HumanMessage("q 0")], "n": 0}, config)
    compares.clear()
    for turn in range(1, 6):
        out = graph.invoke({"messages": [HumanMessage(f"q {turn}")]}, config)
    return out, config


def test_next_invoke_extends_the_list_the_saver_returned(compares: list[int]) -> None:
    saver = InMemorySaver()
    out, _ = _chat_turns(saver, compares)
    assert compares == []  # each turn starts from the head's list, which the saver knows
    assert [m.content for m in out["messages"]] == [
        text for n in range(6) for text in (f"q {n}", f"answer {n}")
    ]
    assert _history_values(saver, "chat", "messages")[0] == out["messages"]


def test_a_replaced_middle_message_is_compared_and_stored_whole(compares: list[int]) -> None:
    history = [HumanMessage(f"m {i}", id=f"m{i}") for i in range(20)]

    def step(state: Chat) -> dict[str, Any]:
        n = state["n"]
        if n == 2:  # replaces message m5 where it stands, and appends one
            return {"messages": [AIMessage("edited", id="m5"), AIMessage("new")], "n": n + 1}
        return {"messages": [AIMessage(f"answer {n}")], "n": n + 1}

    saver = InMemorySaver()
    graph = _loop_graph(Chat, step, 4, saver)
    config = {"configurable": {"thread_id": "edit"}, "recursion_limit": 50}
    out = graph.invoke({"messages": history, "n": 0}, config)
    assert out["messages"][5].content == "edited"
    assert compares and max(compares) >= 20  # the edited step was compared in full
    stored = _history_values(saver, "edit", "messages")
    assert stored[0] == out["messages"]
    assert [m.content for m in stored[0]][5] == "edited"
    # versions before the edit still hold the original message
    assert any(v is not None and len(v) > 5 and v[5].content == "m 5" for v in stored[1:])


def test_a_reducer_that_replaces_in_the_middle_is_never_trusted(compares: list[int]) -> None:
    def step(state: Edited) -> dict[str, Any]:
        return {"items": [f"item {state['n']}"], "n": state["n"] + 1}

    saver = InMemorySaver()
    graph = _loop_graph(Edited, step, 5, saver)
    config = {"configurable": {"thread_id": "r"}, "recursion_limit": 50}
    out = graph.invoke({"items": ["a", "b", "c", "d"], "n": 0}, config)
    assert out["items"][2] == "replaced"
    assert compares  # no note from this reducer: every step takes the full compare
    assert _history_values(saver, "r", "items")[0] == out["items"]


def test_a_list_grown_in_place_falls_back_to_the_full_compare(compares: list[int]) -> None:
    def step(state: Items) -> dict[str, Any]:
        if state["n"] == 1:
            state["items"].append("sneaked in")  # not supported, but must not corrupt storage
        return {"items": [f"item {state['n']}"], "n": state["n"] + 1}

    saver = InMemorySaver()
    graph = _loop_graph(Items, step, 3, saver)
    config = {"configurable": {"thread_id": "p"}, "recursion_limit": 50}
    out = graph.invoke({"items": ["a"], "n": 0}, config)
    assert "sneaked in" in out["items"]
    assert compares  # the stored base no longer has the length the fact names
    assert _history_values(saver, "p", "items")[0] == out["items"]


def test_facts_are_claimed_once_and_only_for_their_own_list() -> None:
    base = [1, 2]
    value = [*base, 3]
    _appended.publish(value, base, 2)
    assert _appended.claim([1, 2, 3]) is None  # an equal list is not the same list
    assert _appended.claim(value) == (base, 2)
    assert _appended.claim(value) is None


def test_a_note_counts_only_for_the_call_that_made_it() -> None:
    old = ["a"]
    new = [*old, "b"]
    _appended.note_appended(new, old)
    assert not _appended.take_note(new, ["a"])  # another list than the one noted
    assert not _appended.take_note(new, old)  # already taken
    _appended.note_appended(new, old)
    assert _appended.take_note(new, old)


def test_a_copy_is_known_as_its_source_while_neither_changed_length() -> None:
    source = ["a", "b"]
    copy = list(source)
    _appended.note_copy(copy, source)
    assert _appended.copied_from(copy) is source
    assert _appended.copied_from(list(source)) is None  # an equal list is not the noted copy
    second = list(copy)
    _appended.note_copy(second, copy)
    assert _appended.copied_from(second) is source  # a copy of a copy names the first source
    copy.append("c")
    assert _appended.copied_from(copy) is None  # grown since: nothing is known of it


def test_add_messages_on_a_saver_copy_gives_the_same_history() -> None:
    source = add_messages([], [HumanMessage("a", id="1"), AIMessage("b", id="2")])
    copy = list(source)
    _appended.note_copy(copy, source)
    merged = add_messages(copy, [AIMessage("B", id="2"), HumanMessage("c", id="3")])
    assert [(m.id, m.content) for m in merged] == [("1", "a"), ("2", "B"), ("3", "c")]
    assert [m.content for m in copy] == ["a", "b"]  # the reducer's input is left as it was
    source.append(HumanMessage("x", id="x"))  # the source changed: the copy is read afresh
    again = add_messages(copy, [HumanMessage("d", id="4")])
    assert [m.id for m in again] == ["1", "2", "4"]


def test_sqlite_turns_extend_the_list_the_saver_returned(
    compares: list[int], tmp_path: Path
) -> None:
    with SqliteSaver.from_conn_string(str(tmp_path / "chat.db")) as saver:
        out, config = _chat_turns(saver, compares)
        assert compares == []  # each turn starts from the head's list, which the saver knows
        expected = [text for n in range(6) for text in (f"q {n}", f"answer {n}")]
        assert [m.content for m in out["messages"]] == expected
    with SqliteSaver.from_conn_string(str(tmp_path / "chat.db")) as cold:  # read from bytes
        stored = cold.get_tuple(config)
        assert stored is not None
        assert stored.checkpoint["channel_values"]["messages"] == out["messages"]


def test_a_copy_note_is_dropped_once_taken() -> None:
    source = ["a", "b"]
    copy = list(source)
    _appended.note_copy(copy, source)
    assert _appended.take_copy_source(copy) is source
    assert _appended.copied_from(copy) is None  # taken: the note no longer keeps ``copy`` alive
    assert _appended.take_copy_source(copy) is None


@pytest.mark.parametrize("kind", ["memory", "sqlite"])
def test_a_long_chat_keeps_only_its_newest_histories_alive(kind: str) -> None:
    # Every turn makes a few new history lists (the saver's copy, the reducer's results, their
    # ids). The caches that know them keep the newest of a chat, not the last few dozen: the
    # garbage collector walks every list kept alive, element by element.
    saver = InMemorySaver() if kind == "memory" else SqliteSaver(sqlite3.connect(":memory:"))
    builder = StateGraph(Chat).add_node("step", _answer).add_edge(START, "step")
    graph = builder.add_edge("step", END).compile(checkpointer=saver)
    config: Any = {"configurable": {"thread_id": "long chat"}}
    out = graph.invoke({"messages": [HumanMessage("q 0")], "n": 0}, config)
    first = out["messages"][0]
    for turn in range(1, 40):
        out = graph.invoke({"messages": [HumanMessage(f"q {turn}")]}, config)
    assert len(out["messages"]) == 80
    gc.collect()
    holding = [
        o
        for o in gc.get_objects()
        if type(o) is list and len(o) > 2 and (o[0] is first or o[0] == first.id)
    ]
    assert len(holding) <= 6, sorted(
        map(len, holding)
    )  # was 114: the last 16 turns of histories, ids and copies


def _answer(state: Chat) -> dict[str, Any]:
    return {"messages": [AIMessage(f"answer {state['n']}")], "n": state["n"] + 1}
