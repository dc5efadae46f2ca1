"""The store's filter tree (``threadloom.store._filters``) compiled to SQL that SQLite accepts.

Typed, like the Python evaluator: every fragment tests ``json_type`` before it compares, so
numbers compare with numbers and strings with strings, ``True`` is never ``1``, and every fragment
is 0 or 1 (never NULL), so ``NOT`` is an exact complement. Values are always bound parameters;
paths are spliced in as literals, which is safe because the parser allows only
``[A-Za-z0-9_-]`` in a segment (checked again here).

Any filter the parser accepts compiles to SQL within SQLite's limits (issue 7 defect 6):

- SQLite parses at most ~100 nested grammar levels ("parser stack overflow" on 3.40, which
  this machine's Python links; newer releases grow the stack) and builds at most 1000-deep
  expression trees ("Expression tree is too large"). So the tree
  is first normalised: negations are pushed down to the conditions (De Morgan, exact here),
  nested ``And``/``Or`` of the same kind are merged, and in each ``And``/``Or`` the deepest part
  is written first, where the parser reduces it before reading the rest. Long lists are cut
  into groups of ``_GROUP``, so a list of n parts is ``log n`` groups deep, never n.
- Equalities on one path joined by ``Or`` (and ``$ne`` on one path joined by ``And``) become one
  ``In``; ``In`` binds its numbers as one JSON array and its strings as another, read with
  ``json_each``: a ``$in`` of 100,000 ids is two parameters.
- A dict or list compared whole is checked with ``json_tree``: the value at the path and the
  expected value (bound as JSON) must have the same nodes, each with the same full key, kind and
  scalar; a flat query however deep the value.
- The parser caps nesting and the number of conditions (``_filters.MAX_FILTER_DEPTH``,
  ``MAX_FILTER_CONDITIONS``), which bounds the parameters under the 32,766 SQLite allows since
  3.32 (2020; older builds allow 999, which only a filter of over ~900 conditions reaches).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from typing import Any, Final

from threadloom.store._filters import And, Compare, Exists, FilterNode, In, Not, Or
from threadloom.store.sqlite._sql import encode_value

__all__ = ["compile_filter", "normalize"]

_NUMBER_TYPES: Final = "('integer', 'real')"
_ORDER_SQL: Final = {"gt": ">", "gte": ">=", "lt": "<", "lte": "<="}
_INT64: Final = 2**63
_SEGMENT: Final = re.compile(r"[A-Za-z0-9_-]+")
_GROUP: Final = 16
"""Parts per parenthesised group of an ``And``/``Or``: few levels, short left-leaning chains."""
_NODE_KIND: Final = "CASE WHEN type IN ('integer', 'real') THEN 'number' ELSE type END"
"""A ``json_tree`` row's kind, with 1 and 1.0 alike (numbers compare by value)."""

Fragment = tuple[str, list[Any], int]
"""SQL text, its parameters in order, and its nesting height (to write the deepest first)."""


# ---------------------------------------------------------------------------------------------
# Normalising: negations down, same-kind nesting merged, equalities on one path folded


def normalize(node: FilterNode, negate: bool = False) -> FilterNode:
    """An equivalent tree in which ``Not`` wraps only conditions and no ``And`` holds an ``And``
    (nor ``Or`` an ``Or``); equalities on one path under ``Or`` are one ``In``."""
    match node:
        case Not(inner):
            return normalize(inner, not negate)
        case And(nodes) | Or(nodes):
            conjunction = isinstance(node, And) != negate  # De Morgan swaps the two
            parts: list[FilterNode] = []
            for child in nodes:
                part = normalize(child, negate)
                same_kind = isinstance(part, And) if conjunction else isinstance(part, Or)
                parts.extend(part.nodes if isinstance(part, And | Or) and same_kind else [part])
            return And(_fold(parts, negated=True)) if conjunction else Or(_fold(parts, False))
    return Not(node) if negate else node


def _fold(parts: list[FilterNode], negated: bool) -> tuple[FilterNode, ...]:
    """Merge the equalities (negated: the ``Not`` equalities) on each path into one ``In``."""
    by_path: dict[tuple[str, ...], list[Any]] = {}
    rest: list[FilterNode] = []
    for part in parts:
        inner = part.node if negated and isinstance(part, Not) else (None if negated else part)
        match inner:
            case Compare(path, "eq", value):
                by_path.setdefault(path, []).append(value)
            case In(path, values):
                by_path.setdefault(path, []).extend(values)
            case _:
                rest.append(part)
    for path, found in by_path.items():
        folded: FilterNode = (
            Compare(path, "eq", found[0]) if len(found) == 1 else In(path, tuple(found))
        )
        rest.append(Not(folded) if negated else folded)
    return tuple(rest)


# ---------------------------------------------------------------------------------------------
# Compiling


def json_path(path: Sequence[str]) -> str:
    """A SQL string literal holding the SQLite JSON path of ``path``'s object keys."""
    for segment in path:
        if not _SEGMENT.fullmatch(segment):  # the parser refuses these; never splice one
            raise ValueError(f"filter path segment {segment!r} is not [A-Za-z0-9_-]+")
    return "'$" + "".join(f'."{segment}"' for segment in path) + "'"


def _bind_number(value: int | float) -> int | float:
    # SQLite integers are 64-bit; larger Python ints compare as the REAL SQLite parsed them to.
    if isinstance(value, int) and not -_INT64 <= value < _INT64:
        return float(value)
    return value


