"""The event router of a run stream: every event goes through the transformers in order, then
into the main event log; each transformer's projection is bound to the run here."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable, Iterable, Sequence
from typing import Any

from threadloom.stream._types import ProtocolEvent, StreamTransformer, needs_async, scheduled
from threadloom.stream.channel import StreamChannel

__all__ = ["StreamMux", "factories_of"]

Factory = Callable[[tuple[str, ...]], Any]


def factories_of(specs: Iterable[Any] | None, where: str) -> list[Factory]:
    """``transformers=`` as scope factories: classes or ``factory(scope)`` callables (an
    instance cannot be built again for each subgraph's scope, so it is refused)."""
    out: list[Factory] = []
    for spec in specs or ():
        if isinstance(spec, StreamTransformer):
            raise TypeError(
                f"{where}: {spec!r} is a pre-built instance; pass its class "
                f"({type(spec).__name__}) or a factory `lambda scope: "
                f"{type(spec).__name__}(scope, ...)`: each subgraph gets its own instance, "
                "built for its scope"
            )
        if not callable(spec):
            raise TypeError(
                f"{where}: transformers must be StreamTransformer classes or factories "
                f"`lambda scope: MyTransformer(scope, ...)`, got {spec!r}: each subgraph gets "
                "its own instance, built for its scope"
            )
        out.append(spec)
    return out


class StreamMux:
    """Routes one run's (or one subgraph handle's) events through its transformers."""

    def __init__(
        self,
        factories: Sequence[Factory],
        *,
        scope: tuple[str, ...] = (),
        is_async: bool = False,
        numbered: bool = True,
    ) -> None:
        self.scope = scope
        self.is_async = is_async
        self._factories = tuple(factories)
        self._numbered = numbered
        """Whether events get a ``seq`` (the root's do; a subgraph handle shares them)."""
        self._seq = 0
        self.events: StreamChannel[ProtocolEvent] = StreamChannel()
        self.events._bind(is_async=is_async)
        self.extensions: dict[str, Any] = {}
        self.native_keys: set[str] = set()
        self.transformers: list[StreamTransformer] = []
        self._owners: dict[str, str] = {}
        self._channels: list[StreamChannel[Any]] = [self.events]
        self.pump: Callable[[], bool] | None = None
        self.apump: Callable[[], Awaitable[bool]] | None = None
        built = [factory(scope) for factory in self._factories]
        for transformer in sorted(built, key=lambda t: not getattr(t, "before_builtins", False)):
            self._register(transformer)

    def _register(self, transformer: StreamTransformer) -> None:
        name = type(transformer).__name__
        if not callable(getattr(transformer, "init", None)):
            raise TypeError(
                f"a transformer factory returned {transformer!r}, not a StreamTransformer: "
                "pass a StreamTransformer subclass, or a factory(scope) that returns one"
            )
        if needs_async(transformer) and not self.is_async:
            raise RuntimeError(
                f"{name} needs an async run (it overrides aprocess/afinalize/afail or sets "
                "requires_async): use astream_events(version='v3'), or set supports_sync = True "
                "if it also works without an event loop"
            )
        projection = transformer.init()
        if not isinstance(projection, dict):
            raise TypeError(f"{name}.init() must return a dict, got {projection!r}")
        if taken := sorted(set(projection) & set(self.extensions)):
            owners = ", ".join(f"{key!r} (owned by {self._owners[key]})" for key in taken)
            raise ValueError(
                f"{name}'s projection keys conflict with keys already registered: {owners}; "
                "rename them"
            )
        native = bool(getattr(transformer, "_native", False))
        for value in projection.values():
            if isinstance(value, StreamChannel):
                self._adopt(value, native)
        self.transformers.append(transformer)
        self.extensions.update(projection)
        self._owners.update(dict.fromkeys(projection, name))
        if native:
            self.native_keys.update(projection)
        transformer._on_register(self)

    def _adopt(self, channel: StreamChannel[Any], native: bool) -> None:
        channel._bind(is_async=self.is_async)
        channel._pump, channel._apump = self.pump, self.apump
        self._channels.append(channel)
        if channel.name is not None:
            method = channel.name if native else f"custom:{channel.name}"
            channel._forward = lambda item: self._forward(method, item)

    def required_modes(self) -> list[str]:
        """The graph stream modes the transformers read (what the run asks the graph for)."""
        modes = {m for t in self.transformers for m in getattr(t, "required_stream_modes", ())}
        return sorted(modes)

    def bind_pump(self, pump: Callable[[], bool] | None, apump: Any = None) -> None:
        """How a reader of an empty channel asks the run for its next event."""
        self.pump, self.apump = pump, apump
        for channel in self._channels:
            channel._pump, channel._apump = pump, apump
        for transformer in self.transformers:
            bind = getattr(transformer, "_bind_pumps", None)
            if bind is not None:
                bind(pump, apump)

    def child(self, scope: tuple[str, ...]) -> StreamMux:
        """A router for a subgraph handle: the same transformers, built for ``scope``, fed by
        this run's pump."""
        mux = StreamMux(self._factories, scope=scope, is_async=self.is_async, numbered=False)
        mux.bind_pump(self.pump, self.apump)
        return mux

    # --- events -----------------------------------------------------------------------------------

    def push(self, event: ProtocolEvent) -> None:
        """Route ``event`` through every transformer; log it unless one returned False."""
        keep = True
        for transformer in self.transformers:
            keep = transformer.process(event) is not False and keep
        if keep:
            self._log(event)

    async def apush(self, event: ProtocolEvent) -> None:
        """Async ``push``: each transformer's ``aprocess`` is awaited in turn."""
        keep = True
        for transformer in self.transformers:
            keep = (await transformer.aprocess(event)) is not False and keep
        if keep:
            self._log(event)

    def _log(self, event: ProtocolEvent) -> None:
        if self._numbered:
            self._seq += 1
            event["seq"] = self._seq
        self.events.push(event)

    def _forward(self, method: str, item: Any) -> None:
        """A named channel's item, copied into the main log (not through the transformers)."""
        self._log(make_event(method, [], item))

    # --- the end ---------------------------------------------------------------------------------

    def close(self) -> None:
        """The run ended: ``finalize`` every transformer, then close every channel."""
        first = _each(self.transformers, lambda t: t.finalize())
        self._end_channels(None)
        if first is not None:
            raise first

    async def aclose(self) -> None:
        """Async ``close``: waits for what transformers ``schedule``d, then ``afinalize``s."""
        first: BaseException | None = None
        for transformer in self.transformers:
            try:
                if pending := scheduled(transformer):
                    await asyncio.gather(*pending)
                await transformer.afinalize()
            except Exception as err:  # the others still finish
                first = first or err
        self._end_channels(None)
        if first is not None:
            raise first

    def fail(self, err: BaseException) -> None:
        """The run failed with ``err``: tell every transformer, fail every channel with it."""
        _each(self.transformers, lambda t: t.fail(err))
        self._end_channels(err)

    async def afail(self, err: BaseException) -> None:
        """Async ``fail``."""
        for transformer in self.transformers:
            for task in scheduled(transformer):
                task.cancel()
            with contextlib.suppress(Exception):  # the channels still fail with the run's error
                await transformer.afail(err)
        self._end_channels(err)

    def _end_channels(self, err: BaseException | None) -> None:
        for channel in self._channels:
            if not channel._closed:
                channel.close() if err is None else channel.fail(err)

    @property
    def ended(self) -> bool:
        return self.events._closed


def _each(transformers: list[StreamTransformer], hook: Callable[[Any], None]) -> Exception | None:
    """Call ``hook`` on every transformer; the first error, once all were called."""
    first: Exception | None = None
    for transformer in transformers:
        try:
            hook(transformer)
        except Exception as err:
            first = first or err
    return first


def make_event(method: str, namespace: Sequence[str], data: Any) -> ProtocolEvent:
    """A protocol event of ``method`` from ``namespace``."""
    return {
        "type": "event",
        "method": method,
        "params": {
            "namespace": list(namespace),
            "timestamp": int(time.time() * 1000),
            "data": data,
        },
    }
