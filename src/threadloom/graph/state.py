"""``StateGraph``: build a graph of nodes over a shared state, then ``compile`` it into a ``Plan``.

The builder checks names and edges as they are added; ``compile`` checks the whole graph, turns
each state key into a channel, each edge into a trigger channel and each node into a ``NodeSpec``
whose writer turns the node's return value into channel writes.
"""

from __future__ import annotations

import inspect
import logging
import warnings
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar, get_args, get_origin, get_type_hints

from threadloom.constants import END, START, TASKS
from threadloom.engine.channels import (
    Channel,
    EphemeralValue,
    LastValueAfterFinish,
    NamedBarrierValue,
    Topic,
)
from threadloom.engine.inject import Injection, injections_for
from threadloom.engine.plan import NodeSpec, Plan, TaskWriteContext
from threadloom.engine.pregel import Pregel
from threadloom.errors import InvalidUpdateError, ParentCommand
from threadloom.graph._schema import (
    SchemaInfo,
    channels_for,
    collect_types,
    has_keys,
    schema_info,
    update_pairs,
)
from threadloom.types import Command, RetryPolicy, Send

__all__ = ["CompiledStateGraph", "StateGraph"]

log = logging.getLogger("threadloom")

StateT = TypeVar("StateT")


class UnknownBranchTargetError(InvalidUpdateError, KeyError):
    """A conditional edge chose a node that does not exist (also a KeyError, as in LangGraph)."""

    def __str__(self) -> str:
        return str(self.args[0])


@dataclass(slots=True)
class _Node:
    name: str
    func: Callable[..., Any]
    input_schema: Any
    retry_policy: tuple[RetryPolicy, ...]
    defer: bool
    metadata: dict[str, Any]
    destinations: tuple[str, ...]


@dataclass(slots=True)
class _Branch:
    name: str
    path: Callable[..., Any]
    path_map: dict[Hashable, str] | None
    wants_config: bool


def _node_name(node: Any) -> str:
    get_name = getattr(node, "get_name", None)
    if callable(get_name):
        return str(get_name())
    name = getattr(node, "__name__", None)
    if name is None:
        name = getattr(getattr(node, "func", None), "__name__", None) or type(node).__name__
    return str(name)


def _first_param_schema(func: Callable[..., Any]) -> Any:
    try:
        params = list(inspect.signature(func).parameters.values())
        hints = get_type_hints(func)
    except Exception:
        return None
    if not params:
        return None
    hint = hints.get(params[0].name)
    return hint if hint is not None and has_keys(hint) else None


