"""Pure superstep logic: which tasks run next, and what their writes do to the channels.

Nothing here waits: no threads, no awaits, no savers. The checkpoint a step's writes leave is
made by ``engine/checkpoints.py``. A ``Run`` (``engine/run.py``) steps through
supersteps with these functions; the run loop (``engine/loop.py``) asks the drivers for the I/O.
``prepare_tasks`` and ``apply_writes`` are also used by the state API (``get_state``,
``update_state``), so a snapshot shows exactly what a run would do.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from operator import attrgetter
from typing import Any

from langchain_core.runnables import RunnableConfig

from threadloom.checkpoint.base import (
    Checkpoint,
)
from threadloom.constants import (
    CONFIG_KEY_PARENT_CHECKPOINT,
    CONTROL_CHANNELS,
    NO_WRITES,
    NS_SEP,
    PULL,
    PUSH,
    RESUME,
    TASKS,
)
from threadloom.engine.channels import MISSING, Channel
from threadloom.engine.ids import id_head, task_id_at, task_id_of
from threadloom.engine.plan import IGNORED_ON_APPLY, NodeSpec, Plan
from threadloom.errors import NodeError
from threadloom.types import Command, Interrupt, Send, TimeoutPolicy

__all__ = [
    "StepConfigs",
    "Task",
    "TaskWrites",
    "apply_writes",
    "command_writes",
    "prepare_tasks",
    "read_channels",
]

log = logging.getLogger("threadloom")

NextVersion = Callable[[Any], Any]


# --- tasks --------------------------------------------------------------------------------------


@dataclass(slots=True, init=False)
class Task:
    """A node due to run in the current superstep.

    Its own ``__init__`` (one per task, every step): the generated one tests and calls a factory
    for each list. Slotted, so every field is set: the engine reads ``error``, ``paused``,
    ``done`` of each task, and a slot reads faster than a class attribute's default."""

    id: str
    name: str
    path: tuple[Any, ...]
    path_str: str
    """Sort key of its writes: PULL tasks before PUSH tasks, then by node name or packet index."""
    triggers: tuple[str, ...]
    input: Any
    node: NodeSpec
    config: RunnableConfig
    writes: list[tuple[str, Any]]
    resume: list[Any]
    """Answers to this task's interrupts received so far (its saved RESUME write)."""
    done: bool
    """Finished before (its saved writes are reused, the node is not called again)."""
    interrupts: tuple[Interrupt, ...]
    paused: bool
    """Raised ``GraphInterrupt``: with ``interrupts``, or none when a subgraph it ran stopped at
    a static breakpoint (``interrupt_before`` / ``interrupt_after``)."""
    error: BaseException | None
    managed_at: tuple[int, int] | None
    """``(step, stop)`` when the node reads managed state keys (its branches see them too)."""
    timeout: TimeoutPolicy | None
    """Bounds each attempt: the ``Send``'s own, else the node's."""
    failure: NodeError | None
    """For an error handler's task: the failure it handles."""
    handled: bool
    """The task failed and its node's error handler runs instead: the run goes on."""
    cached: bool
    """Its writes came from the node cache: the node was not called (``engine/caching.py``)."""

    def __init__(
        self,
        id: str,
        name: str,
        path: tuple[Any, ...],
        path_str: str,
        triggers: tuple[str, ...],
        input: Any,
        node: NodeSpec,
        config: RunnableConfig,
        *,
        managed_at: tuple[int, int] | None = None,
        timeout: TimeoutPolicy | None = None,
        failure: NodeError | None = None,
    ) -> None:
        self.id = id
        self.name = name
        self.path = path
        self.path_str = path_str
        self.triggers = triggers
        self.input = input
        self.node = node
        self.config = config
        self.writes = []
        self.resume = []
        self.done = False
        self.interrupts = ()
        self.paused = False
        self.error = None
        self.managed_at = managed_at
        self.timeout = timeout
        self.failure = failure
        self.handled = False
        self.cached = False

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


def read_channels(channels: Mapping[str, Channel], keys: str | Sequence[str]) -> Any:
    """One channel's value, or a dict of the available ones among ``keys``."""
    if isinstance(keys, str):
        channel = channels[keys]
        return channel.get() if channel.is_available() else None
    return {k: channels[k].get() for k in keys if channels[k].is_available()}


