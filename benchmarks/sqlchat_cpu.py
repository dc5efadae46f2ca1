"""What a SQLite chat turn costs in CPU time, side by side, and what it says to SQLite.

``run.py sqlchat500`` times turns by the wall clock, which on the shared 2-core container is
mostly time spent waiting for a core (a 3 ms turn takes 15-20 ms of wall time when the load
average is 10). This runs the same 500-turn chat (``workloads._chat_graph`` on each library's
``SqliteSaver``) and reports process time (``time.process_time``) per turn over turns 1-50 and
451-500, for threadloom and LangGraph alternately, plus the statements threadloom runs per turn
(counted with the connection's trace callback, which reports an ``executemany`` once per row):

    .bench-venv/bin/python benchmarks/sqlchat_cpu.py            # 2 rounds
    .bench-venv/bin/python benchmarks/sqlchat_cpu.py --rounds 3
    .bench-venv/bin/python benchmarks/sqlchat_cpu.py --ops      # threadloom's opcodes per turn
    .bench-venv/bin/python benchmarks/sqlchat_cpu.py --ops --rest 40  # and the rest, by function

``--ops`` counts instead, exactly (``sys.settrace``), the Python opcodes and calls of threadloom's
turns 101-108, split into those run inside the saver's operations and the rest (engine,
reducer, langchain-core's model call), with the functions that run the most opcodes inside
the saver: a figure that does not move with the machine's load, to compare two versions by.

Needs ``langgraph-checkpoint-sqlite`` in ``.bench-venv`` (``bash benchmarks/setup.sh
langgraph-checkpoint-sqlite``).
"""

from __future__ import annotations

import argparse
import sys
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


def count_ops(top: int = 25, rest_top: int = 0) -> None:
    """Print threadloom's opcodes and calls per turn (turns 101-108), in and out of the saver."""
    inside = [0]
    counts: Counter[tuple[str, str]] = Counter()
    by_function: Counter[str] = Counter()
    rest_by_function: Counter[str] = Counter()

    def tracer(frame: Any, event: str, arg: Any) -> Any:
        where = "saver" if inside[0] else "rest"
        if event == "call":
            counts[where, "calls"] += 1
            frame.f_trace_opcodes = True
        elif event == "opcode":
            counts[where, "opcodes"] += 1
            code = frame.f_code
            name = f"{Path(code.co_filename).name}:{code.co_name}"
            (by_function if inside[0] else rest_by_function)[name] += 1
        return tracer

    lib = Lib("threadloom")
    saver_class = lib.SqliteSaver
    run = saver_class._run

    def counted_run(self: Any, op: Any) -> Any:
        inside[0] += 1
        try:
            return run(self, op)
        finally:
            inside[0] -= 1

    saver_class._run = counted_run
    turns = range(101, 109)  # a whole cycle of the delta counter (RADIX)
    try:
        with tempfile.TemporaryDirectory() as folder:
            saver = _sqlite_saver(lib, Path(folder) / "chat.sqlite")
            graph = _chat_graph(lib, saver)
            config = _thread()
            for turn in range(1, turns.stop):
                if turn in turns:
                    sys.settrace(tracer)
                graph.invoke({"messages": [("user", f"turn {turn}")]}, config)
                sys.settrace(None)
            saver.conn.close()
    finally:
        saver_class._run = run
    for where in ("saver", "rest"):
        opcodes, calls = counts[where, "opcodes"], counts[where, "calls"]
        print(f"{where:<6} {opcodes / len(turns):9,.0f} opcodes {calls / len(turns):7,.1f} calls")
    print("inside the saver, by function:")
    for name, opcodes in by_function.most_common(top):
        print(f"  {opcodes / len(turns):7,.0f}  {name}")
    if rest_top:
        print("outside the saver, by function:")
        for name, opcodes in rest_by_function.most_common(rest_top):
            print(f"  {opcodes / len(turns):7,.0f}  {name}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--ops", action="store_true", help="count opcodes instead (exact)")
    parser.add_argument(
        "--rest",
        type=int,
        default=0,
        metavar="N",
        help="with --ops, also list the N functions outside the saver running the most opcodes",
    )
    arguments = parser.parse_args()
    if arguments.ops:
        count_ops(rest_top=arguments.rest)
        return
    rounds = arguments.rounds
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
