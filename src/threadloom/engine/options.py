"""``RunOptions``: what the caller of invoke/stream asked for, fixed for the whole run."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from threadloom.engine.projection import Projection
from threadloom.runtime import RunControl

__all__ = ["RunOptions"]


@dataclass(slots=True)
class RunOptions:
    """What the caller of invoke/stream asked for."""

    modes: frozenset[str]
    """The stream modes asked for (see ``projection``)."""
    stream_keys: str | Sequence[str]
    interrupt_before: Sequence[str] | str
    interrupt_after: Sequence[str] | str
    durability: str
    recursion_limit: int
    checkpointing: bool
    """Whether a saver is present (effects Put/PutWrites are only produced then)."""
    saves_steps_at_once: bool = False
    """The saver saves several steps in one transaction of its own (``put_steps``): the
    input checkpoint is held for the next step's save (``engine/saves.py``)."""
    final_values_only: bool = False
    """Emit the state once when the run stops, not after every step (what invoke needs)."""
    step_timeout: float | None = None
    """Seconds a superstep may take (``Pregel.step_timeout``)."""
    projection: Projection | None = None
    control: RunControl | None = None
    """The run's ``RunControl``: a drain request stops the run before its next superstep."""

    def __post_init__(self) -> None:
        if self.projection is None:
            self.projection = Projection(self.modes)
