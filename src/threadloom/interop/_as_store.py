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

from threadloom._twins import async_op, sync_op
from threadloom.interop._forward import Call, Forwarder
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


def _results(results: list[tl.Result]) -> list[lg.Result]:
    return [_result(r) for r in results]


def _search_result(found: list[tl.SearchItem]) -> list[lg.SearchItem]:
    return _result(found)  # type: ignore[return-value]


def _ttl(ttl: Any) -> Any:
    """LangGraph's "not provided" sentinel as threadloom's (both say: the store's default)."""
    return tl.NOT_PROVIDED if isinstance(ttl, lg.NotProvided) else ttl


class LangGraphStore(Forwarder, lg.BaseStore):
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

    def _wrapped(self) -> Any:
        return self.store

    # -- each operation once (``_forward``) ---------------------------------------------------

    def _batch(self, /, ops: Iterable[lg.Op]) -> Call[list[lg.Result]]:
        """Run LangGraph ops on the threadloom store; results in op order."""
        return Call("batch", ([_op(op) for op in ops],), then=_results)

    def _get(
        self, /, namespace: tuple[str, ...], key: str, *, refresh_ttl: bool | None = None
    ) -> Call[lg.Item | None]:
        """The item at ``(namespace, key)``, or None."""
        return Call("get", (namespace, key), {"refresh_ttl": refresh_ttl}, then=_item)

    def _search(
        self,
        namespace_prefix: tuple[str, ...],
        /,
        *,
        query: str | None = None,
        filter: dict[str, Any] | None = None,
        limit: int = 10,
        offset: int = 0,
        refresh_ttl: bool | None = None,
    ) -> Call[list[lg.SearchItem]]:
        """Items under ``namespace_prefix`` (threadloom's filter language), best first."""
        options = {
            "query": query,
            "filter": filter,
            "limit": limit,
            "offset": offset,
            "refresh_ttl": refresh_ttl,
        }
        return Call("search", (namespace_prefix,), options, then=_search_result)

    def _put(
        self,
        /,
        namespace: tuple[str, ...],
        key: str,
        value: Mapping[str, Any],
        index: Literal[False] | list[str] | None = None,
        *,
        ttl: float | lg.NotProvided | None = lg.NOT_PROVIDED,
    ) -> Call[None]:
        """Store ``value`` at ``(namespace, key)``."""
        return Call("put", (namespace, key, value, index), {"ttl": _ttl(ttl)})

    def _delete(self, /, namespace: tuple[str, ...], key: str) -> Call[None]:
        """Remove the item at ``(namespace, key)``."""
        return Call("delete", (namespace, key))

    def _list_namespaces(
        self,
        /,
        *,
        prefix: lg.NamespacePath | None = None,
        suffix: lg.NamespacePath | None = None,
        max_depth: int | None = None,
        limit: int = 100,
        offset: int = 0,
    ) -> Call[list[tuple[str, ...]]]:
        """Namespaces holding items."""
        options = {
            "prefix": prefix,
            "suffix": suffix,
            "max_depth": max_depth,
            "limit": limit,
            "offset": offset,
        }
        return Call("list_namespaces", (), options)

    batch = sync_op(_batch)
    get = sync_op(_get)
    search = sync_op(_search)
    put = sync_op(_put)
    delete = sync_op(_delete)
    list_namespaces = sync_op(_list_namespaces)

    abatch = async_op(_batch)
    aget = async_op(_get)
    asearch = async_op(_search)
    aput = async_op(_put)
    adelete = async_op(_delete)
    alist_namespaces = async_op(_list_namespaces)
