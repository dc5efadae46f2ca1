"""The callback run tree: the graph run as the root, each task as a child run, models below them.

When a run's config carries LangChain callbacks (a handler, LangSmith's or Langfuse's tracer,
``astream_events``' own handler), the graph run is reported as a chain run named after the graph,
each task (a node, a ``Send`` target or a functional ``@task`` call) as a chain run below it, with
LangGraph's tags (``graph:step:N``) and metadata (``langgraph_node``, ``langgraph_step``,
``langgraph_triggers``, ``langgraph_path``, ``langgraph_checkpoint_ns``, ``thread_id``...). A
node's code runs with a config whose callbacks are its own run's children (tag ``seq:step:1``), so
chat models, tools and subgraphs it calls nest under it.

A run without callbacks builds nothing here: the drivers test one flag per task.
"""

from __future__ import annotations

import inspect
import sys
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import aclosing, closing
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from langchain_core.callbacks import AsyncCallbackManager, BaseCallbackManager, CallbackManager
from langchain_core.globals import get_debug
from langchain_core.runnables import RunnableConfig
from langchain_core.runnables.config import var_child_runnable_config
from langchain_core.utils.env import env_var_is_set
from langsmith import utils as ls_utils

from threadloom.callbacks import (
    GraphCallbackHandler,
    GraphInterruptEvent,
    GraphLifecycleStatus,
    GraphResumeEvent,
    _GraphCallbackManager,
)
from threadloom.constants import CONFIG_KEY_RESUME_BOX, NS_SEP, PUSH
from threadloom.engine.calls import CallOf
from threadloom.engine.core import Task, read_channels
from threadloom.engine.run_reports import Handlers, end_chain, start_chain, summarize
from threadloom.engine.scratch import TaskScratchpad
from threadloom.engine.stream_handlers import is_stream_handler, kept_by_child
from threadloom.engine.trace_policy import (
    end_for_tracers,
    split_tracers,
    start_for_tracers,
    with_handlers,
)
from threadloom.errors import GraphInterrupt

__all__ = [
    "GraphTrace",
    "NodeRun",
    "aend_node",
    "afail_node",
    "astart_node",
    "end_node",
    "fail_node",
    "graph_trace",
    "start_node",
    "traced_achunks",
    "traced_chunks",
]

_TO_METADATA = (
    "thread_id",
    "checkpoint_id",
    "checkpoint_ns",
    "task_id",
    "run_id",
    "assistant_id",
    "graph_id",
)
"""Configurable keys a graph run shows in its metadata (as LangGraph does), when set."""

_CONSUMED = ("run_name", "run_id")
"""Config keys that name the graph's own run, not the runs below it."""


@dataclass(slots=True)
class GraphTrace:
    """A graph run to report to the config's callbacks (made by ``graph_trace``)."""

    config: dict[str, Any]
    """The run's config: once the run is started, its callbacks are the run's children."""
    manager_config: RunnableConfig
    """What the root run is configured from (the caller's callbacks, tags and metadata)."""
    name: str
    input: Any
    output_keys: Any
    nested: bool
    """Run by a parent graph's task: its interrupts pause the parent, which reports them."""
    run: Any = None
    """The ``Run``, once loaded (its output, status and interrupts are read from it)."""
    run_manager: Any = None
    """The graph run's callback manager, once started."""

    def _start_args(self) -> dict[str, Any]:
        name = self.manager_config.get("run_name") or self.name
        return {"serialized": None, "inputs": self.input, "name": name,
                "run_id": self.manager_config.get("run_id")}  # fmt: skip

    def _enter(self, run_manager: Any) -> Any:
        self.config["callbacks"] = run_manager.get_child()
        self.run_manager = run_manager
        return run_manager

    def output(self) -> Any:
        """The graph's output as the run ends (what ``invoke`` would return, interrupts aside)."""
        if self.run is None:
            return None
        keys, channels = self.output_keys, self.run.channels
        if not isinstance(keys, str):  # an output schema's managed keys are no channels
            keys = [k for k in keys if k in channels]
        return read_channels(channels, keys)

    def _lifecycle(self) -> _GraphCallbackManager | None:
        handlers = [h for h in self.run_manager.handlers if isinstance(h, GraphCallbackHandler)]
        return _GraphCallbackManager(handlers, run_id=self.run_manager.run_id) if handlers else None

    def _ns(self) -> tuple[str, ...]:
        ns = str(self.config["configurable"].get("checkpoint_ns", ""))
        return tuple(ns.split(NS_SEP)) if ns else ()

    def started(self, run: Any) -> None:
        """The run is loaded: a run that continues its thread is reported as resumed."""
        self.run = run
        if run.resumed and (lifecycle := self._lifecycle()) is not None:
            event = GraphResumeEvent(lifecycle.run_id, "pending", run.checkpoint["id"], self._ns())
            lifecycle.on_resume(event)

    def raises(self) -> GraphInterrupt | None:
        """What a nested graph that paused raises to its parent's task (None: it ended): its run
        ends with that error, as LangGraph's does, not with its values."""
        run = self.run
        if run is None or not self.nested or run.status not in _PAUSED:
            return None
        return GraphInterrupt(tuple(run.interrupts))

    def paused(self) -> tuple[_GraphCallbackManager, GraphInterruptEvent] | None:
        """The interrupt event to report as the run ends, and to whom (None: nothing to)."""
        run = self.run
        if run is None or self.nested or run.status not in _PAUSED:
            return None
        lifecycle = self._lifecycle()
        if lifecycle is None:
            return None
        status = _PAUSED[run.status]
        event = GraphInterruptEvent(
            lifecycle.run_id, status, run.checkpoint["id"], self._ns(), tuple(run.interrupts)
        )
        return lifecycle, event


