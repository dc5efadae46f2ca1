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
    .bench-venv/bin/python benchmarks/sqlchat_cpu.py --io       # WAL frames, commits, fsyncs
    .bench-venv/bin/python benchmarks/sqlchat_cpu.py --instr    # instructions per late turn

``--ops`` counts instead, exactly (``sys.settrace``), the Python opcodes and calls of threadloom's
turns 101-108, split into those run inside the saver's operations and the rest (engine,
reducer, langchain-core's model call), with the functions that run the most opcodes inside
the saver: a figure that does not move with the machine's load, to compare two versions by.

``--io`` counts what a turn asks of the disk, for both libraries, exactly: the WAL frames (pages,
and their KiB: threadloom's files have 2 KB pages, LangGraph's 4 KB) and commits a turn
appends (200 turns after 100, the WAL's automatic checkpoint turned off and its frame headers
read back), and, when ``strace`` is installed, the ``fsync``/``fdatasync``
calls of a whole 500-turn chat with each saver's own settings (under ``synchronous=NORMAL`` the
only ones are a WAL checkpoint's and the restart's after it).

``--instr`` counts the machine instructions (valgrind's callgrind, C work included: SQLite,
allocation, the garbage collector) of threadloom's turns 451-500, whole and inside the saver's
operations, in two runs of a few minutes each: the late turns the 1/30 target is about, counted
without the imports and the first 450 turns (collected only inside ``sys.call_tracing``, which
nothing else calls). ``PYTHONHASHSEED`` is fixed, so the same code gives the same count within
~0.5% (uuids differ, and with them where the garbage collector runs).

Needs ``langgraph-checkpoint-sqlite`` in ``.bench-venv`` (``bash benchmarks/setup.sh
langgraph-checkpoint-sqlite``).
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import struct
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from statistics import fmean
from typing import Any, Final

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


def count_ops(top: int = 25, rest_top: int = 0, turns: range = range(101, 109)) -> None:
    """Print threadloom's opcodes and calls per turn (turns 101-108 unless told), in and out of
    the saver."""
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


def wal_frames(lib: Lib) -> tuple[float, float, float]:
    """WAL frames, commits and KiB per turn over turns 101-300 (no automatic checkpoint
    meanwhile); KiB compare files of different page sizes (a frame is a page)."""
    turns = 200
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "chat.sqlite"
        saver = _sqlite_saver(lib, path)
        graph = _chat_graph(lib, saver)
        config = _thread()
        for turn in range(1, 101):
            graph.invoke({"messages": [("user", f"turn {turn}")]}, config)
        saver.conn.execute("PRAGMA wal_autocheckpoint = 0")
        saver.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        for turn in range(101, 101 + turns):
            graph.invoke({"messages": [("user", f"turn {turn}")]}, config)
        wal = Path(str(path) + "-wal").read_bytes()
        saver.conn.close()
    page_size = struct.unpack(">I", wal[8:12])[0]
    frames = commits = 0
    for offset in range(32, len(wal) - 23, 24 + page_size):  # each frame: 24-byte header, page
        frames += 1
        commits += struct.unpack(">I", wal[offset + 4 : offset + 8])[0] != 0  # size: a commit
    return frames / turns, commits / turns, len(wal) / 1024 / turns


def chat_quietly(root: str) -> None:
    """A 500-turn chat on ``root``'s saver, for ``--io`` to count its fsyncs under strace."""
    chat(Lib(root))


def count_io() -> None:
    """Print each library's WAL frames and commits per turn, and its fsyncs (``strace``)."""
    for lib in (Lib("threadloom"), Lib("langgraph")):
        frames, commits, kib = wal_frames(lib)
        line = f"{lib.root:<11} {frames:5.2f} WAL frames ({kib:.1f} KiB), "
        line += f"{commits:4.2f} commits a turn"
        strace = shutil.which("strace")
        if strace is not None:
            with tempfile.TemporaryDirectory() as folder:
                out = Path(folder) / "strace.txt"
                command = [sys.executable, __file__, "--io-child", lib.root]
                trace = [strace, "-f", "-c", "-e", "trace=fsync,fdatasync", "-o", str(out)]
                subprocess.run([*trace, *command], check=True)
                rows = [text.split() for text in out.read_text().splitlines()]
            # strace -c columns: % time, seconds, usecs/call, calls, [errors], syscall
            syncs = sum(int(row[3]) for row in rows if row and row[-1] in ("fsync", "fdatasync"))
            turns = HISTORY_TURNS
            line += f"; {syncs} fsyncs in {turns} turns ({syncs / turns:.3f} a turn)"
        print(line)


