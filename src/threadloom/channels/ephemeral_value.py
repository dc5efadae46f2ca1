"""LangGraph's ``langgraph.channels.ephemeral_value`` import path (see ``threadloom.channels``)."""

from threadloom.engine.channels import EphemeralValue

__all__ = ["EphemeralValue"]
