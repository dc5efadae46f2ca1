"""Functional ``@task`` calls: scheduled inside the running superstep, saved as they finish.

A call gets a deterministic id from its parent task and its call index, so when the entrypoint
re-runs after an interrupt, an error or a crash, a call that already returned resolves at once
with its saved result instead of running again. What a finished call saves and streams, and what
its future resolves to, is decided here once (``save_call``, ``call_outcome``); the run's driver
runs the call with the same workers and the same ``run_task``/``arun_task`` as the step's tasks
(``engine/sync.py``, ``engine/aio.py``), one future per call.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Final

from langchain_core.runnables import RunnableConfig

from threadloom._running import current_task, running_task
from threadloom.checkpoint._saver_calls import takes_diffs
from threadloom.constants import ERROR, NS_SEP, PUSH, RESUME, RETURN
from threadloom.engine import stream
from threadloom.engine.core import Task
from threadloom.engine.effects import PutWrites
from threadloom.engine.ids import id_head, task_id_of, task_path_str
from threadloom.engine.inject import Injection, injections_for
from threadloom.engine.plan import NodeSpec
from threadloom.engine.projection import Projection
from threadloom.engine.scratch import TaskScratchpad
from threadloom.errors import GraphInterrupt
from threadloom.types import RetryPolicy, TimeoutPolicy

__all__ = [
    "NOT_SAVED",
    "CallOf",
    "CallSite",
    "asettle_calls",
    "call_node",
    "call_outcome",
    "new_call_site",
    "save_call",
    "saved_result",
    "schedule_call",
    "settle_calls",
    "start_call",
]


@dataclass(slots=True)
class CallSite:
    """Where the ``@task`` calls of one superstep are scheduled and saved (made by the loop)."""

    checkpoint_id: str
    step: int
    pending: dict[str, list[tuple[str, Any]]]
    """Saved writes by task id (results of calls finished in an earlier attempt)."""
    writes_config: RunnableConfig | None
    """Where a finished call's writes are saved; None when they are not (no saver, or "exit")."""
    save: Callable[[PutWrites], Any]
    """The driver's carry-out of a ``PutWrites`` (may return an awaitable)."""
    on_update: Callable[[Any], None] | None
    """Streams a finished call's ``{name: result}`` update, when that is streamed."""
    head: bytes = b""
    """The checkpoint id as task ids hash it (``ids.id_head``), worked out once per step."""
    on_start: Callable[[Task], None] | None = None
    """Streams a call's start (``tasks``/``debug`` modes), when that is streamed."""
    on_end: Callable[[Task], None] | None = None
    """Streams a call's result or error, when that is streamed."""
    write: Any = None
    """The saver's own ``put_writes`` at ``writes_config`` (``InMemorySaver.writer_at``), called
    in the thread that finished the call instead of a ``PutWrites`` through the driver; None
    when there is none (``new_call_site``)."""
    plain: bool = False
    """The run neither traces its tasks, nor streams their messages, nor caches by a default
    ``CachePolicy``: a ``CallOf.plain`` call without a timeout may skip what they need."""


def new_call_site(
    at: tuple[str, int, dict[str, list[tuple[str, Any]]]],
    runner: Any,
    out: Projection,
    keys: str | Sequence[str],
    writes_config: RunnableConfig | None,
    save: Callable[[PutWrites], Any],
    saver: Any,
) -> CallSite:
    """The call site of a step (made at its first ``@task`` call): ``at`` its checkpoint id,
    step and saved writes by task id (``Run.call_site``); ``runner`` the run's ``TaskRunner``,
    wired; a call's ``tasks``/``debug`` chunks as LangGraph streams them for each ``@task`` call.

    A finished call's writes go straight to the saver's own writer (``writer_at``) when the
    driver would only pass them to its ``put_writes`` (not kept for a ``durability="exit"``
    save) and the saver offers one without overriding the methods it stands for."""
    checkpoint_id, step, pending = at
    put = runner.put_chunk
    start, end = out.sink("task_start", put, step), out.sink("task_end", put, step)
    write = None
    if writes_config is not None and save is runner.save_writes:
        writer_at = getattr(saver, "writer_at", None)
        if writer_at is not None and takes_diffs(saver):
            write = writer_at(writes_config)
    return CallSite(
        checkpoint_id,
        step,
        pending,
        writes_config,
        save,
        out.sink("update", put),
        id_head(checkpoint_id),
        None if start is None else lambda task: start(stream.task_start(task)),
        None if end is None else lambda task: end(stream.task_result(task, keys)),
        write,
        not runner.traced and runner.messages is None and runner.cache_policy is None,
    )


