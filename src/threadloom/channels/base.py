"""LangGraph's ``langgraph.channels.base`` import path (see ``threadloom.channels``)."""

from threadloom.engine.channels import BaseChannel

__all__ = ["BaseChannel"]
