"""add_messages and MessagesState: coercion, ids, merge by id, removal, formats, reducer form."""

import inspect
import uuid
from typing import Annotated, Any, get_args, get_origin, get_type_hints

import pytest
from hypothesis import given
from hypothesis import strategies as st
from langchain_core.messages import (
    AIMessage,
    AIMessageChunk,
    BaseMessage,
    HumanMessage,
    HumanMessageChunk,
    RemoveMessage,
    SystemMessage,
    ToolMessage,
)

from threadloom.graph.message import REMOVE_ALL_MESSAGES, MessagesState, add_messages


def history(*ids: str) -> list[BaseMessage]:
    """Alternating human/AI messages with the given ids and content ``c<id>``."""
    return [(HumanMessage if n % 2 == 0 else AIMessage)(f"c{i}", id=i) for n, i in enumerate(ids)]


def summary(messages: list[BaseMessage]) -> list[tuple[str, str | None, Any]]:
    return [(m.type, m.id, m.content) for m in messages]


def is_uuid4(value: str | None) -> bool:
    return value is not None and uuid.UUID(value).version == 4


# --- MessagesState and the public constants --------------------------------------------------


def test_messages_state_uses_add_messages_as_its_reducer() -> None:
    hints = get_type_hints(MessagesState, include_extras=True)
    assert set(hints) == {"messages"}
    assert get_origin(hints["messages"]) is Annotated
    base, reducer = get_args(hints["messages"])
    assert get_origin(base) is list
    assert reducer is add_messages
    assert MessagesState.__required_keys__ == frozenset({"messages"})


def test_remove_all_marker_is_langgraphs_id() -> None:
    assert REMOVE_ALL_MESSAGES == "__remove_all__"


# --- coercion ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected_type", "expected_content"),
    [
        ("hello", "human", "hello"),
        (("user", "hello"), "human", "hello"),
        (("assistant", "hi there"), "ai", "hi there"),
        (("system", "be brief"), "system", "be brief"),
        ({"role": "user", "content": "hello"}, "human", "hello"),
        ({"role": "assistant", "content": "hi"}, "ai", "hi"),
        ({"role": "user", "content": None}, "human", ""),
        (["user", "hello"], "human", "hello"),  # a bare [role, content] item inside the list
    ],
)
def test_message_like_values_become_messages(
    value: Any, expected_type: str, expected_content: str
) -> None:
    # A (role, content) tuple and a dict are single messages; the list form wraps each item.
    right = [value] if isinstance(value, list) else value
    (message,) = add_messages([], right)
    assert isinstance(message, BaseMessage)
    assert (message.type, message.content) == (expected_type, expected_content)
    assert is_uuid4(message.id)


def test_openai_style_dict_keeps_its_id() -> None:
    (message,) = add_messages([], {"role": "assistant", "content": "x", "id": "a1"})
    assert (type(message), message.id) == (AIMessage, "a1")


def test_a_list_of_strings_is_one_human_message_each() -> None:
    merged = add_messages(["first", ("ai", "second")], [])
    assert [(m.type, m.content) for m in merged] == [("human", "first"), ("ai", "second")]


def test_single_messages_on_both_sides_are_wrapped() -> None:
    merged = add_messages(HumanMessage("a", id="1"), AIMessage("b", id="2"))
    assert summary(merged) == [("human", "1", "a"), ("ai", "2", "b")]


def test_chunks_become_full_messages_on_both_sides() -> None:
    merged = add_messages(
        [AIMessageChunk(content="left", id="1")],
        [AIMessageChunk(content="right", id="2"), HumanMessageChunk(content="h", id="3")],
    )
    assert [type(m) for m in merged] == [AIMessage, AIMessage, HumanMessage]
    assert summary(merged) == [("ai", "1", "left"), ("ai", "2", "right"), ("human", "3", "h")]


def test_a_tuple_of_messages_is_a_sequence_of_messages() -> None:
    # Deliberate difference: LangGraph raises TypeError here; a tuple of strings stays one message.
    merged = add_messages([], (HumanMessage("a", id="1"), AIMessage("b", id="2")))
    assert summary(merged) == [("human", "1", "a"), ("ai", "2", "b")]


