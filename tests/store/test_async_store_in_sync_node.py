"""An async store made in async code serves a sync node under ``ainvoke`` at once, as in
LangGraph: the node runs in a worker thread and its sync ``search``/``put`` are run on the
store's event loop, without any async call on the store first."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from threadloom.graph import START, MessagesState, StateGraph
from threadloom.store.base import BaseStore
from threadloom.store.sqlite.aio import AsyncSqliteStore


def remember(state: MessagesState, *, store: BaseStore) -> dict[str, Any]:
    store.put(("notes",), "last", {"text": state["messages"][-1].content})
    found = store.search(("notes",))
    return {"messages": [("ai", f"{len(found)} note: {found[0].value['text']}")]}


async def test_sync_node_uses_a_fresh_async_sqlite_store(tmp_path: Path) -> None:
    builder = StateGraph(MessagesState)
    builder.add_node("remember", remember)
    builder.add_edge(START, "remember")
    async with AsyncSqliteStore.from_conn_string(str(tmp_path / "s.db")) as store:
        await store.setup()  # the tables, through another store on the same connection
        fresh = AsyncSqliteStore(store.conn)  # made here, in async code, never used yet
        graph = builder.compile(store=fresh)
        result = await graph.ainvoke({"messages": [("user", "buy tea")]})
    assert result["messages"][-1].content == "1 note: buy tea"
