"""threadloom's storage under LangGraph's engine (extra ``threadloom[langgraph]``).

``as_langgraph_saver(saver)`` makes any threadloom saver a LangGraph ``BaseCheckpointSaver``;
``as_langgraph_store(store)`` makes any threadloom store a LangGraph ``BaseStore``;
``from_langgraph_saver`` (from ``_from_langgraph``) goes the other way round. Swapping the
storage of a LangGraph program is one line::

    with SqliteSaver.from_conn_string(path) as saver:
        graph = builder.compile(checkpointer=as_langgraph_saver(saver))

See ``docs/interop-langgraph.md`` for what holds under LangGraph's engine and what is refused.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from threadloom.errors import LangGraphNotInstalledError

try:
    import langgraph.checkpoint.base
    import langgraph.store.base  # noqa: F401
except ImportError as missing:  # pragma: no cover - the extra is installed in the test env
    raise LangGraphNotInstalledError((missing.name or "langgraph").partition(".")[0]) from missing

from threadloom.interop._as_saver import LangGraphSaver
from threadloom.interop._as_store import LangGraphStore
from threadloom.interop._from_langgraph import from_langgraph_saver  # the other way round

if TYPE_CHECKING:
    from threadloom.checkpoint.base import BaseCheckpointSaver
    from threadloom.store.base import BaseStore

__all__ = [
    "LangGraphSaver",
    "LangGraphStore",
    "as_langgraph_saver",
    "as_langgraph_store",
    "from_langgraph_saver",
]


def as_langgraph_saver(saver: BaseCheckpointSaver[Any]) -> LangGraphSaver:
    """``saver`` (any threadloom saver, sync or async) as a LangGraph checkpointer.

    Pass the result as ``checkpointer=`` to LangGraph's ``compile``, ``create_react_agent`` or
    LangChain's ``create_agent``. Wrapping a wrapper returns it unchanged.
    """
    if isinstance(saver, LangGraphSaver):
        return saver
    _require(saver, "threadloom.checkpoint.base", "BaseCheckpointSaver", "as_langgraph_saver")
    return LangGraphSaver(saver)


def as_langgraph_store(store: BaseStore) -> LangGraphStore:
    """``store`` (any threadloom store, sync or async) as a LangGraph ``BaseStore``.

    Pass the result as ``store=`` to LangGraph's ``compile`` (or ``create_agent``): nodes then
    get it from ``langgraph.config.get_store()`` or as an injected ``store`` argument.
    """
    if isinstance(store, LangGraphStore):
        return store
    _require(store, "threadloom.store.base", "BaseStore", "as_langgraph_store")
    return LangGraphStore(store)


def _require(value: Any, module: str, name: str, function: str) -> None:
    import importlib

    expected = getattr(importlib.import_module(module), name)
    if not isinstance(value, expected):
        raise TypeError(
            f"{function}() takes a threadloom {name} ({module}.{name}); got "
            f"{type(value).__module__}.{type(value).__qualname__}: {value!r}. Pass a threadloom "
            f"{'saver' if 'checkpoint' in module else 'store'}: a LangGraph one is already usable "
            "by LangGraph as it is."
        )
