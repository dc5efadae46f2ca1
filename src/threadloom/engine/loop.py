"""The run loop: the order of a run's stages, as one generator of effects both drivers wait on.

``run_loop`` is the whole of a run as the drivers see it: connect the live sinks, load the
thread, apply the input, then superstep after superstep start the tasks, take each outcome as it
arrives, end the step; last, what is owed on exit. It yields effects (``engine/effects.py``) and
receives their results, and never waits itself, so it is tested by sending it fake results
(``tests/engine/test_loop.py``). What each stage does to the run is ``engine/run.py``.
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Iterable, Iterator
from functools import partial
from typing import Any, Final

from langchain_core.runnables import RunnableConfig

from threadloom.checkpoint.base import CheckpointTuple
from threadloom.constants import (
    CONFIG_KEY_CHECKPOINTER,
    CONFIG_KEY_REPLAY,
    CONFIG_KEY_RESUMING,
    NS_END,
)
from threadloom.engine import lone_step
from threadloom.engine.calls import CallSite, new_call_site
from threadloom.engine.core import Task
from threadloom.engine.drain import drained_error
from threadloom.engine.effects import (
    NEXT_DONE,
    NEXT_READY,
    STEP_TIMED_OUT,
    CancelTasks,
    Effect,
    Emit,
    Flush,
    GetTuple,
    ListTuples,
    PutWrites,
    RunStopped,
    StartTasks,
    Wire,
)
from threadloom.engine.lone_step import end_lone_step
from threadloom.engine.output import SUBGRAPH_CHUNK, StreamRelay
from threadloom.engine.run import Run
from threadloom.engine.snapshot import addressed
from threadloom.engine.stream_handlers import attach_stream_handlers
from threadloom.engine.tasks import TaskRunner
from threadloom.errors import GraphBubbleUp, GraphInterrupt, StepTimeoutError, is_invalid_resume

__all__ = ["Loaded", "ReplayBound", "load_thread", "run_loop"]

_build: Final = tuple.__new__
"""``_build(NamedTupleClass, (field, ...))``: a named tuple without its Python ``__new__``."""

RECORD_BATCHES: bool = True
"""Record the returned tasks of a batch that came back together at once when the run allows
(``Run.record_returned``); False: one by one (tests compare both)."""

_NONE_ARRIVED: Iterator[Any] = iter(())
"""An exhausted iterator: no task sent back by a ``NextDone`` waits to be taken."""

Loaded = tuple[CheckpointTuple | None, str | None]
"""The checkpoint a run starts from (the head, or the one the config names) and the head's id."""


class ReplayBound:
    """The checkpoint a root run travels back to, shared with every subgraph run inside it.

    A subgraph's namespace may hold checkpoints made after that point (``checkpointer=True``
    keeps one history per thread): the first time a subgraph runs during the replay it starts
    from its latest checkpoint before the bound (none: a fresh start), with its input, so its
    nodes and interrupts run again as they did then. Later runs of it (a loop) continue its head.
    """

    __slots__ = ("_visited", "checkpoint_id")

    def __init__(self, checkpoint_id: str) -> None:
        self.checkpoint_id = checkpoint_id
        self._visited: set[str] = set()

    def first_visit(self, ns: str) -> bool:
        """Whether a subgraph at ``ns`` runs for the first time (task ids do not count)."""
        stable = ns.rsplit(NS_END, 1)[0]
        if stable in self._visited:
            return False
        self._visited.add(stable)
        return True


def load_thread(config: RunnableConfig) -> Generator[Effect, Any, Loaded]:
    """Read the thread's head, and the checkpoint ``config`` names when it names one (or, for a
    subgraph of a root run that travels back in time, its checkpoint from before that point)."""
    configurable = config["configurable"]
    head = yield GetTuple(addressed(config, head=True))
    head_id = head.checkpoint["id"] if head else None
    if configurable.get("checkpoint_id"):
        return (yield GetTuple(config)), head_id
    bound = configurable.get(CONFIG_KEY_REPLAY)
    if isinstance(bound, ReplayBound) and bound.first_visit(str(configurable["checkpoint_ns"])):
        configurable[CONFIG_KEY_RESUMING] = False  # it starts over from there, with its input
        before: RunnableConfig = {"configurable": {"checkpoint_id": bound.checkpoint_id}}
        found = yield ListTuples(addressed(config, head=True), None, before, 1)
        return (found[0] if found else None), head_id
    return head, head_id


