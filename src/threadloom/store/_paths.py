"""Field paths: which parts of a stored value get embedded for semantic search.

A path names texts inside a JSON-like value. The grammar, token by token:

- ``a.b.c``: dotted object fields;
- ``[i]``: the i-th list element (negative counts from the end); ``[*]``: every element;
- ``*``: every value of an object, or every element of a list;
- ``{f1,f2.sub}``: several sub-paths, each read from the same place;
- ``"$"`` or ``""``: the whole value.

A step that does not fit the value (a field on a list, an index on an object, an index out of range)
yields nothing rather than failing: a path describes what to embed when it is there. A path that
cannot be parsed fails with :class:`~threadloom.errors.FieldPathError` before anything is stored.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from functools import lru_cache
from typing import Any

from threadloom.errors import FieldPathError

__all__ = ["get_text_at_path", "index_fields_alias", "tokenize_path", "value_to_text"]

_INDEX = re.compile(r"\[(\*|-?\d+)\]")


def tokenize_path(path: str) -> list[str]:
    """Split a field path into tokens: ``"a.b[0].{c,d}"`` → ``["a", "b", "[0]", "{c,d}"]``.

    ``"$"`` and ``""`` give ``[]`` (the whole value). Raises FieldPathError on malformed input.
    """
    return list(_tokenize(path))


@lru_cache(maxsize=1024)
def _tokenize(path: str) -> tuple[str, ...]:
    if not isinstance(path, str):
        raise FieldPathError(
            f"Field path {path!r} is not a string. Write paths like 'text', 'a.b', 'items[*].name'."
        )
    if path in ("", "$"):
        return ()
    tokens: list[str] = []
    i, n = 0, len(path)
    expect_name = True  # at the start and after a dot a name, '*', '[..]' or '{..}' must follow
    while i < n:
        ch = path[i]
        if ch == "[":
            end = path.find("]", i)
            match = _INDEX.fullmatch(path, i, end + 1) if end != -1 else None
            if match is None:
                raise _bad(path, f"'[' at position {i} must be followed by an index or '*' and ']'")
            tokens.append(match.group(0))
            i = end + 1
            expect_name = False
        elif ch == "{":
            if not expect_name:
                raise _bad(path, f"'{{' at position {i} must start the path or follow a '.'")
            end = _closing_brace(path, i)
            inner = path[i + 1 : end]
            parts = _split_top_level(inner)
            if not inner or any(not p for p in parts):
                raise _bad(path, f"'{{...}}' at position {i} needs comma-separated sub-paths")
            for part in parts:
                _tokenize(part)  # validate each alternative now, not at put time
            tokens.append(path[i : end + 1])
            i = end + 1
            expect_name = False
        elif ch == ".":
            if expect_name:
                raise _bad(path, f"empty field name before '.' at position {i}")
            i += 1
            expect_name = True
            if i == n:
                raise _bad(path, "the path ends with '.'")
        elif ch in "]},":
            raise _bad(path, f"unexpected {ch!r} at position {i}")
        else:
            if not expect_name:
                raise _bad(path, f"a field name at position {i} must follow a '.'")
            j = i
            while j < n and path[j] not in ".[]{},":
                j += 1
            tokens.append(path[i:j])
            i = j
            expect_name = False
    return tuple(tokens)


def _closing_brace(path: str, start: int) -> int:
    depth = 0
    for j in range(start, len(path)):
        if path[j] == "{":
            depth += 1
        elif path[j] == "}":
            depth -= 1
            if depth == 0:
                return j
    raise _bad(path, f"'{{' at position {start} is never closed")


def _split_top_level(inner: str) -> list[str]:
    parts, depth, last = [], 0, 0
    for j, ch in enumerate(inner):
        if ch in "{[":
            depth += 1
        elif ch in "}]":
            depth -= 1
        elif ch == "," and depth == 0:
            parts.append(inner[last:j].strip())
            last = j + 1
    parts.append(inner[last:].strip())
    return parts


def _bad(path: str, why: str) -> FieldPathError:
    return FieldPathError(
        f"Malformed field path {path!r}: {why}. Write paths like 'text', 'a.b', 'items[0]', "
        "'items[*].name', '*', '{title,body}' or '$' for the whole value."
    )


def get_text_at_path(obj: Any, path: str | Sequence[str]) -> list[str]:
    """Texts found at ``path`` inside ``obj`` (a path string or its tokens), in document order.

    A ``None`` found there is no text (nothing is embedded for it), and a malformed path finds
    nothing, as in LangGraph (an index's paths are checked when it is configured, by
    ``tokenize_path``).
    """
    if isinstance(path, str) and path.isidentifier():  # a plain field: the common case
        if isinstance(obj, Mapping) and (value := obj.get(path)) is not None:
            return [value_to_text(value)]
        return []
    try:
        tokens = _tokenize(path) if isinstance(path, str) else tuple(path)
    except FieldPathError:
        return []
    return [value_to_text(v) for v in _walk(obj, tokens) if v is not None]


def index_fields_alias(config: Mapping[str, Any]) -> Mapping[str, Any]:
    """``config`` with LangGraph's ``text_fields`` key read as ``fields`` (a string: one path).

    Giving both with different paths is refused, since one of them would be ignored.
    """
    if "text_fields" not in config:
        return config
    resolved = dict(config)
    text_fields = resolved.pop("text_fields")
    if isinstance(text_fields, str):
        text_fields = [text_fields]
    fields = resolved.get("fields")
    if fields is not None and text_fields is not None and list(fields) != list(text_fields):
        raise ValueError(
            f"index has both 'fields' ({fields!r}) and 'text_fields' ({text_fields!r}); they "
            "are the same setting (text_fields is LangGraph's SqliteStore name). Keep one."
        )
    if fields is None:
        resolved["fields"] = text_fields
    return resolved


def value_to_text(value: Any) -> str:
    """The text embedded for one value: scalars as ``str``, lists and objects as sorted JSON."""
    if isinstance(value, Mapping) and not isinstance(value, dict):  # UserDict, a mapping proxy
        value = dict(value)
    if isinstance(value, Mapping | list | tuple):
        return json.dumps(value, sort_keys=True, default=str, ensure_ascii=False)
    return str(value)


def _walk(obj: Any, tokens: Sequence[str]) -> list[Any]:
    if not tokens:
        return [obj]
    token, rest = tokens[0], tokens[1:]
    if token.startswith("["):
        if not isinstance(obj, list | tuple):
            return []
        if token == "[*]":
            return [found for element in obj for found in _walk(element, rest)]
        index = int(token[1:-1])
        if not -len(obj) <= index < len(obj):
            return []
        return _walk(obj[index], rest)
    if token == "*":
        if isinstance(obj, Mapping):
            children: list[Any] = list(obj.values())
        elif isinstance(obj, list | tuple):
            children = list(obj)
        else:
            return []
        return [found for child in children for found in _walk(child, rest)]
    if token.startswith("{"):
        return [
            found
            for part in _split_top_level(token[1:-1])
            for found in _walk(obj, _tokenize(part) + tuple(rest))
        ]
    if isinstance(obj, Mapping) and token in obj:
        return _walk(obj[token], rest)
    return []
