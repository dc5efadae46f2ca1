"""Finding the compiled graph a node function runs, from its bytecode (as LangGraph finds it).

A node like ``def node(state): return sub.invoke(state)`` runs ``sub`` as its child; knowing it
lets ``get_state(config, subgraphs=True)`` show ``sub``'s state under the node's task and lets a
subgraph namespace be routed to ``sub``. What counts as "the function names a graph":

- a closure variable holding a graph (even one only dead code uses: the cell is still captured);
- a global the function itself loads (not one only a nested function loads);
- an attribute path loaded from one of those, e.g. ``HOLDER.payload.invoke``, also inside a nested
  function when it starts from a closure variable;
- for a wrapper that reaches no graph itself, the same on its ``__wrapped__`` function.

Reading bytecode (never source) works for functions without a source file, and a path the
compiler dropped (``if False: ...``) is not there to be followed. ``self`` attributes, subscripts
and local variables are out of reach, as in LangGraph.
"""

from __future__ import annotations

import dis
import inspect
from collections.abc import Callable, Iterator
from types import CodeType, FunctionType
from typing import Any

__all__ = ["graph_named_by"]

_BASE_OPS = {"LOAD_GLOBAL", "LOAD_DEREF", "LOAD_CLOSURE", "LOAD_NAME"}
_ATTR_OPS = {"LOAD_ATTR", "LOAD_METHOD"}


def graph_named_by(target: Any, is_graph: Callable[[Any], bool]) -> Any:
    """The first graph (``is_graph``) the function ``target`` names, or None."""
    seen: set[int] = set()
    func = getattr(target, "__func__", target)  # a bound method: its function (never self)
    while isinstance(func, FunctionType) and id(func) not in seen:
        seen.add(id(func))
        for value in _named_values(func):
            if is_graph(value):
                return value
        func = getattr(func, "__wrapped__", None)
    return None


def _named_values(func: FunctionType) -> Iterator[Any]:
    closure = _closure_values(func)
    yield from closure.values()
    for code, own in _code_objects(func.__code__):
        for base, name, path in _load_paths(code):
            if base == "LOAD_GLOBAL" or base == "LOAD_NAME":
                if not own or name not in func.__globals__:
                    continue  # a nested function's globals are out of reach
                value = func.__globals__[name]
            elif name in closure:
                value = closure[name]
            else:
                continue
            if own:
                yield value  # (a closure variable's value was given already: no harm)
            yield from _along(value, path)


def _closure_values(func: FunctionType) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for name, cell in zip(func.__code__.co_freevars, func.__closure__ or (), strict=False):
        try:
            values[name] = cell.cell_contents
        except ValueError:  # a variable assigned after the function was made: an empty cell
            continue
    return values


def _code_objects(code: CodeType) -> Iterator[tuple[CodeType, bool]]:
    """The function's code (``True``) and the code of the functions nested in it."""
    yield code, True
    stack = [c for c in code.co_consts if isinstance(c, CodeType)]
    while stack:
        nested = stack.pop()
        yield nested, False
        stack.extend(c for c in nested.co_consts if isinstance(c, CodeType))


def _load_paths(code: CodeType) -> Iterator[tuple[str, str, tuple[str, ...]]]:
    """Each name loaded from globals or a closure, with the attributes loaded right after it."""
    base: tuple[str, str] | None = None
    path: list[str] = []
    for ins in dis.get_instructions(code):
        if ins.opname in _ATTR_OPS and base is not None:
            path.append(str(ins.argval))
            continue
        if ins.opname in ("CACHE", "EXTENDED_ARG", "PRECALL"):
            continue
        if base is not None:
            yield base[0], base[1], tuple(path)
        base, path = None, []
        if ins.opname in _BASE_OPS:
            base = (ins.opname, str(ins.argval))
    if base is not None:
        yield base[0], base[1], tuple(path)


def _along(value: Any, path: tuple[str, ...]) -> Iterator[Any]:
    """The values met following ``path`` from ``value`` (it stops where an attribute lacks)."""
    for name in path:
        try:
            value = inspect.getattr_static(value, name)
        except AttributeError:
            return
        yield value
