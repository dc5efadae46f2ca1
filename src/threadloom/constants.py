"""Reserved names shared by the graph API, the functional API and the engine."""

from __future__ import annotations

from typing import Any, Final

__all__ = ["END", "START", "TAG_HIDDEN", "TAG_NOSTREAM"]

START: Final = "__start__"
"""The entry of a graph; also the channel that holds a run's raw input."""
END: Final = "__end__"
"""The exit of a graph; also the channel holding a functional entrypoint's return value."""
TAG_HIDDEN: Final = "langsmith:hidden"
TAG_NOSTREAM: Final = "nostream"

# Channels and write targets with a fixed meaning (CONTRACT 1.6, 1.7).
TASKS: Final = "__pregel_tasks"
_PREVIOUS: Final = "__previous__"
"""The functional API's channel of an entrypoint's ``previous`` value (private, as in LangGraph)."""
ERROR: Final = "__error__"
INTERRUPT: Final = "__interrupt__"
RESUME: Final = "__resume__"
SCHEDULED: Final = "__scheduled__"
NO_WRITES: Final = "__no_writes__"
RETURN: Final = "__return__"
INPUT: Final = "__input__"
COPY: Final = "__copy__"
ROOT: Final = "__root__"
PUSH: Final = "__pregel_push"
PULL: Final = "__pregel_pull"
NULL_TASK_ID: Final = "00000000-0000-0000-0000-000000000000"
CONTROL_CHANNELS: Final = frozenset({ERROR, INTERRUPT, RESUME, "__error_source_node__"})
"""Writes that do not count as a task's result: a task is finished iff it wrote something else."""
RESERVED_NODE_CHARS: Final = ("|", ":")
NS_SEP: Final = "|"
NS_END: Final = ":"

# Internal config keys a parent run hands to a subgraph it runs inside one of its tasks. They start
# with "__pregel_", so they are never copied into checkpoint metadata.
CONFIG_KEY_CHECKPOINTER: Final = "__pregel_checkpointer"
"""The parent's saver: a subgraph compiled without one inherits it."""
CONFIG_KEY_STORE: Final = "__pregel_store"
"""The parent's store: a subgraph compiled without one inherits it."""
CONFIG_KEY_RESUMING: Final = "__pregel_resuming"
"""The parent run is resuming: a subgraph with a saved checkpoint resumes instead of restarting."""
CONFIG_KEY_RESUME_BOX: Final = "__pregel_resume_box"
"""The parent's ``Command(resume=...)`` value, shared with the subgraph's interrupts."""
CONFIG_KEY_PARENT_CHECKPOINT: Final = "__pregel_parent_checkpoint"
"""Checkpoint id of the parent's current step (the subgraph's ``metadata.parents``)."""
CONFIG_KEY_STREAM: Final = "__pregel_stream"
"""Where a subgraph forwards its chunks when the root run streams with ``subgraphs=True``."""
CONFIG_KEY_DURABILITY: Final = "__pregel_durability"
"""The parent run's durability, inherited by its subgraphs."""
CONFIG_KEY_CONTEXT: Final = "__pregel_context"
"""The parent run's runtime context: a subgraph invoked without one inherits it."""
CHECKPOINT_MAP: Final = "checkpoint_map"
"""In a subgraph snapshot's config: the checkpoint id of every enclosing graph and its own, by
namespace (what invoking the root graph with that config travels back to)."""
CHECKPOINT_COORDINATE_KEYS: Final = ("thread_id", "checkpoint_ns", "checkpoint_id", CHECKPOINT_MAP)
"""A config giving any of these addresses its own thread: a graph invoked with it inside a task
does not become the task's child (it is a root run of its own)."""
CONFIG_KEY_REPLAY: Final = "__pregel_replay"
"""Set when the root run travels back in time (a replay or a fork): the checkpoint id before which
each subgraph finds the state it starts from (``engine/loop.py`` ``ReplayBound``)."""


def __getattr__(name: str) -> Any:
    """LangGraph's names that moved: ``Send``/``Interrupt`` (now in ``threadloom.types``) and the
    private ``PREVIOUS`` still import from here, with LangGraph's deprecation warning."""
    import warnings

    from threadloom.warnings import LangGraphDeprecatedSinceV10

    if name in ("Send", "Interrupt"):
        warnings.warn(
            f"Importing {name} from threadloom.constants is deprecated. Please use "
            f"'from threadloom.types import {name}' instead.",
            LangGraphDeprecatedSinceV10,
            stacklevel=2,
        )
        from threadloom import types

        return getattr(types, name)
    if name == "PREVIOUS":
        warnings.warn(
            f"Importing {name} from threadloom.constants is deprecated. This constant is now "
            "private and should not be used directly.",
            LangGraphDeprecatedSinceV10,
            stacklevel=2,
        )
        return _PREVIOUS
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