def test_unsupported_values_fail_with_langchains_coercion_error() -> None:
    with pytest.raises(NotImplementedError, match="Unsupported message type"):
        add_messages([], [1])
    with pytest.raises(ValueError, match="must contain 'role' and 'content'"):
        add_messages([], {"content": "no role"})


def test_ready_messages_pass_through_as_the_same_objects_in_a_new_list() -> None:
    left = history("1", "2", "3")
    right = [AIMessage("new", id="4")]
    merged = add_messages(left, right)
    assert merged is not left
    assert all(a is b for a, b in zip(merged, [*left, *right], strict=True))
    assert summary(left) == [("human", "1", "c1"), ("ai", "2", "c2"), ("human", "3", "c3")]


def test_an_empty_update_returns_an_equal_new_list() -> None:
    left = history("1", "2")
    merged = add_messages(left, [])
    assert merged == left
    assert merged is not left


# --- ids -----------------------------------------------------------------------------------


def test_missing_ids_get_uuid4_on_both_sides_in_place() -> None:
    left = [HumanMessage("a"), AIMessage("b", id="kept")]
    right = [HumanMessage("c")]
    merged = add_messages(left, right)
    assert is_uuid4(left[0].id) and is_uuid4(right[0].id)
    assert left[1].id == "kept"
    assert [m.id for m in merged] == [left[0].id, "kept", right[0].id]
    assert len({m.id for m in merged}) == 3


def test_the_same_object_twice_without_id_is_one_message() -> None:
    message = HumanMessage("twice")
    merged = add_messages([], [message, message])
    assert merged == [message]
    assert is_uuid4(message.id)


def test_an_object_already_in_left_without_id_is_replaced_not_duplicated() -> None:
    # The functional API pattern: save=add_messages(inputs, response) where inputs came back.
    shared = HumanMessage("hi")
    merged = add_messages([shared], [shared])
    assert merged == [shared]


# --- merge by id ------------------------------------------------------------------------------


def test_a_known_id_replaces_in_place_and_a_new_id_is_appended() -> None:
    merged = add_messages(
        history("1", "2", "3"), [AIMessage("edited", id="2"), AIMessage("fresh", id="4")]
    )
    assert summary(merged) == [
        ("human", "1", "c1"),
        ("ai", "2", "edited"),
        ("human", "3", "c3"),
        ("ai", "4", "fresh"),
    ]


def test_a_repeated_new_id_in_one_update_keeps_its_first_position_and_last_value() -> None:
    merged = add_messages(
        history("1"),
        [AIMessage("v1", id="n"), HumanMessage("between", id="m"), AIMessage("v2", id="n")],
    )
    assert summary(merged) == [("human", "1", "c1"), ("ai", "n", "v2"), ("human", "m", "between")]


def test_with_duplicate_ids_in_left_the_last_copy_is_replaced() -> None:
    left = [HumanMessage("a", id="1"), HumanMessage("b", id="1")]
    merged = add_messages(left, [HumanMessage("c", id="1")])
    assert [m.content for m in merged] == ["a", "c"]


def test_many_replacements_in_one_update() -> None:
    # More look-ups than the scan limit: the dict index path gives the same answer.
    ids = [str(n) for n in range(40)]
    right = [AIMessage(f"edit{n}", id=str(n)) for n in range(0, 40, 2)]
    merged = add_messages(history(*ids), right)
    assert [m.id for m in merged] == ids
    assert [m.content for m in merged] == [f"edit{n}" if n % 2 == 0 else f"c{n}" for n in range(40)]


# --- removal -----------------------------------------------------------------------------------


def test_remove_message_deletes_by_id() -> None:
    merged = add_messages(history("1", "2", "3"), [RemoveMessage(id="2")])
    assert [m.id for m in merged] == ["1", "3"]


def test_removing_a_duplicated_id_deletes_every_copy() -> None:
    left = [HumanMessage("a", id="1"), HumanMessage("b", id="1"), HumanMessage("c", id="2")]
    assert [m.id for m in add_messages(left, [RemoveMessage(id="1")])] == ["2"]


def test_remove_then_resend_keeps_the_message_at_its_old_position() -> None:
    # Observed in LangGraph: [RemoveMessage("2"), AIMessage(id="2")] re-adds 2 where it was.
    merged = add_messages(
        history("1", "2", "3"), [RemoveMessage(id="2"), AIMessage("back", id="2")]
    )
    assert summary(merged) == [("human", "1", "c1"), ("ai", "2", "back"), ("human", "3", "c3")]


