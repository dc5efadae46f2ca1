"""The state API of a compiled graph: get_state, get_state_history and update_state, sync and async.

A mixin of ``Pregel``. Each call is one core (a generator yielding saver effects) that the sync
and the async methods hand to their driver's ``result_of``, so the async API only ever calls the
saver's async methods. The snapshot and update rules are ``engine/snapshot.py``'s.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Generator, Iterator, Sequence
from typing import TYPE_CHECKING, Any, cast

from langchain_core.runnables import RunnableConfig

from threadloom.constants import NS_END, NS_SEP
from threadloom.engine import _checks, aio, snapshot
from threadloom.engine import sync as sync_driver
from threadloom.engine.call_setup import (
    CONFIG_KEYS_MESSAGE,
    ROOT_WITH_PARENTS_SAVER,
    check_thread_config,
    merge_config,
)
from threadloom.engine.effects import GetTuple, ListTuples, SaverEffect, StateEffect
from threadloom.errors import MissingThreadIdError
from threadloom.types import StateSnapshot, StateUpdate

if TYPE_CHECKING:
    from threadloom.engine.plan import Plan

__all__ = ["StateAPI"]


class StateAPI:
    """Reading and editing a thread's saved state (mixed into ``Pregel``)."""

    plan: Plan
    config: RunnableConfig
    _saver: Any

    def _require_saver(self) -> Any:
        if self._saver is None:
            if self.plan.checkpointer is True:  # it saves with a parent it does not have here
                raise RuntimeError(ROOT_WITH_PARENTS_SAVER)
            raise ValueError("No checkpointer set")
        return self._saver

    def get_state(self, config: RunnableConfig, *, subgraphs: bool = False) -> StateSnapshot:
        """The thread's current state (or the checkpoint ``config`` names).

        A ``checkpoint_ns`` naming a subgraph's namespace reads that subgraph's state; with
        ``subgraphs=True`` each task running a subgraph carries the subgraph's own snapshot.
        """
        saver = self._require_saver()
        return sync_driver.result_of(self._state(config, subgraphs, saver), saver)  # type: ignore[no-any-return]

    async def aget_state(self, config: RunnableConfig, *, subgraphs: bool = False) -> StateSnapshot:
        """Async ``get_state``."""
        saver = self._require_saver()
        return await aio.result_of(self._state(config, subgraphs, saver), saver)  # type: ignore[no-any-return]

    def _state(
        self, config: RunnableConfig, subgraphs: bool, saver: Any
    ) -> Generator[SaverEffect, Any, StateSnapshot]:
        merged = self._stored_at(merge_config(self.config, config))
        graph = self._graph_for_ns(str(merged["configurable"].get("checkpoint_ns", "")))
        state = yield from _snapshot_of(graph, saver, merged, subgraphs)
        if state.metadata is None and not self.config:  # no checkpoint: the config as given,
            return state._replace(config=config)  # without run metadata (as LangGraph)
        return state

    def _plan_for(self, config: RunnableConfig, *, for_update: bool = False) -> Plan:
        """The plan of the graph whose namespace ``config`` names (a subgraph's, or ours)."""
        ns = str(config["configurable"].get("checkpoint_ns", ""))
        return self._graph_for_ns(ns, for_update=for_update).plan

    def _stored_at(self, config: RunnableConfig) -> RunnableConfig:
        """``config`` with the namespace its graph's checkpoints are stored under: a subgraph
        compiled with ``checkpointer=True`` keeps one history per thread, under its node's name
        (a task's namespace, as ``get_state(config).tasks[i].state`` gives it, without task ids)."""
        ns = str(config["configurable"].get("checkpoint_ns", ""))
        graph = self._graph_for_ns(ns) if ns else self
        if graph is self or graph.plan.checkpointer is not True:
            return config
        configurable = {**config["configurable"], "checkpoint_ns": snapshot.thread_ns(ns)}
        return {**config, "configurable": configurable}

    def _graph_for_ns(self, ns: str, *, for_update: bool = False) -> StateAPI:
        """The graph whose checkpoints live under ``ns`` (this one for the root namespace).

        A namespace no declared subgraph owns (a graph a tool ran, say) is read with this graph,
        as LangGraph does; it cannot be updated: our nodes would write the wrong state there.
        """
        graph: StateAPI = self
        for part in ns.split(NS_SEP) if ns else ():
            name = part.split(NS_END)[0]
            node = graph.plan.nodes.get(name)
            if node is None or node.subgraph is None:
                if not for_update:
                    return self
                raise ValueError(
                    f"Subgraph {snapshot.thread_ns(ns)} not found: the namespace {ns!r} belongs "
                    "to no subgraph node of this graph, so its state cannot be updated through it"
                )
            graph = node.subgraph
        return graph

    def get_subgraphs(
        self, *, namespace: str | None = None, recurse: bool = False
    ) -> Iterator[tuple[str, Any]]:
        """The graphs this graph's nodes run, as ``(namespace, graph)``: every one (with
        ``recurse``, theirs too, as ``"node|inner"``), or only the one at ``namespace`` (task ids
        left out; matched a whole ``|`` part at a time, so ``"a_b"`` is not ``"a"``)."""
        wanted = namespace.split(NS_SEP) if namespace else None
        for name, node in self.plan.nodes.items():
            graph = node.subgraph
            if graph is None or (wanted is not None and wanted[0] != name):
                continue
            if wanted is None or len(wanted) == 1:
                yield name, graph
                if wanted is not None:
                    return
            if recurse:
                rest = NS_SEP.join(wanted[1:]) if wanted else None
                for inner, sub in graph.get_subgraphs(namespace=rest, recurse=True):
                    yield f"{name}{NS_SEP}{inner}", sub

    async def aget_subgraphs(
        self, *, namespace: str | None = None, recurse: bool = False
    ) -> AsyncIterator[tuple[str, Any]]:
        """Async ``get_subgraphs`` (nothing here waits)."""
        for found in self.get_subgraphs(namespace=namespace, recurse=recurse):
            yield found

    def get_state_history(
        self,
        config: RunnableConfig,
        *,
        filter: dict[str, Any] | None = None,
        before: RunnableConfig | None = None,
        limit: int | None = None,
    ) -> Iterator[StateSnapshot]:
        """Every checkpoint of the thread, newest first, as historical snapshots."""
        saver = self._require_saver()
        yield from sync_driver.result_of(self._history(config, filter, before, limit, saver), saver)

    async def aget_state_history(
        self,
        config: RunnableConfig,
        *,
        filter: dict[str, Any] | None = None,
        before: RunnableConfig | None = None,
        limit: int | None = None,
    ) -> AsyncIterator[StateSnapshot]:
        """Async ``get_state_history``."""
        saver = self._require_saver()
        for state in await aio.result_of(
            self._history(config, filter, before, limit, saver), saver
        ):
            yield state

    def _history(
        self,
        config: RunnableConfig,
        filter: dict[str, Any] | None,
        before: RunnableConfig | None,
        limit: int | None,
        saver: Any,
    ) -> Generator[SaverEffect, Any, Iterator[StateSnapshot]]:
        """The saved checkpoints, listed at once; each becomes a snapshot when it is reached."""
        merged = self._stored_at(merge_config(self.config, config))
        plan = self._plan_for(merged)
        tuples = yield ListTuples(_saver_config(merged), filter, before, limit)
        pointer = _subgraph_pointer(merged["configurable"]["thread_id"])
        return (
            snapshot.state_snapshot(
                plan, merged, saved, saver, historical=True, subgraph_state=pointer
            )
            for saved in tuples
        )

    def update_state(
        self,
        config: RunnableConfig,
        values: Any,
        as_node: str | None = None,
        task_id: str | None = None,
    ) -> RunnableConfig:
        """Write ``values`` as if ``as_node`` returned them; return the new checkpoint's config."""
        return self.bulk_update_state(config, [[StateUpdate(values, as_node, task_id)]])

    def bulk_update_state(
        self, config: RunnableConfig, supersteps: Sequence[Sequence[Any]]
    ) -> RunnableConfig:
        """Apply several supersteps of updates, each saved as one new checkpoint."""
        saver = self._require_saver()
        return sync_driver.result_of(self._bulk_update(config, supersteps, saver), saver)  # type: ignore[no-any-return]

    async def aupdate_state(
        self,
        config: RunnableConfig,
        values: Any,
        as_node: str | None = None,
        task_id: str | None = None,
    ) -> RunnableConfig:
        """Async ``update_state``."""
        return await self.abulk_update_state(config, [[StateUpdate(values, as_node, task_id)]])

    async def abulk_update_state(
        self, config: RunnableConfig, supersteps: Sequence[Sequence[Any]]
    ) -> RunnableConfig:
        """Async ``bulk_update_state``."""
        saver = self._require_saver()
        return await aio.result_of(self._bulk_update(config, supersteps, saver), saver)  # type: ignore[no-any-return]

    def _bulk_update(
        self, config: RunnableConfig, supersteps: Sequence[Sequence[Any]], saver: Any
    ) -> Generator[StateEffect, Any, RunnableConfig]:
        merged = merge_config(self.config, config)
        check_thread_config(merged, saver)
        plan = self._plan_for(merged, for_update=True)
        merged = self._stored_at(merged)
        _checks.check_updates(supersteps, plan.state_keys)
        return (yield from snapshot.bulk_update(plan, merged, supersteps, saver))


