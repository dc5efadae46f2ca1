"""The built-in stream transformers.

Always on in a ``version="v3"`` run: ``ValuesTransformer`` (``run.values``),
``MessagesTransformer`` (``run.messages``), ``LifecycleTransformer`` (``run.lifecycle``) and
``SubgraphTransformer`` (``run.subgraphs``). On request (``transformers=[...]``):
``UpdatesTransformer``, ``CustomTransformer``, ``CheckpointsTransformer``, ``DebugTransformer``,
``TasksTransformer``, each the graph stream mode of its name at the run's own level.
"""

from __future__ import annotations

from typing import Any, ClassVar

from threadloom.errors import GraphDrained, GraphInterrupt
from threadloom.stream._mux import StreamMux
from threadloom.stream._types import (
    LifecyclePayload,
    ProtocolEvent,
    StreamTransformer,
    SubgraphStatus,
)
from threadloom.stream.channel import StreamChannel
from threadloom.stream.run_stream import AsyncSubgraphRunStream, SubgraphRunStream

__all__ = [
    "CheckpointsTransformer",
    "CustomTransformer",
    "DebugTransformer",
    "LifecyclePayload",
    "LifecycleTransformer",
    "MessagesTransformer",
    "SubgraphStatus",
    "SubgraphTransformer",
    "TasksTransformer",
    "UpdatesTransformer",
    "ValuesTransformer",
]


class _ModeTransformer(StreamTransformer):
    """``run.<mode>``: the data of the graph's ``<mode>`` events at the run's own level (a
    subgraph's are on its handle)."""

    mode: ClassVar[str]
    _native = True

    def __init__(self, scope: tuple[str, ...] = ()) -> None:
        super().__init__(scope)
        self._log: StreamChannel[Any] = StreamChannel()
        self._scope = list(scope)

    def init(self) -> dict[str, Any]:
        return {self.mode: self._log}

    def process(self, event: ProtocolEvent) -> bool:
        if event["method"] == self.mode and event["params"]["namespace"] == self._scope:
            self._log.push(event["params"]["data"])
        return True

    @property
    def error(self) -> BaseException | None:
        """The run's error, once it failed."""
        return self._log._error


class ValuesTransformer(_ModeTransformer):
    """``run.values``: the state after each step."""

    mode = "values"
    required_stream_modes = ("values",)


class UpdatesTransformer(_ModeTransformer):
    """``run.updates``: what each node returned, ``{node: update}``, step by step."""

    mode = "updates"
    required_stream_modes = ("updates",)


class CustomTransformer(_ModeTransformer):
    """``run.custom``: what nodes wrote with ``get_stream_writer()``."""

    mode = "custom"
    required_stream_modes = ("custom",)


class CheckpointsTransformer(_ModeTransformer):
    """``run.checkpoints``: each checkpoint as the ``checkpoints`` stream mode gives it."""

    mode = "checkpoints"
    required_stream_modes = ("checkpoints",)


class DebugTransformer(_ModeTransformer):
    """``run.debug``: the ``debug`` stream mode's events."""

    mode = "debug"
    required_stream_modes = ("debug",)


class TasksTransformer(_ModeTransformer):
    """``run.tasks``: each task's start and result."""

    mode = "tasks"
    required_stream_modes = ("tasks",)


# --- subgraphs ------------------------------------------------------------------------------------


