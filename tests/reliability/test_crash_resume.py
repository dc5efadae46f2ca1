"""kill -9 in the middle of runs, resume in a new process: nothing lost, nothing finished re-run.

Each durable backend (``crash_harness.BACKENDS``) runs a graph (a chain and a fan-out of three
parallel nodes) and a functional run (``@entrypoint`` with parallel ``@task``s): killed by one of
its own nodes at fixed points, and at random moments. ``scripts/crash_trials.py`` runs the same
trials by the thousand; see docs/durability.md.
"""

from __future__ import annotations

import multiprocessing
import random
from pathlib import Path

import pytest
from crash_harness import (
    BACKENDS,
    INPUT,
    KILL_POINTS,
    THREAD,
    WORKLOADS,
    random_trial,
    reference_state,
    run_trial,
    statements_of_a_run,
)

from threadloom.checkpoint.memory import InMemorySaver

RANDOM_TRIALS = 4  # per workload and backend; the script runs thousands
SEED = 7

CASES = [(workload, backend) for workload in WORKLOADS for backend in BACKENDS]


@pytest.mark.parametrize(
    ("workload", "backend", "kill_point"),
    [(w, b, point) for w, b in CASES for point in KILL_POINTS[w]],
    ids=lambda v: v[0].strip("@") if isinstance(v, tuple) else v,
)
def test_killed_at_a_fixed_point(
    workload: str, backend: str, kill_point: tuple[str, str | None], tmp_path: Path
) -> None:
    outcome = run_trial(workload, backend, str(tmp_path), die_at=kill_point)
    assert outcome.killed
    assert outcome.problems == []
    node, saved_peer = kill_point
    assert node not in outcome.saved_at_kill  # it died before its result could be saved
    if saved_peer is not None:  # a parallel task that finished first keeps its saved result
        assert saved_peer in outcome.saved_at_kill


@pytest.mark.parametrize(("workload", "backend"), CASES)
def test_killed_at_random_moments(workload: str, backend: str, tmp_path: Path) -> None:
    whole = run_trial(workload, backend, str(tmp_path / "whole"))
    assert not whole.killed and whole.problems == []
    rng = random.Random(f"{SEED}-{workload}-{backend}")
    for trial in range(RANDOM_TRIALS):
        outcome = random_trial(workload, backend, str(tmp_path / str(trial)), rng, whole.seconds)
        assert outcome.problems == [], (trial, outcome)


STATEMENT_TRIALS = 4  # random kill points in the saver's statements, per workload and backend


@pytest.mark.parametrize("backend", ["sqlite", "aiosqlite"])
@pytest.mark.parametrize("workload", list(WORKLOADS))
def test_killed_at_random_statements_of_the_saver(
    workload: str, backend: str, tmp_path: Path
) -> None:
    """Killed as the SQLite saver starts a statement picked at random among those of a whole run
    (inside a save's transaction, between a step's writes and its checkpoint, ...): no step is
    half saved, nothing saved runs again, and the resumed run ends as an uninterrupted one."""
    total = statements_of_a_run(workload, backend, str(tmp_path / "count"))
    assert total > 10  # the run saves step by step: there are points to kill it at
    rng = random.Random(f"{SEED}-statements-{workload}-{backend}")
    points = sorted(rng.sample(range(1, total + 1), STATEMENT_TRIALS))
    for point in points:
        outcome = run_trial(workload, backend, str(tmp_path / str(point)), die_at_statement=point)
        # how parallel tasks' writes are batched varies from run to run, and so does the count
        # of statements (by up to a fifth): the first half is reached by every run
        assert outcome.killed or point > total // 2, point
        assert outcome.problems == [], (point, outcome)


def test_reference_is_what_an_uninterrupted_run_computes() -> None:
    """The expected state is real work of the workload, not a constant."""
    graph = reference_state("graph")
    assert graph["log"][0] == INPUT["log"][0] and len(graph["log"]) == 8
    assert graph["log"][3:6] == ["@c1@", "@c2@", "@c3@"]  # parallel writes in a fixed order
    assert [item.split("@")[1] for item in reference_state("functional")] == [
        "t1",
        "t2",
        "t3",
        "t4",
        "t5",
    ]


def _run_in_child(queue: multiprocessing.Queue[object]) -> None:
    runnable = WORKLOADS["graph"][0](InMemorySaver())
    runnable.invoke(INPUT, THREAD)
    queue.put(runnable.get_state(THREAD).values)


def test_a_process_forked_after_a_run_can_run_graphs() -> None:
    """The engine's shared worker pool is recreated in a forked child (it has none of the
    parent's threads); before, the child's first run waited forever."""
    reference_state("graph")  # a run in this process: the shared pool exists now
    context = multiprocessing.get_context("fork")
    queue: multiprocessing.Queue[object] = context.Queue()
    child = context.Process(target=_run_in_child, args=(queue,), daemon=True)
    child.start()
    child.join(30)
    assert child.exitcode == 0
    assert queue.get(timeout=5) == reference_state("graph")
