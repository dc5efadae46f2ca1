"""Compiling a ``StateGraph``: channels from the schemas, a ``NodeSpec`` per node, the node writers.

A node's writer turns what the node returned (a dict, an annotated object, a ``Command``, a list of
them) into channel writes, adding its static edges, joins, conditional branches and gotos. Subgraph
and Runnable nodes are wrapped here too.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable
from typing import Any

from langchain_core.runnables import Runnable

from threadloom.constants import END, START, TASKS
from threadloom.engine._checks import reject_langgraph
from threadloom.engine.caching import node_cache_spec
from threadloom.engine.callbacks import subgraph_callbacks
from threadloom.engine.channels import (
    Channel,
    EphemeralValue,
    LastValueAfterFinish,
    NamedBarrierValue,
    Topic,
    UntrackedValue,
)
from threadloom.engine.inject import Injection, injections_for
from threadloom.engine.plan import NodeSpec, Plan, TaskWriteContext
from threadloom.engine.pregel import Pregel
from threadloom.engine.timeouts import async_capable, require_async
from threadloom.engine.untracked import SendTopic
from threadloom.errors import InvalidUpdateError, ParentCommand
from threadloom.graph._detect import graph_named_by
from threadloom.graph._routing import (
    RouterState,
    awaited_routes,
    awaiting_routers,
    call_router,
    no_sync_function,
    take_routes,
)
from threadloom.graph._schema import (
    SchemaInfo,
    collect_types,
    schema_info,
    update_pairs,
)
from threadloom.graph.state import StateGraph, UnknownBranchTargetError, _Branch, _Node
from threadloom.managed import managed_keys
from threadloom.types import Command, Send

__all__ = ["Compiler"]


class Compiler:
    """Turns a validated builder into a Plan."""

    def __init__(self, builder: StateGraph[Any]) -> None:
        self.b = builder
        self.state = schema_info(builder.state_schema)
        self.input = schema_info(builder.input_schema)
        self.output = schema_info(builder.output_schema)
        self._router_states: dict[str, RouterState] = {}
        self._update_awriters: dict[str, Callable[..., Awaitable[list[tuple[str, Any]]]]] = {}
        self.state_channels = builder.channels
        # what routers read: the graph's state (never a node's input schema, nor START's raw input)
        self._router_view = NodeSpec(
            name="__router__",
            triggers=(),
            read=self._reader(self.state),
            managed=self._managed(self.state),
            func=_identity,
            afunc=None,
            write=lambda output, ctx: [],
            hidden=True,
        )
        self._schema_views: dict[int, NodeSpec] = {}
        """What a router annotated with its own schema reads, by ``id`` of that schema."""

    def plan(self) -> tuple[Plan, dict[str, tuple[Injection, ...]]]:
        b = self.b
        channels: dict[str, Channel] = dict(self.state_channels)
        channels[START] = EphemeralValue(key=START)
        untracked = frozenset(k for k, c in channels.items() if isinstance(c, UntrackedValue))
        channels[TASKS] = SendTopic(untracked, key=TASKS) if untracked else Topic(key=TASKS)
        for name, node in b.nodes.items():
            key = f"branch:to:{name}"
            deferred = LastValueAfterFinish(key=key)
            channels[key] = deferred if node.defer else EphemeralValue(guard=False, key=key)
        joins: dict[str, list[tuple[str, str]]] = {}
        for starts, end in b.waiting_edges:
            key = f"join:{'+'.join(starts)}:{end}"
            channels[key] = NamedBarrierValue(str, frozenset(starts), key=key)
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
            update_awriters=self._update_awriters,
            output_class=b.output_schema if self.output.kind in ("pydantic", "dataclass") else None,
            state_class=b.state_schema if self.state.kind in ("pydantic", "dataclass") else None,
            input_keys=None if self.input.kind == "root" else frozenset(self.input.keys),
            state_keys=None if self.state.kind == "root" else frozenset(self.state_channels),
            start_routes=bool(b.branches.get(START)),
        )
        return plan, injections

    # --- node pieces -----------------------------------------------------------------------------

    def _reader(self, info: SchemaInfo) -> Callable[[Any], Any]:
        keys = [k for k in info.keys if k in self.state_channels]
        build = info.build
        if info.kind == "dict" or managed_keys(info.schema):  # managed keys: built in _managed

            def read_dict(channels: Any) -> Any:
                return {k: channels[k].get() for k in keys if channels[k].is_available()}

            return read_dict

        def read(channels: Any) -> Any:
            return build({k: channels[k].get() for k in keys if channels[k].is_available()})

        return read

    @staticmethod
    def _managed(info: SchemaInfo) -> Callable[[Any, int, int], Any] | None:
        """Adds the managed keys of a node's input schema for its step (None when it has none)."""
        managed = tuple(managed_keys(info.schema).items())
        if not managed:
            return None
        build = info.build

        def fill(value: Any, step: int, stop: int) -> Any:
            return build({**value, **{key: get(step, stop) for key, get in managed}})

        return fill

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

        def state_writes(output: Any, gotos: list[Any] | None = None) -> list[tuple[str, Any]]:
            """The node's writes to state keys (and its gotos, collected into ``gotos``)."""
            gotos = [] if gotos is None else gotos
            updates: list[tuple[str, Any]] = []
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
            return [(k, v) for k, v in updates if k in allowed]

        def router_state(output: Any, ctx: TaskWriteContext, branch: Any) -> Any:
            return self._router_state(output, state_writes(output), ctx, branch)

        def write(
            output: Any, ctx: TaskWriteContext, routes: list[Any] | None = None
        ) -> list[tuple[str, Any]]:
            """The node's writes; ``routes``: its routers' results, when awaited already."""
            if type(output) is dict and fast:  # the common case, kept short
                writes = [(k, v) for k, v in output.items() if k in allowed]
                writes += edge_writes
                return writes
            gotos: list[Any] = []
            writes = state_writes(output, gotos)
            writes += edge_writes
            if branches and routes is None:
                routes = take_routes(ctx)  # awaited already by the node's async wrapper
            if branches and routes is None:
                routes = [
                    call_router(
                        branch, self._router_state(output, writes, ctx, branch), ctx.config, i
                    )
                    for i, branch in enumerate(branches)
                ]
            for branch, result in zip(branches, routes or (), strict=True):
                writes.extend(_branch_writes(name, branch, result, nodes))
            for goto in gotos:
                writes.extend(_goto_writes(goto, nodes))
            return writes

        self._router_states[name] = router_state
        if any(branch.is_async for branch in branches):  # update_state as this node awaits them

            async def awrite(output: Any, ctx: TaskWriteContext) -> list[tuple[str, Any]]:
                return write(output, ctx, await awaited_routes(branches, router_state, output, ctx))

            self._update_awriters[name] = awrite
        return write

    def _start_node(self, joins: dict[str, list[tuple[str, str]]]) -> NodeSpec:
        write = self._writer(START, joins, input_filter=True)
        return NodeSpec(
            name=START,
            triggers=(START,),
            read=lambda channels: channels[START].get(),
            func=_identity,
            afunc=self._routed_afunc(START, _identity, None),
            write=write,
            hidden=True,
        )

    def _routed_afunc(
        self, name: str, func: Callable[..., Any], afunc: Any
    ) -> Callable[..., Any] | None:
        """``afunc``, wrapped to await the node's async routers when it has some."""
        branches = list(self.b.branches.get(name, {}).values())
        if not any(branch.is_async for branch in branches):
            return afunc  # type: ignore[no-any-return]
        return awaiting_routers(func, afunc, branches, self._router_states[name])

    def _router_state(
        self, output: Any, writes: list[tuple[str, Any]], ctx: TaskWriteContext, branch: Any
    ) -> Any:
        """What a router is given: the graph state with the node's writes applied.

        As in LangGraph, a node's dict return is laid under a dict state, so the router also sees
        the keys the node returned that are not state keys (START's: the keys of the input). A
        router whose first parameter is annotated with a schema reads just that schema's keys
        (built as that schema), as a node with an input schema does.
        """
        schema = branch.input_schema
        if schema is not None:
            view = TaskWriteContext(ctx.channels, self._view_of(schema), ctx.config, ctx.managed_at)
            return view.fresh_state(writes)
        view = TaskWriteContext(ctx.channels, self._router_view, ctx.config, ctx.managed_at)
        state = view.fresh_state(writes)
        if isinstance(state, dict) and isinstance(output, dict):
            return {**output, **state}
        return state

    def _view_of(self, schema: Any) -> NodeSpec:
        view = self._schema_views.get(id(schema))
        if view is None:
            info = schema_info(schema)
            view = NodeSpec(
                name="__router__",
                triggers=(),
                read=self._reader(info),
                managed=self._managed(info),
                func=_identity,
                afunc=None,
                write=lambda output, ctx: [],
                hidden=True,
            )
            self._schema_views[id(schema)] = view
        return view

    def _node(
        self, node: _Node, joins: dict[str, list[tuple[str, str]]]
    ) -> tuple[NodeSpec, tuple[Injection, ...]]:
        func, afunc, injections = node_callables(node.name, node.func)
        write = self._writer(node.name, joins)
        afunc = self._routed_afunc(node.name, func, afunc)
        triggers = [f"branch:to:{node.name}"]
        triggers += [
            f"join:{'+'.join(starts)}:{end}"
            for starts, end in self.b.waiting_edges
            if end == node.name
        ]
        require_async(node.name, async_capable(node.func), node.timeout)
        spec = NodeSpec(
            name=node.name,
            triggers=tuple(triggers),
            read=self._reader(schema_info(node.input_schema)),
            managed=self._managed(schema_info(node.input_schema)),
            func=func,
            afunc=afunc,
            write=write,
            retry_policy=node.retry_policy,
            metadata=node.metadata,
            subgraph=_subgraph_of(node.func),
            timeout=node.timeout,
            error_handler=node.error_handler,
            cache=node_cache_spec(node.cache_policy, node.func, node.name)
            if node.cache_policy is not None
            else None,
            trace_policy=node.trace_policy,
            bound=node.func,
        )
        return spec, injections