def run_loop(
    run: Run, runner: TaskRunner, start: list[Effect], relay: StreamRelay | None = None
) -> Generator[Effect, Any, None]:
    """Run ``run`` to its end (or an interrupt); every wait and every save is an effect.

    Stopped by its consumer (``RunStopped`` thrown in: a cancel, ``aclose()``, a ``break``), it
    saves the writes it holds for the step's checkpoint (the last task's) before it ends, so a
    resume does not run that task again, and with durability ``"exit"`` what the run owes at its
    end (its last checkpoint and the writes made since), as LangGraph does.
    """
    try:
        yield from _stages(run, runner, start, relay)
    except RunStopped:
        # a for loop, not ``yield from``: the driver sends back what each save returned
        for effect in [*run.saves.release(run.checkpoint_config), *run.saves.at_exit()]:  # noqa: UP028
            yield effect
        raise


def _stages(
    run: Run, runner: TaskRunner, start: list[Effect], relay: StreamRelay | None
) -> Generator[Effect, Any, None]:
    yield Wire(_connector(run, runner, relay))
    for effect in start:
        yield effect
    options = run.options  # (what the loop decides per run is worked out per set of options)
    step_timeout, inline_ok = options.step_timeout, options.inline_ok
    call_sites = _call_sites(run)
    lone_steps = lone_step.LONE_STEPS and options.lone_steps
    quiet = RECORD_BATCHES and options.quiet_outcomes
    held: list[Effect] = []  # a step's end chunks, out once the next step is prepared: as in
    # LangGraph, a failure preparing it (a node's input failing validation) drops them
    while run.status == "pending":
        tasks, effects = run.tick()
        if run.saves.held_input is not None:  # the input's save, held for step 0's (saves.py)
            effects = [*run.saves.at_first_tick(tasks, effects), *effects]
        for effect in (*held, *effects):
            yield effect
        held = []
        if run.out_of_steps is not None:
            raise run.out_of_steps
        if tasks is None:
            break
        runner.new_step(run.checkpoint["id"], call_sites)
        # a lone task run inline comes back at once (None: each comes back by a NEXT_DONE)
        finished = yield _build(  # (StartTasks, every field in order, without its __new__)
            StartTasks, (tasks, runner, inline_ok and len(tasks) == 1, step_timeout)
        )
        inline = finished is not None  # LangGraph streams a lone task's chunks with the next step
        if inline and lone_steps and finished.error is None and not finished.paused:
            # (most steps of a chain) the step ends the short way: engine/lone_step.py
            yield from _ended(run, held, partial(end_lone_step, run, finished))
            continue
        if inline and finished.error is None:
            # the lone task of the step ran inline and did not fail (most steps of a chain):
            # nothing to wait for, cancel or hand to an error handler
            for effect in run.task_finished(finished, last=True):
                if type(effect) is Emit:
                    held.append(effect)
                else:
                    yield effect
            remaining = 0
        else:
            remaining = len(tasks)
        # the step's tasks that have not reported, named if the step times out (only then)
        waiting = None if step_timeout is None else {t.id: t for t in tasks}
        failed = False
        arrived: Iterator[Any] = _NONE_ARRIVED  # tasks sent back together, not taken yet
        while remaining:
            if finished is not None:
                task, finished = finished, None
            else:
                while (task := next(arrived, None)) is None:
                    # the tasks finished by now come back together; a task already finished
                    # joins the writes waiting to be saved; else they are saved (one call)
                    # before the run waits
                    done = yield NEXT_READY if run.saves.ready else NEXT_DONE
                    if not done:
                        for effect in run.saves.flush():
                            yield effect
                        done = yield NEXT_DONE
                    if quiet and waiting is None:  # those that returned, but the step's last,
                        # recorded as one batch (the rest one by one, below)
                        count, effects = run.record_returned(done, remaining - 1)
                        if count:
                            remaining -= count
                            done = done[count:]
                            for effect in effects:
                                yield effect
                    arrived = iter(done)
            remaining -= 1
            if waiting is not None:
                if task is STEP_TIMED_OUT:
                    yield from _timed_out(run, waiting.values())
                del waiting[task.id]
            if (error := task.error) is not None:
                if (handler := run.handle_failure(task)) is not None:
                    for effect in run.task_finished(task):
                        yield effect
                    for effect in run.saves.flush():
                        yield effect
                    if waiting is not None:
                        waiting[handler.id] = handler
                    remaining += 1  # the handler runs in the failed task's place, in this step
                    finished = yield StartTasks([handler], runner, inline_ok and remaining == 1)
                    continue
                # a refused resume value fails the run, but the answered siblings finish (their
                # side effects are done once; as in LangGraph): stop them only for a real
                # failure; a Command for a graph above (from a worker) is raised once the
                # siblings finish
                stops = not isinstance(error, GraphBubbleUp)
                if stops and not failed and not is_invalid_resume(error):
                    failed = True  # the siblings that can still be stopped never report
                    remaining -= yield CancelTasks(task)
            effects = run.task_finished(task, last=not remaining)
            if effects:  # (none for most tasks of a run that streams no update)
                for effect in effects:
                    if inline and type(effect) is Emit:
                        held.append(effect)
                    else:
                        yield effect
        for effect in run.saves.flush():  # (none when the step's checkpoint holds them)
            yield effect
        yield from _ended(run, held, run.end_step)
    for effect in (*held, *run.exit_effects()):
        yield effect
    yield Flush()
    if run.errors:
        raise run.errors[0].error  # type: ignore[misc]
    if run.status == "drained" and run.control is not None:
        raise drained_error(run.control)
    if run.ns and (run.at_breakpoint() or (run.status == "interrupted" and not run.interrupts)):
        # a subgraph's breakpoint pauses the task that runs it; so does one deeper down, which
        # paused our task with no interrupt to carry up in our values
        raise GraphInterrupt()