@dataclass(frozen=True, slots=True)
class CallOf:
    """A ``@task`` function as a node: called with a call's ``(args, kwargs)`` and the
    parameters it asks for (``config``, ``writer``, ``store``, ``runtime``, ``previous``, as a
    node's) that the call did not pass, as LangGraph fills them in."""

    func: Callable[..., Any]
    injections: tuple[Injection, ...] = ()
    plain: bool = False
    """Nothing to inject, no retry policy, no cache policy of its own: a call of it runs as the
    sync driver's ``run_plain`` when its run lets it (``CallSite.plain``) and it has no
    timeout: no retry loop, cache key, injection or write function to go through."""

    def __call__(self, value: tuple[tuple[Any, ...], dict[str, Any]], **injected: Any) -> Any:
        args, kwargs = value
        if injected:
            kwargs = {**{k: v for k, v in injected.items() if k not in kwargs}, **kwargs}
        return self.func(*args, **kwargs)


def call_node(
    name: str,
    func: Callable[..., Any],
    retry: tuple[RetryPolicy, ...] = (),
    is_async: bool = False,
    cache: Any = None,
) -> NodeSpec:
    """The node every call of one ``@task`` function runs as (made once per function: it
    depends on the function only, and a call reads it, never changes it)."""
    injections = injections_for(func, skip_first=False)
    plain = not injections and not retry and (cache is None or cache.policy is None)
    call = CallOf(func, injections, plain)
    return NodeSpec(
        name=name,
        triggers=(PUSH,),
        read=_no_input,
        func=call,
        afunc=call if is_async else None,  # the driver awaits what it returns
        write=_return_write,
        retry_policy=retry,
        cache=cache,
    )


_PUSH_TRIGGERS: Final = (PUSH,)


def _no_input(_channels: Any) -> None:
    return None


def _return_write(output: Any, _ctx: Any) -> list[tuple[str, Any]]:
    return [(RETURN, output)]


class _NotSaved:
    __slots__ = ()

    def __repr__(self) -> str:
        return "NOT_SAVED"


NOT_SAVED: Final = _NotSaved()
"""What ``saved_result`` gives for a call that has no saved result (it must run)."""


def saved_result(site: CallSite, task: Task) -> Any:
    """The result an earlier attempt of the run saved for this call, or ``NOT_SAVED``."""
    for chan, value in site.pending.get(task.id, []):
        if chan == RETURN:
            return value
    return NOT_SAVED


def save_call(site: CallSite, task: Task) -> Any:
    """Save a finished call's writes (its result, its error, or the answers it consumed);
    return what the driver's save returns (the async driver's may be awaitable)."""
    if task.error is not None:  # with the answers it took, as a failed step task
        writes: list[tuple[str, Any]] = [w for w in task.writes if w[0] == RESUME]
        writes.append((ERROR, task.error))
    elif task.interrupts:
        writes = [w for w in task.writes if w[0] == RESUME]
    else:
        writes = task.writes
    if writes and site.writes_config is not None:
        write = site.write
        if write is not None:  # the same save, without the layers
            return write(writes, task.id, task.path_str)
        return site.save(PutWrites(site.writes_config, writes, task.id, task.path_str))
    return None


def _now(report: Callable[[Any], None], item: Any) -> None:
    report(item)


def call_outcome(
    site: CallSite, task: Task, later: Callable[[Callable[[Any], None], Any], Any] = _now
) -> Any:
    """The call's result (streamed as an update), or its error or interrupt raised.

    ``later`` sends the call's chunks: the async driver's ``loop.call_soon``, so the caller
    resumes before the run's consumer sees them, in LangGraph's event order."""
    if task.error is not None:
        if site.on_end is not None:
            later(site.on_end, task)
        raise task.error
    if task.interrupts:  # (LangGraph streams no task result: the caller's shows the interrupt)
        raise GraphInterrupt(task.interrupts)
    value = None
    for chan, written in task.writes:
        if chan == RETURN:
            value = written
            break
    if site.on_update is not None:
        update = {task.name: value}
        if task.cached:  # as LangGraph marks a replayed cache hit
            update["__metadata__"] = {"cached": True}
        later(site.on_update, update)
    if site.on_end is not None and not task.cached:
        later(site.on_end, task)
    return value


def schedule_call(
    name: str,
    func: Callable[..., Any],
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    retry: tuple[RetryPolicy, ...],
    is_async: bool,
    timeout: TimeoutPolicy | None = None,
    cache: Any = None,
) -> Any:
    """Schedule one ``@task`` call from inside a run; return its future (``start_call`` with a
    node made for this call alone)."""
    return start_call(call_node(name, func, retry, is_async, cache), args, kwargs, timeout)


