"""One namespace per library under test, so each workload is written once for both.

threadloom mirrors LangGraph import for import, so a workload asks its ``Lib`` for ``StateGraph``,
``Send`` or ``InMemorySaver`` and gets the class of whichever library it is timing. Names are
imported on first use: a library that lacks one name fails only the workloads that need it.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Any, Final

LIBRARIES: Final[tuple[str, ...]] = ("threadloom", "langgraph")
"""Import roots timed side by side, in table order."""

DISPLAY: Final[dict[str, str]] = {"threadloom": "threadloom", "langgraph": "LangGraph"}

# Public name -> submodule that defines it, the same path under either import root.
WHERE: Final[dict[str, str]] = {
    "StateGraph": "graph",
    "START": "graph",
    "END": "graph",
    "MessagesState": "graph.message",
    "add_messages": "graph.message",
    "Send": "types",
    "InMemorySaver": "checkpoint.memory",
    "SqliteSaver": "checkpoint.sqlite",
    "InMemoryStore": "store.memory",
    "entrypoint": "func",
    "task": "func",
}


@dataclass(slots=True, frozen=True)
class Lib:
    """The public names a workload uses, read from one library's import root."""

    root: str
    """``"threadloom"`` or ``"langgraph"``."""

    def __getattr__(self, name: str) -> Any:
        try:
            module = WHERE[name]
        except KeyError:
            raise AttributeError(f"benchmarks.libs.WHERE does not list {name!r}") from None
        return getattr(importlib.import_module(f"{self.root}.{module}"), name)

    @property
    def display(self) -> str:
        return DISPLAY.get(self.root, self.root)

    def version(self) -> str:
        """The installed version, or why it cannot be imported."""
        try:
            from importlib.metadata import version

            importlib.import_module(self.root)
            return version(self.root)
        except Exception as exc:  # the table still prints; the workloads will say more
            return f"unavailable ({type(exc).__name__})"