def _ended(
    run: Run, held: list[Effect], end: Callable[[], Iterable[Effect]]
) -> Generator[Effect, Any, None]:
    """End the step (``end``: the general way or the short one): its stream chunks are added to
    ``held`` (out once the next step is prepared), its other effects go out now. If ending
    fails (applying the writes raised ``InvalidUpdateError``), every write is saved and every
    finished task's update streamed before the error goes up (docs/differences.md 32); with
    durability ``"exit"``, so is the run's last checkpoint, as when a node fails."""
    try:
        ended = end()
    except BaseException:
        # a for loop, not ``yield from``: the driver sends back what each save returned
        saves = (*run.saves.release(run.checkpoint_config), *run.saves.at_exit())
        for effect in (*saves, *held):
            yield effect
        raise
    for effect in ended:
        if type(effect) is Emit:
            held.append(effect)
        else:
            yield effect


def _timed_out(run: Run, unfinished: Iterable[Task]) -> Generator[Effect, Any, None]:
    """The step ran past ``step_timeout``: stop its tasks, save what is held, fail the run."""
    names = sorted(t.name for t in unfinished)
    yield CancelTasks(None)
    run.status = "failed"
    yield from run.saves.release(run.checkpoint_config)
    raise StepTimeoutError(run.step, run.options.step_timeout or 0.0, names)


def _connector(
    run: Run, runner: TaskRunner, relay: StreamRelay | None
) -> Callable[
    [Callable[[tuple[str, Any]], None], Callable[[PutWrites], Any], Callable[..., Any]], None
]:
    out = run.out

    def connect(
        put: Callable[[tuple[str, Any]], None],
        save: Callable[[PutWrites], Any],
        call: Callable[..., Any],
    ) -> None:
        if out.live:  # (most runs stream nothing from inside a task: no writer, no handlers)
            writer = out.sink("custom", put)
            if writer is not None:
                runner.writer = writer
            attach_stream_handlers(run.config, out, runner, put, relay)  # type: ignore[arg-type]
        if relay is not None:  # subgraphs forward their chunks into this run's stream
            relay.put = lambda ns, mode, payload: put((SUBGRAPH_CHUNK, (ns, mode, payload)))
        runner.put_chunk, runner.save_writes, runner.start_call = put, save, call

    return connect


def _call_sites(run: Run) -> Callable[[TaskRunner], CallSite]:
    """Builds the step's call site for functional ``@task`` calls, the first time one is made
    (given the runner, never holding it: the runner holds this builder)."""

    def make(runner: TaskRunner) -> CallSite:
        saving = run.options.checkpointing
        save = runner.save_writes
        if saving and run.options.durability == "exit":  # kept for the save at the run's end,
            # so a resume reuses a finished call's result (as LangGraph)
            save = lambda effect: run.saves.exit_writes.append(effect)  # noqa: E731
        return new_call_site(
            run.call_site(),
            runner,
            run.out,
            run.options.stream_keys,
            run.checkpoint_config if saving else None,
            save,
            run.config["configurable"].get(CONFIG_KEY_CHECKPOINTER),
        )

    return make