_PAUSED: dict[str, GraphLifecycleStatus] = {
    "interrupted": "pending",
    "interrupt_before": "interrupt_before",
    "interrupt_after": "interrupt_after",
}
"""A paused run's status, as the lifecycle events name it."""


def _langsmith_switches() -> tuple[Any, Any, Any] | None:
    """LangSmith's own switches of ``tracing_is_enabled``, in the order it reads them: the
    module holding the process-wide one, the ``tracing_context(enabled=...)`` variable and the
    current run tree's; None when this LangSmith keeps them elsewhere (then it is asked)."""
    try:
        from langsmith._internal import _context
    except ImportError:  # pragma: no cover - another LangSmith
        return None
    enabled = getattr(_context, "_TRACING_ENABLED", None)
    parent = getattr(_context, "_PARENT_RUN_TREE_REF", None)
    if not (
        isinstance(enabled, ContextVar)
        and isinstance(parent, ContextVar)
        and hasattr(_context, "_GLOBAL_TRACING_ENABLED")
    ):
        return None  # pragma: no cover - another LangSmith
    return _context, enabled, parent


_LANGSMITH = _langsmith_switches()


def _langsmith_tracing() -> Any:
    """``langsmith.utils.tracing_is_enabled()``: while none of its switches is set (no
    ``tracing_context(enabled=...)``, no current run tree, no ``langsmith.configure(enabled=)``),
    its answer is the environment's, read as it reads it (``get_env_var``, cached by LangSmith),
    without the nine context variables it looks up first; else it is asked."""
    if _LANGSMITH is not None:
        context, enabled, parent = _LANGSMITH
        if (
            enabled.get() is None
            and parent.get() is None
            and context._GLOBAL_TRACING_ENABLED is None
        ):
            get = ls_utils.get_env_var
            return get("TRACING_V2", default=get("TRACING", default="")) == "true"
    return ls_utils.tracing_is_enabled()


def _traced_by_environment() -> bool:
    """Whether runs are traced without callbacks in the config: LangSmith tracing switched on
    (``LANGSMITH_TRACING``, ``tracing_context(enabled=True)``, ``tracing_v2_enabled()``),
    ``set_debug(True)``, or a configure hook of an integration that is set."""
    if _langsmith_tracing() or get_debug():
        return True
    context = sys.modules.get("langchain_core.tracers.context")
    if context is None:  # never imported: none of its switches can be set
        return False
    if context.tracing_v2_callback_var.get() is not None:
        return True
    return any(
        var.get() is not None or (env_var is not None and env_var_is_set(env_var))
        for var, _, _, env_var in context._configure_hooks
    )