def _subgraph_of(target: Any) -> Pregel | None:
    """The graph a node runs: the node itself, or (as LangGraph finds it) a compiled graph its
    function names (``sub.invoke(...)`` in its body, see ``_detect.py``), whose state
    ``get_state(..., subgraphs=True)`` shows under the node's task. A graph compiled with
    ``checkpointer=False`` keeps no state, so it is not one."""
    if isinstance(target, Pregel):
        return target if target.checkpointer is not False else None
    found = graph_named_by(target, _keeps_state)
    return found if isinstance(found, Pregel) else None


def _keeps_state(value: Any) -> bool:
    return isinstance(value, Pregel) and value.checkpointer is not False


def _identity(value: Any) -> Any:
    return value


def node_callables(name: str, target: Any) -> tuple[Callable[..., Any], Any, tuple[Injection, ...]]:
    """The sync and async callables of a node, and what it asks to be injected."""
    if isinstance(target, Pregel):
        graph = target

        # (a Command(graph=PARENT) it sends becomes this node's output: engine/tasks.py)
        def run_subgraph(value: Any, config: Any = None) -> Any:
            return graph.invoke(value, _subgraph_config(config))

        async def arun_subgraph(value: Any, config: Any = None) -> Any:
            return await graph.ainvoke(value, _subgraph_config(config))

        return run_subgraph, arun_subgraph, (Injection("config", False),)
    if isinstance(target, Runnable):  # (a callable that merely has an ``invoke``, like a Mock,
        # is called, as LangGraph does)
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
            raise no_sync_function(name)

        return needs_async, target, injections
    return target, None, injections