class StateGraph(Generic[StateT]):
    """A graph whose nodes read and update a shared state described by ``state_schema``."""

    def __init__(
        self,
        state_schema: Any,
        context_schema: Any = None,
        *,
        input_schema: Any = None,
        output_schema: Any = None,
        **kwargs: Any,
    ) -> None:
        if "config_schema" in kwargs:
            warnings.warn("config_schema is deprecated, use context_schema", stacklevel=2)
            context_schema = context_schema or kwargs.pop("config_schema")
        if "input" in kwargs:
            warnings.warn("input is deprecated, use input_schema", stacklevel=2)
            input_schema = input_schema or kwargs.pop("input")
        if "output" in kwargs:
            warnings.warn("output is deprecated, use output_schema", stacklevel=2)
            output_schema = output_schema or kwargs.pop("output")
        if kwargs:
            raise TypeError(f"StateGraph() got unexpected arguments {sorted(kwargs)!r}")
        self.state_schema = state_schema
        self.context_schema = context_schema
        self.input_schema = input_schema or state_schema
        self.output_schema = output_schema or state_schema
        self.nodes: dict[str, _Node] = {}
        self.edges: set[tuple[str, str]] = set()
        self.waiting_edges: set[tuple[tuple[str, ...], str]] = set()
        self.branches: dict[str, dict[str, _Branch]] = {}
        self.compiled = False
        channels_for([state_schema, self.input_schema, self.output_schema])  # fail early

    # --- nodes -----------------------------------------------------------------------------------

    def add_node(
        self,
        node: Any,
        action: Any = None,
        *,
        defer: bool = False,
        metadata: dict[str, Any] | None = None,
        input_schema: Any = None,
        retry_policy: RetryPolicy | Sequence[RetryPolicy] | None = None,
        destinations: dict[str, str] | tuple[str, ...] | None = None,
        **kwargs: Any,
    ) -> StateGraph[StateT]:
        """Add a node: ``add_node(func)`` (named after the function) or ``add_node(name, func)``."""
        retry_policy = retry_policy if retry_policy is not None else kwargs.pop("retry", None)
        input_schema = input_schema if input_schema is not None else kwargs.pop("input", None)
        kwargs.pop("cache_policy", None)
        if isinstance(node, str):
            name, func = node, action
            if func is None:
                raise ValueError(f"add_node({name!r}) needs the node's function as second argument")
        else:
            name, func = _node_name(node), node
        if self.compiled:
            log.warning("Adding a node to a graph that has already been compiled.")
        if name in (START, END):
            raise ValueError(f"Node `{name}` is reserved.")
        for char in ("|", ":"):
            if char in name:
                raise ValueError(
                    f"'{char}' is a reserved character and is not allowed in the node names."
                )
        if name in self.nodes:
            raise ValueError(f"Node `{name}` already present.")
        if isinstance(retry_policy, RetryPolicy):
            policies: tuple[RetryPolicy, ...] = (retry_policy,)
        else:
            policies = tuple(retry_policy or ())
        schema = input_schema or _first_param_schema(func) or self.state_schema
        dests = tuple(destinations) if destinations else self._command_destinations(func)
        self.nodes[name] = _Node(name, func, schema, policies, defer, metadata or {}, dests)
        return self

    @staticmethod
    def _command_destinations(func: Any) -> tuple[str, ...]:
        try:
            hint = get_type_hints(func).get("return")
        except Exception:
            return ()
        found: list[str] = []
        for part in get_args(hint) if get_origin(hint) is not Command else (hint,):
            if get_origin(part) is Command:
                for lit in get_args(part):
                    found.extend(str(a) for a in get_args(lit))
        return tuple(found)

    def add_sequence(self, nodes: Sequence[Any]) -> StateGraph[StateT]:
        """Add nodes chained by edges, in order."""
        if not nodes:
            raise ValueError("Sequence requires at least one node.")
        previous: str | None = None
        for item in nodes:
            if isinstance(item, tuple):
                name, func = item
            else:
                name, func = _node_name(item), item
            if name in self.nodes:
                raise ValueError(
                    f"Node names must be unique: node with the name '{name}' already exists. "
                    "If you need to use two different runnables/callables with the same name "
                    "(for example, using `lambda`), please provide them as tuples (name, callable)"
                )
            self.add_node(name, func)
            if previous is not None:
                self.add_edge(previous, name)
            previous = name
        return self

    # --- edges -----------------------------------------------------------------------------------

    def add_edge(self, start_key: str | list[str], end_key: str) -> StateGraph[StateT]:
        """Run ``end_key`` after ``start_key`` (or after all of a list of nodes: a join)."""
        if self.compiled:
            log.warning("Adding an edge to a graph that has already been compiled.")
        if isinstance(start_key, str):
            if start_key == END:
                raise ValueError("END cannot be a start node")
            if end_key == START:
                raise ValueError("START cannot be an end node")
            self.edges.add((start_key, end_key))
            return self
        for start in start_key:
            if start == END:
                raise ValueError("END cannot be a start node")
            if start not in self.nodes and start != START:
                raise ValueError(f"Need to add_node `{start}` first")
        if end_key == START:
            raise ValueError("START cannot be an end node")
        if end_key != END and end_key not in self.nodes:
            raise ValueError(f"Need to add_node `{end_key}` first")
        self.waiting_edges.add((tuple(start_key), end_key))
        return self

    def add_conditional_edges(
        self,
        source: str,
        path: Callable[..., Any],
        path_map: dict[Hashable, str] | list[str] | None = None,
    ) -> StateGraph[StateT]:
        """After ``source``, run the nodes ``path(state)`` names (or the ``Send``s it returns)."""
        func: Callable[..., Any] = path if callable(path) else path.invoke
        name = _node_name(path)
        if name == "<lambda>":
            name = "condition"
        if name in self.branches.get(source, {}):
            raise ValueError(f"Branch with name `{name}` already exists for node `{source}`")
        if isinstance(path_map, list):
            mapping: dict[Hashable, str] | None = {p: p for p in path_map}
        elif isinstance(path_map, dict):
            mapping = dict(path_map)
        else:
            mapping = None  # names are checked against the graph's nodes when the branch runs
        wants_config = any(i.name == "config" for i in injections_for(path))
        self.branches.setdefault(source, {})[name] = _Branch(name, func, mapping, wants_config)
        return self

    def set_entry_point(self, key: str) -> StateGraph[StateT]:
        """Same as ``add_edge(START, key)``."""
        return self.add_edge(START, key)

    def set_conditional_entry_point(
        self, path: Callable[..., Any], path_map: dict[Hashable, str] | list[str] | None = None
    ) -> StateGraph[StateT]:
        """Same as ``add_conditional_edges(START, path, path_map)``."""
        return self.add_conditional_edges(START, path, path_map)

    def set_finish_point(self, key: str) -> StateGraph[StateT]:
        """Same as ``add_edge(key, END)``."""
        return self.add_edge(key, END)

    # --- compile ---------------------------------------------------------------------------------

    def validate(self, interrupt: Sequence[str] = ()) -> None:
        """Check that every edge and branch names known nodes and the graph has an entry."""
        sources = {s for s, _ in self.edges} | {
            s for starts, _ in self.waiting_edges for s in starts
        }
        sources |= set(self.branches)
        if START not in sources:
            raise ValueError(
                "Graph must have an entrypoint: add at least one edge from START to another node"
            )
        for source in sources:
            if source != START and source not in self.nodes:
                raise ValueError(f"Found edge starting at unknown node '{source}'")
        for _, target in self.edges:
            if target != END and target not in self.nodes:
                raise ValueError(f"Found edge ending at unknown node `{target}`")
        for source, branches in self.branches.items():
            for branch in branches.values():
                for target in (branch.path_map or {}).values():
                    if target != END and target not in self.nodes:
                        raise ValueError(
                            f"At '{source}' node, '{branch.name}' branch found unknown target "
                            f"'{target}'"
                        )
        for name in interrupt:
            if name != "*" and name not in self.nodes:
                raise ValueError(f"Interrupt node `{name}` not found")

    def compile(
        self,
        checkpointer: Any = None,
        *,
        cache: Any = None,
        store: Any = None,
        interrupt_before: Any = None,
        interrupt_after: Any = None,
        debug: bool = False,
        name: str | None = None,
        **kwargs: Any,
    ) -> CompiledStateGraph:
        """Check the graph and turn it into a runnable ``CompiledStateGraph``."""
        from threadloom.checkpoint.base import BaseCheckpointSaver

        if checkpointer is not None and not isinstance(checkpointer, bool | BaseCheckpointSaver):
            raise TypeError(
                "Invalid checkpointer provided. Expected an instance of `BaseCheckpointSaver`, "
                f"`True`, `False`, or `None`. Received {type(checkpointer).__name__}. "
                "Pass a saver such as InMemorySaver() or SqliteSaver, or leave it out."
            )
        before = interrupt_before or ()
        after = interrupt_after or ()
        self.validate([*([] if before == "*" else before), *([] if after == "*" else after)])
        self.compiled = True
        plan, injections = _Compiler(self).plan()
        plan.checkpointer = checkpointer
        plan.store = store
        plan.interrupt_before = before
        plan.interrupt_after = after
        plan.name = name or "LangGraph"
        return CompiledStateGraph(plan, injections=injections, builder=self)


