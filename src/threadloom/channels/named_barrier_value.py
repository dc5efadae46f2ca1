"""LangGraph's ``langgraph.channels.named_barrier_value`` import path (``threadloom.channels``)."""

from threadloom.engine.channels import NamedBarrierValue

__all__ = ["NamedBarrierValue"]
