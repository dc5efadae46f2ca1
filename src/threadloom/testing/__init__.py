"""Deterministic stand-ins for the parts of an agent that need a network: a chat model."""

from threadloom.testing.chat import FakeMemoryChatModel
from threadloom.testing.memory_bot import OfflineMemoryModel

__all__ = ["FakeMemoryChatModel", "OfflineMemoryModel"]
