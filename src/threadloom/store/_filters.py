"""The store's one filter language: parsed once into a small typed tree, then evaluated.

Every backend answers a filter identically. This module parses the user's filter dict into the
tree below and evaluates it in Python (InMemoryStore); SQL backends compile the same tree to SQL.
The tree is deliberately small, so each backend has few cases to get right:

========================  ====================================================================
node                      meaning
========================  ====================================================================
``Compare(path, op, v)``  the value at ``path`` compared with ``v``; ``op`` is eq/gt/gte/lt/lte
``In(path, values)``      the value at ``path`` equals one of ``values`` (``$in``)
``Exists(path)``          ``path`` is present in the value (a JSON null counts as present)
``And(nodes)``            all hold; ``And(())`` always holds (an empty filter)
``Or(nodes)``             at least one holds
``Not(node)``             ``node`` does not hold
========================  ====================================================================

``$ne`` parses to ``Not(Compare(eq))``, ``$nin`` to ``Not(In)`` and ``{"$exists": False}`` to
``Not(Exists)``: a negation is always the exact complement of its positive form.

Surface syntax (a filter is a dict; all its entries must hold):

- ``{"a.b": 3}``: dotted path into the value → equality. A plain dict value matches partially and
  recursively: ``{"meta": {"lang": "en"}}`` is ``{"meta.lang": "en"}``.
- ``{"k": {"$gt": 1, "$lte": 5}}``: operators on one path, all must hold. Operators:
  ``$eq $ne $gt $gte $lt $lte $in $nin $exists``, and ``$not`` wrapping an operator dict:
  ``{"k": {"$not": {"$gt": 3}}}``.
- ``{"$and": [f1, f2]}``, ``{"$or": [f1, f2]}``: lists of filters; ``{"$not": f}``: one filter.

Typed semantics (identical on every backend):

- Equality is by JSON type: numbers by value (``1 == 1.0``; ``True`` is a boolean, never the number
  1), strings, booleans, null; lists element by element and exactly; ``{"$eq": {...}}`` compares a
  whole object exactly.
- ``$gt $gte $lt $lte`` take a number or a string. A number compares only with numbers, a string
  only with strings (by code point). Any other pairing, or a missing path, is simply false: never
  an error, never a text comparison of numbers.
- A missing path equals ``None``: ``{"k": None}`` matches items where ``k`` is null *or* absent.
  Use ``{"k": {"$exists": False}}`` to ask for absent only.
- Path segments are object keys made of ``[A-Za-z0-9_-]``; there are no list indexes in filters.

Limits, the same on every backend (so any filter one backend accepts, all can answer):

- A filter nests dicts and lists at most ``MAX_FILTER_DEPTH`` (64) levels deep, its values
  included: ``{"$not": {"$not": ...}}`` 63 times, or about 31 levels of ``$and``/``$or`` lists.
  Deeper is a ``StoreFilterError``, checked before anything recurses.
- A filter holds at most ``MAX_FILTER_CONDITIONS`` (10,000) conditions. A ``$in``/``$nin`` list
  is one condition however long, plus one per dict or list in it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final, Literal, TypeAlias

from threadloom.errors import StoreFilterError

__all__ = [
    "MAX_FILTER_CONDITIONS",
    "MAX_FILTER_DEPTH",
    "MISSING",
    "And",
    "Compare",
    "CompareOp",
    "Exists",
    "FilterNode",
    "In",
    "Not",
    "Or",
    "compile_filter",
    "evaluate",
    "json_equal",
    "parse_filter",
    "resolve_path",
]

CompareOp: TypeAlias = Literal["eq", "gt", "gte", "lt", "lte"]


@dataclass(slots=True, frozen=True)
class Compare:
    """The value at ``path`` compared with ``value`` under the typed rules of this module."""

    path: tuple[str, ...]
    """Object keys from the top of the value; never empty."""
    op: CompareOp
    value: Any
    """For ``eq`` any JSON value; for the ordering ops a number (not bool) or a string."""


@dataclass(slots=True, frozen=True)
class In:
    """The value at ``path`` equals (as ``Compare eq``) at least one of ``values``."""

    path: tuple[str, ...]
    values: tuple[Any, ...]


@dataclass(slots=True, frozen=True)
class Exists:
    """``path`` is present; a stored JSON null counts as present."""

    path: tuple[str, ...]


@dataclass(slots=True, frozen=True)
class And:
    """Every node holds; an empty tuple always holds."""

    nodes: tuple[FilterNode, ...]


@dataclass(slots=True, frozen=True)
class Or:
    """At least one node holds; never empty after parsing."""

    nodes: tuple[FilterNode, ...]


@dataclass(slots=True, frozen=True)
class Not:
    """The exact complement of ``node``."""

    node: FilterNode


FilterNode: TypeAlias = Compare | In | Exists | And | Or | Not


class _Missing:
    """The value read at a path that is not there."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "MISSING"


