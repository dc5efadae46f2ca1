"""The store interface: items, operations, configuration, validation and ``BaseStore``.

A store holds JSON-like documents (``Item``) under hierarchical namespaces (tuples of labels,
``("memories", user_id)``) and keys. Every backend implements two methods, ``batch`` and
``abatch``, over the operation records below; ``BaseStore`` builds the convenience methods
(``get``/``search``/``put``/``delete``/``list_namespaces`` and their async twins) on them and
validates their input with the messages LangGraph users know.

Backends share the validation here (``validate_ops``), the filter tree of ``_filters``, the
field paths of ``_paths`` and the embedding adapters of ``embed``; this module holds no storage.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final, Literal, NamedTuple, TypeAlias, TypedDict, TypeVar

from threadloom._twins import Work, async_op, sync_op
from threadloom.errors import InvalidNamespaceError, StoreArgumentError
from threadloom.store._filters import parse_filter
from threadloom.store._paths import get_text_at_path, tokenize_path
from threadloom.store._validate import (
    put_value,
    validate_count,
    validate_index,
    validate_key,
    validate_namespace_labels,
    validate_put_namespace,
    validate_put_value,
    validate_ttl,
)
from threadloom.store.embed import ensure_embeddings

__all__ = [
    "NOT_PROVIDED",
    "BaseStore",
    "GetOp",
    "IndexConfig",
    "InvalidNamespaceError",
    "Item",
    "ListNamespacesOp",
    "MatchCondition",
    "NamespacePath",
    "NotProvided",
    "Op",
    "PutOp",
    "Result",
    "SearchItem",
    "SearchOp",
    "TTLConfig",
    "ensure_embeddings",
    "get_text_at_path",
    "tokenize_path",
    "validate_namespace_labels",
    "validate_op_namespace",
    "validate_ops",
    "validate_put_value",
]

T = TypeVar("T")

NamespacePath: TypeAlias = tuple[str, ...]
"""A namespace prefix or suffix pattern; the label ``"*"`` matches any single label."""


class NotProvided:
    """Type of ``NOT_PROVIDED``: an argument the caller left out (falsy, unlike ``None``)."""

    __slots__ = ()

    def __bool__(self) -> Literal[False]:
        return False

    def __repr__(self) -> str:
        return "NOT_PROVIDED"


NOT_PROVIDED: Final = NotProvided()


def _parse_time(value: datetime | str) -> datetime:
    return datetime.fromisoformat(value) if isinstance(value, str) else value


class Item:
    """A stored document with its namespace, key and timestamps.

    Equal items have equal fields; the hash is that of ``(namespace, key)``.
    """

    __slots__ = ("created_at", "key", "namespace", "updated_at", "value")

    value: dict[str, Any]
    """A copy of the stored value: changing it never changes the store."""
    key: str
    namespace: tuple[str, ...]
    created_at: datetime
    """When the key was first put; kept across updates (unlike LangGraph's InMemoryStore)."""
    updated_at: datetime

    def __init__(
        self,
        *,
        value: dict[str, Any],
        key: str,
        namespace: Iterable[str],
        created_at: datetime | str,
        updated_at: datetime | str,
    ) -> None:
        self.value = value
        self.key = key
        self.namespace = tuple(namespace)
        self.created_at = _parse_time(created_at)
        self.updated_at = _parse_time(updated_at)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Item):
            return NotImplemented
        return (
            self.value == other.value
            and self.key == other.key
            and self.namespace == other.namespace
            and self.created_at == other.created_at
            and self.updated_at == other.updated_at
        )

    def __hash__(self) -> int:
        return hash((self.namespace, self.key))

    def dict(self) -> dict[str, Any]:
        """A plain dict: namespace as a list, timestamps as ISO strings."""
        return {
            "namespace": list(self.namespace),
            "key": self.key,
            "value": self.value,
            "created_at": self.created_at.isoformat(),
            "updated_at": self.updated_at.isoformat(),
        }

    def __repr__(self) -> str:
        fields = ", ".join(f"{k}={v!r}" for k, v in self.dict().items())
        return f"Item({fields})"


