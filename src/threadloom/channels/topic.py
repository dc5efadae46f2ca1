"""LangGraph's ``langgraph.channels.topic`` import path (see ``threadloom.channels``)."""

from threadloom.engine.channels import Topic

__all__ = ["Topic"]
