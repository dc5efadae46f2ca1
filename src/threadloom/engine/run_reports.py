"""Telling callback handlers that a task's run started or ended, at the cost of a method call.

Every task of a traced graph is a chain run: one ``on_chain_start`` and one ``on_chain_end`` per
node, per step. langchain-core's generic dispatch (``CallbackManager.on_chain_start``) costs more
than the handlers it calls: it builds a manager to start the run, looks every method up by name
and checks each result for a coroutine. Most handlers (a tracer, a logger, LangSmith's) are plain
synchronous ones; for those the run is reported here by calling their methods directly, with what
langchain-core would pass and its error policy (a failing handler is logged, or re-raised when it
sets ``raise_error``). A list holding any other handler (an ``AsyncCallbackHandler``, a handler
whose methods are coroutines) goes through langchain-core as before.

What each handler class is (plain, a stream tap, a LangSmith tracer) is decided once per class.
"""

from __future__ import annotations

import inspect
import logging
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from langchain_core.callbacks import AsyncCallbackHandler, CallbackManagerForChainRun
from langchain_core.tracers._streaming import _StreamingCallbackHandler
from langchain_core.utils.uuid import uuid7

__all__ = ["HandlerKind", "Handlers", "call_handler", "end_chain", "start_chain", "summarize"]

logger = logging.getLogger("langchain_core.callbacks.manager")
"""Where langchain-core logs a failing handler: a program's logging setup for it keeps working."""


@dataclass(frozen=True, slots=True)
class HandlerKind:
    """What the engine needs to know of a handler class, decided once per class."""

    plain: bool
    """Its chain methods are synchronous: called directly, as langchain-core would call them."""
    tap: bool
    """It streams runs' outputs (``astream_events``, ``astream_log``): a node's output is passed
    through it, as LangGraph's streamed nodes do."""
    tracer: bool
    """A LangSmith tracer: the node's run becomes the parent of ``@traceable`` calls in it."""


_KINDS: dict[type, HandlerKind] = {}


def _classify(cls: type) -> HandlerKind:
    from threadloom.engine.stream_handlers import is_stream_handler_class

    tracers = sys.modules.get("langchain_core.tracers.langchain")
    plain = not issubclass(cls, AsyncCallbackHandler) and not any(
        inspect.iscoroutinefunction(getattr(cls, name, None))
        for name in ("on_chain_start", "on_chain_end")
    )
    kind = HandlerKind(
        plain=plain,
        tap=issubclass(cls, _StreamingCallbackHandler) and not is_stream_handler_class(cls),
        tracer=tracers is not None and issubclass(cls, tracers.LangChainTracer),
    )
    _KINDS[cls] = kind  # (no tracer class can exist before its module is imported)
    return kind


@dataclass(frozen=True, slots=True)
class Handlers:
    """What the engine needs to know of a run's handlers, read once per task run."""

    plain: bool
    """Every handler is plain: the run is reported by ``start_chain`` / ``end_chain``."""
    taps: tuple[Any, ...]
    """The handlers that stream runs' outputs."""
    tracers: tuple[Any, ...]
    """The LangSmith tracers among them."""


_ONLY_PLAIN = Handlers(True, (), ())


def summarize(handlers: Sequence[Any]) -> Handlers:
    """The ``Handlers`` summary of ``handlers`` (one pass, each class looked up once)."""
    plain = True
    taps: tuple[Any, ...] = ()
    tracers: tuple[Any, ...] = ()
    for handler in handlers:
        kind = _KINDS.get(type(handler)) or _classify(type(handler))
        plain = plain and kind.plain
        if kind.tap:
            taps += (handler,)
        if kind.tracer:
            tracers += (handler,)
    return _ONLY_PLAIN if plain and not taps and not tracers else Handlers(plain, taps, tracers)


def start_chain(
    handlers: list[Any],
    inheritable_handlers: list[Any],
    parent_run_id: UUID | None,
    tags: list[str],
    inheritable_tags: list[str],
    metadata: dict[str, Any],
    inputs: Any,
    name: str,
) -> CallbackManagerForChainRun:
    """Report a chain run as started to plain ``handlers`` and return its run manager (what
    ``CallbackManager.on_chain_start`` returns)."""
    run_id = uuid7()
    for handler in handlers:
        if not handler.ignore_chain:
            call_handler(handler, "on_chain_start", None, inputs, run_id=run_id,
                  parent_run_id=parent_run_id, tags=tags, metadata=metadata, name=name)  # fmt: skip
    return CallbackManagerForChainRun(
        run_id=run_id,
        handlers=handlers,
        inheritable_handlers=inheritable_handlers,
        parent_run_id=parent_run_id,
        tags=tags,
        inheritable_tags=inheritable_tags,
        metadata=metadata,
        inheritable_metadata=metadata,
    )


def end_chain(run: Any, output: Any) -> None:
    """``run.on_chain_end(output)``, called directly on plain handlers."""
    for handler in run.handlers:
        if not handler.ignore_chain:
            call_handler(handler, "on_chain_end", output, run_id=run.run_id,
                  parent_run_id=run.parent_run_id, tags=run.tags)  # fmt: skip


def call_handler(handler: Any, event: str, *args: Any, **kwargs: Any) -> None:
    """``handler.<event>(...)`` under langchain-core's error policy."""
    try:
        getattr(handler, event)(*args, **kwargs)
    except Exception as exc:  # langchain-core's policy: a handler's failure is not the run's
        logger.warning("Error in %s.%s callback: %r", type(handler).__name__, event, exc)
        if handler.raise_error:
            raise
