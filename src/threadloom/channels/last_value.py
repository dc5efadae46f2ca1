"""LangGraph's ``langgraph.channels.last_value`` import path (see ``threadloom.channels``)."""

from threadloom.engine.channels import LastValue, LastValueAfterFinish

__all__ = ["LastValue", "LastValueAfterFinish"]
