"""What a compiled graph shows of itself: its attributes, its drawing, its subgraphs, its node
cache and ``with_config`` (a mixin of ``Pregel``; nothing here runs the graph)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any, Self

from langchain_core.runnables import RunnableConfig

from threadloom.engine import caching
from threadloom.engine._checks import check_backend

if TYPE_CHECKING:
    from langchain_core.runnables.graph import Graph

    from threadloom.engine.plan import Plan
    from threadloom.engine.pregel import Pregel

__all__ = ["GraphInfo"]


class GraphInfo:
    """The compiled graph's attributes, drawing and cache (mixed into ``Pregel``)."""

    plan: Plan
    config: RunnableConfig
    _saver: Any
    _run_options: dict[Any, Any]
    lowlevel_io: tuple[str | Sequence[str], str | Sequence[str]] | None = None
    """A low-level ``Pregel``'s ``(input_channels, output_channels)``; None for a compiled
    graph or an ``@entrypoint``."""

    @property
    def checkpointer(self) -> Any:
        """The saver given to compile (``None``, a saver, or ``True``/``False`` for subgraphs)."""
        return self.plan.checkpointer

    @checkpointer.setter
    def checkpointer(self, saver: Any) -> None:
        """Another saver for this graph's next runs (``app.checkpointer = InMemorySaver()``);
        copies made before (``with_config``, ``copy``) keep theirs."""
        check_backend(saver, "checkpointer", "setattr")  # `graph.checkpointer = saver`
        self.plan = replace(self.plan, checkpointer=saver)
        self._saver = self._with_allowlist(saver)

    @property
    def store(self) -> Any:
        """The store given to compile, if any."""
        return self.plan.store

    @property
    def nodes(self) -> dict[str, Any]:
        """The graph's nodes by name (START included)."""
        return dict(self.plan.nodes)

    @property
    def cache(self) -> Any:
        """The node cache given to compile (``@entrypoint(cache=...)``), if any."""
        return self.plan.cache

    channels = property(lambda self: dict(self.plan.channels), doc="The channels, by name.")
    input_channels = property(
        lambda self: self.lowlevel_io[0] if self.lowlevel_io else self.plan.input_channel,
        doc="Where input goes (a low-level ``Pregel``'s ``input_channels`` as given).",
    )
    output_channels = property(lambda self: self.plan.output_channels, doc="What invoke returns.")
    stream_channels = property(lambda self: self.plan.stream_channels, doc="What values hold.")

    # --- drawing (graph/_drawing.py) --------------------------------------------------------------

    def get_graph(self, config: RunnableConfig | None = None, *, xray: int | bool = False) -> Graph:
        """The graph as langchain-core's ``Graph`` (``draw_mermaid()``, ``draw_ascii()``…);
        ``xray`` draws subgraphs inside their nodes, that many levels deep (``True``: all)."""
        from threadloom.graph._drawing import draw_graph

        return draw_graph(self, config, xray)

    async def aget_graph(
        self, config: RunnableConfig | None = None, *, xray: int | bool = False
    ) -> Graph:
        """Same as ``get_graph`` (drawing does no I/O)."""
        return self.get_graph(config, xray=xray)

    def get_subgraphs(
        self, *, namespace: str | None = None, recurse: bool = False
    ) -> Iterator[tuple[str, Pregel]]:
        """``(namespace, compiled graph)`` of the nodes that run a compiled graph."""
        from threadloom.graph._drawing import subgraphs_of

        return subgraphs_of(self, namespace, recurse)

    async def aget_subgraphs(
        self, *, namespace: str | None = None, recurse: bool = False
    ) -> AsyncIterator[tuple[str, Pregel]]:
        """Same as ``get_subgraphs``, as an async iterator."""
        for item in self.get_subgraphs(namespace=namespace, recurse=recurse):
            yield item

    # --- node cache (engine/caching.py) -----------------------------------------------------------

    def clear_cache(self, nodes: Sequence[str] | None = None) -> None:
        """Drop the cached writes of ``nodes`` (default: every node) from the graph's cache."""
        self._cache_or_raise().clear(caching.namespaces_of(self.plan, nodes))

    async def aclear_cache(self, nodes: Sequence[str] | None = None) -> None:
        """Async ``clear_cache``."""
        await self._cache_or_raise().aclear(caching.namespaces_of(self.plan, nodes))

    def _cache_or_raise(self) -> Any:
        if self.plan.cache is None:
            raise ValueError(
                "No cache is set for this graph. Cannot clear cache. Compile it with one, e.g. "
                "builder.compile(cache=InMemoryCache()) or @entrypoint(cache=InMemoryCache())."
            )
        return self.plan.cache

    # --- configuration ----------------------------------------------------------------------------

    def with_config(self, config: RunnableConfig | None = None, **kwargs: Any) -> Self:
        """A copy whose runs merge ``config`` into theirs."""
        merged: dict[str, Any] = {**self.config, **(config or {}), **kwargs}
        clone = type(self).__new__(type(self))
        clone.__dict__.update(self.__dict__)
        clone.config = merged  # type: ignore[assignment]
        clone._run_options = {}  # (its own: a copy may be given another saver or timeout)
        return clone

    def copy(self, update: dict[str, Any] | None = None) -> Self:
        """A copy of the compiled graph with the attributes in ``update`` replaced
        (``graph.copy({"checkpointer": saver})``)."""
        clone = self.with_config()
        for name, value in (update or {}).items():
            setattr(clone, name, value)
        return clone

    def _with_allowlist(self, saver: Any) -> Any:
        """``saver`` widened to the types the graph's state may hold (when it can be)."""
        if saver is None or isinstance(saver, bool) or not self.plan.allowed_types:
            return saver if not isinstance(saver, bool) else None
        widen = getattr(saver, "with_allowlist", None)
        return widen(self.plan.allowed_types) if widen else saver
