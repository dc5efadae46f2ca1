"""One run of a plan on one thread, as a state machine the sync and async drivers step through.

``Run.start`` applies the input (new input, resume or replay), ``tick`` prepares a superstep,
``task_finished`` records each task's outcome, ``end_step`` applies the step and makes the next
checkpoint, ``exit_effects`` says what is owed when the run stops. Every method returns *effects*
(save this checkpoint, save these writes, emit this chunk) instead of doing I/O; the superstep
rules themselves are the pure functions of ``engine/core.py``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from langchain_core.runnables import RunnableConfig

from threadloom.checkpoint.base import (
    CONFIG_KEY_EXPECTED_HEAD,
    Checkpoint,
    CheckpointTuple,
    empty_checkpoint,
)
from threadloom.constants import (
    CONFIG_KEY_PARENT_CHECKPOINT,
    CONTROL_CHANNELS,
    ERROR,
    INPUT,
    INTERRUPT,
    NO_WRITES,
    NULL_TASK_ID,
    RESUME,
    RETURN,
)
from threadloom.engine import stream
from threadloom.engine.core import (
    Effect,
    Emit,
    Put,
    PutWrites,
    Task,
    TaskWrites,
    apply_writes,
    channels_from_checkpoint,
    command_writes,
    copy_checkpoint_for_run,
    is_finished,
    next_checkpoint,
    null_version,
    prepare_tasks,
    read_channels,
)
from threadloom.engine.plan import Plan
from threadloom.errors import (
    EmptyInputError,
    ErrorCode,
    GraphRecursionError,
    InvalidUpdateError,
    create_error_message,
)
from threadloom.types import Command, Interrupt

__all__ = ["Run", "RunOptions"]

NextVersion = Callable[[Any], Any]
Status = Literal["pending", "done", "interrupt_before", "interrupt_after", "interrupted", "failed"]


# --- a run --------------------------------------------------------------------------------------


@dataclass(slots=True)
class RunOptions:
    """What the caller of invoke/stream asked for."""

    modes: frozenset[str]
    stream_keys: str | Sequence[str]
    interrupt_before: Sequence[str] | str
    interrupt_after: Sequence[str] | str
    durability: str
    recursion_limit: int
    checkpointing: bool
    """Whether a saver is present (effects Put/PutWrites are only produced then)."""
    final_values_only: bool = False
    """Emit the state once when the run stops, not after every step (what invoke needs)."""


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
        self.seen_head = head_id
        self.parent_id: str | None = saved.checkpoint["id"] if saved else None
        self.tasks: dict[str, Task] = {}
        self.skip_done = False
        self.updated: set[str] | None = None
        """Channels the last applied step made available (what the next tick may trigger)."""
        # A loop checkpoint's updated channels name every trigger it left pending; one made by
        # update_state or replay may leave older triggers pending too, so look at every node.
        self._hint: Iterable[str] | None = (
            self.checkpoint.get("updated_channels")
            if self.metadata.get("source") == "loop"
            else None
        )
        versions = self.checkpoint["channel_versions"]
        self._max_version: Any = max(versions.values()) if versions else None
        self._changed: set[str] = set()
        """Channels given a new version since the last checkpoint was made."""
        self._live_ephemeral: set[str] | None = None
        self._checkpoint_config: tuple[str, RunnableConfig] | None = None
        self._tick_effects: list[Effect] = []
        self._values_owed = False
        self.resumed = False
        """Whether this run continues the thread's pending work (a resume or a replay)."""
        modes = options.modes
        self._watch_checkpoints = "checkpoints" in modes or "debug" in modes
        self._watch_tasks = "tasks" in modes or "debug" in modes
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
        self._put_configurable = configurable
        self.resume_value: Any = None
        self.resume_present = False
        self.interrupts: list[Interrupt] = []
        self.errors: list[Task] = []
        self._exit_writes: list[PutWrites] = []
        self._exit_put: Put | None = None

    # the checkpoint the current tasks run from, as a saver config
    @property
    def checkpoint_config(self) -> RunnableConfig:
        cached = self._checkpoint_config
        if cached is not None and cached[0] == self.checkpoint["id"]:
            return cached[1]
        config: RunnableConfig = {
            "configurable": {
                "thread_id": self.config.get("configurable", {}).get("thread_id"),
                "checkpoint_ns": self.ns,
                "checkpoint_id": self.checkpoint["id"],
            }
        }
        self._checkpoint_config = (self.checkpoint["id"], config)
        return config

    # --- start -----------------------------------------------------------------------------------

    def start(self, run_input: Any) -> list[Effect]:
        """Apply the input (new input, resume, replay); return the effects of doing so."""
        effects: list[Effect] = []
        has_saver = self.options.checkpointing
        addressed = bool(self.config.get("configurable", {}).get("checkpoint_id"))
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
        resuming = self.saved is not None and (
            run_input is None
            or isinstance(run_input, Command)
            or (
                self.config.get("metadata", {}).get("run_id") is not None
                and self.config.get("metadata", {}).get("run_id") == self.metadata.get("run_id")
            )
        )
        replay = (
            resuming
            and addressed
            and not isinstance(run_input, Command)
            and not (
                self.metadata.get("source") in ("update", "fork")
                and self.checkpoint["id"] == self.seen_head
            )
        )
        self.resumed = bool(resuming)
        if resuming and replay:
            effects += self._fork_for_replay()
        elif resuming:
            effects += self._resume(run_input)
        else:
            if run_input is None:
                raise EmptyInputError("Received no input for __start__")
            effects += self._new_input(run_input)
        return effects

    def _null_writes(self) -> list[tuple[str, Any]]:
        return [(c, v) for tid, c, v in self.pending if tid == NULL_TASK_ID]

    def _resume(self, run_input: Any) -> list[Effect]:
        effects: list[Effect] = []
        null_writes = [(c, v) for c, v in self._null_writes() if c != RESUME]
        for c, v in self._null_writes():
            if c == RESUME:
                self._set_resume(v)
        if isinstance(run_input, Command):
            writes = command_writes(self.plan, run_input)
            if writes and self.options.checkpointing:
                effects.append(PutWrites(self.checkpoint_config, writes, NULL_TASK_ID, ""))
            for c, v in writes:
                if c == RESUME:
                    self._set_resume(v)
                else:
                    null_writes.append((c, v))
        if null_writes:
            self._apply([TaskWrites("~", INPUT, (), null_writes)])
            self._hint = None  # earlier triggers may still be pending: look at every node
        seen = self.checkpoint["versions_seen"].setdefault(INTERRUPT, {})
        seen.update(self.checkpoint["channel_versions"])
        self.skip_done = True
        if "values" in self.options.modes:
            effects.append(Emit("values", read_channels(self.channels, self.options.stream_keys)))
        return effects

    def _set_resume(self, value: Any) -> None:
        self.resume_value = value
        self.resume_present = True

    def _fork_for_replay(self) -> list[Effect]:
        # re-run the addressed checkpoint's tasks from a sibling copy, so interrupts fire again
        null_writes = [(c, v) for c, v in self._null_writes() if c != RESUME]
        if null_writes:
            self._apply([TaskWrites("~", INPUT, (), null_writes)])
            self._hint = None
        self.pending = []
        effects = self._save(
            "fork", self.step, updated=self.checkpoint.get("updated_channels") or ()
        )
        self.step += 1
        if "values" in self.options.modes:
            effects.append(Emit("values", read_channels(self.channels, self.options.stream_keys)))
        return effects

    def _new_input(self, run_input: Any) -> list[Effect]:
        discarded = prepare_tasks(
            self.plan, self.checkpoint, self.channels, self.step, self.config, ns=self.ns
        )
        writes = [TaskWrites(t.path_str, t.name, t.triggers, ()) for t in discarded.values()]
        writes.append(TaskWrites("~", INPUT, (), [(self.plan.input_channel, run_input)]))
        self.updated = self._apply(writes)
        self._hint = self.updated
        self.pending = []
        effects = self._save("input", self.step, updated=self.updated)
        self.step += 1
        return effects

    def _apply(self, writes: Sequence[TaskWrites | Task]) -> set[str]:
        """Apply writes to a fresh copy of the version dicts (the last checkpoint keeps its own)."""
        self.checkpoint = {
            **self.checkpoint,
            "channel_versions": dict(self.checkpoint["channel_versions"]),
            "versions_seen": dict(self.checkpoint["versions_seen"]),
        }
        bumped: set[str] = set()
        updated = apply_writes(
            self.plan,
            self.checkpoint,
            self.channels,
            writes,
            self.next_version,
            max_version=self._max_version,
            live_ephemeral=self._live_ephemeral,
            bumped=bumped,
        )
        if bumped:
            self._max_version = self.checkpoint["channel_versions"][next(iter(bumped))]
            self._changed |= bumped
        live = {c for c in updated if c in self.plan.ephemeral}
        if any(w.triggers for w in writes):
            self._live_ephemeral = live
        elif self._live_ephemeral is not None:
            self._live_ephemeral |= live
        return updated

    # --- saving ----------------------------------------------------------------------------------

    def _save(self, source: str, step: int, *, updated: Iterable[str]) -> list[Effect]:
        """Make the next checkpoint from the channels; a Put effect when a saver is present."""
        self._parent_of_current = self.parent_id
        checkpoint = next_checkpoint(
            self.checkpoint,
            self.channels,
            step,
            updated,
            # without a saver nobody reads the values of a checkpoint: don't collect them
            changed=self._changed if self.options.checkpointing else (),
        )
        changed, self._changed = self._changed, set()
        self.checkpoint = checkpoint
        metadata: dict[str, Any] = {"source": source, "step": step, "parents": self._parents}
        self.metadata = metadata
        if not self.options.checkpointing:
            return []
        versions = checkpoint["channel_versions"]
        new_versions = {k: versions[k] for k in changed if k in versions}
        configurable = {
            **self._put_configurable,
            "checkpoint_id": self.parent_id,
            CONFIG_KEY_EXPECTED_HEAD: self.seen_head,
        }
        put = Put({**self.config, "configurable": configurable}, checkpoint, metadata, new_versions)
        self.parent_id = checkpoint["id"]
        if self.options.durability == "exit":
            self._exit_put = put
            self._exit_writes = []
            return []
        self.seen_head = checkpoint["id"]
        return [put]

    def exit_effects(self) -> list[Effect]:
        """The effects of stopping: the state owed to invoke, and with durability "exit" the
        final checkpoint and its writes, saved once at the end."""
        owed: list[Effect] = []
        if self._values_owed:
            self._values_owed = False
            owed.append(Emit("values", read_channels(self.channels, self.options.stream_keys)))
        return owed + self._exit_saves()

    def _exit_saves(self) -> list[Effect]:
        put, self._exit_put = self._exit_put, None
        if put is None:
            writes, self._exit_writes = self._exit_writes, []
            return list(writes)
        first_parent = self.saved.checkpoint["id"] if self.saved else None
        configurable = dict(put.config["configurable"])
        configurable["checkpoint_id"] = first_parent
        configurable[CONFIG_KEY_EXPECTED_HEAD] = self.seen_head
        all_versions = put.checkpoint["channel_versions"]
        saved_versions = self.saved.checkpoint["channel_versions"] if self.saved else {}
        new_versions = {k: v for k, v in all_versions.items() if saved_versions.get(k) != v}
        effects: list[Effect] = [
            Put(
                {**put.config, "configurable": configurable},
                put.checkpoint,
                put.metadata,
                new_versions,
            )
        ]
        effects.extend(self._exit_writes)
        self._exit_writes = []
        self.seen_head = put.checkpoint["id"]
        return effects

    # --- supersteps ------------------------------------------------------------------------------

    def tick(self) -> list[Task] | None:
        """Prepare the next superstep; the tasks to run, or None when the run stops here."""
        if self.step > self.stop:
            self.status = "failed"
            raise GraphRecursionError(
                create_error_message(
                    message=f"Recursion limit of {self.options.recursion_limit} reached without "
                    "hitting a stop condition. You can increase the limit by setting the "
                    "`recursion_limit` config key.",
                    error_code=ErrorCode.GRAPH_RECURSION_LIMIT,
                )
            )
        self.tasks = prepare_tasks(
            self.plan,
            self.checkpoint,
            self.channels,
            self.step,
            self.config,
            ns=self.ns,
            updated_channels=self._hint,
            stop=self.stop,
        )
        if self._watch_checkpoints and self.options.checkpointing:
            self._tick_effects.extend(self._checkpoint_chunks())
        if not self.tasks:
            self.status = "done"
            return None
        if self.skip_done and self.pending:
            self._match_pending_writes()
            if "updates" in self.options.modes:
                self._tick_effects.extend(
                    Emit(
                        "updates", {t.name: self._task_update(t), "__metadata__": {"cached": True}}
                    )
                    for t in self.tasks.values()
                    if t.done and not t.node.hidden
                )
        self.skip_done = False
        if self.options.interrupt_before and self._should_interrupt(self.options.interrupt_before):
            self.status = "interrupt_before"
            return None
        due = [t for t in self.tasks.values() if not t.done]
        if self._watch_tasks:
            for t in due:
                if not t.node.hidden:
                    self._tick_effects.extend(self._task_chunks("task", stream.task_start(t)))
        return due

    def _checkpoint_chunks(self) -> list[Effect]:
        payload = stream.checkpoint_payload(
            self.config,
            self.ns,
            self.checkpoint["id"],
            self._parent_of_current,
            read_channels(self.channels, self.options.stream_keys),
            self.metadata,
            self.tasks.values(),
        )
        chunks: list[Effect] = []
        if "checkpoints" in self.options.modes:
            chunks.append(Emit("checkpoints", payload))
        if "debug" in self.options.modes:
            step = int(self.metadata.get("step", self.step - 1))
            chunks.append(Emit("debug", stream.debug("checkpoint", step, payload)))
        return chunks

    def _task_chunks(self, kind: str, payload: dict[str, Any]) -> list[Effect]:
        chunks: list[Effect] = []
        if "tasks" in self.options.modes:
            chunks.append(Emit("tasks", payload))
        if "debug" in self.options.modes:
            chunks.append(Emit("debug", stream.debug(kind, self.step, payload)))
        return chunks

    def tick_effects(self) -> list[Effect]:
        """Chunks for tasks the last tick found already finished (their saved writes reused)."""
        effects, self._tick_effects = self._tick_effects, []
        return effects

    def _match_pending_writes(self) -> None:
        by_task: dict[str, list[tuple[str, Any]]] = defaultdict(list)
        for tid, chan, value in self.pending:
            if tid != NULL_TASK_ID:
                by_task[tid].append((chan, value))
        for tid, writes in by_task.items():
            task = self.tasks.get(tid)
            if task is None:
                continue
            for chan, value in writes:
                if chan == RESUME:
                    task.resume = list(value)
            if is_finished(writes):
                task.writes = [(c, v) for c, v in writes if c not in CONTROL_CHANNELS]
                task.done = True

    def _should_interrupt(self, nodes: Sequence[str] | str) -> bool:
        versions = self.checkpoint["channel_versions"]
        seen = self.checkpoint["versions_seen"].get(INTERRUPT, {})
        null = null_version(versions)
        if not any(v > seen.get(k, null) for k, v in versions.items()):
            return False
        return any(
            not t.node.hidden and (nodes == "*" or t.name in nodes) for t in self.tasks.values()
        )

    def task_finished(self, task: Task) -> list[Effect]:
        """Record a task's outcome (writes, interrupt or error): save and stream it."""
        effects: list[Effect] = []
        if task.error is not None:
            writes: list[tuple[str, Any]] = [(ERROR, task.error)]
            self.errors.append(task)
        elif task.interrupts:
            writes = [w for w in task.writes if w[0] == RESUME]
            writes.append((INTERRUPT, list(task.interrupts)))
            self.interrupts.extend(task.interrupts)
        else:
            if not is_finished(task.writes):
                task.writes.append((NO_WRITES, None))
            writes = task.writes
        if self.options.checkpointing:
            put = PutWrites(self.checkpoint_config, writes, task.id, task.path_str)
            if self.options.durability == "exit":
                self._exit_writes.append(put)
            else:
                effects.append(put)
        if self._watch_tasks and not task.node.hidden:
            result = stream.task_result(task, self.options.stream_keys)
            effects += self._task_chunks("task_result", result)
        if task.node.hidden or task.error is not None:
            return effects
        if task.interrupts:
            effects += self._interrupt_chunks(task.interrupts)
        elif "updates" in self.options.modes:
            effects.append(Emit("updates", {task.name: self._task_update(task)}))
        return effects

    def _interrupt_chunks(self, interrupts: Sequence[Interrupt]) -> list[Effect]:
        modes = self.options.modes
        chunks: list[Effect] = []
        if "updates" in modes:
            chunks.append(Emit("updates", {INTERRUPT: tuple(interrupts)}))
        if "values" in modes:
            values = read_channels(self.channels, self.options.stream_keys)
            if isinstance(values, dict):
                chunks.append(Emit("values", {**values, INTERRUPT: tuple(interrupts)}))
            else:
                chunks.append(Emit("values", {INTERRUPT: tuple(interrupts)}))
        return chunks

    def _task_update(self, task: Task) -> Any:
        keys = self.options.stream_keys
        if self.plan.is_functional:
            for chan, value in task.writes:
                if chan == RETURN or (isinstance(keys, str) and chan == keys):
                    return value
            return None
        if isinstance(keys, str):  # a root-value graph: the update is the bare value
            return next((v for c, v in task.writes if c == keys), None)
        wanted = [(c, v) for c, v in task.writes if c in keys]
        if not wanted:
            return None
        counts: dict[str, int] = defaultdict(int)
        for c, _ in wanted:
            counts[c] += 1
        if any(n > 1 for n in counts.values()):
            return [{c: v} for c, v in wanted]
        return dict(wanted)

    def end_step(self) -> list[Effect]:
        """All tasks of the step finished: apply their writes and save the next checkpoint."""
        effects: list[Effect] = []
        if self.interrupts:
            return self._end_interrupted()
        if self.errors:
            self.status = "failed"
            return effects
        self.updated = self._apply(
            list(self.tasks.values())  # a Task has what apply_writes reads of a TaskWrites
        )
        self._hint = self.updated
        if "values" in self.options.modes and self._changed_stream_keys(self.updated):
            if self.options.final_values_only:
                self._values_owed = True
            else:
                effects.append(
                    Emit("values", read_channels(self.channels, self.options.stream_keys))
                )
        self.pending = []
        effects += self._save("loop", self.step, updated=self.updated)
        self.step += 1
        if self.options.interrupt_after and self._tasks_match(self.options.interrupt_after):
            self.status = "interrupt_after"
        return effects

    def _tasks_match(self, nodes: Sequence[str] | str) -> bool:
        return any(
            not t.node.hidden and (nodes == "*" or t.name in nodes) for t in self.tasks.values()
        )

    def _changed_stream_keys(self, updated: set[str]) -> bool:
        keys = self.options.stream_keys
        if isinstance(keys, str):
            return keys in updated
        return not updated.isdisjoint(keys)

    def _end_interrupted(self) -> list[Effect]:
        self.status = "interrupted"
        effects: list[Effect] = []
        finished = [t for t in self.tasks.values() if not t.interrupts and t.error is None]
        if any(is_finished(t.writes) for t in finished):
            updated = self._apply(
                [TaskWrites(t.path_str, t.name, t.triggers, t.writes) for t in finished]
            )
            if "values" in self.options.modes and self._changed_stream_keys(updated):
                effects.append(
                    Emit("values", read_channels(self.channels, self.options.stream_keys))
                )
        return effects

    def breakpoint_chunks(self) -> list[Effect]:
        """A static breakpoint stopped the run: an empty interrupt update, as LangGraph emits."""
        if "updates" in self.options.modes:
            return [Emit("updates", {INTERRUPT: ()})]
        return []

    def call_site(self) -> tuple[str, int, dict[str, list[tuple[str, Any]]]]:
        """Checkpoint id, step and saved writes by task id, for functional ``@task`` calls."""
        by_task: dict[str, list[tuple[str, Any]]] = defaultdict(list)
        for tid, chan, value in self.pending:
            by_task[tid].append((chan, value))
        return self.checkpoint["id"], self.step, by_task

    def resume_box_value(self) -> tuple[bool, Any]:
        """The ``Command(resume=...)`` value given to this run, if any."""
        return self.resume_present, self.resume_value
