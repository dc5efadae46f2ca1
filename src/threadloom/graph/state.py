"""``StateGraph``: build a graph of nodes over a shared state, then ``compile`` it into a ``Plan``.

The builder checks names and edges as they are added; ``compile`` checks the whole graph and hands
it to ``graph/_compile.py``, which turns each state key into a channel, each edge into a trigger
channel and each node into a ``NodeSpec`` whose writer turns the node's return value into writes.
"""

from __future__ import annotations

import inspect
import logging
import warnings
from collections.abc import Callable, Hashable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar, get_args, get_origin, get_type_hints

from threadloom.constants import END, START
from threadloom.engine._checks import check_backend, langgraph_name, reject_langgraph_name
from threadloom.engine.inject import Injection, injections_for, warn_mistyped_config
from threadloom.engine.plan import Plan
from threadloom.engine.pregel import Pregel
from threadloom.errors import InvalidUpdateError, MissingNodeFunctionError
from threadloom.graph._handlers import DEFAULT_ERROR_HANDLER, ERROR_HANDLER_PREFIX, with_node_error
from threadloom.graph._schema import (
    channels_for,
    field_channel,
    has_keys,
)
from threadloom.managed import managed_keys
from threadloom.types import CachePolicy, Command, RetryPolicy, TimeoutPolicy, TracePolicy
from threadloom.warnings import (
    LangGraphDeprecatedSinceV05,
    LangGraphDeprecatedSinceV10,
    warn_renamed,
)

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
    destinations: dict[str, str | None]
    """Where a ``Command`` it returns may go, with the edge label drawn (if any)."""
    timeout: TimeoutPolicy | None = None
    error_handler: str | None = None
    """The name of the node that runs when this one fails (``__error_handler__<name>``)."""
    is_handler: bool = False
    """An error handler: never handled itself (its failure fails the run)."""
    cache_policy: CachePolicy[Any] | None = None
    output_schema: Any = None
    """The schema its return is annotated with (its keys are state channels), or None."""
    trace_policy: TracePolicy | None = None


@dataclass(slots=True)
class _Branch:
    name: str
    path: Callable[..., Any]
    path_map: dict[Hashable, str] | None
    wants_config: bool
    is_async: bool = False
    """The router is a coroutine function: awaited under ainvoke/astream, refused under invoke."""
    input_schema: Any = None
    """The schema its first parameter is annotated with (when it has keys): it reads those keys
    of the state, as a node with an input schema does (LangGraph)."""
    anonymous: bool = False
    """The router is a lambda: its traced run is named as LangGraph names an unnamed router's
    (``RunnableCallable`` in a sync run, no name in an async one), not ``condition``."""


def _check_node_function(name: str, func: Any) -> None:
    """A node runs a function, a Runnable (or compiled graph) or a dict of them."""
    if func is None:
        raise MissingNodeFunctionError(name)
    if not (callable(func) or hasattr(func, "invoke") or isinstance(func, dict)):
        raise TypeError(
            f"Node {name!r} must be a function, a Runnable or a compiled graph, got "
            f"{type(func).__name__} {func!r}. Pass the function itself, e.g. "
            f"add_node({name!r}, my_node)."
        )


def _breakpoint_nodes(name: str, nodes: Any) -> Any:
    """``"*"`` or the node names of ``interrupt_before`` / ``interrupt_after`` (a lone name is
    refused with a TypeError, as in LangGraph, rather than read as one-letter node names)."""
    if isinstance(nodes, str) and nodes != "*":
        raise TypeError(
            f"{name} must be '*' or a list of node names, got the string {nodes!r}. "
            f"Pass {name}=[{nodes!r}]."
        )
    if nodes and not isinstance(nodes, str | Iterable):
        raise TypeError(
            f"{name} must be '*' or a list of node names, got {type(nodes).__name__} {nodes!r}. "
            f"Pass e.g. {name}=['node_name']."
        )
    return nodes or ()


def retry_policies(retry_policy: Any) -> tuple[RetryPolicy, ...]:
    """``retry_policy`` as a tuple: one ``RetryPolicy``, a sequence of them, or None."""
    if retry_policy is None:
        return ()
    if isinstance(retry_policy, RetryPolicy):
        return (retry_policy,)
    if isinstance(retry_policy, Sequence) and all(isinstance(p, RetryPolicy) for p in retry_policy):
        return tuple(retry_policy)
    raise TypeError(
        f"retry_policy must be a RetryPolicy or a sequence of them, got "
        f"{type(retry_policy).__name__} {retry_policy!r}. Pass e.g. RetryPolicy(max_attempts=3)."
    )


