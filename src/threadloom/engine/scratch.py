"""The per-task context: config, runtime, stream writer and the interrupt/resume bookkeeping.

A task's code reaches these through ``get_config()``, ``get_store()``, ``get_stream_writer()``,
``interrupt()`` and functional ``@task`` calls, which all read one context variable set by the
driver around the task. Nothing here waits or saves: resume values consumed are recorded as
writes that the driver saves with the task's other writes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from langchain_core.runnables import RunnableConfig

from threadloom._response_schema import schema_json, validate_answer
from threadloom._running import current_task, running_task
from threadloom.constants import RESUME
from threadloom.engine.ids import interrupt_id
from threadloom.errors import GraphInterrupt
from threadloom.types import Interrupt

__all__ = ["ResumeBox", "TaskScratchpad", "current_scratchpad", "current_task", "task_context"]


@dataclass(slots=True)
class ResumeBox:
    """The run's ``Command(resume=...)`` value, shared by its tasks until one consumes it."""

    value: Any = None
    present: bool = False
    by_id: dict[str, Any] | None = None
    """A resume map ``{interrupt_id: value}``; each task takes the value of its own next id."""

    def clear(self) -> None:
        """Drop what no task took: a resume answers only the interrupts of the run's first step
        (as in LangGraph, where it is a write on the checkpoint the run resumes from)."""
        self.value, self.present, self.by_id = None, False, None

    def take_for(self, next_id: str) -> tuple[bool, Any]:
        """Consume the value meant for the interrupt ``next_id``, if there is one."""
        if self.by_id is not None:
            if next_id in self.by_id:
                return True, self.by_id.pop(next_id)
            return False, None
        if self.present:
            value, self.value, self.present = self.value, None, False
            return True, value
        return False, None


class TaskScratchpad:
    """What one running task knows about its interrupts and its functional sub-task calls.

    Made by ``TaskRunner.prepare`` (one per task attempt) without an ``__init__`` call: it sets
    the attributes every attempt has; the counters, the ``@task`` call state and the attempt's
    rarer parts keep their defaults as class attributes until something changes them, and what
    the pad can read from what it holds (its namespace, the run's resume box) it reads there."""

    resume: list[Any]
    """Answers this task already received, in order (replayed on re-execution); never changed
    in place (it starts as the task's own list), replaced as an answer is taken."""
    writes: list[tuple[str, Any]]
    """Control writes recorded while the task runs (its RESUME list)."""
    config: RunnableConfig
    writer: Callable[[Any], None]
    call_counter: int = 0
    interrupt_counter: int = 0
    subgraph_counter: int = 0
    """Graphs this task ran so far: the second gets namespace ``<task ns>|1``, and so on."""
    task: Any = None
    """The running task (its path places the ``@task`` calls it makes)."""
    runner: Any = None
    """The run's task runner (where ``@task`` calls are scheduled)."""
    clock: Any = None
    """The attempt's ``AttemptClock`` when the task has a timeout (``engine/timeouts.py``)."""
    attempt: int = 1
    """Which attempt of the task this is (``Runtime.execution_info.node_attempt``)."""
    first_attempt_time: float = 0.0
    """When the task's first attempt started (``time.time()``)."""
    checkpoint_id: str | None = None
    """The checkpoint the task runs from (``Runtime.execution_info``)."""
    call_path: str | None = None
    """``task_path_str`` of the task's path, once it made a ``@task`` call (``engine/calls.py``)."""
    call_prefixes: dict[str, tuple[bytes, str]] | None = None
    """Per ``@task`` name, what the ids of this task's calls hash first (``engine/calls.py``)."""
    call_site: Any = None
    """The step's ``CallSite``, read at the attempt's first ``@task`` call (``engine/calls.py``)."""
    open_calls: list[Any] | None = None
    """The futures of the ``@task`` calls this attempt started that had not finished then: the
    driver finishes them when the task ends (``calls.settle_calls``), waited on or not."""
    _runtime: Any = None

    @property
    def task_ns(self) -> str:
        """``"<node>:<task_id>"`` (under its graph's namespace): interrupt ids derive from it."""
        return self.config["configurable"]["checkpoint_ns"]  # type: ignore[no-any-return]

    @property
    def box(self) -> ResumeBox:
        """The run's ``Command(resume=...)`` value, shared by its tasks."""
        return self.runner.box  # type: ignore[no-any-return]

    @property
    def runtime(self) -> Any:
        """The task's ``Runtime`` (context, store, writer, previous, execution info)."""
        if self._runtime is None:  # built on first use: most nodes never ask for it
            self._runtime = self.runner.task_runtime(self)
        return self._runtime

    def interrupt(self, value: Any, response_schema: Any = None) -> Any:
        """Return the answer for this interrupt, or raise ``GraphInterrupt`` to pause the run."""
        index = self.interrupt_counter
        self.interrupt_counter += 1
        if index < len(self.resume):
            return validate_answer(self.resume[index], response_schema)
        next_id = interrupt_id(self.task_ns, len(self.resume))
        found, answer = self.box.take_for(next_id)
        if found:
            validated = validate_answer(answer, response_schema)  # before anything is recorded
            # the answer is saved as given (plain data the serializer takes), validated on reads
            self.resume = [*self.resume, answer]  # a new list: it may be the task's own
            self.writes.append((RESUME, list(self.resume)))
            return validated
        raise GraphInterrupt(
            (Interrupt(value=value, id=next_id, response_schema=schema_json(response_schema)),)
        )


def current_scratchpad(caller: str) -> TaskScratchpad:
    """The running task's scratchpad; outside a run, the contract's RuntimeError."""
    pad: TaskScratchpad = running_task()
    return pad


class task_context:
    """Sets the running task's scratchpad for the duration of a ``with`` block."""

    __slots__ = ("_pad", "_token")

    def __init__(self, pad: TaskScratchpad) -> None:
        self._pad = pad

    def __enter__(self) -> TaskScratchpad:
        self._token = current_task.set(self._pad)
        return self._pad

    def __exit__(self, *exc: object) -> None:
        current_task.reset(self._token)
