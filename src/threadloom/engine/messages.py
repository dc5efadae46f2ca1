"""The ``messages`` stream mode: chat-model output, token by token, with where it came from.

A LangChain callback handler rides on every task's config while ``messages`` is streamed. Chat
models called inside a node report their tokens to it (``on_llm_new_token``) or, when they do not
stream, their final message (``on_llm_end``). A message a node returns without a model call (an
``AIMessage`` built by hand, a tool result) is streamed when the node finishes, unless it was in the
node's input or was already streamed. Each chunk is ``(message, metadata)``.
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import AsyncIterator, Callable, Iterable, Iterator, Sequence
from typing import Any
from uuid import UUID

from langchain_core.callbacks import BaseCallbackHandler
from langchain_core.messages import BaseMessage, convert_to_messages
from langchain_core.outputs import ChatGenerationChunk, GenerationChunk, LLMResult

from threadloom.constants import TAG_NOSTREAM
from threadloom.engine.scratch import current_scratchpad
from threadloom.errors import MessageIdRequiredError
from threadloom.types import Command

__all__ = ["StreamMessagesHandler", "attach", "push_message"]

Emit = Callable[[str, Any], None]

_SEEN_LOCK = threading.Lock()
"""Guards the ``seen`` sets, which several handlers may share (held only for a set update)."""


class StreamMessagesHandler(BaseCallbackHandler):
    """Turns chat-model callbacks and node outputs into ``messages`` chunks."""

    run_inline = True
    """Called on the thread that runs the model, so tokens keep their order."""

    def __init__(
        self, emit: Emit, *, subgraphs: bool = False, seen: set[str] | None = None
    ) -> None:
        self.emit = emit
        self.subgraphs = subgraphs
        """The run streams with ``subgraphs=True``: a graph a node runs on a thread of its own
        (a root run) streams its messages to this handler too, as LangGraph's does."""
        self.runs: dict[UUID, dict[str, Any]] = {}
        self.seen: set[str] = set() if seen is None else seen
        """Ids of messages streamed or known from a node's input: shared by the handlers of
        every graph of a stream with ``subgraphs=True``, so a subgraph's message is not streamed
        again when its parent's node returns it (LangGraph has one handler for all of them)."""
        self.lock = _SEEN_LOCK

    def _send(self, message: BaseMessage, metadata: dict[str, Any], *, dedupe: bool) -> None:
        with self.lock:
            if message.id is not None:
                if dedupe and message.id in self.seen:
                    return
                self.seen.add(message.id)  # tokens mark their message as streamed
        self.emit("messages", (message, metadata))

    # Having these two methods makes langchain-core treat the handler as a streaming one: a chat
    # model's plain ``invoke`` then streams, so its tokens reach us one by one.
    def tap_output_iter(self, run_id: UUID, output: Iterator[Any]) -> Iterator[Any]:
        """Pass a streamed output through unchanged."""
        return output

    def tap_output_aiter(self, run_id: UUID, output: AsyncIterator[Any]) -> AsyncIterator[Any]:
        """Pass a streamed async output through unchanged."""
        return output

    # --- chat model callbacks ---------------------------------------------------------------

    def on_chat_model_start(
        self,
        serialized: dict[str, Any],
        messages: list[list[BaseMessage]],
        *,
        run_id: UUID,
        parent_run_id: UUID | None = None,
        tags: list[str] | None = None,
        metadata: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> Any:
        if metadata and "langgraph_node" in metadata and TAG_NOSTREAM not in (tags or ()):
            shown = dict(metadata)
            shown.setdefault("checkpoint_ns", metadata.get("langgraph_checkpoint_ns", ""))
            # the caller's tags, not LangChain's ``seq:step:*`` bookkeeping (none left: no key)
            if user_tags := [tag for tag in tags or () if not tag.startswith("seq:step")]:
                shown["tags"] = user_tags
            self.runs[run_id] = shown

    def on_llm_new_token(
        self,
        token: str | list[str | dict[str, Any]],
        *,
        chunk: GenerationChunk | ChatGenerationChunk | None = None,
        run_id: UUID,
        parent_run_id: UUID | None = None,
        tags: list[str] | None = None,
        **kwargs: Any,
    ) -> Any:
        metadata = self.runs.get(run_id)
        message = getattr(chunk, "message", None)
        if metadata is not None and isinstance(message, BaseMessage):
            self._send(message, metadata, dedupe=False)

    def on_llm_end(self, response: LLMResult, *, run_id: UUID, **kwargs: Any) -> Any:
        metadata = self.runs.pop(run_id, None)
        if metadata is None:
            return
        for generations in response.generations:
            for generation in generations:
                message = getattr(generation, "message", None)
                if isinstance(message, BaseMessage):
                    self._send(message, metadata, dedupe=True)

    def on_llm_error(self, error: BaseException, *, run_id: UUID, **kwargs: Any) -> Any:
        self.runs.pop(run_id, None)

    # --- node boundaries ----------------------------------------------------------------------

    def node_started(self, value: Any) -> None:
        """Messages in a node's input are known: they are not streamed again."""
        with self.lock:
            self.seen.update(m.id for m in _messages_in(value) if m.id is not None)

    def node_finished(self, output: Any, metadata: dict[str, Any]) -> None:
        """Stream messages a node returned that no model call streamed already."""
        for message in _messages_in(output):
            self._send(message, metadata, dedupe=True)


def push_message(message: Any, state_key: str | None) -> BaseMessage:
    """``graph.message.push_message``: stream ``message`` now (in the running task's metadata)
    to every ``messages`` handler of its config, and write it to ``state_key`` unless None."""
    pad = current_scratchpad("push_message")
    pushed = convert_to_messages([message])[0]  # a message (a chunk, too) stays as it is
    if pushed.id is None:
        raise MessageIdRequiredError(pushed)
    callbacks = pad.config.get("callbacks")
    handlers = callbacks if isinstance(callbacks, list) else getattr(callbacks, "handlers", ())
    metadata = dict(pad.task.config.get("metadata", {}))  # no ls_integration, as in LangGraph
    for handler in handlers:
        if isinstance(handler, StreamMessagesHandler):
            handler._send(pushed, metadata, dedupe=False)
    if state_key:
        pad.writes.append((state_key, pushed))
    return pushed


def _messages_in(value: Any) -> Iterator[BaseMessage]:
    """Top-level messages, and messages in sequences that are state values (or Command updates)."""
    if isinstance(value, BaseMessage):
        yield value
    elif isinstance(value, Command):
        yield from _messages_in(value.update)
    elif (items := _state_values(value)) is not None:
        for item in items:
            if isinstance(item, BaseMessage):
                yield item
            elif isinstance(item, Sequence) and not isinstance(item, str):
                yield from (m for m in item if isinstance(m, BaseMessage))
    elif isinstance(value, list | tuple):
        for item in value:
            if isinstance(item, Command | dict | BaseMessage):
                yield from _messages_in(item)


def _state_values(value: Any) -> Iterable[Any] | None:
    """The top-level values of a state: a dict's, or the fields of a pydantic model or dataclass
    (what a node gets when its state schema is one), as LangGraph reads them; None otherwise."""
    if isinstance(value, dict):
        return value.values()
    model_fields = getattr(type(value), "model_fields", None)
    if isinstance(model_fields, dict) and hasattr(value, "__pydantic_fields_set__"):
        return [getattr(value, name, None) for name in model_fields]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return [getattr(value, f.name, None) for f in dataclasses.fields(value)]
    return None


def attach(config: dict[str, Any], handler: BaseCallbackHandler) -> None:
    """Add ``handler`` to a run config's callbacks (a list or a callback manager)."""
    callbacks = config.get("callbacks")
    if callbacks is None:
        config["callbacks"] = [handler]
    elif isinstance(callbacks, list):
        config["callbacks"] = [*callbacks, handler]
    else:
        manager = callbacks.copy()
        manager.add_handler(handler, inherit=True)
        config["callbacks"] = manager
