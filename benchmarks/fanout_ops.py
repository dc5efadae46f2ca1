"""How much Python a fan-out runs: opcodes and calls per invoke of send200 and func20, counted.

The companion of ``step_ops.py`` for the fan-out workloads of ``workloads.py``: 200 ``Send``s
from START to a worker (with ``InMemorySaver`` and without), and an ``@entrypoint`` making 20
``@task`` calls, each run once under a trace function on every thread. Timings on the shared
container swing more than one change gains; these counts move only by the few opcodes that depend
on which thread took which job. Time spent in C (encoding, dict copies, the garbage collector)
is not counted, so confirm a gain in CPU time too.

    .venv/bin/python benchmarks/fanout_ops.py
    .venv/bin/python benchmarks/fanout_ops.py --by-function 25
    .venv/bin/python benchmarks/fanout_ops.py --fixed --by-file 20
    .venv/bin/python benchmarks/fanout_ops.py --part serde/ --part engine/core.py

``--fixed`` counts what every invoke pays whatever its size instead: a one-node graph (with
``InMemorySaver`` and without) and an entrypoint making one ``@task`` call; ``--by-file`` sums the
opcodes by source file (which part of the engine holds them). ``--kept`` counts, instead of
opcodes, what the garbage collector is left with per invoke: the objects it still tracks after
a few collections (what the saver keeps, traversed again at every collection of their
generation) and the objects only a collection could free (reference cycles).
"""

from __future__ import annotations

import argparse
import gc
import sys
import threading
from collections import Counter
from collections.abc import Callable
from types import FrameType
from typing import Any, TypedDict

from libs import Lib
from workloads import FANOUT, FUNC_TASKS, _fan_graph

LIB = Lib("threadloom")


class Tally:
    """Opcodes and calls by function, counted on every thread while ``on``: one trace function,
    set before any worker thread starts, so the pool's threads (started by the first invoke and
    reused by the others) carry it."""

    def __init__(self) -> None:
        self.on = False
        self.opcodes: Counter[str] = Counter()
        self.calls: Counter[str] = Counter()

    def trace(self, frame: FrameType, event: str, arg: Any) -> Any:
        if not self.on:
            return self.trace
        code = frame.f_code
        where = f"{code.co_filename.rsplit('/src/', 1)[-1]}:{code.co_firstlineno} {code.co_name}"
        if event == "call":
            self.calls[where] += 1
            frame.f_trace_opcodes = True
        elif event == "opcode":
            self.opcodes[where] += 1
        return self.trace

    def count(self, run: Callable[[], Any]) -> tuple[Counter[str], Counter[str]]:
        """Opcodes and calls of one call of ``run``, after one warm-up call."""
        run()
        self.opcodes, self.calls = Counter(), Counter()
        self.on = True
        try:
            run()
        finally:
            self.on = False
        return self.opcodes, self.calls


def send200(checkpointer: Any) -> Callable[[], Any]:
    graph = _fan_graph(LIB, checkpointer)
    start = {"items": list(range(FANOUT)), "results": []}
    threads = iter(range(1_000_000))
    return lambda: graph.invoke(start, {"configurable": {"thread_id": str(next(threads))}})


def func20(lib: Lib = LIB) -> Callable[[], Any]:
    @lib.task
    def double(n: int) -> int:
        return 2 * n

    @lib.entrypoint(checkpointer=lib.InMemorySaver())
    def workflow(count: int) -> list[int]:
        futures = [double(n) for n in range(count)]
        return [f.result() for f in futures]

    threads = iter(range(1_000_000))
    return lambda: workflow.invoke(FUNC_TASKS, {"configurable": {"thread_id": str(next(threads))}})


class _One(TypedDict):
    x: int


def _one_node(state: _One) -> dict[str, int]:
    return {"x": state["x"] + 1}


def one_node(checkpointer: Any) -> Callable[[], Any]:
    """The fixed cost of an invoke: a graph of one node (START -> node -> END)."""
    builder = LIB.StateGraph(_One)
    builder.add_node("node", _one_node)
    builder.add_edge(LIB.START, "node")
    builder.add_edge("node", LIB.END)
    graph = builder.compile(checkpointer=checkpointer)
    threads = iter(range(1_000_000))
    return lambda: graph.invoke({"x": 1}, {"configurable": {"thread_id": str(next(threads))}})