METADATA_FROM_CONFIGURABLE = (
    "thread_id",
    "checkpoint_id",
    "checkpoint_ns",
    "task_id",
    "run_id",
    "assistant_id",
    "graph_id",
)
"""Configurable keys a run's metadata gets (when set and not already there), as LangGraph's
``ensure_config`` copies them: callbacks, and so the ``messages`` stream, show them."""


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
    return StepConfigs(base, step, ns).for_task(name, tid, tuple(triggers), path)


class StepConfigs:
    """The configs of one step's tasks: what they share is copied out of the run's config once
    (per step, or per run while its config stays as it is: a run sets ``step``), so each task's
    config costs three dict literals (a 200-wide fan-out makes 200)."""

    __slots__ = ("base", "configurable", "metadata", "ns", "step")

    def __init__(self, base: RunnableConfig, step: int, ns: str) -> None:
        self.base, self.step, self.ns = base, step, ns
        configurable = dict(base.get("configurable", {}))
        configurable.pop("checkpoint_id", None)
        self.configurable = configurable
        self.metadata = base.get("metadata", {})

    def for_task(self, name: str, tid: str, triggers: tuple[str, ...], path: Any) -> RunnableConfig:
        """``task_config`` for one task of the step."""
        ns = self.ns
        task_ns = f"{ns}{NS_SEP}{name}:{tid}" if ns else f"{name}:{tid}"
        config: dict[str, Any] = {
            **self.base,
            "configurable": {**self.configurable, "checkpoint_ns": task_ns},
            "metadata": {
                **self.metadata,
                "langgraph_step": self.step,
                "langgraph_node": name,
                "langgraph_triggers": triggers,
                "langgraph_path": path,
                "langgraph_checkpoint_ns": task_ns,
            },
            "run_name": name,
        }
        return config  # type: ignore[return-value]

    def for_push(self, name: str) -> Callable[[str, tuple[Any, ...]], RunnableConfig]:
        """``for_task`` for the ``Send`` tasks of one node this step, ``(tid, path) -> config``:
        what they share (the node's namespace, the metadata up to ``langgraph_path``, the run
        name) is worked out once, not once per packet. The same dicts, key order included."""
        configurable = self.configurable
        node_ns = f"{self.ns}{NS_SEP}{name}" if self.ns else name
        # placeholders keep each key where the literal in ``for_task`` puts it
        head: dict[str, Any] = {**self.base, "configurable": None, "metadata": None}
        head["run_name"] = name
        meta_head = {
            **self.metadata,
            "langgraph_step": self.step,
            "langgraph_node": name,
            "langgraph_triggers": _PUSH_TRIGGERS,
        }

        def config_of(tid: str, path: tuple[Any, ...]) -> RunnableConfig:
            task_ns = f"{node_ns}:{tid}"
            config: dict[str, Any] = {
                **head,
                "configurable": {**configurable, "checkpoint_ns": task_ns},
                "metadata": {
                    **meta_head,
                    "langgraph_path": path,
                    "langgraph_checkpoint_ns": task_ns,
                },
            }
            return config  # type: ignore[return-value]

        return config_of


def prepare_tasks(
    plan: Plan,
    checkpoint: Checkpoint,
    channels: Mapping[str, Channel],
    step: int,
    config: RunnableConfig,
    *,
    ns: str = "",
    updated_channels: Iterable[str] | None = None,
    stop: int | None = None,
    read_inputs: bool = True,
    configs: StepConfigs | None = None,
) -> dict[str, Task]:
    """The tasks due at ``step``: one per pending ``Send`` packet, then every triggered node.

    ``stop`` is the run's last allowed step, for managed state keys (unknown to a snapshot).
    ``read_inputs=False`` leaves pull tasks' ``input`` None (snapshots list tasks, never run
    them, and reading inputs would decode the state they do not show). ``configs``: the
    run's ``StepConfigs`` for ``config`` at ``step`` (made here when not given).
    """
    tasks: dict[str, Task] = {}
    cid = checkpoint["id"]
    head = id_head(cid)  # once for the step's task ids
    step_str = str(step)
    if configs is None:
        configs = StepConfigs(config, step, ns)
    packets = channels.get(TASKS)
    if packets is not None and packets.is_available():
        _push_tasks(tasks, plan, packets.get(), head, step_str, configs, cid)
    versions = checkpoint["channel_versions"]
    if not versions:
        return tasks
    for null in versions.values():  # null_version(versions), inlined: once a step
        null = type(null)()
        break
    seen_all = checkpoint["versions_seen"]
    if updated_channels is None:
        candidates: Iterable[str] = plan.nodes
    else:
        to_nodes = plan.trigger_to_nodes
        hit = to_nodes.keys() & updated_channels  # (C speed) the triggers among the updated
        # by name, as LangGraph orders a step's triggered nodes (each trigger's are: Plan)
        if len(hit) == 1:  # a chain's step: one edge taken
            candidates = to_nodes[hit.pop()]
        else:
            candidates = sorted({n for c in hit for n in to_nodes[c]})
    for name in candidates:
        node = plan.nodes[name]
        seen = seen_all.get(name, _NO_VERSIONS)
        for t in node.triggers:
            if channels[t].is_available() and versions.get(t, null) > seen.get(t, null):
                break
        else:
            continue
        triggers = plan.sorted_triggers[name]
        tid = task_id_at(
            head, f"{ns}{NS_SEP}{name}" if ns else name, step_str, name, PULL, *triggers
        )
        pull_path: tuple[str, str] = (PULL, name)
        value = node.read(channels) if read_inputs else None
        managed_at = None
        if node.managed is not None:
            managed_at = (step, stop if stop is not None else step + 1)
            if read_inputs:
                value = node.managed(value, *managed_at)
        task = Task(
            tid,
            name,
            pull_path,
            plan.pull_path_strs[name],
            triggers,
            value,
            node,
            configs.for_task(name, tid, triggers, pull_path),
            managed_at=managed_at,
            timeout=node.timeout,
        )
        tasks[tid] = _with_parent(cid, ns, task) if node.subgraph is not None else task
    return tasks


