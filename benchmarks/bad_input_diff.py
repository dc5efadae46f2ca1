"""Bad input side by side: the public entry points called with wrong types and values.

Not a speed benchmark, but it needs LangGraph (run it with `.bench-venv`). Each case calls one
public entry point wrongly (configs, ``stream_mode``, ``Command`` fields, ``Send`` targets,
reducers that raise, ``interrupt`` outside a run, store values, namespaces, TTLs, filters) on
threadloom and on LangGraph and records what the caller sees: the result, or the error's type.
Threadloom may raise a more precise error where LangGraph raises a generic one (its classes
subclass the built-in ones LangGraph raises, ``docs/differences.md`` item 13) or refuse what
LangGraph lets through unchecked; those cases are listed in ``ALLOWED``. Never allowed: a raw
``AttributeError``/``KeyError``/``IndexError`` from threadloom's internals.

    .bench-venv/bin/python benchmarks/bad_input_diff.py        # every case; -v prints them all
"""

from __future__ import annotations

import asyncio
import importlib
import operator
import sys
from collections.abc import Callable
from types import SimpleNamespace
from typing import Annotated, Any, TypedDict


class State(TypedDict, total=False):
    log: Annotated[list[str], operator.add]
    n: int


def _boom(left: Any, right: Any) -> Any:
    raise ValueError("reducer failed")


class Boom(TypedDict, total=False):
    log: Annotated[list[str], operator.add]
    x: Annotated[int, _boom]


def load(root: str) -> SimpleNamespace:
    names = {}
    for module in ("graph", "types", "config", "func", "errors"):
        names.update(vars(importlib.import_module(f"{root}.{module}")))
    names["InMemorySaver"] = importlib.import_module(f"{root}.checkpoint.memory").InMemorySaver
    names["InMemoryStore"] = importlib.import_module(f"{root}.store.memory").InMemoryStore
    names["SqliteStore"] = importlib.import_module(f"{root}.store.sqlite").SqliteStore
    return SimpleNamespace(**{k: v for k, v in names.items() if not k.startswith("__")})


def chain(lib: SimpleNamespace, saver: bool = True, schema: Any = State, **nodes: Any) -> Any:
    builder = lib.StateGraph(schema)
    nodes = nodes or {"a": lambda s: {"log": ["a"]}}
    for name, fn in nodes.items():
        builder.add_node(name, fn)
    builder.add_edge(lib.START, next(iter(nodes)))
    return builder.compile(checkpointer=lib.InMemorySaver() if saver else None)


T = {"configurable": {"thread_id": "t"}}


def _sqlite_store(lib: SimpleNamespace) -> Any:
    import sqlite3

    store = lib.SqliteStore(sqlite3.connect(":memory:", check_same_thread=False))
    store.setup()
    return store