class SearchItem(Item):
    """An item found by ``search``, with its similarity ``score`` (None without a query)."""

    __slots__ = ("score",)

    score: float | None
    """Cosine similarity to the query (higher is closer), or None when not scored."""

    def __init__(
        self,
        namespace: Iterable[str],
        key: str,
        value: dict[str, Any],
        created_at: datetime | str,
        updated_at: datetime | str,
        score: float | None = None,
    ) -> None:
        super().__init__(
            value=value,
            key=key,
            namespace=namespace,
            created_at=created_at,
            updated_at=updated_at,
        )
        self.score = score

    def dict(self) -> dict[str, Any]:
        """As ``Item.dict`` plus ``score``."""
        return {**super().dict(), "score": self.score}


class GetOp(NamedTuple):
    """Read one item."""

    namespace: tuple[str, ...]
    key: str
    refresh_ttl: bool = True


class SearchOp(NamedTuple):
    """Find items under a namespace prefix, by filter and optionally by meaning (``query``)."""

    namespace_prefix: tuple[str, ...]
    filter: dict[str, Any] | None = None
    limit: int = 10
    offset: int = 0
    query: str | None = None
    refresh_ttl: bool = True


class PutOp(NamedTuple):
    """Write one item, or delete it when ``value`` is None."""

    namespace: tuple[str, ...]
    key: str
    value: Mapping[str, Any] | None
    index: Literal[False] | list[str] | None = None  # type: ignore[assignment]
    """None: the store's configured fields; False: do not embed; a list: these paths."""
    ttl: float | None = None
    """Minutes until the item expires; None keeps it until deleted."""


class MatchCondition(NamedTuple):
    """A namespace pattern for ``list_namespaces``; ``"*"`` matches any single label."""

    match_type: Literal["prefix", "suffix"]
    path: NamespacePath


class ListNamespacesOp(NamedTuple):
    """List the namespaces that hold items, filtered, truncated to ``max_depth`` and paged."""

    match_conditions: tuple[MatchCondition, ...] | None = None
    max_depth: int | None = None
    limit: int = 100
    offset: int = 0


Op: TypeAlias = GetOp | SearchOp | PutOp | ListNamespacesOp
Result: TypeAlias = Item | list[Item] | list[SearchItem] | list[tuple[str, ...]] | None


class TTLConfig(TypedDict, total=False):
    """How a store expires items. Times are in minutes."""

    refresh_on_read: bool
    """Whether reads push expiry back by the item's ttl when a call does not say (default True)."""
    default_ttl: float | None
    """The ttl of a ``put`` that gives none; None keeps items until deleted."""
    sweep_interval_minutes: int | None
    """How often ``start_ttl_sweeper`` deletes expired items (default 5)."""
    omit_expired: bool
    """Hide expired items from reads before they are swept (default False)."""


class IndexConfig(TypedDict, total=False):
    """Semantic search: how values are embedded."""

    dims: int
    """Length of every vector; a vector of another length is refused with a clear error."""
    embed: Any
    """A LangChain ``Embeddings``, a sync or async ``(list[str]) -> list[list[float]]`` function,
    or a ``"provider:model"`` string resolved by ``langchain.embeddings.init_embeddings``."""
    fields: list[str] | None
    """Field paths to embed (default ``["$"]``, the whole value as JSON)."""
    text_fields: list[str] | str | None
    """The same as ``fields`` (the name LangGraph's ``SqliteStore`` reads); a string is one path."""


# ---------------------------------------------------------------------------------------------
# Validation of a batch, shared by every backend (the checks are in ``_validate``)


def validate_op_namespace(op: Op) -> None:
    """Check the namespace labels ``op`` carries (its namespace, search prefix or list paths),
    as LangGraph's function of this name does: a store that runs ops given straight to
    ``batch`` calls it for each. Labels only: ``put``'s own rules (not empty, root not
    ``"langgraph"``) are ``put``'s. Raises ``InvalidNamespaceError``."""
    if isinstance(op, GetOp | PutOp):
        validate_namespace_labels(op.namespace)
    elif isinstance(op, SearchOp):
        validate_namespace_labels(op.namespace_prefix)
    elif isinstance(op, ListNamespacesOp):
        for condition in op.match_conditions or ():
            validate_namespace_labels(condition.path)


