"""Time the engine workloads on threadloom and on LangGraph in one process and print one table.

Usage (after ``bash benchmarks/setup.sh``)::

    .bench-venv/bin/python benchmarks/run.py                 # every workload
    .bench-venv/bin/python benchmarks/run.py chain100 chat500 --reps 5
    .bench-venv/bin/python benchmarks/run.py --libs threadloom --json out.json

Each figure is the median of the timed repetitions, after warm-up runs. The two libraries take
turns repetition by repetition, so a noisy neighbour on the machine hurts both alike. A library
that fails a workload gets an error in its cell; the run goes on.
"""

from __future__ import annotations

import argparse
import gc
import json
import platform
import sys
import traceback
from dataclasses import dataclass, field
from statistics import median
from typing import Any

from libs import LIBRARIES, Lib
from workloads import WORKLOADS, Metric, Runner, Sample, Workload


@dataclass(slots=True)
class Outcome:
    """What one workload gave on each library: medians by metric, or the error that stopped it."""

    workload: Workload
    figures: dict[str, dict[str, float]] = field(default_factory=dict)
    """library root -> metric name -> median."""
    errors: dict[str, BaseException] = field(default_factory=dict)
    """library root -> the exception that stopped this workload on it."""


def measure(workload: Workload, libs: list[Lib], reps: int, warmups: int) -> Outcome:
    """Prepare, warm up and time ``workload`` on every library, alternating them per repetition."""
    outcome = Outcome(workload)
    runners: dict[str, Runner] = {}
    for lib in libs:
        try:
            runners[lib.root] = workload.prepare(lib)
            for _ in range(warmups):
                runners[lib.root](True)
        except Exception as exc:
            outcome.errors[lib.root] = exc
            runners.pop(lib.root, None)
    samples: dict[str, list[Sample]] = {root: [] for root in runners}
    for rep in range(reps):
        order = list(runners) if rep % 2 == 0 else list(reversed(runners))
        for root in order:
            if root in outcome.errors:
                continue
            gc.collect()  # start each repetition with no garbage left by the other library
            try:
                samples[root].append(runners[root](False))
            except Exception as exc:
                outcome.errors[root] = exc
    for root, taken in samples.items():
        if root not in outcome.errors and taken:
            outcome.figures[root] = {
                m.name: median(s[m.name] for s in taken) for m in workload.metrics
            }
    return outcome


# --- the table ------------------------------------------------------------------------------

_COLUMNS = ("workload", "metric", "unit", "threadloom", "LangGraph", "tl/LG", "target")
_WIDTHS = (12, 16, 9, 11, 11, 7, 20)


def _number(value: float) -> str:
    if value >= 100:
        return f"{value:,.0f}"
    if value >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}"


def _line(cells: tuple[str, ...]) -> str:
    return "  ".join(
        cell.ljust(width) if n < 3 else cell.rjust(width) if n < 6 else cell
        for n, (cell, width) in enumerate(zip(cells, _WIDTHS, strict=True))
    ).rstrip()


def _cell(
    outcome: Outcome, root: str, metric: Metric, notes: list[str]
) -> tuple[str, float | None]:
    if root in outcome.figures:
        value = outcome.figures[root][metric.name]
        return _number(value), value
    if root in outcome.errors:
        exc = outcome.errors[root]
        note = f"[{len(notes) + 1}]"
        if metric is outcome.workload.metrics[0]:
            notes.append(f"{note} {root} {outcome.workload.name}: {type(exc).__name__}: {exc}")
            return f"error {note}", None
        return f"error [{len(notes)}]", None
    return "-", None


def rows(outcome: Outcome, notes: list[str]) -> list[str]:
    """The table lines of one workload; errors become numbered notes appended to ``notes``."""
    lines = []
    for metric in outcome.workload.metrics:
        tl_text, tl = _cell(outcome, "threadloom", metric, notes)
        lg_text, lg = _cell(outcome, "langgraph", metric, notes)
        ratio = f"{tl / lg:.2f}x" if tl is not None and lg else "-"
        target = metric.target
        if target and metric.meets is not None and tl is not None:
            target += "  ok" if metric.meets(tl, lg) else "  MISSED"
        lines.append(
            _line(
                (outcome.workload.name, metric.name, metric.unit, tl_text, lg_text, ratio, target)
            )
        )
    return lines


def _report(outcomes: list[Outcome]) -> dict[str, Any]:
    return {
        o.workload.name: {
            "figures": o.figures,
            "errors": {root: f"{type(e).__name__}: {e}" for root, e in o.errors.items()},
            "units": {m.name: m.unit for m in o.workload.metrics},
        }
        for o in outcomes
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("workloads", nargs="*", metavar="workload", help=", ".join(WORKLOADS))
    parser.add_argument("--reps", type=int, help="timed repetitions (default: per workload)")
    parser.add_argument("--warmup", type=int, default=1, help="warm-up runs (default: 1)")
    parser.add_argument("--libs", nargs="+", choices=LIBRARIES, default=list(LIBRARIES))
    parser.add_argument("--json", metavar="PATH", help="also write the figures as JSON")
    parser.add_argument("-v", "--verbose", action="store_true", help="print full tracebacks")
    args = parser.parse_args(argv)
    unknown = [name for name in args.workloads if name not in WORKLOADS]
    if unknown:
        parser.error(f"unknown workload(s) {unknown!r}; choose from {list(WORKLOADS)!r}")
    chosen = [WORKLOADS[name] for name in args.workloads or WORKLOADS]
    libs = [Lib(root) for root in args.libs]

    print(f"python {platform.python_version()} on {platform.machine()}, {platform.system()}")
    for lib in libs:
        print(f"{lib.display} {lib.version()}")
    print()
    print(_line(_COLUMNS))
    print(_line(tuple("-" * width for width in _WIDTHS)))
    outcomes: list[Outcome] = []
    notes: list[str] = []
    for workload in chosen:
        reps = args.reps or workload.reps
        outcome = measure(workload, libs, reps, args.warmup)
        outcomes.append(outcome)
        for line in rows(outcome, notes):
            print(line, flush=True)
    if notes:
        print()
        print("\n".join(notes))
    if args.verbose:
        for outcome in outcomes:
            for root, exc in outcome.errors.items():
                print(f"\n--- {root} {outcome.workload.name} ---", file=sys.stderr)
                traceback.print_exception(exc, file=sys.stderr)
    if args.json:
        with open(args.json, "w", encoding="utf-8") as out:
            json.dump(_report(outcomes), out, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