class CompiledStateGraph(Pregel):
    """A compiled ``StateGraph``: run it with invoke/stream, inspect threads with get_state."""

    def __init__(
        self, plan: Plan, *, injections: dict[str, tuple[Injection, ...]], builder: StateGraph[Any]
    ) -> None:
        super().__init__(plan, injections=injections)
        self.builder = builder


class _Compiler:
    """Turns a validated builder into a Plan."""

    def __init__(self, builder: StateGraph[Any]) -> None:
        self.b = builder
        self.state = schema_info(builder.state_schema)
        self.input = schema_info(builder.input_schema)
        self.output = schema_info(builder.output_schema)
        node_schemas = [n.input_schema for n in builder.nodes.values()]
        self.state_channels = channels_for(
            [builder.state_schema, builder.output_schema, builder.input_schema, *node_schemas]
        )

    def plan(self) -> tuple[Plan, dict[str, tuple[Injection, ...]]]:
        b = self.b
        channels: dict[str, Channel] = dict(self.state_channels)
        channels[START] = EphemeralValue(START)
        channels[TASKS] = Topic(TASKS)
        for name, node in b.nodes.items():
            key = f"branch:to:{name}"
            channels[key] = LastValueAfterFinish(key) if node.defer else EphemeralValue(key, False)
        joins: dict[str, list[tuple[str, str]]] = {}
        for starts, end in b.waiting_edges:
            key = f"join:{'+'.join(starts)}:{end}"
            channels[key] = NamedBarrierValue(key, frozenset(starts))
            for start in starts:
                joins.setdefault(start, []).append((key, start))
        nodes: dict[str, NodeSpec] = {}
        injections: dict[str, tuple[Injection, ...]] = {}
        nodes[START] = self._start_node(joins)
        for name, node in b.nodes.items():
            nodes[name], injections[name] = self._node(node, joins)
        trigger_to_nodes: dict[str, list[str]] = {}
        for name, spec in nodes.items():
            for trigger in spec.triggers:
                trigger_to_nodes.setdefault(trigger, []).append(name)
        state_keys = [k for k in self.state_channels]
        output_keys: str | list[str] = (
            self.output.keys[0] if self.output.kind == "root" else list(self.output.keys)
        )
        stream_keys: str | list[str] = (
            self.state.keys[0] if self.state.kind == "root" else state_keys
        )
        allowed = collect_types(
            b.state_schema,
            b.input_schema,
            b.output_schema,
            b.context_schema,
            *(n.input_schema for n in b.nodes.values()),
        )
        plan = Plan(
            nodes=nodes,
            channels=channels,
            input_channel=START,
            output_channels=output_keys,
            stream_channels=stream_keys,
            trigger_to_nodes={k: tuple(v) for k, v in trigger_to_nodes.items()},
            context_schema=b.context_schema,
            allowed_types=allowed,
            update_writers={name: spec.write for name, spec in nodes.items()},
            output_class=b.output_schema if self.output.kind in ("pydantic", "dataclass") else None,
        )
        return plan, injections

    # --- node pieces -----------------------------------------------------------------------------

    def _reader(self, info: SchemaInfo) -> Callable[[Any], Any]:
        keys = [k for k in info.keys if k in self.state_channels]
        build = info.build
        if info.kind == "dict":

            def read_dict(channels: Any) -> Any:
                return {k: channels[k].value for k in keys if channels[k].is_available()}

            return read_dict

        def read(channels: Any) -> Any:
            return build({k: channels[k].get() for k in keys if channels[k].is_available()})

        return read

    def _writer(
        self, name: str, joins: dict[str, list[tuple[str, str]]], *, input_filter: bool = False
    ) -> Callable[[Any, TaskWriteContext], list[tuple[str, Any]]]:
        b = self.b
        root = self.state.kind == "root"
        allowed = set(self.input.keys if input_filter else self.state_channels)
        static = sorted(t for s, t in b.edges if s == name and t != END)
        # what the node writes whatever it returns: its static edges and joins
        edge_writes = [(f"branch:to:{t}", None) for t in static] + joins.get(name, [])
        branches = list(b.branches.get(name, {}).values())
        nodes = b.nodes
        fast = not branches and not root

        def write(output: Any, ctx: TaskWriteContext) -> list[tuple[str, Any]]:
            if type(output) is dict and fast:  # the common case, kept short
                writes = [(k, v) for k, v in output.items() if k in allowed]
                writes += edge_writes
                return writes
            updates: list[tuple[str, Any]] = []
            gotos: list[Any] = []
            if isinstance(output, Command):
                _collect_command(output, updates, gotos, root)
            elif isinstance(output, list | tuple) and any(isinstance(o, Command) for o in output):
                for item in output:
                    if isinstance(item, Command):
                        _collect_command(item, updates, gotos, root)
                    else:
                        updates.extend(update_pairs(item, root=root))
            else:
                updates = update_pairs(output, root=root)
            writes = [(k, v) for k, v in updates if k in allowed]
            writes += edge_writes
            for branch in branches:
                state = ctx.fresh_state(writes)
                if branch.wants_config:
                    result = branch.path(state, config=ctx.config)
                else:
                    result = branch.path(state)
                writes.extend(_branch_writes(name, branch, result, nodes))
            for goto in gotos:
                writes.extend(_goto_writes(goto, nodes))
            return writes

        return write

    def _start_node(self, joins: dict[str, list[tuple[str, str]]]) -> NodeSpec:
        def identity(value: Any) -> Any:
            return value

        return NodeSpec(
            name=START,
            triggers=(START,),
            read=lambda channels: channels[START].get(),
            func=identity,
            afunc=None,
            write=self._writer(START, joins, input_filter=True),
            hidden=True,
        )

    def _node(
        self, node: _Node, joins: dict[str, list[tuple[str, str]]]
    ) -> tuple[NodeSpec, tuple[Injection, ...]]:
        func, afunc, injections = _callables(node.name, node.func)
        triggers = [f"branch:to:{node.name}"]
        triggers += [
            f"join:{'+'.join(starts)}:{end}"
            for starts, end in self.b.waiting_edges
            if end == node.name
        ]
        spec = NodeSpec(
            name=node.name,
            triggers=tuple(triggers),
            read=self._reader(schema_info(node.input_schema)),
            func=func,
            afunc=afunc,
            write=self._writer(node.name, joins),
            retry_policy=node.retry_policy,
            metadata=node.metadata,
            subgraph=node.func if isinstance(node.func, Pregel) else None,
        )
        return spec, injections


