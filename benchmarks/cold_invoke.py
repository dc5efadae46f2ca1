"""func20 (and an entrypoint making one call) invoked hot and cold, side by side with LangGraph.

``run.py`` times one invoke per repetition right after ``gc.collect()``, which walks every object
of both libraries and so leaves the CPU caches holding none of the engine's code or data: each
repetition is a cold invoke. Hot (invokes back to back) and cold (each after a 64 MB write that
evicts the caches, the same effect without the collector) differ by far more for a sub-millisecond
invoke than for LangGraph's: this shows how much of ``run.py``'s figure is the cold start rather
than the work, and which part (the fixed cost of a run, or the calls) pays it.

    .bench-venv/bin/python benchmarks/cold_invoke.py
    .bench-venv/bin/python benchmarks/cold_invoke.py --rounds 5 --libs threadloom
    .venv/bin/python benchmarks/cold_invoke.py --touched          # what a cold invoke touches
    .venv/bin/python benchmarks/cold_invoke.py --touched --list   # ... function by function

``--touched`` counts, instead of timing, what one threadloom invoke enters: distinct code objects
(Python functions, comprehensions and generated ``__init__``s each count once however often
they run), their files and the calls, on every thread (``sys.setprofile`` and
``threading.setprofile``), after two warm-up invokes each followed by a pause (so the pool's
workers are idle, as in ``run.py``, and none is started inside the counted invoke). A cold
invoke pays for each distinct function it touches (~2.5 us each, session 12): this count is
steady where cold times are not, but for which thread runs a ``@task`` call (a worker, or the
caller waiting on it), which moves it by a few: take the range of a few runs.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable
from types import CodeType, FrameType
from typing import Any

from fanout_ops import func20, one_call
from libs import Lib

COUNTS = (1, 20)
"""``@task`` calls per invoke: ``fanout_ops.one_call`` (the fixed cost of a run) and ``func20``."""

_EVICT = bytearray(64 * 1024 * 1024)


def evict() -> None:
    """Write one byte per cache line of 64 MB: the caches then hold none of the engine."""
    _EVICT[::64] = b"x" * (len(_EVICT) // 64)


def median_ms(invoke: Callable[[], Any], cold: bool, reps: int) -> float:
    times = []
    for _ in range(reps):
        if cold:
            evict()
        began = time.perf_counter()
        invoke()
        times.append(time.perf_counter() - began)
    return statistics.median(times) * 1e3


def touched(invoke: Callable[[], Any]) -> Counter[CodeType]:
    """The code objects one invoke enters, with how often, on every thread: the profile function
    is set before the warm-ups start the pool's threads, so they carry it."""
    seen: Counter[CodeType] = Counter()
    on = False

    def profile(frame: FrameType, event: str, arg: Any) -> None:
        if on and event == "call":
            seen[frame.f_code] += 1

    threading.setprofile(profile)
    sys.setprofile(profile)
    try:
        for _ in range(2):
            invoke()
            time.sleep(0.05)  # the workers go idle: the counted invoke starts none
        on = True
        invoke()
        on = False
    finally:
        sys.setprofile(None)
        threading.setprofile(None)  # type: ignore[arg-type]
    return seen


def print_touched(listed: bool) -> None:
    for count in COUNTS:
        seen = touched((one_call if count == 1 else func20)(Lib("threadloom")))
        files = {code.co_filename for code in seen}
        print(
            f"{count:2d} call(s): {len(seen)} distinct functions in {len(files)} files, "
            f"{sum(seen.values())} calls"
        )
        if listed:
            for where, n in sorted(
                (f"{c.co_filename.rsplit('site-packages/', 1)[-1].rsplit('/src/', 1)[-1]}"
                 f":{c.co_firstlineno} {c.co_name}", n)
                for c, n in seen.items()
            ):  # fmt: skip
                print(f"    {where} x{n}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3, help="rounds, libraries alternating")
    parser.add_argument("--reps", type=int, default=21, help="invokes per cell and round")
    parser.add_argument("--libs", nargs="+", default=["threadloom", "langgraph"])
    parser.add_argument(
        "--touched", action="store_true", help="count the functions an invoke enters instead"
    )
    parser.add_argument("--list", action="store_true", help="with --touched: list them")
    args = parser.parse_args()
    if args.touched:
        print_touched(args.list)
        return
    invokes = {
        (root, count): (one_call if count == 1 else func20)(Lib(root))
        for root in args.libs
        for count in COUNTS
    }
    for invoke in invokes.values():
        for _ in range(5):
            invoke()
    cells: dict[tuple[str, int, str], list[float]] = {}
    for _ in range(args.rounds):
        for (root, count), invoke in invokes.items():
            for kind in ("hot", "cold"):
                ms = median_ms(invoke, kind == "cold", args.reps)
                cells.setdefault((root, count, kind), []).append(ms)
    print(f"{'library':11s} {'calls':>5s} {'hot ms':>17s} {'cold ms':>17s}  cold/hot")
    for root in args.libs:
        for count in COUNTS:
            hot, cold = cells[root, count, "hot"], cells[root, count, "cold"]
            ratio = statistics.median(cold) / statistics.median(hot)
            print(
                f"{root:11s} {count:5d} {min(hot):7.3f}-{max(hot):<7.3f}   "
                f"{min(cold):7.3f}-{max(cold):<7.3f}  {ratio:5.2f}"
            )


if __name__ == "__main__":
    main()
