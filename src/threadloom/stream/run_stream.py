"""The run streams ``stream_events(version="v3")`` returns: one run's events and projections,
driven by whoever reads them (no background thread or task)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator, Mapping
from types import MappingProxyType, TracebackType
from typing import Any, NoReturn

from threadloom.stream._chunks import ChunkEvents
from threadloom.stream._mux import StreamMux
from threadloom.stream._types import ProtocolEvent, SubgraphStatus
from threadloom.stream.channel import StreamChannel

__all__ = [
    "AsyncGraphRunStream",
    "AsyncSubgraphRunStream",
    "GraphRunStream",
    "SubgraphRunStream",
]


_END: Any = object()
"""The graph's stream has ended."""


class _RunState:
    """What every run stream shares: its projections as attributes, and what it learns from its
    own ``values`` events (the output, the interrupts)."""

    _mux: StreamMux

    def _setup(self, mux: StreamMux) -> None:
        self._mux = mux
        self.extensions: Mapping[str, Any] = MappingProxyType(mux.extensions)
        """Every transformer's projection, by key."""
        self._latest: Any = None
        self._interrupts: list[Any] = []
        self._interrupted = False
        self._exhausted = False
        self._chunks = ChunkEvents()
        self._scope = list(mux.scope)
        for key in mux.native_keys:
            setattr(self, key, mux.extensions[key])

    def __getattr__(self, name: str) -> NoReturn:
        mux = self.__dict__.get("_mux")
        known = ", ".join(sorted(mux.native_keys)) if mux is not None else ""
        raise AttributeError(
            f"{type(self).__name__!r} object has no attribute {name!r} (registered "
            f"projections: {known or 'none'}); a transformer's projection appears once it is "
            "passed as compile(transformers=[...]) or stream_events(..., transformers=[...])"
        )

    def _events(self, part: Any) -> list[ProtocolEvent]:
        """The protocol events of a graph part (``_END``: what the run's end owes)."""
        events = self._chunks.finish() if part is _END else self._chunks.convert(part)
        for event in events:
            self._observe(event)
        return events

    def _observe(self, event: ProtocolEvent) -> None:
        params = event["params"]
        if event["method"] != "values" or params["namespace"] != self._scope:
            return
        self._latest = params["data"]
        if interrupts := params.get("interrupts", ()):
            self._interrupted = True
            self._interrupts.extend(interrupts)

    def _checked(self, value: Any) -> Any:
        if (err := self._mux.events._error) is not None:
            raise err
        return value


class GraphRunStream(_RunState):
    """A sync run: iterate it for every protocol event, or read its projections (``values``,
    ``messages``, ``lifecycle``, ``subgraphs``, and those of the transformers given); reading
    moves the run on. ``output`` / ``interrupted`` / ``interrupts`` run it to its end.

    Each projection has one reader (``tee(n)`` for more). ``abort()`` (or leaving a ``with``
    block) stops the run early, saving what it owes as a ``break`` out of ``stream`` does.
    """

    values: StreamChannel[Any]
    messages: StreamChannel[Any]
    lifecycle: StreamChannel[Any]
    subgraphs: StreamChannel[SubgraphRunStream]
    updates: StreamChannel[Any]
    custom: StreamChannel[Any]
    checkpoints: StreamChannel[Any]
    debug: StreamChannel[Any]
    tasks: StreamChannel[Any]

    def __init__(self, parts: Iterator[Any] | None, mux: StreamMux) -> None:
        self._parts = parts
        self._setup(mux)
        if parts is not None:
            mux.bind_pump(self._pump_next)

    def _pump_next(self) -> bool:
        """Move the run on by one part; False once it has ended."""
        if self._exhausted or self._parts is None:
            return False
        try:
            part = next(self._parts, _END)
            for event in self._events(part):
                self._mux.push(event)
            if part is not _END:
                return True
            self._exhausted = True
            self._mux.close()
        except Exception as err:  # the run failed: its readers get the error
            self._exhausted = True
            self._mux.fail(err)
        return False

    def _run_to_end(self) -> None:
        while self._pump_next():
            pass

    @property
    def output(self) -> Any:
        """The run's last state (its ``values``), once it has ended; raises its error."""
        self._run_to_end()
        return self._checked(self._latest)

    @property
    def interrupted(self) -> bool:
        """Whether the run paused on an interrupt (runs it to its end)."""
        self._run_to_end()
        return bool(self._checked(self._interrupted))

    @property
    def interrupts(self) -> list[Any]:
        """The interrupts the run paused on (runs it to its end)."""
        self._run_to_end()
        return list(self._checked(self._interrupts))

    def __iter__(self) -> Iterator[ProtocolEvent]:
        return iter(self._mux.events)

    def interleave(self, *names: str) -> Iterator[tuple[str, Any]]:
        """Read several projections at once, as ``(name, item)`` in the order items arrived."""
        channels = {name: self.extensions[name] for name in names}
        taken: list[StreamChannel[Any]] = []  # released at the end, so they can be read again
        try:
            for name, channel in channels.items():
                if not isinstance(channel, StreamChannel):
                    raise TypeError(f"interleave() reads StreamChannels; {name!r} is {channel!r}")
                channel._subscribe(is_async=False)
                taken.append(channel)
            while channels:
                ready = [(c._items[0][0], n) for n, c in channels.items() if c._items]
                if ready:
                    name = min(ready)[1]
                    yield name, channels[name]._items.popleft()[1]
                    continue
                for name, channel in list(channels.items()):
                    if channel._closed:
                        channel._take()  # raises the run's error, if it failed
                        del channels[name]
                if (
                    channels
                    and not self._pump_next()
                    and not any(c._items or c._closed for c in channels.values())
                ):
                    return
        finally:
            for channel in taken:
                channel._subscribed = False

    def abort(self) -> None:
        """Stop the run now (what it owes is saved, as when a ``stream`` loop breaks)."""
        if self._exhausted:
            return
        self._exhausted = True
        parts, self._parts = self._parts, None
        close = getattr(parts, "close", None)
        if close is not None:
            close()
        self._mux.close()

    def __enter__(self) -> GraphRunStream:
        return self

    def __exit__(self, *exc: object) -> None:
        self.abort()