def test_resend_then_remove_deletes_the_message() -> None:
    # Observed in LangGraph: [AIMessage(id="2"), RemoveMessage("2")] deletes 2.
    merged = add_messages(
        history("1", "2", "3"), [AIMessage("back", id="2"), RemoveMessage(id="2")]
    )
    assert [m.id for m in merged] == ["1", "3"]


def test_a_message_added_and_removed_in_one_update_is_gone() -> None:
    assert add_messages([], [AIMessage("n", id="n"), RemoveMessage(id="n")]) == []


def test_removing_an_unknown_id_fails_with_langgraphs_text() -> None:
    with pytest.raises(ValueError) as caught:
        add_messages(history("1"), [RemoveMessage(id="nope")])
    assert str(caught.value) == (
        "Attempting to delete a message with an ID that doesn't exist ('nope')"
    )


def test_remove_all_keeps_only_what_follows_the_last_marker() -> None:
    left = [HumanMessage("old")]
    right = [
        HumanMessage("x", id="x"),
        RemoveMessage(id=REMOVE_ALL_MESSAGES),
        HumanMessage("y", id="y"),
        RemoveMessage(id=REMOVE_ALL_MESSAGES),
        SystemMessage("z", id="z"),
        HumanMessage("w"),
    ]
    merged = add_messages(left, right)
    assert len(merged) == 2
    assert merged[0].id == "z"
    assert merged[1] is right[5] and is_uuid4(merged[1].id)
    assert is_uuid4(left[0].id)  # ids are still assigned on the dropped side
    assert merged is not right


def test_remove_all_alone_empties_the_history() -> None:
    assert add_messages(history("1", "2"), [RemoveMessage(id=REMOVE_ALL_MESSAGES)]) == []


# --- format="langchain-openai" ----------------------------------------------------------------


def test_openai_format_normalises_content_and_drops_ids() -> None:
    merged = add_messages(
        [HumanMessage("q", id="h")],
        [
            AIMessage([{"type": "text", "text": "hi"}], id="a"),
            AIMessage("", id="t", tool_calls=[{"name": "f", "args": {"x": 1}, "id": "c1"}]),
            ToolMessage("result", tool_call_id="c1", id="r"),
        ],
        format="langchain-openai",
    )
    assert [type(m) for m in merged] == [HumanMessage, AIMessage, AIMessage, ToolMessage]
    assert [m.content for m in merged] == ["q", "hi", "", "result"]
    assert [m.id for m in merged] == [None, None, None, None]  # as observed in LangGraph
    assert isinstance(merged[2], AIMessage)
    assert [(c["name"], c["args"], c["id"]) for c in merged[2].tool_calls] == [
        ("f", {"x": 1}, "c1")
    ]


def test_remove_all_returns_before_formatting() -> None:
    block = [{"type": "text", "text": "hi"}]
    (message,) = add_messages(
        [],
        [RemoveMessage(id=REMOVE_ALL_MESSAGES), AIMessage(block, id="z")],
        format="langchain-openai",
    )
    assert (message.content, message.id) == (block, "z")


def test_an_unknown_format_fails() -> None:
    text = "Unrecognized format='xml'. Expected one of 'langchain-openai', None."
    with pytest.raises(ValueError) as caught:
        add_messages([], ["hi"], format="xml")  # type: ignore[call-overload]
    assert str(caught.value) == text
    with pytest.raises(ValueError) as caught:  # threadloom also refuses it when configured
        add_messages(format="xml")  # type: ignore[call-overload]
    assert str(caught.value) == text


# --- reducer form and argument checks ---------------------------------------------------------


def test_keyword_only_call_returns_a_two_argument_reducer() -> None:
    reducer = add_messages(format="langchain-openai")
    positional = [
        p
        for p in inspect.signature(reducer).parameters.values()
        if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
    ]
    assert [p.name for p in positional] == ["left", "right"]
    merged = reducer([HumanMessage("q", id="h")], [AIMessage([{"type": "text", "text": "a"}])])
    assert [m.content for m in merged] == ["q", "a"]


