"""One builder, two public methods: each operation of a saver or store written once for both.

A class whose public methods all do "prepare the call, run it, shape the result" writes each
operation once, as a builder: a method ``_name(self, /, ...)`` with the public signature that
returns a description of the work (an ``Op`` of the SQL savers, a ``Call`` of the LangGraph
adapters). ``sync_op(_name)`` is the public ``name``, which hands the description to
``self._run``; ``async_op(_name)`` is ``aname``, which awaits ``self._arun``. So the class has
one place per operation, and only ``_run`` / ``_arun`` (its driver) differ between the twins.

A listing is the same with ``sync_iter`` / ``async_iter``: the builder describes the listing,
``self._iterate`` / ``self._aiterate`` (generators) yield its items, so ``list`` is lazy as
before. A builder whose name would clash with a subclass's helper passes the public name
(``sync_op(_one_get, "get")``). The public methods keep the builder's signature and docstring
(``functools.wraps``), so ``inspect.signature`` and ``help`` show them.

A class whose sync methods wait on its async ones (a saver bound to an event loop) makes them
with ``waits_for(aname)`` / ``waits_for_iter(aname)``: each calls the async method *by name* and
hands the coroutine to ``self._sync``, so a subclass that overrides ``aput`` serves sync callers
too (LangGraph's async savers behave so).

mypy checks each generated method against the base class's: the builder's signature is inferred
from the attribute's declared type, so a builder with a wrong parameter, default or result fails
``mypy --strict`` where the method is assigned.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import AsyncIterator, Callable, Coroutine, Iterator
from typing import Any, Concatenate, Generic, ParamSpec, Protocol, TypeVar

__all__ = ["Work", "async_iter", "async_op", "sync_iter", "sync_op", "waits_for", "waits_for_iter"]

T = TypeVar("T")
P = ParamSpec("P")


class Work(Generic[T]):
    """What a builder returns: a description of work whose result is a ``T``."""

    __slots__ = ()


class _Drives(Protocol):
    def _run(self, work: Work[T]) -> T: ...
    async def _arun(self, work: Work[T]) -> T: ...
    def _iterate(self, work: Work[T]) -> Iterator[T]: ...
    def _aiterate(self, work: Work[T]) -> AsyncIterator[T]: ...
    def _sync(self, coro: Coroutine[Any, Any, T]) -> T: ...


def _named(
    method: Callable[..., Any], build: Callable[..., Any], prefix: str, name: str | None
) -> None:
    """Give ``method`` its public name, ``prefix + name`` (by default the builder's name without
    its leading ``_``), and the builder's signature without its return annotation (the work,
    not the result)."""
    name = prefix + (name or build.__name__.lstrip("_"))
    method.__name__ = name
    method.__qualname__ = build.__qualname__.rpartition(".")[0] + "." + name
    signature = inspect.signature(build).replace(return_annotation=inspect.Signature.empty)
    method.__signature__ = signature  # type: ignore[attr-defined]


def sync_op(
    build: Callable[Concatenate[Any, P], Work[T]], name: str | None = None
) -> Callable[Concatenate[Any, P], T]:
    """The sync public method of the operation ``build`` describes: ``self._run(build(...))``."""

    @functools.wraps(build)
    def method(self: Any, /, *args: P.args, **kwargs: P.kwargs) -> T:
        driver: _Drives = self
        return driver._run(build(self, *args, **kwargs))

    _named(method, build, "", name)
    return method


def async_op(
    build: Callable[Concatenate[Any, P], Work[T]], name: str | None = None
) -> Callable[Concatenate[Any, P], Coroutine[Any, Any, T]]:
    """The async public method: ``await self._arun(build(...))``."""

    @functools.wraps(build)
    async def method(self: Any, /, *args: P.args, **kwargs: P.kwargs) -> T:
        driver: _Drives = self
        return await driver._arun(build(self, *args, **kwargs))

    _named(method, build, "a", name)
    return method


def sync_iter(
    build: Callable[Concatenate[Any, P], Work[T]], name: str | None = None
) -> Callable[Concatenate[Any, P], Iterator[T]]:
    """The sync listing method: ``self._iterate(build(...))``."""

    @functools.wraps(build)
    def method(self: Any, /, *args: P.args, **kwargs: P.kwargs) -> Iterator[T]:
        driver: _Drives = self
        return driver._iterate(build(self, *args, **kwargs))

    _named(method, build, "", name)
    return method


def async_iter(
    build: Callable[Concatenate[Any, P], Work[T]], name: str | None = None
) -> Callable[Concatenate[Any, P], AsyncIterator[T]]:
    """The async listing method: ``self._aiterate(build(...))``."""

    @functools.wraps(build)
    def method(self: Any, /, *args: P.args, **kwargs: P.kwargs) -> AsyncIterator[T]:
        driver: _Drives = self
        return driver._aiterate(build(self, *args, **kwargs))

    _named(method, build, "a", name)
    return method


def waits_for(
    amethod: Callable[Concatenate[Any, P], Coroutine[Any, Any, T]],
) -> Callable[Concatenate[Any, P], T]:
    """The sync twin of ``amethod``: ``self._sync(self.<amethod's name>(...))``, looked up on
    the instance so that a subclass's override is the one waited for."""
    aname = amethod.__name__

    @functools.wraps(amethod)
    def method(self: Any, /, *args: P.args, **kwargs: P.kwargs) -> T:
        driver: _Drives = self
        call: Coroutine[Any, Any, T] = getattr(self, aname)(*args, **kwargs)
        return driver._sync(call)

    _renamed(method, aname)
    return method


def waits_for_iter(
    amethod: Callable[Concatenate[Any, P], AsyncIterator[T]],
) -> Callable[Concatenate[Any, P], Iterator[T]]:
    """The sync twin of the async listing ``amethod``: each item is awaited through
    ``self._sync``; the listing is looked up on the instance, as in ``waits_for``."""
    aname = amethod.__name__

    @functools.wraps(amethod)
    def method(self: Any, /, *args: P.args, **kwargs: P.kwargs) -> Iterator[T]:
        driver: _Drives = self
        items: AsyncIterator[T] = getattr(self, aname)(*args, **kwargs)
        while True:
            try:
                yield driver._sync(_next(items))
            except StopAsyncIteration:
                return

    _renamed(method, aname)
    return method


async def _next(items: AsyncIterator[T]) -> T:
    return await items.__anext__()


def _renamed(method: Callable[..., Any], aname: str) -> None:
    """Name the sync twin of ``aname`` (``aput`` -> ``put``)."""
    method.__name__ = aname.removeprefix("a")
    method.__qualname__ = method.__qualname__.rpartition(".")[0] + "." + method.__name__
