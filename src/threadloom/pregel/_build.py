"""The low-level API: nodes built with ``NodeBuilder`` over named channels, turned into a ``Plan``.

A node subscribes to channels (it runs in the step after one of them gets a new value), reads
channels (its input: one channel's value, or a dict of several), calls what ``do`` gave it (each
callable is given the previous one's output) and writes its output to channels (``write_to``).
``lowlevel_plan`` checks the nodes and channels as LangGraph's ``Pregel(...)`` does and builds the
engine's ``Plan``; the engine runs it like any compiled graph.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Self

from threadloom.constants import ERROR, INPUT, INTERRUPT, NO_WRITES, RESUME, TASKS
from threadloom.engine.channels import MISSING, Channel, Topic
from threadloom.engine.inject import Injection
from threadloom.engine.plan import NodeSpec, Plan, TaskWriteContext
from threadloom.engine.timeouts import async_capable, require_async
from threadloom.errors import EmptyInputError, InvalidUpdateError
from threadloom.types import RetryPolicy, Send, TimeoutPolicy

__all__ = ["ChannelWriteEntry", "NodeBuilder", "PregelNode", "lowlevel_plan"]

_PASSTHROUGH: Any = object()
"""A write of the node's output itself."""

RESERVED_NAMES = frozenset({INPUT, INTERRUPT, RESUME, ERROR, NO_WRITES})
"""Names the engine writes to itself: no channel or node may take one."""


@dataclass(frozen=True, slots=True)
class ChannelWriteEntry:
    """One write a node makes after it ran: ``value`` (or its output), through ``mapper``."""

    channel: str
    value: Any = _PASSTHROUGH
    """What to write; by default the node's output."""
    skip_none: bool = False
    """Write nothing when the value is None."""
    mapper: Callable[[Any], Any] | None = None
    """Applied to the value before it is written."""


@dataclass(slots=True)
class PregelNode:
    """A built node: what it reads, what makes it run, what it calls and what it writes."""

    channels: str | list[str]
    """One channel (the node's input is its value) or several (a dict of the available ones)."""
    triggers: list[str]
    bound: list[Callable[..., Any]]
    """The callables ``do`` gave, called in order, each with the previous one's output."""
    writes: list[ChannelWriteEntry | Send]
    tags: list[str] = field(default_factory=list)
    metadata: dict[str, Any] = field(default_factory=dict)
    retry_policy: list[RetryPolicy] = field(default_factory=list)
    timeout: TimeoutPolicy | None = None


class NodeBuilder:
    """Builds a node of a low-level ``Pregel``, step by chained step (LangGraph's API)."""

    def __init__(self) -> None:
        self._channels: str | list[str] = []
        self._triggers: list[str] = []
        self._tags: list[str] = []
        self._metadata: dict[str, Any] = {}
        self._writes: list[ChannelWriteEntry | Send] = []
        self._bound: list[Callable[..., Any]] = []
        self._retry_policy: list[RetryPolicy] = []
        self._timeout: TimeoutPolicy | None = None

    def subscribe_only(self, channel: str) -> Self:
        """Run when ``channel`` changes; the node's input is its value."""
        if self._channels:
            raise ValueError(
                f"subscribe_only({channel!r}): the node already reads {self._channels!r}. "
                "A node reads either one channel (subscribe_only) or a dict of channels "
                "(subscribe_to, read_from): use subscribe_to for several."
            )
        self._channels = channel
        self._triggers.append(channel)
        return self

    def subscribe_to(self, *channels: str, read: bool = True) -> Self:
        """Run when any of ``channels`` changes; with ``read``, they are part of the input dict."""
        if isinstance(self._channels, str):
            raise ValueError(
                f"subscribe_to{channels!r}: the node reads the single channel "
                f"{self._channels!r} (subscribe_only). Use subscribe_to for every channel."
            )
        if read:
            self._channels.extend(channels)
        self._triggers.extend(channels)
        return self

    def read_from(self, *channels: str) -> Self:
        """Add ``channels`` to the input dict without running when they change."""
        if isinstance(self._channels, str):
            raise ValueError(
                f"read_from{channels!r}: the node reads the single channel {self._channels!r} "
                "(subscribe_only). Use subscribe_to to read a dict of channels."
            )
        self._channels.extend(channels)
        return self

    def do(self, node: Any) -> Self:
        """Call ``node`` (a function, a runnable, a compiled graph) on the input, or on the
        output of the previous ``do``."""
        self._bound.append(node)
        return self

    def write_to(self, *channels: str | ChannelWriteEntry | Send, **kwargs: Any) -> Self:
        """Write the output to ``channels``; ``name=value`` writes a value, ``name=callable``
        the callable's result on the output."""
        for chan in channels:
            self._writes.append(ChannelWriteEntry(chan) if isinstance(chan, str) else chan)
        for name, value in kwargs.items():
            if callable(value):
                self._writes.append(ChannelWriteEntry(name, mapper=value))
            else:
                self._writes.append(ChannelWriteEntry(name, value=value))
        return self

    def meta(self, *tags: str, **metadata: Any) -> Self:
        """Add tags and metadata to the node."""
        self._tags.extend(tags)
        self._metadata.update(metadata)
        return self

    def add_retry_policies(self, *policies: RetryPolicy) -> Self:
        """Retry the node as the first matching policy says."""
        self._retry_policy.extend(policies)
        return self

    def add_cache_policy(self, policy: Any) -> Self:
        """Not supported yet: raises ``UnsupportedParameterError``."""
        from threadloom.graph._unsupported import refuse_unsupported

        refuse_unsupported("NodeBuilder.add_cache_policy", policy=policy)
        return self

    def set_timeout(self, timeout: Any) -> Self:
        """Bound each attempt of the node (seconds, a ``timedelta`` or a ``TimeoutPolicy``)."""
        self._timeout = TimeoutPolicy.coerce(timeout)
        return self

    def build(self) -> PregelNode:
        """The node, as ``Pregel(nodes=...)`` takes it."""
        channels = self._channels if isinstance(self._channels, str) else list(self._channels)
        return PregelNode(
            channels=channels,
            triggers=list(self._triggers),
            bound=list(self._bound),
            writes=list(self._writes),
            tags=list(self._tags),
            metadata=dict(self._metadata),
            retry_policy=list(self._retry_policy),
            timeout=self._timeout,
        )


