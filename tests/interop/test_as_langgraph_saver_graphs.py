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


def _reference(use_async: bool) -> list[dict[str, Any]]:
    """Both phases of every program on LangGraph's own saver, in this process."""
    phases: list[dict[str, Any]] = [{}, {}]
    for program, make in PROGRAMS.items():
        graph = make(LangGraphInMemorySaver())
        for index, phase in enumerate(PHASES):
            if use_async:
                phases[index][program] = asyncio.run(run_phase_async(graph, program, phase))
            else:
                phases[index][program] = run_phase_sync(graph, program, phase)
    return phases


def _in_new_process(backend: str, where: str, phase: str, use_async: bool) -> Any:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(HERE), *sys.path])}
    args = [sys.executable, str(HERE / "lg_program.py"), backend, where, phase]
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


@pytest.mark.parametrize(
    ("backend", "use_async"),
    [("sqlite", False), ("sqlite_async", True), ("postgres", False), ("postgres_async", True)],
)
def test_runs_stopped_in_one_process_resume_in_another(
    backend: str, use_async: bool, new_storage: Storage
) -> None:
    where = new_storage()
    started = _in_new_process(backend, where, "start", use_async)
    finished = _in_new_process(backend, where, "finish", use_async)
    expected = _reference(use_async)
    assert sorted(started) == sorted(finished) == ["agent", "graph", "react"]
    assert started == expected[0]
    assert finished == expected[1]
    for program in PROGRAMS:
        assert started[program]["next"]  # it did stop: at the interrupt, or before the tools
        done = finished[program]
        assert done["next"] == [] and done["messages"][-1][0] == "ai"
        assert done["fork"][-1][1] == "forked"
        assert done["after_fork"] == len(done["history"]) + 1


@pytest.mark.parametrize("program", sorted(PROGRAMS))
@pytest.mark.parametrize("backend", ["memory"])
async def test_every_program_runs_on_the_in_memory_saver(
    program: str, backend: str, new_storage: Storage
) -> None:
    async with open_saver("memory", new_storage()) as saver:
        graph = PROGRAMS[program](as_langgraph_saver(saver))
        got = [await run_phase_async(graph, program, phase) for phase in PHASES]
    expected = await asyncio.to_thread(_reference, True)
    assert got == [expected[0][program], expected[1][program]]