class _SubgraphWatch(StreamTransformer):
    """Finds the subgraphs of a run from its ``tasks`` events: one starts at the first task
    event of its namespace and ends when its parent's task (the segment's task id) reports a
    result, or when the run ends. Takes the ``tasks`` events out of the main log: the
    ``lifecycle`` events and subgraph handles say the same at a higher level."""

    required_stream_modes = ("tasks",)

    def __init__(self, scope: tuple[str, ...] = ()) -> None:
        super().__init__(scope)
        self._seen: set[tuple[str, ...]] = set()
        self._open: dict[tuple[str, ...], str] = {}
        """Subgraphs running, and the id of the parent task whose result ends each."""
        self._tool_calls: dict[str, str] = {}
        """Task id -> the tool call it runs (what started a subagent)."""

    def _tracks(self, ns: tuple[str, ...]) -> bool:
        raise NotImplementedError

    def _started(self, ns: tuple[str, ...], name: str | None, task: str | None, cause: Any) -> None:
        raise NotImplementedError

    def _ended(self, ns: tuple[str, ...], status: SubgraphStatus, error: str | None) -> None:
        raise NotImplementedError

    def process(self, event: ProtocolEvent) -> bool:
        if event["method"] != "tasks":
            return True
        ns, data = tuple(event["params"]["namespace"]), event["params"]["data"]
        if "result" in data:
            for child, task in list(self._open.items()):
                if child[:-1] == ns and task == data.get("id"):
                    del self._open[child]
                    self._ended(child, *_status_of_result(data))
            return False
        self._note_tool_call(data)
        if self._tracks(ns) and ns not in self._seen:
            self._seen.add(ns)
            node, _, task = ns[-1].partition(":")
            agent = (data.get("metadata") or {}).get("lc_agent_name")
            call = self._tool_calls.get(task) if agent is not None else None
            cause = {"type": "toolCall", "tool_call_id": call} if call else None
            self._started(ns, agent if agent is not None else node or None, task or None, cause)
            if task:
                self._open[ns] = task
        return False

    def _note_tool_call(self, data: dict[str, Any]) -> None:
        payload, task = data.get("input"), data.get("id")
        calls = (
            [payload["tool_call"]]
            if isinstance(payload, dict) and "tool_call" in payload
            else (payload if isinstance(payload, list) else [])
        )
        ids = [c["id"] for c in calls if isinstance(c, dict) and isinstance(c.get("id"), str)]
        if ids and isinstance(task, str):
            self._tool_calls[task] = ids[0]

    def finalize(self) -> None:
        for ns in list(self._open):
            self._ended(ns, "completed", None)
        self._open.clear()

    def fail(self, err: BaseException) -> None:
        status, error = _status_of_error(err)
        for ns in list(self._open):
            self._ended(ns, status, error)
        self._open.clear()


def _status_of_result(data: dict[str, Any]) -> tuple[SubgraphStatus, str | None]:
    if data.get("interrupts"):  # (an interrupt shows as interrupts, not as an error)
        return "interrupted", None
    if isinstance(data.get("error"), GraphDrained):  # the drain reached it inside the subgraph
        return "drained", None
    if error := data.get("error"):
        return "failed", str(error)
    return "completed", None


def _status_of_error(err: BaseException) -> tuple[SubgraphStatus, str | None]:
    if isinstance(err, GraphDrained):
        return "drained", None
    if isinstance(err, GraphInterrupt):
        return "interrupted", None
    return "failed", str(err)


class LifecycleTransformer(_SubgraphWatch):
    """``run.lifecycle``: a ``LifecyclePayload`` when a subgraph (at any depth) starts and when
    it ends; also in the main log as ``lifecycle`` events."""

    _native = True

    def __init__(self, scope: tuple[str, ...] = ()) -> None:
        super().__init__(scope)
        self._channel: StreamChannel[LifecyclePayload] = StreamChannel("lifecycle")

    def init(self) -> dict[str, Any]:
        return {"lifecycle": self._channel}

    def _tracks(self, ns: tuple[str, ...]) -> bool:
        return len(ns) > len(self.scope) and ns[: len(self.scope)] == self.scope

    def _started(self, ns: tuple[str, ...], name: str | None, task: str | None, cause: Any) -> None:
        if task is None:  # nothing would tell when it ends
            return
        payload: LifecyclePayload = {"event": "started", "namespace": list(ns)}
        if name:
            payload["graph_name"] = name
        payload["trigger_call_id"] = task
        if cause is not None:
            payload["cause"] = cause
        self._channel.push(payload)

    def _ended(self, ns: tuple[str, ...], status: SubgraphStatus, error: str | None) -> None:
        payload: LifecyclePayload = {"event": status, "namespace": list(ns)}
        if error is not None:
            payload["error"] = error
        self._channel.push(payload)


