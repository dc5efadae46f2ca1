"""``stream_events(version="v3")`` / ``astream_events(version="v3")``: a run stream over the
graph's ``stream(version="v2", subgraphs=True)`` parts, asking the graph for the stream modes its
transformers read."""

from __future__ import annotations

from typing import Any

from langchain_core.runnables import RunnableConfig

from threadloom.stream._mux import StreamMux, factories_of
from threadloom.stream.run_stream import AsyncGraphRunStream, GraphRunStream
from threadloom.stream.transformers import (
    LifecycleTransformer,
    MessagesTransformer,
    SubgraphTransformer,
    ValuesTransformer,
)

__all__ = ["astream_events_v3", "check_v3_kwargs", "stream_events_v3"]

BUILT_IN = (ValuesTransformer, MessagesTransformer, LifecycleTransformer, SubgraphTransformer)
"""The transformers of every v3 run, before the graph's and the call's."""

_OWNED = ("stream_mode", "subgraphs")


def check_v3_kwargs(where: str, kwargs: dict[str, Any]) -> None:
    """Refuse what a v3 run decides itself (the stream modes, and subgraphs, always streamed)."""
    if taken := [k for k in _OWNED if k in kwargs]:
        raise TypeError(
            f"{where}(version='v3') does not accept {', '.join(taken)}: the stream modes are "
            "the ones its transformers read, and subgraphs are always streamed (each has its "
            "handle on run.subgraphs); remove the argument, or add a transformer "
            "(e.g. UpdatesTransformer) for another projection"
        )


def _mux(graph: Any, config: Any, extra: Any, is_async: bool) -> StreamMux:
    where = "stream_events" if not is_async else "astream_events"
    factories = [
        *BUILT_IN,
        *factories_of(getattr(graph, "stream_transformers", ()), "compile"),
        *factories_of(extra, where),
    ]
    # scope (): a graph streamed inside a node streams its own events at the root namespace
    return StreamMux(factories, is_async=is_async)


def _start(graph: Any, method: str, input: Any, config: Any, kw: dict[str, Any]) -> Any:
    """The run's router and the graph's ``stream``/``astream`` of the modes it needs; the
    breakpoints and the control are always passed (None when not given), as LangGraph does."""
    where = f"{method}_events"
    check_v3_kwargs(where, kw)
    mux = _mux(graph, config, kw.pop("transformers", None), is_async=method == "astream")
    for name in ("interrupt_before", "interrupt_after", "control"):
        kw.setdefault(name, None)
    stream = getattr(graph, method)
    parts = stream(
        input, config, stream_mode=mux.required_modes(), subgraphs=True, version="v2", **kw
    )
    return mux, parts


def stream_events_v3(
    graph: Any, input: Any, config: RunnableConfig | None = None, **kwargs: Any
) -> GraphRunStream:
    """A sync run stream of ``graph`` (nothing runs until it is read)."""
    mux, parts = _start(graph, "stream", input, config, kwargs)
    return GraphRunStream(iter(parts), mux)


async def astream_events_v3(
    graph: Any, input: Any, config: RunnableConfig | None = None, **kwargs: Any
) -> AsyncGraphRunStream:
    """An async run stream of ``graph`` (nothing runs until it is read)."""
    mux, parts = _start(graph, "astream", input, config, kwargs)
    return AsyncGraphRunStream(aiter(parts), mux)
