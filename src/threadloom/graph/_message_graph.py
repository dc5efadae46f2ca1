"""``MessageGraph``: LangGraph's deprecated graph whose whole state is one list of messages."""

from __future__ import annotations

import warnings
from typing import Annotated, Any

from langchain_core.messages import AnyMessage

from threadloom.graph.message import add_messages
from threadloom.graph.state import StateGraph
from threadloom.warnings import LangGraphDeprecatedSinceV10

__all__ = ["MessageGraph"]


class MessageGraph(StateGraph[Any]):
    """Deprecated (LangGraph 1.0): a ``StateGraph`` whose state is a message list merged by
    ``add_messages``; nodes take and return messages. Use ``StateGraph`` with a ``messages`` key
    (``MessagesState``) instead."""

    def __init__(self) -> None:
        warnings.warn(
            "MessageGraph is deprecated in LangGraph v1.0.0, to be removed in v2.0.0. Please use "
            "StateGraph with a `messages` key instead.",
            LangGraphDeprecatedSinceV10,
            stacklevel=2,
        )
        super().__init__(Annotated[list[AnyMessage], add_messages])