_NO_VERSIONS: dict[str, Any] = {}
_PUSH_TRIGGERS: tuple[str, ...] = (PUSH,)
_PUSH_PATH = f"~{PUSH}, %010d, False"
"""``task_path_str((PUSH, index, False))`` as a printf format: a ``Send`` task's path string
(an f-string's ``:010d`` takes the general format-spec machinery, once per task)."""


def _push_tasks(
    tasks: dict[str, Task],
    plan: Plan,
    packets: Sequence[Any],
    head: bytes,
    step_str: str,
    configs: StepConfigs,
    checkpoint_id: str,
) -> None:
    """Add one task per ``Send`` packet to ``tasks``, in packet order.

    Prepared as one batch: what the tasks of one node share (the head of their id's hash input,
    their namespace) is worked out once per node, not once per packet.
    """
    ns = configs.ns
    # node name → (node, hash prefix, its tasks' configs)
    prefixes: dict[str, tuple[NodeSpec, bytes, Callable[[str, tuple[Any, ...]], RunnableConfig]]]
    prefixes = {}
    for index, packet in enumerate(packets):
        if not isinstance(packet, Send):
            continue
        name = packet.node
        known = prefixes.get(name)
        if known is None:
            node = plan.nodes.get(name)
            if node is None:
                log.warning("Ignoring a Send to unknown node %r", name)
                continue
            node_ns = f"{ns}{NS_SEP}{name}" if ns else name
            known = prefixes[name] = (
                node,
                head + f"{node_ns}{step_str}{name}{PUSH}".encode(),
                configs.for_push(name),
            )
        node, prefix, config_of = known
        tid = task_id_of(prefix, str(index))
        path = (PUSH, index, False)  # as LangGraph: False, no functional call
        task = Task(
            tid,
            name,
            path,
            _PUSH_PATH % index,  # task_path_str(path), the hot case inlined
            _PUSH_TRIGGERS,
            node.push_read(packet.arg) if node.push_read else packet.arg,
            node,
            config_of(tid, path),
            timeout=packet.timeout or node.timeout,  # Send coerced its own
        )
        tasks[tid] = _with_parent(checkpoint_id, ns, task) if node.subgraph is not None else task


def _with_parent(checkpoint_id: str, ns: str, task: Task) -> Task:
    """A subgraph node's task tells its subgraph which checkpoint each enclosing graph is at."""
    if task.node.subgraph is not None:
        configurable: dict[str, Any] = task.config["configurable"]
        parents = configurable.get(CONFIG_KEY_PARENT_CHECKPOINT) or {}
        configurable[CONFIG_KEY_PARENT_CHECKPOINT] = {**parents, ns: checkpoint_id}
    return task