# --- the plan -----------------------------------------------------------------------------------


def _known(channels: Mapping[str, Any]) -> str:
    return repr(sorted(channels))[:100]


def validate(
    nodes: Mapping[str, PregelNode],
    channels: Mapping[str, Channel],
    input_channels: str | Sequence[str],
    output_channels: str | Sequence[str],
    stream_channels: str | Sequence[str] | None,
    interrupt_nodes: Sequence[Any],
) -> None:
    """LangGraph's checks of a low-level graph, with messages that say what is known."""
    for chan in channels:
        if chan in RESERVED_NAMES:
            raise ValueError(f"Channel name '{chan}' is reserved")
    subscribed: set[str] = set()
    for name, node in nodes.items():
        if name in RESERVED_NAMES:
            raise ValueError(f"Node name '{name}' is reserved")
        if not isinstance(node, PregelNode):
            raise TypeError(f"Invalid node type {type(node)}, expected PregelNode or NodeBuilder")
        subscribed.update(node.triggers)
        for chan in [node.channels] if isinstance(node.channels, str) else node.channels:
            if chan not in channels:
                raise ValueError(
                    f"Node {name} reads channel '{chan}' not in known channels: "
                    f"'{_known(channels)}'"
                )
    for chan in subscribed:
        if chan not in channels:
            raise ValueError(
                f"Subscribed channel '{chan}' not in known channels: '{_known(channels)}'"
            )
    inputs = [input_channels] if isinstance(input_channels, str) else list(input_channels)
    for chan in inputs:
        if chan not in channels:
            raise ValueError(f"Input channel '{chan}' not in known channels: '{_known(channels)}'")
    if all(chan not in subscribed for chan in inputs):
        raise ValueError(f"None of the input channels {inputs} are subscribed to by any node")
    outputs = [output_channels] if isinstance(output_channels, str) else list(output_channels)
    if stream_channels is not None:
        outputs += [stream_channels] if isinstance(stream_channels, str) else stream_channels
    for chan in outputs:
        if chan not in channels:
            raise ValueError(f"Output channel '{chan}' not in known channels: '{_known(channels)}'")
    for name in interrupt_nodes:
        if name != "*" and name not in nodes:
            raise ValueError(f"Node {name} not in nodes")


def _reader(node: PregelNode) -> Callable[[Mapping[str, Channel]], Any]:
    chans = node.channels
    if isinstance(chans, str):
        key = chans
        return lambda channels: channels[key].get() if channels[key].is_available() else None
    keys = tuple(chans)
    return lambda channels: {k: channels[k].get() for k in keys if channels[k].is_available()}


