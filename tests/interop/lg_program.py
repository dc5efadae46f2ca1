"""LangGraph programs persisting through ``as_langgraph_saver``, one phase per process.

Run as ``python lg_program.py BACKEND WHERE PHASE [--async]``: it runs the phase of every
program, each on its own thread, and prints one JSON line describing the threads after it. The
tests run each phase in a new process, so nothing but the threadloom storage carries a thread
from one phase to the next, and compare with the same phases run on LangGraph's own saver.

Programs (all interrupted in ``start`` and resumed in ``finish``):

- ``graph``: a LangGraph ``StateGraph`` whose subgraph asks for approval with ``interrupt()``;
- ``react``: ``langgraph.prebuilt.create_react_agent`` stopping before its tools;
- ``agent``: LangChain's ``create_agent`` stopping before its tools.

``start`` runs the first input; ``finish`` resumes, then forks from the first step's checkpoint
with ``update_state`` (time travel).
"""

from __future__ import annotations

import asyncio
import json
import sys
import warnings
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

from interop_backends import open_saver
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage
from langchain_core.tools import tool
from langgraph.graph import START, MessagesState, StateGraph
from langgraph.types import Command, interrupt

from threadloom.interop.langgraph import as_langgraph_saver
from threadloom.testing import FakeToolCallingModel, ToolRule


def _config(program: str) -> Any:
    return {"configurable": {"thread_id": program}}  # one thread per program


class State(MessagesState):
    approved: str


def _graph(checkpointer: Any) -> Any:
    def ask(state: State) -> dict[str, Any]:
        answer = interrupt({"question": "approve?", "seen": len(state["messages"])})
        return {"approved": answer}

    review = StateGraph(State)
    review.add_node("ask", ask)
    review.add_edge(START, "ask")

    def draft(state: State) -> dict[str, Any]:
        return {"messages": [AIMessage(f"draft for {state['messages'][-1].content}")]}

    def answer(state: State) -> dict[str, Any]:
        return {"messages": [AIMessage(f"final ({state['approved']})")]}

    builder = StateGraph(State)
    builder.add_node("draft", draft)
    builder.add_node("review", review.compile())
    builder.add_node("answer", answer)
    builder.add_edge(START, "draft")
    builder.add_edge("draft", "review")
    builder.add_edge("review", "answer")
    return builder.compile(checkpointer=checkpointer)


@tool
def get_weather(city: str) -> str:
    """The weather in a city."""
    return f"sunny in {city}"


def _model() -> FakeToolCallingModel:
    return FakeToolCallingModel(
        rules=[ToolRule(r"weather in (?P<city>\w+)", "get_weather", {"city": "{city}"})]
    )


def _react(checkpointer: Any) -> Any:
    from langgraph.prebuilt import create_react_agent

    with warnings.catch_warnings():
        # create_react_agent is deprecated in favour of create_agent; it is still in wide use
        warnings.simplefilter("ignore")
        return create_react_agent(
            _model(), [get_weather], checkpointer=checkpointer, interrupt_before=["tools"]
        )


def _agent(checkpointer: Any) -> Any:
    from langchain.agents import create_agent

    return create_agent(
        _model(), [get_weather], checkpointer=checkpointer, interrupt_before=["tools"]
    )


PROGRAMS: dict[str, Callable[[Any], Any]] = {"graph": _graph, "react": _react, "agent": _agent}

FIRST_INPUT = {
    "graph": {"messages": [HumanMessage("hello", id="h1")]},
    "react": {"messages": [HumanMessage("what is the weather in Paris", id="h1")]},
    "agent": {"messages": [HumanMessage("what is the weather in Paris", id="h1")]},
}

RESUME = {"graph": Command(resume="yes"), "react": None, "agent": None}


def _messages(values: Any) -> list[list[Any]]:
    found: list[BaseMessage] = values.get("messages", [])
    return [
        [m.type, str(m.content), [c["name"] for c in getattr(m, "tool_calls", [])]] for m in found
    ]


def _describe(state: Any, history: list[Any]) -> dict[str, Any]:
    return {
        "values": {k: v for k, v in state.values.items() if k != "messages"},
        "messages": _messages(state.values),
        "next": list(state.next),
        "interrupts": [i.value for t in state.tasks for i in t.interrupts],
        "history": [
            [h.metadata.get("source"), h.metadata.get("step"), list(h.next)] for h in history
        ],
    }


def _first_loop_checkpoint(history: list[Any]) -> Any:
    """The first checkpoint a step made (history is newest first): where the fork starts."""
    return next(h for h in reversed(history) if h.metadata.get("source") == "loop")


FORK = {"messages": [HumanMessage("forked", id="h2")]}


def run_phase_sync(graph: Any, program: str, phase: str) -> dict[str, Any]:
    """``start``: the first input, up to the interrupt; ``finish``: resume, then fork."""
    config = _config(program)
    graph.invoke(FIRST_INPUT[program] if phase == "start" else RESUME[program], config)
    history = list(graph.get_state_history(config))
    result = _describe(graph.get_state(config), history)
    if phase == "finish":
        forked = graph.update_state(_first_loop_checkpoint(history).config, FORK)
        result["fork"] = _messages(graph.get_state(forked).values)
        result["after_fork"] = len(list(graph.get_state_history(config)))
    return result


async def run_phase_async(graph: Any, program: str, phase: str) -> dict[str, Any]:
    """``run_phase_sync`` through LangGraph's async API."""
    config = _config(program)
    await graph.ainvoke(FIRST_INPUT[program] if phase == "start" else RESUME[program], config)
    history = [h async for h in graph.aget_state_history(config)]
    result = _describe(await graph.aget_state(config), history)
    if phase == "finish":
        forked = await graph.aupdate_state(_first_loop_checkpoint(history).config, FORK)
        result["fork"] = _messages((await graph.aget_state(forked)).values)
        result["after_fork"] = len([h async for h in graph.aget_state_history(config)])
    return result


@asynccontextmanager
async def _opened(backend: str, where: str, use_async: bool) -> AsyncIterator[Any]:
    """The checkpointer: a threadloom saver wrapped, or (``langgraph``) LangGraph's own SQLite
    saver, the reference the tests compare with."""
    if backend != "langgraph":
        async with open_saver(backend, where) as saver:
            yield as_langgraph_saver(saver)
    elif use_async:
        from langgraph.checkpoint.sqlite.aio import AsyncSqliteSaver

        async with AsyncSqliteSaver.from_conn_string(where) as reference:
            yield reference
    else:
        from langgraph.checkpoint.sqlite import SqliteSaver

        with SqliteSaver.from_conn_string(where) as reference:
            yield reference


async def main(backend: str, where: str, phase: str, use_async: bool) -> None:
    """Run ``phase`` of every program, each on its own thread of one storage."""
    results: dict[str, Any] = {}
    async with _opened(backend, where, use_async) as checkpointer:
        for program, make in PROGRAMS.items():
            graph = make(checkpointer)
            if use_async:
                results[program] = await run_phase_async(graph, program, phase)
            else:
                results[program] = await asyncio.to_thread(run_phase_sync, graph, program, phase)
    print(json.dumps(results))


if __name__ == "__main__":
    args = [a for a in sys.argv[1:] if a != "--async"]
    asyncio.run(main(*args, use_async="--async" in sys.argv))  # type: ignore[misc]
