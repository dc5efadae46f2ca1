"""Mistakes LangGraph refuses are refused here too, with the same exception type or a subclass
of it (our message names the value and the fix; LangGraph's often comes from deep inside).

Each case is a function of the import root, run once with ``langgraph`` and once with
``threadloom``. Where LangGraph raises, threadloom must raise an exception whose class (or a base
of it) has the same name: a builtin is compared as itself, a LangGraph class by its name
(``InvalidUpdateError`` ↔ ``threadloom.errors.InvalidUpdateError``). Where LangGraph accepts a
mistake silently, threadloom may refuse it (``docs/differences.md``): not checked here. Left
out on purpose: an empty ``Command()`` as input (LangGraph crashes with ``UnboundLocalError``;
threadloom raises ``EmptyInputError``, differences item 13).
"""

from __future__ import annotations

import asyncio
import importlib
import operator
import sqlite3
from collections.abc import Callable
from typing import Annotated, Any, TypedDict

import pytest

pytest.importorskip("langgraph")


class Counter(TypedDict):
    n: int
    log: Annotated[list[str], operator.add]


def _m(root: str, name: str) -> Any:
    return importlib.import_module(f"{root}.{name}")


def _builder(root: str) -> Any:
    graph = _m(root, "graph").StateGraph(Counter)
    graph.add_node("inc", lambda s: {"n": s["n"] + 1})
    return graph


def _compiled(root: str, **options: Any) -> Any:
    graph = _builder(root)
    graph.add_edge(_m(root, "graph").START, "inc")
    return graph.compile(**options)


def _saved(root: str) -> Any:
    return _compiled(root, checkpointer=_m(root, "checkpoint.memory").InMemorySaver())


def _returning(root: str, value: Any) -> Any:
    graph = _m(root, "graph").StateGraph(Counter)
    graph.add_node("inc", lambda s: value(root))
    graph.add_edge(_m(root, "graph").START, "inc")
    return graph.compile()


def _sqlite_saver(root: str) -> Any:
    connection = sqlite3.connect(":memory:", check_same_thread=False)
    saver = _m(root, "checkpoint.sqlite").SqliteSaver(connection)
    saver.setup()
    return saver


def _command(root: str, **fields: Any) -> Any:
    return _m(root, "types").Command(**fields)


THREAD: Any = {"configurable": {"thread_id": "t"}}

