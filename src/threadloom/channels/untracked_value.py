"""LangGraph's ``langgraph.channels.untracked_value`` import path (see ``threadloom.channels``)."""

from threadloom.engine.channels import UntrackedValue

__all__ = ["UntrackedValue"]
