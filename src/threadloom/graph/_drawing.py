"""Drawing a compiled graph: ``get_graph(xray=...)`` as langchain-core's ``Graph``.

The drawing comes from what the builder declares; nothing runs. The rules, kept so that
``draw_mermaid()`` prints the same text as LangGraph's for the same program:

- every node is drawn, START first, then the nodes in the order they were added; END is added
  when the first edge reaches it;
- an edge is drawn only when its source is reachable from START (a join once all its sources
  are); plain edges and joins are solid;
- conditional edges are dotted: a router's ``path_map``, else the ``Literal`` its return annotation
  names (a router declaring neither draws no edge), and a node's ``destinations`` or the
  ``Command[Literal[...]]`` it is annotated to return; a label is drawn when it differs from the
  target (the ``path_map`` key, or the ``destinations`` dict value);
- edges are added sorted by (source, target, conditional, label); only the first edge between
  two nodes is kept;
- a node that is reached but leads nowhere gets a solid edge to END (a plain edge to END is
  drawn only that way: a node with other ways out shows none); a graph that never ends gets a
  dotted edge to END from the one node running after 250 steps;
- node metadata is the ``add_node(metadata=...)`` dict, plus ``defer``, ``__interrupt``
  (``"before"``, ``"after"`` or ``"before,after"``) and ``__tools`` (a ``ToolNode``'s tool names);
- with ``xray``, a node running a compiled graph is replaced by that graph's drawing (its START
  trimmed), ``xray`` levels deep (``True``: every level), its node ids prefixed ``node:``.

An ``@entrypoint`` draws as START → the entrypoint, and a dotted edge to END. A low-level
``threadloom.pregel.Pregel`` draws its nodes only (LangGraph's drawing of one fails or guesses).
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Iterator, Mapping
from typing import Any, Literal, NamedTuple, get_args, get_origin, get_type_hints

from langchain_core.runnables import Runnable, RunnableConfig, RunnableLambda
from langchain_core.runnables.graph import Graph

from threadloom.constants import END, NS_SEP, START

__all__ = ["draw_graph", "subgraphs_of"]


class _Edge(NamedTuple):
    source: str
    target: str
    conditional: bool
    label: str | None


def subgraphs_of(
    graph: Any, namespace: str | None = None, recurse: bool = False
) -> Iterator[tuple[str, Any]]:
    """``(namespace, compiled graph)`` for the nodes of ``graph`` that run a compiled graph.

    ``namespace`` (node names joined by ``|``, no task ids) keeps only the subgraph there;
    ``recurse`` also yields the subgraphs' own, as ``parent|child``.
    """
    for name, node in graph.plan.nodes.items():
        sub = node.subgraph
        if sub is None or sub.checkpointer is False:  # as LangGraph: no checkpoints, no subgraph
            continue
        if namespace is not None and namespace != name and not namespace.startswith(name + NS_SEP):
            continue
        if namespace == name:
            yield name, sub
            return
        if namespace is None:
            yield name, sub
        if recurse:
            inner = None if namespace is None else namespace[len(name) + 1 :]
            for child, grand in subgraphs_of(sub, inner, recurse):
                yield f"{name}{NS_SEP}{child}", grand


def draw_graph(graph: Any, config: RunnableConfig | None, xray: int | bool) -> Graph:
    """The drawing of a compiled graph (a ``CompiledStateGraph`` or an ``@entrypoint``)."""
    builder = getattr(graph, "builder", None)
    drawing = _draw_entrypoint(graph) if builder is None else _draw_builder(graph, builder)
    if xray:
        deeper = xray if isinstance(xray, bool) or xray <= 0 else xray - 1
        for name, sub in subgraphs_of(graph):
            _inline(drawing, name, sub.get_graph(config, xray=deeper))
    return drawing


# --- the graph API -------------------------------------------------------------------------------


def _draw_builder(graph: Any, builder: Any) -> Graph:
    outgoing = _declared_edges(builder)
    joins = [(tuple(starts), end) for starts, end in builder.waiting_edges]
    edges = _reachable_edges(outgoing, joins)
    drawing = Graph()
    drawing.add_node(_node_data(START, _identity), START)
    plan = graph.plan
    for name, node in builder.nodes.items():
        drawing.add_node(_node_data(name, node.func), name, metadata=_metadata(plan, node) or None)
    for edge in sorted(edges, key=lambda e: (e.source, e.target, e.conditional, e.label or "")):
        label = edge.label if edge.label != edge.target else None
        _add_edge(drawing, edge.source, edge.target, label, edge.conditional)
    sources = {e.source for e in edges}
    termini = {e.target for e in edges if e.target != END} - sources
    for name in sorted(termini):
        _add_edge(drawing, name, END, None, False)
    if not termini and not any(e.target == END for e in edges):
        last = _last_step(outgoing)  # a graph that never ends: its last step may stop it
        if len(last) == 1:
            _add_edge(drawing, last.pop(), END, None, True)
    return drawing


def _last_step(outgoing: Mapping[str, list[_Edge]], limit: int = 250) -> set[str]:
    """The nodes running at step ``limit`` when every edge is taken at every step."""
    step = {START}
    for _ in range(limit):
        following = {e.target for s in step for e in outgoing.get(s, ()) if e.target != END}
        if not following:
            break
        step = following
    return step


def _declared_edges(builder: Any) -> dict[str, list[_Edge]]:
    """Each source's outgoing edges, as declared (joins apart)."""
    outgoing: dict[str, list[_Edge]] = {}

    def add(source: str, target: str, conditional: bool, label: str | None) -> None:
        outgoing.setdefault(source, []).append(_Edge(source, target, conditional, label))

    for source, target in builder.edges:
        if target != END:  # a node that leads nowhere else gets its END edge drawn at the end
            add(source, target, False, None)
    for source, branches in builder.branches.items():
        for branch in branches.values():
            for key, target in (_branch_ends(branch) or {}).items():
                add(source, target, True, str(key))
    for name, node in builder.nodes.items():
        for target, label in _destinations(node.destinations).items():
            add(name, target, True, label)
    return outgoing


