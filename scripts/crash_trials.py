"""Run kill -9 and resume trials by the thousand (tests/reliability/test_crash_resume.py at scale).

    .venv/bin/python scripts/crash_trials.py --trials 2000 --jobs 2

Every trial runs a graph or a functional run on a durable backend in a worker process, kills it
with SIGKILL (one trial in four at a fixed point, by one of its own nodes; the others at a random
moment of the run), resumes the thread in a new process, and checks the final state, that no
saved step re-ran, and the database (see ``tests/reliability/crash_harness.py``). Prints a summary
per workload and backend; exits 1 if any trial found a problem, keeping its directory.
"""

from __future__ import annotations

import argparse
import multiprocessing
import random
import shutil
import sys
import tempfile
import time
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

HARNESS = Path(__file__).resolve().parent.parent / "tests" / "reliability"


def _harness() -> Any:
    if str(HARNESS) not in sys.path:
        sys.path.insert(0, str(HARNESS))
    import crash_harness

    return crash_harness


def run_share(job: int, trials: list[int], args: argparse.Namespace) -> dict[str, Any]:
    """Run trials ``trials`` (their numbers pick workload, backend and kill) in this process."""
    harness = _harness()
    combos = [(w, b) for w in args.workloads for b in args.backends]
    rng = random.Random(f"{args.seed}-{job}")
    root = Path(tempfile.mkdtemp(prefix=f"crash-trials-{job}-"))
    spans = {}
    for workload, backend in combos:  # how long an uninterrupted run takes, here and now
        whole = harness.run_trial(workload, backend, str(root / f"span-{workload}-{backend}"))
        assert not whole.problems, whole.problems
        spans[workload, backend] = whole.seconds * 1.1
    counts: Counter[str] = Counter()
    failures: list[str] = []
    for number in trials:
        workload, backend = combos[number % len(combos)]
        location = root / f"trial-{number}"
        key = f"{workload}/{backend}"
        if (number // len(combos)) % 4 == 0:
            points = harness.KILL_POINTS[workload]
            point = points[(number // 4) % len(points)]
            outcome = harness.run_trial(workload, backend, str(location), die_at=point)
            counts[f"{key} fixed"] += 1
        else:
            outcome = harness.random_trial(
                workload, backend, str(location), rng, spans[workload, backend]
            )
            counts[f"{key} random"] += 1
        counts[f"{key} killed" if outcome.killed else f"{key} finished first"] += 1
        saved = len(outcome.saved_at_kill - {"@input@"})
        counts[f"{key} killed with {saved} results saved"] += outcome.killed
        if outcome.problems:
            counts[f"{key} PROBLEMS"] += 1
            failures.append(f"trial {number} {key} in {location}: {outcome.problems}")
        else:
            shutil.rmtree(location, ignore_errors=True)
    if not failures:
        shutil.rmtree(root, ignore_errors=True)
    return {"counts": counts, "failures": failures}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=200)
    parser.add_argument("--jobs", type=int, default=1, help="processes running trials at once")
    parser.add_argument("--seed", default="crash")
    parser.add_argument("--workloads", default="graph,functional")
    parser.add_argument("--backends", default="sqlite,aiosqlite")
    args = parser.parse_args()
    args.workloads = args.workloads.split(",")
    args.backends = args.backends.split(",")
    started = time.monotonic()
    shares = [list(range(job, args.trials, args.jobs)) for job in range(args.jobs)]
    # Each job is a fresh single-threaded process; it forks its own workers.
    spawn = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(args.jobs, mp_context=spawn) as pool:
        results = list(pool.map(run_share, range(args.jobs), shares, [args] * args.jobs))
    counts: Counter[str] = sum((r["counts"] for r in results), Counter())
    failures = [line for r in results for line in r["failures"]]
    for key in sorted(counts):
        print(f"{key:50} {counts[key]:6}")
    print(
        f"{args.trials} trials in {time.monotonic() - started:.0f} s, {len(failures)} with problems"
    )
    for line in failures:
        print(line)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