def _writer(node: PregelNode) -> Callable[[Any, TaskWriteContext], list[tuple[str, Any]]]:
    entries = tuple(node.writes)

    def write(output: Any, ctx: TaskWriteContext) -> list[tuple[str, Any]]:
        writes: list[tuple[str, Any]] = []
        for entry in entries:
            if isinstance(entry, Send):
                writes.append((TASKS, entry))
                continue
            if entry.channel == TASKS:
                raise InvalidUpdateError(
                    f"A node wrote to the reserved channel {TASKS!r}: return Send objects "
                    "(or write_to(Send(...))) to start tasks."
                )
            value = output if entry.value is _PASSTHROUGH else entry.value
            if entry.mapper is not None:
                value = entry.mapper(value)
            if entry.skip_none and value is None:
                continue
            writes.append((entry.channel, value))
        return writes

    return write


def _node_callables(
    name: str, bound: Sequence[Any]
) -> tuple[Callable[..., Any], Any, tuple[Injection, ...]]:
    """One sync callable (and an async one) calling each of ``bound`` on the previous output."""
    from threadloom.graph._compile import node_callables  # the graph API's rule for a node

    steps = [node_callables(name, target) for target in bound]
    if not steps:
        return _identity, None, ()
    if len(steps) == 1:
        return steps[0]
    wanted = {inj.name: inj for _, _, injections in steps for inj in injections}
    names = [frozenset(inj.name for inj in injections) for _, _, injections in steps]

    def chain(value: Any, **kwargs: Any) -> Any:
        for (func, _, _), own in zip(steps, names, strict=True):
            value = func(value, **{k: v for k, v in kwargs.items() if k in own})
        return value

    async def achain(value: Any, **kwargs: Any) -> Any:
        for (func, afunc, _), own in zip(steps, names, strict=True):
            mine = {k: v for k, v in kwargs.items() if k in own}
            value = await afunc(value, **mine) if afunc is not None else func(value, **mine)
            if inspect.isawaitable(value):
                value = await value
        return value

    return chain, achain, tuple(wanted.values())


def _identity(value: Any) -> Any:
    return value


def _input_writes(input_channels: str | Sequence[str]) -> Callable[[Any], list[tuple[str, Any]]]:
    if isinstance(input_channels, str):
        single = input_channels
        return lambda value: [(single, value)]
    keys = tuple(input_channels)

    def writes(value: Any) -> list[tuple[str, Any]]:
        if not isinstance(value, dict):
            raise TypeError(
                f"Expected input to be a dict with keys among {list(keys)!r}, got {value!r}"
            )
        found = [(k, value[k]) for k in keys if k in value]
        if not found:
            raise EmptyInputError(f"Received no input for {list(keys)!r}")
        return found

    return writes


