"""Pure superstep logic: which tasks run next, and what their writes do to the channels.

Nothing here waits: no threads, no awaits, no savers. ``engine/sync.py`` and ``engine/aio.py``
carry out the effects a ``Run`` asks for (save this checkpoint, save these writes, emit this chunk)
and hand it back each task's outcome. ``prepare_tasks`` and ``apply_writes`` are also used by the
state API (``get_state``, ``update_state``), so a snapshot shows exactly what a run would do.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

from langchain_core.runnables import RunnableConfig

from threadloom.checkpoint.base import (
    CONFIG_KEY_EXPECTED_HEAD,
    Checkpoint,
    CheckpointTuple,
    empty_checkpoint,
)
from threadloom.checkpoint.id import uuid6_str
from threadloom.constants import (
    CONFIG_KEY_PARENT_CHECKPOINT,
    CONTROL_CHANNELS,
    ERROR,
    INPUT,
    INTERRUPT,
    NO_WRITES,
    NS_SEP,
    NULL_TASK_ID,
    PULL,
    PUSH,
    RESUME,
    RETURN,
    TASKS,
)
from threadloom.engine import stream
from threadloom.engine.channels import MISSING, Channel
from threadloom.engine.ids import task_id, task_path_str
from threadloom.engine.plan import NodeSpec, Plan
from threadloom.errors import (
    EmptyInputError,
    ErrorCode,
    GraphRecursionError,
    InvalidUpdateError,
    create_error_message,
)
from threadloom.types import Command, Interrupt, Send

__all__ = [
    "Emit",
    "Put",
    "PutWrites",
    "Run",
    "Task",
    "TaskWrites",
    "apply_writes",
    "channels_from_checkpoint",
    "command_writes",
    "next_checkpoint",
    "prepare_tasks",
    "read_channels",
]

log = logging.getLogger("threadloom")

NextVersion = Callable[[Any], Any]
Status = Literal["pending", "done", "interrupt_before", "interrupt_after", "interrupted", "failed"]


# --- effects ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Put:
    """Save ``checkpoint``; ``config`` names its parent and the head the run last saw."""

    config: RunnableConfig
    checkpoint: Checkpoint
    metadata: dict[str, Any]
    new_versions: dict[str, Any]


@dataclass(frozen=True, slots=True)
class PutWrites:
    """Save a finished task's writes against the checkpoint it ran from."""

    config: RunnableConfig
    writes: list[tuple[str, Any]]
    task_id: str
    task_path: str


@dataclass(frozen=True, slots=True)
class Emit:
    """Stream one chunk of ``mode``."""

    mode: str
    payload: Any


Effect = Put | PutWrites | Emit


# --- tasks --------------------------------------------------------------------------------------


@dataclass(slots=True)
class Task:
    """A node due to run in the current superstep."""

    id: str
    name: str
    path: tuple[Any, ...]
    path_str: str
    """Sort key of its writes: PULL tasks before PUSH tasks, then by node name or packet index."""
    triggers: tuple[str, ...]
    input: Any
    node: NodeSpec
    config: RunnableConfig
    writes: list[tuple[str, Any]] = field(default_factory=list)
    resume: list[Any] = field(default_factory=list)
    """Answers to this task's interrupts received so far (its saved RESUME write)."""
    done: bool = False
    """Finished before (its saved writes are reused, the node is not called again)."""
    interrupts: tuple[Interrupt, ...] = ()
    error: BaseException | None = None

    @property
    def ns(self) -> str:
        """The task's checkpoint namespace: ``node:task_id`` under its graph's own namespace."""
        return self.config["configurable"]["checkpoint_ns"]  # type: ignore[no-any-return]


@dataclass(frozen=True, slots=True)
class TaskWrites:
    """Writes to apply, with the trigger channels they consumed (a task or a pseudo-task)."""

    path_str: str
    name: str
    triggers: tuple[str, ...]
    writes: Sequence[tuple[str, Any]]


def null_version(versions: Mapping[str, Any]) -> Any:
    """The version every real version is greater than: ``""`` for string versions, else 0."""
    for value in versions.values():
        return type(value)()
    return 0


def channels_from_checkpoint(plan: Plan, checkpoint: Checkpoint) -> dict[str, Channel]:
    """Fresh channels holding the checkpoint's values."""
    values = checkpoint["channel_values"]
    return {name: proto.restore(values.get(name, MISSING)) for name, proto in plan.channels.items()}


def read_channels(channels: Mapping[str, Channel], keys: str | Sequence[str]) -> Any:
    """One channel's value, or a dict of the available ones among ``keys``."""
    if isinstance(keys, str):
        channel = channels[keys]
        return channel.value if channel.is_available() else None
    return {k: channels[k].get() for k in keys if channels[k].is_available()}


