"""Per-step cost of a callback handler: a 10-node chain with and without ``config["callbacks"]``.

    .bench-venv/bin/python benchmarks/callbacks.py            # both libraries, 7 repetitions
    .bench-venv/bin/python benchmarks/callbacks.py --reps 15  # more
    .bench-venv/bin/python benchmarks/callbacks.py --libs threadloom

Each repetition invokes the graph 20 times (200 supersteps) without a checkpointer; the figure is
the median over repetitions of µs per superstep. With a handler, every node is a run reported to
it (start and end), as LangSmith or Langfuse would receive it; the handler only counts, so what is
measured is the library's own cost of building the run tree. The libraries alternate repetition by
repetition, and each first checks the handler saw one run per node plus the graph run.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path
from typing import Any

from langchain_core.callbacks import BaseCallbackHandler
from typing_extensions import TypedDict

sys.path.insert(0, str(Path(__file__).resolve().parent))
from libs import LIBRARIES, Lib

NODES = 10
INVOKES = 20


class State(TypedDict):
    n: int


class Counter(BaseCallbackHandler):
    """Counts chain runs started and ended; does nothing else."""

    def __init__(self) -> None:
        self.starts = self.ends = 0

    def on_chain_start(self, *args: Any, **kwargs: Any) -> None:
        self.starts += 1

    def on_chain_end(self, *args: Any, **kwargs: Any) -> None:
        self.ends += 1


def build(lib: Lib) -> Any:
    builder = lib.StateGraph(State)
    previous = lib.START
    for i in range(NODES):
        name = f"node{i}"
        builder.add_node(name, lambda s: {"n": s["n"] + 1})
        builder.add_edge(previous, name)
        previous = name
    builder.add_edge(previous, lib.END)
    return builder.compile()


def runner(lib: Lib, with_handler: bool) -> Any:
    graph = build(lib)
    counter = Counter()
    config = {"callbacks": [counter]} if with_handler else None
    assert graph.invoke({"n": 0}, config) == {"n": NODES}
    if with_handler:  # one run per node and the graph's own
        assert (counter.starts, counter.ends) == (NODES + 1, NODES + 1), vars(counter)

    def once() -> float:
        start = time.perf_counter()
        for _ in range(INVOKES):
            graph.invoke({"n": 0}, config)
        return (time.perf_counter() - start) / (INVOKES * NODES) * 1e6

    return once


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=7)
    parser.add_argument("--libs", nargs="*", default=list(LIBRARIES))
    args = parser.parse_args()
    cases = [(Lib(root), handler) for root in args.libs for handler in (False, True)]
    runners = {(lib.root, handler): runner(lib, handler) for lib, handler in cases}
    for run in runners.values():
        run()  # warm-up
    times: dict[tuple[str, bool], list[float]] = {key: [] for key in runners}
    for _ in range(args.reps):
        for key, run in runners.items():
            times[key].append(run())
    print(f"{'library':<12} {'callbacks':<10} {'µs/step':>9}")
    for (root, handler), values in times.items():
        label = "handler" if handler else "none"
        print(f"{Lib(root).display:<12} {label:<10} {statistics.median(values):>9.1f}")
    if {"threadloom", "langgraph"} <= set(args.libs):
        ours = statistics.median(times["threadloom", True])
        theirs = statistics.median(times["langgraph", True])
        verdict = "ok" if ours <= theirs / 3 else "MISSED"
        print(f"with a handler: threadloom / LangGraph = {ours / theirs:.2f}x "
              f"(target <= 0.33x: {verdict})")  # fmt: skip


if __name__ == "__main__":
    main()
