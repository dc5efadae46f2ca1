"""``StreamChannel``: one projection of a run stream, read by one consumer at the pace it reads.

Nothing runs in the background: when a reader finds the channel empty, it asks the run for its
next event (the *pump*), which the run's transformers may turn into items here. So a channel
holds only what was produced but not yet read, and only once someone reads it (``push`` before
the first reader keeps nothing, but still reaches the main event log when the channel is named).
"""

from __future__ import annotations

from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from itertools import count
from typing import Any, Generic, TypeVar

__all__ = ["StreamChannel"]

T = TypeVar("T")

_stamps = count(1)
"""Order of pushes across every channel (``GraphRunStream.interleave`` merges by it)."""

_READY, _ENDED, _EMPTY = 0, 1, 2


class StreamChannel(Generic[T]):
    """A single-reader queue of a run's projection (``run.values``, ``run.subgraphs``...).

    ``StreamChannel("name")`` also copies each pushed item into the run's main event log as an
    event of method ``"name"`` (a native transformer's) or ``"custom:name"``; unnamed, it is
    local. Iterate it once (``for x in run.values`` / ``async for``): a second reader raises;
    ``tee(n)`` / ``atee(n)`` give ``n`` readers. The run closes (or fails) it when it ends.
    """

    def __init__(self, name: str | None = None, *, maxlen: int | None = None) -> None:
        """``maxlen`` is accepted as LangGraph's is, and changes nothing: a channel holds only
        what was produced and not yet read, and the run moves only as fast as it is read."""
        if maxlen is not None and maxlen <= 0:
            raise ValueError(f"StreamChannel maxlen must be a positive int or None, got {maxlen!r}")
        self.name = name
        self._items: deque[tuple[int, T]] = deque()
        self._closed = False
        self._error: BaseException | None = None
        self._subscribed = False
        self._is_async: bool | None = None
        self._forward: Callable[[T], None] | None = None
        self._pump: Callable[[], bool] | None = None
        self._apump: Callable[[], Awaitable[bool]] | None = None

    # --- wiring (the run's router) --------------------------------------------------------------

    def _bind(self, *, is_async: bool) -> None:
        if self._is_async is not None:
            raise RuntimeError(
                f"StreamChannel {self.name!r} is already bound to a run: a transformer's init() "
                "must return new channels each time it is called"
            )
        self._is_async = is_async

    # --- producing -------------------------------------------------------------------------------

    def push(self, item: T) -> None:
        """Add an item (kept for the reader once there is one; forwarded when named)."""
        if self._subscribed:
            if self._closed:
                raise RuntimeError(
                    f"Cannot push to a closed StreamChannel ({self.name!r}): the run it belongs "
                    "to has ended; push only from a transformer's process() while it runs"
                )
            self._items.append((next(_stamps), item))
        if self._forward is not None:
            self._forward(item)

    def close(self) -> None:
        """No more items: the reader stops once it has read what is queued."""
        self._closed = True

    def fail(self, err: BaseException) -> None:
        """End with ``err``: the reader gets it once it has read what is queued."""
        self._error = err
        self._closed = True

    # --- reading ---------------------------------------------------------------------------------

    def _subscribe(self, *, is_async: bool) -> None:
        if self._is_async is None:
            raise TypeError(
                f"StreamChannel {self.name!r} has not been bound to a run: read the channels "
                "of a run stream (run.values, run.extensions[...]); a transformer's channels "
                "are bound when its init() returns them"
            )
        if self._is_async != is_async:
            mode, how = ("async", "async for") if self._is_async else ("sync", "for")
            raise TypeError(
                f"StreamChannel {self.name!r} is bound to {mode} mode (it belongs to a {mode} "
                f"run): read it with `{how}`"
            )
        if self._subscribed:
            raise RuntimeError(
                f"StreamChannel {self.name!r} already has a subscriber: use .tee(n) / .atee(n) "
                "for several readers"
            )
        self._subscribed = True

    def _take(self) -> tuple[int, Any]:
        """The next item (``_READY``), the end (``_ENDED``), or ``_EMPTY``: pump the run."""
        if self._items:
            return _READY, self._items.popleft()[1]
        if self._closed:
            if self._error is not None:
                raise self._error
            return _ENDED, None
        return _EMPTY, None

    def _stalled(self) -> bool:
        """The run has no more events and left us open and empty (we are not its channel)."""
        return not self._items and not self._closed

    def __iter__(self) -> Iterator[T]:
        self._subscribe(is_async=False)
        return self._cursor()

    def _cursor(self) -> Iterator[T]:
        while True:
            state, item = self._take()
            if state == _READY:
                yield item
            elif state == _ENDED or (not (self._pump and self._pump()) and self._stalled()):
                return

    def __aiter__(self) -> AsyncIterator[T]:
        self._subscribe(is_async=True)
        return self._acursor()

    async def _acursor(self) -> AsyncIterator[T]:
        while True:
            state, item = self._take()
            if state == _READY:
                yield item
            elif state == _ENDED or (not (self._apump and await self._apump()) and self._stalled()):
                return

    def tee(self, n: int = 2) -> tuple[Iterator[T], ...]:
        """``n`` independent readers of this channel (sync)."""
        source, queues = iter(self), [deque[T]() for _ in range(n)]

        def branch(mine: deque[T]) -> Iterator[T]:
            while mine or _deal(next(source, _END), queues):
                yield mine.popleft()

        return tuple(branch(q) for q in queues)

    def atee(self, n: int = 2) -> tuple[AsyncIterator[T], ...]:
        """``n`` independent readers of this channel (async)."""
        source, queues = aiter(self), [deque[T]() for _ in range(n)]

        async def branch(mine: deque[T]) -> AsyncIterator[T]:
            while mine or _deal(await anext(source, _END), queues):
                yield mine.popleft()

        return tuple(branch(q) for q in queues)

    def __repr__(self) -> str:
        state = "failed" if self._error else "closed" if self._closed else "open"
        return f"StreamChannel({self.name!r}, {state}, queued={len(self._items)})"


_END: Any = object()


def _deal(item: Any, queues: list[deque[Any]]) -> bool:
    """Give a teed item to every reader's queue; False at the end of the source."""
    if item is _END:
        return False
    for queue in queues:
        queue.append(item)
    return True
