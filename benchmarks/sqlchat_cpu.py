"""What a SQLite chat turn costs in CPU time, side by side, and what it says to SQLite.

``run.py sqlchat500`` times turns by the wall clock, which on the shared 2-core container is
mostly time spent waiting for a core (a 3 ms turn takes 15-20 ms of wall time when the load
average is 10). This runs the same 500-turn chat (``workloads._chat_graph`` on each library's
``SqliteSaver``) and reports process time (``time.process_time``) per turn over turns 1-50 and
451-500, for threadloom and LangGraph alternately, plus the statements threadloom runs per turn
(counted with the connection's trace callback, which reports an ``executemany`` once per row):

    .bench-venv/bin/python benchmarks/sqlchat_cpu.py            # 2 rounds
    .bench-venv/bin/python benchmarks/sqlchat_cpu.py --rounds 3

Needs ``langgraph-checkpoint-sqlite`` in ``.bench-venv`` (``bash benchmarks/setup.sh
langgraph-checkpoint-sqlite``).
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections import Counter
from pathlib import Path
from statistics import fmean
from typing import Any

from libs import Lib
from workloads import CHAT_WINDOW, HISTORY_TURNS, _chat_graph, _sqlite_saver, _thread


def chat(lib: Lib, count_statements: bool = False) -> tuple[list[float], Counter[str]]:
    """Process seconds of each of 500 turns on a fresh file, and the statements run (by kind)."""
    statements: Counter[str] = Counter()
    with tempfile.TemporaryDirectory() as folder:
        saver = _sqlite_saver(lib, Path(folder) / "chat.sqlite")
        graph = _chat_graph(lib, saver)
        config = _thread()
        if count_statements:
            saver.conn.set_trace_callback(
                lambda sql: None if sql.startswith("--") else statements.update([sql[:40]])
            )
        times = []
        for turn in range(1, HISTORY_TURNS + 1):
            began = time.process_time()
            graph.invoke({"messages": [("user", f"turn {turn}")]}, config)
            times.append(time.process_time() - began)
        saver.conn.close()
    return times, statements


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=2)
    rounds = parser.parse_args().rounds
    libs = [Lib("threadloom"), Lib("langgraph")]
    rows: dict[str, list[tuple[float, float]]] = {lib.root: [] for lib in libs}
    for _ in range(rounds):
        for lib in libs:  # alternating, so a change in load hits both
            times, _ = chat(lib)
            early, late = fmean(times[:CHAT_WINDOW]), fmean(times[-CHAT_WINDOW:])
            rows[lib.root].append((early * 1e3, late * 1e3))
    for name, figures in rows.items():
        cells = ", ".join(f"{early:.2f} / {late:.2f}" for early, late in figures)
        print(f"{name:<11} CPU ms per turn (turns 1-50 / 451-500), each round: {cells}")
    tl, lg = rows["threadloom"], rows["langgraph"]
    for i, ((te, tl_late), (le, ll)) in enumerate(zip(tl, lg, strict=True), 1):
        print(f"round {i}: tl/LG {te / le:.3f}x early, {tl_late / ll:.3f}x late")
    _, statements = chat(libs[0], count_statements=True)
    per_turn: dict[str, Any] = {k: round(v / HISTORY_TURNS, 2) for k, v in statements.items()}
    print(f"threadloom statements per turn ({sum(statements.values()) / HISTORY_TURNS:.1f}):")
    for kind, count in sorted(per_turn.items(), key=lambda kv: -kv[1]):
        if count >= 0.1:  # not the setup's statements, run once
            print(f"  {count:5.2f}  {kind.splitlines()[0]}")


if __name__ == "__main__":
    main()