def _node_count(value: Any) -> int:
    """How many rows ``json_tree`` gives for ``value``: one per object, array and scalar."""
    if isinstance(value, dict):
        return 1 + sum(_node_count(v) for v in value.values())
    if isinstance(value, list | tuple):
        return 1 + sum(_node_count(v) for v in value)
    return 1


def _nest(path: Sequence[str], value: Any) -> Any:
    for segment in reversed(path):
        value = {segment: value}
    return value


class _At:
    """SQL reading the value at one path of the JSON document ``doc``."""

    __slots__ = ("doc", "path", "type")

    def __init__(self, doc: str, path: Sequence[str]) -> None:
        self.doc, self.path = doc, tuple(path)
        self.type = f"json_type({doc}, {json_path(path)})"

    @property
    def atom(self) -> str:
        return f"json_extract({self.doc}, {json_path(self.path)})"

    def equal(self, expected: Any) -> Fragment:
        """Typed JSON equality with ``expected``; a missing path equals None."""
        if expected is None:
            return f"({self.type} IS NULL OR {self.type} = 'null')", [], 1
        if isinstance(expected, bool):
            return f"({self.type} IS '{'true' if expected else 'false'}')", [], 1
        if isinstance(expected, int | float):
            sql = f"coalesce({self.type} IN {_NUMBER_TYPES} AND {self.atom} = ?, 0)"
            return sql, [_bind_number(expected)], 1
        if isinstance(expected, str):
            return f"coalesce({self.type} = 'text' AND {self.atom} = ?, 0)", [expected], 1
        # A dict or list, compared whole: the same number of nodes at the path, and none that
        # the expected value (bound at the same path, so full keys match) lacks.
        path = json_path(self.path)
        tree = f"SELECT fullkey, {_NODE_KIND}, atom FROM json_tree"
        sql = (
            f"((SELECT count(*) FROM json_tree({self.doc}, {path})) = ?"
            f" AND NOT EXISTS ({tree}({self.doc}, {path}) EXCEPT {tree}(?, {path})))"
        )
        # Encoded as stored values are: json_tree keeps a key's escapes in ``fullkey``.
        return sql, [_node_count(expected), encode_value(_nest(self.path, expected))], 1

    def one_of(self, values: Iterable[Any]) -> Fragment:
        """Typed equality with any of ``values``: numbers and strings each as one JSON array."""
        numbers: list[int | float] = []
        strings: list[str] = []
        parts: list[Fragment] = []
        for value in values:
            if isinstance(value, int | float) and not isinstance(value, bool):
                numbers.append(_bind_number(value))
            elif isinstance(value, str):
                strings.append(value)
            else:  # None, booleans, dicts and lists: few, each its own test
                parts.append(self.equal(value))
        for kinds, found in ((f"IN {_NUMBER_TYPES}", numbers), ("= 'text'", strings)):
            if found:
                sql = (
                    f"coalesce({self.type} {kinds} AND {self.atom} IN"
                    " (SELECT value FROM json_each(?)), 0)"
                )
                parts.append((sql, [json.dumps(found)], 1))
        return _join("OR", parts)

    def ordered(self, op: str, bound: int | float | str) -> Fragment:
        kinds = "= 'text'" if isinstance(bound, str) else f"IN {_NUMBER_TYPES}"
        sql = f"coalesce({self.type} {kinds} AND {self.atom} {_ORDER_SQL[op]} ?, 0)"
        return sql, [bound if isinstance(bound, str) else _bind_number(bound)], 1


def _join(op: str, parts: list[Fragment]) -> Fragment:
    """``parts`` joined by ``op``, the deepest first, in groups of ``_GROUP``; ``()`` is the
    empty result of ``op`` (1 for AND, 0 for OR)."""
    if not parts:
        return ("1" if op == "AND" else "0"), [], 0
    parts = sorted(parts, key=lambda part: -part[2])
    while len(parts) > 1:
        groups = [parts[i : i + _GROUP] for i in range(0, len(parts), _GROUP)]
        parts = [
            (
                "(" + f" {op} ".join(sql for sql, _, _ in group) + ")",
                [p for _, params, _ in group for p in params],
                group[0][2] + 1,
            )
            for group in groups
        ]
    return parts[0]


def _compile(node: FilterNode, doc: str) -> Fragment:
    match node:
        case And(nodes):
            return _join("AND", [_compile(n, doc) for n in nodes])
        case Or(nodes):
            return _join("OR", [_compile(n, doc) for n in nodes])
        case Not(inner):  # only over a condition, after ``normalize``
            sql, params, height = _compile(inner, doc)
            return f"NOT {sql}", params, height + 1
        case Exists(path):
            return f"({_At(doc, path).type} IS NOT NULL)", [], 1
        case Compare(path, "eq", expected):
            return _At(doc, path).equal(expected)
        case Compare(path, op, bound):
            return _At(doc, path).ordered(op, bound)
        case In(path, values):
            return _At(doc, path).one_of(values)
    raise TypeError(f"Not a filter node: {node!r}")  # pragma: no cover


def compile_filter(node: FilterNode, doc: str = "s.value") -> tuple[str, list[Any]]:
    """SQL (0 or 1 per row) and parameters answering ``node`` over the JSON column ``doc``."""
    sql, params, _ = _compile(normalize(node), doc)
    return sql, params
