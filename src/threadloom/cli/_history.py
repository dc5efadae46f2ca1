"""What changed between two checkpoints: the nodes that ran, the channels written, the values.

Pure functions over checkpoints as a saver returns them; ``threads history`` and ``threads diff``
print what these decide.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

__all__ = ["ValueChange", "channels_written", "diff_values", "nodes_ran"]


def nodes_ran(parent: Mapping[str, Any] | None, child: Mapping[str, Any]) -> list[str]:
    """Nodes whose ``versions_seen`` moved between ``parent`` and ``child`` (they ran)."""
    before = (parent or {}).get("versions_seen", {})
    after = child.get("versions_seen", {})
    return sorted(
        node
        for node, seen in after.items()
        if seen != before.get(node) and not node.startswith("__")
    )


def channels_written(parent: Mapping[str, Any] | None, child: Mapping[str, Any]) -> list[str]:
    """Channels whose version changed between ``parent`` and ``child``."""
    before = (parent or {}).get("channel_versions", {})
    after = child.get("channel_versions", {})
    return sorted(c for c, v in after.items() if v != before.get(c) and not c.startswith("__"))


@dataclass(slots=True, frozen=True)
class ValueChange:
    """How one state key differs from checkpoint A to checkpoint B."""

    key: str
    kind: str
    """``added``, ``removed``, ``appended`` (B's list extends A's) or ``changed``."""
    before: Any
    after: Any
    """For ``appended``: only the new items."""


def diff_values(a: Mapping[str, Any], b: Mapping[str, Any]) -> list[ValueChange]:
    """The keys that differ from ``a`` to ``b``, in key order."""
    changes: list[ValueChange] = []
    for key in sorted(set(a) | set(b)):
        if key.startswith("__"):
            continue
        if key not in b:
            changes.append(ValueChange(key, "removed", a[key], None))
        elif key not in a:
            changes.append(ValueChange(key, "added", None, b[key]))
        elif a[key] != b[key]:
            old, new = a[key], b[key]
            if isinstance(old, list) and isinstance(new, list) and new[: len(old)] == old:
                changes.append(ValueChange(key, "appended", old, new[len(old) :]))
            else:
                changes.append(ValueChange(key, "changed", old, new))
    return changes
