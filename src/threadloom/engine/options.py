"""``RunOptions``: what the caller of invoke/stream asked for, fixed for the whole run.

One record serves every run asking for the same things on one compiled graph
(``call_setup.run_options`` keeps them per graph): it is frozen, and what differs per run (its
config, its ``RunControl``, its state) lives on the ``Run``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from threadloom.engine.projection import Projection

__all__ = ["RunOptions"]


@dataclass(frozen=True, slots=True)
class RunOptions:
    """What the caller of invoke/stream asked for, and what a run works out from it once."""

    modes: frozenset[str]
    """The stream modes asked for (see ``projection``)."""
    stream_keys: str | Sequence[str]
    """The channels values chunks (and invoke's result) read."""
    interrupt_before: Sequence[str] | str
    interrupt_after: Sequence[str] | str
    durability: str
    recursion_limit: int
    checkpointing: bool
    """Whether a saver is present (effects Put/PutWrites are only produced then)."""
    saves_steps_at_once: bool
    """The saver saves several steps in one transaction of its own (``put_steps``): the
    input checkpoint is held for the next step's save (``engine/saves.py``)."""
    final_values_only: bool
    """Emit the state once when the run stops, not after every step (what invoke needs)."""
    step_timeout: float | None
    """Seconds a superstep may take (``Pregel.step_timeout``)."""
    projection: Projection
    """Which chunks the run's events become."""
    next_version: Callable[[Any], Any]
    """A channel's next version after the one given (the saver's rule; counters without one)."""
    stream_key_set: frozenset[str]
    """``stream_keys`` as a set (``Run.changed_values`` asks every step whether one changed)."""
    ephemeral_output: bool
    """A streamed channel empties itself: invoke cannot read the values only at the end."""
    plain_tick: bool
    """No tick streams a chunk or stops at a breakpoint (``Run.tick``'s short way)."""
    inline_ok: bool
    """A step's lone task may run in the run's own thread: nothing streams from inside a
    task (``Projection.live``), no step timeout, no update of an entrypoint's ``@task`` calls
    (streamed as each call finishes, as LangGraph)."""
    lone_steps: bool
    """A step of one task may end the short way (``engine/lone_step.py``)."""
    quiet_outcomes: bool
    """No task outcome streams a chunk (no ``updates``, no task results): a returned task's
    outcome is then only its writes (``Run.record_returned``)."""