def _subgraph_config(config: Any) -> Any:
    """The parent task's config, minus what belongs to the task itself (its step metadata)."""
    if not config:
        return None
    child: dict[str, Any] = {"configurable": dict(config.get("configurable", {}))}
    if config.get("tags"):  # the caller's tags reach nodes at every depth, as in LangGraph
        child["tags"] = list(config["tags"])
    child.update(subgraph_callbacks(config))  # traced: the subgraph's run nests below the node's
    return child


def _collect_command(
    command: Command[Any], updates: list[tuple[str, Any]], gotos: list[Any], root: bool
) -> None:
    if command.graph == Command.PARENT:
        raise ParentCommand(command)
    if command.update is not None:
        updates.extend(update_pairs(command.update, root=root, pairs=True))
    goto = command.goto
    if isinstance(goto, str | Send):
        gotos.append(goto)
    else:
        reject_langgraph(goto, "Command(goto=...)")
        gotos.extend(goto or ())


def _goto_writes(goto: Any, nodes: dict[str, _Node]) -> list[tuple[str, Any]]:
    if isinstance(goto, Send):
        if goto.node == END:
            raise InvalidUpdateError("Cannot send a packet to the END node")
        return [(TASKS, goto)]
    if goto == END:
        return []
    reject_langgraph(goto, "Command(goto=...)")
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
        reject_langgraph(item, f"the value branch {branch.name!r} of node {source!r} returned")
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