MISSING: Final = _Missing()

MAX_FILTER_DEPTH: Final = 64
"""Most levels of dicts and lists a filter may nest, its values included."""
MAX_FILTER_CONDITIONS: Final = 10_000
"""Most conditions in one filter; a ``$in`` list counts once, plus its dicts and lists."""

_SEGMENT = re.compile(r"[A-Za-z0-9_-]+")
_ORDER_OPS: Final[Mapping[str, CompareOp]] = {
    "$gt": "gt",
    "$gte": "gte",
    "$lt": "lt",
    "$lte": "lte",
}
_FIELD_OPS: Final = frozenset({"$eq", "$ne", "$in", "$nin", "$exists", "$not", *_ORDER_OPS})
_LOGICAL_OPS: Final = frozenset({"$and", "$or", "$not"})
_HINT: Final = (
    "Supported: $eq $ne $gt $gte $lt $lte $in $nin $exists on a field, "
    "and $and / $or (lists of filters) and $not (one filter) to combine them."
)


# ---------------------------------------------------------------------------------------------
# Parsing


def parse_filter(filter: Mapping[str, Any] | None) -> FilterNode:
    """Parse a user filter into a tree; ``None`` or ``{}`` give ``And(())`` (match everything).

    Raises StoreFilterError (a ValueError) naming the bad part and the fix.
    """
    if filter is None:
        return And(())
    if not isinstance(filter, Mapping):
        raise StoreFilterError(
            f"A filter must be a dict such as {{'kind': 'note'}}, got {type(filter).__name__} "
            f"{filter!r}."
        )
    _check_depth(filter)
    tree = _parse_dict(filter)
    _check_conditions(tree)
    return tree


def _check_depth(filter: Mapping[str, Any]) -> None:
    """Refuse nesting deeper than ``MAX_FILTER_DEPTH``, without recursing (nor looping on a
    dict that contains itself)."""
    pending: list[tuple[Any, int, str]] = [(filter, 1, "")]
    while pending:
        value, depth, where = pending.pop()
        children: Iterable[tuple[str, Any]]
        if isinstance(value, Mapping):
            children = ((str(k), v) for k, v in value.items())
        elif isinstance(value, list | tuple | set | frozenset):
            children = ((f"[{i}]", v) for i, v in enumerate(value))
        else:
            continue
        if depth > MAX_FILTER_DEPTH:
            raise StoreFilterError(
                f"Filter nests deeper than {MAX_FILTER_DEPTH} levels of dicts and lists (at "
                f"{where[:200]!r}). Flatten it: list conditions side by side in one '$and' or "
                "'$or' instead of nesting them, drop '$not' pairs (they cancel), and write a "
                "deep field as a dotted path ('a.b.c')."
            )
        pending.extend((c, depth + 1, f"{where}.{k}" if where else k) for k, c in children)


def _conditions(node: FilterNode) -> int:
    match node:
        case And(nodes) | Or(nodes):
            return sum(_conditions(n) for n in nodes)
        case Not(inner):
            return _conditions(inner)
        case In(_, values):
            return 1 + sum(isinstance(v, list | tuple | Mapping) for v in values)
    return 1


def _check_conditions(tree: FilterNode) -> None:
    count = _conditions(tree)
    if count > MAX_FILTER_CONDITIONS:
        raise StoreFilterError(
            f"Filter holds {count} conditions; the limit is {MAX_FILTER_CONDITIONS}. Put the "
            "values compared with one field in one '$in' list (it counts once), or filter in "
            "several searches."
        )


def _parse_dict(filter: Mapping[str, Any]) -> FilterNode:
    nodes: list[FilterNode] = []
    for key, condition in filter.items():
        if not isinstance(key, str):
            raise StoreFilterError(f"Filter keys must be strings (dotted paths), got {key!r}.")
        if key.startswith("$"):
            nodes.append(_parse_logical(key, condition))
        else:
            nodes.append(_parse_condition(_parse_path(key), condition))
    return nodes[0] if len(nodes) == 1 else And(tuple(nodes))