CASES: dict[str, Callable[[Any], Any]] = {
    # configs
    "config a string": lambda lib: chain(lib).invoke({"log": []}, "t"),
    "configurable None": lambda lib: chain(lib).invoke({"log": []}, {"configurable": None}),
    "thread_id an int": lambda lib: chain(lib).invoke(
        {"log": []}, {"configurable": {"thread_id": 1}}
    ),
    "no thread_id": lambda lib: chain(lib).invoke({"log": []}, {}),
    "recursion_limit a string": lambda lib: chain(lib).invoke(
        {"log": []}, {**T, "recursion_limit": "x"}
    ),
    "recursion_limit 0": lambda lib: chain(lib).invoke({"log": []}, {**T, "recursion_limit": 0}),
    "recursion_limit -1": lambda lib: chain(lib).invoke({"log": []}, {**T, "recursion_limit": -1}),
    "unknown checkpoint_id": lambda lib: chain(lib).invoke(
        {"log": []}, {"configurable": {"thread_id": "t", "checkpoint_id": "nope"}}
    ),
    "input a list": lambda lib: chain(lib).invoke([1, 2], T),
    "input None, fresh thread": lambda lib: chain(lib).invoke(None, T),
    "input an unknown key": lambda lib: chain(lib).invoke({"zzz": 1}, T),
    # stream_mode, durability
    "stream_mode unknown": lambda lib: list(chain(lib).stream({"log": []}, T, stream_mode="x")),
    "stream_mode list with unknown": lambda lib: list(
        chain(lib).stream({"log": []}, T, stream_mode=["values", "x"])
    ),
    "stream_mode an int": lambda lib: list(chain(lib).stream({"log": []}, T, stream_mode=3)),
    "stream_mode empty list": lambda lib: list(chain(lib).stream({"log": []}, T, stream_mode=[])),
    "durability unknown": lambda lib: chain(lib).invoke({"log": []}, T, durability="x"),
    "interrupt_before unknown node": lambda lib: chain(lib).invoke(
        {"log": []}, T, interrupt_before=["zzz"]
    ),
    "output_keys unknown": lambda lib: chain(lib).invoke({"log": []}, T, output_keys=["zzz"]),
    # Command
    "Command(goto=unknown)": lambda lib: chain(lib).invoke(lib.Command(goto="zzz"), T),
    "Command(goto=int)": lambda lib: chain(lib).invoke(lib.Command(goto=3), T),
    "Command(update=int)": lambda lib: chain(lib).invoke(lib.Command(update=3), T),
    "Command(update=unknown key)": lambda lib: chain(lib).invoke(lib.Command(update={"zzz": 1}), T),
    "Command(resume) no saver": lambda lib: chain(lib, saver=False).invoke(lib.Command(resume="x")),
    "Command(resume) nothing pending": lambda lib: chain(lib).invoke(lib.Command(resume="x"), T),
    "Command(graph=unknown) from node": lambda lib: chain(
        lib, a=lambda s: lib.Command(graph="zzz", goto="a")
    ).invoke({"log": []}, T),
    "Command(graph=PARENT) at root": lambda lib: chain(
        lib, a=lambda s: lib.Command(graph=lib.Command.PARENT, goto="a")
    ).invoke({"log": []}, T),
    "node returns Command(goto=unknown)": lambda lib: chain(
        lib, a=lambda s: lib.Command(goto="zzz")
    ).invoke({"log": []}, T),
    "node returns Command(goto=Send(unknown))": lambda lib: chain(
        lib, a=lambda s: lib.Command(goto=lib.Send("zzz", {}))
    ).invoke({"log": []}, T),
    "node returns an int": lambda lib: chain(lib, a=lambda s: 3).invoke({"log": []}, T),
    "node returns unknown key": lambda lib: chain(lib, a=lambda s: {"zzz": 1}).invoke({}, T),
    "Send to unknown node": lambda lib: _sends(lib, lambda s: [lib.Send("zzz", {})]),
    "Send to END": lambda lib: _sends(lib, lambda s: [lib.Send(lib.END, {})]),
    "branch returns an int": lambda lib: _sends(lib, lambda s: 3),
    "branch returns unknown name": lambda lib: _sends(lib, lambda s: "zzz"),
    "reducer raises": lambda lib: chain(lib, schema=Boom, a=lambda s: {"x": 1}).invoke({"x": 0}, T),
    "reducer raises on input": lambda lib: chain(lib, schema=Boom, a=lambda s: {}).invoke(
        {"x": 0}, T
    ),
    # outside a run
    "interrupt outside a run": lambda lib: lib.interrupt("x"),
    "get_stream_writer outside a run": lambda lib: lib.get_stream_writer()("x"),
    "get_store outside a run": lambda lib: lib.get_store(),
    "get_config outside a run": lambda lib: lib.get_config(),
    # state API
    "update_state no saver": lambda lib: chain(lib, saver=False).update_state(T, {"log": []}),
    "update_state as_node unknown": lambda lib: chain(lib).update_state(
        T, {"log": []}, as_node="zzz"
    ),
    "update_state values an int": lambda lib: chain(lib).update_state(T, 3, as_node="a"),
    "update_state no thread_id": lambda lib: chain(lib).update_state({}, {"log": []}),
    "get_state no thread_id": lambda lib: chain(lib).get_state({}),
    "get_state no saver": lambda lib: chain(lib, saver=False).get_state(T),
    "get_state_history filter a list": lambda lib: list(
        chain(lib).get_state_history(T, filter=[1])
    ),
    "get_state_history limit a string": lambda lib: list(
        chain(lib).get_state_history(T, limit="x")
    ),
    "bulk_update_state empty": lambda lib: chain(lib).bulk_update_state(T, []),
    # graph building
    "add_node twice": lambda lib: lib.StateGraph(State).add_node("a", len).add_node("a", len),
    "add_node reserved name": lambda lib: lib.StateGraph(State).add_node("__start__", len),
    "add_node name with |": lambda lib: lib.StateGraph(State).add_node("a|b", len),
    "add_node name with :": lambda lib: lib.StateGraph(State).add_node("a:b", len),
    "add_edge from END": lambda lib: lib.StateGraph(State).add_edge(lib.END, "a"),
    "compile edge to unknown": lambda lib: (
        lib.StateGraph(State)
        .add_node("a", len)
        .add_edge(lib.START, "a")
        .add_edge("a", "zzz")
        .compile()
    ),
    "compile no entry": lambda lib: lib.StateGraph(State).add_node("a", len).compile(),
    "compile interrupt_before unknown": lambda lib: (
        lib.StateGraph(State)
        .add_node("a", len)
        .add_edge(lib.START, "a")
        .compile(interrupt_before=["zzz"])
    ),
    "StateGraph of an int": lambda lib: lib.StateGraph(3),
    "RetryPolicy retry_on an int": lambda lib: _retry(lib, 123),
    "RetryPolicy retry_on empty": lambda lib: _retry(lib, ()),
    "RetryPolicy max_attempts 0": lambda lib: _retry(lib, ValueError, max_attempts=0),
    "entrypoint of a class": lambda lib: lib.entrypoint()(int),
    "task of a lambda, outside a run": lambda lib: lib.task(lambda x: x)(1),
    # store
    "store value not a dict": lambda lib: lib.InMemoryStore().put(("a",), "k", 3),
    "store value not JSON": lambda lib: _put_get(lib.InMemoryStore(), {"x": object()}),
    "sqlite store value not JSON": lambda lib: _put_get(_sqlite_store(lib), {"x": object()}),
    "store namespace empty": lambda lib: lib.InMemoryStore().put((), "k", {}),
    "store namespace label empty": lambda lib: lib.InMemoryStore().put(("",), "k", {}),
    "store namespace label with .": lambda lib: lib.InMemoryStore().put(("a.b",), "k", {}),
    "store namespace label an int": lambda lib: lib.InMemoryStore().put((1,), "k", {}),
    "store namespace a string": lambda lib: lib.InMemoryStore().put("ab", "k", {}),
    "store namespace langgraph": lambda lib: lib.InMemoryStore().put(("langgraph",), "k", {}),
    "sqlite store namespace label with .": lambda lib: _sqlite_store(lib).put(("a.b",), "k", {}),
    "store key an int": lambda lib: lib.InMemoryStore().put(("a",), 1, {}),
    "store ttl negative": lambda lib: lib.InMemoryStore().put(("a",), "k", {}, ttl=-1),
    "store ttl a string": lambda lib: lib.InMemoryStore().put(("a",), "k", {}, ttl="x"),
    "sqlite store ttl without config": lambda lib: _sqlite_store(lib).put(("a",), "k", {}, ttl=5),
    "store search filter unknown op": lambda lib: _search(lib.InMemoryStore(), {"x": {"$zz": 1}}),
    "sqlite store search filter unknown op": lambda lib: _search(
        _sqlite_store(lib), {"x": {"$zz": 1}}
    ),
    "store search filter a list": lambda lib: _search(lib.InMemoryStore(), [1]),
    "store search limit negative": lambda lib: lib.InMemoryStore().search(("a",), limit=-1),
    "store search query without index": lambda lib: lib.InMemoryStore().search(("a",), query="q"),
    "store get missing namespace": lambda lib: lib.InMemoryStore().get(("zz",), "k"),
    "store delete missing": lambda lib: lib.InMemoryStore().delete(("zz",), "k"),
    "store list_namespaces max_depth 0": lambda lib: lib.InMemoryStore().list_namespaces(
        max_depth=0
    ),
    "async store value not JSON": lambda lib: asyncio.run(
        lib.InMemoryStore().aput(("a",), "k", {"x": object()})
    ),
}


