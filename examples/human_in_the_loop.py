"""Pause a run for a person's approval, then resume it where it stopped.

A node calls ``interrupt()`` with what needs approving; the run stops and the thread waits in its
checkpointer. Later (another request, another process with a shared saver) the caller resumes
it with ``Command(resume=answer)``: the node runs again from the top and ``interrupt`` returns the
answer.

Run: ``python examples/human_in_the_loop.py``.
"""

from __future__ import annotations

from typing import TypedDict

from threadloom.checkpoint.memory import InMemorySaver
from threadloom.graph import START, StateGraph
from threadloom.types import Command, interrupt


class Refund(TypedDict, total=False):
    amount: int
    approved: bool
    status: str


def review(state: Refund) -> dict[str, object]:
    answer = interrupt({"question": f"Refund {state['amount']} EUR?", "options": ["yes", "no"]})
    return {"approved": answer == "yes"}


def settle(state: Refund) -> dict[str, object]:
    return {"status": "paid" if state["approved"] else "declined"}


def build() -> object:
    builder = StateGraph(Refund)
    builder.add_node("review", review)
    builder.add_node("settle", settle)
    builder.add_edge(START, "review")
    builder.add_edge("review", "settle")
    return builder.compile(checkpointer=InMemorySaver())


def main() -> None:
    graph = build()
    config = {"configurable": {"thread_id": "refund-42"}}
    paused = graph.invoke({"amount": 120}, config)  # type: ignore[attr-defined]
    [question] = paused["__interrupt__"]
    print("paused, waiting for:", question.value)
    print("next:", graph.get_state(config).next)  # type: ignore[attr-defined]
    done = graph.invoke(Command(resume="yes"), config)  # type: ignore[attr-defined]
    print("resumed:", done)


if __name__ == "__main__":
    main()