def task_config(
    base: RunnableConfig,
    name: str,
    tid: str,
    step: int,
    triggers: Sequence[str],
    path: Any,
    ns: str = "",
) -> RunnableConfig:
    """The config a task sees: the run's, with its namespace and step metadata."""
    configurable = dict(base.get("configurable", {}))
    configurable.pop("checkpoint_id", None)
    task_ns = f"{ns}{NS_SEP}{name}:{tid}" if ns else f"{name}:{tid}"
    configurable["checkpoint_ns"] = task_ns
    metadata = dict(base.get("metadata", {}))
    metadata.update(
        langgraph_step=step,
        langgraph_node=name,
        langgraph_triggers=tuple(triggers),
        langgraph_path=path,
        langgraph_checkpoint_ns=task_ns,
    )
    config: dict[str, Any] = {**base, "configurable": configurable, "metadata": metadata}
    config["run_name"] = name
    return config  # type: ignore[return-value]


def prepare_tasks(
    plan: Plan,
    checkpoint: Checkpoint,
    channels: Mapping[str, Channel],
    step: int,
    config: RunnableConfig,
    *,
    ns: str = "",
    updated_channels: Iterable[str] | None = None,
) -> dict[str, Task]:
    """The tasks due at ``step``: one per pending ``Send`` packet, then every triggered node."""
    tasks: dict[str, Task] = {}
    cid = checkpoint["id"]
    step_str = str(step)
    packets = channels.get(TASKS)
    if packets is not None and packets.is_available():
        for index, packet in enumerate(packets.get()):
            if not isinstance(packet, Send):
                continue
            node = plan.nodes.get(packet.node)
            if node is None:
                log.warning("Ignoring a Send to unknown node %r", packet.node)
                continue
            tid = task_id(cid, ns, step_str, packet.node, PUSH, str(index))
            path = (PUSH, index)
            arg = node.push_read(packet.arg) if node.push_read else packet.arg
            tasks[tid] = _with_parent(
                cid,
                ns,
                Task(
                    tid,
                    packet.node,
                    path,
                    task_path_str(path),
                    (PUSH,),
                    arg,
                    node,
                    task_config(config, packet.node, tid, step, (PUSH,), path, ns),
                ),
            )
    versions = checkpoint["channel_versions"]
    if not versions:
        return tasks
    null = null_version(versions)
    seen_all = checkpoint["versions_seen"]
    if updated_channels is None:
        candidates: Iterable[str] = plan.nodes
    else:
        wanted = {n for c in updated_channels for n in plan.trigger_to_nodes.get(c, ())}
        candidates = sorted(wanted, key=plan.node_order.__getitem__)
    for name in candidates:
        node = plan.nodes[name]
        seen = seen_all.get(name, _NO_VERSIONS)
        for t in node.triggers:
            if channels[t].is_available() and versions.get(t, null) > seen.get(t, null):
                break
        else:
            continue
        triggers = plan.sorted_triggers[name]
        tid = task_id(cid, ns, step_str, name, PULL, *triggers)
        pull_path: tuple[str, str] = (PULL, name)
        task = Task(
            tid,
            name,
            pull_path,
            plan.pull_path_strs[name],
            triggers,
            node.read(channels),
            node,
            task_config(config, name, tid, step, triggers, pull_path, ns),
        )
        tasks[tid] = _with_parent(cid, ns, task) if node.subgraph is not None else task
    return tasks


_NO_VERSIONS: dict[str, Any] = {}


def _with_parent(checkpoint_id: str, ns: str, task: Task) -> Task:
    """A subgraph node's task tells its subgraph which checkpoint each enclosing graph is at."""
    if task.node.subgraph is not None:
        configurable: dict[str, Any] = task.config["configurable"]
        parents = configurable.get(CONFIG_KEY_PARENT_CHECKPOINT) or {}
        configurable[CONFIG_KEY_PARENT_CHECKPOINT] = {**parents, ns: checkpoint_id}
    return task


_IGNORED_ON_APPLY = CONTROL_CHANNELS | {NO_WRITES, RETURN, RESUME, INTERRUPT, ERROR}


