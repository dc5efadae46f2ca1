"""``FakeMemoryChatModel``: an offline chat model whose answer depends on what it was shown.

It exists so the persistence guides can run without an API key and still show what they are
about: a model that was shown "my name is Bob" (in the history or in a system prompt with recalled
memories) answers "what is my name?" with "Your name is Bob."; a model shown nothing says it does
not know. It is a real langchain-core ``BaseChatModel``, so it streams, batches and composes like
any other; its answers are a pure function of the messages it receives.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel, LanguageModelInput
from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatResult
from langchain_core.runnables import Runnable
from langchain_core.utils.function_calling import convert_to_openai_tool

__all__ = ["FakeMemoryChatModel"]

_NAME = re.compile(
    r"\b(?:my name is|i'm|i am|user name is|call me)\s+([A-Za-z][A-Za-z'-]*)", re.IGNORECASE
)
_ASKS_NAME = re.compile(r"\bwhat(?:'s| is)\s+my\s+name\b", re.IGNORECASE)


def _text(message: BaseMessage) -> str:
    content = message.content
    if isinstance(content, str):
        return content
    return " ".join(
        part if isinstance(part, str) else str(part.get("text", "")) for part in content
    )


def known_name(messages: list[BaseMessage]) -> str | None:
    """The last name the messages mention (``my name is X``, ``I'm X``, ``User name is X``)."""
    name = None
    for message in messages:
        if message.type == "ai":
            continue
        for match in _NAME.finditer(_text(message)):
            name = match.group(1).capitalize()
    return name


class FakeMemoryChatModel(BaseChatModel):
    """Answers from what it was shown: greets people by name and recalls names when asked."""

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        return ChatResult(generations=[ChatGeneration(message=AIMessage(self.reply(messages)))])

    def reply(self, messages: list[BaseMessage]) -> str:
        """The answer to the last message, given everything shown."""
        last = _text(messages[-1]) if messages else ""
        name = known_name(messages)
        if _ASKS_NAME.search(last):
            if name:
                return f"Your name is {name}."
            return "I don't know your name: you haven't told me in this conversation."
        if name and known_name(messages[-1:]) == name:
            return f"Hi {name}! Nice to meet you."
        return "Hello! How can I help you today?"

    def bind_tools(
        self, tools: Sequence[Any], *, tool_choice: str | None = None, **kwargs: Any
    ) -> Runnable[LanguageModelInput, AIMessage]:
        """Accept ``tools`` (an agent can be built with this model), but never call them.

        This model only answers in text. For an offline model that calls tools, use
        ``threadloom.testing.FakeToolCallingModel``. A ``tool_choice`` that forces a call cannot be
        honoured, so it raises ``ValueError``.
        """
        if tool_choice not in (None, "auto", "none"):
            raise ValueError(
                f"FakeMemoryChatModel never calls tools, so tool_choice={tool_choice!r} cannot be "
                "honoured: use threadloom.testing.FakeToolCallingModel, a model that calls tools."
            )
        return self.bind(tools=[convert_to_openai_tool(t) for t in tools], **kwargs)

    @property
    def _llm_type(self) -> str:
        return "fake-memory-chat-model"
