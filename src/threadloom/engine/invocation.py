"""One ``invoke`` or ``stream`` call of a compiled graph: its core and saver, carried out by the
sync or the async driver, and how its chunks become what the caller gets.

``Pregel``'s four entry points are thin shells over these: each builds its call once (the same
code for sync and async) and only its loop differs (``for`` or ``async for``).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Generator, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, TypedDict

from langchain_core.runnables import RunnableConfig

from threadloom.engine import aio
from threadloom.engine import sync as sync_driver
from threadloom.engine.callbacks import GraphTrace, traced_achunks, traced_chunks
from threadloom.engine.effects import Effect
from threadloom.engine.output import SKIP, OutputCollector, StreamRelay, graph_output

__all__ = ["Call", "InvokeArgs", "Invoked", "Listed", "StreamArgs", "Streamed", "configs_for"]


class InvokeArgs(TypedDict, total=False):
    """The keyword arguments of ``invoke``/``ainvoke`` (LangGraph's)."""

    context: Any
    """The run's context (``Runtime.context``); a dict is turned into the context schema."""
    stream_mode: Any
    """``"values"`` (the default): the output; any other mode: the list ``stream`` yields."""
    output_keys: Any
    """The channel(s) the output reads (default: the graph's output channels)."""
    interrupt_before: Any
    """Node names to stop before (``"*"``: all), instead of the compiled ones."""
    interrupt_after: Any
    """Node names to stop after (``"*"``: all), instead of the compiled ones."""
    durability: str | None
    """When steps are saved: ``"sync"``, ``"async"`` (the default) or ``"exit"``."""
    version: str
    """``"v1"`` (the default) or ``"v2"`` (typed output and stream parts)."""
    debug: bool | None
    """Accepted and ignored (use ``stream_mode="debug"``)."""
    checkpoint_during: bool | None
    """Deprecated (LangGraph 1.0): ``durability`` (``True``: ``"async"``, ``False``: ``"exit"``)."""
    control: Any
    """A ``threadloom.runtime.RunControl``: ``request_drain()`` stops the run at a step boundary."""


class StreamArgs(InvokeArgs, total=False):
    """The keyword arguments of ``stream``/``astream`` (LangGraph's)."""

    subgraphs: bool
    """Also stream the chunks of subgraphs, as ``(namespace, chunk)``."""


@dataclass(slots=True)
class Call:
    """A call's core (a generator of effects), its saver and the graph run to report to the
    config's callbacks (None without callbacks)."""

    core: Generator[Effect, Any, None]
    saver: Any
    trace: GraphTrace | None

    def chunks(self) -> Iterator[tuple[str, Any]]:
        """The run's ``(mode, payload)`` chunks, carried out by the sync driver."""
        chunks = sync_driver.drive(self.core, self.saver)
        return chunks if self.trace is None else traced_chunks(chunks, self.trace)

    def achunks(self) -> AsyncIterator[tuple[str, Any]]:
        """The run's ``(mode, payload)`` chunks, carried out by the async driver."""
        chunks = aio.drive(self.core, self.saver)
        return chunks if self.trace is None else traced_achunks(chunks, self.trace)


@dataclass(slots=True)
class Streamed(Call):
    """A ``stream`` call: ``shaped`` turns a chunk into what the caller gets (or ``SKIP``)."""

    shaped: Callable[[tuple[str, Any]], Any]


@dataclass(slots=True)
class Listed(Streamed):
    """An ``invoke`` with a stream mode other than ``"values"``: the list ``stream`` yields."""

    out: list[Any] = field(default_factory=list)

    def add(self, chunk: tuple[str, Any]) -> None:
        if (shaped := self.shaped(chunk)) is not SKIP:
            self.out.append(shaped)

    def result(self) -> Any:
        return self.out


@dataclass(slots=True)
class Invoked(Call):
    """An ``invoke`` call: its chunks become its result (and reach an enclosing stream)."""

    collector: OutputCollector
    relay: StreamRelay | None
    """Set when a parent run streams with ``subgraphs=True``: our chunks go up to it."""
    ns: tuple[str, ...]
    nested: bool
    version: str
    output_class: Any

    def add(self, chunk: tuple[str, Any]) -> None:
        mode, payload = chunk
        if self.relay is not None:
            self.relay.forward(self.ns, mode, payload)
        self.collector.add(mode, payload)

    def result(self) -> Any:
        result = self.collector.result(nested=self.nested)
        return graph_output(result, self.output_class) if self.version == "v2" else result


def as_stream(arguments: InvokeArgs) -> StreamArgs:
    """``invoke``'s arguments as ``stream`` takes them (for a non-``values`` stream mode)."""
    keys = ("context", "stream_mode", "interrupt_before", "interrupt_after", "durability")
    return {k: arguments.get(k) for k in keys} | {"version": arguments.get("version", "v1")}  # type: ignore[return-value]


def configs_for(
    inputs: Sequence[Any], config: RunnableConfig | Sequence[RunnableConfig] | None
) -> list[RunnableConfig | None]:
    """One config per input for ``batch`` (the same one, or each its own)."""
    if isinstance(config, Sequence) and not isinstance(config, dict):
        if len(config) != len(inputs):
            raise ValueError(
                f"batch got {len(inputs)} inputs but {len(config)} configs: pass one config, "
                "or one per input"
            )
        return list(config)
    return [config] * len(inputs)  # type: ignore[list-item]
