"""The memory chatbot of ``threadloom chat`` and ``threadloom demo``: one graph, any chat model.

The persistence guides' chatbot with cross-thread memory: a node saves what the user states about
themselves under ``("memories", user_id)``, finds the memories closest to the message by semantic
search, and shows them to the model in a system message. Checkpoints keep each thread; the store
keeps the memories every thread of the same user shares and no other user sees.
"""

from __future__ import annotations

import importlib
import os
import uuid
from typing import Any, Final

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import BaseMessage, SystemMessage
from langchain_core.runnables import RunnableConfig

from threadloom.errors import ModelUnavailableError
from threadloom.graph import START, MessagesState, StateGraph
from threadloom.store.base import BaseStore
from threadloom.testing.memory_bot import (
    OfflineMemoryModel,
    RecalledMemory,
    memories_stated,
    memory_prompt,
)

__all__ = ["build_chat_graph", "chat_model", "memory_namespace"]

RECALL_LIMIT: Final = 3
"""How many memories the model is shown for each message."""

PROVIDER_KEYS: Final[dict[str, str]] = {
    "openai": "OPENAI_API_KEY",
    "anthropic": "ANTHROPIC_API_KEY",
    "google_genai": "GOOGLE_API_KEY",
    "mistralai": "MISTRAL_API_KEY",
    "groq": "GROQ_API_KEY",
    "fireworks": "FIREWORKS_API_KEY",
    "together": "TOGETHER_API_KEY",
    "cohere": "COHERE_API_KEY",
    "deepseek": "DEEPSEEK_API_KEY",
    "xai": "XAI_API_KEY",
}
"""The API key each hosted provider reads; providers not listed (ollama, ...) need none."""


def memory_namespace(user_id: str) -> tuple[str, str]:
    """Where a user's memories live in the store."""
    return ("memories", user_id)


def chat_model(spec: str | None, env: dict[str, str] | None = None) -> BaseChatModel:
    """The offline rule-based model, or ``provider:name`` via LangChain's ``init_chat_model``."""
    if spec is None:
        return OfflineMemoryModel()
    env = dict(os.environ) if env is None else env
    provider = spec.split(":", 1)[0] if ":" in spec else ""
    key = PROVIDER_KEYS.get(provider)
    if key and not env.get(key):
        raise ModelUnavailableError(
            spec, f"the API key ${key}", f"Set it (export {key}=...) or leave out --model."
        )
    try:
        init_chat_model = importlib.import_module("langchain.chat_models").init_chat_model
    except ImportError as exc:
        raise ModelUnavailableError(
            spec,
            "the 'langchain' package",
            f"Install it with the provider's package: pip install langchain langchain-{provider}",
        ) from exc
    try:
        model: BaseChatModel = init_chat_model(spec)
    except ImportError as exc:
        raise ModelUnavailableError(
            spec, f"the provider's package ({exc})", "Install it with pip."
        ) from exc
    except ValueError as exc:
        raise ModelUnavailableError(
            spec, "a provider LangChain knows", f"Use provider:model-name ({exc})."
        ) from exc
    return model


def _text(message: BaseMessage) -> str:
    content = message.content
    return content if isinstance(content, str) else str(content)


def build_chat_graph(model: BaseChatModel, saver: Any, store: BaseStore) -> Any:
    """The compiled chatbot graph; run it with ``configurable`` ``thread_id`` and ``user_id``."""

    def remember_and_answer(
        state: MessagesState, config: RunnableConfig, *, store: BaseStore
    ) -> dict[str, Any]:
        namespace = memory_namespace(str(config["configurable"]["user_id"]))
        said = _text(state["messages"][-1])
        saved = [_save(store, namespace, text) for text in memories_stated(said)]
        found = [
            RecalledMemory(item.key, str(item.value.get("text", "")), item.score)
            for item in store.search(namespace, query=said, limit=RECALL_LIMIT)
        ]
        system = SystemMessage(memory_prompt(found, saved))
        return {"messages": [model.invoke([system, *state["messages"]])]}

    builder: StateGraph[Any] = StateGraph(MessagesState)
    builder.add_node("remember_and_answer", remember_and_answer)
    builder.add_edge(START, "remember_and_answer")
    return builder.compile(checkpointer=saver, store=store)


def _save(store: BaseStore, namespace: tuple[str, ...], text: str) -> RecalledMemory:
    """Save one memory, or return the identical one the user already has."""
    for item in store.search(namespace, query=text, limit=1):
        if item.value.get("text") == text:
            return RecalledMemory(item.key, text)
    key = uuid.uuid4().hex
    store.put(namespace, key, {"text": text})
    return RecalledMemory(key, text)
