"""LangGraph's ``langgraph.channels.binop`` import path (see ``threadloom.channels``)."""

from threadloom.engine.channels import BinaryOperatorAggregate

__all__ = ["BinaryOperatorAggregate"]
