"""The state of one run of a plan on one thread, and what each stage of a superstep does to it.

``engine/begin.py``'s ``begin`` applies the input to a run (new input, resume or replay), ``tick``
prepares a superstep, ``task_finished`` records each task's outcome, ``end_step`` applies the step
and makes the next checkpoint, ``exit_effects`` says what is owed when the run stops. Every method
returns *effects* (save this checkpoint, save these writes, emit this chunk) instead of doing I/O.
The order of the stages is the run loop's (``engine/loop.py``); the superstep rules are the pure
functions of ``engine/core.py``; which chunks an event becomes is ``engine/projection.py``'s
table; what the saver is owed, and when, is ``engine/saves.py``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from typing import Any, Literal

from langchain_core.runnables import RunnableConfig

from threadloom.checkpoint._put import RunAddress
from threadloom.checkpoint.base import (
    Checkpoint,
    CheckpointTuple,
    empty_checkpoint,
)
from threadloom.constants import (
    CONFIG_KEY_PARENT_CHECKPOINT,
    CONFIG_KEY_RESUMING,
    CONTROL_CHANNELS,
    ERROR,
    INTERRUPT,
    NS_END,
    NULL_TASK_ID,
    RESUME,
)
from threadloom.engine import stream
from threadloom.engine.checkpoints import (
    channels_from_checkpoint,
    copy_checkpoint_for_run,
    next_checkpoint,
    null_version,
)
from threadloom.engine.core import (
    StepConfigs,
    Task,
    TaskWrites,
    apply_writes,
    is_finished,
    mark_no_writes,
    prepare_tasks,
    read_channels,
)
from threadloom.engine.effects import Effect
from threadloom.engine.error_handler import error_handler_task
from threadloom.engine.options import RunOptions
from threadloom.engine.plan import Plan
from threadloom.engine.projection import InterruptEvent, Projection, task_update
from threadloom.engine.saves import Saves
from threadloom.engine.snapshot import outcomes_by_task, with_checkpoint_map
from threadloom.engine.untracked import saved_writes
from threadloom.errors import (
    ErrorCode,
    GraphBubbleUp,
    GraphRecursionError,
    SavedTaskError,
    create_error_message,
)
from threadloom.runtime import RunControl
from threadloom.types import Interrupt

__all__ = ["Run"]

NextVersion = Callable[[Any], Any]
Status = Literal[
    "pending", "done", "interrupt_before", "interrupt_after", "interrupted", "failed", "drained"
]


# --- a run --------------------------------------------------------------------------------------


class Run:
    """One invoke/stream of a plan on one thread: a state machine the drivers step through."""

    def __init__(
        self,
        plan: Plan,
        config: RunnableConfig,
        options: RunOptions,
        next_version: NextVersion,
        *,
        saved: CheckpointTuple | None,
        head_id: str | None,
        ns: str = "",
    ) -> None:
        self.plan = plan
        self.config = config
        self.options = options
        self.next_version = next_version
        self.ns = ns
        self.status: Status = "pending"
        self.saved = saved
        self.checkpoint: Checkpoint = (
            copy_checkpoint_for_run(saved.checkpoint) if saved else empty_checkpoint()
        )
        self.metadata: dict[str, Any] = dict(saved.metadata) if saved else {"step": -2}
        self.pending: list[tuple[str, str, Any]] = list(saved.pending_writes or []) if saved else []
        self.channels = channels_from_checkpoint(plan, self.checkpoint)
        self.step = int(self.metadata.get("step", -2)) + 1
        self.stop = self.step + options.recursion_limit + 1
        self.tasks: dict[str, Task] = {}
        self.skip_done = False
        self.updated: set[str] | None = None
        """Channels the last applied step made available (what the next tick may trigger)."""
        # A loop checkpoint's updated channels name every trigger it left pending; one made by
        # update_state or replay may leave older triggers pending too, so look at every node.
        self.trigger_hint: Iterable[str] | None = (
            self.checkpoint.get("updated_channels")
            if self.metadata.get("source") == "loop"
            else None
        )
        versions = self.checkpoint["channel_versions"]
        self._max_version: Any = max(versions.values()) if versions else None
        self._changed: dict[str, Any] = {}
        """Channels given a new version since the last checkpoint was made, with that version
        (the ``new_versions`` of the next ``put``)."""
        self.seen_changed: dict[str, Any] = {}
        """Nodes whose ``versions_seen`` entry was replaced since the last checkpoint was made,
        with their new entry: with ``_changed``, how the next checkpoint's header differs from
        its parent's (``PutStep.seen_changes``)."""
        self._live_ephemeral: set[str] | None = None
        self._checkpoint_config: tuple[str, RunnableConfig] | None = None
        self._step_configs: StepConfigs | None = None
        """What the tasks' configs copy of the run's config, made again when that changes."""
        self._values_owed = False
        self.resumed = False
        """Whether this run continues the thread's pending work (a resume or a replay)."""
        self.replay_from: str | None = None
        """Set when a root run goes back in time: the checkpoint before which its subgraphs find
        the state they start from."""
        self.out: Projection = options.projection
        """Which chunks this run's events become."""
        self._parent_of_current: str | None = (
            saved.parent_config["configurable"]["checkpoint_id"]
            if saved and saved.parent_config
            else None
        )
        parent = config.get("configurable", {}).get(CONFIG_KEY_PARENT_CHECKPOINT)
        self._parents: dict[str, str] = dict(parent) if parent else {}
        """``metadata.parents``: the checkpoint of every enclosing graph, by namespace."""
        configurable = dict(config.get("configurable", {}))
        configurable["checkpoint_ns"] = ns
        self.saves = Saves(
            enabled=options.checkpointing,
            at_exit_only=options.durability == "exit",
            address=RunAddress({**config, "configurable": configurable}),
            parent_id=saved.checkpoint["id"] if saved else None,
            seen_head=head_id,
            start_id=saved.checkpoint["id"] if saved else None,
            start_versions=saved.checkpoint["channel_versions"] if saved else {},
            merge_input=options.saves_steps_at_once
            and not (plan.is_functional or plan.start_routes),
        )
        """What the saver is owed, and when."""
        self.resume_value: Any = None
        self.resume_present = False
        self.out_of_steps: GraphRecursionError | None = None
        """Set by the tick past ``recursion_limit``: the error the run raises."""
        self.resume_box: Any = None
        """The ``ResumeBox`` this run made (None in a child, which shares its parent's)."""
        self.interrupts: list[Interrupt] = []
        self.paused = False
        """A task of this step paused (``interrupt()``, or a subgraph's static breakpoint)."""
        self.errors: list[Task] = []
        self.control: RunControl | None = None
        """The run's ``RunControl``: a drain request stops the run before its next superstep."""
        # worked out once per set of options (``RunOptions``)
        self._stream_key_set = options.stream_key_set
        self._wants_values = self.out.wants("values")
        self._ephemeral_output = options.ephemeral_output
        self._plain_tick = options.plain_tick

    # the checkpoint the current tasks run from, as a saver config
    @property
    def checkpoint_config(self) -> RunnableConfig:
        checkpoint_id = self.checkpoint["id"]
        cached = self._checkpoint_config
        if cached is not None and cached[0] == checkpoint_id:
            return cached[1]
        thread_id = self.config.get("configurable", {}).get("thread_id")
        config: RunnableConfig = {
            "configurable": {
                "thread_id": thread_id,
                "checkpoint_ns": self.ns,
                "checkpoint_id": checkpoint_id,
            }
        }
        self._checkpoint_config = (checkpoint_id, config)
        return config

    def apply(self, writes: Sequence[TaskWrites | Task]) -> set[str]:
        """Apply writes to the run's version dicts, in place: the checkpoints this run made share
        them, and a saver is handed what changed (``PutStep.seen_changes``) or a copy, never these
        dicts to keep (``engine/saves.py``)."""
        version = self.next_version(self._max_version)
        changed = self._changed
        updated = apply_writes(
            self.plan,
            self.checkpoint,
            self.channels,
            writes,
            self.next_version,
            new_version=version,
            live_ephemeral=self._live_ephemeral,
            bumped=changed,
            seen_changed=self.seen_changed,
        )
        if version in changed.values():  # some channel took it: the newest version now
            self._max_version = version
        live = updated & self.plan.ephemeral
        for w in writes:  # a loop, not any(generator): once a step
            if w.triggers:
                self._live_ephemeral = live
                break
        else:
            if self._live_ephemeral is not None:
                self._live_ephemeral |= live
        return updated

    # --- saving ----------------------------------------------------------------------------------

    def save(self, source: str, step: int, *, updated: Iterable[str]) -> list[Effect]:
        """Make the next checkpoint from the channels; the saver effects it is owed."""
        if not self.saves.at_exit_only:
            # (with durability "exit" nothing is saved during the run: the checkpoints it shows
            # keep the parent of the one it started from, as LangGraph shows them)
            self._parent_of_current = self.saves.parent_id
        kept = self.options.checkpointing
        checkpoint = next_checkpoint(
            self.checkpoint,
            self.channels,
            step,
            updated,
            # without a saver nobody reads the values of a checkpoint: don't collect them
            changed=self._changed if kept else (),
            kept=kept,
        )
        new_versions, self._changed = self._changed, {}
        seen_changes, self.seen_changed = self.seen_changed, {}
        self.checkpoint = checkpoint
        metadata: dict[str, Any] = {"source": source, "step": step, "parents": self._parents}
        self.metadata = metadata
        if not self.options.checkpointing:
            return []
        return self.saves.checkpoint(checkpoint, metadata, new_versions, seen_changes)

    def exit_effects(self) -> list[Effect]:
        """The effects of stopping: the state owed to invoke, and with durability "exit" the
        final checkpoint and its writes, saved once at the end."""
        owed: list[Effect] = []
        if self._values_owed:
            self._values_owed = False
            owed += self.values_chunks()
        if not (NS_END in self.ns and self.status == "done"):
            # (with durability "exit", a subgraph run inside one task of its parent saves only
            # when it stops early: its finished state is never read again, as in LangGraph)
            owed += self.saves.at_exit()
        if self.at_breakpoint() and not self.ns:
            # a static breakpoint stopped the run: an empty interrupt update, as LangGraph emits
            # (a subgraph's pauses its parent's task instead, whose update it is)
            owed += self.out.chunks("breakpoint", None)
        return owed

    def at_breakpoint(self) -> bool:
        """Whether a static breakpoint (``interrupt_before`` / ``interrupt_after``) stopped us."""
        return self.status == "interrupt_before" or self.status == "interrupt_after"

    def values_chunks(self) -> list[Effect]:
        if not self.out.wants("values"):
            return []
        return self.out.chunks("values", read_channels(self.channels, self.options.stream_keys))

    # --- supersteps ------------------------------------------------------------------------------

    def _next_tasks(self) -> dict[str, Task]:
        """The tasks the current checkpoint triggers (the next superstep's)."""
        configs = self._step_configs
        if configs is None:  # the run's config changed (its first step ended): copied again
            configs = self._step_configs = StepConfigs(self.config, self.step, self.ns)
        else:
            configs.step = self.step
        return prepare_tasks(
            self.plan,
            self.checkpoint,
            self.channels,
            self.step,
            self.config,
            ns=self.ns,
            updated_channels=self.trigger_hint,
            stop=self.stop,
            configs=configs,
        )

    def tick(self) -> tuple[list[Task] | None, list[Effect]]:
        """Prepare the next superstep: the tasks to run (None when the run stops here), and the
        chunks of preparing it (the checkpoint it starts from, tasks reused or starting)."""
        self.tasks = tasks = self._next_tasks()
        if self._plain_tick and tasks and not self.skip_done and self.step <= self.stop:
            # no chunk, breakpoint or saved writes to look at: the general way below comes to
            # the same tasks, all of them new (none reused, so none done)
            control = self.control
            if control is None or not control.drain_requested:
                return list(tasks.values()), []
        out = self.out
        effects: list[Effect] = []
        if self.options.checkpointing and out.wants("checkpoint"):
            effects += out.chunks("checkpoint", self._checkpoint_payload(), self._checkpoint_step())
        if self.step > self.stop:  # raised once the checkpoint's chunk is out, as LangGraph
            self.status = "failed"
            self.out_of_steps = GraphRecursionError(
                create_error_message(
                    message=f"Recursion limit of {self.options.recursion_limit} reached without "
                    "hitting a stop condition. You can increase the limit by setting the "
                    "`recursion_limit` config key.",
                    error_code=ErrorCode.GRAPH_RECURSION_LIMIT,
                )
            )
            return None, effects
        if not self.tasks:
            self.status = "done"
            return None, effects
        reused = self.skip_done and bool(self.pending)
        if reused:
            self._match_pending_writes()
        self.skip_done = False
        if self.options.interrupt_before and self._should_interrupt(self.options.interrupt_before):
            self.status = "interrupt_before"
            return None, effects
        # after the breakpoint check: a resume passes that breakpoint, so draining before it
        # would skip it (as LangGraph)
        if self.control is not None and self.control.drain_requested:
            self.status = "drained"
            return None, effects
        # as LangGraph: every task of the step starts (those finished before the run stopped
        # too), then those show their saved updates
        if out.wants("task_start"):
            for t in self.tasks.values():
                if not t.node.hidden:
                    effects += out.chunks("task_start", stream.task_start(t), self.step)
        if reused and out.wants("cached_update"):
            for t in self.tasks.values():
                if t.done and not t.node.hidden:
                    update = {t.name: self._task_update(t), "__metadata__": {"cached": True}}
                    effects += out.chunks("cached_update", update)
        return [t for t in self.tasks.values() if not t.done], effects

    def _checkpoint_step(self) -> int:
        return int(self.metadata.get("step", self.step - 1))

    def _checkpoint_payload(self, tasks: Iterable[Task] | None = None) -> dict[str, Any]:
        payload = stream.checkpoint_payload(
            self.config,
            self.ns,
            self.checkpoint["id"],
            self._parent_of_current,
            read_channels(self.channels, self.options.stream_keys),
            self.metadata,
            self.tasks.values() if tasks is None else tasks,
            outcomes_by_task(self.plan, self.pending) if self.pending else None,
        )
        for key in ("config", "parent_config"):  # a subgraph's name its enclosing checkpoints
            payload[key] = with_checkpoint_map(payload[key], self.metadata)
        return payload

    def _match_pending_writes(self) -> None:
        by_task: dict[str, list[tuple[str, Any]]] = defaultdict(list)
        for tid, chan, value in self.pending:
            if tid != NULL_TASK_ID:
                by_task[tid].append((chan, value))
        for tid, writes in list(by_task.items()):
            task = self.tasks.get(tid)
            if task is None:
                continue
            _reuse(task, writes)
            saved_error = next((v for c, v in writes if c == ERROR), None)
            if saved_error is not None and not task.done and task.node.error_handler:
                # it failed before the run stopped: its handler runs (again), not the node
                handler = self.handle_failure(task, SavedTaskError(task.name, saved_error))
                if handler is not None:
                    task.done = True
                    _reuse(handler, by_task.get(handler.id, []))

    def _should_interrupt(self, nodes: Sequence[str] | str) -> bool:
        versions = self.checkpoint["channel_versions"]
        seen = self.checkpoint["versions_seen"].get(INTERRUPT, {})
        null = null_version(versions)
        if not any(v > seen.get(k, null) for k, v in versions.items()):
            return False
        return self._tasks_match(nodes)

    def task_finished(self, task: Task, *, last: bool = False) -> list[Effect]:
        """Record a task's outcome (writes, interrupt or error): save and stream it.

        The writes of the ``last`` task of a step that will make a checkpoint are held and saved
        with it (one ``PutStep``); any other task's writes are ready to save (``Saves.flush``),
        saved before the run waits for another task, so a crash while its siblings run keeps
        them (``engine/saves.py``).
        """
        error = task.error
        if error is None and not task.paused:  # (most tasks: returned)
            writes = mark_no_writes(task.writes)
        elif error is not None:
            if isinstance(error, GraphBubbleUp):  # a Command for a graph above, from a worker:
                self.errors.append(task)  # raised when the step ends; nothing saved or streamed
                return []
            # the answers it took stay its answers when it runs again (LangGraph keeps them)
            writes = [w for w in task.writes if w[0] == RESUME]
            writes.append((ERROR, task.error))
            if not task.handled:
                self.errors.append(task)
        else:
            writes = [w for w in task.writes if w[0] == RESUME]
            writes.append((INTERRUPT, list(task.interrupts)))
            self.interrupts.extend(task.interrupts)
            self.paused = True
        effects: list[Effect] = []
        saves = self.saves
        if saves.enabled:
            if self.plan.untracked:  # never saved (a live resource, say), as in LangGraph
                writes = saved_writes(writes, self.plan.untracked)
            # the step makes a checkpoint only when no task of it failed or was interrupted
            if last and not self.errors and not self.paused and not saves.at_exit_only:
                saves.hold(task.id, task.path_str, writes)
            else:
                config = self.checkpoint_config
                effects = saves.task_writes(config, [(task.id, task.path_str, writes)])
        out = self.out
        if task.node.hidden:
            return effects
        # the update (or interrupt) first, then the task's result: LangGraph's order
        if error is not None:
            pass
        elif task.paused:
            if not task.interrupts:  # a subgraph stopped at a breakpoint: no values chunk
                if not self.ns:  # (as in LangGraph; a subgraph's parent streams it)
                    effects += out.chunks("breakpoint", None)
            elif out.wants("interrupt"):
                values = read_channels(self.channels, self.options.stream_keys)
                effects += out.chunks("interrupt", InterruptEvent(tuple(task.interrupts), values))
        elif out.wants("update"):
            update = {task.name: self._task_update(task)}
            if task.cached:  # as LangGraph marks a replayed cache hit
                update["__metadata__"] = {"cached": True}
            effects += out.chunks("update", update)
        if out.wants("task_end") and not task.cached:
            result = stream.task_result(task, self.options.stream_keys)
            effects += out.chunks("task_end", result, self.step)
        return effects

    def record_returned(self, tasks: Sequence[Task], most: int) -> tuple[int, list[Effect]]:
        """``task_finished`` of the leading tasks of ``tasks`` that returned (no error, no
        pause), at most ``most`` of them (never the step's last), as one batch: for a run whose
        tasks' outcomes stream no chunk (``RunOptions.quiet_outcomes``), where all it does is
        make their writes ready to save. How many it recorded, and the saver effects owed."""
        count = 0
        saves = self.saves
        kept = saves.enabled
        finished: list[tuple[str, str, list[tuple[str, Any]]]] = []
        for task in tasks:
            if count == most or task.error is not None or task.paused:
                break
            writes = mark_no_writes(task.writes)  # (read by a resume: saved or not)
            if kept:
                finished.append((task.id, task.path_str, writes))
            count += 1
        if not finished:
            return count, []
        untracked = self.plan.untracked
        if untracked:  # never saved (a live resource, say), as in LangGraph
            finished = [(t, p, saved_writes(w, untracked)) for t, p, w in finished]
        return count, saves.task_writes(self.checkpoint_config, finished)

    def handle_failure(self, task: Task, error: BaseException | None = None) -> Task | None:
        """The task of the failed ``task``'s error handler, added to this step (it runs in the
        failed task's place; the failed node's edges are not followed), or None when the node
        has no handler and the run fails. ``error``: the failure, when not ``task.error`` (one
        read back from a checkpoint)."""
        where = (self.checkpoint["id"], self.ns, self.step)
        error = error if error is not None else task.error
        handler = error_handler_task(self.plan, self.channels, self.config, where, task, error)
        if handler is not None:
            task.handled = True
            self.tasks[handler.id] = handler
        return handler

    def _task_update(self, task: Task) -> Any:
        return task_update(self.plan, self.options.stream_keys, task.writes)

    def end_step(self) -> list[Effect]:
        """All tasks of the step finished: apply their writes and save the next checkpoint."""
        if self.paused:
            return self._end_interrupted()
        if self.errors:
            self.status = "failed"
            return []
        effects: list[Effect] = []
        self.updated = self.apply(
            list(self.tasks.values())  # a Task has what apply_writes reads of a TaskWrites
        )
        self.trigger_hint = self.updated
        effects += self.changed_values(self.updated)
        self.pending = []
        effects += self.save("loop", self.step, updated=self.updated)
        self.advance()
        if self.options.interrupt_after and self._tasks_match(self.options.interrupt_after):
            self.status = "interrupt_after"
            if self.options.checkpointing and self.out.wants("checkpoint"):
                # the next tick, which would stream this checkpoint, never runs (LangGraph
                # streams it all the same, with the tasks it would run)
                upcoming = self._next_tasks()
                payload = self._checkpoint_payload(upcoming.values())
                effects += self.out.chunks("checkpoint", payload, self._checkpoint_step())
        return effects

    def advance(self) -> None:
        """The step's checkpoint is made: the next step's number, and only the first step
        resumes (a subgraph run in a later one starts with its input)."""
        self.step += 1
        configurable = self.config["configurable"]
        if configurable.get(CONFIG_KEY_RESUMING) is not False:
            configurable[CONFIG_KEY_RESUMING] = False
            self._step_configs = None  # the tasks' configs copy the run's
        if self.resume_box is not None:
            self.resume_box.clear()

    def changed_values(self, updated: set[str]) -> list[Effect]:
        """The ``values`` chunk owed when ``updated`` holds a streamed channel (for invoke,
        only noted: it reads the last one when the run stops)."""
        if not self._wants_values or self._stream_key_set.isdisjoint(updated):
            return []
        if self.options.final_values_only and not self._ephemeral_output:
            self._values_owed = True
            return []
        return self.values_chunks()

    def _tasks_match(self, nodes: Sequence[str] | str) -> bool:
        return any(
            not t.node.hidden and (nodes == "*" or t.name in nodes) for t in self.tasks.values()
        )

    def _changed_stream_keys(self, updated: set[str]) -> bool:
        return not self._stream_key_set.isdisjoint(updated)

    def _end_interrupted(self) -> list[Effect]:
        self.status = "interrupted"
        effects: list[Effect] = []
        finished = [t for t in self.tasks.values() if not t.paused and t.error is None]
        if any(is_finished(t.writes) for t in finished):
            updated = self.apply(
                [TaskWrites(t.path_str, t.name, t.triggers, t.writes) for t in finished]
            )
            if self._changed_stream_keys(updated):
                effects += self.values_chunks()
        return effects

    def call_site(self) -> tuple[str, int, dict[str, list[tuple[str, Any]]]]:
        """Checkpoint id, step and saved writes by task id, for functional ``@task`` calls."""
        by_task: dict[str, list[tuple[str, Any]]] = defaultdict(list)
        for tid, chan, value in self.pending:
            by_task[tid].append((chan, value))
        return self.checkpoint["id"], self.step, by_task


def _reuse(task: Task, writes: list[tuple[str, Any]]) -> None:
    """Give ``task`` what it saved before the run stopped: its answers, and its writes when it
    had finished (it is then not run again)."""
    for chan, value in writes:
        if chan == RESUME:
            task.resume = list(value)
    if is_finished(writes):
        task.writes = [(c, v) for c, v in writes if c not in CONTROL_CHANNELS]
        task.done = True
