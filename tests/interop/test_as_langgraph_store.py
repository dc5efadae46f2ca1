"""``as_langgraph_store``: every threadloom store as a real LangGraph ``BaseStore``, used by
LangGraph's engine (injected ``store`` argument and ``langgraph.config.get_store()``), by
LangGraph's op records through ``batch``/``abatch``, and with threadloom's own argument checks.

(No ``from __future__ import annotations`` here: LangGraph injects ``store`` into a node by
its evaluated annotation.)
"""

import asyncio
from typing import Any

import pytest
from interop_backends import STORE_BACKENDS, Storage, open_store
from langchain_core.messages import AIMessage, HumanMessage
from langgraph.checkpoint.memory import InMemorySaver as LangGraphInMemorySaver
from langgraph.config import get_store
from langgraph.graph import START, MessagesState, StateGraph
from langgraph.store import base as lg

from threadloom.errors import InvalidNamespaceError, StoreFilterError
from threadloom.interop.langgraph import LangGraphStore, as_langgraph_store


@pytest.fixture(params=STORE_BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    """The name of the threadloom store backend under test."""
    return str(request.param)


def _memory_graph(store: lg.BaseStore) -> Any:
    def remember(state: MessagesState, *, store: lg.BaseStore) -> dict[str, Any]:
        text = str(state["messages"][-1].content)
        store.put(("memories", "u1"), f"m{len(state['messages'])}", {"text": text, "n": 1})
        return {}

    async def recall(state: MessagesState) -> dict[str, Any]:
        found = await get_store().asearch(("memories",), filter={"n": {"$gte": 1}})
        texts = sorted(item.value["text"] for item in found)
        kinds = {type(item) for item in found}
        return {"messages": [AIMessage(f"{texts} {sorted(k.__module__ for k in kinds)}")]}

    builder = StateGraph(MessagesState)
    builder.add_node("remember", remember)
    builder.add_node("recall", recall)
    builder.add_edge(START, "remember")
    builder.add_edge("remember", "recall")
    return builder.compile(checkpointer=LangGraphInMemorySaver(), store=store)


async def test_a_langgraph_graph_reads_and_writes_through_the_store(
    backend: str, new_storage: Storage
) -> None:
    async with open_store(backend, new_storage()) as store:
        wrapped = as_langgraph_store(store)
        graph = _memory_graph(wrapped)
        config: Any = {"configurable": {"thread_id": "t"}}
        await graph.ainvoke({"messages": [HumanMessage("I like tea")]}, config)
        out = await graph.ainvoke({"messages": [HumanMessage("and cake")]}, config)
        assert out["messages"][-1].content == (
            "['I like tea', 'and cake'] ['langgraph.store.base']"
        )
        # what the graph wrote is the threadloom store's own data
        item = await store.aget(("memories", "u1"), "m1")
        assert item is not None and item.value == {"text": "I like tea", "n": 1}


async def test_langgraph_op_records_run_through_batch(backend: str, new_storage: Storage) -> None:
    async with open_store(backend, new_storage()) as store:
        wrapped = as_langgraph_store(store)
        puts: list[Any] = [
            lg.PutOp(("docs", "a"), "k1", {"v": 1}),
            lg.PutOp(("docs", "b"), "k2", {"v": 2}),
        ]
        assert await wrapped.abatch(puts) == [None, None]
        ops: list[Any] = [
            lg.GetOp(("docs", "a"), "k1"),
            lg.SearchOp(("docs",), {"v": {"$gt": 1}}),
            lg.ListNamespacesOp((lg.MatchCondition("prefix", ("docs",)),), max_depth=2),
            lg.GetOp(("docs", "a"), "missing"),
        ]
        results = await wrapped.abatch(ops)
        assert type(results[0]) is lg.Item and results[0].value == {"v": 1}
        assert [(type(r), r.key) for r in results[1]] == [(lg.SearchItem, "k2")]
        assert results[2] == [("docs", "a"), ("docs", "b")]
        assert results[3] is None
        again = await asyncio.to_thread(wrapped.batch, [lg.GetOp(("docs", "b"), "k2")])
        assert type(again[0]) is lg.Item and again[0].dict()["value"] == {"v": 2}


async def test_the_store_s_own_checks_and_errors_apply(backend: str, new_storage: Storage) -> None:
    async with open_store(backend, new_storage()) as store:
        wrapped = as_langgraph_store(store)
        with pytest.raises(InvalidNamespaceError):
            await wrapped.aput((), "k", {"v": 1})
        with pytest.raises(StoreFilterError):
            await wrapped.asearch(("docs",), filter={"v": {"$regex": "x"}})
        await wrapped.aput(("docs",), "k", {"v": 1})
        assert await wrapped.alist_namespaces(prefix=("docs",)) == [("docs",)]
        await wrapped.adelete(("docs",), "k")
        assert await wrapped.aget(("docs",), "k") is None


def test_the_sync_methods_return_langgraph_items(tmp_path: Any) -> None:
    from threadloom.store.memory import InMemoryStore

    wrapped = as_langgraph_store(InMemoryStore())
    assert isinstance(wrapped, lg.BaseStore) and isinstance(wrapped, LangGraphStore)
    assert as_langgraph_store(wrapped) is wrapped
    wrapped.put(("a",), "k", {"v": 1})
    got = wrapped.get(("a",), "k")
    assert type(got) is lg.Item and got.value == {"v": 1}
    assert [type(i) for i in wrapped.search(("a",))] == [lg.SearchItem]
    assert wrapped.list_namespaces() == [("a",)]
    wrapped.delete(("a",), "k")
    assert wrapped.get(("a",), "k") is None
    with pytest.raises(TypeError, match=r"as_langgraph_store\(\) takes a threadloom"):
        as_langgraph_store(lg.BaseStore)  # type: ignore[arg-type]
