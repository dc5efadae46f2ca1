"""Cross-thread memory: documents under namespaces, shared by every thread of a user.

``threadloom.store.base`` holds the interface (``BaseStore``, ``Item``, the operations and
configuration types), ``threadloom.store.memory`` the in-process ``InMemoryStore`` and
``threadloom.store.sqlite`` the embedded persistent one.
"""

from threadloom.store.base import (
    BaseStore,
    GetOp,
    IndexConfig,
    Item,
    ListNamespacesOp,
    MatchCondition,
    Op,
    PutOp,
    Result,
    SearchItem,
    SearchOp,
    TTLConfig,
)

__all__ = [
    "BaseStore",
    "GetOp",
    "IndexConfig",
    "Item",
    "ListNamespacesOp",
    "MatchCondition",
    "Op",
    "PutOp",
    "Result",
    "SearchItem",
    "SearchOp",
    "TTLConfig",
]