INSTR_TURNS: Final = range(HISTORY_TURNS - CHAT_WINDOW + 1, HISTORY_TURNS + 1)
"""The turns ``--instr`` counts: the late window of ``run.py sqlchat500``."""


def chat_counted(part: str) -> None:
    """A 500-turn chat whose late turns (``part="turn"``) or the saver's operations in them
    (``part="saver"``) run inside ``sys.call_tracing``, where callgrind collects."""
    lib = Lib("threadloom")
    saver_class = lib.SqliteSaver
    run = saver_class._run
    late = [False]

    def counted_run(self: Any, op: Any) -> Any:
        return sys.call_tracing(run, (self, op)) if late[0] else run(self, op)

    if part == "saver":
        saver_class._run = counted_run
    with tempfile.TemporaryDirectory() as folder:
        saver = _sqlite_saver(lib, Path(folder) / "chat.sqlite")
        graph = _chat_graph(lib, saver)
        config = _thread()

        def turn(number: int) -> None:
            graph.invoke({"messages": [("user", f"turn {number}")]}, config)

        for number in range(1, INSTR_TURNS.start):
            turn(number)
        late[0] = True
        for number in INSTR_TURNS:
            if part == "turn":
                sys.call_tracing(turn, (number,))
            else:
                turn(number)
        saver.conn.close()


def count_instructions() -> None:
    """Print threadloom's instructions per turn over turns 451-500, whole and in the saver."""
    valgrind = shutil.which("valgrind")
    if valgrind is None:
        raise SystemExit("--instr needs valgrind (apt-get install valgrind)")
    counts = {}
    for part in ("turn", "saver"):
        command = [
            valgrind,
            "--tool=callgrind",
            "--callgrind-out-file=/dev/null",
            "--collect-atstart=no",
            "--toggle-collect=_PyEval_CallTracing",
            sys.executable,
            __file__,
            "--instr-child",
            part,
        ]
        env = {**os.environ, "PYTHONHASHSEED": "0"}
        done = subprocess.run(command, env=env, capture_output=True, text=True, check=True)
        found = re.search(r"Collected : (\d+)", done.stderr)
        if found is None:
            raise SystemExit(f"no count in valgrind's output:\n{done.stderr[-2000:]}")
        counts[part] = int(found.group(1)) / len(INSTR_TURNS)
    turn, saver = counts["turn"], counts["saver"]
    print(
        f"threadloom instructions per turn, turns {INSTR_TURNS.start}-{INSTR_TURNS.stop - 1}: "
        f"{turn:,.0f} ({saver:,.0f} in the saver's operations, {turn - saver:,.0f} the rest)"
    )


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
    parser.add_argument(
        "--turns",
        default="101-108",
        metavar="A-B",
        help="with --ops, the turns counted (default 101-108: a whole cycle of the delta "
        "counter, RADIX; 2-50 for the early window without the file's creation)",
    )
    parser.add_argument("--io", action="store_true", help="count WAL frames and fsyncs instead")
    parser.add_argument("--io-child", help=argparse.SUPPRESS)
    parser.add_argument(
        "--instr", action="store_true", help="count instructions per late turn (valgrind)"
    )
    parser.add_argument("--instr-child", choices=["turn", "saver"], help=argparse.SUPPRESS)
    arguments = parser.parse_args()
    if arguments.instr_child:
        chat_counted(arguments.instr_child)
        return
    if arguments.instr:
        count_instructions()
        return
    if arguments.io_child:
        chat_quietly(arguments.io_child)
        return
    if arguments.io:
        count_io()
        return
    if arguments.ops:
        first, _, last = arguments.turns.partition("-")
        count_ops(rest_top=arguments.rest, turns=range(int(first), int(last or first) + 1))
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