class AsyncGraphRunStream(_RunState):
    """An async run (``await graph.astream_events(..., version="v3")``): ``async for`` over it or
    its projections; ``await run.output()`` / ``interrupted()`` / ``interrupts()``. Several
    readers may wait at once: one moves the run on, the others wait for it."""

    values: StreamChannel[Any]
    messages: StreamChannel[Any]
    lifecycle: StreamChannel[Any]
    subgraphs: StreamChannel[AsyncSubgraphRunStream]
    updates: StreamChannel[Any]
    custom: StreamChannel[Any]
    checkpoints: StreamChannel[Any]
    debug: StreamChannel[Any]
    tasks: StreamChannel[Any]

    def __init__(self, parts: AsyncIterator[Any] | None, mux: StreamMux) -> None:
        self._parts = parts
        self._lock: asyncio.Lock | None = None
        self._pull: asyncio.Task[Any] | None = None
        """The pull of the run's next part in flight: its own task, so ``abort`` from another
        task can cancel it (the run's generator cannot be closed while a pull runs it)."""
        self._aborting = False
        self._setup(mux)
        if parts is not None:
            mux.bind_pump(None, self._apump_next)

    async def _apump_next(self) -> bool:
        """Move the run on by one part; False once it has ended."""
        if self._lock is None:
            self._lock = asyncio.Lock()
        if self._lock.locked():  # another reader is moving the run on: what it gets is ours too
            async with self._lock:
                return not self._exhausted
        async with self._lock:
            if self._exhausted or self._parts is None:
                return False
            try:
                self._pull = asyncio.ensure_future(_next_part(self._parts))
                try:
                    part = await self._pull  # (a cancel of this reader cancels the pull too)
                except asyncio.CancelledError:
                    if self._aborting:  # abort() stopped the pull: the run is over
                        return False
                    raise
                finally:
                    self._pull = None
                for event in self._events(part):
                    await self._mux.apush(event)
                if part is not _END:
                    return True
                self._exhausted = True
                await self._mux.aclose()
            except Exception as err:  # the run failed: its readers get the error
                self._exhausted = True
                await self._mux.afail(err)
            return False

    async def _run_to_end(self) -> None:
        while await self._apump_next():
            pass

    async def output(self) -> Any:
        """The run's last state (its ``values``), once it has ended; raises its error."""
        await self._run_to_end()
        return self._checked(self._latest)

    async def interrupted(self) -> bool:
        """Whether the run paused on an interrupt (runs it to its end)."""
        await self._run_to_end()
        return bool(self._checked(self._interrupted))

    async def interrupts(self) -> list[Any]:
        """The interrupts the run paused on (runs it to its end)."""
        await self._run_to_end()
        return list(self._checked(self._interrupts))

    def __aiter__(self) -> AsyncIterator[ProtocolEvent]:
        return aiter(self._mux.events)

    async def abort(self) -> None:
        """Stop the run now (what it owes is saved, as when an ``astream`` loop stops)."""
        if self._exhausted:
            return
        self._exhausted = self._aborting = True
        parts, self._parts = self._parts, None
        if (pull := self._pull) is not None and not pull.done():
            pull.cancel()  # its cancel reaches the running nodes and subgraphs
            await asyncio.wait([pull])
        aclose = getattr(parts, "aclose", None)
        if aclose is not None:
            await aclose()
        await self._mux.aclose()

    async def __aenter__(self) -> AsyncGraphRunStream:
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, err: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.abort()


async def _next_part(parts: AsyncIterator[Any]) -> Any:
    return await anext(parts, _END)


class _Subgraph:
    """What a subgraph handle adds: where it runs and how it ended. Its projections fill as the
    root run moves on (reading one moves the root run)."""

    path: tuple[str, ...]
    """Its namespace: ``("node:task_id", ...)``."""
    graph_name: str | None
    """The node that runs it."""
    trigger_call_id: str | None
    """The id of the parent's task that runs it."""
    status: SubgraphStatus
    error: str | None

    def __init__(
        self,
        mux: StreamMux,
        *,
        path: tuple[str, ...],
        graph_name: str | None = None,
        trigger_call_id: str | None = None,
    ) -> None:
        super().__init__(None, mux)  # type: ignore[call-arg]  # (the run stream class after us)
        self.path, self.graph_name, self.trigger_call_id = path, graph_name, trigger_call_id
        self.status, self.error = "started", None

    def __repr__(self) -> str:
        return f"{type(self).__name__}(path={self.path!r}, status={self.status!r})"


class SubgraphRunStream(_Subgraph, GraphRunStream):
    """A subgraph of a sync run (an item of ``run.subgraphs``)."""

    def _pump_next(self) -> bool:
        pump = self._mux.pump
        return not self._mux.ended and pump is not None and pump()


class AsyncSubgraphRunStream(_Subgraph, AsyncGraphRunStream):
    """A subgraph of an async run (an item of ``run.subgraphs``)."""

    async def _apump_next(self) -> bool:
        apump = self._mux.apump
        return not self._mux.ended and apump is not None and await apump()