def test_configured_reducers_alike_are_equal_and_named_like_the_function() -> None:
    # Deliberate difference: LangGraph returns a functools.partial (equal only to itself, no name).
    assert add_messages(format="langchain-openai") == add_messages(format="langchain-openai")
    assert add_messages(format="langchain-openai") != add_messages()
    assert add_messages().__name__ == "add_messages"


def test_plain_default_reducer_from_keyword_call() -> None:
    reducer = add_messages()
    assert [m.id for m in reducer(history("1"), history("2"))] == ["1", "2"]


@pytest.mark.parametrize(
    ("left", "right", "given"),
    [(["hi"], None, "left"), (None, ["hi"], "right")],
)
def test_exactly_one_side_given_fails_with_langgraphs_text(
    left: Any, right: Any, given: str
) -> None:
    with pytest.raises(ValueError) as caught:
        add_messages(left, right)
    assert str(caught.value) == (
        f"Must specify non-null arguments for both 'left' and 'right'. Only received: '{given}'."
    )


def test_keyword_sides_work_like_positional_ones() -> None:
    merged = add_messages(left=history("1"), right=[AIMessage("b", id="2")])
    assert [m.id for m in merged] == ["1", "2"]


def test_functional_api_usage_from_the_persistence_guide() -> None:
    # add_messages as a plain function: previous (saved messages) + new input dicts + a response.
    previous = add_messages([{"role": "user", "content": "hi! I'm bob"}], AIMessage("Hi Bob!"))
    inputs = add_messages(previous, [{"role": "user", "content": "what's my name?"}])
    saved = add_messages(inputs, AIMessage("Bob."))
    assert [(m.type, m.content) for m in saved] == [
        ("human", "hi! I'm bob"),
        ("ai", "Hi Bob!"),
        ("human", "what's my name?"),
        ("ai", "Bob."),
    ]
    assert saved[:2] == previous
    assert all(is_uuid4(m.id) for m in saved)


# --- against a plain model of the rules -------------------------------------------------------


def reference_merge(
    left: list[tuple[str, str]], ops: list[tuple[str, str, str]]
) -> list[tuple[str, str]] | str:
    """The rules of CONTRACT 2.3 step 5-6 written as plainly as possible (ids are given)."""
    merged = list(left)
    doomed: set[str] = set()
    for kind, message_id, content in ops:
        where = [n for n, (i, _) in enumerate(merged) if i == message_id]
        if kind == "remove":
            if not where:
                return "error"
            doomed.add(message_id)
        elif where:
            doomed.discard(message_id)
            merged[where[-1]] = (message_id, content)
        else:
            merged.append((message_id, content))
    return [(i, c) for i, c in merged if i not in doomed]


_ids = st.sampled_from([str(n) for n in range(12)])
_ops = st.lists(
    st.tuples(st.sampled_from(["put", "remove"]), _ids, st.sampled_from(["a", "b", "c"])),
    max_size=15,  # past the scan limit, so both look-up paths are exercised
)


@given(left_ids=st.lists(_ids, max_size=10), ops=_ops)
def test_merge_matches_the_plain_rules(
    left_ids: list[str], ops: list[tuple[str, str, str]]
) -> None:
    left: list[BaseMessage] = [HumanMessage(f"old{i}", id=i) for i in left_ids]
    right: list[BaseMessage] = [
        RemoveMessage(id=i) if kind == "remove" else AIMessage(content, id=i)
        for kind, i, content in ops
    ]
    expected = reference_merge([(i, f"old{i}") for i in left_ids], ops)
    if expected == "error":
        with pytest.raises(ValueError, match="Attempting to delete"):
            add_messages(left, right)
        return
    merged = add_messages(left, right)
    assert [(m.id, m.content) for m in merged] == expected


@given(left_ids=st.lists(_ids, max_size=10), ops=_ops)
def test_one_message_at_a_time_matches_the_plain_rules(
    left_ids: list[str], ops: list[tuple[str, str, str]]
) -> None:
    # A chat turn's updates are one message each, each on the history the last one returned
    # (its ids are known): the same rules, one update at a time.
    merged: list[BaseMessage] = [HumanMessage(f"old{i}", id=i) for i in left_ids]
    expected: list[tuple[str, str]] | str = [(i, f"old{i}") for i in left_ids]
    for kind, i, content in ops:
        assert not isinstance(expected, str)
        expected = reference_merge(expected, [(kind, i, content)])
        update = RemoveMessage(id=i) if kind == "remove" else AIMessage(content, id=i)
        if expected == "error":
            with pytest.raises(ValueError, match="Attempting to delete"):
                add_messages(merged, update)
            return
        merged = add_messages(merged, update)
        assert [(m.id, m.content) for m in merged] == expected