def _callables(name: str, target: Any) -> tuple[Callable[..., Any], Any, tuple[Injection, ...]]:
    """The sync and async callables of a node, and what it asks to be injected."""
    if isinstance(target, Pregel):
        graph = target

        def run_subgraph(value: Any, config: Any = None) -> Any:
            try:
                return graph.invoke(value, _subgraph_config(config))
            except ParentCommand as exc:  # Command(graph=PARENT): applied here, as our return
                return _for_parent(exc.command)

        async def arun_subgraph(value: Any, config: Any = None) -> Any:
            try:
                return await graph.ainvoke(value, _subgraph_config(config))
            except ParentCommand as exc:
                return _for_parent(exc.command)

        return run_subgraph, arun_subgraph, (Injection("config", False),)
    invoke = getattr(target, "invoke", None)
    if not inspect.isfunction(target) and not inspect.ismethod(target) and callable(invoke):
        runnable = target

        def run_runnable(value: Any, config: Any = None) -> Any:
            return runnable.invoke(value, config)

        async def arun_runnable(value: Any, config: Any = None) -> Any:
            return await runnable.ainvoke(value, config)

        return run_runnable, arun_runnable, (Injection("config", False),)
    injections = injections_for(target)
    if inspect.iscoroutinefunction(target) or inspect.iscoroutinefunction(
        getattr(target, "__call__", None)  # noqa: B004
    ):

        def needs_async(*_: Any, **__: Any) -> Any:
            raise TypeError(
                f"Node {name!r} is an async function: run the graph with ainvoke() or astream()."
            )

        return needs_async, target, injections
    return target, None, injections


