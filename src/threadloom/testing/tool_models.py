"""``FakeToolCallingModel``: an offline chat model that calls tools by rule or by script.

It is not a language model. It exists so agent examples and tests run without a network or an API
key and still exercise the real loop: the model asks for tool calls, ``ToolNode`` runs them, the
model reads the ``ToolMessage`` results and answers. Two ways to drive it:

- ``rules``: each ``ToolRule`` pairs a regular expression with a tool call. When the last message
  is the user's, every rule whose pattern matches it becomes one tool call (several rules give
  parallel calls), with the pattern's named groups formatted into the arguments. When the last
  message is a tool result, the model answers with the results' text. With no match it answers
  ``default_reply``. The answer is a pure function of the messages shown, so an agent resumed in a
  new process (a checkpointed thread) gets the same answers.
- ``responses``: a script of replies returned in order, one per call (an ``AIMessage``, a string,
  or a list of tool calls as ``{"name": ..., "args": ...}``); the model counts its calls, so a
  script belongs to one run in one process.

It is a real langchain-core ``BaseChatModel``: ``bind_tools`` checks that every tool a rule or the
script names was bound, and ``stream`` yields the answer in word chunks (the ``messages`` stream
mode shows them) and tool calls as one chunk.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel, LanguageModelInput
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage, ToolCall
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult
from langchain_core.runnables import Runnable
from langchain_core.utils.function_calling import convert_to_openai_tool
from pydantic import ConfigDict, Field, PrivateAttr

__all__ = ["FakeToolCallingModel", "ToolRule"]


@dataclass(frozen=True, slots=True)
class ToolRule:
    """When ``pattern`` matches the user's last message, call ``tool`` with ``args``.

    String values of ``args`` are formatted with the match's named groups:
    ``ToolRule(r"remember (?P<fact>.+)", "save_memory", {"text": "{fact}"})``.
    """

    pattern: str
    tool: str
    args: dict[str, Any] = field(default_factory=dict)

    def call_for(self, text: str) -> dict[str, Any] | None:
        """The tool call's name and arguments for ``text``, or None when the rule does not apply."""
        match = re.search(self.pattern, text, re.IGNORECASE)
        if match is None:
            return None
        groups = {k: (v or "").strip() for k, v in match.groupdict().items()}
        args = {k: v.format(**groups) if isinstance(v, str) else v for k, v in self.args.items()}
        return {"name": self.tool, "args": args}


Reply = AIMessage | str | Sequence[dict[str, Any]]


def _text(message: BaseMessage) -> str:
    content = message.content
    if isinstance(content, str):
        return content
    return " ".join(p if isinstance(p, str) else str(p.get("text", "")) for p in content)


def _tool_calls(calls: Sequence[dict[str, Any]], tag: str) -> list[ToolCall]:
    """Calls with ids derived from the conversation (stable across processes and replays)."""
    return [
        ToolCall(name=c["name"], args=dict(c.get("args", {})), id=c.get("id") or f"call_{tag}_{i}")
        for i, c in enumerate(calls)
    ]


class FakeToolCallingModel(BaseChatModel):
    """Calls tools by ``rules`` (a pure function of the messages) or by a ``responses`` script."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    rules: list[ToolRule] = Field(default_factory=list)
    """Tried in order against the user's last message; every match is one tool call."""
    responses: list[Any] | None = None
    """A script of replies, one per call, used instead of the rules when given."""
    default_reply: str = "I can't help with that."
    """The answer when no rule matches."""
    final_reply: Callable[[list[BaseMessage]], str] | None = None
    """The answer after tool results; by default the results' text, joined."""
    _calls: int = PrivateAttr(default=0)

    @property
    def _llm_type(self) -> str:
        return "fake-tool-calling-model"

    def bind_tools(
        self,
        tools: Sequence[Any],
        *,
        tool_choice: str | None = None,
        **kwargs: Any,
    ) -> Runnable[LanguageModelInput, AIMessage]:
        """Bind ``tools``; a ``ValueError`` when a rule or the script names a tool not given."""
        schemas = [convert_to_openai_tool(t) for t in tools]
        bound = {s["function"]["name"] for s in schemas}
        missing = sorted(self._named_tools() - bound)
        if missing:
            raise ValueError(
                f"FakeToolCallingModel would call {missing!r}, but bind_tools got only "
                f"{sorted(bound)!r}: bind those tools too, or remove the rules that call them."
            )
        return self.bind(tools=schemas, tool_choice=tool_choice, **kwargs)

    def _named_tools(self) -> set[str]:
        names = {r.tool for r in self.rules}
        for reply in self.responses or ():
            if isinstance(reply, AIMessage):
                names.update(c["name"] for c in reply.tool_calls)
            elif not isinstance(reply, str):
                names.update(c["name"] for c in reply)
        return names

    def reply(self, messages: list[BaseMessage]) -> AIMessage:
        """The next answer: the script's next reply, or the rules' answer to ``messages``."""
        tag = str(len(messages))
        if self.responses is not None:
            if self._calls >= len(self.responses):
                raise ValueError(
                    f"FakeToolCallingModel's script of {len(self.responses)} responses is used "
                    "up: add responses, or use rules for a model that answers any number of times."
                )
            scripted = self.responses[self._calls]
            self._calls += 1
            if isinstance(scripted, AIMessage):
                return scripted
            if isinstance(scripted, str):
                return AIMessage(scripted)
            return AIMessage("", tool_calls=_tool_calls(scripted, tag))
        last = messages[-1] if messages else None
        if last is not None and last.type == "tool":
            if self.final_reply is not None:
                return AIMessage(self.final_reply(messages))
            results = []
            for m in reversed(messages):
                if m.type != "tool":
                    break
                results.append(_text(m))
            return AIMessage(" ".join(reversed(results)))
        text = _text(last) if last is not None and last.type == "human" else ""
        calls = [c for rule in self.rules if (c := rule.call_for(text)) is not None]
        if calls:
            return AIMessage("", tool_calls=_tool_calls(calls, tag))
        return AIMessage(self.default_reply)

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        return ChatResult(generations=[ChatGeneration(message=self.reply(messages))])

    def _stream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> Iterator[ChatGenerationChunk]:
        message = self.reply(messages)
        if message.tool_calls:
            chunk = AIMessageChunk(
                content=message.content,
                id=message.id,
                tool_call_chunks=[
                    {
                        "name": c["name"],
                        "args": _json(c["args"]),
                        "id": c["id"],
                        "index": i,
                        "type": "tool_call_chunk",
                    }
                    for i, c in enumerate(message.tool_calls)
                ],
            )
            yield _emit(ChatGenerationChunk(message=chunk), run_manager)
            return
        words = re.findall(r"\S+\s*|\s+", _text(message)) or [""]
        for word in words:
            yield _emit(ChatGenerationChunk(message=AIMessageChunk(content=word)), run_manager)


def _json(args: dict[str, Any]) -> str:
    import json

    return json.dumps(args)


def _emit(
    chunk: ChatGenerationChunk, run_manager: CallbackManagerForLLMRun | None
) -> ChatGenerationChunk:
    if run_manager is not None:
        run_manager.on_llm_new_token(chunk.text, chunk=chunk)
    return chunk
