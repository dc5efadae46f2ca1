"""What a compiled graph is to the engine: nodes with triggers, channels, input and output mapping.

Both the graph API (``StateGraph.compile``) and the functional API (``@entrypoint``) compile down to
a ``Plan``; the engine runs plans and knows nothing about builders, schemas or decorators.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from threadloom.constants import (
    CONTROL_CHANNELS,
    ERROR,
    INTERRUPT,
    NO_WRITES,
    RESUME,
    RETURN,
)
from threadloom.engine.channels import Channel, UntrackedValue
from threadloom.types import RetryPolicy, TimeoutPolicy

__all__ = ["NodeSpec", "Plan", "Reader", "WriteFn"]

Reader = Callable[[], Any]
"""Reads the node's input state with the task's own writes applied (for conditional edges)."""

WriteFn = Callable[[Any, "TaskWriteContext"], list[tuple[str, Any]]]
"""Turns a node's return value into channel writes (state updates, edges, branches, Sends)."""


class TaskWriteContext(NamedTuple):
    """What a node's writer may look at while turning its output into writes.

    A named tuple: every task makes one, and ``tuple.__new__`` builds it without a Python call
    (``engine/tasks.py``)."""

    channels: Mapping[str, Channel]
    """The step-start channels (never changed here)."""
    node: NodeSpec
    config: Any
    """The task's config, passed to conditional edge functions that ask for it."""
    managed_at: tuple[int, int] | None = None
    """The task's ``(step, stop)``: conditional edges see the managed keys the node saw."""

    def fresh_state(self, writes: list[tuple[str, Any]]) -> Any:
        """The node's input state with ``writes`` applied on top of the step-start state."""
        local = dict(self.channels)
        grouped: dict[str, list[Any]] = {}
        for chan, value in writes:
            if chan in local:
                grouped.setdefault(chan, []).append(value)
        for chan, values in grouped.items():
            copy = local[chan].copy()
            copy.update(values)
            local[chan] = copy
        state = self.node.read(local)
        if self.node.managed is not None and self.managed_at is not None:
            state = self.node.managed(state, *self.managed_at)
        return state


@dataclass(slots=True)
class NodeSpec:
    """One node: when it runs, what it reads, what it calls and how its output becomes writes."""

    name: str
    triggers: tuple[str, ...]
    """Channels whose new versions make the node run (edges, branches, joins)."""
    read: Callable[[Mapping[str, Channel]], Any]
    """Builds the node's input from the channels as of the step start."""
    func: Callable[..., Any]
    """The node itself: called with the input and the injected keyword arguments."""
    afunc: Callable[..., Awaitable[Any]] | None
    """An async version, when the node is a coroutine function."""
    write: WriteFn
    """Output → writes; raises ``InvalidUpdateError`` for outputs of the wrong shape."""
    retry_policy: Sequence[RetryPolicy] = ()
    hidden: bool = False
    """Hidden nodes (START) emit no stream chunks and cannot be interrupted."""
    metadata: dict[str, Any] = field(default_factory=dict)
    push_read: Callable[[Any], Any] | None = None
    """How a ``Send`` argument becomes the node's input (defaults to the argument itself)."""
    subgraph: Any = None
    """The compiled graph this node runs (the node itself, or one its function names), if any."""
    managed: Callable[[Any, int, int], Any] | None = None
    """Adds managed state keys (``threadloom.managed``) to the input: ``(input, step, stop)``."""
    timeout: TimeoutPolicy | None = None
    """Bounds each attempt (async nodes only); see ``engine/timeouts.py``."""
    error_handler: str | None = None
    """The node that runs instead of the failed task's successors when this node fails."""
    cache: Any = None
    """How its tasks are cached (an ``engine.caching.CacheSpec``), or None: never."""
    trace_policy: Any = None
    """What tracers record of its runs (a ``TracePolicy``: ``engine/trace_policy.py``)."""
    bound: Any = None
    """What ``add_node`` was given (LangGraph's ``PregelNode.bound``)."""

    @property
    def subgraphs(self) -> list[Any]:
        """The graphs this node runs (LangGraph's ``PregelNode.subgraphs``): none or one."""
        return [] if self.subgraph is None else [self.subgraph]

    def invoke(self, input: Any, config: Any = None, **kwargs: Any) -> Any:
        """Run what the node runs on ``input``, outside any graph run (``PregelNode.invoke``)."""
        return _runnable(self.bound).invoke(input, config, **kwargs)

    async def ainvoke(self, input: Any, config: Any = None, **kwargs: Any) -> Any:
        """Async ``invoke``."""
        return await _runnable(self.bound).ainvoke(input, config, **kwargs)


def _runnable(target: Any) -> Any:
    """A node's object as a runnable (a function as a ``RunnableLambda``)."""
    from langchain_core.runnables import Runnable, RunnableLambda

    return target if isinstance(target, Runnable) else RunnableLambda(target)


IGNORED_ON_APPLY = CONTROL_CHANNELS | {NO_WRITES, RETURN, RESUME, INTERRUPT, ERROR}
"""Writes that applying a step leaves out (the run reads them from a task's outcome)."""


