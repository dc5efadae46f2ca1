"""Running one task, apart from the waiting: context, injection, output → writes, retry decisions.

The sync and async drivers call ``TaskRunner.prepare`` before each attempt, ``succeed`` after the
node returned, and ``failed`` when it raised; only the call itself (and the retry sleep) differs
between them.
"""

from __future__ import annotations

import asyncio
import dataclasses
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from langchain_core.runnables import RunnableConfig

from threadloom.constants import NS_SEP, RESUME
from threadloom.engine._checks import translate_node_error
from threadloom.engine.calls import CallOf
from threadloom.engine.channels import Channel
from threadloom.engine.core import Task
from threadloom.engine.inject import Injection
from threadloom.engine.messages import attach
from threadloom.engine.plan import TaskWriteContext
from threadloom.engine.scratch import ResumeBox, TaskScratchpad
from threadloom.engine.snapshot import thread_ns
from threadloom.engine.timeouts import AttemptClock, ProgressCallbacks
from threadloom.errors import GraphBubbleUp, GraphInterrupt, NodeCancelledError, ParentCommand
from threadloom.runtime import ExecutionInfo, Runtime
from threadloom.types import Command

__all__ = ["TaskRunner"]

_build = tuple.__new__
_new_pad = object.__new__
"""``_build(NamedTupleClass, (field, ...))``: a named tuple without its Python ``__new__``."""