def _snapshot_of(
    graph: StateAPI, saver: Any, config: RunnableConfig, subgraphs: bool
) -> Generator[SaverEffect, Any, StateSnapshot]:
    """``graph``'s snapshot at ``config``; its subgraph tasks point at (or hold) their own state."""
    saved = yield GetTuple(_saver_config(config))
    pointer = _subgraph_pointer(config["configurable"]["thread_id"])
    state = snapshot.state_snapshot(graph.plan, config, saved, saver, subgraph_state=pointer)
    if not subgraphs or not any(t.state is not None for t in state.tasks):
        return state
    tasks = []
    for task in state.tasks:
        if task.state is not None:  # the subgraph's own snapshot, read the same way
            subgraph = graph.plan.nodes[task.name].subgraph
            config_of_task = cast(RunnableConfig, task.state)
            if subgraph.checkpointer is True:  # one history per thread, under the node's name
                ns = snapshot.thread_ns(config_of_task["configurable"]["checkpoint_ns"])
                config_of_task = {
                    "configurable": {**config_of_task["configurable"], "checkpoint_ns": ns}
                }
            task = task._replace(
                state=(yield from _snapshot_of(subgraph, saver, config_of_task, True))
            )
        tasks.append(task)
    return state._replace(tasks=tuple(tasks))


def _subgraph_pointer(thread_id: Any) -> Callable[[Any], RunnableConfig]:
    """The ``state`` a snapshot shows for a task running a subgraph: the config of the
    subgraph's checkpoints (a snapshot of its own only with ``subgraphs=True``)."""

    def pointer(task: Any) -> RunnableConfig:
        return {"configurable": {"thread_id": thread_id, "checkpoint_ns": task.ns}}

    return pointer


def _saver_config(config: RunnableConfig) -> RunnableConfig:
    configurable = config.get("configurable") or {}
    if configurable.get("thread_id") is None:
        raise MissingThreadIdError(
            f"{CONFIG_KEYS_MESSAGE}. Pass {{'configurable': {{'thread_id': ...}}}}"
        )
    return snapshot.addressed(config)