def _branch_ends(branch: Any) -> Mapping[Hashable, str] | None:
    """Where a router may go: its ``path_map``, else its ``Literal`` return annotation."""
    if branch.path_map is not None:
        return dict(branch.path_map)
    func = branch.path
    for target in (func, getattr(func, "__call__", None)):  # noqa: B004
        try:
            hint = get_type_hints(target).get("return")
        except Exception:
            continue
        if get_origin(hint) is Literal:
            return {name: name for name in get_args(hint)}
    return None


def _destinations(destinations: Any) -> dict[str, str | None]:
    if isinstance(destinations, Mapping):
        return {str(k): (None if v is None else str(v)) for k, v in destinations.items()}
    return dict.fromkeys(destinations or ())


def _reachable_edges(
    outgoing: Mapping[str, list[_Edge]], joins: Iterable[tuple[tuple[str, ...], str]]
) -> set[_Edge]:
    """The edges whose source START reaches (a join's once all its sources are reached)."""
    reached, edges = {START}, set[_Edge]()
    frontier, waiting = [START], list(joins)
    while frontier:
        source = frontier.pop()
        for edge in outgoing.get(source, ()):
            edges.add(edge)
            if edge.target != END and edge.target not in reached:
                reached.add(edge.target)
                frontier.append(edge.target)
        for starts, end in list(waiting):
            if all(s in reached for s in starts):
                waiting.remove((starts, end))
                if end == END:
                    continue
                edges.update(_Edge(s, end, False, None) for s in starts)
                if end not in reached:
                    reached.add(end)
                    frontier.append(end)
    return edges


def _metadata(plan: Any, node: Any) -> dict[str, Any]:
    metadata = dict(node.metadata or {})
    if node.defer:
        metadata["defer"] = True
    # a bare "*" marks no node in the drawing, as in LangGraph's
    before, after = plan.interrupt_before or (), plan.interrupt_after or ()
    marks = [kind for kind, names in (("before", before), ("after", after)) if node.name in names]
    if marks:
        metadata["__interrupt"] = ",".join(marks)
    tools = getattr(node.func, "tools_by_name", None)
    if isinstance(tools, Mapping) and tools:
        metadata["__tools"] = list(tools)
    return metadata


# --- the functional API ------------------------------------------------------------------------


def _draw_entrypoint(graph: Any) -> Graph:
    """An ``@entrypoint``; a low-level ``Pregel`` gets its nodes and START, without edges (which
    channel a node writes is not known without running it)."""
    drawing = Graph()
    names = [name for name in graph.plan.nodes if name != START]
    for name in names:
        node = graph.plan.nodes[name]
        drawing.add_node(_node_data(name, node.afunc or node.func), name)
    drawing.add_node(None, START)
    if not graph.plan.is_functional:
        return drawing
    for name in names:
        _add_edge(drawing, START, name, None, False)
    if len(names) == 1:  # the entrypoint may return at any time
        _add_edge(drawing, names[0], END, None, True)
    return drawing


# --- shared ------------------------------------------------------------------------------------


def _node_data(name: str, func: Any) -> Runnable[Any, Any] | None:
    """What ``Graph.to_json`` describes a node by: a runnable named after it."""
    if isinstance(func, Runnable):
        return func
    if not callable(func):
        return None
    try:
        return RunnableLambda(func, name=name)
    except Exception:  # a callable RunnableLambda cannot inspect: drawn without data
        return None


def _identity(value: Any) -> Any:
    return value


def _add_edge(graph: Graph, source: str, target: str, label: str | None, conditional: bool) -> None:
    if any(e.source == source and e.target == target for e in graph.edges):
        return
    if target == END and END not in graph.nodes:
        graph.add_node(None, END)
    graph.add_edge(graph.nodes[source], graph.nodes[target], label, conditional)


def _inline(graph: Graph, name: str, sub: Graph) -> None:
    """Replace node ``name`` with the drawing ``sub``: edges in go to its first node, edges out
    leave from its last."""
    if len(sub.nodes) <= 1 or name not in graph.nodes:
        return
    if sub.first_node() is None or sub.last_node() is None:
        return
    sub.trim_first_node()
    sub.trim_last_node()
    graph.nodes.pop(name)
    first, last = graph.extend(sub, prefix=name)
    if first is None or last is None:
        return
    for i, edge in enumerate(graph.edges):
        if edge.source == name:
            edge = edge.copy(source=last.id)
        if edge.target == name:
            edge = edge.copy(target=first.id)
        graph.edges[i] = edge
