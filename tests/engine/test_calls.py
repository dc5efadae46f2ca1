"""``@task`` calls run by the run's driver (``engine/calls.py`` decides, the workers of
``engine/sync.py`` / ``engine/aio.py`` run them): results, nesting, streaming, the off-loop case."""

import asyncio
import threading
from typing import Any

from threadloom.checkpoint.memory import InMemorySaver
from threadloom.engine.calls import NOT_SAVED, CallSite, saved_result, schedule_call
from threadloom.engine.core import Task
from threadloom.engine.ids import id_head
from threadloom.engine.scratch import TaskScratchpad, task_context
from threadloom.func import entrypoint, task


def cfg(thread: str = "t") -> dict[str, Any]:
    return {"configurable": {"thread_id": thread}}


class FakeRunner:
    """Stands in for the driver: records the calls handed to it."""

    def __init__(self, pending: dict[str, list[tuple[str, Any]]]) -> None:
        self.site = CallSite("cp", 3, pending, None, lambda effect: None, None, id_head("cp"))
        self.started: list[tuple[Task, Any]] = []
        self.traced, self.messages, self.cache_policy = False, None, None  # as TaskRunner's

    def call_site(self) -> CallSite:
        return self.site

    def start_call(self, task: Task, site: CallSite, saved: Any, runner: Any) -> Any:
        self.started.append((task, saved))
        return saved


def test_a_call_is_handed_to_the_driver_with_its_saved_result_when_there_is_one() -> None:
    def parent_pad(runner: FakeRunner) -> TaskScratchpad:
        parent = Task("p", "main", ("__pregel_pull", "main"), "~main", (), None, None, {})  # type: ignore[arg-type]
        parent.config = {"configurable": {"checkpoint_ns": ""}}
        pad = TaskScratchpad.__new__(TaskScratchpad)
        pad.task, pad.runner, pad.call_counter, pad.config = parent, runner, 0, parent.config
        pad.call_path = pad.call_prefixes = None
        return pad

    runner = FakeRunner({})
    with task_context(parent_pad(runner)):
        first = schedule_call("double", lambda n: 2 * n, (1,), {}, (), False)
    assert first is NOT_SAVED  # nothing saved: the driver must run it
    ((task, _),) = runner.started
    assert task.input == ((1,), {}) and task.name == "double"

    # the same call again (same parent, same index): its id is the same, its result is saved
    saved_runner = FakeRunner({task.id: [("__return__", 42)]})
    with task_context(parent_pad(saved_runner)):
        again = schedule_call("double", lambda n: 2 * n, (1,), {}, (), False)
    assert again == 42
    assert saved_result(saved_runner.site, saved_runner.started[0][0]) == 42


def test_a_calls_path_string_is_task_path_str_of_its_path_and_its_id_follows_its_index() -> None:
    # start_call writes both out by hand (no task_path_str call per call): the sort key of the
    # call's writes, and the id LangGraph gives the call with that index
    from threadloom.constants import NS_SEP, PUSH
    from threadloom.engine.ids import task_id, task_path_str

    runner = FakeRunner({})
    parent = Task("p", "main", ("__pregel_pull", "main"), "~main", (), None, None, {})  # type: ignore[arg-type]
    parent.config = {"configurable": {"checkpoint_ns": "outer:1"}}
    pad = TaskScratchpad.__new__(TaskScratchpad)
    pad.task, pad.runner, pad.call_counter, pad.config = parent, runner, 0, parent.config
    with task_context(pad):
        for n in range(12):
            schedule_call("double", lambda n: 2 * n, (n,), {}, (), False)
    tasks = [task for task, _ in runner.started]
    assert [task.path[2] for task in tasks] == list(range(12))
    assert [task.path_str for task in tasks] == [task_path_str(task.path) for task in tasks]
    assert tasks[11].path_str == "~__pregel_push, ~__pregel_pull, main, 0000000011, True"
    call_ns = f"outer:1{NS_SEP}double"
    assert [task.id for task in tasks] == [
        task_id("cp", call_ns, "3", "double", PUSH, task_path_str(parent.path), str(n))
        for n in range(12)
    ]


def test_more_calls_than_workers_and_calls_inside_calls_all_resolve() -> None:
    @task
    def leaf(n: int) -> int:
        return n + 1

    @task
    def branch(n: int) -> int:
        return sum(f.result() for f in [leaf(n), leaf(n)])

    @entrypoint(checkpointer=InMemorySaver())
    def main(count: int) -> list[int]:
        futures = [branch(n) for n in range(count)]
        return [f.result() for f in futures]

    assert main.invoke(40, cfg()) == [2 * (n + 1) for n in range(40)]


def test_a_settled_call_future_gives_its_result_or_raises_its_error_each_time() -> None:
    # a future read once it is settled is read without its lock: the same answer every time
    @task
    def checked(n: int) -> int:
        if n % 2:
            raise ValueError(f"odd {n}")
        return n * 10

    @entrypoint(checkpointer=InMemorySaver())
    def main(count: int) -> list[Any]:
        futures = [checked(n) for n in range(count)]
        seen: list[Any] = []
        for future in futures:
            for _ in range(2):
                try:
                    seen.append(future.result())
                except ValueError as exc:
                    seen.append(str(exc))
        return seen

    expected = [v for n in range(6) for v in 2 * [f"odd {n}" if n % 2 else n * 10]]
    assert main.invoke(6, cfg()) == expected


def test_a_sync_entrypoint_under_ainvoke_streams_each_call_and_awaits_async_tasks() -> None:
    threads: set[str] = set()

    @task
    async def slow_double(n: int) -> int:
        await asyncio.sleep(0)
        return 2 * n

    @task
    def plain(n: int) -> int:
        threads.add(threading.current_thread().name)
        return n

    @entrypoint(checkpointer=InMemorySaver())
    def main(count: int) -> list[int]:  # a sync entrypoint: it runs on an executor thread
        doubled = [slow_double(n).result() for n in range(count)]
        return [plain(d).result() for d in doubled]

    async def go() -> list[Any]:
        return [c async for c in main.astream(3, cfg(), stream_mode="updates")]

    chunks = asyncio.run(go())
    assert chunks[:3] == [{"slow_double": 0}, {"slow_double": 2}, {"slow_double": 4}]
    assert chunks[-1] == {"main": [0, 2, 4]}
    assert threads  # the sync task ran (in the loop's executor)
