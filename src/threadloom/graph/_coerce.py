"""``Command.update`` in any accepted shape → ``(key, value)`` pairs."""

from __future__ import annotations

from typing import Any

from threadloom.constants import ROOT
from threadloom.errors import InvalidUpdateError
from threadloom.graph._schema import update_pairs

__all__ = ["update_as_pairs"]


def update_as_pairs(update: Any) -> list[tuple[str, Any]]:
    """A dict, a list of pairs or an annotated object as pairs; any other value for ``__root__``."""
    try:
        return update_pairs(update, pairs=True)
    except InvalidUpdateError:
        return [(ROOT, update)]
