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
    """What one workload gave on each library: medians by metric, or the errors that stopped it."""

    workload: Workload
    figures: dict[str, dict[str, float]] = field(default_factory=dict)
    """library root -> metric name -> median."""
    errors: dict[tuple[str, str], BaseException] = field(default_factory=dict)
    """(library root, part) -> the exception that stopped that part on that library."""


def measure(workload: Workload, libs: list[Lib], reps: int, warmups: int) -> Outcome:
    """Build, warm up and time every part of ``workload`` on every library.

    The libraries take turns repetition by repetition (and swap who goes first), so a noisy
    neighbour on the machine hurts both alike.
    """
    outcome = Outcome(workload)
    runners: dict[tuple[str, str], Runner] = {}
    for lib in libs:
        try:
            parts = workload.prepare(lib)
        except Exception as exc:
            outcome.errors.update({(lib.root, m.source): exc for m in workload.metrics})
            continue
        for part, build in parts.items():
            try:
                runner = build()
                for _ in range(warmups):
                    runner(True)
            except Exception as exc:
                outcome.errors[lib.root, part] = exc
            else:
                runners[lib.root, part] = runner
    samples: dict[tuple[str, str], list[Sample]] = {key: [] for key in runners}
    for rep in range(reps):
        keys = list(runners) if rep % 2 == 0 else list(reversed(runners))
        for key in keys:
            if key in outcome.errors:
                continue
            gc.collect()  # start each repetition without the other library's garbage
            try:
                samples[key].append(runners[key](False))
            except Exception as exc:
                outcome.errors[key] = exc
    for metric in workload.metrics:
        for (root, part), taken in samples.items():
            if part == metric.source and (root, part) not in outcome.errors and taken:
                figures = outcome.figures.setdefault(root, {})
                figures[metric.name] = median(sample[metric.name] for sample in taken)
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
    outcome: Outcome, root: str, metric: Metric, notes: dict[tuple[str, str, str], int]
) -> tuple[str, float | None]:
    value = outcome.figures.get(root, {}).get(metric.name)
    if value is not None:
        return _number(value), value
    if (root, metric.source) in outcome.errors:
        # One note per failed part, however many metrics it would have given.
        number = notes.setdefault((outcome.workload.name, root, metric.source), len(notes) + 1)
        return f"error [{number}]", None
    return "-", None


def rows(outcome: Outcome, notes: dict[tuple[str, str, str], int]) -> list[str]:
    """The table lines of one workload; each failed part gets a number in ``notes``."""
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
            "errors": {
                f"{root} {part}": f"{type(e).__name__}: {e}" for (root, part), e in o.errors.items()
            },
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
    notes: dict[tuple[str, str, str], int] = {}
    for workload in chosen:
        reps = args.reps or workload.reps
        outcome = measure(workload, libs, reps, args.warmup)
        outcomes.append(outcome)
        for line in rows(outcome, notes):
            print(line, flush=True)
    if notes:
        print()
    failures = {
        (o.workload.name, root, part): e for o in outcomes for (root, part), e in o.errors.items()
    }
    for (name, root, part), number in notes.items():
        exc = failures[name, root, part]
        print(f"[{number}] {root} {name} ({part}): {type(exc).__name__}: {exc}")
        if args.verbose:
            traceback.print_exception(exc, file=sys.stderr)
    if args.json:
        with open(args.json, "w", encoding="utf-8") as out:
            json.dump(_report(outcomes), out, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
