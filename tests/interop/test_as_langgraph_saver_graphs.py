"""LangGraph's engine persisting through ``as_langgraph_saver``: a ``StateGraph`` with an
interrupt in a subgraph, ``create_react_agent`` and LangChain's ``create_agent``, each stopped in
one process and resumed in another (then forked from a past checkpoint), on SQLite and
PostgreSQL, sync and async. Every phase must describe the thread exactly as the same phase run
on LangGraph's own ``InMemorySaver`` does."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from interop_backends import Storage, open_saver
from langgraph.checkpoint.memory import InMemorySaver as LangGraphInMemorySaver
from lg_program import PROGRAMS, run_phase_async, run_phase_sync

from threadloom.interop.langgraph import as_langgraph_saver

HERE = Path(__file__).parent
PHASES = ("start", "finish")


def _reference(program: str, use_async: bool) -> list[dict[str, Any]]:
    """Both phases on LangGraph's own saver, in this process."""
    graph = PROGRAMS[program](LangGraphInMemorySaver())
    if use_async:
        return [asyncio.run(run_phase_async(graph, program, phase)) for phase in PHASES]
    return [run_phase_sync(graph, program, phase) for phase in PHASES]


def _in_new_process(backend: str, where: str, program: str, phase: str, use_async: bool) -> Any:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(HERE), *sys.path])}
    args = [sys.executable, str(HERE / "lg_program.py"), backend, where, program, phase]
    done = subprocess.run(
        [*args, *(["--async"] if use_async else [])],
        capture_output=True,
        text=True,
        env=env,
        timeout=110,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


CASES = [
    ("graph", "sqlite", False),
    ("graph", "sqlite_async", True),
    ("graph", "postgres", False),
    ("graph", "postgres_async", True),
    ("react", "sqlite", False),
    ("react", "postgres_async", True),
    ("agent", "sqlite_async", True),
    ("agent", "postgres", False),
]


@pytest.mark.parametrize(("program", "backend", "use_async"), CASES)
def test_a_run_stopped_in_one_process_resumes_in_another(
    program: str, backend: str, use_async: bool, new_storage: Storage
) -> None:
    where = new_storage()
    started = _in_new_process(backend, where, program, "start", use_async)
    finished = _in_new_process(backend, where, program, "finish", use_async)
    expected = _reference(program, use_async)
    assert started == expected[0]
    assert started["next"]  # it did stop: at the interrupt, or before the tools
    assert finished == expected[1]
    assert finished["next"] == [] and finished["messages"][-1][0] == "ai"
    assert finished["fork"][-1][1] == "forked"
    assert finished["after_fork"] == len(finished["history"]) + 1


@pytest.mark.parametrize("program", sorted(PROGRAMS))
@pytest.mark.parametrize("backend", ["memory"])
async def test_every_program_runs_on_the_in_memory_saver(
    program: str, backend: str, new_storage: Storage
) -> None:
    async with open_saver("memory", new_storage()) as saver:
        graph = PROGRAMS[program](as_langgraph_saver(saver))
        got = [await run_phase_async(graph, program, phase) for phase in PHASES]
    assert got == await asyncio.to_thread(_reference, program, True)