def validate_ops(
    ops: Sequence[Op], *, store_name: str = "this store", supports_ttl: bool
) -> list[Op]:
    """Check a whole batch before anything is applied, so a bad op changes nothing; give back
    the ops to run: a ``PutOp`` whose value is a list or tuple of (key, value) pairs carries
    their dict, as ``put`` stores it (LangGraph's stores take pairs in a batch too).

    Raises InvalidNamespaceError, TypeError, ValueError (StoreFilterError, FieldPathError) or
    NotImplementedError with a message naming the bad value and the fix.
    """
    checked: list[Op] = []
    for op in ops:
        if isinstance(op, GetOp):
            validate_namespace_labels(op.namespace)
            validate_key(op.key)
        elif isinstance(op, SearchOp):
            validate_namespace_labels(op.namespace_prefix)
            validate_count("limit", op.limit)
            validate_count("offset", op.offset)
            if op.query is not None and not isinstance(op.query, str):
                raise TypeError(f"query must be a str or None, got {op.query!r}.")
            parse_filter(op.filter)
        elif isinstance(op, PutOp):
            if op.value is None:  # a delete: like get, it checks labels only
                validate_namespace_labels(op.namespace)
            else:
                validate_put_namespace(op.namespace, reserved_root=False)
            validate_key(op.key)
            if op.value is not None:
                value = put_value(op.value)
                if value is not op.value:
                    op = op._replace(value=value)
                validate_index(op.index)
                validate_ttl(op.ttl, store_name, supports_ttl)
        elif isinstance(op, ListNamespacesOp):
            for condition in op.match_conditions or ():
                if condition.match_type not in ("prefix", "suffix"):
                    raise ValueError(
                        f"match_type must be 'prefix' or 'suffix', got {condition.match_type!r}."
                    )
                validate_namespace_labels(condition.path)
            if op.max_depth is not None:
                validate_count("max_depth", op.max_depth)
            validate_count("limit", op.limit)
            validate_count("offset", op.offset)
        else:
            raise StoreArgumentError(
                f"Unknown store operation {op!r}: use GetOp, SearchOp, PutOp or ListNamespacesOp."
            )
        checked.append(op)
    return checked


def namespace_matches(namespace: tuple[str, ...], condition: MatchCondition) -> bool:
    """Whether ``namespace`` fits a prefix/suffix pattern, ``"*"`` matching any one label."""
    path = condition.path
    if len(namespace) < len(path):
        return False
    part = namespace[: len(path)] if condition.match_type == "prefix" else namespace[-len(path) :]
    if not path:
        return True
    return all(p == "*" or p == label for p, label in zip(path, part, strict=True))


def list_matching_namespaces(
    namespaces: Iterable[tuple[str, ...]], op: ListNamespacesOp
) -> list[tuple[str, ...]]:
    """Answer a ListNamespacesOp over the namespaces that hold items (CONTRACT 5.4)."""
    conditions = op.match_conditions or ()
    found = {
        ns if op.max_depth is None else ns[: op.max_depth]
        for ns in namespaces
        if all(namespace_matches(ns, c) for c in conditions)
    }
    return sorted(found)[op.offset : op.offset + op.limit]


# ---------------------------------------------------------------------------------------------
# The interface


