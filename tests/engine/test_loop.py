"""The run loop driven with fake results: no threads run a node, every outcome is made up here.

A fake driver answers the loop's effects: it gives each started task the output (or error, or
interrupt) the test chose, in the finishing order the test chose, and keeps the saves in an
``InMemorySaver`` so a second run can resume. The tests read which effects the loop asked for.
"""

from __future__ import annotations

import contextlib
import copy
import operator
from collections.abc import Callable, Generator
from typing import Annotated, Any, TypedDict

import pytest

from threadloom.checkpoint.memory import InMemorySaver
from threadloom.constants import ERROR, INTERRUPT
from threadloom.engine.effects import (
    CancelTasks,
    Effect,
    Emit,
    Flush,
    GetTuple,
    ListTuples,
    NextDone,
    Put,
    PutStep,
    PutWrites,
    PutWritesBatch,
    StartTasks,
    Wire,
)
from threadloom.engine.projection import PROJECTION, Projection
from threadloom.engine.saves import MAX_READY
from threadloom.errors import GraphInterrupt, InvalidUpdateError
from threadloom.graph import END, START, StateGraph
from threadloom.types import Command, Interrupt, RetryPolicy


class State(TypedDict, total=False):
    log: Annotated[list[str], operator.add]


Outcome = dict[str, Any] | BaseException | Interrupt


class FakeDriver:
    """Carries out a run loop's effects with made-up task outcomes and an in-memory saver."""

    def __init__(
        self,
        outcomes: dict[str, Outcome],
        saver: InMemorySaver | None = None,
        finish_order: Callable[[list[str]], list[str]] | None = None,
        together: frozenset[str] = frozenset(),
    ) -> None:
        self.outcomes = outcomes
        self.saver = saver
        self.finish_order = finish_order
        self.together = together
        """Tasks already finished when the loop looks without waiting (``NEXT_READY``)."""
        self.effects: list[Effect] = []
        self.finishing: list[Any] = []
        self.started: list[StartTasks] = []
        self.boxes: list[Any] = []

    def run(self, core: Generator[Effect, Any, None]) -> list[Effect]:
        result: Any = None
        while True:
            try:
                effect = core.send(result)
            except StopIteration:
                return self.effects
            self.effects.append(effect)
            result = self.carry_out(effect)

    @staticmethod
    def no_calls(task: Any, site: Any, saved: Any) -> Any:
        raise AssertionError(f"no @task call expected here, got {task.name!r}")

    def carry_out(self, effect: Effect) -> Any:
        match effect:
            case Wire(connect):
                connect(lambda chunk: None, lambda put: None, self.no_calls)
            case StartTasks(tasks, runner, _inline):
                self.started.append(effect)
                self.boxes.append(copy.copy(runner.box))  # as the tasks find it
                for task in tasks:
                    self.fake_outcome(task, runner)
                names = [t.name for t in tasks]
                order = self.finish_order(names) if self.finish_order and len(tasks) > 1 else names
                self.finishing = sorted(tasks, key=lambda t: order.index(t.name))
            case NextDone(wait=False):
                return self.finished_together([])
            case NextDone():  # the next task, with those finished right after it
                return self.finished_together([self.finishing.pop(0)])
            case CancelTasks(failed):
                cancelled = [t for t in self.finishing if t is not failed]
                self.finishing = []
                return len(cancelled)
            case Emit() | Flush():
                return None
            case _:
                return self.save(effect)
        return None

    def finished_together(self, done: list[Any]) -> list[Any]:
        """``done`` and the tasks already finished after it (in ``together``), as a driver
        sends back the tasks it finds finished, in one list."""
        while self.finishing and self.finishing[0].name in self.together:
            done.append(self.finishing.pop(0))
        return done

    def fake_outcome(self, task: Any, runner: Any) -> None:
        pad = runner.prepare(task, 1, 0.0)
        if task.name not in self.outcomes and task.node.hidden:  # __start__ maps the input
            runner.succeed(task, pad, task.node.func(task.input))
            return
        outcome = self.outcomes[task.name]
        if isinstance(outcome, Interrupt):
            runner.failed(task, pad, GraphInterrupt((outcome,)), 1)
        elif isinstance(outcome, BaseException):
            runner.failed(task, pad, outcome, 1)
        else:
            runner.succeed(task, pad, outcome)

    def save(self, effect: Effect) -> Any:
        saver = self.saver
        assert saver is not None, f"no saver, yet the loop asked for {effect!r}"
        match effect:
            case GetTuple(config):
                return saver.get_tuple(config)
            case Put(config, checkpoint, metadata, versions):
                return saver.put(config, checkpoint, metadata, versions)  # type: ignore[arg-type]
            case PutWrites(config, writes, task_id, task_path):
                return saver.put_writes(config, writes, task_id, task_path)
            case PutWritesBatch(config, writes):
                return saver.put_writes_batch(config, writes)
            case PutStep(config, writes, checkpoint, metadata, versions):
                if effect.previous is not None:  # the held input checkpoint: saved first
                    self.save(effect.previous)
                return saver.put_step(config, writes, checkpoint, metadata, versions)  # type: ignore[arg-type]
            case ListTuples(config, filter, before, limit):
                return list(saver.list(config, filter=filter, before=before, limit=limit))
        raise AssertionError(f"not an effect: {effect!r}")