def _parse_logical(op: str, operand: Any) -> FilterNode:
    if op not in _LOGICAL_OPS:
        raise StoreFilterError(f"Unsupported operator: {op!r} at the top of a filter. {_HINT}")
    if op == "$not":
        if not isinstance(operand, Mapping):
            raise StoreFilterError(f"'$not' takes one filter dict, got {operand!r}.")
        return Not(_parse_dict(operand))
    if not isinstance(operand, list | tuple) or not operand:
        raise StoreFilterError(
            f"{op!r} takes a non-empty list of filter dicts, e.g. "
            f"{{{op!r}: [{{'a': 1}}, {{'b': 2}}]}}; got {operand!r}."
        )
    parts = []
    for sub in operand:
        if not isinstance(sub, Mapping):
            raise StoreFilterError(f"Each entry of {op!r} must be a filter dict, got {sub!r}.")
        parts.append(_parse_dict(sub))
    return And(tuple(parts)) if op == "$and" else Or(tuple(parts))


def _parse_path(key: str) -> tuple[str, ...]:
    segments = tuple(key.split("."))
    if not all(_SEGMENT.fullmatch(s) for s in segments):
        raise StoreFilterError(
            f"Invalid filter key {key!r}: a filter path is dotted object keys made of letters, "
            "digits, '_' and '-', e.g. 'metadata.lang'."
        )
    return segments


def _is_operator_dict(condition: Any) -> bool:
    if not isinstance(condition, Mapping) or not condition:
        return False
    dollar = [isinstance(k, str) and k.startswith("$") for k in condition]
    if any(dollar) and not all(dollar):
        raise StoreFilterError(
            f"Filter condition {dict(condition)!r} mixes operators with plain keys; split it, e.g. "
            "{'a': {'$gt': 1}, 'a.b': 2}."
        )
    return all(dollar)


def _parse_condition(path: tuple[str, ...], condition: Any) -> FilterNode:
    if _is_operator_dict(condition):
        nodes = [_parse_operator(path, op, operand) for op, operand in condition.items()]
        return nodes[0] if len(nodes) == 1 else And(tuple(nodes))
    if isinstance(condition, Mapping):
        # A plain dict matches partially: every listed key must match, recursively.
        nodes = []
        for sub_key, sub_condition in condition.items():
            if not isinstance(sub_key, str):
                raise StoreFilterError(f"Filter keys must be strings, got {sub_key!r}.")
            nodes.append(_parse_condition(path + _parse_path(sub_key), sub_condition))
        # {"k": {}} lists no key to match, so it holds for every item (as in LangGraph).
        return nodes[0] if len(nodes) == 1 else And(tuple(nodes))
    return Compare(path, "eq", _check_json(condition, path))


def _parse_operator(path: tuple[str, ...], op: str, operand: Any) -> FilterNode:
    dotted = ".".join(path)
    if op not in _FIELD_OPS:
        raise StoreFilterError(f"Unsupported operator: {op!r} on field {dotted!r}. {_HINT}")
    if op == "$eq":
        return Compare(path, "eq", _check_json(operand, path))
    if op == "$ne":
        return Not(Compare(path, "eq", _check_json(operand, path)))
    if op in _ORDER_OPS:
        if isinstance(operand, bool) or not isinstance(operand, int | float | str):
            raise StoreFilterError(
                f"{op!r} on field {dotted!r} needs a number or a string, got {operand!r}."
            )
        return Compare(path, _ORDER_OPS[op], operand)
    if op in ("$in", "$nin"):
        if not isinstance(operand, list | tuple | set | frozenset):
            raise StoreFilterError(
                f"{op!r} on field {dotted!r} needs a list of values, got {operand!r}."
            )
        node = In(path, tuple(_check_json(v, path) for v in operand))
        return node if op == "$in" else Not(node)
    if op == "$exists":
        if not isinstance(operand, bool):
            raise StoreFilterError(
                f"'$exists' on field {dotted!r} needs True or False, got {operand!r}."
            )
        return Exists(path) if operand else Not(Exists(path))
    # $not on a field wraps an operator dict for that field.
    if not _is_operator_dict(operand):
        raise StoreFilterError(
            f"'$not' on field {dotted!r} takes an operator dict such as {{'$gt': 3}}, "
            f"got {operand!r}."
        )
    return Not(_parse_condition(path, operand))


