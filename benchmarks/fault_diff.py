"""Faults and state edits, side by side: random programs on threadloom and on LangGraph, compared.

Not a speed benchmark, but it needs LangGraph, so it lives here (run it with `.bench-venv`), beside
`behaviour_diff.py`, which compares plain runs. Each seed builds a small graph or entrypoint whose
nodes (tasks) may fail once, ask a question (`interrupt`), fan out (`Send`, parallel `@task`s) or
route (`Command`), runs it sync or async with a random `durability`, and drives it to its end:
it resumes after a failure with `invoke(None)`, answers interrupts, and sometimes edits the state
(`update_state`, as a random node or as none) between runs. What a user sees is recorded: the
chunks of every run (the order within a step is not compared), the error each run raised (its
type), the chain runs a callback handler saw (start, end, error and its type, counted by run
name: ``Runs``), the snapshot after each run (values, next, the tasks and which of them
failed) and the history (step, source, next).

A node failing beside a running sibling is not generated: what LangGraph keeps of the sibling
then depends on thread timing (`docs/differences.md` item 32). Differences found were fixed
and pinned by tests in `tests/compat/`; what remains on purpose is in `docs/differences.md`.

    .bench-venv/bin/python benchmarks/fault_diff.py            # seeds 0-199
    .bench-venv/bin/python benchmarks/fault_diff.py 0 1000 -v  # print the first difference
"""

from __future__ import annotations

import asyncio
import importlib
import json
import operator
import random
import sys
from collections import Counter
from collections.abc import Callable
from types import SimpleNamespace
from typing import Annotated, Any, TypedDict

import behaviour_diff
from behaviour_diff import _chunks, plain
from langchain_core.callbacks import BaseCallbackHandler


def _later(left: Any, right: Any) -> Any:
    return max(left, right)


class State(TypedDict, total=False):
    # (not plain keys: two nodes writing one in a step differ on purpose, differences.md 45)
    log: Annotated[list[str], operator.add]
    last: Annotated[str, _later]
    n: Annotated[int, _later]
    arg: int


def load(root: str) -> SimpleNamespace:
    """``behaviour_diff.load``'s names, and the functional API's, from one import root."""
    func = importlib.import_module(f"{root}.func")
    return SimpleNamespace(
        **vars(behaviour_diff.load(root)), entrypoint=func.entrypoint, task=func.task
    )


class Faults:
    """Which names fail on their first call; each fails once per program run."""

    def __init__(self, failing: set[str]) -> None:
        self.pending = set(failing)

    def hit(self, name: str) -> None:
        if name in self.pending:
            self.pending.discard(name)
            raise RuntimeError(f"{name} failed")


def build_graph(lib: SimpleNamespace, rng: random.Random, faults: Faults) -> tuple[Any, list[str]]:
    """A chain of 2-6 nodes with side edges; the nodes that may fail run alone in their step."""
    names = [f"n{i}" for i in range(rng.randint(2, 6))]
    kinds = ["plain"] + [
        rng.choice(["plain", "plain", "cmd", "ask", "send", "fail"]) for _ in names[1:]
    ]
    for i in range(1, len(kinds)):
        if kinds[i] == "fail" and kinds[i - 1] == "send":  # a fan-out's tasks run side by side
            kinds[i] = "plain"
    builder = lib.StateGraph(State)
    for i, (name, kind) in enumerate(zip(names, kinds, strict=True)):
        builder.add_node(name, _node(lib, names, i, kind, faults))
    behaviour_diff.wire(
        lib, builder, rng, names, kinds, lambda i: "fail" not in (kinds[i + 1], kinds[i + 2])
    )
    faults.pending = {n for n, k in zip(names, kinds, strict=True) if k == "fail"}
    return builder.compile(checkpointer=lib.InMemorySaver()), names


def _node(lib: SimpleNamespace, names: list[str], i: int, kind: str, faults: Faults) -> Any:
    name = names[i]

    def node(state: Any) -> Any:
        faults.hit(name)
        if kind == "cmd":
            target = names[(i + 1) % len(names)] if state.get("n", 0) < 3 else lib.END
            return lib.Command(update={"log": [name], "n": state.get("n", 0) + 1}, goto=target)
        if kind == "ask":
            answer = lib.interrupt(f"{name}?")
            return {"log": [f"{name}:{answer}"], **({} if "arg" in state else {"last": name})}
        if "arg" in state:
            return {"log": [f"{name}<{state['arg']}"]}
        return {"log": [name], "last": name}

    return node