def kinds(effects: list[Effect]) -> list[str]:
    return [type(e).__name__ for e in effects if not isinstance(e, Emit)]


def chain(*names: str, saver: Any = None, retry: Any = None) -> Any:
    builder = StateGraph(State)
    previous = START
    for name in names:
        builder.add_node(name, lambda state: {}, retry_policy=retry)
        builder.add_edge(previous, name)
        previous = name
    return builder.compile(checkpointer=saver)


def fan_out(*names: str, saver: Any = None) -> Any:
    builder = StateGraph(State)
    for name in names:
        builder.add_node(name, lambda state: {})
        builder.add_edge(START, name)
        builder.add_edge(name, END)
    return builder.compile(checkpointer=saver)


CONFIG: Any = {"configurable": {"thread_id": "t"}}
MODES = frozenset({"values", "updates"})


def core_of(graph: Any, run_input: Any, *, durability: str | None = None) -> Any:
    core, *_ = graph._begin(run_input, CONFIG, MODES, {"durability": durability}, None)
    return core


class StepsAtOnceSaver(InMemorySaver):
    """An in-memory saver that says it saves several steps in one call of its own, as the SQL
    savers do (one transaction): a run holds its input checkpoint for the next step's save."""

    def put_steps(self, steps: Any) -> Any:
        return super().put_steps(steps)


def test_without_steps_at_once_the_input_checkpoint_is_saved_at_once() -> None:
    saver = InMemorySaver()  # its put_steps is the default, one put_step per step: no gain
    driver = FakeDriver({"a": {"log": ["a"]}}, saver)
    effects = driver.run(core_of(chain("a", saver=saver), {"log": []}))
    puts = [e for e in effects if isinstance(e, PutStep)]
    assert kinds(effects)[:4] == ["GetTuple", "Wire", "PutStep", "StartTasks"]  # as before holding
    assert [p.previous for p in puts] == [None, None, None]
    assert [p.metadata["source"] for p in puts] == ["input", "loop", "loop"]


def test_a_single_task_step_is_one_saver_call() -> None:
    saver = StepsAtOnceSaver()
    driver = FakeDriver({"a": {"log": ["a"]}, "b": {"log": ["b"]}}, saver)
    effects = driver.run(core_of(chain("a", "b", saver=saver), {"log": []}))
    assert kinds(effects) == [
        "GetTuple",  # the thread's head
        "Wire",
        "StartTasks",  # __start__
        "NextDone",
        "PutStep",  # the input checkpoint (held) and the step that applied the input
        "StartTasks",
        "NextDone",
        "PutStep",  # a's writes and the checkpoint they made
        "StartTasks",
        "NextDone",
        "PutStep",
        "Flush",
    ]
    assert all(s.inline for s in driver.started)  # a lone task needs no worker
    first = next(e for e in effects if isinstance(e, PutStep))
    assert first.previous is not None and first.previous.metadata["source"] == "input"
    assert (
        first.previous.writes == [] and first.expected_head == first.previous.run_checkpoint["id"]
    )
    steps = [e for e in effects if isinstance(e, PutStep) and e.writes]
    assert [[w[0] for w in s.writes] for s in steps] == [[s.tasks[0].id] for s in driver.started]
    head = saver.get_tuple(CONFIG)
    assert head is not None and head.checkpoint["channel_values"]["log"] == ["a", "b"]
    updates = [e.payload for e in effects if isinstance(e, Emit) and e.mode == "updates"]
    assert updates == [{"a": {"log": ["a"]}}, {"b": {"log": ["b"]}}]