class BaseStore(ABC):
    """A store of JSON-like documents under namespaces, with optional search by meaning.

    Subclasses implement ``batch`` and ``abatch``; every other method is built on them.
    """

    supports_ttl: bool = False
    """Whether items may expire (``put(..., ttl=...)``)."""
    ttl_config: TTLConfig | None = None

    @abstractmethod
    def batch(self, ops: Iterable[Op]) -> list[Result]:
        """Run operations in one go; results are in op order (None for puts)."""

    @abstractmethod
    async def abatch(self, ops: Iterable[Op]) -> list[Result]:
        """Async twin of ``batch``."""

    # -- building ops (shared by the sync and async methods) --------------------------------

    def _refresh_flag(self, refresh_ttl: bool | None) -> bool:
        if refresh_ttl is not None:
            return refresh_ttl
        if self.ttl_config is not None:
            return bool(self.ttl_config.get("refresh_on_read", True))
        return True

    def _get_op(self, namespace: Any, key: Any, refresh_ttl: bool | None) -> GetOp:
        return GetOp(
            validate_namespace_labels(namespace), str(key), self._refresh_flag(refresh_ttl)
        )

    def _search_op(
        self,
        namespace_prefix: Any,
        query: str | None,
        filter: dict[str, Any] | None,
        limit: int,
        offset: int,
        refresh_ttl: bool | None,
    ) -> SearchOp:
        prefix = validate_namespace_labels(namespace_prefix)
        return SearchOp(prefix, filter, limit, offset, query, self._refresh_flag(refresh_ttl))

    def _put_op(
        self,
        namespace: Any,
        key: Any,
        value: Mapping[str, Any] | None,
        index: Literal[False] | list[str] | None,
        ttl: float | NotProvided | None,
    ) -> PutOp:
        namespace = validate_put_namespace(namespace)
        if value is None:  # put(ns, key, None) deletes the item, as in LangGraph
            return PutOp(namespace, str(key), None)
        value = put_value(value)
        if isinstance(ttl, NotProvided):
            ttl = self.ttl_config.get("default_ttl") if self.ttl_config else None
        validate_ttl(ttl, type(self).__name__, self.supports_ttl)
        return PutOp(namespace, str(key), value, index, ttl)

    def _list_op(
        self,
        prefix: NamespacePath | None,
        suffix: NamespacePath | None,
        max_depth: int | None,
        limit: int,
        offset: int,
    ) -> ListNamespacesOp:
        conditions = []
        if prefix:
            conditions.append(MatchCondition("prefix", validate_namespace_labels(prefix)))
        if suffix:
            conditions.append(MatchCondition("suffix", validate_namespace_labels(suffix)))
        return ListNamespacesOp(tuple(conditions) or None, max_depth, limit, offset)

    # -- the convenience methods: each builds one op, run by ``batch`` or ``abatch`` -----------

    def _run(self, one: _One[T]) -> T:
        return one.then(self.batch([one.op])[0])

    async def _arun(self, one: _One[T]) -> T:
        return one.then((await self.abatch([one.op]))[0])

    def _one_get(
        self, /, namespace: tuple[str, ...], key: str, *, refresh_ttl: bool | None = None
    ) -> _One[Item | None]:
        """The item at ``(namespace, key)``, or None."""
        return _One(self._get_op(namespace, key, refresh_ttl), _item_or_none)

    def _one_search(
        self,
        namespace_prefix: tuple[str, ...],
        /,
        *,
        query: str | None = None,
        filter: dict[str, Any] | None = None,
        limit: int = 10,
        offset: int = 0,
        refresh_ttl: bool | None = None,
    ) -> _One[list[SearchItem]]:
        """Items under ``namespace_prefix`` matching ``filter``, closest to ``query`` first."""
        op = self._search_op(namespace_prefix, query, filter, limit, offset, refresh_ttl)
        return _One(op, _listed)

    def _one_put(
        self,
        /,
        namespace: tuple[str, ...],
        key: str,
        value: Mapping[str, Any] | None,
        index: Literal[False] | list[str] | None = None,
        *,
        ttl: float | NotProvided | None = NOT_PROVIDED,
    ) -> _One[None]:
        """Store ``value`` at ``(namespace, key)``, replacing what was there (None: delete it)."""
        return _One(self._put_op(namespace, key, value, index, ttl), _nothing)

    def _one_delete(self, /, namespace: tuple[str, ...], key: str) -> _One[None]:
        """Remove the item at ``(namespace, key)``; a missing item is not an error."""
        return _One(PutOp(validate_namespace_labels(namespace), str(key), None), _nothing)

    def _one_list_namespaces(
        self,
        /,
        *,
        prefix: NamespacePath | None = None,
        suffix: NamespacePath | None = None,
        max_depth: int | None = None,
        limit: int = 100,
        offset: int = 0,
    ) -> _One[list[tuple[str, ...]]]:
        """Namespaces holding items, sorted, filtered by prefix/suffix and cut to ``max_depth``."""
        return _One(self._list_op(prefix, suffix, max_depth, limit, offset), _listed)

    get = sync_op(_one_get, "get")
    search = sync_op(_one_search, "search")
    put = sync_op(_one_put, "put")
    delete = sync_op(_one_delete, "delete")
    list_namespaces = sync_op(_one_list_namespaces, "list_namespaces")

    aget = async_op(_one_get, "get")
    asearch = async_op(_one_search, "search")
    aput = async_op(_one_put, "put")
    adelete = async_op(_one_delete, "delete")
    alist_namespaces = async_op(_one_list_namespaces, "list_namespaces")


@dataclass(slots=True, frozen=True)
class _One(Work[T]):
    """One op of a convenience method, and how its result becomes the method's."""

    op: Op
    then: Callable[[Result], T]


def _item_or_none(result: Result) -> Item | None:
    assert result is None or isinstance(result, Item)
    return result


def _listed(result: Result) -> Any:
    assert isinstance(result, list)
    return result


def _nothing(result: Result) -> None:
    return None