def apply_writes(
    plan: Plan,
    checkpoint: Checkpoint,
    channels: Mapping[str, Channel],
    tasks: Iterable[TaskWrites | Task],
    next_version: NextVersion,
    *,
    max_version: Any = MISSING,
    live_ephemeral: Iterable[str] | None = None,
    bumped: set[str] | None = None,
) -> set[str]:
    """Apply one superstep's writes in task-path order; return the channels that changed.

    ``checkpoint``'s version dicts are updated in place, but a node's ``versions_seen`` entry is
    replaced rather than mutated, so an earlier checkpoint sharing it keeps its own. Callers that
    know them pass the current ``max_version`` and the ephemeral channels that may hold a value
    (``live_ephemeral``), which keeps a step O(writes) instead of O(channels). ``bumped`` collects
    every channel given a new version.
    """
    ordered = tasks if isinstance(tasks, list) and len(tasks) < 2 else sorted(tasks, key=_path_key)
    versions = checkpoint["channel_versions"]
    seen_all = checkpoint["versions_seen"]
    for t in ordered:
        if t.triggers:
            seen = dict(seen_all.get(t.name) or ())
            for chan in t.triggers:
                if chan in versions:
                    seen[chan] = versions[chan]
            seen_all[t.name] = seen
    if max_version is MISSING:
        max_version = max(versions.values()) if versions else None
    new_version = next_version(max_version)
    changed = bumped if bumped is not None else set()
    bump_step = any(t.triggers for t in ordered)
    if plan.consumable:  # only joins and deferred triggers change when their node runs
        for chan in {c for t in ordered for c in t.triggers if c in plan.consumable}:
            if channels[chan].consume():
                versions[chan] = new_version
                changed.add(chan)
    pending: dict[str, list[Any]] = defaultdict(list)
    for t in ordered:
        for chan, value in t.writes:
            if chan in _IGNORED_ON_APPLY:
                continue
            if chan in channels:
                pending[chan].append(value)
            elif chan.startswith("branch:to:"):
                log.warning("wrote to unknown channel %s, ignoring it", chan)
    updated: set[str] = set()
    for chan, values in pending.items():
        channel = channels[chan]
        if channel.update(values):
            versions[chan] = new_version
            changed.add(chan)
            if channel.is_available():
                updated.add(chan)
    if bump_step:
        ephemeral = plan.ephemeral if live_ephemeral is None else live_ephemeral
        for chan in ephemeral:
            if chan not in pending and chan in channels and channels[chan].update(()):
                versions[chan] = new_version
                changed.add(chan)
                if channels[chan].is_available():
                    updated.add(chan)
        if plan.deferred and updated.isdisjoint(plan.trigger_to_nodes):
            for chan in plan.deferred:
                if channels[chan].finish():
                    versions[chan] = new_version
                    changed.add(chan)
                    updated.add(chan)
    return updated


def _path_key(t: TaskWrites | Task) -> str:
    return t.path_str


def next_checkpoint(
    checkpoint: Checkpoint,
    channels: Mapping[str, Channel],
    step: int,
    updated: Iterable[str],
    *,
    changed: Iterable[str] | None = None,
) -> Checkpoint:
    """A new checkpoint of the channels' values, with a fresh time-ordered id.

    With ``changed`` (the channels given a new version since ``checkpoint``), only those values
    are read again; the version dicts are taken over as they are, not copied.
    """
    versions = checkpoint["channel_versions"]
    if changed is None:
        values: dict[str, Any] = {}
        for name in versions:
            channel = channels.get(name)
            if channel is not None and (stored := channel.checkpoint()) is not MISSING:
                values[name] = stored
        versions = dict(versions)
        seen = {k: dict(v) for k, v in checkpoint["versions_seen"].items()}
    else:
        values = dict(checkpoint["channel_values"])
        for name in changed:
            channel = channels.get(name)
            stored = MISSING if channel is None else channel.checkpoint()
            if stored is MISSING:
                values.pop(name, None)
            else:
                values[name] = stored
        seen = checkpoint["versions_seen"]
    return {
        "v": 4,
        "id": uuid6_str(step),
        "ts": datetime.now(UTC).isoformat(),
        "channel_values": values,
        "channel_versions": versions,
        "versions_seen": seen,
        "updated_channels": sorted(updated),
    }


def command_writes(plan: Plan, command: Command[Any]) -> list[tuple[str, Any]]:
    """The NULL-task writes of a ``Command`` given as input: update, goto and resume."""
    writes: list[tuple[str, Any]] = []
    if command.update is not None:
        writes.extend(
            (k, v) for k, v in command._update_as_tuples() if k in plan.channels or k == TASKS
        )
    gotos = command.goto
    if isinstance(gotos, str | Send):
        gotos = [gotos]
    for goto in gotos:
        if isinstance(goto, Send):
            writes.append((TASKS, goto))
        elif goto != "__end__":
            writes.append((f"branch:to:{goto}", None))
    if command.resume is not None:
        writes.append((RESUME, command.resume))
    return writes


def is_finished(writes: Sequence[tuple[str, Any]]) -> bool:
    """A task is finished iff it wrote something other than control channels."""
    return any(chan not in CONTROL_CHANNELS for chan, _ in writes)


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
            _copy_checkpoint(saved.checkpoint) if saved else empty_checkpoint()
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


def _copy_checkpoint(checkpoint: Checkpoint) -> Checkpoint:
    return {
        **checkpoint,
        "channel_values": dict(checkpoint["channel_values"]),
        "channel_versions": dict(checkpoint["channel_versions"]),
        "versions_seen": {k: dict(v) for k, v in checkpoint["versions_seen"].items()},
    }