def _node_name(node: Any) -> str:
    get_name = getattr(node, "get_name", None)
    if callable(get_name):
        return str(get_name())
    name = getattr(node, "__name__", None)
    if name is None:
        name = getattr(getattr(node, "func", None), "__name__", None) or type(node).__name__
    return str(name)


def _hints_of(func: Callable[..., Any]) -> dict[str, Any]:
    """``func``'s resolved annotations; a callable object's are its ``__call__``'s."""
    target = func
    if not (inspect.isfunction(func) or inspect.ismethod(func)) and callable(func):
        target = getattr(type(func), "__call__", func)  # noqa: B004
    try:
        return get_type_hints(target)
    except Exception:
        return {}


def _first_param_schema(func: Callable[..., Any]) -> Any:
    try:
        params = list(inspect.signature(func).parameters.values())
    except (TypeError, ValueError):
        return None
    if not params:
        return None
    hint = _hints_of(func).get(params[0].name)
    return hint if hint is not None and has_keys(hint) else None


def _return_schema(func: Callable[..., Any]) -> Any:
    """The schema ``func``'s return is annotated with, when it has keys: its keys are state
    channels, as in LangGraph (a node may write keys only it declares)."""
    hint = _hints_of(func).get("return")
    return hint if hint is not None and has_keys(hint) else None


# LangGraph's private helpers of this module, which programs and tests written for it import.
_get_node_name = _node_name
_is_field_channel = field_channel


