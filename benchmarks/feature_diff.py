"""Features side by side: random programs using what `behaviour_diff.py` and `fault_diff.py` do not.

Not a speed benchmark, but it needs LangGraph (run it with `.bench-venv`). Each seed builds a
parent graph with a subgraph node (compiled with a random checkpointer setting: inherit, ``True``
or ``False``) and runs it sync or async, on ``InMemorySaver`` or SQLite, with an ``InMemoryStore``.
Nodes may write to the stream (``get_stream_writer``), call a fake chat model (``messages``
mode), put and search the store, ask a question (``interrupt``), fan out (``Send``) or, inside the
subgraph, route the parent (``Command(graph=Command.PARENT, goto=..., update=...)``). Each run
streams a random set of modes (``values``, ``updates``, ``custom``, ``messages``, ``debug``,
``tasks``, ``checkpoints``), with or without ``subgraphs=True``. Between runs the state may be
edited (``update_state`` with a random ``as_node``, sometimes with ``Overwrite``), and a run
may be resumed with ``Command(resume=..., update=...)`` or go on with
``Command(update=..., goto=...)``. Compared: every chunk (ids and timestamps masked; the order
within a step ignored), each run's error type, the chain runs a callback handler sees (start,
end or error with its type, by run name; counted, as parallel tasks report in any order), the
snapshot (with ``subgraphs=True``), the history with a filter, ``before`` and ``limit``, and
the store's items.

    .bench-venv/bin/python benchmarks/feature_diff.py            # seeds 0-199
    .bench-venv/bin/python benchmarks/feature_diff.py 0 500 -v   # print the first difference
"""

from __future__ import annotations

import asyncio
import importlib
import json
import operator
import random
import re
import sqlite3
import sys
from types import SimpleNamespace
from typing import Annotated, Any, TypedDict

import aiosqlite
import behaviour_diff
import fault_diff
from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage


class State(TypedDict, total=False):
    log: Annotated[list[str], operator.add]
    n: Annotated[int, operator.add]
    arg: int


KINDS = ["plain", "custom", "msg", "store", "ask", "send"]
MODES = ["values", "updates", "custom", "messages", "debug", "tasks", "checkpoints"]


def load(root: str) -> SimpleNamespace:
    """The names the programs need, from ``threadloom`` or ``langgraph``."""
    config = importlib.import_module(f"{root}.config")
    types = importlib.import_module(f"{root}.types")
    store = importlib.import_module(f"{root}.store.memory")
    sqlite = importlib.import_module(f"{root}.checkpoint.sqlite")
    aio = importlib.import_module(f"{root}.checkpoint.sqlite.aio")
    return SimpleNamespace(
        **vars(behaviour_diff.load(root)),
        get_store=config.get_store,
        get_stream_writer=config.get_stream_writer,
        Overwrite=types.Overwrite,
        InMemoryStore=store.InMemoryStore,
        SqliteSaver=sqlite.SqliteSaver,
        AsyncSqliteSaver=aio.AsyncSqliteSaver,
    )


def _node(lib: SimpleNamespace, name: str, kind: str, parent_target: str | None) -> Any:
    def node(state: Any) -> Any:
        out: dict[str, Any] = {"log": [name], "n": 1}
        if "arg" in state:
            out["log"] = [f"{name}<{state['arg']}"]
        if kind == "custom":
            lib.get_stream_writer()({"from": name, "n": state.get("n", 0)})
        elif kind == "msg":
            model = GenericFakeChatModel(messages=iter([AIMessage(content=f"{name} says hi")]))
            out["log"] = [model.invoke(f"{name}?").content]
        elif kind == "store":
            store = lib.get_store()
            store.put(("ns", name), f"k{state.get('n', 0)}", {"by": name, "n": state.get("n", 0)})
            out["log"] = [f"{name}:{sorted(i.key for i in store.search(('ns',)))}"]
        elif kind == "ask":
            out["log"] = [f"{name}:{lib.interrupt(f'{name}?')}"]
        elif kind == "parent" and parent_target is not None:
            return lib.Command(graph=lib.Command.PARENT, goto=parent_target, update=out)
        return out

    return node


def _chain(lib: SimpleNamespace, kinds: list[str], nodes: dict[str, Any]) -> Any:
    builder = lib.StateGraph(State)
    names = list(nodes)
    for name in names:
        builder.add_node(name, nodes[name])
    builder.add_edge(lib.START, names[0])
    for i, name in enumerate(names[:-1]):
        if kinds[i] == "send":
            target = names[i + 1]
            builder.add_conditional_edges(
                name, lambda s, t=target: [lib.Send(t, {"arg": k}) for k in range(2)]
            )
        else:
            builder.add_edge(name, names[i + 1])
    return builder


