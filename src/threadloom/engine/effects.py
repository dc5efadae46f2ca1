"""What the engine's cores ask the drivers to do, as plain records (STYLE §2).

A core (the run loop of ``engine/loop.py``, the state API of ``engine/state_api.py``) is a
generator: it yields one of these records and receives its result. ``engine/sync.py`` and
``engine/aio.py`` carry them out, one with threads and blocking saver calls, the other with
asyncio and the saver's ``a*`` methods. Nothing here does any work.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final, NamedTuple

from langchain_core.runnables import RunnableConfig

from threadloom.checkpoint._put import RunAddress
from threadloom.checkpoint.base import Checkpoint

if TYPE_CHECKING:
    from threadloom.engine.core import Task
    from threadloom.engine.tasks import TaskRunner

__all__ = [
    "NEXT_DONE",
    "NEXT_READY",
    "NOTHING_READY",
    "CancelTasks",
    "Effect",
    "Emit",
    "Flush",
    "GetTuple",
    "ListTuples",
    "NextDone",
    "Put",
    "PutStep",
    "PutWrites",
    "PutWritesBatch",
    "SaverEffect",
    "StartTasks",
    "StateEffect",
    "UserCall",
    "Wire",
    "detached",
]


# --- saving and loading -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Put:
    """Save ``checkpoint``; ``config`` names its parent and the head the run last saw."""

    __match_args__ = ("config", "checkpoint", "metadata", "new_versions")

    config: RunnableConfig
    checkpoint: Checkpoint
    metadata: dict[str, Any]
    new_versions: dict[str, Any]


@dataclass(frozen=True, slots=True)
class PutWrites:
    """Save a finished task's writes against the checkpoint it ran from."""

    config: RunnableConfig
    writes: list[tuple[str, Any]]
    task_id: str
    task_path: str


@dataclass(frozen=True, slots=True)
class PutWritesBatch:
    """Save the writes of tasks that finished together (before the run waits for more), in one
    saver call when the saver allows (``put_writes_batch``), else one ``put_writes`` each."""

    config: RunnableConfig
    """The checkpoint the tasks ran from."""
    writes: Sequence[tuple[str, str, list[tuple[str, Any]]]]
    """``(task_id, task_path, writes)`` of each task, in the order they finished."""


class PutStep(NamedTuple):
    """Save a checkpoint the run made and the step's writes not yet saved, in one saver call.

    Made once per step, so it holds what the saver reads rather than a config: the run's
    ``address`` (its config, made once per run), the checkpoint's parent and the head the run
    expects; ``config`` builds the config a ``put`` takes, for a saver that needs one. A named
    tuple, so ``Saves.checkpoint`` builds it at C speed (``build_effect``), not through a
    Python ``__init__`` that sets each field."""

    address: RunAddress
    parent_id: str | None
    """The checkpoint the tasks ran from (the new one's parent)."""
    expected_head: str | None
    """The thread's head as the run last saw it (a save finding another one fails)."""
    writes: Sequence[tuple[str, str, list[tuple[str, Any]]]]
    """``(task_id, task_path, writes)`` of the tasks that finished last (often the only one;
    none for a checkpoint made without tasks, as the input's)."""
    run_checkpoint: Checkpoint
    """The checkpoint as the run holds it: its version dicts are the run's own, changed by its
    later steps (the run does not copy them per step): read them only while the effect is
    carried out. The header is ``new_versions`` and the ``seen_changes`` entries on top of its
    parent's, which a saver that stores diffs keeps (``put_step_diff``). Its ``channel_values``
    dict is made for this checkpoint and never changed: a saver may keep it."""
    metadata: dict[str, Any]
    new_versions: dict[str, Any]
    seen_changes: dict[str, Any]
    """The ``versions_seen`` entries replaced since the parent."""
    previous: PutStep | None = None
    """The save of this checkpoint's parent, held to be made in the same saver call, before
    this one: the input checkpoint, when the step after it ran only the built-in input task
    (``engine/saves.py``). A saver with ``put_steps`` saves both in one transaction."""

    @property
    def config(self) -> RunnableConfig:
        """The config of a ``put`` of the checkpoint: its parent, with the expected head."""
        return self.address.config_at(self.parent_id, self.expected_head)  # type: ignore[no-any-return]

    @property
    def checkpoint(self) -> Checkpoint:
        """The checkpoint, a copy to keep (what a saver's ``put`` receives)."""
        return detached(self.run_checkpoint, self.seen_changes)


# matched by position as a ``put``'s arguments (a named tuple's own are its fields)
PutStep.__match_args__ = ("config", "writes", "checkpoint", "metadata", "new_versions")  # type: ignore[assignment,misc]


def detached(checkpoint: Checkpoint, seen_changes: dict[str, Any] | None) -> Checkpoint:
    """``checkpoint`` with version dicts of its own when they are a run's (``seen_changes`` is
    not None); the inner ``versions_seen`` dicts are shared: the engine replaces them, never
    changes one it has handed out."""
    if seen_changes is None:
        return checkpoint
    copied: Checkpoint = {**checkpoint}
    copied["channel_versions"] = dict(checkpoint["channel_versions"])
    copied["versions_seen"] = dict(checkpoint["versions_seen"])
    return copied


