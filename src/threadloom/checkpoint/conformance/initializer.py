"""``@checkpointer_test``: register how to make a fresh saver (and an optional lifespan)."""

from __future__ import annotations

from collections.abc import AsyncGenerator, Callable
from dataclasses import dataclass, field
from typing import Any

__all__ = ["RegisteredCheckpointer", "checkpointer_test", "registry"]

SaverFactory = Callable[[], AsyncGenerator[Any, None]]
Lifespan = Callable[[], AsyncGenerator[None, None]]


@dataclass(slots=True, frozen=True)
class RegisteredCheckpointer:
    """A saver factory the suite can validate."""

    name: str
    factory: SaverFactory
    """Async generator yielding one fresh saver; code after ``yield`` cleans up."""
    skip_capabilities: frozenset[str] = field(default_factory=frozenset)
    lifespan: Lifespan | None = None
    """Async generator run once around the whole validation (create/drop a database...)."""


registry: dict[str, RegisteredCheckpointer] = {}
"""Every registered saver, by name."""


def checkpointer_test(
    name: str, *, skip_capabilities: set[str] | None = None, lifespan: Lifespan | None = None
) -> Callable[[SaverFactory], RegisteredCheckpointer]:
    """Decorate an async generator that yields a fresh saver."""

    def register(factory: SaverFactory) -> RegisteredCheckpointer:
        registered = RegisteredCheckpointer(
            name, factory, frozenset(skip_capabilities or ()), lifespan
        )
        registry[name] = registered
        return registered

    return register
