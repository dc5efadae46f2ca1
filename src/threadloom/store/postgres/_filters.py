"""The store's filter tree (``threadloom.store._filters``) compiled to PostgreSQL over ``jsonb``.

The rules are those of the filter language (typed comparisons, a missing path equals ``None``);
here is how each holds in SQL:

=====================  =========================================================================
node                   SQL (``x`` is the value at the path, SQL NULL when the path is missing)
=====================  =========================================================================
path                   ``s.value -> %s -> %s``: object keys only (``->`` with a text key gives
                       NULL on an array, so ``"0"`` never indexes a list)
eq (not None)          ``coalesce(x = %s::jsonb, false)``: jsonb equality is typed JSON
                       equality (``1 = 1.0``, ``true <> 1``, objects by key, lists in order)
eq None                ``(x IS NULL OR x = 'null')``
$in                    ``coalesce(x = ANY(%s::jsonb[]), false)``: one array parameter however
                       long the list (plus the null test when None is listed)
gt/gte/lt/lte number   ``CASE WHEN jsonb_typeof(x) = 'number' THEN x::numeric > %s ELSE false``
gt/gte/lt/lte string   the same over ``'string'``, compared ``COLLATE "C"`` (by code point)
exists                 ``x IS NOT NULL``
and / or / not         as written; every fragment is true or false, never NULL, so ``NOT`` is
                       an exact complement
=====================  =========================================================================

Values and path segments are always bound parameters.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any, Final

from threadloom.store._filters import And, Compare, Exists, FilterNode, In, Not, Or

__all__ = ["compile_filter"]

_ORDER_SQL: Final = {"gt": ">", "gte": ">=", "lt": "<", "lte": "<="}


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, allow_nan=False)


class _Compiler:
    """Turns one filter tree into SQL text and its parameters, left to right."""

    def __init__(self, doc: str) -> None:
        self.doc = doc
        self.params: list[Any] = []

    def at(self, path: Sequence[str]) -> str:
        self.params.extend(path)
        return "(" + self.doc + "".join(" -> %s::text" for _ in path) + ")"

    def node(self, node: FilterNode) -> str:
        match node:
            case And(()):
                return "TRUE"
            case And(nodes):
                return "(" + " AND ".join(self.node(n) for n in nodes) + ")"
            case Or(nodes):
                return "(" + " OR ".join(self.node(n) for n in nodes) + ")"
            case Not(inner):
                return f"(NOT {self.node(inner)})"
            case Exists(path):
                return f"({self.at(path)} IS NOT NULL)"
            case Compare(path, "eq", None):
                x = self.at(path)
                y = self.at(path)
                return f"({x} IS NULL OR {y} = 'null'::jsonb)"
            case Compare(path, "eq", expected):
                sql = f"coalesce({self.at(path)} = %s::jsonb, false)"
                self.params.append(_json(expected))
                return sql
            case Compare(path, op, bound):
                kind, cast = (
                    ("string", " #>> '{}') COLLATE \"C\"")
                    if isinstance(bound, str)
                    else (
                        "number",
                        ")::numeric",
                    )
                )
                test = self.at(path)
                value = self.at(path)
                self.params.append(bound if isinstance(bound, str) else str(bound))
                rhs = "%s" if isinstance(bound, str) else "%s::numeric"
                return (
                    f"(CASE WHEN jsonb_typeof{test} = '{kind}'"
                    f" THEN ({value}{cast} {_ORDER_SQL[op]} {rhs} ELSE false END)"
                )
            case In(path, values):
                present = [v for v in values if v is not None]
                parts = []
                if present:
                    parts.append(f"coalesce({self.at(path)} = ANY(%s::jsonb[]), false)")
                    self.params.append([_json(v) for v in present])
                if len(present) < len(values):
                    parts.append(self.node(Compare(path, "eq", None)))
                return "(" + " OR ".join(parts) + ")" if parts else "FALSE"
        raise TypeError(f"Not a filter node: {node!r}")  # pragma: no cover


def compile_filter(node: FilterNode, doc: str = "s.value") -> tuple[str, list[Any]]:
    """SQL (true or false per row, never NULL) and parameters answering ``node`` over ``doc``."""
    compiler = _Compiler(doc)
    return compiler.node(node), compiler.params