def graph_trace(
    config: Any, name: Callable[[], str], input: Any, output_keys: Any
) -> GraphTrace | None:
    """The graph run to report, or None when nothing follows runs (no callbacks in the config
    or in the enclosing run, no tracing switched on: nothing to do). ``name`` gives the graph's
    name (asked only when the run is reported)."""
    configurable = config.get("configurable") or {}
    nested = CONFIG_KEY_RESUME_BOX in configurable
    if nested and _parent_streams(config.get("callbacks")):  # a task's config, passed on:
        kept = subgraph_callbacks(config).get("callbacks")  # the child streams through its own
        config["callbacks"] = kept  # (None: as if none were passed)
    if not config.get("callbacks"):
        ambient = var_child_runnable_config.get()  # a graph invoked inside a traced node
        inherited = (
            subgraph_callbacks(ambient, own_thread=not nested).get("callbacks") if ambient else None
        )
        if inherited is not None:
            config["callbacks"] = inherited
        elif not _traced_by_environment():
            return None
    metadata = dict(config.get("metadata") or {})
    for key in _TO_METADATA:
        if key not in metadata and configurable.get(key):
            metadata[key] = configurable[key]
    config["metadata"] = {
        k: v for k, v in metadata.items() if k != "run_id"
    }  # the tasks' too: a run below a subgraph's node keeps
    # the subgraph's checkpoint_ns, not the one its own config would add (as in LangGraph)
    metadata.setdefault("ls_integration", "langgraph")
    manager_config: RunnableConfig = {**config, "metadata": metadata}  # type: ignore[typeddict-item]
    for key in _CONSUMED:
        config.pop(key, None)
    return GraphTrace(config, manager_config, name(), input, output_keys, nested)


def _parent_streams(callbacks: Any) -> bool:
    """Whether ``callbacks`` hold a run's ``messages`` or ``tools`` stream handler."""
    if isinstance(callbacks, BaseCallbackManager):
        callbacks = callbacks.handlers
    return isinstance(callbacks, list) and any(is_stream_handler(h) for h in callbacks)


def _configure(config: RunnableConfig, manager_class: Any) -> Any:
    """The graph run's manager: the config's handlers, tags and metadata. langchain-core's
    ``configure`` also looks for what the environment adds (tracers, a LangSmith parent run):
    when none is there, the same manager is built here at a tenth of the cost, once per run."""
    callbacks = config.get("callbacks")
    if isinstance(callbacks, list) and not _environment_adds_to_runs():
        tags = list(config.get("tags") or ())
        metadata = dict(config.get("metadata") or {})
        return manager_class(handlers=callbacks.copy(), inheritable_handlers=callbacks.copy(),
                             parent_run_id=None, tags=tags, inheritable_tags=list(tags),
                             metadata=metadata, inheritable_metadata=dict(metadata))  # fmt: skip
    return manager_class.configure(
        inheritable_callbacks=callbacks,
        inheritable_tags=config.get("tags"),
        inheritable_metadata=config.get("metadata"),
    )


def _environment_adds_to_runs() -> bool:
    """Whether langchain-core's ``configure`` would add to the config's handlers, tags, metadata
    or parent run: tracing switched on, a LangSmith tracing context (a ``@traceable`` caller,
    ``tracing_context(tags=...)``), or the old tracing variables (it raises for those)."""
    from langsmith.run_helpers import get_tracing_context

    context = get_tracing_context()
    if any(context[key] is not None for key in ("parent", "tags", "metadata")):
        return True
    if env_var_is_set("LANGCHAIN_TRACING") or env_var_is_set("LANGCHAIN_HANDLER"):
        return True
    return _traced_by_environment()


def traced_chunks(chunks: Iterator[Any], trace: GraphTrace) -> Iterator[Any]:
    """``chunks`` (a sync driver's) reported as the graph run: start, end or error."""
    run = trace._enter(_configure(trace.manager_config, CallbackManager).on_chain_start(
        **trace._start_args()))  # fmt: skip
    with closing(chunks):  # type: ignore[type-var]
        try:
            yield from chunks
        except BaseException as exc:
            run.on_chain_error(exc)
            raise
    if (paused := trace.paused()) is not None:
        paused[0].on_interrupt(paused[1])
    if (interrupt := trace.raises()) is not None:
        run.on_chain_error(interrupt)
    else:
        run.on_chain_end(trace.output())


async def traced_achunks(chunks: AsyncIterator[Any], trace: GraphTrace) -> AsyncIterator[Any]:
    """``chunks`` (the async driver's) reported as the graph run: start, end or error."""
    manager = _configure(trace.manager_config, AsyncCallbackManager)
    run = trace._enter(await manager.on_chain_start(**trace._start_args()))
    async with aclosing(chunks):  # type: ignore[type-var]
        try:
            async for chunk in chunks:
                yield chunk
        except BaseException as exc:
            await run.on_chain_error(exc)
            raise
    if (paused := trace.paused()) is not None:
        await paused[0].aon_interrupt(paused[1])
    if (interrupt := trace.raises()) is not None:
        await run.on_chain_error(interrupt)
    else:
        await run.on_chain_end(trace.output())


# --- task runs -----------------------------------------------------------------------------------
# Task runs are built straight from the managers above them: ``CallbackManager.configure`` (which
# also looks for tracers in the environment, already done for the graph run) cost more per step
# than the rest of the engine.