CASES: dict[str, Callable[[str], Any]] = {
    # builder
    "node added twice": lambda r: _builder(r).add_node("inc", lambda s: {}),
    "node named START": lambda r: _builder(r).add_node("__start__", lambda s: {}),
    "node name with ':'": lambda r: _builder(r).add_node("a:b", lambda s: {}),
    "node that is a number": lambda r: _builder(r).add_node("x", 42),
    "node without a function": lambda r: _builder(r).add_node("x"),
    "edge from END": lambda r: _builder(r).add_edge(_m(r, "graph").END, "inc"),
    "edge to START": lambda r: _builder(r).add_edge("inc", _m(r, "graph").START),
    "edge to an unknown node": lambda r: _builder(r).add_edge("inc", "nowhere").compile(),
    "join on an unknown node": lambda r: _builder(r).add_edge(["inc", "nowhere"], "inc"),
    "branch from an unknown node": lambda r: (
        _builder(r).set_entry_point("inc").add_conditional_edges("nowhere", len).compile()
    ),
    "branch map to an unknown node": lambda r: (
        _builder(r).set_entry_point("inc").add_conditional_edges("inc", len, {1: "no"}).compile()
    ),
    "branch that is a number": lambda r: (
        _builder(r).set_entry_point("inc").add_conditional_edges("inc", 5).compile()
    ),
    "no entry point": lambda r: _builder(r).compile(),
    "entry point unknown": lambda r: _builder(r).set_entry_point("nowhere").compile(),
    "empty sequence": lambda r: _builder(r).add_sequence([]),
    # compile
    "checkpointer a string": lambda r: _compiled(r, checkpointer="memory"),
    "breakpoint on an unknown node": lambda r: _compiled(r, interrupt_before=["nowhere"]),
    "breakpoints a string": lambda r: _compiled(r, interrupt_before="inc"),
    "breakpoints a number": lambda r: _compiled(r, interrupt_after=5),
    "checkpointer=True on a root graph": lambda r: _compiled(r, checkpointer=True).invoke({"n": 1}),
    # invoke
    "config a number": lambda r: _compiled(r).invoke({"n": 1}, 5),
    "config a string": lambda r: _compiled(r).invoke({"n": 1}, "t"),
    "config a list": lambda r: _compiled(r).invoke({"n": 1}, []),
    "configurable a number": lambda r: _compiled(r).invoke({"n": 1}, {"configurable": 5}),
    "metadata a number": lambda r: _compiled(r).invoke({"n": 1}, {"metadata": 5}),
    "tags a number": lambda r: _compiled(r).invoke({"n": 1}, {"tags": 5}),
    "recursion_limit a string": lambda r: _compiled(r).invoke({"n": 1}, {"recursion_limit": "9"}),
    "recursion_limit 0": lambda r: _compiled(r).invoke({"n": 1}, {"recursion_limit": 0}),
    "max_concurrency 0": lambda r: _compiled(r).invoke({"n": 1}, {"max_concurrency": 0}),
    "max_concurrency a string": lambda r: _compiled(r).invoke({"n": 1}, {"max_concurrency": "2"}),
    "async config a number": lambda r: asyncio.run(_compiled(r).ainvoke({"n": 1}, 5)),
    "no thread_id": lambda r: _saved(r).invoke({"n": 1}),
    "async no thread_id": lambda r: asyncio.run(_saved(r).ainvoke({"n": 1})),
    "input a number": lambda r: _compiled(r).invoke(5),
    "input None": lambda r: _compiled(r).invoke(None),
    "unknown output key": lambda r: _compiled(r).invoke({"n": 1}, output_keys=["nope"]),
    "node returns a number": lambda r: _returning(r, lambda _r: 5).invoke({"n": 1}),
    "node returns a list": lambda r: _returning(r, lambda _r: [1]).invoke({"n": 1}),
    "two writes to one value": lambda r: (
        _builder(r)
        .add_node("also", lambda s: {"n": 0})
        .add_edge(_m(r, "graph").START, "inc")
        .add_edge(_m(r, "graph").START, "also")
        .compile()
        .invoke({"n": 1})
    ),
    # Command, interrupt and friends
    "resume without a checkpointer": lambda r: _compiled(r).invoke(_command(r, resume=1)),
    "interrupt outside a run": lambda r: _m(r, "types").interrupt("why?"),
    "get_config outside a run": lambda r: _m(r, "config").get_config(),
    "get_store outside a run": lambda r: _m(r, "config").get_store(),
    "get_stream_writer outside a run": lambda r: _m(r, "config").get_stream_writer(),
    # state API
    "get_state without a checkpointer": lambda r: _compiled(r).get_state(THREAD),
    "get_state without a thread": lambda r: _saved(r).get_state({}),
    "update_state as an unknown node": lambda r: _saved(r).update_state(
        THREAD, {"n": 1}, as_node="nowhere"
    ),
    "update_state with a number": lambda r: _saved(r).update_state(THREAD, 5, as_node="inc"),
    "bulk_update_state with nothing": lambda r: _saved(r).bulk_update_state(THREAD, []),
    # store
    "store put under ()": lambda r: _m(r, "store.memory").InMemoryStore().put((), "k", {}),
    "store label not a string": lambda r: (
        _m(r, "store.memory").InMemoryStore().put(("a", 5), "k", {})
    ),
    "store label empty": lambda r: _m(r, "store.memory").InMemoryStore().put(("a", ""), "k", {}),
    "store label with a dot": lambda r: (
        _m(r, "store.memory").InMemoryStore().put(("a.b",), "k", {})
    ),
    "store root label langgraph": lambda r: (
        _m(r, "store.memory").InMemoryStore().put(("langgraph",), "k", {})
    ),
    "store value a number": lambda r: _m(r, "store.memory").InMemoryStore().put(("a",), "k", 5),
    "store value a string": lambda r: _m(r, "store.memory").InMemoryStore().put(("a",), "k", "x"),
    "store op not an op": lambda r: _m(r, "store.memory").InMemoryStore().batch([5]),
    # savers
    "saver get without configurable": lambda r: _m(r, "checkpoint.memory").InMemorySaver().get({}),
    "saver get without thread_id": lambda r: (
        _m(r, "checkpoint.memory").InMemorySaver().get_tuple({"configurable": {}})
    ),
    "sqlite saver get without thread_id": lambda r: _sqlite_saver(r).get_tuple(
        {"configurable": {}}
    ),
    "sqlite saver put_writes without thread_id": lambda r: _sqlite_saver(r).put_writes(
        {"configurable": {}}, [("n", 1)], "task"
    ),
    # functional API
    "entrypoint without a parameter": lambda r: _m(r, "func").entrypoint()(lambda: 1),
    "entrypoint with a string checkpointer": lambda r: _m(r, "func").entrypoint(checkpointer="x")(
        lambda x: x
    ),
    "task called outside a run": lambda r: _m(r, "func").task(lambda x: x)(1),
}


def _outcome(root: str, case: Callable[[str], Any]) -> BaseException | None:
    try:
        case(root)
    except Exception as error:
        return error
    return None


def _names(error: BaseException) -> set[str]:
    return {cls.__name__ for cls in type(error).__mro__}


@pytest.mark.parametrize("name", list(CASES))
def test_threadloom_refuses_what_langgraph_refuses(name: str) -> None:
    case = CASES[name]
    theirs = _outcome("langgraph", case)
    assert theirs is not None, f"{name}: LangGraph accepts this now; the case is stale"
    ours = _outcome("threadloom", case)
    assert ours is not None, f"{name}: LangGraph raises {theirs!r}, threadloom accepts it"
    wanted = type(theirs)
    if wanted.__module__ == "builtins":
        assert isinstance(ours, wanted), f"{name}: {ours!r} is no {wanted.__name__}"
    else:
        assert wanted.__name__ in _names(ours), f"{name}: {ours!r} is no {wanted.__name__}"