def _for_parent(command: Command[Any]) -> Command[Any]:
    """A subgraph's ``Command(graph=Command.PARENT)`` as the parent applies it."""
    return Command(update=command.update, goto=command.goto, resume=command.resume)


def _subgraph_config(config: Any) -> Any:
    """The parent task's config, minus what belongs to the task itself (its step metadata)."""
    if not config:
        return None
    return {"configurable": dict(config.get("configurable", {}))}


def _collect_command(
    command: Command[Any], updates: list[tuple[str, Any]], gotos: list[Any], root: bool
) -> None:
    if command.graph == Command.PARENT:
        raise ParentCommand(command)
    if command.update is not None:
        updates.extend(update_pairs(command.update, root=root))
    goto = command.goto
    if isinstance(goto, str | Send):
        gotos.append(goto)
    else:
        gotos.extend(goto or ())


def _goto_writes(goto: Any, nodes: dict[str, _Node]) -> list[tuple[str, Any]]:
    if isinstance(goto, Send):
        if goto.node == END:
            raise InvalidUpdateError("Cannot send a packet to the END node")
        return [(TASKS, goto)]
    if goto == END:
        return []
    if goto not in nodes:
        raise InvalidUpdateError(
            f"Command(goto={goto!r}) names a node that does not exist. Known nodes: "
            f"{sorted(nodes)!r}. Add the node, or fix the name."
        )
    return [(f"branch:to:{goto}", None)]


def _branch_writes(
    source: str, branch: _Branch, result: Any, nodes: dict[str, _Node]
) -> list[tuple[str, Any]]:
    results = result if isinstance(result, list | tuple) else [result]
    writes: list[tuple[str, Any]] = []
    for item in results:
        if isinstance(item, Send):
            if item.node == END:
                raise InvalidUpdateError("Cannot send a packet to the END node")
            writes.append((TASKS, item))
            continue
        if branch.path_map is not None:
            if item not in branch.path_map:
                raise UnknownBranchTargetError(
                    f"Branch {branch.name!r} of node {source!r} returned {item!r}, which is not "
                    f"in its path_map {sorted(map(str, branch.path_map))!r}. Return one of those "
                    "keys, or add the value to the path_map."
                )
            item = branch.path_map[item]
        if item is None or item == START:
            raise ValueError("Branch did not return a valid destination")
        if item == END:
            continue
        if item not in nodes:
            raise UnknownBranchTargetError(
                f"Branch {branch.name!r} of node {source!r} returned {item!r}, which is not a "
                f"node of this graph. Known nodes: {sorted(nodes)!r}. Add the node or fix the "
                "returned name."
            )
        writes.append((f"branch:to:{item}", None))
    return writes
