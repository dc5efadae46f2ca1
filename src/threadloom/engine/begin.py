"""How a run begins: whether a call is new input, a resume or a replay, and what each does.

- New input: the tasks the thread left pending are discarded, the input is written, and the
  result is saved as an ``"input"`` checkpoint.
- Resume (``None`` or a ``Command`` as input on a thread with a checkpoint, or the same
  ``run_id``): pending null-task writes and the command's writes are applied, the run continues
  the saved step, and tasks that already finished reuse their saved writes (unless the resume
  answers a checkpoint the thread has moved past: they run again).
- Replay (a config naming an older checkpoint, with ``None`` or a ``Command`` that answers no
  interrupt as input): a sibling ``"fork"`` checkpoint is saved, holding the command's writes,
  and that step's tasks run again, so its interrupts fire again.
- Any root run from a named checkpoint that does not answer an interrupt (a replay, or running a
  fork) travels back in time: its subgraphs start from their state before that point
  (``run.replay_from``, see ``engine/loop.py`` ``ReplayBound``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from threadloom.checkpoint.base import WRITES_IDX_MAP
from threadloom.constants import INPUT, INTERRUPT, NULL_TASK_ID, RESUME
from threadloom.engine.core import TaskWrites, command_writes, prepare_tasks
from threadloom.engine.effects import Effect, PutWrites
from threadloom.errors import EmptyInputError, InvalidUpdateError
from threadloom.types import Command

if TYPE_CHECKING:
    from threadloom.engine.run import Run

__all__ = ["begin"]


def begin(run: Run, run_input: Any) -> list[Effect]:
    """Apply the input (new input, resume, replay) to ``run``; return the effects of doing so."""
    effects: list[Effect] = []
    has_saver = run.options.checkpointing
    addressed = bool(run.config.get("configurable", {}).get("checkpoint_id"))
    if isinstance(run_input, Command):
        if run_input.graph == Command.PARENT:
            raise InvalidUpdateError("There is no parent graph")
        if (
            run_input.update is None
            and run_input.resume is None
            and run_input.goto in ((), None, [])
        ):
            raise EmptyInputError(
                "Received empty Command input: give update=, goto= or resume= "
                "(to continue an interrupted run without an answer, pass None as input)"
            )
        if run_input.resume is not None and not has_saver:
            raise RuntimeError("Cannot use Command(resume=...) without checkpointer")
    resuming = run.saved is not None and (
        run_input is None
        or isinstance(run_input, Command)
        or (
            run.config.get("metadata", {}).get("run_id") is not None
            and run.config.get("metadata", {}).get("run_id") == run.metadata.get("run_id")
        )
    )
    replay = (
        resuming
        and addressed
        and not _answers(run_input)
        and not (
            run.metadata.get("source") in ("update", "fork")
            and run.checkpoint["id"] == run.saves.seen_head
        )
    )
    run.resumed = bool(resuming)
    time_travel = resuming and addressed and not _answers(run_input)
    if time_travel and not run.ns:
        run.replay_from = _replay_bound(run)
    if resuming and replay:
        effects += _fork_for_replay(run, run_input)
    elif resuming and time_travel:  # back to a fork, in place: its tasks run and ask again
        run.pending = [w for w in run.pending if w[1] != RESUME]
        effects += _resume(run, run_input)
        run.skip_done = False
    elif resuming:
        effects += _resume(run, run_input)
        # an answer to a checkpoint the thread has moved past reruns the step's finished tasks
        # (they may read what its command changed), as LangGraph does
        run.skip_done = not (addressed and run.checkpoint["id"] != run.saves.seen_head)
    else:
        if run_input is None:
            raise EmptyInputError("Received no input for __start__")
        effects += _new_input(run, run_input)
    return effects


def _answers(run_input: Any) -> bool:
    return isinstance(run_input, Command) and run_input.resume is not None


def _replay_bound(run: Run) -> str:
    """Where a root run going back in time sends its subgraphs: their state before the
    addressed checkpoint, or, from a fork ``update_state`` made, before the checkpoint forked."""
    parent = run.saved.parent_config if run.saved is not None else None
    if run.metadata.get("source") in ("update", "fork") and parent:
        return str(parent["configurable"]["checkpoint_id"])
    return str(run.checkpoint["id"])


def _null_writes(run: Run) -> list[tuple[str, Any]]:
    return [(c, v) for tid, c, v in run.pending if tid == NULL_TASK_ID]


def _resume(run: Run, run_input: Any) -> list[Effect]:
    effects: list[Effect] = []
    null_writes = [(c, v) for c, v in _null_writes(run) if c != RESUME]
    for c, v in _null_writes(run):
        if c == RESUME:
            _set_resume(run, v)
    if isinstance(run_input, Command):
        writes = command_writes(run.plan, run_input)
        if writes and run.options.checkpointing:
            # A checkpoint's input writes accumulate over resumes, as in LangGraph: a saver keys
            # a regular write by its place in the list and keeps the first one saved there, so
            # the earlier ones are saved again first (in their places), the new ones after them,
            # and a resume (keyed by its channel) last, where it takes no place.
            ordered = sorted(writes, key=lambda w: w[0] in WRITES_IDX_MAP)
            save = PutWrites(run.checkpoint_config, [*null_writes, *ordered], NULL_TASK_ID, "")
            if run.saves.at_exit_only:  # as a task's writes: dropped once a checkpoint holds them
                run.saves.exit_writes.append(save)
            else:
                effects.append(save)
        for c, v in writes:
            if c == RESUME:
                _set_resume(run, v)
            else:
                null_writes.append((c, v))
    if null_writes:
        run.apply([TaskWrites("~", INPUT, (), null_writes)])
        run.trigger_hint = None  # earlier triggers may still be pending: look at every node
    _seen_by_breakpoints(run)
    run.skip_done = True
    return effects + run.values_chunks()


def _seen_by_breakpoints(run: Run) -> None:
    """Static breakpoints have seen every current version (a resume passes them). The entry is
    replaced, not changed: a saver may keep the one the last checkpoint holds."""
    seen_all = run.checkpoint["versions_seen"]
    seen = {**seen_all.get(INTERRUPT, {}), **run.checkpoint["channel_versions"]}
    seen_all[INTERRUPT] = run.seen_changed[INTERRUPT] = seen


def _set_resume(run: Run, value: Any) -> None:
    run.resume_value = value
    run.resume_present = True


def _fork_for_replay(run: Run, run_input: Any) -> list[Effect]:
    # re-run the addressed checkpoint's tasks from a sibling copy, so interrupts fire again; a
    # command's writes go into the fork, never onto the addressed checkpoint (a later replay of
    # it would apply them again)
    null_writes = [(c, v) for c, v in _null_writes(run) if c != RESUME]
    if isinstance(run_input, Command):
        null_writes += command_writes(run.plan, run_input)
    if null_writes:
        run.apply([TaskWrites("~", INPUT, (), null_writes)])
        run.trigger_hint = None
    run.pending = []
    # as a resume does: static breakpoints before the addressed tasks do not fire again
    _seen_by_breakpoints(run)
    effects = run.save("fork", run.step, updated=run.checkpoint.get("updated_channels") or ())
    run.step += 1
    return effects + run.values_chunks()


def _new_input(run: Run, run_input: Any) -> list[Effect]:
    writes = []
    if run.saved is not None:  # the tasks the thread left due are discarded (a new thread has none)
        discarded = prepare_tasks(  # the nodes the last step may have triggered, as a tick asks
            run.plan,
            run.checkpoint,
            run.channels,
            run.step,
            run.config,
            ns=run.ns,
            updated_channels=run.trigger_hint,
        )
        writes = [TaskWrites(t.path_str, t.name, t.triggers, ()) for t in discarded.values()]
    writes.append(TaskWrites("~", INPUT, (), run.plan.write_input(run_input)))
    run.updated = run.apply(writes)
    run.trigger_hint = run.updated
    run.pending = []
    effects = run.save("input", run.step, updated=run.updated)
    run.step += 1
    return effects
