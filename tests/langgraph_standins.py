"""Stand-ins for LangGraph's objects, shared by the tests of threadloom's LangGraph checks.

LangGraph is not a test dependency: each stand-in is a class or function whose ``__module__`` (or
module ``__name__``) and name are LangGraph's, which is all threadloom's detection reads.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "LGCommand",
    "LGInMemorySaver",
    "LGInMemoryStore",
    "LGPostgresSaver",
    "LGSend",
    "LGSqliteSaver",
    "lg_interrupt",
]


class LGCommand:
    """Stands in for ``langgraph.types.Command``."""

    __module__ = "langgraph.types"
    __qualname__ = "Command"

    def __init__(self, **fields: Any) -> None:
        self.__dict__.update(fields)


class LGSend:
    """Stands in for ``langgraph.types.Send`` (unhashable, like the real one)."""

    __module__ = "langgraph.types"
    __qualname__ = "Send"
    __hash__ = None  # type: ignore[assignment]

    def __init__(self, node: str, arg: Any) -> None:
        self.node, self.arg = node, arg


class LGInMemorySaver:
    __module__ = "langgraph.checkpoint.memory"
    __qualname__ = "InMemorySaver"


class LGInMemoryStore:
    __module__ = "langgraph.store.memory"
    __qualname__ = "InMemoryStore"


class LGPostgresSaver:
    __module__ = "langgraph.checkpoint.postgres"
    __qualname__ = "PostgresSaver"


# LangGraph's interrupt() reads its private scratchpad key from the run's config; a threadloom run
# does not set it. A function compiled in a namespace named like LangGraph's module does the same.
_LG_TYPES: dict[str, Any] = {"__name__": "langgraph.types"}
exec(
    "def interrupt(value):\n"
    "    conf = {'configurable': {}}['configurable']\n"
    "    return conf['__pregel_scratchpad']\n",
    _LG_TYPES,
)
lg_interrupt = _LG_TYPES["interrupt"]

_LG_SQLITE: dict[str, Any] = {"__name__": "langgraph.checkpoint.sqlite", "contextmanager": None}
exec(
    "from contextlib import contextmanager\n"
    "class SqliteSaver:\n"
    "    @classmethod\n"
    "    @contextmanager\n"
    "    def from_conn_string(cls, conn_string):\n"
    "        yield cls()\n",
    _LG_SQLITE,
)
LGSqliteSaver = _LG_SQLITE["SqliteSaver"]
