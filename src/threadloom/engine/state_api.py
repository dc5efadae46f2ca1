"""The state API of a compiled graph: get_state, get_state_history and update_state, sync and async.

A mixin of ``Pregel``: it reads and writes a thread's checkpoints through the graph's saver, and
leaves the snapshot and update rules to ``engine/snapshot.py``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator, Sequence
from typing import TYPE_CHECKING, Any

from langchain_core.runnables import RunnableConfig

from threadloom.constants import NS_END, NS_SEP
from threadloom.engine import _checks, snapshot
from threadloom.types import StateSnapshot

if TYPE_CHECKING:
    from threadloom.engine.plan import Plan

__all__ = ["StateAPI"]

CONFIG_KEYS_MESSAGE = (
    "Checkpointer requires one or more of the following 'configurable' keys: "
    "thread_id, checkpoint_ns, checkpoint_id"
)


class StateAPI:
    """Reading and editing a thread's saved state (mixed into ``Pregel``)."""

    plan: Plan
    _saver: Any

    if TYPE_CHECKING:  # provided by Pregel

        def _merge_config(self, config: RunnableConfig | None) -> RunnableConfig: ...

        def _check_config(self, config: RunnableConfig, saver: Any) -> None: ...

    def _require_saver(self) -> Any:
        if self._saver is None:
            raise ValueError("No checkpointer set")
        return self._saver

    def get_state(self, config: RunnableConfig, *, subgraphs: bool = False) -> StateSnapshot:
        """The thread's current state (or the checkpoint ``config`` names).

        A ``checkpoint_ns`` naming a subgraph's namespace reads that subgraph's state; with
        ``subgraphs=True`` each task running a subgraph carries the subgraph's own snapshot.
        """
        saver = self._require_saver()
        merged = self._merge_config(config)
        graph = self._graph_for_ns(str(merged["configurable"].get("checkpoint_ns", "")))
        return _snapshot_of(graph, saver, merged, subgraphs)

    async def aget_state(self, config: RunnableConfig, *, subgraphs: bool = False) -> StateSnapshot:
        """Async ``get_state``."""
        saver = self._require_saver()
        merged = self._merge_config(config)
        graph = self._graph_for_ns(str(merged["configurable"].get("checkpoint_ns", "")))
        if subgraphs:
            return _snapshot_of(graph, saver, merged, subgraphs)
        saved = await saver.aget_tuple(_saver_config(merged))
        return snapshot.state_snapshot(graph.plan, merged, saved, saver)

    def _plan_for(self, config: RunnableConfig) -> Plan:
        """The plan of the graph whose namespace ``config`` names (a subgraph's, or ours)."""
        return self._graph_for_ns(str(config["configurable"].get("checkpoint_ns", ""))).plan

    def _graph_for_ns(self, ns: str) -> StateAPI:
        """The graph whose checkpoints live under ``ns`` (this one for the root namespace)."""
        graph: StateAPI = self
        for part in ns.split(NS_SEP) if ns else ():
            name = part.split(NS_END)[0]
            node = graph.plan.nodes.get(name)
            if node is None or node.subgraph is None:
                raise ValueError(f"Subgraph {name} not found")
            graph = node.subgraph
        return graph

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
        merged = self._merge_config(config)
        plan = self._plan_for(merged)
        tuples = list(
            saver.list(
                _saver_config(merged, default_ns=True), filter=filter, before=before, limit=limit
            )
        )
        for saved in tuples:
            yield snapshot.state_snapshot(plan, merged, saved, saver, historical=True)

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
        merged = self._merge_config(config)
        plan = self._plan_for(merged)
        tuples = [
            t
            async for t in saver.alist(
                _saver_config(merged, default_ns=True), filter=filter, before=before, limit=limit
            )
        ]
        for saved in tuples:
            yield snapshot.state_snapshot(plan, merged, saved, saver, historical=True)

    def update_state(
        self,
        config: RunnableConfig,
        values: Any,
        as_node: str | None = None,
        task_id: str | None = None,
    ) -> RunnableConfig:
        """Write ``values`` as if ``as_node`` returned them; return the new checkpoint's config."""
        from threadloom.types import StateUpdate

        return self.bulk_update_state(config, [[StateUpdate(values, as_node, task_id)]])

    def bulk_update_state(
        self, config: RunnableConfig, supersteps: Sequence[Sequence[Any]]
    ) -> RunnableConfig:
        """Apply several supersteps of updates, each saved as one new checkpoint."""
        saver = self._require_saver()
        merged = self._merge_config(config)
        self._check_config(merged, saver)
        _checks.check_updates(supersteps, self._plan_for(merged).state_keys)
        return snapshot.bulk_update(self._plan_for(merged), merged, supersteps, saver)

    async def aupdate_state(
        self,
        config: RunnableConfig,
        values: Any,
        as_node: str | None = None,
        task_id: str | None = None,
    ) -> RunnableConfig:
        """Async ``update_state``."""
        from threadloom.types import StateUpdate

        return await self.abulk_update_state(config, [[StateUpdate(values, as_node, task_id)]])

    async def abulk_update_state(
        self, config: RunnableConfig, supersteps: Sequence[Sequence[Any]]
    ) -> RunnableConfig:
        """Async ``bulk_update_state``."""
        saver = self._require_saver()
        merged = self._merge_config(config)
        self._check_config(merged, saver)
        _checks.check_updates(supersteps, self._plan_for(merged).state_keys)
        return await snapshot.abulk_update(self._plan_for(merged), merged, supersteps, saver)


def _snapshot_of(
    graph: StateAPI, saver: Any, config: RunnableConfig, subgraphs: bool
) -> StateSnapshot:
    """``graph``'s snapshot at ``config``; its subgraph tasks point at (or hold) their own state."""
    saved = saver.get_tuple(_saver_config(config))
    thread_id = config["configurable"]["thread_id"]

    def subgraph_state(task: Any) -> Any:
        task_config: RunnableConfig = {
            "configurable": {"thread_id": thread_id, "checkpoint_ns": task.ns}
        }
        if not subgraphs:
            return task_config
        return _snapshot_of(task.node.subgraph, saver, task_config, True)

    return snapshot.state_snapshot(graph.plan, config, saved, saver, subgraph_state=subgraph_state)


def _saver_config(config: RunnableConfig, *, default_ns: bool = False) -> RunnableConfig:
    configurable = config.get("configurable") or {}
    if configurable.get("thread_id") is None:
        raise ValueError(f"{CONFIG_KEYS_MESSAGE}. Pass {{'configurable': {{'thread_id': ...}}}}")
    return snapshot.addressed(config)