def one_call(lib: Lib = LIB) -> Callable[[], Any]:
    """The fixed cost of a functional invoke: an entrypoint making one ``@task`` call."""

    @lib.task
    def double(n: int) -> int:
        return 2 * n

    @lib.entrypoint(checkpointer=lib.InMemorySaver())
    def workflow(n: int) -> int:
        return double(n).result()

    threads = iter(range(1_000_000))
    return lambda: workflow.invoke(3, {"configurable": {"thread_id": str(next(threads))}})


def kept(run: Callable[[], Any], invokes: int = 20) -> tuple[float, float, Counter[str]]:
    """Per invoke: tracked objects left after collections, objects freed only by a collection,
    and the tracked objects left by type (after two warm-up invokes)."""
    run()
    run()

    def tracked() -> Counter[str]:
        for _ in range(4):  # one level of nested tuples stops being tracked per pass
            gc.collect()
        return Counter(type(o).__name__ for o in gc.get_objects())

    before = tracked()
    gc.disable()
    try:
        cyclic = 0
        for _ in range(invokes):
            run()
            cyclic += gc.collect()
    finally:
        gc.enable()
    left = tracked() - before
    return sum(left.values()) / invokes, cyclic / invokes, left


def by_file(opcodes: Counter[str]) -> Counter[str]:
    """Opcodes summed by source file (the part before ``:line function``)."""
    sums: Counter[str] = Counter()
    for where, n in opcodes.items():
        sums[where.split(":", 1)[0]] += n
    return sums


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--by-function",
        type=int,
        default=0,
        metavar="N",
        help="also list the N functions running the most opcodes, for each workload",
    )
    parser.add_argument(
        "--by-file", type=int, default=0, metavar="N", help="also list the N files running the most"
    )
    parser.add_argument(
        "--fixed", action="store_true", help="count the fixed cost of an invoke instead"
    )
    parser.add_argument(
        "--part",
        action="append",
        default=[],
        metavar="TEXT",
        help="also print the opcodes of the functions whose 'file:line name' contains TEXT "
        "(repeatable; e.g. serde/ or 'core.py'): a part's count is steady where the total "
        "moves by a few thousand with which thread took which job",
    )
    parser.add_argument(
        "--kept",
        action="store_true",
        help="count what the garbage collector is left with per invoke instead of opcodes",
    )
    args = parser.parse_args()
    if args.kept:
        for label, run in {
            "func20 InMemorySaver": func20(),
            "send200 InMemorySaver": send200(LIB.InMemorySaver()),
            "one node InMemorySaver": one_node(LIB.InMemorySaver()),
        }.items():
            left, cyclic, types = kept(run)
            common = ", ".join(f"{name} {n / 20:g}" for name, n in types.most_common(5))
            print(f"{label:24s} {left:7.1f} tracked kept {cyclic:6.1f} in cycles  ({common})")
        return
    tally = Tally()
    threading.settrace(tally.trace)
    sys.settrace(tally.trace)
    if args.fixed:
        workloads = {
            "one node InMemorySaver": one_node(LIB.InMemorySaver()),
            "one node no saver": one_node(None),
            "one @task call": one_call(),
        }
    else:
        workloads = {
            "send200 InMemorySaver": send200(LIB.InMemorySaver()),
            "send200 no saver": send200(None),
            "func20 InMemorySaver": func20(),
        }
    for label, run in workloads.items():
        opcodes, calls = tally.count(run)
        print(
            f"{label:22s} {sum(opcodes.values()):8d} opcodes "
            f"{sum(calls.values()):6d} Python calls per invoke"
        )
        for where, n in opcodes.most_common(args.by_function):
            print(f"  {n:7d} opcodes {calls[where]:5d} calls  {where}")
        for file, n in by_file(opcodes).most_common(args.by_file):
            print(f"  {n:7d} opcodes  {file}")
        for text in args.part:
            part = sum(n for where, n in opcodes.items() if text in where)
            print(f"  {part:7d} opcodes in functions matching {text!r}")


if __name__ == "__main__":
    main()