def test_early_finishers_are_saved_at_once_and_the_last_with_the_checkpoint() -> None:
    saver = InMemorySaver()
    outcomes: dict[str, Outcome] = {n: {"log": [n]} for n in ("a", "b", "c")}
    driver = FakeDriver(outcomes, saver, finish_order=lambda _: ["c", "a", "b"])
    effects = driver.run(core_of(fan_out("a", "b", "c", saver=saver), {"log": []}))
    start = driver.started[-1]
    assert not start.inline
    by_name = {t.name: t.id for t in start.tasks}
    early = [e.task_id for e in effects if isinstance(e, PutWrites)]
    assert early == [by_name["c"], by_name["a"]]
    step = [e for e in effects if isinstance(e, PutStep)][-1]
    assert [w[0] for w in step.writes] == [by_name["b"]]
    head = saver.get_tuple(CONFIG)
    assert head is not None
    assert head.checkpoint["channel_values"]["log"] == ["a", "b", "c"]  # applied in path order


def test_tasks_finished_together_are_saved_in_one_call() -> None:
    # c finishes alone and is saved before the loop waits again; a and b are both there when
    # it looks: they come back in one NextDone and go with the checkpoint, in one PutStep
    saver = InMemorySaver()
    outcomes: dict[str, Outcome] = {n: {"log": [n]} for n in ("a", "b", "c")}
    order = lambda _: ["c", "a", "b"]  # noqa: E731
    driver = FakeDriver(outcomes, saver, finish_order=order, together=frozenset({"b"}))
    effects = driver.run(core_of(fan_out("a", "b", "c", saver=saver), {"log": []}))
    by_name = {t.name: t.id for t in driver.started[-1].tasks}
    after = kinds(effects[effects.index(driver.started[-1]) :])
    waits = ["NextDone", "NextDone", "PutWrites", "NextDone"]
    assert after == ["StartTasks", *waits, "PutStep", "Flush"]
    assert [e.task_id for e in effects if isinstance(e, PutWrites)] == [by_name["c"]]
    step = [e for e in effects if isinstance(e, PutStep)][-1]
    assert [w[0] for w in step.writes] == [by_name["a"], by_name["b"]]
    head = saver.get_tuple(CONFIG)
    assert head is not None and head.checkpoint["channel_values"]["log"] == ["a", "b", "c"]


def test_outcomes_that_keep_arriving_are_saved_in_bounded_batches() -> None:
    # every task is already there when the loop looks, so it never waits: the writes are still
    # saved once MAX_READY of them are waiting, not all at the end of the step
    saver = InMemorySaver()
    names = [f"n{i:02d}" for i in range(MAX_READY + 8)]
    outcomes: dict[str, Outcome] = {n: {"log": [n]} for n in names}
    driver = FakeDriver(outcomes, saver, together=frozenset(names))
    effects = driver.run(core_of(fan_out(*names, saver=saver), {"log": []}))
    by_id = {t.id: t.name for t in driver.started[-1].tasks}
    [batch] = [e for e in effects if isinstance(e, PutWritesBatch)]
    assert [by_id[w[0]] for w in batch.writes] == names[:MAX_READY]
    step = [e for e in effects if isinstance(e, PutStep)][-1]
    assert [by_id[w[0]] for w in step.writes] == names[MAX_READY:]
    head = saver.get_tuple(CONFIG)
    assert head is not None and head.checkpoint["channel_values"]["log"] == names


def test_a_failed_step_saves_the_writes_finished_together_in_one_batch() -> None:
    saver = InMemorySaver()
    boom = ValueError("boom")
    outcomes: dict[str, Outcome] = {"a": boom, "b": {"log": ["b"]}, "c": {"log": ["c"]}}
    order = lambda _: ["b", "c", "a"]  # noqa: E731
    driver = FakeDriver(outcomes, saver, finish_order=order, together=frozenset({"c", "a"}))
    with pytest.raises(ValueError, match="boom"):
        driver.run(core_of(fan_out("a", "b", "c", saver=saver), {"log": []}))
    effects = driver.effects
    by_name = {t.name: t.id for t in driver.started[-1].tasks}
    [batch] = [e for e in effects if isinstance(e, PutWritesBatch)]
    assert [w[0] for w in batch.writes] == [by_name["b"], by_name["c"], by_name["a"]]
    assert not any(isinstance(e, PutWrites | PutStep) for e in effects[-6:])
    head = saver.get_tuple(CONFIG)
    assert head is not None and head.metadata["step"] == 0
    stored = {(task_id, channel): value for task_id, channel, value in head.pending_writes or []}
    assert set(stored) == {(by_name["b"], "log"), (by_name["c"], "log"), (by_name["a"], ERROR)}
    assert stored[by_name["b"], "log"] == ["b"] and stored[by_name["c"], "log"] == ["c"]
    assert stored[by_name["a"], ERROR] == repr(boom)  # an error is stored as its repr