def _sends(lib: SimpleNamespace, route: Callable[[Any], Any]) -> Any:
    builder = lib.StateGraph(State)
    builder.add_node("a", lambda s: {"log": ["a"]})
    builder.add_node("b", lambda s: {"log": ["b"]})
    builder.add_edge(lib.START, "a")
    builder.add_conditional_edges("a", route)
    return builder.compile(checkpointer=lib.InMemorySaver()).invoke({"log": []}, T)


def _retry(lib: SimpleNamespace, retry_on: Any, **kwargs: Any) -> Any:
    calls = []

    def a(state: Any) -> Any:
        calls.append(1)
        if len(calls) < 3:
            raise ValueError("flaky")
        return {"log": ["a"]}

    policy = lib.RetryPolicy(initial_interval=0, jitter=False, retry_on=retry_on, **kwargs)
    builder = lib.StateGraph(State).add_node("a", a, retry_policy=policy)
    graph = builder.add_edge(lib.START, "a").compile()
    try:
        return [graph.invoke({"log": []}), len(calls)]
    except Exception as exc:
        return [type(exc).__name__, len(calls)]


def _put_get(store: Any, value: Any) -> Any:
    store.put(("a",), "k", value)
    return sorted(store.get(("a",), "k").value)


def _search(store: Any, filter: Any) -> Any:
    store.put(("a",), "k", {"x": 1})
    return [i.key for i in store.search(("a",), filter=filter)]


