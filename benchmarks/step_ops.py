"""How much Python one superstep runs: opcodes and calls per step of chain100, counted exactly.

Timings on the shared 2-core container swing by 10-20% from run to run, more than most single
changes to the step path gain. This counts instead: it runs chain100 (``workloads.py``) once under
a trace function and reports Python opcodes and calls per superstep, the same on every run, so two
versions of the engine compare exactly. It sees only Python work: time spent in C (dict copies,
hashing, clock reads, allocation, the garbage collector) is not counted, so confirm a gain in CPU
time too.

    .venv/bin/python benchmarks/step_ops.py                 # with InMemorySaver and without
    .venv/bin/python benchmarks/step_ops.py --by-function 25
    .venv/bin/python benchmarks/step_ops.py --by-area       # opcodes per step by part of the step
"""

from __future__ import annotations

import argparse
import sys
import threading
from collections import Counter
from types import FrameType
from typing import Any

from libs import Lib
from workloads import CHAIN_LENGTH, _chain_graph


def count(checkpointer: Any) -> tuple[Counter[str], Counter[str]]:
    """Opcodes and calls by function for one chain100 invoke (after one warm-up invoke)."""
    graph = _chain_graph(Lib("threadloom"), checkpointer)
    start = {"count": 0, "last": ""}
    graph.invoke(start, {"configurable": {"thread_id": "warm-up"}})
    opcodes: Counter[str] = Counter()
    calls: Counter[str] = Counter()

    def trace(frame: FrameType, event: str, arg: Any) -> Any:
        code = frame.f_code
        where = f"{code.co_filename.rsplit('/src/', 1)[-1]}:{code.co_firstlineno} {code.co_name}"
        if event == "call":
            calls[where] += 1
            frame.f_trace_opcodes = True
        elif event == "opcode":
            opcodes[where] += 1
        return trace

    threading.settrace(trace)  # a task run on a worker thread counts too
    sys.settrace(trace)
    try:
        graph.invoke(start, {"configurable": {"thread_id": "counted"}})
    finally:
        sys.settrace(None)
        threading.settrace(None)  # type: ignore[arg-type]
    return opcodes, calls


AREAS: tuple[tuple[str, tuple[str, ...]], ...] = (
    (
        "saver call (put_step_diff: rows, header diff, metadata, writes)",
        (
            "checkpoint/memory.py",
            "checkpoint/_memory_steps.py",
            "checkpoint/_put.py",
            "checkpoint/_memory_rows.py",
            "checkpoint/_memory_writes.py",
            "checkpoint/_memory_write_calls.py",
            "checkpoint/_saver_calls.py",
            "checkpoint/_records.py",
            "checkpoint/serde/",
        ),
    ),
    (
        "checkpoint ids, versions, timestamps (next_checkpoint)",
        ("checkpoint/id.py", "checkpoint/base.py", "next_checkpoint", "_now_iso"),
    ),
    ("applying writes (apply_writes, channels)", ("apply_writes", "engine/channels.py", " apply")),
    (
        "preparing the task (prepare_tasks, its config and id)",
        ("prepare_tasks", "StepConfigs", "for_task", "null_version", "engine/ids.py"),
    ),
    (
        "running the node (scratchpad, context, the node, its writes)",
        ("engine/tasks.py", "engine/sync.py", "engine/scratch.py", "graph/", "workloads.py"),
    ),
    (
        "run loop, driver, effects, Saves",
        (
            "engine/loop.py",
            "engine/run.py",
            "engine/lone_step.py",
            "engine/_drive",
            "engine/saves.py",
            "engine/effects",
        ),
    ),
    ("dataclass __init__ (Task, TaskScratchpad, PutStep, ...)", ("<string>",)),
)
"""Parts of a step, each a list of substrings of ``file:line function`` (the first match wins)."""


def by_area(opcodes: Counter[str]) -> dict[str, int]:
    """Opcodes of one invoke summed by ``AREAS`` (the rest under "other")."""
    sums = dict.fromkeys([label for label, _ in AREAS] + ["other"], 0)
    for where, n in opcodes.items():
        label = next((lb for lb, keys in AREAS if any(k in where for k in keys)), "other")
        sums[label] += n
    return sums


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--by-function",
        type=int,
        default=0,
        metavar="N",
        help="also list the N functions running the most opcodes (with a saver)",
    )
    parser.add_argument(
        "--by-area", action="store_true", help="also sum the opcodes by part of the step"
    )
    args = parser.parse_args()
    from threadloom.checkpoint.memory import InMemorySaver

    for label, saver in (("InMemorySaver", InMemorySaver()), ("no saver", None)):
        opcodes, calls = count(saver)
        per_step = CHAIN_LENGTH
        print(
            f"chain100 {label:13s} {sum(opcodes.values()) / per_step:7.0f} opcodes "
            f"{sum(calls.values()) / per_step:6.1f} Python calls per step"
        )
        if args.by_area:
            for area, n in by_area(opcodes).items():
                print(f"  {n / per_step:7.0f} opcodes  {area}")
        if args.by_function and saver is not None:
            for where, n in opcodes.most_common(args.by_function):
                print(
                    f"  {n / per_step:7.1f} opcodes {calls[where] / per_step:5.1f} calls  {where}"
                )


if __name__ == "__main__":
    main()
