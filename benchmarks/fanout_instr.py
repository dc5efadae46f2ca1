"""Machine instructions (and, with ``--cache``, cache misses) per cold invoke of func20, send200
and a one-call entrypoint, counted by valgrind: the sibling of ``step_instr.py`` for ``run.py``'s
fan-out workloads.

The whole process is counted twice, with ``--few`` and ``--few + --extra`` invokes back to back:
the difference over the extra invokes is one invoke's work, startup and imports cancelled out.
Instructions are steady to ~0.5% (which thread takes which job varies a little). ``run.py``
times one invoke right after ``gc.collect()``, so each timed invoke starts with caches that hold
none of the engine (``cold_invoke.py``): ``--cold --cache`` does the same and simulates the
caches (I1/D1 and last-level misses per invoke). The collection is then counted too (~37M
instructions a collection with LangGraph imported: it swamps the instruction count, not the
misses the invoke after it pays), and a count takes minutes. ``--evict`` empties the caches with
a 64 MB write instead (``cold_invoke.py``'s ``evict``): the last-level misses of the invoke
after it (``ILmr``, ``DLmr``: fetches from memory, what a cold invoke waits on) are then its own,
once the write's own counts (workload ``nothing``) are taken away.

    .venv/bin/python benchmarks/fanout_instr.py                       # all three
    .venv/bin/python benchmarks/fanout_instr.py func20 --cache
    .venv/bin/python benchmarks/fanout_instr.py func20 one_call nothing --evict --cache
    .venv/bin/python benchmarks/fanout_instr.py func20 one_call nothing --evict --cache --waiter
    PYTHONPATH=/path/to/other/src .venv/bin/python benchmarks/fanout_instr.py   # another version

valgrind must be installed (``apt-get install valgrind``). Only threadloom is imported.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
from pathlib import Path

PROGRAM = """
import gc, sys
sys.path.insert(0, sys.argv[3])
if sys.argv[5] == "waiter":
    import threadloom.engine.sync
    threadloom.engine.sync._MAX_WORKERS = 0  # no call-lane worker: every call run by its waiter
from fanout_ops import func20, one_call, send200, LIB
make = {"func20": func20, "one_call": one_call,
        "send200": lambda: send200(LIB.InMemorySaver()),
        "send200_none": lambda: send200(None),
        "nothing": lambda: lambda: None}[sys.argv[1]]
invoke = make()
invoke()
cold = sys.argv[4]
evicted = bytearray(64 * 1024 * 1024)
for _ in range(int(sys.argv[2])):
    if cold == "cold":
        gc.collect()
    elif cold == "evict":
        evicted[::64] = b"x" * (len(evicted) // 64)
    invoke()
"""

WORKLOADS = ("func20", "send200", "one_call")
EVENTS = ("Ir", "I1mr", "D1mr", "D1mw", "ILmr", "DLmr", "DLmw")


def counts(
    workload: str, invokes: int, cache: bool, cold: str, waiter: bool = False
) -> dict[str, int]:
    """valgrind's totals for a process running ``invokes`` cold invokes of ``workload``."""
    env = {**os.environ, "PYTHONHASHSEED": "0"}
    tool = ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null"]
    if cache:
        tool.append("--cache-sim=yes")
    here = str(Path(__file__).parent)
    done = subprocess.run(
        [
            *tool,
            sys.executable,
            "-c",
            PROGRAM,
            workload,
            str(invokes),
            here,
            cold,
            "waiter" if waiter else "workers",
        ],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    events = re.search(r"Events    : (.+)", done.stderr)
    found = re.search(r"Collected : (.+)", done.stderr)
    if found is None:
        raise SystemExit(f"no count in valgrind's output:\n{done.stderr[-2000:]}")
    names = events.group(1).split() if events else ["Ir"]
    return dict(zip(names, map(int, found.group(1).split()), strict=True))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "workloads", nargs="*", help=f"of {WORKLOADS}, send200_none and nothing (no invoke)"
    )
    parser.add_argument("--few", type=int, default=2, help="invokes of the shorter run")
    parser.add_argument("--extra", type=int, default=10, help="invokes the longer run adds")
    parser.add_argument("--cache", action="store_true", help="simulate the caches too")
    parser.add_argument(
        "--cold", action="store_true", help="a gc.collect() before each invoke, as run.py"
    )
    parser.add_argument(
        "--evict",
        action="store_true",
        help="a 64 MB write before each invoke instead (cold_invoke.py's evict): with --cache, "
        "the misses of a cold invoke without the collector's; subtract workload 'nothing' "
        "(the write alone)",
    )
    parser.add_argument(
        "--waiter",
        action="store_true",
        help="no call-lane worker: each @task call runs in the thread that waits on it (func20 "
        "and one_call only; natively ~599 of 600 calls run so in run.py, where under valgrind's "
        "thread scheduling workers take many and the counts move with them)",
    )
    args = parser.parse_args()
    import threadloom

    print(f"threadloom from {Path(threadloom.__file__).parent}")
    for workload in args.workloads or WORKLOADS:
        cold = "evict" if args.evict else "cold" if args.cold else "hot"
        few = counts(workload, args.few, args.cache, cold, args.waiter)
        more = counts(workload, args.few + args.extra, args.cache, cold, args.waiter)
        per = {k: (more[k] - few[k]) / args.extra for k in more}
        shown = "  ".join(f"{k} {per[k]:,.0f}" for k in EVENTS if k in per)
        print(f"{workload:12s} per {cold} invoke: {shown}")


if __name__ == "__main__":
    main()