def _kept_after_bad_put(store: Any) -> Any:
    """A refused put leaves the item it would have replaced."""
    store.put(("a",), "k", {"x": 1})
    try:
        store.put(("a",), "k", {"x": object()})
    except Exception as exc:
        return [type(exc).__name__, store.get(("a",), "k").value]
    return ["ok", sorted(store.get(("a",), "k").value)]


def _kept_after_bad_step(lib: SimpleNamespace, update: bool) -> Any:
    """A step (or an update) whose reducer raises changes nothing saved."""
    graph = chain(lib, schema=Boom, a=lambda s: {"log": ["a"]})
    graph.invoke({"log": []}, T)
    before = graph.get_state(T)
    try:
        if update:
            graph.update_state(T, {"x": 2}, as_node="a")
        else:
            graph.invoke({"x": 3}, T)
    except Exception as exc:
        after = graph.get_state(T)
        same = after.config == before.config and after.values == before.values
        return [type(exc).__name__, same, after.next]
    return "ok"


CASES |= {
    "memory store keeps the item after a bad put": lambda lib: _kept_after_bad_put(
        lib.InMemoryStore()
    ),
    "sqlite store keeps the item after a bad put": lambda lib: _kept_after_bad_put(
        _sqlite_store(lib)
    ),
    "state kept after a reducer raises in a step": lambda lib: _kept_after_bad_step(lib, False),
    "state kept after a reducer raises in update_state": lambda lib: _kept_after_bad_step(
        lib, True
    ),
}