def build_entrypoint(
    lib: SimpleNamespace, rng: random.Random, faults: Faults, is_async: bool
) -> tuple[Any, list[str]]:
    """An entrypoint calling 1-4 rounds of 1-3 tasks; a round with a failing task has only it."""
    rounds: list[list[tuple[str, str]]] = []
    for r in range(rng.randint(1, 4)):
        kind = rng.choice(["plain", "plain", "ask", "fail"])
        width = 1 if kind == "fail" else rng.randint(1, 3)
        rounds.append([(f"t{r}_{k}", kind if k == 0 else "plain") for k in range(width)])
    faults.pending = {name for calls in rounds for name, kind in calls if kind == "fail"}
    ask_at_end = rng.random() < 0.3

    def body(name: str, kind: str) -> Callable[[int], str]:
        def run(x: int) -> str:
            faults.hit(name)
            if kind == "ask":
                return f"{name}:{lib.interrupt(f'{name}?')}"
            return f"{name}<{x}"

        return run

    tasks = {
        name: _as_task(lib, name, body(name, kind), is_async)
        for calls in rounds
        for name, kind in calls
    }
    saver = lib.InMemorySaver()

    if is_async:

        @lib.entrypoint(checkpointer=saver)
        async def program(x: int, *, previous: Any = None) -> Any:
            log: list[str] = [f"prev={previous!r}"]
            for calls in rounds:
                futures = [tasks[name](x + k) for k, (name, _) in enumerate(calls)]
                log += [await f for f in futures]
            if ask_at_end:
                log.append(str(lib.interrupt("done?")))
            return log

    else:

        @lib.entrypoint(checkpointer=saver)
        def program(x: int, *, previous: Any = None) -> Any:
            log: list[str] = [f"prev={previous!r}"]
            for calls in rounds:
                futures = [tasks[name](x + k) for k, (name, _) in enumerate(calls)]
                log += [f.result() for f in futures]
            if ask_at_end:
                log.append(str(lib.interrupt("done?")))
            return log

    return program, []


def _as_task(lib: SimpleNamespace, name: str, fn: Callable[[int], str], is_async: bool) -> Any:
    if is_async:

        async def call(x: int) -> str:
            return fn(x)

        call.__name__ = name
        return lib.task(call)
    fn.__name__ = name
    return lib.task(fn)


class Driver:
    """Calls the program's sync or async API with the same arguments."""

    def __init__(self, program: Any, is_async: bool) -> None:
        self.program = program
        self.is_async = is_async
        self.loop = asyncio.new_event_loop() if is_async else None

    def close(self) -> None:
        if self.loop is not None:
            self.loop.close()

    def chunks(self, value: Any, config: Any, **kwargs: Any) -> list[str]:
        if self.loop is None:
            return _chunks(self.program.stream(value, config, **kwargs))

        async def collect() -> list[Any]:
            return [c async for c in self.program.astream(value, config, **kwargs)]

        return _chunks(self.loop.run_until_complete(collect()))

    def state(self, config: Any) -> Any:
        if self.loop is None:
            return self.program.get_state(config)
        return self.loop.run_until_complete(self.program.aget_state(config))

    def update(self, config: Any, values: Any, as_node: str | None) -> Any:
        if self.loop is None:
            return self.program.update_state(config, values, as_node=as_node)
        return self.loop.run_until_complete(self.program.aupdate_state(config, values, as_node))

    def history(self, config: Any) -> list[Any]:
        if self.loop is None:
            return list(self.program.get_state_history(config))

        async def collect() -> list[Any]:
            return [s async for s in self.program.aget_state_history(config)]

        return self.loop.run_until_complete(collect())