def lowlevel_plan(
    nodes: Mapping[str, PregelNode | NodeBuilder],
    channels: Mapping[str, Channel] | None,
    *,
    input_channels: str | Sequence[str],
    output_channels: str | Sequence[str],
    stream_channels: str | Sequence[str] | None = None,
    interrupt_before_nodes: Any = (),
    interrupt_after_nodes: Any = (),
    retry_policy: RetryPolicy | Sequence[RetryPolicy] = (),
    auto_validate: bool = True,
    checkpointer: Any = None,
    store: Any = None,
    context_schema: Any = None,
    name: str = "LangGraph",
) -> tuple[Plan, dict[str, tuple[Injection, ...]]]:
    """The engine's plan of a ``Pregel(nodes=..., channels=..., ...)`` call."""
    built = {k: v.build() if isinstance(v, NodeBuilder) else v for k, v in nodes.items()}
    given = dict(channels or {})
    if TASKS in given and not isinstance(given[TASKS], Topic):
        raise ValueError(f"Channel '{TASKS}' is reserved and cannot be used in the graph.")
    given.pop(TASKS, None)
    if auto_validate:
        interrupts = [
            *([] if interrupt_before_nodes == "*" else interrupt_before_nodes),
            *([] if interrupt_after_nodes == "*" else interrupt_after_nodes),
        ]
        validate(built, given, input_channels, output_channels, stream_channels, interrupts)
    plan_channels: dict[str, Channel] = {}
    for key, proto in given.items():
        channel = proto.from_checkpoint(MISSING)  # the caller's instance stays unused
        channel.key = key
        plan_channels[key] = channel
    plan_channels[TASKS] = Topic(Send, key=TASKS)
    default_retry = (retry_policy,) if isinstance(retry_policy, RetryPolicy) else retry_policy
    specs: dict[str, NodeSpec] = {}
    injections: dict[str, tuple[Injection, ...]] = {}
    for node_name, node in built.items():
        if node.timeout is not None:
            require_async(node_name, all(async_capable(b) for b in node.bound), node.timeout)
        func, afunc, wanted = _node_callables(node_name, node.bound)
        subgraph = next((b for b in node.bound if _is_graph(b)), None)
        specs[node_name] = NodeSpec(
            name=node_name,
            triggers=tuple(node.triggers),
            read=_reader(node),
            func=func,
            afunc=afunc,
            write=_writer(node),
            retry_policy=tuple(node.retry_policy or default_retry),
            metadata=dict(node.metadata),
            subgraph=subgraph,
            timeout=node.timeout,
        )
        injections[node_name] = wanted
    trigger_to_nodes: dict[str, list[str]] = {}
    for node_name, spec in specs.items():
        for trigger in spec.triggers:
            trigger_to_nodes.setdefault(trigger, []).append(node_name)
    streamed = stream_channels if stream_channels is not None else list(given)
    plan = Plan(
        nodes=specs,
        channels=plan_channels,
        input_channel=input_channels if isinstance(input_channels, str) else INPUT,
        output_channels=output_channels,
        stream_channels=streamed,
        trigger_to_nodes={k: tuple(v) for k, v in trigger_to_nodes.items()},
        update_writers={k: spec.write for k, spec in specs.items()},
        name=name,
        store=store,
        checkpointer=checkpointer,
        interrupt_before=interrupt_before_nodes,
        interrupt_after=interrupt_after_nodes,
        context_schema=context_schema,
        input_writes=_input_writes(input_channels),
        invoke_keys=output_channels,
    )
    return plan, injections


def _is_graph(target: Any) -> bool:
    from threadloom.engine.pregel import Pregel

    return isinstance(target, Pregel)


def lowlevel_pregel(
    *,
    nodes: Mapping[str, PregelNode | NodeBuilder],
    channels: Mapping[str, Channel] | None,
    input_channels: str | Sequence[str],
    output_channels: str | Sequence[str],
    stream_channels: str | Sequence[str] | None = None,
    auto_validate: bool = True,
    stream_mode: str = "values",
    stream_eager: bool = False,
    interrupt_after_nodes: Any = (),
    interrupt_before_nodes: Any = (),
    step_timeout: float | None = None,
    debug: bool | None = None,
    checkpointer: Any = None,
    store: Any = None,
    cache: Any = None,
    retry_policy: RetryPolicy | Sequence[RetryPolicy] = (),
    cache_policy: Any = None,
    context_schema: Any = None,
    trigger_to_nodes: Mapping[str, Sequence[str]] | None = None,
    node_error_handler_map: Mapping[str, str] | None = None,
    name: str = "LangGraph",
    config_type: Any = None,
) -> tuple[Plan, dict[str, tuple[Injection, ...]], str, float | None]:
    """LangGraph's ``Pregel(...)`` arguments as the engine's plan, the node injections, the
    default stream mode and the step timeout. ``stream_eager``, ``debug`` and
    ``trigger_to_nodes`` (computed here) change nothing; the rest not built yet raise."""
    from threadloom.engine._checks import check_backend
    from threadloom.graph._unsupported import refuse_unsupported
    from threadloom.warnings import LangGraphDeprecatedSinceV10, warn_renamed

    if config_type is not None:
        warn_renamed("config_type", "context_schema", LangGraphDeprecatedSinceV10, stacklevel=4)

    refuse_unsupported(
        "Pregel",
        cache=cache,
        cache_policy=cache_policy,
        node_error_handler_map=node_error_handler_map or None,
    )
    check_backend(checkpointer, "checkpointer", "Pregel")
    check_backend(store, "store", "Pregel")
    plan, injections = lowlevel_plan(
        nodes,
        channels,
        input_channels=input_channels,
        output_channels=output_channels,
        stream_channels=stream_channels,
        interrupt_before_nodes=interrupt_before_nodes,
        interrupt_after_nodes=interrupt_after_nodes,
        retry_policy=retry_policy,
        auto_validate=auto_validate,
        checkpointer=checkpointer,
        store=store,
        context_schema=context_schema if context_schema is not None else config_type,
        name=name,
    )
    return plan, injections, stream_mode, step_timeout
