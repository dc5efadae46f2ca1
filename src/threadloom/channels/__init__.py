"""The channel classes of LangGraph's ``langgraph.channels``, for the low-level API and state keys.

A channel holds one slot of a graph's state and says how the writes of one step become its value.
Use them in ``Annotated`` state keys (``Annotated[list[int], Topic(int, accumulate=True)]``,
``Annotated[int, EphemeralValue]``) or as the channels of a ``threadloom.pregel.Pregel``; subclass
``BaseChannel`` (``update``, ``get``, ``from_checkpoint``) for a kind of your own. They are the
engine's own channels (``threadloom/engine/channels.py``), not copies.
"""

from threadloom.engine.channels import (
    AnyValue,
    BaseChannel,
    BinaryOperatorAggregate,
    EphemeralValue,
    LastValue,
    LastValueAfterFinish,
    NamedBarrierValue,
    Topic,
    UntrackedValue,
)

__all__ = [
    "AnyValue",
    "BaseChannel",
    "BinaryOperatorAggregate",
    "EphemeralValue",
    "LastValue",
    "LastValueAfterFinish",
    "NamedBarrierValue",
    "Topic",
    "UntrackedValue",
]
