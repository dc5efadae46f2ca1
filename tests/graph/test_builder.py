"""StateGraph construction and compile-time validation (CONTRACT 2.1, 2.2, 2.4, 2.5, 2.7)."""

import operator
from typing import Annotated, Any, TypedDict

import pytest

from threadloom.graph import END, START, StateGraph


class State(TypedDict):
    a: str
    items: Annotated[list[str], operator.add]


def noop(state: State) -> dict[str, Any]:
    return {}


def test_duplicate_node_name_is_rejected() -> None:
    builder = StateGraph(State).add_node("x", noop)
    with pytest.raises(ValueError, match=r"Node `x` already present\."):
        builder.add_node("x", noop)


@pytest.mark.parametrize("name", [START, END])
def test_reserved_node_names(name: str) -> None:
    with pytest.raises(ValueError, match=f"Node `{name}` is reserved."):
        StateGraph(State).add_node(name, noop)


@pytest.mark.parametrize("char", ["|", ":"])
def test_reserved_characters_in_node_names(char: str) -> None:
    with pytest.raises(ValueError, match=f"'\\{char}' is a reserved character"):
        StateGraph(State).add_node(f"a{char}b", noop)


def test_node_named_after_function() -> None:
    builder = StateGraph(State).add_node(noop)
    assert "noop" in builder.nodes


def test_graph_without_entry_edge_fails_at_compile() -> None:
    builder = StateGraph(State).add_node("x", noop)
    with pytest.raises(ValueError, match="Graph must have an entrypoint"):
        builder.compile()


def test_edge_to_unknown_node_fails_at_compile() -> None:
    builder = StateGraph(State).add_node("x", noop).add_edge(START, "x").add_edge("x", "nope")
    with pytest.raises(ValueError, match="Found edge ending at unknown node `nope`"):
        builder.compile()


def test_edge_from_unknown_node_fails_at_compile() -> None:
    builder = StateGraph(State).add_node("x", noop).add_edge(START, "x").add_edge("ghost", "x")
    with pytest.raises(ValueError, match="Found edge starting at unknown node 'ghost'"):
        builder.compile()


def test_end_cannot_start_and_start_cannot_end() -> None:
    builder = StateGraph(State).add_node("x", noop)
    with pytest.raises(ValueError, match="END cannot be a start node"):
        builder.add_edge(END, "x")
    with pytest.raises(ValueError, match="START cannot be an end node"):
        builder.add_edge("x", START)


def test_join_edge_requires_known_nodes() -> None:
    builder = StateGraph(State).add_node("x", noop)
    with pytest.raises(ValueError, match="Need to add_node `q` first"):
        builder.add_edge(["x", "q"], END)


@pytest.mark.parametrize("starts", [[START], [START, "x"]])
def test_join_edge_refuses_start_and_names_the_entry_edge(starts: list[str]) -> None:
    builder = StateGraph(State).add_node("x", noop).add_node("y", noop)
    with pytest.raises(ValueError, match=r"START cannot be one of a join's start nodes") as info:
        builder.add_edge(starts, "y")
    assert "add_edge(START, 'y')" in str(info.value)
    assert not builder.waiting_edges


def test_branch_path_map_with_unknown_target_fails_at_compile() -> None:
    def cond(state: State) -> str:
        return "a"

    builder = StateGraph(State).add_node("x", noop).add_edge(START, "x")
    builder.add_conditional_edges("x", cond, {"a": "nope"})
    with pytest.raises(ValueError, match="At 'x' node, 'cond' branch found unknown target 'nope'"):
        builder.compile()


def test_duplicate_branch_name() -> None:
    def cond(state: State) -> str:
        return END

    builder = StateGraph(State).add_node("x", noop)
    builder.add_conditional_edges("x", cond)
    with pytest.raises(ValueError, match="Branch with name `cond` already exists for node `x`"):
        builder.add_conditional_edges("x", cond)


def test_interrupt_node_must_exist() -> None:
    builder = StateGraph(State).add_node("x", noop).add_edge(START, "x")
    with pytest.raises(ValueError, match="Interrupt node `nope` not found"):
        builder.compile(interrupt_before=["nope"])


def test_invalid_checkpointer_type() -> None:
    builder = StateGraph(State).add_node("x", noop).add_edge(START, "x")
    with pytest.raises(TypeError, match="Invalid checkpointer provided"):
        builder.compile(checkpointer="memory")


def test_bad_reducer_signature() -> None:
    def one_arg(a: list[str]) -> list[str]:
        return a

    class Bad(TypedDict):
        x: Annotated[list[str], one_arg]

    with pytest.raises(ValueError, match=r"Invalid reducer signature. Expected \(a, b\) -> c"):
        StateGraph(Bad)


def test_conflicting_channel_types_across_schemas() -> None:
    class A(TypedDict):
        k: Annotated[list[str], operator.add]

    class B(TypedDict):
        k: Annotated[list[str], lambda a, b: b + a]

    StateGraph(A, input_schema=B)  # lambdas compare equal to anything

    def other(a: list[str], b: list[str]) -> list[str]:
        return a

    class C(TypedDict):
        k: Annotated[list[str], other]

    with pytest.raises(ValueError, match="Channel 'k' already exists with a different type"):
        StateGraph(A, input_schema=C)


def test_add_sequence() -> None:
    def first(state: State) -> dict[str, Any]:
        return {"items": ["first"]}

    def second(state: State) -> dict[str, Any]:
        return {"items": ["second"]}

    builder = StateGraph(State).add_sequence([first, second]).add_edge(START, "first")
    assert builder.compile().invoke({"a": "x"})["items"] == ["first", "second"]
    with pytest.raises(ValueError, match=r"Sequence requires at least one node\."):
        StateGraph(State).add_sequence([])
    with pytest.raises(ValueError, match="provide them as tuples"):
        StateGraph(State).add_sequence([first, first])