def test_a_failed_task_cancels_its_siblings_and_makes_no_checkpoint() -> None:
    saver = InMemorySaver()
    boom = ValueError("boom")
    outcomes: dict[str, Outcome] = {"a": boom, "b": {"log": ["b"]}, "c": {"log": ["c"]}}
    driver = FakeDriver(outcomes, saver)
    core = core_of(fan_out("a", "b", "c", saver=saver), {"log": []})
    with pytest.raises(ValueError, match="boom"):
        driver.run(core)
    effects = driver.effects
    assert kinds(effects)[-5:] == ["StartTasks", "NextDone", "CancelTasks", "PutWrites", "Flush"]
    [failed] = [e for e in effects if isinstance(e, PutWrites)]
    assert failed.writes == [(ERROR, boom)]
    after_start = effects[effects.index(driver.started[-1]) :]
    assert not any(isinstance(e, PutStep | Put) for e in after_start)
    head = saver.get_tuple(CONFIG)
    assert head is not None and head.metadata["step"] == 0  # the failed step was not saved


def test_an_interrupt_keeps_its_writes_apart_and_a_resume_runs_the_task_again() -> None:
    saver = InMemorySaver()
    graph = chain("ask", saver=saver)
    asked = Interrupt(value="ok?", id="i1")
    first = FakeDriver({"ask": asked}, saver)
    effects = first.run(core_of(graph, {"log": []}))
    [paused] = [e for e in effects if isinstance(e, PutWrites)]
    assert paused.writes == [(INTERRUPT, [asked])]
    assert not any(isinstance(e, PutStep) for e in effects[effects.index(first.started[-1]) :])
    values = [e.payload for e in effects if isinstance(e, Emit) and e.mode == "values"]
    assert values[-1][INTERRUPT] == (asked,)

    second = FakeDriver({"ask": {"log": ["yes"]}}, saver)
    effects = second.run(core_of(graph, Command(resume="yes")))
    start = second.started[-1]
    assert start.tasks[0].id == first.started[-1].tasks[0].id  # the same task, run again
    assert second.boxes[-1].present and second.boxes[-1].value == "yes"
    assert not start.runner.box.present  # what no task took ends with the first step
    assert kinds(effects).count("PutStep") == 1
    head = saver.get_tuple(CONFIG)
    assert head is not None and head.checkpoint["channel_values"]["log"] == ["yes"]


def test_durability_exit_saves_only_when_the_run_stops() -> None:
    saver = InMemorySaver()
    driver = FakeDriver({"a": {"log": ["a"]}, "b": {"log": ["b"]}}, saver)
    effects = driver.run(core_of(chain("a", "b", saver=saver), {"log": []}, durability="exit"))
    names = kinds(effects)
    last_done = len(names) - 1 - names[::-1].index("NextDone")
    assert "Put" not in names[:last_done] and "PutWrites" not in names[:last_done]
    assert names[last_done + 1 :] == ["Put", "Flush"]  # the last checkpoint holds every step


def test_without_a_saver_no_saver_effect_is_asked_for() -> None:
    driver = FakeDriver({"a": {"log": ["a"]}, "b": {"log": ["b"]}})
    effects = driver.run(core_of(chain("a", "b"), {"log": []}))
    assert kinds(effects) == ["Wire"] + ["StartTasks", "NextDone"] * 3 + ["Flush"]


def test_retries_are_decided_by_the_policy_without_waiting() -> None:
    graph = chain("a", retry=RetryPolicy(max_attempts=3, jitter=False, retry_on=ValueError))
    driver = FakeDriver({"a": {"log": ["a"]}})
    core = core_of(graph, {"log": []})
    effect = next(core)
    while not (isinstance(effect, StartTasks) and effect.tasks[0].name == "a"):
        effect = core.send(driver.carry_out(effect))
    [task] = effect.tasks
    runner = effect.runner
    delays = [runner.failed(task, runner.prepare(task, n, 0.0), ValueError(n), n) for n in (1, 2)]
    assert delays == [0.5, 1.0]  # backoff: the driver sleeps, the policy decides
    assert task.error is None
    assert runner.failed(task, runner.prepare(task, 3, 0.0), ValueError(3), 3) is None
    assert isinstance(task.error, ValueError)
    assert runner.failed(task, runner.prepare(task, 1, 0.0), KeyError("k"), 1) is None