def build(lib: SimpleNamespace, rng: random.Random, saver: Any, store: Any) -> Any:
    top = [f"p{i}" for i in range(rng.randint(2, 4))]
    at = rng.randrange(1, len(top) + 1)  # the subgraph node's place in the parent chain
    top.insert(at, "sub")
    kinds = ["plain" if n == "sub" else rng.choice(KINDS) for n in top]
    kinds[0] = "plain" if kinds[0] == "ask" else kinds[0]
    for i in range(len(kinds) - 1):
        if kinds[i] == "send" and top[i + 1] == "sub":  # a Send carries an arg the subgraph ignores
            kinds[i] = "plain"
    kinds[-1] = "plain" if kinds[-1] == "send" else kinds[-1]
    after = top[at + 1] if at + 1 < len(top) else None
    sub_names = [f"s{i}" for i in range(rng.randint(1, 3))]
    sub_kinds = [rng.choice([*KINDS[:-1], "parent"]) for _ in sub_names]
    sub_nodes = {n: _node(lib, n, k, after) for n, k in zip(sub_names, sub_kinds, strict=True)}
    sub_builder = _chain(lib, [*sub_kinds[:-1], "plain"], sub_nodes)
    sub_saver = rng.choice([None, True, False])
    sub = sub_builder.compile(checkpointer=sub_saver)
    nodes = {n: _node(lib, n, k, None) for n, k in zip(top, kinds, strict=True)}
    nodes["sub"] = sub
    graph = _chain(lib, kinds, nodes).compile(checkpointer=saver, store=store)
    shape = [list(zip(top, kinds, strict=True)), list(zip(sub_names, sub_kinds, strict=True))]
    return graph, top, [*shape, repr(sub_saver)]


class Driver:
    """The program's sync or async API, called with the same arguments."""

    def __init__(self, lib: SimpleNamespace, is_async: bool, backend: str) -> None:
        self.loop = asyncio.new_event_loop() if is_async else None
        self.conn: Any = None
        if backend == "memory":
            self.saver = lib.InMemorySaver()
        elif self.loop is None:
            self.conn = sqlite3.connect(":memory:", check_same_thread=False)
            self.saver = lib.SqliteSaver(self.conn)
        else:

            async def open_saver() -> Any:  # the saver binds the running loop
                self.conn = await aiosqlite.connect(":memory:")
                return lib.AsyncSqliteSaver(self.conn)

            self.saver = self.loop.run_until_complete(open_saver())

    def close(self) -> None:
        if self.loop is not None:
            if self.conn is not None:
                self.loop.run_until_complete(self.conn.close())
            self.loop.close()
        elif self.conn is not None:
            self.conn.close()

    def wait(self, sync: Any, name: str, *args: Any, **kwargs: Any) -> Any:
        if self.loop is None:
            return getattr(sync, name)(*args, **kwargs)
        return self.loop.run_until_complete(getattr(sync, "a" + name)(*args, **kwargs))

    def collect(self, graph: Any, name: str, *args: Any, **kwargs: Any) -> list[Any]:
        if self.loop is None:
            return list(getattr(graph, name)(*args, **kwargs))

        async def gather() -> list[Any]:
            return [c async for c in getattr(graph, "a" + name)(*args, **kwargs)]

        return self.loop.run_until_complete(gather())


_ID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|[0-9a-f]{32}")
_TIME = re.compile(r"\d{4}-\d\d-\d\dT[\d:.]+(\+00:00|Z)?")
_RUN = re.compile(r"(lc_)?run-+<id>(-\d+)?")


