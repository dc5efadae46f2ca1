"""A node's ``TracePolicy``: what tracers record of the node's own run.

``add_node(..., trace_policy=TracePolicy(process_inputs=..., process_outputs=...))`` changes the
inputs and outputs that tracers (``BaseTracer`` handlers: LangSmith's, Langfuse's, a test's)
record for the node's run; the node itself, the graph's streams (``stream_mode="messages"``,
``astream_events``) and every other callback handler see the real values. The node's run is then
reported in two parts: to the other handlers with the real payload (by the caller, as without a
policy), and to the tracers with the processed one (here). A processor that raises is ignored:
the real payload is recorded, and the node runs on.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import Any

from langchain_core.tracers.base import BaseTracer

from threadloom.engine.run_reports import call_handler

__all__ = ["end_for_tracers", "split_tracers", "start_for_tracers", "with_handlers"]

log = logging.getLogger(__name__)


def split_tracers(handlers: Sequence[Any], policy: Any) -> tuple[list[Any], tuple[Any, ...]]:
    """The handlers told of the node's run with its real payload, and the tracers told apart
    (none without a policy)."""
    if policy is None:
        return list(handlers), ()
    tracers = tuple(h for h in handlers if isinstance(h, BaseTracer))
    if not tracers:
        return list(handlers), ()
    return [h for h in handlers if not isinstance(h, BaseTracer)], tracers


def _recorded(process: Callable[[Any], Any] | None, value: Any, what: str) -> Any:
    if process is None:
        return value
    try:
        return process(value)
    except Exception:  # fail-open: tracing never fails the node
        log.warning("TracePolicy's %s raised; the real value is recorded", what, exc_info=True)
        return value


def with_handlers(run: Any, handlers: Sequence[Any]) -> Any:
    """A copy of the run manager ``run`` reporting to ``handlers``."""
    return type(run)(
        run_id=run.run_id,
        handlers=list(handlers),
        inheritable_handlers=run.inheritable_handlers,
        parent_run_id=run.parent_run_id,
        tags=run.tags,
        inheritable_tags=run.inheritable_tags,
        metadata=run.metadata,
        inheritable_metadata=run.inheritable_metadata,
    )


def start_for_tracers(
    run: Any, tracers: tuple[Any, ...], policy: Any, inputs: Any, name: str
) -> Any:
    """Report the run (started for the other handlers) to ``tracers`` with the processed
    inputs; return its run manager reporting to all of them."""
    if not tracers:
        return run
    recorded = _recorded(policy.process_inputs, inputs, "process_inputs")
    for tracer in tracers:
        if not tracer.ignore_chain:
            call_handler(tracer, "on_chain_start", None, recorded, run_id=run.run_id,
                         parent_run_id=run.parent_run_id, tags=run.tags, metadata=run.metadata,
                         name=name)  # fmt: skip
    return with_handlers(run, [*run.handlers, *tracers])


def end_for_tracers(run: Any, tracers: tuple[Any, ...], policy: Any, output: Any) -> None:
    """Report the run's end to ``tracers`` with the processed output."""
    recorded = _recorded(policy.process_outputs, output, "process_outputs")
    for tracer in tracers:
        if not tracer.ignore_chain:
            call_handler(tracer, "on_chain_end", recorded, run_id=run.run_id,
                         parent_run_id=run.parent_run_id, tags=run.tags)  # fmt: skip
