"""A resume value that fails ``interrupt(response_schema=...)`` raises pydantic's
``ValidationError`` marked so ``is_invalid_resume`` tells it apart (LangGraph 1.2.22's
behaviour); the interrupt stays pending and a valid answer then goes through."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import BaseModel, ValidationError
from typing_extensions import TypedDict

from threadloom.checkpoint.memory import InMemorySaver
from threadloom.errors import is_invalid_resume
from threadloom.graph import START, StateGraph
from threadloom.types import Command, interrupt


class Decision(BaseModel):
    approved: bool


class State(TypedDict):
    answer: Any


def _graph() -> Any:
    def node(state: State) -> dict[str, Any]:
        answer = interrupt("approve?", response_schema=Decision)
        return {"answer": answer.approved}

    builder = StateGraph(State).add_node("node", node).add_edge(START, "node")
    return builder.compile(checkpointer=InMemorySaver())


@pytest.mark.parametrize("by_id", [False, True], ids=["plain", "by_interrupt_id"])
def test_an_invalid_resume_is_marked_and_the_interrupt_stays(by_id: bool) -> None:
    graph, config = _graph(), {"configurable": {"thread_id": "1"}}
    graph.invoke({"answer": None}, config)
    [pending] = graph.get_state(config).tasks[0].interrupts

    def resume(value: dict[str, Any]) -> Command:
        return Command(resume={pending.id: value} if by_id else value)

    with pytest.raises(ValidationError, match="approved") as caught:
        graph.invoke(resume({"approved": "nope"}), config)
    assert is_invalid_resume(caught.value)
    assert graph.get_state(config).tasks[0].interrupts == (pending,)
    assert graph.invoke(resume({"approved": False}), config) == {"answer": False}


def test_other_errors_are_not_invalid_resumes() -> None:
    with pytest.raises(ValidationError) as caught:
        Decision.model_validate({"approved": "nope"})
    assert not is_invalid_resume(caught.value)
    assert not is_invalid_resume(ValueError("nope"))
