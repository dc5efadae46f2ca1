"""Machine instructions per chain100 superstep, counted by valgrind: C work included.

``step_ops.py`` counts Python opcodes, which leaves out what runs in C: allocation, dict and
tuple building, string formatting, float repr, the garbage collector. On this container those
are a large part of a step with a saver (session 10: a saver step ran 36% more opcodes than a
step without, but 51% more instructions), and CPU time swings too much to see a 3% cut. This
runs chain100 under valgrind twice, with ``--few`` and ``--few + 10`` invokes after one warm-up,
and divides the difference by the 1,000 extra steps: startup and imports cancel out. The same
code gives the same count within ~0.1% (uuids and random version suffixes differ per run;
``PYTHONHASHSEED`` is fixed). About a minute and a half per count.

    .venv/bin/python benchmarks/step_instr.py                  # InMemorySaver, then none
    .venv/bin/python benchmarks/step_instr.py --saver none
    PYTHONPATH=/path/to/other/src .venv/bin/python benchmarks/step_instr.py   # another version

valgrind must be installed (``apt-get install valgrind``). Only threadloom is imported: the graph
is chain100's (``workloads.py``), built here without ``libs.Lib``.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
from pathlib import Path

CHAIN = """
import sys
from typing import TypedDict
from threadloom.graph import StateGraph, START, END
from threadloom.checkpoint.memory import InMemorySaver
class S(TypedDict):
    count: int
    last: str
def node(n):
    def step(state):
        return {"count": state["count"] + 1, "last": f"node{n}"}
    return step
builder = StateGraph(S)
names = [f"node{n}" for n in range(100)]
for n, name in enumerate(names):
    builder.add_node(name, node(n))
for a, b in zip([START, *names], [*names, END]):
    builder.add_edge(a, b)
graph = builder.compile(checkpointer=InMemorySaver() if sys.argv[1] == "saver" else None)
graph.invoke({"count": 0, "last": ""}, {"configurable": {"thread_id": "warm-up"}})
for i in range(int(sys.argv[2])):
    graph.invoke({"count": 0, "last": ""}, {"configurable": {"thread_id": f"t{i}"}})
"""

VALGRIND = ("valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null")
EXTRA_INVOKES = 10
STEPS = 100  # chain100's supersteps per invoke


def instructions(saver: str, invokes: int) -> int:
    """Instructions valgrind counts for a whole process running ``invokes`` chain100 invokes."""
    env = {**os.environ, "PYTHONHASHSEED": "0"}
    done = subprocess.run(
        [*VALGRIND, sys.executable, "-c", CHAIN, saver, str(invokes)],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    found = re.search(r"Collected : (\d+)", done.stderr)
    if found is None:
        raise SystemExit(f"no count in valgrind's output:\n{done.stderr[-2000:]}")
    return int(found.group(1))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--saver", choices=["both", "saver", "none"], default="both")
    parser.add_argument("--few", type=int, default=2, help="invokes of the shorter run")
    args = parser.parse_args()
    import threadloom

    print(f"threadloom from {Path(threadloom.__file__).parent}")
    for saver in ("saver", "none") if args.saver == "both" else (args.saver,):
        few = instructions(saver, args.few)
        more = instructions(saver, args.few + EXTRA_INVOKES)
        label = "InMemorySaver" if saver == "saver" else "no saver"
        per_step = (more - few) / (EXTRA_INVOKES * STEPS)
        print(f"chain100 {label:13s} {per_step:9,.0f} instructions per step")


if __name__ == "__main__":
    main()