def start_call(
    spec: NodeSpec,
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    timeout: TimeoutPolicy | None = None,
) -> Any:
    """Schedule one call of the ``@task`` whose ``call_node`` is ``spec``; return its future.

    The run's driver runs it (``TaskRunner.start_call``: its workers, as they run the step's
    tasks) and resolves the future: a ``concurrent.futures.Future``, or an asyncio future when
    called on the async driver's event loop. ``spec.cache`` is the task's
    ``engine.caching.CacheSpec`` (None: never cached).

    The call's task gets its id from its parent task and its call index (the index counted per
    parent attempt), and its saved result, if an earlier attempt saved one, resolves the future
    at once. All in one function: it runs for every call (what is the same for the calls of one
    attempt is worked out at its first call, kept on the parent's pad).
    """
    parent: TaskScratchpad = current_task.get() or running_task()  # (which raises outside a run)
    runner = parent.runner
    site: CallSite | None = parent.call_site
    if site is None:  # the attempt's first call
        site = parent.call_site = runner.call_site()
        parent.call_path = task_path_str(parent.task.path)
        parent.call_prefixes = {}
    index = parent.call_counter
    parent.call_counter = index + 1
    name = spec.name
    known = parent.call_prefixes.get(name)  # type: ignore[union-attr]
    if known is None:
        known = _call_prefix(parent, site, name)
    prefix, call_ns = known
    digits = str(index)
    tid = task_id_of(prefix, digits)
    config = parent.config
    task = Task(
        tid,
        name,
        (PUSH, parent.task.path, index, True),
        # task_path_str of that path (zfill: an f-string's ``:010d`` takes the general
        # format-spec machinery, C code run for nothing else on the call's path)
        f"~{PUSH}, {parent.call_path}, {digits.zfill(10)}, True",
        _PUSH_TRIGGERS,
        (args, kwargs),
        spec,
        # its own namespace, under its caller's (its interrupt ids and graphs hang on it)
        {**config, "configurable": {**config["configurable"], "checkpoint_ns": f"{call_ns}:{tid}"}},
        timeout=timeout,
    )
    saved: Any = NOT_SAVED
    if site.pending:  # (a first attempt has none)
        for chan, value in site.pending.get(tid, ()):
            if chan == RESUME:
                task.resume = list(value)
            elif chan == RETURN and saved is NOT_SAVED:
                saved = value
    if site.on_start is not None:  # (a call with a saved result starts too, as in LangGraph)
        site.on_start(task)
    future = runner.start_call(task, site, saved, runner)
    if saved is NOT_SAVED:  # finished when the caller ends (settle_calls), if nobody waited
        if parent.open_calls is None:
            parent.open_calls = [future]
        else:
            parent.open_calls.append(future)
    return future


def _call_prefix(parent: TaskScratchpad, site: CallSite, name: str) -> tuple[bytes, str]:
    """What the ids of ``parent``'s calls of ``name`` hash first, and their namespace."""
    caller_ns = parent.task.config["configurable"].get("checkpoint_ns", "")  # as LangGraph's
    call_ns = f"{caller_ns}{NS_SEP}{name}" if caller_ns else name
    known = parent.call_prefixes[name] = (  # type: ignore[index]
        site.head + f"{call_ns}{site.step}{name}{PUSH}{parent.call_path}".encode(),
        call_ns,
    )
    return known


def settle_calls(pad: TaskScratchpad) -> None:
    """Finish the ``@task`` calls a task started, once the task has ended (returned, raised or
    paused), so a run never ends with calls of its own still running and each call's result is
    saved before the step's outcome: as LangGraph, which waits for every call a step started.
    A call not taken by a worker yet runs here; a call's error stays in its future (the caller
    did not ask for it)."""
    calls, pad.open_calls = pad.open_calls or (), None
    for future in calls:
        if future._state == _FINISHED:  # (most: their caller waited for them) nothing to do
            continue
        with contextlib.suppress(Exception):  # a call's error: its caller did not ask for it
            future.result()


_FINISHED: Final = concurrent.futures._base.FINISHED
"""A settled (not cancelled) ``concurrent.futures.Future``'s ``_state``."""


async def asettle_calls(pad: TaskScratchpad, failed: bool) -> None:
    """``settle_calls`` on the async driver: a call is an asyncio future, or a
    ``concurrent.futures.Future`` when a sync node's thread made it. When the task ``failed``
    (an error, not a pause), its unfinished asyncio calls are cancelled instead, as LangGraph's
    async runner does; a thread's call runs to its end (a thread cannot be stopped)."""
    calls, pad.open_calls = pad.open_calls or (), None
    pending = []
    for future in calls:
        if future.done():
            continue
        if isinstance(future, concurrent.futures.Future):
            pending.append(asyncio.wrap_future(future))
        else:
            if failed:
                future.cancel()
            pending.append(future)
    if pending:
        await asyncio.gather(*pending, return_exceptions=True)
    elif calls and not pad.runner.traced:  # all finished before their caller: the chunks
        # their outcomes sent with the loop's call_soon (call_outcome) may still wait their
        # turn; let them reach the stream before the caller's update (else the step's values
        # come before a call's update). A traced caller's end callbacks give them that turn,
        # after its own output event, as in LangGraph (tests/func/test_call_event_order.py).
        await asyncio.sleep(0)
