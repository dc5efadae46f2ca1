"""Behavioural diff: the same random graphs on threadloom and on LangGraph, outputs compared.

Not a speed benchmark, but it needs LangGraph, so it lives here (run it with `.bench-venv`). Each
seed builds a small graph (plain nodes, Command routing, interrupts, Send fan-outs, conditional and
parallel edges), runs it on a checkpointer, resumes it until it is done, and records every stream
chunk, snapshot and the history. The two libraries must agree, except for the order of chunks that
parallel tasks of one step emit (thread timing), which is normalised away.

    .bench-venv/bin/python benchmarks/behaviour_diff.py            # seeds 0-199
    .bench-venv/bin/python benchmarks/behaviour_diff.py 0 1000
"""

from __future__ import annotations

import importlib
import json
import operator
import random
import sys
from collections.abc import Callable
from types import SimpleNamespace
from typing import Annotated, Any, TypedDict


class State(TypedDict, total=False):
    log: Annotated[list[str], operator.add]
    last: str
    n: int


def load(root: str) -> SimpleNamespace:
    """The names a graph needs, from ``threadloom`` or ``langgraph``."""
    graph = importlib.import_module(f"{root}.graph")
    types = importlib.import_module(f"{root}.types")
    memory = importlib.import_module(f"{root}.checkpoint.memory")
    return SimpleNamespace(
        StateGraph=graph.StateGraph,
        START=graph.START,
        END=graph.END,
        Command=types.Command,
        Send=types.Send,
        interrupt=types.interrupt,
        InMemorySaver=memory.InMemorySaver,
    )


def plain(value: Any) -> Any:
    """JSON-able form of an output: interrupts by value, other objects by type name."""
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    if type(value).__name__ == "Interrupt":
        return {"interrupt": plain(value.value)}
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return type(value).__name__


def build(lib: SimpleNamespace, seed: int) -> Any:
    rng = random.Random(seed)
    names = [f"n{i}" for i in range(rng.randint(2, 6))]
    kinds = ["plain"] + [rng.choice(["plain", "plain", "cmd", "ask", "send"]) for _ in names[1:]]
    builder = lib.StateGraph(State)
    for i, (name, kind) in enumerate(zip(names, kinds, strict=True)):
        builder.add_node(name, _node(lib, names, i, kind))
    wire(lib, builder, rng, names, kinds)
    return builder.compile(checkpointer=lib.InMemorySaver())


def wire(
    lib: SimpleNamespace,
    builder: Any,
    rng: random.Random,
    names: list[str],
    kinds: list[str],
    side_ok: Callable[[int], bool] = lambda i: True,
) -> None:
    """The edges of a chain of ``names``: a ``cmd`` node routes itself, a ``send`` node fans out
    to the next, others go to the next by a conditional edge or a plain one, with now and then
    a side edge to the one after (when ``side_ok(i)``: they run in one step)."""
    builder.add_edge(lib.START, names[0])
    for i, name in enumerate(names[:-1]):
        if kinds[i] == "cmd":
            continue
        if kinds[i] == "send":
            target = names[i + 1]
            builder.add_conditional_edges(
                name, lambda s, t=target: [lib.Send(t, {"arg": k}) for k in range(2)]
            )
        elif rng.random() < 0.3 and i + 2 < len(names):
            a, b = names[i + 1], names[i + 2]
            builder.add_conditional_edges(
                name, lambda s, a=a, b=b: a if len(s.get("log", [])) % 2 else b
            )
        else:
            builder.add_edge(name, names[i + 1])
            if rng.random() < 0.3 and i + 2 < len(names) and side_ok(i):
                builder.add_edge(name, names[i + 2])


def _node(lib: SimpleNamespace, names: list[str], i: int, kind: str) -> Any:
    name = names[i]

    def node(state: Any) -> Any:
        if kind == "cmd":
            target = names[(i + 1) % len(names)] if state.get("n", 0) < 3 else lib.END
            return lib.Command(update={"log": [name], "n": state.get("n", 0) + 1}, goto=target)
        if kind == "ask":
            return {"log": [f"{name}:{lib.interrupt(f'{name}?')}"], "last": name}
        if "arg" in state:
            return {"log": [f"{name}<{state['arg']}"]}
        return {"log": [name], "last": name}

    return node


def run(lib: SimpleNamespace, seed: int) -> list[Any]:
    graph = build(lib, seed)
    config = {"configurable": {"thread_id": "t"}, "recursion_limit": 30}
    record: list[Any] = []
    modes = ["updates", "values"]
    try:
        record.append(_chunks(graph.stream({"log": []}, config, stream_mode=modes)))
        for attempt in range(3):
            state = graph.get_state(config)
            record.append([state.values, state.next, [t.name for t in state.tasks]])
            if not state.next:
                break
            pending = state.interrupts
            if pending:
                answer: Any = f"a{attempt}"
                if len(pending) > 1:
                    answer = {i.id: f"a{attempt}" for i in pending}
                resume = graph.stream(lib.Command(resume=answer), config, stream_mode=modes)
            else:
                resume = graph.stream(None, config, stream_mode=modes)
            record.append(_chunks(resume))
        record.append(
            [
                [s.metadata["step"], s.metadata["source"], s.next]
                for s in graph.get_state_history(config)
            ]
        )
    except Exception as exc:  # both libraries must fail the same way
        record.append(["error", type(exc).__name__])
    return plain(record)  # type: ignore[no-any-return]


def _chunks(stream: Any) -> list[str]:
    """Chunks as JSON; within one step (between values chunks) the order is not compared."""
    out: list[str] = []
    step: list[str] = []
    for mode, payload in stream:
        text = json.dumps(plain([mode, payload]), sort_keys=True)
        if mode == "values" and not (isinstance(payload, dict) and "__interrupt__" in payload):
            out += sorted(step)
            step = []
            out.append(text)
        else:
            step.append(text)
    return out + sorted(step)


def main() -> int:
    first, last = (int(a) for a in sys.argv[1:3]) if len(sys.argv) > 2 else (0, 200)
    ours, theirs = load("threadloom"), load("langgraph")
    differ = [seed for seed in range(first, last) if run(ours, seed) != run(theirs, seed)]
    print(f"{last - first} random graphs, {len(differ)} differ: {differ[:20]}")
    return 1 if differ else 0


if __name__ == "__main__":
    sys.exit(main())
