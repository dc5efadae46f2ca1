"""Deterministic stand-ins for the parts of an agent that need a network: a chat model."""

from threadloom.testing.chat import FakeMemoryChatModel

__all__ = ["FakeMemoryChatModel"]
