"""The graph API: ``StateGraph``, ``START``/``END``, ``MessagesState`` and ``add_messages``."""

from threadloom.constants import END, START
from threadloom.graph.message import MessagesState, add_messages
from threadloom.graph.state import CompiledStateGraph, StateGraph

__all__ = ["END", "START", "CompiledStateGraph", "MessagesState", "StateGraph", "add_messages"]
