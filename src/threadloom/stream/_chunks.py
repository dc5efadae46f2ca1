"""A chat model's tokens as protocol message events, as a v3 run's main log carries them.

The ``messages`` stream mode gives ``(AIMessageChunk, metadata)`` pairs; a v3 run shows each
model message as LangGraph 1.2 does: ``message-start``, ``content-block-start``, a
``content-block-delta`` per text token, ``content-block-finish`` and ``message-finish`` (with the
tool calls and other blocks once the message is whole), each as ``(event, metadata)`` with the
message's ``run_id`` in the metadata. A message ends with its last chunk (``chunk_position
"last"``), or when the run ends.
"""

from __future__ import annotations

from typing import Any

from threadloom.stream._mux import make_event
from threadloom.stream._types import ProtocolEvent

__all__ = ["ChunkEvents", "to_event"]


def to_event(part: Any) -> ProtocolEvent:
    """A ``stream(version="v2", subgraphs=True)`` part as a protocol event."""
    event = make_event(part["type"], part["ns"], part["data"])
    if "interrupts" in part:
        event["params"]["interrupts"] = part["interrupts"]
    return event


class ChunkEvents:
    """Turns one run's parts into protocol events, model tokens into message events."""

    def __init__(self) -> None:
        self._open: dict[tuple[tuple[str, ...], str], _Message] = {}
        self._unnamed: _Message | None = None
        """A message whose chunks had no id, waiting after its last chunk for the part that
        follows: the model call's finished message, when a model's ``stream_events`` gave the
        chunks (langchain-core names it ``lc_run--<run id>`` and the model's end sends it, with
        the same metadata object as the chunks), which then ends it instead of being a message
        of its own."""

    def convert(self, part: Any) -> list[ProtocolEvent]:
        """The events of one part (several for a model token)."""
        from langchain_core.messages import AIMessage, AIMessageChunk

        events: list[ProtocolEvent] = []
        if (waiting := self._unnamed) is not None:
            self._unnamed = None
            data = part["data"] if part["type"] == "messages" else (None, None)
            if isinstance(data[0], AIMessage) and data[1] is waiting.source:
                waiting.merged = data[0]
                waiting.finish()
                return waiting.take()
            waiting.finish()
            events = waiting.take()
        if part["type"] != "messages" or not isinstance(part["data"][0], AIMessageChunk):
            return [*events, to_event(part)]
        chunk, metadata = part["data"]
        key = (tuple(part["ns"]), str(chunk.id))
        message = self._open.get(key)
        if message is None:
            message = self._open[key] = _Message(part["ns"], {**metadata, "run_id": key[1]})
            message.source = metadata
            message.events.append({"event": "message-start", "role": "ai", "id": chunk.id})
        message.add(chunk)
        if getattr(chunk, "chunk_position", None) == "last":
            del self._open[key]
            if chunk.id is None:
                self._unnamed = message
                return [*events, *message.take()]
            message.finish()
        return [*events, *message.take()]

    def finish(self) -> list[ProtocolEvent]:
        """The run ended: the end of every message still open."""
        events: list[ProtocolEvent] = []
        waiting, self._unnamed = self._unnamed, None
        for message in [*([waiting] if waiting else []), *self._open.values()]:
            message.finish()
            events += message.take()
        self._open.clear()
        return events


class _Message:
    """One model message arriving as chunks: its text goes out as deltas as it comes; the rest
    (tool calls, reasoning) once it is whole."""

    def __init__(self, ns: Any, metadata: dict[str, Any]) -> None:
        self.ns, self.metadata = ns, metadata
        self.merged: Any = None
        self.source: Any = None
        """The metadata its chunks came with (the same object for one model call's chunks and
        finished message)."""
        self.text_started = False
        self.events: list[dict[str, Any]] = []

    def add(self, chunk: Any) -> None:
        self.merged = chunk if self.merged is None else self.merged + chunk
        text = chunk.text
        if not text:
            return
        if not self.text_started:
            self.text_started = True
            block = {"type": "text", "text": ""}
            self.events.append({"event": "content-block-start", "index": 0, "content": block})
        delta = {"type": "text-delta", "text": str(text)}
        self.events.append({"event": "content-block-delta", "index": 0, "delta": delta})

    def finish(self) -> None:
        from langchain_core.language_models._compat_bridge import message_to_events
        from langchain_core.messages import AIMessage

        merged = self.merged
        whole = AIMessage(
            content=merged.content,
            id=merged.id,
            tool_calls=merged.tool_calls,
            invalid_tool_calls=merged.invalid_tool_calls,
            usage_metadata=merged.usage_metadata,
            response_metadata=merged.response_metadata,
        )
        for event in message_to_events(whole, message_id=merged.id):
            kind = event["event"]
            sent = self.text_started and event.get("index") == 0
            if kind == "message-start" or (
                sent and kind in ("content-block-start", "content-block-delta")
            ):
                continue  # sent as the chunks came
            self.events.append(dict(event))

    def take(self) -> list[ProtocolEvent]:
        out = [make_event("messages", self.ns, (e, self.metadata)) for e in self.events]
        self.events = []
        return out
