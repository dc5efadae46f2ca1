"""How much Python a fan-out runs: opcodes and calls per invoke of send200 and func20, counted.

The companion of ``step_ops.py`` for the fan-out workloads of ``workloads.py``: 200 ``Send``s
from START to a worker (with ``InMemorySaver`` and without), and an ``@entrypoint`` making 20
``@task`` calls, each run once under a trace function on every thread. Timings on the shared
container swing more than one change gains; these counts move only by the few opcodes that depend
on which thread took which job. Time spent in C (encoding, dict copies, the garbage collector)
is not counted, so confirm a gain in CPU time too.

    .venv/bin/python benchmarks/fanout_ops.py
    .venv/bin/python benchmarks/fanout_ops.py --by-function 25
"""

from __future__ import annotations

import argparse
import sys
import threading
from collections import Counter
from collections.abc import Callable
from types import FrameType
from typing import Any

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


def func20() -> Callable[[], Any]:
    @LIB.task
    def double(n: int) -> int:
        return 2 * n

    @LIB.entrypoint(checkpointer=LIB.InMemorySaver())
    def workflow(count: int) -> list[int]:
        futures = [double(n) for n in range(count)]
        return [f.result() for f in futures]

    threads = iter(range(1_000_000))
    return lambda: workflow.invoke(FUNC_TASKS, {"configurable": {"thread_id": str(next(threads))}})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--by-function",
        type=int,
        default=0,
        metavar="N",
        help="also list the N functions running the most opcodes, for each workload",
    )
    args = parser.parse_args()
    tally = Tally()
    threading.settrace(tally.trace)
    sys.settrace(tally.trace)
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


if __name__ == "__main__":
    main()