@dataclass(slots=True)
class TaskRunner:
    """Everything shared by the tasks of one run."""

    channels: dict[str, Channel]
    """The step-start channels (read-only while tasks run)."""
    runtime: Runtime[Any]
    box: ResumeBox
    writer: Callable[[Any], None]
    injections: dict[str, tuple[Injection, ...]]
    thread_id: str | None
    checkpoint_id: str | None
    messages: Any = None
    """The ``messages`` stream handler, when that mode is streamed."""
    make_call_site: Callable[[TaskRunner], Any] | None = None
    """Builds the step's call site (where ``@task`` calls are scheduled and saved), on demand,
    from this runner (passed, not held: a runner the builder held would be a reference cycle,
    keeping the whole run alive after it ends until the garbage collector finds it)."""
    put_chunk: Callable[[tuple[str, Any]], None] = field(default=lambda _: _unwired())
    """Streams a live chunk (from any thread); set by the driver when the run is wired."""
    save_writes: Callable[[Any], Any] = field(default=lambda _: _unwired())
    """Carries out a ``PutWrites`` for a ``@task`` call: the async driver returns an awaitable
    when called on its event loop, and waits for the save itself when called from a thread."""
    start_call: Callable[[Task, Any, Any, TaskRunner], Any] = field(default=lambda *_: _unwired())
    """Runs a ``@task`` call ``(task, call site, saved result, this runner)`` on the driver's
    workers and returns its future (``engine/calls.py``); set by the driver when the run is
    wired."""
    cache: Any = None
    """The graph's node cache, if any (``engine/caching.py``)."""
    cache_policy: Any = None
    """The graph's default ``CachePolicy``, if any."""
    traced: bool = False
    """The run reports to callbacks: each task attempt is a run below the graph's."""
    plain_nodes: frozenset[str] = frozenset()
    """The nodes whose tasks without a timeout the sync driver runs as ``run_plain``
    (``pregel.plain_nodes``; none when the run caches or traces)."""
    _call_site: Any = None

    def new_step(self, checkpoint_id: str, make_call_site: Callable[[TaskRunner], Any]) -> None:
        """Point the runner at the next superstep."""
        self.checkpoint_id = checkpoint_id
        self.make_call_site, self._call_site = make_call_site, None

    def call_site(self) -> Any:
        """The current step's call site, built the first time a ``@task`` is called in it."""
        if self._call_site is None and self.make_call_site is not None:
            self._call_site = self.make_call_site(self)
        return self._call_site

    def prepare(self, task: Task, attempt: int, first_attempt_time: float) -> TaskScratchpad:
        """A fresh scratchpad for one attempt of ``task`` (with the clock of its timeout)."""
        pad = _new_pad(TaskScratchpad)  # (no ``__init__``: TaskScratchpad)
        pad.resume = task.resume  # (never changed in place: TaskScratchpad.interrupt)
        pad.writes = [] if attempt == 1 else list(task.writes)  # a retry: the answers taken
        pad.task = task
        pad.runner = self
        pad.attempt = attempt
        pad.first_attempt_time = first_attempt_time
        pad.checkpoint_id = self.checkpoint_id
        if task.timeout is None:  # (most tasks: no clock)
            pad.config, pad.writer = task.config, self.writer
        else:
            clock = pad.clock = AttemptClock(task.timeout)
            pad.writer = _progress_writer(self.writer, clock)
            config = task.config
            if clock.policy.refresh_on == "auto":
                config = {**config}
                attach(config, ProgressCallbacks(clock))  # type: ignore[arg-type]
            pad.config = config
        if self.messages is not None and not task.node.hidden:
            self.messages.node_started(task.input)
        return pad

    def task_runtime(self, pad: TaskScratchpad) -> Runtime[Any]:
        """The ``Runtime`` a task attempt sees (``TaskScratchpad.runtime`` asks, on first use)."""
        base, task, clock = self.runtime, pad.task, pad.clock
        return Runtime(
            context=base.context,
            store=base.store,
            stream_writer=pad.writer,
            heartbeat=clock.touch if clock is not None else _no_heartbeat,
            previous=base.previous,
            control=base.control,
            server_info=base.server_info,
            execution_info=ExecutionInfo(
                checkpoint_id=pad.checkpoint_id,
                checkpoint_ns=task.ns,
                task_id=task.id,
                thread_id=self.thread_id,
                node_attempt=pad.attempt,
                node_first_attempt_time=pad.first_attempt_time,
            ),
        )

    def kwargs(self, task: Task, pad: TaskScratchpad) -> dict[str, Any]:
        """The injected keyword arguments the node asked for."""
        call = task.node.func
        wanted = call.injections if isinstance(call, CallOf) else self.injections.get(task.name, ())
        if not wanted:
            return {}
        values: dict[str, Any] = {}
        for inj in wanted:
            if inj.name == "config":
                values["config"] = pad.config
            elif inj.name == "writer":
                values["writer"] = pad.writer
            elif inj.name == "store":
                values["store"] = self.runtime.store
            elif inj.name == "previous":
                values["previous"] = self.runtime.previous
            else:
                values["runtime"] = pad.runtime
        return values

    def succeed(self, task: Task, pad: TaskScratchpad, output: Any) -> None:
        """Turn the node's output into the task's writes (may raise InvalidUpdateError)."""
        context = _build(TaskWriteContext, (self.channels, task.node, pad.config, task.managed_at))
        try:
            writes = task.node.write(output, context)
        except ParentCommand as exc:
            raise _addressed(exc, task.ns) from None
        task.writes = [*pad.writes, *writes]
        if self.messages is not None and not task.node.hidden:
            metadata = {**task.config.get("metadata", {}), "ls_integration": "langgraph"}
            self.messages.node_finished(output, metadata)  # as LangGraph shows them

    def failed(
        self, task: Task, pad: TaskScratchpad, exc: BaseException, attempt: int
    ) -> float | None:
        """Record a failure; return seconds to wait before retrying, or None to stop."""
        exc = translate_node_error(exc, task.name)  # e.g. LangGraph's interrupt() in a node
        if isinstance(exc, asyncio.CancelledError):  # raised by the node itself: a failure
            exc = NodeCancelledError(task.name)
        if isinstance(exc, GraphInterrupt):
            task.interrupts, task.paused = exc.interrupts, True
            task.writes = list(pad.writes)
            return None
        if isinstance(exc, ParentCommand) and exc.command.graph in (task.ns, thread_ns(task.ns)):
            # a graph this task ran sent Command(graph=PARENT): it is this task's output
            command = exc.command
            try:
                self.succeed(task, pad, dataclasses.replace(command, graph=None))
                return None
            except Exception as error:
                return self.failed(task, pad, error, attempt)
        if isinstance(exc, ParentCommand | GraphBubbleUp) or not isinstance(exc, Exception):
            raise exc
        for policy in task.node.retry_policy:
            if policy.matches(exc):
                if attempt < policy.max_attempts:
                    if pad.resume is not task.resume:  # answers taken: the retry replays them
                        task.resume = pad.resume
                        task.writes = [(RESUME, list(pad.resume))]
                    return policy.interval(attempt)
                break
        exc.add_note(f"During task with name '{task.name}' and id '{task.id}'")
        task.error = exc
        task.writes = list(pad.writes)  # the answers it took are saved with its error
        return None


def _addressed(exc: ParentCommand, task_ns: str) -> ParentCommand:
    """A ``Command(graph=Command.PARENT)`` a task returned, addressed to the task of the
    enclosing graph that runs this graph (its namespace: ``task_ns`` less its last part)."""
    if exc.command.graph != Command.PARENT:
        return exc
    parts = task_ns.split(NS_SEP)[:-1]
    while parts and parts[-1].isdigit():  # "<task ns>|1": the task's second graph
        parts.pop()
    return ParentCommand(dataclasses.replace(exc.command, graph=NS_SEP.join(parts)))


def _progress_writer(writer: Callable[[Any], None], clock: AttemptClock) -> Callable[[Any], None]:
    """``writer``, telling ``clock`` of each chunk (progress, for an idle timeout)."""

    def write(chunk: Any) -> None:
        clock.streamed()
        writer(chunk)

    return write


def _no_heartbeat() -> None:
    """``runtime.heartbeat`` of a node without a timeout."""


def _unwired() -> Any:
    raise RuntimeError("the run's driver has not wired its sinks yet")


def now() -> float:
    """Wall-clock time of a first attempt."""
    return time.time()


def task_config_of(pad: TaskScratchpad) -> RunnableConfig:
    """The config of the running task (for langchain-core's child-runnable context)."""
    return pad.config
