"""The short way to end a step whose only task ran inline and returned: one pass, no layers.

Most steps of a chain run one task. The general way records its outcome (``Run.task_finished``:
error, interrupt, chunks per task, where its writes go), then ends the step (``Run.end_step``:
paused, failed, breakpoints after it). When a run streams nothing per task, has no
``interrupt_after`` and saves as it goes (durability ``"sync"``/``"async"``), and the task neither
failed nor paused, all that comes to: hold its writes for the step's checkpoint, apply them, make
and save the checkpoint. ``end_lone_step`` does just that, with the same effects in the same order
(``tests/engine/test_lone_step.py`` runs graphs both ways, ``LONE_STEPS = False`` forcing the
general one). Anything else takes the general way.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from threadloom.engine.core import Task, mark_no_writes
from threadloom.engine.effects import Effect
from threadloom.engine.projection import Projection
from threadloom.engine.untracked import saved_writes

if TYPE_CHECKING:
    from threadloom.engine.run import Run

__all__ = ["LONE_STEPS", "end_lone_step", "takes_lone_steps"]

LONE_STEPS: bool = True
"""Take the short way when a run allows it; False always takes the general way (tests)."""


def takes_lone_steps(out: Projection, interrupt_after: Any, durability: str) -> bool:
    """Whether the one-task steps of a run with these options may end the short way (worked
    out once per set of options: ``RunOptions.lone_steps``; ``LONE_STEPS`` is read per run)."""
    return not (
        interrupt_after or durability == "exit" or out.wants("update") or out.wants("task_end")
    )


def end_lone_step(run: Run, task: Task) -> list[Effect]:
    """``run.task_finished(task, last=True)`` then ``run.end_step()``, for a run that
    ``takes_lone_steps`` and a ``task`` that ran alone, did not fail and did not pause: its
    writes applied, the step's checkpoint made, the effects owed (the save, a values chunk)."""
    writes = mark_no_writes(task.writes)
    saves = run.saves
    if saves.enabled:  # held, to be saved with the step's checkpoint (Saves.hold)
        untracked = run.plan.untracked
        if untracked:
            writes = saved_writes(writes, untracked)
        saves.hold(task.id, task.path_str, writes)
    tasks = run.tasks  # the step's tasks: reused ones too, finished before a stop
    run.updated = run.trigger_hint = updated = run.apply(
        [task] if len(tasks) == 1 else list(tasks.values())
    )
    effects = run.changed_values(updated)
    run.pending = []
    effects += run.save("loop", run.step, updated=updated)
    run.advance()
    return effects