def _is_call(task: Task) -> bool:
    """A functional ``@task`` call (its path ends with its call index and ``True``)."""
    return len(task.path) > 3 and task.path[0] == PUSH  # a Send's is (PUSH, index, False)


def _node_fields(task: Task, pad: TaskScratchpad) -> tuple[Any, list[str], dict[str, Any]]:
    """The manager above the task's run, and the run's tags and metadata: below the graph run
    (tagged with the step), or, for a ``@task`` call, below the run of the code that called it."""
    parent: Any = pad.config["callbacks"]  # a manager: the run is traced
    metadata: dict[str, Any] = {
        **parent.inheritable_metadata,
        **pad.config.get("metadata", {}),
        **task.node.metadata,  # add_node(..., metadata=...)
    }
    if _is_call(task):
        ns = metadata.get("langgraph_checkpoint_ns", "")
        metadata.update(
            langgraph_node=task.name,
            langgraph_triggers=task.triggers,
            langgraph_path=task.path,
            langgraph_checkpoint_ns=f"{ns}{NS_SEP}{task.name}:{task.id}" if ns else task.id,
        )
        tags = list(parent.tags)
    else:
        tags = [f"graph:step:{metadata['langgraph_step']}", *parent.inheritable_tags]
    return parent, tags, metadata


def _node_manager(
    parent: Any, handlers: list[Any], tags: list[str], metadata: dict[str, Any], cls: Any
) -> Any:
    """The manager that starts the task's run (through langchain-core)."""
    return cls(
        handlers=handlers,
        inheritable_handlers=list(parent.inheritable_handlers),
        parent_run_id=parent.parent_run_id,
        tags=tags,
        inheritable_tags=list(parent.inheritable_tags),
        metadata=metadata,
        inheritable_metadata=metadata,
    )


@dataclass(slots=True)
class NodeRun:
    """A task attempt's run: its callback manager, and the LangSmith context it replaced."""

    manager: Any
    handlers: Handlers
    """What its handlers are (read once, when the run starts)."""
    langsmith_context: dict[str, Any] | None = None
    """LangSmith's tracing context before the node's run became its parent, to restore."""
    tracers: tuple[Any, ...] = ()
    """The tracers told of the run apart, under the node's ``TracePolicy`` (``policy``)."""
    policy: Any = None

    def restore(self) -> None:
        if self.langsmith_context is not None:
            from langsmith.run_helpers import _set_tracing_context

            _set_tracing_context(self.langsmith_context)


def _enter(
    pad: TaskScratchpad,
    run_manager: Any,
    manager_class: Any,
    kinds: Handlers,
    tracers: tuple[Any, ...],
    policy: Any,
) -> NodeRun:
    """The node's code runs below its run: child runs get tag ``seq:step:1`` (as in LangGraph);
    a LangSmith tracer's run becomes the parent of ``@traceable`` calls in it."""
    config: dict[str, Any] = {k: v for k, v in pad.config.items() if k not in _CONSUMED}
    handlers, tags = run_manager.inheritable_handlers, run_manager.inheritable_tags
    config["callbacks"] = manager_class(
        handlers=list(handlers),
        inheritable_handlers=list(handlers),
        parent_run_id=run_manager.run_id,
        tags=[*tags, "seq:step:1"],
        inheritable_tags=list(tags),
        metadata=run_manager.inheritable_metadata,
        inheritable_metadata=run_manager.inheritable_metadata,
    )
    pad.config = config  # type: ignore[assignment]
    node = NodeRun(run_manager, kinds, None, tracers, policy)
    if kinds.tracers:
        node.langsmith_context = _langsmith_parent(run_manager, kinds.tracers)
    return node


def _langsmith_parent(run_manager: Any, tracers: tuple[Any, ...]) -> dict[str, Any] | None:
    """Make the node's run the parent of LangSmith ``@traceable`` calls in the node's code (when a
    LangSmith tracer follows the run); return the context to restore after."""
    for tracer in tracers:
        run = tracer.run_map.get(str(run_manager.run_id))
        if run is not None:
            from langsmith.run_helpers import _set_tracing_context, get_tracing_context

            previous = get_tracing_context()
            _set_tracing_context({"parent": run})
            return previous
    return None


def _inputs(task: Task) -> Any:
    """What the task's run shows as its inputs: a ``@task`` call's arguments by name."""
    call = task.node.func
    if not isinstance(call, CallOf):
        return task.input
    args, kwargs = task.input
    try:
        return dict(inspect.signature(call.func).bind(*args, **kwargs).arguments)
    except (TypeError, ValueError):  # no signature, or arguments it does not take
        return task.input