@pytest.mark.parametrize("mode", sorted({m for route in PROJECTION.values() for m, _ in route}))
def test_the_projection_shows_an_event_exactly_in_the_modes_of_its_row(mode: str) -> None:
    projection = Projection(frozenset({mode}))
    for event, route in PROJECTION.items():
        shown = [m for m, _ in route]
        assert projection.wants(event) == (mode in shown)
        chunks = projection.chunks(event, {"x": 1}, 3) if event != "interrupt" else []
        assert all(isinstance(c, Emit) and c.mode == mode for c in chunks)
    assert projection.live == (mode in ("custom", "messages", "tools"))


def test_types_imports_neither_the_engine_nor_the_graph_builder() -> None:
    import subprocess
    import sys

    code = (
        "import sys, threadloom.types\n"
        "inner = ('threadloom.engine', 'threadloom.graph')\n"
        "loaded = [m for m in sys.modules if m.startswith(inner)]\n"
        "assert not loaded, loaded\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_the_sync_effect_loop_is_generated_from_the_async_one() -> None:
    import subprocess
    import sys
    from pathlib import Path

    script = Path(__file__).resolve().parents[2] / "scripts" / "unasync_engine.py"
    done = subprocess.run([sys.executable, str(script), "--check"], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout


def test_writes_that_fail_to_apply_are_all_saved() -> None:
    saver = InMemorySaver()
    builder = StateGraph(Plain)
    for name in ("a", "b"):
        builder.add_node(name, lambda state: {})
        builder.add_edge(START, name)
    graph = builder.compile(checkpointer=saver)
    driver = FakeDriver({"a": {"x": "a"}, "b": {"x": "b"}}, saver)
    core, *_ = graph._begin({"x": ""}, CONFIG, MODES, {}, None)
    with pytest.raises(InvalidUpdateError):  # two writes to a plain key in one step
        driver.run(core)
    start = driver.started[-1]
    saved = [e.task_id for e in driver.effects if isinstance(e, PutWrites)]
    assert sorted(saved) == sorted(t.id for t in start.tasks)


class Plain(TypedDict, total=False):
    x: str


def _saves_asked(record_batches: bool, outcomes: dict[str, Outcome], **driving: Any) -> Any:
    """The saver effects (kind, task names of their writes) a quiet run asks for, with the
    returned tasks of a batch recorded at once or one by one (``loop.RECORD_BATCHES``)."""
    import threadloom.engine.loop as loop_module

    saved = loop_module.RECORD_BATCHES
    loop_module.RECORD_BATCHES = record_batches
    try:
        saver = InMemorySaver()
        driver = FakeDriver(outcomes, saver, **driving)
        graph = fan_out(*outcomes, saver=saver)
        core, *_ = graph._begin({"log": []}, CONFIG, frozenset({"values"}), {}, None)
        with contextlib.suppress(ValueError):  # (a failing task fails the run)
            driver.run(core)
    finally:
        loop_module.RECORD_BATCHES = saved
    names = {t.id: t.name for start in driver.started for t in start.tasks}
    asked = []
    for effect in driver.effects:
        if isinstance(effect, PutWrites):
            asked.append(("PutWrites", [names[effect.task_id]]))
        elif isinstance(effect, PutWritesBatch | PutStep):
            asked.append((type(effect).__name__, [names.get(w[0]) for w in effect.writes]))
        elif not isinstance(effect, Emit):
            asked.append((type(effect).__name__, []))
    head = saver.get_tuple(CONFIG)
    assert head is not None
    pending = sorted((names[t], c, repr(v)) for t, c, v in head.pending_writes or ())
    return asked, head.checkpoint["channel_values"], pending


@pytest.mark.parametrize("failing", [None, "n07", f"n{MAX_READY + 3:02d}"])
def test_a_quiet_run_records_a_batch_as_one_by_one(failing: str | None) -> None:
    # every task is there when the loop looks: with a quiet run its returned tasks are recorded
    # at once, and the saves asked for (bounded batches, the last with the checkpoint, or the
    # writes saved on a failure) are exactly those of recording them one by one
    names = [f"n{i:02d}" for i in range(2 * MAX_READY + 5)]
    outcomes: dict[str, Outcome] = {n: {"log": [n]} for n in names}
    if failing is not None:
        outcomes[failing] = ValueError("boom")
    together = _saves_asked(True, outcomes, together=frozenset(names))
    assert together == _saves_asked(False, outcomes, together=frozenset(names))
    kinds_asked = [kind for kind, _ in together[0]]
    if failing is None:
        assert kinds_asked.count("PutWritesBatch") == 2  # (MAX_READY each: the rest held)
        assert together[1]["log"] == names
    else:
        assert "CancelTasks" in kinds_asked and len(together[2]) == len(names)