# --- in a graph -------------------------------------------------------------------------------


def test_a_chat_graph_keeps_the_history_across_turns() -> None:
    from threadloom.checkpoint.memory import InMemorySaver
    from threadloom.graph import END, START, StateGraph

    def echo(state: MessagesState) -> dict[str, Any]:
        return {"messages": [AIMessage(f"echo: {state['messages'][-1].content}")]}

    builder = StateGraph(MessagesState)
    builder.add_node("echo", echo)
    builder.add_edge(START, "echo")
    builder.add_edge("echo", END)
    graph = builder.compile(checkpointer=InMemorySaver())
    config = {"configurable": {"thread_id": "chat"}}

    first = graph.invoke({"messages": [("user", "hi")]}, config)
    second = graph.invoke({"messages": "and again"}, config)
    assert [(m.type, m.content) for m in second["messages"]] == [
        ("human", "hi"),
        ("ai", "echo: hi"),
        ("human", "and again"),
        ("ai", "echo: and again"),
    ]
    assert [m.id for m in second["messages"][:2]] == [m.id for m in first["messages"]]
    assert all(is_uuid4(m.id) for m in second["messages"])
    assert graph.get_state(config).values["messages"] == second["messages"]


def test_nodes_remove_messages_and_reset_the_history() -> None:
    from threadloom.checkpoint.memory import InMemorySaver
    from threadloom.graph import START, StateGraph

    class State(MessagesState):
        mode: str

    def prune(state: State) -> dict[str, Any]:
        if state["mode"] == "drop-first":
            return {"messages": [RemoveMessage(id=state["messages"][0].id or "")]}
        return {"messages": [RemoveMessage(id=REMOVE_ALL_MESSAGES), SystemMessage("summary")]}

    builder = StateGraph(State)
    builder.add_node("prune", prune)
    builder.add_edge(START, "prune")
    graph = builder.compile(checkpointer=InMemorySaver())
    config = {"configurable": {"thread_id": "prune"}}

    out = graph.invoke({"messages": ["a", "b", "c"], "mode": "drop-first"}, config)
    assert [m.content for m in out["messages"]] == ["b", "c"]
    out = graph.invoke({"messages": ["d"], "mode": "reset"}, config)
    assert [(m.type, m.content) for m in out["messages"]] == [("system", "summary")]


def test_a_configured_reducer_works_as_a_state_annotation() -> None:
    from typing import TypedDict

    from langchain_core.messages import AnyMessage

    from threadloom.graph import START, StateGraph

    class State(TypedDict):
        messages: Annotated[list[AnyMessage], add_messages(format="langchain-openai")]

    def answer(state: State) -> dict[str, Any]:
        return {"messages": [AIMessage([{"type": "text", "text": "block"}])]}

    builder = StateGraph(State)
    builder.add_node("answer", answer)
    builder.add_edge(START, "answer")
    out = builder.compile().invoke({"messages": [("user", "q")]})
    assert [(m.type, m.content) for m in out["messages"]] == [("human", "q"), ("ai", "block")]


def test_a_returned_history_is_reused_without_losing_correctness() -> None:
    from langchain_core.messages import AIMessage, HumanMessage, RemoveMessage

    from threadloom.graph.message import add_messages

    history = add_messages([HumanMessage("a", id="1")], [AIMessage("b", id="2")])
    grown = add_messages(history, [HumanMessage("c")])  # the known-ids path
    assert [m.id for m in grown[:2]] == ["1", "2"] and grown[2].id is not None
    replaced = add_messages(grown, [AIMessage("B", id="2")])
    assert [m.content for m in replaced] == ["a", "B", "c"]
    removed = add_messages(replaced, [RemoveMessage(id="1")])
    assert [m.id for m in removed] == ["2", grown[2].id]
    # a cached history grown in place is read again, not trusted
    grown.append(AIMessage("d"))
    again = add_messages(grown, [HumanMessage("e")])
    assert all(m.id is not None for m in again) and len(again) == 5