@dataclass(slots=True)
class Plan:
    """Everything the engine needs to run a graph."""

    nodes: dict[str, NodeSpec]
    channels: dict[str, Channel]
    """Prototype (empty) channels, by name; each run restores its own copies."""
    input_channel: str
    """The channel that receives the raw input (``__start__``)."""
    output_channels: str | Sequence[str]
    """A name for a single-value output (functional API), else the keys returned by invoke."""
    stream_channels: str | Sequence[str]
    """What ``values`` chunks and ``updates`` entries include."""
    trigger_to_nodes: dict[str, tuple[str, ...]]
    """Which nodes each trigger channel may start: only those are checked after a write."""
    map_update: Callable[[str, Any], list[tuple[str, Any]]] | None = None
    """``update_state``: turns values written as node ``as_node`` into channel writes."""
    name: str = "LangGraph"
    is_functional: bool = False
    store: Any = None
    checkpointer: Any = None
    interrupt_before: Sequence[str] | str = ()
    interrupt_after: Sequence[str] | str = ()
    context_schema: Any = None
    allowed_types: tuple[type, ...] = ()
    """Types reachable from the schemas, given to the saver's allow-list at compile time."""
    update_writers: dict[str, Callable[[Any, TaskWriteContext], list[tuple[str, Any]]]] = field(
        default_factory=dict
    )
    """Per node: how ``update_state(values, as_node=node)`` values become writes."""
    update_awriters: dict[str, Callable[[Any, TaskWriteContext], Awaitable[Any]]] = field(
        default_factory=dict
    )
    """Per node whose writes need async code (a graph node's async routers): how
    ``aupdate_state`` values become writes (``update_state`` uses ``update_writers``)."""
    input_writes: Callable[[Any], list[tuple[str, Any]]] | None = None
    """How a run's input becomes writes (a low-level ``Pregel``'s input channels); None: the
    whole input is written to ``input_channel``."""
    invoke_keys: str | Sequence[str] | None = None
    """What ``invoke``'s values read (a low-level ``Pregel``'s output channels); None: the
    ``stream_channels``, filtered by ``output_channels``."""
    output_class: Any = None
    """A pydantic or dataclass output schema: ``version="v2"`` outputs are built as it."""
    state_class: Any = None
    """A pydantic or dataclass state schema: ``version="v2"`` checkpoint values are built as it."""
    input_keys: frozenset[str] | None = None
    """Keys an input dict may hold (others are dropped, with a warning); None: not checked."""
    state_keys: frozenset[str] | None = None
    """Keys ``update_state`` values may hold (others are dropped, with a warning)."""
    ephemeral: frozenset[str] = frozenset()
    """Channels that may change on a step without writes (triggers, input, Send packets)."""
    deferred: frozenset[str] = frozenset()
    """Channels that may change when the run would otherwise finish (deferred triggers)."""
    consumable: frozenset[str] = frozenset()
    """Channels that may change when the node they trigger runs (joins, deferred triggers)."""
    untracked: frozenset[str] = frozenset()
    """``UntrackedValue`` channels: their writes are never saved (``engine/channels.py``)."""
    applied: frozenset[str] = frozenset()
    """Channels a task's write goes to when a step is applied (not the control ones)."""

    cache: Any = None
    """The node cache (a ``threadloom.cache.BaseCache``) given to compile, if any."""
    cache_policy: Any = None
    """The default ``CachePolicy`` of nodes and tasks that have none (``@entrypoint``)."""

    start_routes: bool = False
    """START has conditional edges: its task (step 0 of a run with input) runs user code, so the
    input checkpoint is saved before it (``engine/saves.py``)."""
    has_subgraphs: bool = False
    """Some node runs a compiled graph: runs then hand their saver and store down."""

    pull_path_strs: dict[str, str] = field(default_factory=dict)
    sorted_triggers: dict[str, tuple[str, ...]] = field(default_factory=dict)
    """Each node's triggers in the order task ids hash them."""
    """Each node's edge-triggered task path as a sort key (the same for every step)."""

    def write_input(self, value: Any) -> list[tuple[str, Any]]:
        """The writes a run's input makes."""
        if self.input_writes is not None:
            return self.input_writes(value)
        return [(self.input_channel, value)]

    def __post_init__(self) -> None:
        from threadloom.engine.ids import task_path_str

        self.pull_path_strs = {name: task_path_str(("__pregel_pull", name)) for name in self.nodes}
        self.sorted_triggers = {name: tuple(sorted(n.triggers)) for name, n in self.nodes.items()}
        # each trigger's nodes by name, once: the order a step's triggered nodes run in
        self.trigger_to_nodes = {k: tuple(sorted(set(v))) for k, v in self.trigger_to_nodes.items()}
        self.has_subgraphs = any(node.subgraph is not None for node in self.nodes.values())
        self.applied = frozenset(self.channels) - IGNORED_ON_APPLY
        channels = self.channels.items()
        self.ephemeral = frozenset(name for name, ch in channels if ch.clears_when_idle)
        self.deferred = frozenset(name for name, ch in channels if ch.finishes)
        self.consumable = frozenset(name for name, ch in channels if ch.consumes)
        self.untracked = frozenset(name for name, ch in channels if isinstance(ch, UntrackedValue))