Handle = SubgraphRunStream | AsyncSubgraphRunStream


class SubgraphTransformer(_SubgraphWatch):
    """``run.subgraphs``: a handle (``SubgraphRunStream``) per subgraph directly below the run,
    with the same projections as the run, for the subgraph's own events (its subgraphs are on
    its ``subgraphs``). Read a handle's projections as soon as you get it: like the run's, they
    keep only what arrives once read."""

    _native = True
    supports_sync = True

    def __init__(self, scope: tuple[str, ...] = ()) -> None:
        super().__init__(scope)
        self._log: StreamChannel[Any] = StreamChannel()
        self._handles: dict[tuple[str, ...], Handle] = {}
        self._ending: list[tuple[Handle, SubgraphStatus, str | None]] = []
        self._mux: StreamMux | None = None

    def init(self) -> dict[str, Any]:
        return {"subgraphs": self._log}

    def _on_register(self, mux: Any) -> None:
        self._mux = mux

    def _tracks(self, ns: tuple[str, ...]) -> bool:
        return len(ns) == len(self.scope) + 1 and ns[: len(self.scope)] == self.scope

    def _started(self, ns: tuple[str, ...], name: str | None, task: str | None, cause: Any) -> None:
        if self._mux is None:
            return
        child = self._mux.child(ns)
        kind = AsyncSubgraphRunStream if child.is_async else SubgraphRunStream
        handle = kind(child, path=ns, graph_name=name, trigger_call_id=task)
        self._handles[ns] = handle
        self._log.push(handle)

    def _ended(self, ns: tuple[str, ...], status: SubgraphStatus, error: str | None) -> None:
        handle = self._handles.get(ns)
        if handle is not None and handle.status == "started":
            handle.status, handle.error = status, error
            self._ending.append((handle, status, error))

    def _target(self, event: ProtocolEvent) -> Handle | None:
        """The handle of the subgraph (directly below us) the event comes from."""
        ns = tuple(event["params"]["namespace"])
        handle = self._handles.get(ns[: len(self.scope) + 1]) if len(ns) > len(self.scope) else None
        return None if handle is None or handle._mux.ended else handle

    def _take_ending(self) -> list[tuple[Handle, SubgraphStatus, str | None]]:
        ending, self._ending = self._ending, []
        return [e for e in ending if not e[0]._mux.ended]

    def process(self, event: ProtocolEvent) -> bool:
        keep = super().process(event)
        for ended, status, error in self._take_ending():
            _end_sync(ended._mux, status, error)
        if (handle := self._target(event)) is not None:
            handle._observe(event)
            handle._mux.push(event)
        return keep

    async def aprocess(self, event: ProtocolEvent) -> bool:
        keep = super().process(event)
        for ended, status, error in self._take_ending():
            await _end_async(ended._mux, status, error)
        if (handle := self._target(event)) is not None:
            handle._observe(event)
            await handle._mux.apush(event)
        return keep

    def _sweep(self, status: SubgraphStatus, error: str | None) -> None:
        """The run ended: every handle still running ends with it."""
        for ns in list(self._open):
            self._ended(ns, status, error)
        self._open.clear()
        for handle in self._handles.values():
            self._ended(handle.path, status, error)

    def finalize(self) -> None:
        self._sweep("completed", None)
        for handle, status, error in self._take_ending():
            _end_sync(handle._mux, status, error)

    async def afinalize(self) -> None:
        self._sweep("completed", None)
        for handle, status, error in self._take_ending():
            await _end_async(handle._mux, status, error)

    def fail(self, err: BaseException) -> None:
        self._sweep(*_status_of_error(err))
        self._ending.clear()
        for handle in self._handles.values():
            if not handle._mux.ended:
                handle._mux.fail(err)

    async def afail(self, err: BaseException) -> None:
        self.fail(err)


