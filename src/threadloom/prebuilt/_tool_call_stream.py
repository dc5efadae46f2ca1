"""``ToolCallTransformer``: the ``tools`` stream mode's events of a v3 event stream as one
``ToolCallStream`` per tool call, on ``run.tool_calls``.

Opt in with ``stream_events(..., version="v3", transformers=[ToolCallTransformer])`` (or
``compile(transformers=[...])``). A handle appears when its call starts; iterate its
``output_deltas`` for what the tool streams (``ToolRuntime.emit_output_delta``); ``output``,
``error`` and ``completed`` are set when it ends. The ``tools`` events stay in the main event log.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

from langchain_core.messages import ToolMessage

from threadloom.stream._types import ProtocolEvent, StreamTransformer
from threadloom.stream.channel import StreamChannel

__all__ = ["ToolCallStream", "ToolCallTransformer"]


class ToolCallStream:
    """One tool call as it runs: ``tool_call_id``, ``tool_name``, ``input`` from its start;
    ``output_deltas`` (a channel: iterate it once, ``for`` or ``async for`` as the run is);
    ``output`` or ``error`` and ``completed`` once it ended."""

    def __init__(self, tool_call_id: str, tool_name: str, input: dict[str, Any] | None = None):
        self.tool_call_id = tool_call_id
        self.tool_name = tool_name
        self.input = input
        self._output_deltas: StreamChannel[Any] = StreamChannel()
        self.output: Any = None
        self.error: str | None = None
        self.completed = False

    @property
    def output_deltas(self) -> StreamChannel[Any]:
        """The tool's streamed deltas, in order; ends when the call ends."""
        return self._output_deltas

    def _end(self, output: Any = None, error: str | None = None) -> None:
        self.output, self.error, self.completed = output, error, True
        self._output_deltas.close()

    def __iter__(self) -> Iterator[Any]:
        return iter(self._output_deltas)

    def __aiter__(self) -> AsyncIterator[Any]:
        return self._output_deltas.__aiter__()

    def __repr__(self) -> str:
        status = "running" if not self.completed else "failed" if self.error else "completed"
        return (
            f"ToolCallStream(tool_call_id={self.tool_call_id!r}, "
            f"tool_name={self.tool_name!r}, status={status})"
        )


def _output_content(output: Any) -> Any:
    """A finished call's output: a ToolMessage's content (also when serialized), else as is."""
    if isinstance(output, ToolMessage):
        return output.content
    if (
        isinstance(output, dict)
        and output.get("type") == "constructor"
        and isinstance(output.get("id"), list)
        and output["id"][-1] == "ToolMessage"
        and isinstance(output.get("kwargs"), dict)
    ):
        return output["kwargs"].get("content")
    return output


class ToolCallTransformer(StreamTransformer):
    """``run.tool_calls``: a ``ToolCallStream`` per tool call of the run's own level."""

    _native = True
    required_stream_modes = ("tools",)

    def __init__(self, scope: tuple[str, ...] = ()) -> None:
        super().__init__(scope)
        self._log: StreamChannel[ToolCallStream] = StreamChannel()
        self._active: dict[str, ToolCallStream] = {}
        self._pump: Any = None
        self._apump: Any = None

    def init(self) -> dict[str, Any]:
        return {"tool_calls": self._log}

    def _bind_pumps(self, pump: Any, apump: Any) -> None:
        self._pump, self._apump = pump, apump

    def _started(self, data: dict[str, Any]) -> ToolCallStream:
        stream = ToolCallStream(data["tool_call_id"], data.get("tool_name", ""), data.get("input"))
        deltas = stream._output_deltas
        deltas._bind(is_async=bool(self._log._is_async))
        deltas._pump, deltas._apump = self._pump, self._apump
        return stream

    def process(self, event: ProtocolEvent) -> bool:
        params = event["params"]
        if event["method"] != "tools" or tuple(params["namespace"]) != tuple(self.scope):
            return True
        data = params["data"]
        call_id = data.get("tool_call_id")
        kind = data.get("event")
        if call_id is None:
            return True
        if kind == "tool-started":
            stream = self._active[call_id] = self._started(data)
            self._log.push(stream)
        elif kind == "tool-output-delta" and call_id in self._active:
            self._active[call_id]._output_deltas.push(data.get("delta"))
        elif kind == "tool-finished" and call_id in self._active:
            self._active.pop(call_id)._end(output=_output_content(data.get("output")))
        elif kind == "tool-error" and call_id in self._active:
            self._active.pop(call_id)._end(error=data.get("message", ""))
        return True

    def finalize(self) -> None:
        """Calls still open when the run ends are closed without output."""
        for stream in self._active.values():
            stream._end()
        self._active.clear()

    def fail(self, err: BaseException) -> None:
        """Calls still open when the run fails end with its error."""
        for stream in self._active.values():
            stream._end(error=str(err))
        self._active.clear()