def run(lib: SimpleNamespace, seed: int) -> list[Any]:
    rng = random.Random(seed)
    faults = Faults(set())
    is_async = rng.random() < 0.5
    functional = rng.random() < 0.4
    if functional:
        program, names = build_entrypoint(lib, rng, faults, is_async)
        first: Any = 1
    else:
        program, names = build_graph(lib, rng, faults)
        first = {"log": []}
    durability = rng.choice(["sync", "async", "exit"])
    config = {"configurable": {"thread_id": "t"}, "recursion_limit": 30}
    modes = ["updates", "values"]
    driver = Driver(program, is_async)
    record: list[Any] = [["async" if is_async else "sync", durability, functional]]
    value: Any = first
    try:
        for attempt in range(6):
            record.append(_attempt(driver, value, config, modes, durability))
            try:
                state = driver.state(config)
            except Exception as exc:
                record.append(["get_state error", type(exc).__name__])
                break
            record.append(_snapshot(state))
            if not state.next:
                break
            if not functional and rng.random() < 0.25:
                as_node = rng.choice([None, *names])
                try:
                    driver.update(config, {"log": [f"edit{attempt}"]}, as_node)
                    state = driver.state(config)
                    record.append(["edit", as_node, _snapshot(state)])
                except Exception as exc:
                    record.append(["edit", as_node, "error", type(exc).__name__])
            pending = state.interrupts
            if pending:
                answer: Any = f"a{attempt}"
                if len(pending) > 1:
                    answer = {i.id: f"a{attempt}" for i in pending}
                value = lib.Command(resume=answer)
            else:
                value = None
        try:
            history = driver.history(config)
        except Exception as exc:
            record.append(["history error", type(exc).__name__])
        else:
            record.append(
                [[s.metadata.get("step"), s.metadata.get("source"), s.next] for s in history]
            )
    finally:
        driver.close()
    return plain(record)  # type: ignore[no-any-return]


def _attempt(driver: Driver, value: Any, config: Any, modes: Any, durability: str) -> Any:
    runs = Runs()
    traced = {**config, "callbacks": [runs]}
    try:
        stream = driver.chunks(value, traced, stream_mode=modes, durability=durability)
    except Exception as exc:  # both libraries must fail the same way
        return ["error", type(exc).__name__, str(exc), runs.counted()]
    return [stream, runs.counted()]


class Runs(BaseCallbackHandler):
    """The chain runs a callback handler sees: ``start``/``end``/``error <type>`` by run name."""

    def __init__(self) -> None:
        self.seen: list[str] = []
        self.names: dict[Any, Any] = {}

    def on_chain_start(self, serialized: Any, inputs: Any, *, run_id: Any, **kw: Any) -> None:
        self.names[run_id] = kw.get("name")
        self.seen.append(f"start {kw.get('name')}")

    def on_chain_end(self, outputs: Any, *, run_id: Any, **kw: Any) -> None:
        self.seen.append(f"end {self.names.get(run_id)}")

    def on_chain_error(self, error: BaseException, *, run_id: Any, **kw: Any) -> None:
        self.seen.append(f"error {self.names.get(run_id)} {type(error).__name__}")

    def counted(self) -> list[list[Any]]:
        return sorted([k, n] for k, n in Counter(self.seen).items())


def _snapshot(state: Any) -> Any:
    return [
        state.values,
        state.next,
        sorted([t.name, t.error is not None] for t in state.tasks),
    ]


def compare(run: Callable[[SimpleNamespace, int], list[Any]], load: Any, what: str) -> int:
    """Run seeds ``argv[1]``-``argv[2]`` (0-200) on both libraries, print the seeds that differ
    (``-v``: and the first difference); exit status 1 if any does."""
    args = [a for a in sys.argv[1:] if a != "-v"]
    first, last = (int(a) for a in args[:2]) if len(args) > 1 else (0, 200)
    ours, theirs = load("threadloom"), load("langgraph")
    differ = []
    for seed in range(first, last):
        a, b = run(ours, seed), run(theirs, seed)
        if a != b:
            differ.append(seed)
            if "-v" in sys.argv and len(differ) == 1:
                at = next(
                    (i for i, (x, y) in enumerate(zip(a, b, strict=False)) if x != y),
                    min(len(a), len(b)),
                )
                print(f"seed {seed}, first difference at record {at}: {json.dumps(a[:at])}")
                print(f" threadloom: {json.dumps(a[at:])}\n langgraph:  {json.dumps(b[at:])}")
    print(f"{last - first} random {what}, {len(differ)} differ: {differ[:30]}")
    return 1 if differ else 0


def main() -> int:
    return compare(run, load, "programs")


if __name__ == "__main__":
    sys.exit(main())