def _warn_invalid_state_schema(schema: Any, *, stacklevel: int = 2) -> None:
    """Warn (``UserWarning``) when ``schema`` is a value where a type is expected: a dict or a
    model instance passed as a state schema instead of its class."""
    if isinstance(schema, type) or get_args(schema):
        return
    warnings.warn(
        f"Invalid state_schema {schema!r}: expected a type (a TypedDict, dataclass or pydantic "
        "model class) or Annotated[type, reducer]. Pass the class, not a value of it, so that "
        "updates are applied as declared.",
        UserWarning,
        stacklevel=stacklevel,
    )


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
            warn_renamed("config_schema", "context_schema", LangGraphDeprecatedSinceV10)
            context_schema = context_schema or kwargs.pop("config_schema")
        if "input" in kwargs:
            warn_renamed("input", "input_schema", LangGraphDeprecatedSinceV05)
            input_schema = input_schema or kwargs.pop("input")
        if "output" in kwargs:
            warn_renamed("output", "output_schema", LangGraphDeprecatedSinceV05)
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
        self._node_defaults: dict[str, Any] = {}
        _warn_invalid_state_schema(state_schema, stacklevel=3)  # None too, as in LangGraph
        for schema in (input_schema, output_schema):
            if schema is not None:
                _warn_invalid_state_schema(schema, stacklevel=3)
        channels_for([state_schema, self.input_schema, self.output_schema])  # fail early

    @property
    def managed(self) -> dict[str, Any]:
        """The managed keys (``RemainingSteps``, ``IsLastStep``) of the graph's schemas and its
        nodes' input schemas, each with what computes its value; they are never channels."""
        found: dict[str, Any] = {}
        schemas = (self.state_schema, self.input_schema, self.output_schema)
        for schema in (*schemas, *(n.input_schema for n in self.nodes.values())):
            found.update(managed_keys(schema))
        return found

    @property
    def channels(self) -> dict[str, Any]:
        """The state's keys, each with the channel that holds it (reducer, last value, ...):
        the keys of the graph's schemas, its nodes' input and output schemas and its routers'
        input schemas. Managed keys are not channels (``managed``)."""
        schemas = [self.state_schema, self.output_schema, self.input_schema]
        schemas += [n.input_schema for n in self.nodes.values()]
        schemas += [n.output_schema for n in self.nodes.values() if n.output_schema]
        schemas += [
            b.input_schema
            for by_name in self.branches.values()
            for b in by_name.values()
            if b.input_schema is not None
        ]
        return channels_for(schemas)

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
        cache_policy: Any = None,
        error_handler: Any = None,
        timeout: Any = None,
        trace_policy: Any = None,
        **kwargs: Any,
    ) -> StateGraph[StateT]:
        """Add a node: ``add_node(func)`` (named after the function) or ``add_node(name, func)``.

        ``timeout`` (seconds, a ``timedelta`` or a ``TimeoutPolicy``) bounds each attempt of an
        async node. ``error_handler`` is called (with the state, and the failure as a parameter
        annotated ``NodeError``) when the node failed for good, instead of failing the run; what
        it returns updates the state as the node would have, and its ``Command(goto=...)``
        says where to go on (the node's own edges are not followed). ``cache_policy`` (a
        ``CachePolicy``) caches the node's writes by its input when the graph is compiled with
        a cache. ``trace_policy`` (a ``TracePolicy``) changes what tracers record of the
        node's runs.
        """
        if trace_policy is not None and not isinstance(trace_policy, TracePolicy):
            raise TypeError(
                f"trace_policy of node {node!r} must be a TracePolicy, got "
                f"{type(trace_policy).__name__} {trace_policy!r}. Pass e.g. "
                "TracePolicy(process_inputs=omit_payload) (from threadloom.types)."
            )
        timeout_policy = TimeoutPolicy.coerce(timeout)  # a bad value fails here, not at run time
        if "retry" in kwargs:
            warn_renamed("retry", "retry_policy", LangGraphDeprecatedSinceV05)
            retry_policy = retry_policy if retry_policy is not None else kwargs.pop("retry")
        if "input" in kwargs:
            warn_renamed("input", "input_schema", LangGraphDeprecatedSinceV05)
            input_schema = input_schema if input_schema is not None else kwargs.pop("input")
        if node is None:
            raise MissingNodeFunctionError(None)
        if isinstance(node, str):
            name, func = node, action
        else:
            name, func = _node_name(node), node
        _check_node_function(name, func)
        warn_mistyped_config(func)
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
        if (qualname := langgraph_name(func)) and qualname.startswith("langgraph.prebuilt."):
            reject_langgraph_name(qualname, f"node {name!r}")  # it needs LangGraph's runtime
        policies = retry_policies(retry_policy)
        schema = input_schema or _first_param_schema(func) or self.state_schema
        if isinstance(destinations, dict):
            dests: dict[str, str | None] = dict(destinations)
        elif destinations is not None and not isinstance(destinations, tuple | list):
            raise TypeError(
                f"destinations of node {name!r} must be a tuple of node names or a dict of node "
                f"names to edge labels, got {type(destinations).__name__} {destinations!r}. "
                "Pass e.g. destinations=('next_node',)."
            )
        else:
            dests = dict.fromkeys(destinations or self._command_destinations(func))
        node_spec = _Node(
            name, func, schema, policies, defer, metadata or {}, dests, timeout_policy
        )
        node_spec.cache_policy = cache_policy
        node_spec.output_schema = _return_schema(func)
        node_spec.trace_policy = trace_policy
        if error_handler is not None:
            node_spec.error_handler = handler = f"{ERROR_HANDLER_PREFIX}{name}"
            self.nodes[handler] = _handler_node(handler, error_handler, self.state_schema)
        self.nodes[name] = node_spec
        return self

    def set_node_defaults(
        self,
        *,
        retry_policy: RetryPolicy | Sequence[RetryPolicy] | None = None,
        cache_policy: Any = None,
        error_handler: Any = None,
        timeout: Any = None,
    ) -> StateGraph[StateT]:
        """Policies for every node that does not set its own in ``add_node``, applied at compile.

        ``retry_policy`` and ``timeout`` apply to error handlers too; ``error_handler`` handles
        the failures of every other node without one (as ``__default_error_handler__``), never a
        handler's own. ``cache_policy`` caches every node without its own (handlers excepted).
        """
        if cache_policy is not None:
            self._node_defaults["cache_policy"] = cache_policy
        if retry_policy is not None:
            self._node_defaults["retry_policy"] = retry_policies(retry_policy)
        if error_handler is not None:
            self._node_defaults["error_handler"] = error_handler
        if timeout is not None:
            self._node_defaults["timeout"] = TimeoutPolicy.coerce(timeout)
        return self

    def _apply_node_defaults(self) -> None:
        """Give every node the defaults of ``set_node_defaults`` it has no value of its own for."""
        defaults = self._node_defaults
        handler = defaults.get("error_handler")
        if handler is not None:
            existing = self.nodes.get(DEFAULT_ERROR_HANDLER)
            if existing is not None and not existing.is_handler:
                raise ValueError(
                    f"Node `{DEFAULT_ERROR_HANDLER}` already exists: the default error handler "
                    "of set_node_defaults(error_handler=...) needs that name. Rename the node."
                )
            self.nodes[DEFAULT_ERROR_HANDLER] = _handler_node(
                DEFAULT_ERROR_HANDLER, handler, self.state_schema
            )
        for node in self.nodes.values():
            if handler is not None and not node.is_handler and node.error_handler is None:
                node.error_handler = DEFAULT_ERROR_HANDLER
            if not node.retry_policy:
                node.retry_policy = defaults.get("retry_policy", ())
            if node.timeout is None:
                node.timeout = defaults.get("timeout")
            if node.cache_policy is None and not node.is_handler:
                node.cache_policy = defaults.get("cache_policy")

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
            if start == START:  # LangGraph refuses it too: START is no node a join can wait on
                raise ValueError(
                    f"START cannot be one of a join's start nodes (add_edge({start_key!r}, "
                    f"{end_key!r})): START is not a node; for an entry edge write "
                    f"add_edge(START, {end_key!r})"
                )
            if start not in self.nodes:
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
        if not callable(path) and not callable(getattr(path, "invoke", None)):
            raise TypeError(
                f"add_conditional_edges({source!r}, path=...) needs a function (or a Runnable) "
                f"that returns where to go next, got {type(path).__name__} {path!r}. Pass e.g. "
                "add_conditional_edges(source, lambda state: 'next_node')."
            )
        func: Callable[..., Any] = path if callable(path) else path.invoke
        name = _node_name(path)
        anonymous = name == "<lambda>"
        if anonymous:
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
        is_async = inspect.iscoroutinefunction(func) or inspect.iscoroutinefunction(
            getattr(func, "__call__", None)  # noqa: B004
        )
        self.branches.setdefault(source, {})[name] = _Branch(
            name, func, mapping, wants_config, is_async, _first_param_schema(func), anonymous
        )
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
        transformers: Sequence[Callable[..., Any]] | None = None,
    ) -> CompiledStateGraph:
        """Check the graph and turn it into a runnable ``CompiledStateGraph``.

        ``cache`` (a ``threadloom.cache.BaseCache``) keeps the writes of nodes that have a
        ``cache_policy``. ``transformers`` (``threadloom.stream.StreamTransformer`` classes or
        ``factory(scope)`` callables) add projections to ``stream_events(version="v3")`` runs.
        """
        from threadloom.stream._mux import factories_of

        factories = tuple(factories_of(transformers, "compile"))
        check_backend(checkpointer, "checkpointer", "compile")
        check_backend(store, "store", "compile")
        before = _breakpoint_nodes("interrupt_before", interrupt_before)
        after = _breakpoint_nodes("interrupt_after", interrupt_after)
        self.validate([*([] if before == "*" else before), *([] if after == "*" else after)])
        self.compiled = True
        self._apply_node_defaults()
        from threadloom.graph._compile import Compiler

        plan, injections = Compiler(self).plan()
        plan.checkpointer = checkpointer
        plan.store = store
        plan.cache = cache
        plan.interrupt_before = before
        plan.interrupt_after = after
        plan.name = name or "LangGraph"
        graph = CompiledStateGraph(plan, injections=injections, builder=self)
        graph.stream_transformers = factories
        return graph


def _handler_node(name: str, handler: Any, state_schema: Any) -> _Node:
    """The node of an error handler: it reads the graph's state and is reached by no edge."""
    node = _Node(name, with_node_error(handler), state_schema, (), False, {}, {})
    node.is_handler = True
    return node


class CompiledStateGraph(Pregel):
    """A compiled ``StateGraph``: run it with invoke/stream, inspect threads with get_state."""

    def __init__(
        self, plan: Plan, *, injections: dict[str, tuple[Injection, ...]], builder: StateGraph[Any]
    ) -> None:
        super().__init__(plan, injections=injections)
        self.builder = builder
