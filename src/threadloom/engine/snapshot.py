"""The state API: a checkpoint seen as a ``StateSnapshot``, and ``update_state`` as a superstep.

``bulk_update`` is a core: it yields its saver reads and writes as effects, so the sync and the
async state API carry out the same code (``engine/sync.py`` and ``engine/aio.py`` ``result_of``).
Both reuse the run's own ``prepare_tasks`` and ``apply_writes``, so the tasks a snapshot lists (and
their ids) are exactly those a resumed run would run, and an update behaves like the node ran.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Callable, Generator, Iterable, Iterator, Mapping, Sequence
from functools import partial
from typing import Any

from langchain_core.runnables import RunnableConfig

from threadloom.checkpoint._lazy import LazyDict
from threadloom.checkpoint.base import (
    CONFIG_KEY_EXPECTED_HEAD,
    Checkpoint,
    CheckpointTuple,
    empty_checkpoint,
)
from threadloom.constants import (
    CHECKPOINT_MAP,
    COPY,
    END,
    ERROR,
    INPUT,
    INTERRUPT,
    NS_END,
    NS_SEP,
    NULL_TASK_ID,
    RESUME,
    RETURN,
    START,
)
from threadloom.engine.channels import MISSING, Channel
from threadloom.engine.checkpoints import (
    channels_from_checkpoint,
    copy_checkpoint_for_run,
    next_checkpoint,
)
from threadloom.engine.core import (
    Task,
    TaskWrites,
    apply_writes,
    is_finished,
    prepare_tasks,
    read_channels,
)
from threadloom.engine.effects import GetTuple, Put, PutWrites, StateEffect, UserCall
from threadloom.engine.plan import Plan, TaskWriteContext
from threadloom.engine.stream import fold_writes
from threadloom.errors import InvalidUpdateError
from threadloom.types import Interrupt, PregelTask, StateSnapshot, StateUpdate

__all__ = [
    "addressed",
    "bulk_update",
    "pending_interrupts",
    "state_snapshot",
    "thread_ns",
    "with_checkpoint_map",
]


def pending_interrupts(pending: Sequence[tuple[str, str, Any]]) -> list[Interrupt]:
    """Interrupts raised by tasks that have not finished since (what a resume must answer)."""
    by_task: dict[str, list[tuple[str, Any]]] = defaultdict(list)
    for tid, chan, value in pending:
        if tid != NULL_TASK_ID:
            by_task[tid].append((chan, value))
    found: list[Interrupt] = []
    for writes in by_task.values():
        if is_finished(writes):
            continue
        for chan, value in writes:
            if chan == INTERRUPT:
                found.extend(value)
    return found


def thread_ns(ns: str) -> str:
    """The namespace a ``checkpointer=True`` subgraph saves under: ``ns`` without task ids, so
    every run of it on a thread continues one history."""
    return NS_SEP.join(part.split(NS_END)[0] for part in ns.split(NS_SEP))


def _ns(config: RunnableConfig) -> str:
    return str(config.get("configurable", {}).get("checkpoint_ns", ""))


def _version_fn(saver: Any) -> Any:
    return lambda current: saver.get_next_version(current, None)


def state_snapshot(
    plan: Plan,
    config: RunnableConfig,
    saved: CheckpointTuple | None,
    saver: Any,
    *,
    historical: bool = False,
    subgraph_state: Callable[[Task], Any] | None = None,
) -> StateSnapshot:
    """The snapshot of ``saved``: live (head) or historical (an addressed checkpoint).

    ``subgraph_state(task)`` gives the ``state`` shown for a task that runs a subgraph.
    """
    if saved is None:
        return StateSnapshot({}, (), config, None, None, None, (), ())
    historical = historical or bool(config.get("configurable", {}).get("checkpoint_id"))
    checkpoint = _versions_copy(saved.checkpoint)
    channels = ChannelsOnDemand(plan, checkpoint["channel_values"])
    pending = list(saved.pending_writes or [])
    next_version = _version_fn(saver)
    step = int(saved.metadata.get("step", -1)) + 1
    tasks = prepare_tasks(
        plan, checkpoint, channels, step, config, ns=_ns(config), read_inputs=False
    )
    # The input a run left unfinished (a Command's update and goto) shows in the values, not in
    # the tasks: they are planned before it, as LangGraph's snapshot does.
    null_writes = [(c, v) for tid, c, v in pending if tid == NULL_TASK_ID and c != RESUME]
    if null_writes:
        apply_writes(
            plan, checkpoint, channels, [TaskWrites("~", INPUT, (), null_writes)], next_version
        )
    by_task: dict[str, list[tuple[str, Any]]] = defaultdict(list)
    for tid, chan, value in pending:
        by_task[tid].append((chan, value))
    shown: list[PregelTask] = []
    waiting: list[str] = []
    finished: list[TaskWrites] = []
    for task in tasks.values():
        writes = by_task.get(task.id, [])
        done, error, raised, result = task_outcome(plan, writes)
        if done:
            finished.append(TaskWrites(task.path_str, task.name, task.triggers, writes))
        interrupts = tuple(raised) if historical or not done else ()
        if historical or not done:
            waiting.append(task.name)  # the live view's next: only what has not finished
        state = None
        if subgraph_state is not None and task.node.subgraph is not None:
            state = subgraph_state(task)
        shown.append(PregelTask(task.id, task.name, task.path, error, interrupts, state, result))
    if not historical and finished:
        apply_writes(plan, checkpoint, channels, finished, next_version)
    keys = plan.stream_channels
    values = (
        read_channels(channels, keys)
        if isinstance(keys, str)
        else LazyDict(partial(read_channels, channels, keys))
    )
    interrupts = tuple(i for t in shown for i in t.interrupts)
    return StateSnapshot(
        values=values,
        next=tuple(waiting),
        config=with_checkpoint_map(saved.config, saved.metadata),
        metadata=dict(saved.metadata),
        created_at=saved.checkpoint["ts"],
        parent_config=with_checkpoint_map(saved.parent_config, saved.metadata),
        tasks=tuple(shown),
        interrupts=interrupts,
    )


def with_checkpoint_map(config: RunnableConfig | None, metadata: Mapping[str, Any]) -> Any:
    """A subgraph checkpoint's config with its ``checkpoint_map``: the checkpoint of every
    enclosing graph and its own, by namespace. Invoking the root graph with it travels back to
    that point of the subgraph (LangGraph's time travel into a subgraph)."""
    if config is None:
        return None
    configurable = config.get("configurable", {})
    ns = configurable.get("checkpoint_ns")
    if not ns:
        return config
    mapped = {**(metadata.get("parents") or {}), ns: configurable["checkpoint_id"]}
    return {**config, "configurable": {**configurable, CHECKPOINT_MAP: mapped}}


def _versions_copy(checkpoint: Checkpoint) -> Checkpoint:
    """A copy whose version dicts ``apply_writes`` may change; the values are not copied (nor
    decoded): channels restore from them only when read."""
    return {
        **checkpoint,
        "channel_versions": dict(checkpoint["channel_versions"]),
        "versions_seen": {k: dict(v) for k, v in checkpoint["versions_seen"].items()},
    }


class ChannelsOnDemand(Mapping[str, Channel]):
    """The plan's channels, each restored from the checkpoint's values when first used.

    Computing ``next`` and ``tasks`` reads the ``Send`` packets and the trigger channels only,
    so a snapshot decodes the state it shows (messages, say) only when its values are read.
    """

    __slots__ = ("_made", "_protos", "_values")

    def __init__(self, plan: Plan, values: Mapping[str, Any]) -> None:
        self._protos = plan.channels
        self._values = values
        self._made: dict[str, Channel] = {}

    def __getitem__(self, name: str) -> Channel:
        found = self._made.get(name)
        if found is None:
            proto = self._protos[name]
            found = self._made[name] = proto.from_checkpoint(self._values.get(name, MISSING))
        return found

    def __contains__(self, name: object) -> bool:
        return name in self._protos

    def __iter__(self) -> Iterator[str]:
        return iter(self._protos)

    def __len__(self) -> int:
        return len(self._protos)


def task_outcome(
    plan: Plan, writes: Sequence[tuple[str, Any]]
) -> tuple[bool, Any, list[Interrupt], Any]:
    """What a task's saved ``writes`` say of it: finished, its error, the interrupts it raised
    and its result (None unless finished)."""
    done = is_finished(writes)
    error = next((v for c, v in writes if c == ERROR), None)
    raised = [i for c, v in writes if c == INTERRUPT for i in v]
    return done, error, raised, _task_result(plan, writes) if done else None


def outcomes_by_task(
    plan: Plan, pending: Iterable[tuple[str, str, Any]]
) -> dict[str, tuple[Any, list[Interrupt], Any]]:
    """``(error, interrupts, result)`` of each task that saved writes in ``pending``."""
    by_task: dict[str, list[tuple[str, Any]]] = defaultdict(list)
    for tid, chan, value in pending:
        by_task[tid].append((chan, value))
    return {tid: task_outcome(plan, writes)[1:] for tid, writes in by_task.items()}


def _task_result(plan: Plan, writes: Sequence[tuple[str, Any]]) -> Any:
    """A finished task's result as LangGraph shows it: its return value (functional API), else
    its writes to the keys the snapshot's values show (a low-level ``Pregel``'s every channel,
    not only its output), a key written twice as ``{"$writes": [...]}``; a task that wrote none
    of several keys shows ``{}``."""
    returned = next((v for c, v in writes if c == RETURN), MISSING)
    if returned is not MISSING:
        return returned
    keys = plan.stream_channels
    if isinstance(keys, str):
        return fold_writes(writes, keys).get(keys)
    return fold_writes(writes, keys)


# --- update_state ---------------------------------------------------------------------------------


def bulk_update(
    plan: Plan, config: RunnableConfig, supersteps: Sequence[Sequence[Any]], saver: Any
) -> Generator[StateEffect, Any, RunnableConfig]:
    """Apply each superstep of updates as one new checkpoint; return the last one's config."""
    if not supersteps:
        raise ValueError("No supersteps provided")
    current = config
    result = config
    queued = list(supersteps)
    while queued:
        updates = queued.pop(0)
        if not updates:
            raise ValueError("No updates provided")
        queued[:0] = _after_copy(updates)
        saved = yield GetTuple(addressed(current))
        if current.get("configurable", {}).get("checkpoint_id"):
            head = yield GetTuple(addressed(current, head=True))
        else:
            head = saved  # the head is the checkpoint updated
        effects = yield from _update_step(plan, current, saved, head, updates, saver)
        for effect in effects:
            returned = yield effect
            if isinstance(effect, Put):
                current = _merge_result(current, returned)
                # what the saver returned, as LangGraph returns it (not the caller's metadata,
                # tags or recursion_limit)
                result = with_checkpoint_map(returned, saved.metadata if saved else {})
    return result


def _after_copy(updates: Sequence[Any]) -> list[list[StateUpdate]]:
    """A ``__copy__`` given a list of ``(values, as_node)`` updates applies them as the next
    superstep, on the copy (LangGraph copies and updates in one call so); else nothing."""
    first = updates[0] if isinstance(updates[0], StateUpdate) else StateUpdate(*updates[0])
    if first.as_node != COPY or not isinstance(first.values, list) or not first.values:
        return []
    for item in first.values:
        if not isinstance(item, Sequence) or isinstance(item, str):
            raise InvalidUpdateError(f"Invalid update item: {item!r} when copying checkpoint")
    return [[StateUpdate(*item[:2]) for item in first.values]]


def addressed(config: RunnableConfig, *, head: bool = False) -> RunnableConfig:
    """The saver config of the checkpoint ``config`` names, or of the thread's head."""
    configurable = config.get("configurable", {})
    out = {
        "thread_id": str(configurable["thread_id"]),
        "checkpoint_ns": configurable.get("checkpoint_ns", ""),
    }
    if not head and configurable.get("checkpoint_id"):
        out["checkpoint_id"] = configurable["checkpoint_id"]
    return {"configurable": out}


def _merge_result(config: RunnableConfig, returned: RunnableConfig) -> RunnableConfig:
    configurable = {**config.get("configurable", {}), **returned["configurable"]}
    return {**config, "configurable": configurable}


def _update_step(
    plan: Plan,
    config: RunnableConfig,
    saved: CheckpointTuple | None,
    head: CheckpointTuple | None,
    updates: Sequence[Any],
    saver: Any,
) -> Generator[UserCall, Any, list[Put | PutWrites]]:
    """The saves of one superstep of updates; yields only to await a node's async routers (its
    writes are all computed before anything is saved)."""
    updates = [u if isinstance(u, StateUpdate) else StateUpdate(*u) for u in updates]
    checkpoint = copy_checkpoint_for_run(saved.checkpoint) if saved else empty_checkpoint()
    channels = channels_from_checkpoint(plan, checkpoint)
    saved_step = int(saved.metadata.get("step", -1)) if saved else -1
    next_version = _version_fn(saver)
    pending = list(saved.pending_writes or []) if saved else []
    parent_id = saved.checkpoint["id"] if saved else None
    head_id = head.checkpoint["id"] if head else None
    effects: list[Put | PutWrites] = []
    first = updates[0]
    source = "update"
    step = saved_step + 1

    if first.as_node == COPY:
        if saved is None:
            raise InvalidUpdateError("Cannot copy a non-existent checkpoint")
        parent_id = (
            saved.parent_config["configurable"]["checkpoint_id"] if saved.parent_config else None
        )
        source = "fork"
        updated: Iterable[str] = checkpoint.get("updated_channels") or []
    elif first.values is None and first.as_node == END:
        if len(updates) > 1:
            raise InvalidUpdateError("Cannot apply multiple updates when clearing state")
        tasks = prepare_tasks(plan, checkpoint, channels, saved_step + 1, config, ns=_ns(config))
        by_task: dict[str, list[tuple[str, Any]]] = defaultdict(list)
        for tid, chan, value in pending:
            by_task[tid].append((chan, value))
        cleared = [TaskWrites("~", INPUT, (), by_task.get(NULL_TASK_ID, []))]
        cleared += [
            TaskWrites(t.path_str, t.name, t.triggers, by_task.get(t.id, []))
            for t in tasks.values()
        ]
        updated = apply_writes(plan, checkpoint, channels, cleared, next_version)
    elif first.as_node == INPUT:
        if len(updates) > 1:
            raise InvalidUpdateError("Cannot apply multiple updates when updating as input")
        if first.values is None:
            raise InvalidUpdateError(f"Received no input for {plan.input_channel}")
        source = "input"
        step = saved_step + 1 if saved else -1
        updated = apply_writes(
            plan,
            checkpoint,
            channels,
            [TaskWrites("~", INPUT, (), plan.write_input(first.values))],
            next_version,
        )
    else:
        if len(updates) > 1 and any(u.as_node is None for u in updates):
            raise InvalidUpdateError("as_node is required when applying multiple updates")
        tasks = prepare_tasks(plan, checkpoint, channels, saved_step + 1, config, ns=_ns(config))
        applied: list[TaskWrites] = []
        taken: dict[str, int] = defaultdict(int)  # updates as each node so far
        for index, update in enumerate(updates):
            as_node = update.as_node or _infer_as_node(plan, checkpoint)
            writer = plan.update_writers.get(as_node)
            if writer is None or (as_node not in plan.nodes and as_node != START):
                raise _unknown_as_node(plan, as_node)
            node = plan.nodes[as_node]

            ctx = TaskWriteContext(channels, node, config)
            awriter = plan.update_awriters.get(as_node)
            if awriter is None:
                writes = writer(update.values, ctx)
            else:  # async routers: awaited by the async driver (the sync one calls writer)
                writes = yield UserCall(writer, awriter, (update.values, ctx))
            # the update's own task id, else the node's next task (a node that runs twice in
            # the step, by an edge and by a Send, gets one update each, as in LangGraph)
            named = [t for t in tasks.values() if t.name == as_node]
            if update.task_id is not None:
                task = next((t for t in named if t.id == update.task_id), None)
            else:
                task = named[taken[as_node]] if taken[as_node] < len(named) else None
                taken[as_node] += 1
            if task is not None:
                tid, path_str = task.id, task.path_str
                # kept on the checkpoint as the task's writes, unless the thread has moved past
                # it: its other children would read them (as LangGraph 1.2)
                if saved is not None and writes and parent_id == head_id:
                    effects.append(PutWrites(saved.config, writes, tid, path_str))
            else:
                tid = str(uuid.uuid5(uuid.UUID(checkpoint["id"]), as_node))
                path_str = "~" + as_node
            # applied in the order given (LangGraph's update tasks sort by their index)
            applied.append(TaskWrites(f"~{index:09d}", as_node, ("__interrupt__",), writes))
        updated = apply_writes(plan, checkpoint, channels, applied, next_version)

    new = next_checkpoint(checkpoint, channels, step, updated)
    if first.as_node == COPY and saved is not None:
        new["channel_values"] = dict(saved.checkpoint["channel_values"])
    # a subgraph's update keeps pointing at the checkpoints of the graphs enclosing it
    parents = dict(saved.metadata.get("parents") or {}) if saved else {}
    metadata = {"source": source, "step": step, "parents": parents}
    versions_before = saved.checkpoint["channel_versions"] if saved else {}
    new_versions = {k: v for k, v in new["channel_versions"].items() if versions_before.get(k) != v}
    if first.as_node == COPY:
        new_versions = dict(new["channel_versions"])
    configurable = dict(config.get("configurable", {}))
    configurable["checkpoint_ns"] = configurable.get("checkpoint_ns", "")
    configurable["checkpoint_id"] = parent_id
    configurable[CONFIG_KEY_EXPECTED_HEAD] = head_id
    put_config = {**config, "configurable": configurable}
    effects.append(Put(put_config, new, metadata, new_versions))  # type: ignore[arg-type]
    return effects


def _infer_as_node(plan: Plan, checkpoint: Any) -> str:
    """The node an update without ``as_node`` is applied as, by LangGraph's rule: the graph's
    only node; else the node that read the newest channel version (``__start__`` when no node
    read any, so a subgraph interrupted in its first node is updated as its input)."""
    if len(plan.nodes) == 1:
        return next(iter(plan.nodes))
    seen = checkpoint["versions_seen"]
    if not any(v for versions in seen.values() for v in versions.values()):
        if START in plan.nodes:
            return START
        raise _ambiguous_update(sorted(plan.nodes), "no node has run on this thread yet")
    last = sorted(
        (v, n) for n, versions in seen.items() if n in plan.nodes for v in versions.values()
    )
    if len(last) == 1 or (last and last[-1][0] != last[-2][0]):
        return str(last[-1][1])
    tied = sorted({str(n) for v, n in last if v == last[-1][0]})
    raise _ambiguous_update(tied, "the last step ran several nodes")


def _ambiguous_update(candidates: list[str], why: str) -> InvalidUpdateError:
    """LangGraph's message, then which nodes the update could come from and the fix."""
    return InvalidUpdateError(
        f"Ambiguous update, specify as_node: {why}, so update_state cannot tell which of "
        f"{candidates} the update comes from. Pass it, e.g. "
        f"graph.update_state(config, values, as_node={candidates[0]!r})."
    )


def _unknown_as_node(plan: Plan, as_node: str) -> InvalidUpdateError:
    """LangGraph's message, then the nodes ``as_node`` may name."""
    known = sorted(n for n in plan.nodes if n != START)
    start = f" (or {START!r} to update as the input)" if START in plan.update_writers else ""
    return InvalidUpdateError(
        f"Node {as_node} does not exist. as_node must name one of the graph's nodes: "
        f"{known}{start}."
    )