def outcome(lib: SimpleNamespace, case: Callable[[Any], Any]) -> tuple[str, ...]:
    """``("ok", value)`` or ``("error", type name, its base classes' names...)``."""
    try:
        value = case(lib)
    except Exception as exc:
        return ("error", *(c.__name__ for c in type(exc).__mro__[:-2]))
    if hasattr(value, "invoke") or type(value).__name__ in ("StateGraph", "Pregel"):
        return "ok", type(value).__name__
    return "ok", repr(value)[:200]


def agree(ours: tuple[str, ...], theirs: tuple[str, ...]) -> bool:
    """The same result, or an error of LangGraph's type (a subclass of it, for threadloom)."""
    if ours[0] == theirs[0] == "error":
        return theirs[1] in ours[1:]
    return ours == theirs


# Cases threadloom answers otherwise on purpose (docs/differences.md items, docs/store.md).
ALLOWED: dict[str, str] = {
    "config a string": "InvalidConfigError naming the value; LangGraph: AttributeError",
    "configurable None": "MissingThreadIdError (item 15); LangGraph: ValueError",
    "no thread_id": "MissingThreadIdError shows the config to pass (item 15)",
    "recursion_limit a string": "InvalidConfigError; LangGraph: TypeError from a comparison",
    "stream_mode unknown": "UnknownStreamModeError (item 18); LangGraph streams nothing",
    "stream_mode list with unknown": "UnknownStreamModeError (item 18)",
    "durability unknown": "ValueError (item 45); LangGraph accepts any value",
    "Command(goto=unknown)": "InvalidUpdateError listing the nodes (item 45)",
    "Command(update=int)": "InvalidUpdateError (item 32); LangGraph drops the update",
    "node returns Command(goto=unknown)": "InvalidUpdateError listing the nodes (item 45)",
    "branch returns an int": "UnknownBranchTargetError (item 13); LangGraph drops the route",
    "branch returns unknown name": "UnknownBranchTargetError (item 13)",
    "update_state no thread_id": "MissingThreadIdError (item 15); LangGraph: KeyError",
    "get_state no thread_id": "MissingThreadIdError (item 15); LangGraph: KeyError",
    "get_state_history filter a list": "InvalidSaverArgumentError (item 33)",
    "get_state_history limit a string": "InvalidSaverArgumentError (item 33)",
    "store value not a dict": "StoreArgumentError, a TypeError and a ValueError (store.md)",
    "sqlite store value not JSON": "TypeError before SQL; LangGraph: sqlite3 OperationalError",
    "store namespace a string": "InvalidNamespaceError; LangGraph files it under its letters",
    "store ttl negative": "ValueError (item 33, item 11: TTL in memory)",
    "store ttl a string": "ValueError (item 11: TTL in memory); LangGraph: NotImplementedError",
    "sqlite store ttl without config": "stored with its ttl (item 11); LangGraph: SQL error",
    "store search filter unknown op": "StoreFilterError, a ValueError (store.md)",
    "sqlite store search filter unknown op": "StoreFilterError (item 9: one filter language)",
    "store search filter a list": "StoreFilterError; LangGraph: AttributeError",
    "store search limit negative": "StoreArgumentError (store.md); LangGraph returns []",
    "sqlite store keeps the item after a bad put": "TypeError; LangGraph: OperationalError",
}


def main() -> int:
    ours, theirs = load("threadloom"), load("langgraph")
    differ, raw = [], []
    for name, case in CASES.items():
        a, b = outcome(ours, case), outcome(theirs, case)
        if a[0] == "error" and a[1] in ("AttributeError", "KeyError", "IndexError"):
            raw.append(name)
        if not agree(a, b) and name not in ALLOWED:
            differ.append(name)
        if "-v" in sys.argv or name in differ:
            print(f"{name:45} threadloom {a[:2]}\n{'':45} langgraph  {b[:2]}")
    print(f"{len(CASES)} cases, {len(differ)} differ, {len(raw)} raw internal errors: {raw}")
    return 1 if differ or raw else 0


if __name__ == "__main__":
    sys.exit(main())
