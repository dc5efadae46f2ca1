"""Deterministic stand-ins for the parts of an agent that need a network: chat models (one that
answers from memory, one that calls tools)."""

from threadloom.testing.chat import FakeMemoryChatModel
from threadloom.testing.memory_bot import OfflineMemoryModel
from threadloom.testing.tool_models import FakeToolCallingModel, ToolRule

__all__ = ["FakeMemoryChatModel", "FakeToolCallingModel", "OfflineMemoryModel", "ToolRule"]
