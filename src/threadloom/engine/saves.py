"""What a run owes its saver, and when: the durability rules in one place.

- No saver: nothing, ever.
- ``"sync"`` and ``"async"``: a task's writes as soon as it finishes, before the run waits for
  another task (so a crash while its siblings run keeps them); the writes of tasks that finished
  together (already there when the run looked) in one saver call (``PutWritesBatch``), and those
  of the step's last tasks with the checkpoint the step makes, in one ``PutStep`` (one saver call
  for a one-task step); every checkpoint when it is made, naming the head this run last saw so a
  concurrent writer is detected.
- The input checkpoint of a graph-API run (new input) is held, not saved, while the step after
  it runs only the built-in ``__start__`` task (which writes the input into the channels and
  runs no user code, unless START has conditional edges: then it is not held), and is saved
  with that step's checkpoint in one saver call (``PutStep.previous``: one transaction, one
  round trip, with ``put_steps``). Anything else first saves it on its
  own, exactly as it would have been: a chunk streamed before that step's checkpoint (the
  consumer may read the thread), another task, a breakpoint, a stop, the step's failure (a
  pydantic state's validator rejecting the input), any other save (``_owed``). So a crash
  while a node runs keeps the input, as before, and the history is the same. Only a saver
  that saves several steps in one transaction of its own gains (``saves_steps_at_once``), and
  holding copies the input (``_as_they_are``), so other savers get it saved at once.
- ``"exit"``: nothing while the run goes on; when it stops, its last checkpoint (saved as the
  child of the one the run started from, with every version that changed since) and the writes
  made after that checkpoint.

``Saves`` holds only this bookkeeping; it makes no checkpoint (``engine/run.py`` does) and does no
I/O (it returns effects).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final

from langchain_core.runnables import RunnableConfig

from threadloom._copying import copy_value
from threadloom.checkpoint._put import RunAddress
from threadloom.checkpoint.base import CONFIG_KEY_EXPECTED_HEAD, Checkpoint
from threadloom.constants import START
from threadloom.engine.effects import (
    Effect,
    Emit,
    Put,
    PutStep,
    PutWrites,
    PutWritesBatch,
    detached,
)

if TYPE_CHECKING:
    from threadloom.engine.core import Task

__all__ = ["Saves"]

TaskWrites = tuple[str, str, list[tuple[str, Any]]]


_build: Final = tuple.__new__
"""``_build(NamedTupleClass, (field, ...))``: a named tuple without its Python ``__new__``."""

MAX_READY: Final = 32
"""At most this many finished tasks' writes wait to be saved together: a run whose outcomes keep
arriving (so it never waits) still saves them in batches of this size, which bounds what a crash
can make run again."""

MERGE_INPUT: bool = True
"""Hold the input checkpoint's save for the next step's (the module docstring); False saves it
at once (the tests compare both)."""


@dataclass(slots=True)
class Saves:
    """The saver effects one run owes (see the module docstring for the rules)."""

    enabled: bool
    """A saver is present."""
    at_exit_only: bool
    """Durability ``"exit"``."""
    address: RunAddress
    """The run's config with its checkpoint namespace; its configurable keys travel with every
    ``put`` (into metadata)."""
    parent_id: str | None
    """The run's current checkpoint: the parent of the next one."""
    seen_head: str | None
    """The thread's head as this run last saw (or made) it."""
    start_id: str | None
    """The checkpoint the run started from (the parent of an exit save)."""
    start_versions: dict[str, Any]
    """Its channel versions (an exit save stores every version that differs)."""
    held: list[TaskWrites] = field(default_factory=list)
    """Writes of the current step's last tasks, saved with the step's checkpoint."""
    ready: list[TaskWrites] = field(default_factory=list)
    """Writes of finished tasks not saved yet: saved (``flush``) before the run waits."""
    ready_config: RunnableConfig = field(default_factory=RunnableConfig)
    """The checkpoint the ``ready`` tasks ran from."""
    exit_put: Put | None = None
    exit_writes: list[PutWrites] = field(default_factory=list)
    merge_input: bool = False
    """The run may hold its input checkpoint's save: a graph-API run whose step 0 is the
    built-in ``__start__`` task with no routers (conditional edges from START are user code; a
    functional run's step 0 is the user's entrypoint)."""
    held_input: PutStep | None = None
    """The input checkpoint's save, held for the next step's (the module docstring)."""

    def _owed(self, effects: list[Effect]) -> list[Effect]:
        """``effects``, after the held input checkpoint's save if there is one: every other
        save goes after it (writes name it as their checkpoint)."""
        held = self.held_input
        if held is None:
            return effects
        self.held_input = None
        return [held, *effects]

    def at_first_tick(self, tasks: list[Task] | None, chunks: list[Effect]) -> list[Effect]:
        """The step after the input is prepared (``tasks``, None: the run stops; ``chunks``
        its effects): keep holding the input checkpoint's save only if the step runs nothing
        but the built-in input task and streams nothing first, else the save to make now."""
        if tasks and all(t.name == START for t in tasks):
            for effect in chunks:
                if type(effect) is Emit:
                    return self._owed([])
            return []
        return self._owed([])

    def task_writes(self, config: RunnableConfig, finished: list[TaskWrites]) -> list[Effect]:
        """Finished tasks' writes (``(task_id, task_path, writes)`` each, in the order they
        finished): ready to save (``flush``), or kept for the exit."""
        if not self.enabled:
            return []
        if self.at_exit_only:
            self.exit_writes += [PutWrites(config, w, t, p) for t, p, w in finished]
            return []
        ready = self.ready
        ready += finished
        self.ready_config = config
        if len(ready) < MAX_READY:
            return []
        # outcomes that keep arriving are saved in bounded batches: each time MAX_READY wait
        effects: list[Effect] = []
        while len(self.ready) >= MAX_READY:
            rest = self.ready[MAX_READY:]
            del self.ready[MAX_READY:]
            effects += self.flush()
            self.ready = rest
        return effects

    def hold(self, task_id: str, task_path: str, writes: list[Any]) -> None:
        """The writes of the step's last task, when the step will make a checkpoint (durability
        "sync" or "async"): held, with the ones ready, to be saved with it."""
        if self.ready:  # (none, when the step ran one task)
            self.held += self.ready
            self.ready.clear()
        self.held.append((task_id, task_path, writes))

    def flush(self) -> list[Effect]:
        """Save the ready writes: the run is about to wait, or the step to end."""
        ready = self.ready
        if not ready:
            return []
        self.ready = []
        if len(ready) == 1:
            task_id, task_path, writes = ready[0]
            effects: list[Effect] = [PutWrites(self.ready_config, writes, task_id, task_path)]
        else:
            effects = [PutWritesBatch(self.ready_config, ready)]
        return effects if self.held_input is None else self._owed(effects)

    def checkpoint(
        self,
        checkpoint: Checkpoint,
        metadata: dict[str, Any],
        new_versions: dict[str, Any],
        seen_changes: dict[str, Any],
    ) -> list[Effect]:
        """A new checkpoint of the run, with the held writes of the step that made it.

        Its version dicts are the run's own, changed by later steps: the effect says so
        (``seen_changes``, with ``new_versions`` what changed since the parent), so a saver gets
        a copy, or only the changes when it stores diffs (``PutStep.run_checkpoint``)."""
        parent_id, self.parent_id = self.parent_id, checkpoint["id"]
        if self.at_exit_only:  # saved when the run stops: a copy of the versions as they are now
            config = self.address.config_at(parent_id, self.seen_head)
            self.exit_put = Put(config, detached(checkpoint, seen_changes), metadata, new_versions)
            self.exit_writes = []  # the checkpoint holds what they wrote
            return []
        expected_head, self.seen_head = self.seen_head, checkpoint["id"]
        held, self.held = self.held, []
        step: PutStep = _build(  # (every field, in order: PutStep without its Python __new__)
            PutStep,
            (
                self.address,
                parent_id,
                expected_head,
                held,
                checkpoint,
                metadata,
                new_versions,
                seen_changes,
                self.held_input,
            ),
        )
        if self.held_input is not None:  # saved with this step's, in one saver call
            self.held_input = None
        elif self.merge_input and MERGE_INPUT and metadata["source"] == "input":
            # saved with the next step's when nothing comes between; its version dicts are
            # the run's, which that step changes: a copy of them as they are now
            values = _as_they_are(checkpoint["channel_values"], new_versions)
            if values is not None:
                copied: Checkpoint = {**detached(checkpoint, seen_changes)}
                copied["channel_values"] = values
                self.held_input = step._replace(run_checkpoint=copied)
                return []
        return [step]

    def release(self, config: RunnableConfig) -> list[Effect]:
        """The ready and held writes, saved on their own: the step failed before making its
        checkpoint, or the run was stopped."""
        effects = self.flush()
        held, self.held = self.held, []
        effects += [PutWrites(config, writes, task_id, path) for task_id, path, writes in held]
        return self._owed(effects)

    def at_exit(self) -> list[Effect]:
        """What durability ``"exit"`` saves when the run stops (nothing for the other modes)."""
        put, self.exit_put = self.exit_put, None
        writes, self.exit_writes = self.exit_writes, []
        if put is None:
            return self._owed(list(writes))
        configurable = dict(put.config["configurable"])
        configurable["checkpoint_id"] = self.start_id
        configurable[CONFIG_KEY_EXPECTED_HEAD] = self.seen_head
        versions = put.checkpoint["channel_versions"]
        start = self.start_versions
        new_versions = {k: v for k, v in versions.items() if start.get(k) != v}
        self.seen_head = put.checkpoint["id"]
        config: RunnableConfig = {**put.config, "configurable": configurable}
        return [Put(config, put.checkpoint, put.metadata, new_versions), *writes]


def _as_they_are(values: dict[str, Any], new_versions: dict[str, Any]) -> dict[str, Any] | None:
    """The input checkpoint's values with a deep copy of each it adds (``copy_value``: mostly
    dicts, lists and strings, copied without ``deepcopy``'s memo), or None when one cannot be
    copied (then it is saved at once). A held save is encoded only after step 0 ran, and
    step 0's reducers may change the input in place (``add_messages`` gives a message without
    an id one): what is stored must be the input as it was, as a save made at once stores it."""
    copied = dict(values)
    try:
        for name in new_versions:
            if name in copied:
                copied[name] = copy_value(copied[name])  # (the input: mostly dicts and lists)
    except Exception:  # anything deepcopy refuses: fall back to saving now
        return None
    return copied
