"""threadloom's storage under LangGraph's engine: a long chat, bytes on disk and time per turn.

The same LangGraph program (``langgraph.graph.StateGraph(MessagesState)``, one node answering the
last message, default durability) chats ``--turns`` turns on one thread twice in the same run:

- on ``as_langgraph_saver(threadloom SqliteSaver)``,
- on LangGraph's own ``langgraph.checkpoint.sqlite.SqliteSaver``,

and prints the database size after the chat (database + WAL files, savers closed) and the mean
ms per turn over the first and the last ``--window`` turns. Both runs must end with the same
conversation (checked), so a saver that loses messages cannot win. Target (issue 13): threadloom's
file at most 1/20 of LangGraph's.

Needs ``langgraph`` and ``langgraph-checkpoint-sqlite``: the project's ``.venv`` (extra
``test-langgraph``), or ``bash benchmarks/setup.sh langgraph-checkpoint-sqlite``.

    .venv/bin/python benchmarks/interop_size.py               # 500 turns
    .venv/bin/python benchmarks/interop_size.py --turns 100   # quicker
"""

from __future__ import annotations

import argparse
import contextlib
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from langchain_core.messages import AIMessage, HumanMessage
from langgraph.graph import START, MessagesState, StateGraph


def _chat_graph(checkpointer: Any) -> Any:
    def answer(state: MessagesState) -> dict[str, Any]:
        return {"messages": [AIMessage(f"echo: {state['messages'][-1].content}")]}

    builder = StateGraph(MessagesState)
    builder.add_node("answer", answer)
    builder.add_edge(START, "answer")
    return builder.compile(checkpointer=checkpointer)


def _user_text(turn: int) -> str:
    # a realistic short message (~120 bytes), different every turn
    return f"turn {turn}: please summarise what we said so far and suggest the next step to take."


@contextlib.contextmanager
def _threadloom(path: str) -> Iterator[Any]:
    from threadloom.checkpoint.sqlite import SqliteSaver
    from threadloom.interop.langgraph import as_langgraph_saver

    with SqliteSaver.from_conn_string(path) as saver:
        yield as_langgraph_saver(saver)


@contextlib.contextmanager
def _langgraph(path: str) -> Iterator[Any]:
    from langgraph.checkpoint.sqlite import SqliteSaver

    with SqliteSaver.from_conn_string(path) as saver:
        yield saver


SAVERS: dict[str, Callable[[str], contextlib.AbstractContextManager[Any]]] = {
    "as_langgraph_saver(threadloom SqliteSaver)": _threadloom,
    "LangGraph SqliteSaver": _langgraph,
}


def _bytes_on_disk(path: Path) -> int:
    files = [path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")]
    return sum(f.stat().st_size for f in files if f.exists())


def run_chat(open_saver: Callable[[str], Any], path: Path, turns: int) -> tuple[list[float], Any]:
    """Seconds per turn, and the final conversation (type and text of each message)."""
    config: Any = {"configurable": {"thread_id": "chat"}}
    times: list[float] = []
    with open_saver(str(path)) as checkpointer:
        graph = _chat_graph(checkpointer)
        for turn in range(turns):
            start = time.perf_counter()
            graph.invoke({"messages": [HumanMessage(_user_text(turn))]}, config)
            times.append(time.perf_counter() - start)
        final = [(m.type, m.content) for m in graph.get_state(config).values["messages"]]
    return times, final


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--turns", type=int, default=500)
    parser.add_argument("--window", type=int, default=50, help="turns averaged at each end")
    args = parser.parse_args()
    window = min(args.window, args.turns)
    rows: list[tuple[str, int, float, float]] = []
    conversations = []
    with tempfile.TemporaryDirectory() as folder:
        for index, (name, open_saver) in enumerate(SAVERS.items()):
            path = Path(folder) / f"chat{index}.db"
            times, final = run_chat(open_saver, path, args.turns)
            conversations.append(final)
            early = sum(times[:window]) / window * 1000
            late = sum(times[-window:]) / window * 1000
            rows.append((name, _bytes_on_disk(path), early, late))
    if conversations[0] != conversations[1] or len(conversations[0]) != 2 * args.turns:
        raise SystemExit("the two savers ended with different conversations: figures void")
    print(f"{args.turns}-turn chat on LangGraph's engine, one thread, same run")
    print(f"{'checkpointer':<44}{'MB on disk':>12}{'ms/turn first':>15}{'ms/turn last':>14}")
    for name, size, early, late in rows:
        print(f"{name:<44}{size / 1e6:>12.2f}{early:>15.2f}{late:>14.2f}")
    (_, tl_size, tl_early, tl_late), (_, lg_size, lg_early, lg_late) = rows
    print(
        f"threadloom / LangGraph: bytes 1/{lg_size / tl_size:.0f} (target at least 1/20), "
        f"first turns {tl_early / lg_early:.2f}x, last turns {tl_late / lg_late:.2f}x"
    )


if __name__ == "__main__":
    main()