def start_node(task: Task, pad: TaskScratchpad) -> NodeRun | None:
    """Report the task's run as started; its code then runs with ``pad.config`` below it.

    None for hidden nodes (``START`` applying the input is no run in LangGraph's tree)."""
    if task.node.hidden:
        return None
    parent, tags, metadata = _node_fields(task, pad)
    kinds, inputs, policy = summarize(parent.handlers), _inputs(task), task.node.trace_policy
    handlers, tracers = split_tracers(parent.handlers, policy)
    if kinds.plain:
        run = start_chain(handlers, list(parent.inheritable_handlers),
                          parent.parent_run_id, tags, list(parent.inheritable_tags), metadata,
                          inputs, task.name)  # fmt: skip
    else:  # a handler langchain-core has to call
        manager = _node_manager(parent, handlers, tags, metadata, CallbackManager)
        run = manager.on_chain_start(None, inputs, name=task.name)
    run = start_for_tracers(run, tracers, policy, inputs, task.name)
    return _enter(pad, run, CallbackManager, kinds, tracers, policy)


async def astart_node(task: Task, pad: TaskScratchpad) -> NodeRun | None:
    """``start_node`` for the async driver (async handlers are awaited)."""
    if task.node.hidden:
        return None
    parent, tags, metadata = _node_fields(task, pad)
    inputs, policy = _inputs(task), task.node.trace_policy
    handlers, tracers = split_tracers(parent.handlers, policy)
    manager = _node_manager(parent, handlers, tags, metadata, AsyncCallbackManager)
    run = await manager.on_chain_start(None, inputs, name=task.name)
    run = start_for_tracers(run, tracers, policy, inputs, task.name)
    return _enter(pad, run, AsyncCallbackManager, summarize(parent.handlers), tracers, policy)


def end_node(node: NodeRun, output: Any) -> None:
    """Report the task's run as ended with the node's return value."""
    node.restore()
    for tap in node.handlers.taps:
        for _ in tap.tap_output_iter(node.manager.run_id, iter((output,))):
            pass
    manager = _untraced(node)
    if node.handlers.plain:
        end_chain(manager, output)
    else:
        manager.on_chain_end(output)
    if node.tracers:
        end_for_tracers(manager, node.tracers, node.policy, output)


async def aend_node(node: NodeRun, output: Any) -> None:
    """``end_node`` for the async driver."""
    node.restore()
    for tap in node.handlers.taps:
        async for _ in tap.tap_output_aiter(node.manager.run_id, _one(output)):
            pass
    manager = _untraced(node)
    await manager.on_chain_end(output)
    if node.tracers:
        end_for_tracers(manager, node.tracers, node.policy, output)


def _untraced(node: NodeRun) -> Any:
    """The run manager reporting the run's end with the real output: all handlers, but the
    tracers a ``TracePolicy`` tells apart."""
    if not node.tracers:
        return node.manager
    return with_handlers(node.manager, [h for h in node.manager.handlers if h not in node.tracers])


def fail_node(node: NodeRun, error: BaseException) -> None:
    """Report the task's run as failed (an error, or an interrupt)."""
    node.restore()
    node.manager.on_chain_error(error)


async def afail_node(node: NodeRun, error: BaseException) -> None:
    """``fail_node`` for the async driver."""
    node.restore()
    await node.manager.on_chain_error(error)


async def _one(value: Any) -> AsyncIterator[Any]:
    yield value


def subgraph_callbacks(config: Any, *, own_thread: bool = False) -> dict[str, Any]:
    """What a graph run inside a task gets of the task config's callbacks and tags: its run's
    children, when the run is traced (so the graph's run nests below the node's), minus the
    parent's ``messages`` and ``tools`` stream handlers (a subgraph streams through its own). A
    graph on a thread of its own (``own_thread``) keeps those of a parent streaming subgraphs."""
    callbacks = (config or {}).get("callbacks")
    if isinstance(callbacks, list):  # an untraced run: only its stream handlers are there
        kept = [h for h in callbacks if own_thread and is_stream_handler(h) and kept_by_child(h)]
        return {"callbacks": kept} if kept else {}
    if not isinstance(callbacks, BaseCallbackManager):
        return {}
    keep = kept_by_child if own_thread else (lambda h: not is_stream_handler(h))
    manager = callbacks.copy()
    for handler in {id(h): h for h in [*manager.handlers, *manager.inheritable_handlers]}.values():
        if not keep(handler):
            manager.remove_handler(handler)
    tags = config.get("tags")
    return {"callbacks": manager, "tags": list(tags)} if tags else {"callbacks": manager}