def _check_json(value: Any, path: tuple[str, ...]) -> Any:
    """Refuse operands that have no JSON meaning, so every backend can compare them."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            raise StoreFilterError(f"Filter on {'.'.join(path)!r} compares with {value!r}.")
        return value
    if isinstance(value, list | tuple):
        return [_check_json(v, path) for v in value]
    if isinstance(value, Mapping):
        return {str(k): _check_json(v, path) for k, v in value.items()}
    raise StoreFilterError(
        f"Filter on {'.'.join(path)!r} compares with {value!r} of type {type(value).__name__}; "
        "use JSON values: None, bool, numbers, strings, lists and dicts."
    )


# ---------------------------------------------------------------------------------------------
# Evaluation


def resolve_path(value: Any, path: Sequence[str]) -> Any:
    """The value at ``path`` (object keys only), or ``MISSING``."""
    current = value
    for segment in path:
        if not isinstance(current, Mapping) or segment not in current:
            return MISSING
        current = current[segment]
    return current


def _is_number(x: Any) -> bool:
    return isinstance(x, int | float) and not isinstance(x, bool)


def json_equal(actual: Any, expected: Any) -> bool:
    """Typed JSON equality; ``MISSING`` equals ``None`` (see the module docstring)."""
    if expected is None:
        return actual is None or actual is MISSING
    if isinstance(expected, bool):
        return isinstance(actual, bool) and actual == expected
    if _is_number(expected):
        return _is_number(actual) and actual == expected
    if isinstance(expected, str):
        return isinstance(actual, str) and actual == expected
    if isinstance(expected, list | tuple):
        return (
            isinstance(actual, list | tuple)
            and len(actual) == len(expected)
            and all(json_equal(a, e) for a, e in zip(actual, expected, strict=True))
        )
    if isinstance(expected, Mapping):
        return (
            isinstance(actual, Mapping)
            and actual.keys() == expected.keys()
            and all(json_equal(actual[k], expected[k]) for k in expected)
        )
    return False


def _ordered(op: CompareOp, actual: Any, bound: Any) -> bool:
    if _is_number(bound):
        if not _is_number(actual):
            return False
    elif not isinstance(actual, str):
        return False
    match op:
        case "gt":
            return bool(actual > bound)
        case "gte":
            return bool(actual >= bound)
        case "lt":
            return bool(actual < bound)
        case "lte":
            return bool(actual <= bound)
    raise AssertionError(op)  # pragma: no cover - eq is handled by the caller


def compile_filter(node: FilterNode) -> Callable[[Any], bool]:
    """Turn a tree into a predicate over a stored value, built once per search."""
    match node:
        case Compare(path, "eq", expected):
            return lambda v: json_equal(resolve_path(v, path), expected)
        case Compare(path, op, bound):
            return lambda v: _ordered(op, resolve_path(v, path), bound)
        case In(path, values):
            return _one_of(path, values)
        case Exists(path):
            return lambda v: resolve_path(v, path) is not MISSING
        case And(()):
            return lambda v: True
        case And(nodes):
            preds = [compile_filter(n) for n in nodes]
            return lambda v: all(p(v) for p in preds)
        case Or(nodes):
            preds = [compile_filter(n) for n in nodes]
            return lambda v: any(p(v) for p in preds)
        case Not(inner):
            pred = compile_filter(inner)
            return lambda v: not pred(v)
    raise TypeError(f"Not a filter node: {node!r}")  # pragma: no cover


def _one_of(path: tuple[str, ...], values: tuple[Any, ...]) -> Callable[[Any], bool]:
    """``In`` as set lookups for numbers and strings (a long ``$in`` stays fast); sets compare
    numbers by value like ``json_equal``, and a bool is never looked up among the numbers."""
    numbers = frozenset(v for v in values if _is_number(v))
    strings = frozenset(v for v in values if isinstance(v, str))
    others = [v for v in values if not _is_number(v) and not isinstance(v, str)]

    def holds(value: Any) -> bool:
        actual = resolve_path(value, path)
        if _is_number(actual):
            return actual in numbers
        if isinstance(actual, str):
            return actual in strings
        return any(json_equal(actual, e) for e in others)

    return holds


def evaluate(node: FilterNode, value: Any) -> bool:
    """Whether ``value`` (a stored item's value) matches ``node``."""
    return compile_filter(node)(value)