def apply_writes(
    plan: Plan,
    checkpoint: Checkpoint,
    channels: Mapping[str, Channel],
    tasks: Iterable[TaskWrites | Task],
    next_version: NextVersion,
    *,
    max_version: Any = MISSING,
    new_version: Any = MISSING,
    live_ephemeral: Iterable[str] | None = None,
    bumped: dict[str, Any] | None = None,
    seen_changed: dict[str, Any] | None = None,
) -> set[str]:
    """Apply one superstep's writes in task-path order; return the channels that changed.

    ``checkpoint``'s version dicts are updated in place, but a node's ``versions_seen`` entry is
    replaced rather than mutated, so an earlier checkpoint sharing it keeps its own. Callers that
    know them pass the current ``max_version`` and the ephemeral channels that may hold a value
    (``live_ephemeral``), which keeps a step O(writes) instead of O(channels); a run passes the
    ``new_version`` it made instead. ``bumped`` collects every channel given a new version, with
    that version; ``seen_changed`` every node whose ``versions_seen`` entry was replaced, with its
    new entry.
    """
    ordered = tasks if isinstance(tasks, list) and len(tasks) < 2 else sorted(tasks, key=_path_key)
    versions = checkpoint["channel_versions"]
    seen_all = checkpoint["versions_seen"]
    bump_step = False  # some task consumed triggers: a real step, not an input or update
    marked: dict[str, tuple[str, ...]] = {}  # node -> the triggers its entry was last given
    for t in ordered:
        if t.triggers:
            bump_step = True
            if marked.get(t.name) == t.triggers:  # (a Send fan-out: 200 tasks of one node)
                continue  # the same versions again: the entry already holds them
            marked[t.name] = t.triggers
            seen = dict(seen_all.get(t.name) or ())
            for chan in t.triggers:
                if chan in versions:
                    seen[chan] = versions[chan]
            seen_all[t.name] = seen
            if seen_changed is not None:
                seen_changed[t.name] = seen
    if new_version is MISSING:
        if max_version is MISSING:
            max_version = max(versions.values()) if versions else None
        new_version = next_version(max_version)
    changed: dict[str, Any] = bumped if bumped is not None else {}
    if plan.consumable:  # only joins and deferred triggers change when their node runs
        for chan in {c for t in ordered for c in t.triggers if c in plan.consumable}:
            if channels[chan].consume():
                versions[chan] = new_version
                changed[chan] = new_version
    pending: dict[str, list[Any]] = defaultdict(list)
    applied = plan.applied
    for t in ordered:
        for chan, value in t.writes:
            if chan in applied:  # (most writes: one look-up)
                pending[chan].append(value)
            elif chan in IGNORED_ON_APPLY:
                continue
            elif chan in channels:
                pending[chan].append(value)
            elif chan.startswith("branch:to:"):
                log.warning("wrote to unknown channel %s, ignoring it", chan)
    updated: set[str] = set()
    for chan, values in pending.items():
        channel = channels[chan]
        if channel.update(values):
            versions[chan] = new_version
            changed[chan] = new_version
            if channel.holds_written or channel.is_available():
                updated.add(chan)
    if bump_step:
        ephemeral = plan.ephemeral if live_ephemeral is None else live_ephemeral
        for chan in ephemeral:  # (the plan's: every one is in ``channels``)
            if chan not in pending and (channel := channels[chan]).update(()):
                versions[chan] = new_version
                changed[chan] = new_version
                if channel.is_available():
                    updated.add(chan)
        if plan.deferred and updated.isdisjoint(plan.trigger_to_nodes):
            for chan in plan.deferred:
                if channels[chan].finish():
                    versions[chan] = new_version
                    changed[chan] = new_version
                    updated.add(chan)
    return updated


_path_key: Callable[[TaskWrites | Task], str] = attrgetter("path_str")
"""The sort key of a step's writes (at C speed: a 200-task step sorts 200)."""


def command_writes(plan: Plan, command: Command[Any]) -> list[tuple[str, Any]]:
    """The NULL-task writes of a ``Command`` given as input: update, goto and resume."""
    writes: list[tuple[str, Any]] = []
    if command.update is not None:
        from threadloom.graph._coerce import update_as_pairs  # the graph's shapes of an update

        writes.extend(
            (k, v) for k, v in update_as_pairs(command.update) if k in plan.channels or k == TASKS
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
    for chan, _ in writes:  # noqa: SIM110 - a loop, not any(generator): asked for every task
        if chan not in CONTROL_CHANNELS:
            return True
    return False


def mark_no_writes(writes: list[tuple[str, Any]]) -> list[tuple[str, Any]]:
    """A returned task's writes as saved: ``NO_WRITES`` added when it wrote nothing but control
    channels, so a resume knows it finished (``is_finished``)."""
    # (most tasks' first write is to a state key: is_finished need not look)
    if not writes or (writes[0][0] in CONTROL_CHANNELS and not is_finished(writes)):
        writes.append((NO_WRITES, None))
    return writes