@dataclass(frozen=True, slots=True)
class GetTuple:
    """Read one saved checkpoint (``saver.get_tuple``); the result is sent back."""

    config: RunnableConfig


@dataclass(frozen=True, slots=True)
class ListTuples:
    """List saved checkpoints (``saver.list``); a list of them is sent back."""

    config: RunnableConfig
    filter: dict[str, Any] | None
    before: RunnableConfig | None
    limit: int | None


SaverEffect = Put | PutWrites | PutWritesBatch | PutStep | GetTuple | ListTuples
"""The effects that only talk to the saver."""


@dataclass(frozen=True, slots=True)
class UserCall:
    """Call user code that may be async (the state API: an update as a node with async
    routers): the sync driver sends back ``call(*args)``, the async one ``await acall(*args)``."""

    call: Callable[..., Any]
    acall: Callable[..., Awaitable[Any]]
    args: tuple[Any, ...]


StateEffect = SaverEffect | UserCall
"""All the state API asks for."""


# --- streaming --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Emit:
    """Stream one chunk of ``mode``."""

    mode: str
    payload: Any


@dataclass(frozen=True, slots=True)
class Wire:
    """Connect the run's live sinks (custom writer, token handler, subgraph relay, ``@task``
    calls and their saves) to the driver: sent once, before the first task runs; nothing is sent
    back."""

    connect: Callable[
        [Callable[[tuple[str, Any]], None], Callable[[PutWrites], Any], Callable[..., Any]], None
    ]
    """``connect(put, save, call)``: ``put(chunk)`` streams a chunk from any thread;
    ``save(effect)`` carries out a ``PutWrites`` (the async driver returns an awaitable);
    ``call(task, site, saved)`` runs a ``@task`` call on the driver's workers (``engine/calls.py``)
    and returns its future."""


@dataclass(frozen=True, slots=True)
class Flush:
    """Stream the live chunks still queued (the run is ending)."""


# --- running tasks ----------------------------------------------------------------------------


class StartTasks(NamedTuple):
    """Start the step's tasks; each finished one is sent back by a later ``NextDone``, except a
    task run ``inline`` that finished with no chunk queued before it: it is sent back at once,
    as the result of this effect (None otherwise), which saves the step a ``NextDone``.

    A named tuple, made every step: the run loop builds it at C speed (``tuple.__new__``, as
    ``PutStep``), not through a Python ``__init__``."""

    tasks: Sequence[Task]
    runner: TaskRunner
    inline: bool
    """Run a lone task on the caller's thread, as a plain call (no live stream needs a worker)."""
    step_timeout: float | None = None
    """Seconds from now by which the step's tasks must be done (None: the deadline set by an
    earlier ``StartTasks`` of the step stands, if any); past it ``NextDone`` sends back
    ``STEP_TIMED_OUT``."""


@dataclass(frozen=True, slots=True)
class NextDone:
    """Wait for the next started task to finish (streaming live chunks meanwhile); send back a
    list of it and the tasks that finished right after it, in the order they finished (up to
    the first live chunk queued after them, which is streamed at the next ``NextDone`` or
    ``Flush``): one exchange for the tasks of a fan-out that finished together, not one each.

    With ``wait=False``, do not wait: the same list when a task has already finished (streaming
    the chunks queued before it), or an empty sequence when none has.
    """

    wait: bool = True


NEXT_DONE: Final = NextDone()
"""The waiting ``NextDone``, made once, so a step does not make a new one per task."""

NEXT_READY: Final = NextDone(wait=False)
"""The ``NextDone`` that does not wait."""


class _StepTimedOut:
    __slots__ = ()

    def __repr__(self) -> str:
        return "STEP_TIMED_OUT"


STEP_TIMED_OUT: Final = _StepTimedOut()
"""What ``NextDone`` sends back (first in its list) instead of a task when the step's deadline
passed."""

NOTHING_READY: Final = ("done", None)
"""The event a driver's ``ready_event`` gives when no task has finished: ``NEXT_READY`` then
sends back an empty sequence."""


@dataclass(frozen=True, slots=True)
class CancelTasks:
    """A task failed: stop the step's tasks that can still be stopped; send back how many were.

    Threads cannot be stopped once started, so the sync driver cancels only tasks not yet
    started, and the async driver only tasks of async nodes, wherever they are (their writes are
    lost); a sync node already in its thread finishes and its writes are kept.
    """

    failed: Task | None
    """The task that failed (already finished: never counted); None: the step timed out."""


Effect = (
    Put
    | PutWrites
    | PutWritesBatch
    | PutStep
    | GetTuple
    | ListTuples
    | Emit
    | Wire
    | Flush
    | StartTasks
    | NextDone
    | CancelTasks
)


class RunStopped(Exception):  # a signal, not an error users see
    """Thrown into a run loop when its consumer stops it (a ``break`` out of ``stream()``, a
    cancelled ``astream()``): the loop yields the saves it still owes, then lets it through."""
