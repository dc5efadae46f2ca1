"""The one conversion of values between LangGraph and threadloom.

LangGraph's engine puts its own records into checkpoints and pending writes: ``Send`` in the
``__pregel_tasks`` channel, ``Interrupt`` in ``__interrupt__`` writes, ``Command`` and
``Overwrite`` in task writes and resume values. threadloom's serializer stores threadloom's
records of the same names, so values crossing the bridge are converted here, both ways:

- ``to_threadloom(value)`` / ``to_langgraph(value)`` convert the records of the table below,
  recursively inside ``dict``, ``list``, ``tuple``, ``set`` and ``frozenset`` (exact types only:
  a subclass such as a named tuple, a pydantic model or a message is a leaf, passed unchanged).
- A value with nothing to convert comes back as the very same object: no copy is made, so a
  500-message list costs one pass of type lookups, and threadloom's delta check still sees the
  caller's objects.
- LangChain messages are the same classes on both sides and are never touched.
- ``checkpoint_to_*``, ``writes_to_*`` and ``pending_writes_to_*`` apply the conversion to the
  parts of LangGraph's and threadloom's checkpoint shapes that hold values; both ``Checkpoint``
  TypedDicts have the same keys (``pending_sends`` is legacy on both sides). Channel values a
  saver decodes lazily (``LazyDict``) stay lazy: they are converted when first read.

Anything else LangGraph-made (or user-made) is left as it is: threadloom's strict serializer then
refuses what it cannot store, with its own error naming the path.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import timedelta
from typing import Any, Final, TypeVar

from langgraph import types as lg

from threadloom import types as tl
from threadloom.checkpoint._lazy import LazyDict

__all__ = [
    "checkpoint_to_langgraph",
    "checkpoint_to_threadloom",
    "pending_writes_to_langgraph",
    "to_langgraph",
    "to_threadloom",
    "writes_to_threadloom",
]

C = TypeVar("C", bound=Mapping[str, Any])

Convert = Callable[[Any], Any]
Record = Callable[[Any, Convert], Any]
"""Converts one record, given how to convert the values inside it."""


def _map_containers(value: Any, records: Mapping[type, Record]) -> Any:
    """``value`` with every record of ``records`` converted; the same object when none is found."""
    cls = type(value)
    record = records.get(cls)
    if record is not None:
        return record(value, lambda inner: _map_containers(inner, records))
    if cls is dict:
        changed: dict[Any, Any] | None = None
        for key, item in value.items():
            new = _map_containers(item, records)
            if new is not item:
                if changed is None:
                    changed = dict(value)
                changed[key] = new
        return value if changed is None else changed
    if cls is list or cls is tuple or cls is set or cls is frozenset:
        items = [_map_containers(item, records) for item in value]
        if all(new is old for new, old in zip(items, value, strict=True)):
            return value
        return items if cls is list else cls(items)
    return value


# -- the records, both ways --------------------------------------------------------------------


def _timeout_to_tl(timeout: Any) -> tl.TimeoutPolicy | None:
    """A LangGraph ``Send`` timeout (seconds, timedelta or ``TimeoutPolicy``) as threadloom's."""
    if timeout is None or isinstance(timeout, int | float | timedelta):
        return tl.TimeoutPolicy.coerce(timeout)
    return tl.TimeoutPolicy.coerce(
        tl.TimeoutPolicy(
            run_timeout=timeout.run_timeout,
            idle_timeout=timeout.idle_timeout,
            refresh_on=timeout.refresh_on,
        )
    )


def _timeout_to_lg(timeout: tl.TimeoutPolicy | None) -> lg.TimeoutPolicy | None:
    if timeout is None:
        return None
    return lg.TimeoutPolicy(
        run_timeout=timeout.run_timeout,
        idle_timeout=timeout.idle_timeout,
        refresh_on=timeout.refresh_on,
    )


def _records(source: Any, target: Any, timeout: Convert) -> Mapping[type, Record]:
    """How each record of the module ``source`` (``Send``, ``Interrupt``, ``Command``,
    ``Overwrite``) becomes the record of the same name of ``target``: the same fields, the values
    inside converted by ``convert``, a ``Send``'s timeout by ``timeout``. One table, both ways."""
    return {
        source.Send: lambda send, convert: target.Send(
            send.node, convert(send.arg), timeout=timeout(send.timeout)
        ),
        source.Interrupt: lambda interrupt, convert: target.Interrupt(
            value=convert(interrupt.value),
            id=interrupt.id,
            response_schema=interrupt.response_schema,
        ),
        source.Command: lambda command, convert: target.Command(
            graph=command.graph,
            update=convert(command.update),
            resume=convert(command.resume),
            goto=convert(command.goto),
        ),
        source.Overwrite: lambda overwrite, convert: target.Overwrite(convert(overwrite.value)),
    }


_TO_THREADLOOM: Final = _records(lg, tl, _timeout_to_tl)
"""LangGraph record type → how it becomes threadloom's."""

_TO_LANGGRAPH: Final = _records(tl, lg, _timeout_to_lg)
"""threadloom record type → how it becomes LangGraph's."""


def to_threadloom(value: Any) -> Any:
    """``value`` with LangGraph's ``Send``, ``Interrupt``, ``Command`` and ``Overwrite`` replaced
    by threadloom's, at any depth of plain containers; the same object when there are none."""
    return _map_containers(value, _TO_THREADLOOM)


def to_langgraph(value: Any) -> Any:
    """``value`` with threadloom's ``Send``, ``Interrupt``, ``Command`` and ``Overwrite`` replaced
    by LangGraph's, at any depth of plain containers; the same object when there are none."""
    return _map_containers(value, _TO_LANGGRAPH)


# -- checkpoint shapes ----------------------------------------------------------------------------


def _checkpoint_values(checkpoint: C, convert: Convert) -> C:
    """A shallow copy of ``checkpoint`` with its values converted, or itself if none changed."""
    values = checkpoint["channel_values"]
    if type(values) is not dict and isinstance(values, LazyDict):
        # a history read: keep the values undecoded until LangGraph looks into them
        new_values: Any = LazyDict(lambda: convert(dict(values)))
    else:
        new_values = convert(values)
    sends = checkpoint.get("pending_sends")
    new_sends = convert(sends) if sends else sends
    if new_values is values and new_sends is sends:
        return checkpoint
    copied: dict[str, Any] = {**checkpoint, "channel_values": new_values}
    if sends is not None:
        copied["pending_sends"] = new_sends
    return copied  # type: ignore[return-value]


def checkpoint_to_threadloom(checkpoint: C) -> C:
    """A LangGraph ``Checkpoint`` as threadloom's (same keys; values converted)."""
    return _checkpoint_values(checkpoint, to_threadloom)


def checkpoint_to_langgraph(checkpoint: C) -> C:
    """A threadloom ``Checkpoint`` as LangGraph's (same keys; values converted)."""
    return _checkpoint_values(checkpoint, to_langgraph)


def writes_to_threadloom(writes: Iterable[tuple[str, Any]]) -> list[tuple[str, Any]]:
    """A task's ``(channel, value)`` writes as given to ``put_writes``, values converted."""
    return [(channel, to_threadloom(value)) for channel, value in writes]


def pending_writes_to_langgraph(
    writes: Sequence[tuple[str, str, Any]] | None,
) -> list[tuple[str, str, Any]] | None:
    """A checkpoint tuple's ``(task_id, channel, value)`` pending writes, values converted."""
    if writes is None:
        return None
    return [(task_id, channel, to_langgraph(value)) for task_id, channel, value in writes]