def mask(value: Any) -> Any:
    """JSON-able form with ids and timestamps masked; messages by type and content."""
    if isinstance(value, dict):
        return {mask(str(k)): mask(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [mask(v) for v in value]
    if isinstance(value, str):
        return _RUN.sub("<run>", _TIME.sub("<ts>", _ID.sub("<id>", value)))
    if type(value).__name__ == "Interrupt":
        return {"interrupt": mask(value.value)}
    if hasattr(value, "content") and hasattr(value, "type"):
        return {"message": value.type, "content": value.content}
    if type(value).__name__ == "Overwrite":
        return {"overwrite": mask(value.value)}
    if value is None or isinstance(value, int | float | bool):
        return value
    return type(value).__name__


def chunks(raw: list[Any]) -> list[str]:
    """Masked chunks; within one step (between root ``values``/``checkpoints`` chunks, a pause's
    ``values`` chunk not counted, as in ``behaviour_diff``) sorted."""
    out: list[str] = []
    step: list[str] = []
    for chunk in raw:
        text = json.dumps(mask(chunk), sort_keys=True)
        ns, mode = (chunk[0], chunk[1]) if len(chunk) == 3 else ((), chunk[0])
        payload = chunk[-1]
        paused = isinstance(payload, dict) and "__interrupt__" in payload
        if not ns and mode in ("values", "checkpoints") and not paused:
            out += sorted(step)
            step = []
            out.append(text)
        else:
            step.append(text)
    return out + sorted(step)


def snapshot(state: Any) -> Any:
    tasks = []
    for t in state.tasks:
        inner = snapshot(t.state) if hasattr(t.state, "next") else None
        tasks.append([t.name, [i.value for i in t.interrupts], inner])
    return mask([state.values, state.next, sorted(tasks, key=repr), state.metadata])


def run(lib: SimpleNamespace, seed: int) -> list[Any]:
    rng = random.Random(seed)
    is_async = rng.random() < 0.5
    backend = rng.choice(["memory", "sqlite"])
    driver = Driver(lib, is_async, backend)
    store = lib.InMemoryStore()
    graph, top, shape = build(lib, rng, driver.saver, store)
    config = {"configurable": {"thread_id": "t"}, "recursion_limit": 30}
    record: list[Any] = [["async" if is_async else "sync", backend, shape]]
    value: Any = {"log": [], "n": 0}
    try:
        for attempt in range(5):
            modes = rng.sample(MODES, rng.randint(1, 4))
            subgraphs = rng.random() < 0.5
            single = len(modes) == 1 and rng.random() < 0.5  # a mode, not a list of modes
            kwargs = {"stream_mode": modes[0] if single else modes, "subgraphs": subgraphs}
            record.append([modes, single, subgraphs])
            runs = fault_diff.Runs()
            traced = {**config, "callbacks": [runs]}
            try:
                raw = driver.collect(graph, "stream", value, traced, **kwargs)
                if single:
                    raw = [(c[0], modes[0], c[1]) if subgraphs else (modes[0], c) for c in raw]
                record.append(chunks(raw))
            except Exception as exc:  # both libraries must fail the same way
                record.append(["error", type(exc).__name__])
            record.append(runs.counted())
            state = driver.wait(graph, "get_state", config, subgraphs=True)
            record.append(snapshot(state))
            if not state.next:
                break
            if rng.random() < 0.3:
                edit: Any = [f"edit{attempt}"]
                edit = lib.Overwrite(edit) if rng.random() < 0.5 else edit
                as_node = rng.choice([None, *top])
                try:
                    driver.wait(graph, "update_state", config, {"log": edit}, as_node=as_node)
                    edited = driver.wait(graph, "get_state", config)
                    record.append(["edit", as_node, snapshot(edited)])
                except Exception as exc:
                    record.append(["edit", as_node, "error", type(exc).__name__])
                state = driver.wait(graph, "get_state", config)
            pending = state.interrupts
            value = None
            update = {"log": [f"cmd{attempt}"]} if rng.random() < 0.3 else None
            if pending:
                answer: Any = f"a{attempt}"
                if len(pending) > 1:
                    answer = {i.id: f"a{attempt}" for i in pending}
                value = lib.Command(resume=answer, update=update)
            elif update is not None or rng.random() < 0.3:
                value = lib.Command(update=update, goto=rng.choice(top))
        history = driver.collect(graph, "get_state_history", config)
        record.append([[s.metadata.get("step"), s.metadata.get("source"), s.next] for s in history])
        source = rng.choice(["loop", "input", "update"])
        before = history[rng.randrange(len(history))].config if history else None
        limit = rng.choice([None, 1, 2, 5])
        wanted = {"filter": {"source": source}, "before": before, "limit": limit}
        picked = driver.collect(graph, "get_state_history", config, **wanted)
        record.append([source, limit, [[s.metadata.get("step"), s.next] for s in picked]])
    except Exception as exc:
        record.append(["run error", type(exc).__name__])
    finally:
        driver.close()
    record.append(sorted([i.namespace, i.key, i.value] for i in store.search(("ns",), limit=100)))
    return mask(record)  # type: ignore[no-any-return]


def main() -> int:
    return fault_diff.compare(run, load, "programs")


if __name__ == "__main__":
    sys.exit(main())
