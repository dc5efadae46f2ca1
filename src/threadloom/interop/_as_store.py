"""A threadloom store as LangGraph's ``BaseStore``, for LangGraph's engine.

``LangGraphStore`` is a real subclass of ``langgraph.store.base.BaseStore``, so LangGraph's
``compile(store=...)`` accepts it and nodes reach it through ``langgraph.config.get_store()``
or an injected ``store`` argument. Every call goes to the wrapped threadloom store:

- ``batch``/``abatch`` take LangGraph's op records (``GetOp``, ``SearchOp``, ``PutOp``,
  ``ListNamespacesOp`` with ``MatchCondition``), which have the same fields in the same order as
  threadloom's, and rebuild them as threadloom's;
- ``get``/``search``/``put``/``delete``/``list_namespaces`` and their async twins call the
  store's own methods, so threadloom's argument checks and errors apply (an empty namespace, a
  bad filter operator, a TTL on a store without TTL), not LangGraph's;
- results come back as LangGraph's ``Item`` and ``SearchItem``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Final, Literal

from langgraph.store import base as lg

from threadloom.store import base as tl

__all__ = ["LangGraphStore"]

_OPS: Final[Mapping[type, type]] = {
    lg.GetOp: tl.GetOp,
    lg.SearchOp: tl.SearchOp,
    lg.PutOp: tl.PutOp,
    lg.ListNamespacesOp: tl.ListNamespacesOp,
}
"""LangGraph op type → threadloom's (same fields, same order)."""


def _op(op: Any) -> tl.Op:
    kind = _OPS.get(type(op))
    if kind is None:
        return op  # type: ignore[no-any-return]  # threadloom's store names what it refuses
    if kind is tl.ListNamespacesOp and op.match_conditions:
        conditions = tuple(tl.MatchCondition(*c) for c in op.match_conditions)
        return tl.ListNamespacesOp(conditions, *op[1:])
    return kind(*op)  # type: ignore[no-any-return]


def _item(item: tl.Item | None) -> lg.Item | None:
    if item is None:
        return None
    if isinstance(item, tl.SearchItem):
        return lg.SearchItem(
            item.namespace, item.key, item.value, item.created_at, item.updated_at, item.score
        )
    return lg.Item(
        value=item.value,
        key=item.key,
        namespace=item.namespace,
        created_at=item.created_at,
        updated_at=item.updated_at,
    )


def _result(result: tl.Result) -> lg.Result:
    if isinstance(result, list):
        return [_item(r) if isinstance(r, tl.Item) else r for r in result]  # type: ignore[return-value]
    if isinstance(result, tl.Item):
        return _item(result)
    return result


def _ttl(ttl: Any) -> Any:
    """LangGraph's "not provided" sentinel as threadloom's (both say: the store's default)."""
    return tl.NOT_PROVIDED if isinstance(ttl, lg.NotProvided) else ttl


class LangGraphStore(lg.BaseStore):
    """A threadloom store seen by LangGraph as one of its stores.

    Made by ``threadloom.interop.langgraph.as_langgraph_store``; ``store`` is the wrapped
    threadloom store.
    """

    def __init__(self, store: tl.BaseStore) -> None:
        self.store = store
        self.supports_ttl = store.supports_ttl
        self.ttl_config = store.ttl_config

    def __repr__(self) -> str:
        return f"as_langgraph_store({self.store!r})"

    def batch(self, ops: Iterable[lg.Op]) -> list[lg.Result]:
        """Run LangGraph ops on the threadloom store; results in op order."""
        return [_result(r) for r in self.store.batch([_op(op) for op in ops])]

    async def abatch(self, ops: Iterable[lg.Op]) -> list[lg.Result]:
        """Async ``batch``."""
        return [_result(r) for r in await self.store.abatch([_op(op) for op in ops])]

    # -- sync --------------------------------------------------------------------------------

    def get(
        self, namespace: tuple[str, ...], key: str, *, refresh_ttl: bool | None = None
    ) -> lg.Item | None:
        """The item at ``(namespace, key)``, or None."""
        return _item(self.store.get(namespace, key, refresh_ttl=refresh_ttl))

    def search(
        self,
        namespace_prefix: tuple[str, ...],
        /,
        *,
        query: str | None = None,
        filter: dict[str, Any] | None = None,
        limit: int = 10,
        offset: int = 0,
        refresh_ttl: bool | None = None,
    ) -> list[lg.SearchItem]:
        """Items under ``namespace_prefix`` (threadloom's filter language), best first."""
        found = self.store.search(
            namespace_prefix,
            query=query,
            filter=filter,
            limit=limit,
            offset=offset,
            refresh_ttl=refresh_ttl,
        )
        return _result(found)  # type: ignore[return-value]

    def put(
        self,
        namespace: tuple[str, ...],
        key: str,
        value: Mapping[str, Any],
        index: Literal[False] | list[str] | None = None,
        *,
        ttl: float | lg.NotProvided | None = lg.NOT_PROVIDED,
    ) -> None:
        """Store ``value`` at ``(namespace, key)``."""
        self.store.put(namespace, key, value, index, ttl=_ttl(ttl))

    def delete(self, namespace: tuple[str, ...], key: str) -> None:
        """Remove the item at ``(namespace, key)``."""
        self.store.delete(namespace, key)

    def list_namespaces(
        self,
        *,
        prefix: lg.NamespacePath | None = None,
        suffix: lg.NamespacePath | None = None,
        max_depth: int | None = None,
        limit: int = 100,
        offset: int = 0,
    ) -> list[tuple[str, ...]]:
        """Namespaces holding items."""
        return self.store.list_namespaces(
            prefix=prefix, suffix=suffix, max_depth=max_depth, limit=limit, offset=offset
        )

    # -- async -------------------------------------------------------------------------------

    async def aget(
        self, namespace: tuple[str, ...], key: str, *, refresh_ttl: bool | None = None
    ) -> lg.Item | None:
        """Async ``get``."""
        return _item(await self.store.aget(namespace, key, refresh_ttl=refresh_ttl))

    async def asearch(
        self,
        namespace_prefix: tuple[str, ...],
        /,
        *,
        query: str | None = None,
        filter: dict[str, Any] | None = None,
        limit: int = 10,
        offset: int = 0,
        refresh_ttl: bool | None = None,
    ) -> list[lg.SearchItem]:
        """Async ``search``."""
        found = await self.store.asearch(
            namespace_prefix,
            query=query,
            filter=filter,
            limit=limit,
            offset=offset,
            refresh_ttl=refresh_ttl,
        )
        return _result(found)  # type: ignore[return-value]

    async def aput(
        self,
        namespace: tuple[str, ...],
        key: str,
        value: Mapping[str, Any],
        index: Literal[False] | list[str] | None = None,
        *,
        ttl: float | lg.NotProvided | None = lg.NOT_PROVIDED,
    ) -> None:
        """Async ``put``."""
        await self.store.aput(namespace, key, value, index, ttl=_ttl(ttl))

    async def adelete(self, namespace: tuple[str, ...], key: str) -> None:
        """Async ``delete``."""
        await self.store.adelete(namespace, key)

    async def alist_namespaces(
        self,
        *,
        prefix: lg.NamespacePath | None = None,
        suffix: lg.NamespacePath | None = None,
        max_depth: int | None = None,
        limit: int = 100,
        offset: int = 0,
    ) -> list[tuple[str, ...]]:
        """Async ``list_namespaces``."""
        return await self.store.alist_namespaces(
            prefix=prefix, suffix=suffix, max_depth=max_depth, limit=limit, offset=offset
        )