def _end_sync(mux: StreamMux, status: SubgraphStatus, error: str | None) -> None:
    if status == "failed":
        mux.fail(RuntimeError(error or "Subgraph failed"))
    else:
        mux.close()


async def _end_async(mux: StreamMux, status: SubgraphStatus, error: str | None) -> None:
    if status == "failed":
        await mux.afail(RuntimeError(error or "Subgraph failed"))
    else:
        await mux.aclose()


# --- messages -----------------------------------------------------------------------------------


class MessagesTransformer(StreamTransformer):
    """``run.messages``: one langchain-core ``ChatModelStream`` per chat-model message at the
    run's own level (``AsyncChatModelStream`` in an async run); read its ``text``,
    ``reasoning``, ``tool_calls``, ``output`` as it streams.

    A model's tokens arrive as text deltas while it runs (the protocol message events of the
    main log, ``stream/_chunks.py``); the message finishes with its last chunk (or when the run
    ends). A whole ``AIMessage``
    a node returns without streaming it arrives as one finished stream. Tool messages are not
    chat-model output and are left out (they are in the state).
    """

    _native = True
    required_stream_modes = ("messages",)

    def __init__(self, scope: tuple[str, ...] = ()) -> None:
        super().__init__(scope)
        self._log: StreamChannel[Any] = StreamChannel()
        self._open: dict[str, Any] = {}
        """The stream of each message still arriving, by its run id."""
        self._skipped: set[str] = set()
        self._scope = list(scope)
        self._pump: Any = None
        self._apump: Any = None

    def init(self) -> dict[str, Any]:
        return {"messages": self._log}

    def _bind_pumps(self, pump: Any, apump: Any) -> None:
        self._pump, self._apump = pump, apump

    def _new_stream(self, node: str | None, message_id: str | None) -> Any:
        from langchain_core.language_models.chat_model_stream import (
            AsyncChatModelStream,
            ChatModelStream,
        )

        if self._apump is not None or self._log._is_async:  # (an async run binds its log so)
            stream: Any = AsyncChatModelStream(namespace=[], node=node, message_id=message_id)
            if self._apump is not None:
                stream.set_arequest_more(self._apump)
        else:
            stream = ChatModelStream(namespace=[], node=node, message_id=message_id)
            if self._pump is not None:
                stream.set_request_more(self._pump)
        return stream

    def process(self, event: ProtocolEvent) -> bool:
        params = event["params"]
        if event["method"] != "messages" or params["namespace"] != self._scope:
            return True
        from langchain_core.messages import AIMessageChunk, BaseMessage, ToolMessage

        payload, metadata = params["data"]
        node = (metadata or {}).get("langgraph_node")
        if isinstance(payload, dict) and "event" in payload:
            self._route(payload, str((metadata or {}).get("run_id", "")), node)
        elif isinstance(payload, BaseMessage) and not isinstance(
            payload, AIMessageChunk | ToolMessage
        ):
            from langchain_core.language_models._compat_bridge import message_to_events

            stream = self._new_stream(node, payload.id)
            for part in message_to_events(payload, message_id=payload.id):
                stream.dispatch(part)
            self._log.push(stream)
        return True

    def _route(self, event: dict[str, Any], run_id: str, node: str | None) -> None:
        """A model message's protocol event, to the stream of its run."""
        kind = event.get("event")
        if kind == "message-start":
            if event.get("role") == "tool":  # a tool's result is no chat-model output
                self._skipped.add(run_id)
                return
            stream = self._open[run_id] = self._new_stream(node, event.get("id"))
            self._log.push(stream)
        elif run_id in self._skipped:
            if kind == "message-finish":
                self._skipped.discard(run_id)
            return
        stream = self._open.get(run_id)
        if stream is not None:
            stream.dispatch(event)
            if kind == "message-finish":
                del self._open[run_id]

    def finalize(self) -> None:
        self._open.clear()
        self._skipped.clear()

    def fail(self, err: BaseException) -> None:
        for stream in self._open.values():
            stream.fail(err)
        self.finalize()
