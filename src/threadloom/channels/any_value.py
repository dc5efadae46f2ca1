"""LangGraph's ``langgraph.channels.any_value`` import path (see ``threadloom.channels``)."""

from threadloom.engine.channels import AnyValue

__all__ = ["AnyValue"]
