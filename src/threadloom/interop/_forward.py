"""Forwarding an adapter's calls to the object it wraps, written once for sync and async.

The LangGraph adapters (``_as_saver``: a threadloom saver under LangGraph's engine,
``_from_langgraph``: a LangGraph saver under threadloom's, ``_as_store``: a threadloom store
under LangGraph's engine) forward every call to the wrapped object's method of the same name:
a sync call to the sync method, an ``a``-call to its async twin. Each operation is one builder
(``threadloom._twins``) that returns a ``Call``: the wrapped method's name, the arguments
already converted, and ``then``, what shapes the result. ``Forwarder`` carries a ``Call`` out
both ways.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from threadloom._twins import Work, async_op, sync_op

__all__ = ["Call", "Forwarder", "SaverForwarder", "same"]

T = TypeVar("T")


def same(result: Any) -> Any:
    """The wrapped saver's result, as it is."""
    return result


@dataclass(slots=True, frozen=True)
class Call(Work[T]):
    """One call to forward to the wrapped saver."""

    name: str
    """The sync method's name; the async call goes to ``"a" + name``."""
    args: tuple[Any, ...]
    kwargs: Mapping[str, Any] = field(default_factory=dict)
    then: Callable[[Any], T] = same
    """Shapes the wrapped saver's result into this saver's (converting values, noting heads)."""


class Forwarder:
    """``_run`` / ``_arun`` of an adapter whose every call goes to ``self._wrapped()``."""

    def _wrapped(self) -> Any:
        raise NotImplementedError

    def _run(self, call: Call[T]) -> T:
        return call.then(getattr(self._wrapped(), call.name)(*call.args, **call.kwargs))

    async def _arun(self, call: Call[T]) -> T:
        method = getattr(self._wrapped(), "a" + call.name)
        return call.then(await method(*call.args, **call.kwargs))

    def _iterate(self, call: Call[T]) -> Iterator[T]:
        """A listing: ``then`` shapes each item."""
        for item in getattr(self._wrapped(), call.name)(*call.args, **call.kwargs):
            yield call.then(item)

    async def _aiterate(self, call: Call[T]) -> AsyncIterator[T]:
        async for item in getattr(self._wrapped(), "a" + call.name)(*call.args, **call.kwargs):
            yield call.then(item)


class SaverForwarder(Forwarder):
    """A saver adapter, with the operations both saver adapters forward as they are."""

    def _delete_thread(self, /, thread_id: str) -> Call[None]:
        """Delete a thread in every namespace."""
        return Call("delete_thread", (thread_id,))

    def _delete_for_runs(self, /, run_ids: Sequence[str]) -> Call[None]:
        """Delete the checkpoints (and writes) of these runs."""
        return Call("delete_for_runs", (run_ids,))

    def _copy_thread(self, /, source_thread_id: str, target_thread_id: str) -> Call[None]:
        """Copy a thread, keeping checkpoint ids."""
        return Call("copy_thread", (source_thread_id, target_thread_id))

    delete_thread = sync_op(_delete_thread)
    delete_for_runs = sync_op(_delete_for_runs)
    copy_thread = sync_op(_copy_thread)
    adelete_thread = async_op(_delete_thread)
    adelete_for_runs = async_op(_delete_for_runs)
    acopy_thread = async_op(_copy_thread)
