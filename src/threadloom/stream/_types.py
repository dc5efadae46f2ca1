"""What flows through a ``version="v3"`` run stream: protocol events and the transformers that
turn them into projections."""

from __future__ import annotations

import asyncio
from abc import ABC, abstractmethod
from collections.abc import Coroutine
from typing import Any, ClassVar, Literal, NotRequired, TypedDict

__all__ = [
    "LifecyclePayload",
    "ProtocolEvent",
    "StreamTransformer",
    "SubgraphStatus",
    "needs_async",
    "scheduled",
]

SubgraphStatus = Literal["started", "completed", "failed", "interrupted", "drained"]
"""Where a subgraph run stands, as ``lifecycle`` events and subgraph handles report it."""


class _EventParams(TypedDict):
    namespace: list[str]
    """The graph the event comes from: ``[]`` for the root, ``["node:task_id", ...]`` below."""
    timestamp: int
    """Wall-clock milliseconds (can go backwards: order by ``seq``)."""
    data: Any
    interrupts: NotRequired[tuple[Any, ...]]


class ProtocolEvent(TypedDict):
    """One event of a run stream: a stream part of ``method`` (``"values"``, ``"messages"``,
    ``"lifecycle"``, ``"custom:<name>"``...) in a uniform envelope. ``seq`` numbers the events of
    the root stream in order."""

    type: Literal["event"]
    event_id: NotRequired[str]
    seq: NotRequired[int]
    method: str
    params: _EventParams


class LifecyclePayload(TypedDict, total=False):
    """A ``lifecycle`` event: a subgraph started or reached a terminal status."""

    event: SubgraphStatus
    namespace: list[str]
    graph_name: NotRequired[str]
    trigger_call_id: NotRequired[str]
    cause: NotRequired[dict[str, Any]]
    error: NotRequired[str]


class StreamTransformer(ABC):
    """A projection over a run's events: ``init()`` returns the projection (a dict whose values
    are usually ``StreamChannel``s), ``process(event)`` sees every event in order (return False
    to keep it out of the main event log).

    Pass the class (or a ``factory(scope)``) to ``compile(transformers=[...])`` or
    ``stream_events(..., version="v3", transformers=[...])``; it is built once per scope: the
    root (``()``) and each subgraph handle. Its projection is in ``run.extensions``; with
    ``_native = True`` also an attribute of the run (``run.<key>``).

    Async work: override ``aprocess`` / ``afinalize`` / ``afail``, or call ``schedule(coro)``
    from ``process`` (set ``requires_async = True``); such a transformer only runs under
    ``astream_events``. ``required_stream_modes`` are the graph stream modes it reads; a run
    asks the graph for the union over its transformers. ``before_builtins = True`` runs it
    before the built-in transformers (to edit events they copy).
    """

    requires_async: ClassVar[bool] = False
    supports_sync: ClassVar[bool] = False
    required_stream_modes: ClassVar[tuple[str, ...]] = ()
    before_builtins: ClassVar[bool] = False

    def __init__(self, scope: tuple[str, ...] = ()) -> None:
        self.scope: tuple[str, ...] = scope

    @abstractmethod
    def init(self) -> dict[str, Any]:
        """The projection: its keys become ``run.extensions`` keys."""

    def _on_register(self, mux: Any) -> None:  # noqa: B027 (a hook: doing nothing is right)
        """Called once the run's router has taken the projection (built-ins use it)."""

    def process(self, event: ProtocolEvent) -> bool:
        """See one event; False keeps it out of the main event log."""
        return True

    async def aprocess(self, event: ProtocolEvent) -> bool:
        """Async ``process`` (the router awaits it before the next transformer sees the event)."""
        return self.process(event)

    def finalize(self) -> None:  # noqa: B027 (a hook: doing nothing is right)
        """The run ended normally (the projection's channels are closed after this)."""

    async def afinalize(self) -> None:
        """Async ``finalize``."""
        self.finalize()

    def fail(self, err: BaseException) -> None:  # noqa: B027 (a hook: doing nothing is right)
        """The run ended with ``err`` (the projection's channels fail with it after this)."""

    async def afail(self, err: BaseException) -> None:
        """Async ``fail``."""
        self.fail(err)

    def schedule(self, coro: Coroutine[Any, Any, Any]) -> asyncio.Task[Any]:
        """Run ``coro`` beside the stream; the run's end waits for it. Async runs only."""
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            coro.close()
            raise RuntimeError(
                f"{type(self).__name__}.schedule() requires a running event loop: use "
                "astream_events(version='v3'), and set requires_async = True on the class"
            ) from None
        task = loop.create_task(coro)
        tasks = scheduled(self)
        tasks.add(task)
        task.add_done_callback(tasks.discard)
        return task


def scheduled(transformer: StreamTransformer) -> set[asyncio.Task[Any]]:
    """The tasks ``transformer.schedule`` started that have not finished (a subclass may skip
    ``StreamTransformer.__init__``)."""
    tasks: set[asyncio.Task[Any]] = transformer.__dict__.setdefault("_tasks", set())
    return tasks


_ASYNC_HOOKS = ("aprocess", "afinalize", "afail")


def needs_async(transformer: StreamTransformer) -> bool:
    """Whether ``transformer`` only works in an async run (it overrides an async hook or asks
    for one), unless it says it supports the sync lane too."""
    kind = type(transformer)
    if kind.supports_sync:
        return False
    if kind.requires_async:
        return True
    return any(getattr(kind, name) is not getattr(StreamTransformer, name) for name in _ASYNC_HOOKS)
