"""Node timeouts (``TimeoutPolicy``), the graph's ``step_timeout``, and node error handlers.

What is expected is what LangGraph 1.2.22 does with the same programs: the errors and their
attributes, retries of a timed-out attempt, which nodes may have a timeout, and how an
``error_handler`` takes a failed node's place. Limits are far from the nodes' real durations (a
node that must time out waits on an event nobody sets), so the tests do not depend on speed.
"""

from __future__ import annotations

import asyncio
import operator
import threading
from datetime import timedelta
from typing import Annotated, Any

import pytest
from langchain_core.runnables import RunnableConfig
from typing_extensions import TypedDict

from threadloom.channels import EphemeralValue, LastValue
from threadloom.checkpoint.memory import InMemorySaver
from threadloom.errors import NodeError, NodeTimeoutError, StepTimeoutError
from threadloom.graph import END, START, StateGraph
from threadloom.pregel import NodeBuilder, Pregel
from threadloom.types import Command, RetryPolicy, Send, TimeoutPolicy, interrupt


class State(TypedDict):
    x: int


async def _forever(state: Any) -> dict[str, Any]:
    await asyncio.Event().wait()  # only a timeout ends it
    return {"x": -1}


def _graph(node: Any, **options: Any) -> Any:
    return StateGraph(State).add_node("slow", node, **options).add_edge(START, "slow").compile()


# --- TimeoutPolicy --------------------------------------------------------------------------------


def test_a_number_or_timedelta_is_a_run_timeout_in_seconds() -> None:
    assert TimeoutPolicy.coerce(1) == TimeoutPolicy(run_timeout=1.0)
    assert TimeoutPolicy.coerce(timedelta(milliseconds=250)) == TimeoutPolicy(run_timeout=0.25)
    assert TimeoutPolicy.coerce(None) is None
    assert TimeoutPolicy.coerce(TimeoutPolicy()) is None  # no limit at all


@pytest.mark.parametrize(
    "declare",
    [
        lambda: TimeoutPolicy.coerce(0),
        lambda: Send("slow", {}, timeout=-1),
        lambda: NodeBuilder().set_timeout(0),
        lambda: StateGraph(State).add_node("slow", _forever, timeout=0),
        lambda: TimeoutPolicy.coerce(TimeoutPolicy(idle_timeout=0.1, refresh_on="never")),  # type: ignore[arg-type]
    ],
)
def test_bad_timeouts_fail_where_they_are_declared(declare: Any) -> None:
    with pytest.raises(ValueError, match=r"greater than 0|refresh_on"):
        declare()


def test_a_sync_node_cannot_have_a_timeout() -> None:
    builder = StateGraph(State).add_node("slow", lambda s: s, timeout=1.0).add_edge(START, "slow")
    with pytest.raises(ValueError, match=r"only supported for async nodes.*'slow' is sync"):
        builder.compile()


# --- node timeouts --------------------------------------------------------------------------------


async def test_an_idle_node_times_out() -> None:
    graph = _graph(_forever, timeout=TimeoutPolicy(idle_timeout=0.05))
    with pytest.raises(NodeTimeoutError) as caught:
        await graph.ainvoke({"x": 1})
    error = caught.value
    assert (error.node, error.kind, error.timeout) == ("slow", "idle", 0.05)
    assert (error.idle_timeout, error.run_timeout) == (0.05, None)
    assert not isinstance(error, TimeoutError)  # so the default retry policy retries it
    assert "Node 'slow' exceeded its idle timeout" in str(error)


async def test_a_run_timeout_is_not_refreshed_by_heartbeats() -> None:
    async def busy(state: State, runtime: Any) -> dict[str, Any]:
        while True:
            runtime.heartbeat()
            await asyncio.sleep(0.01)

    graph = _graph(busy, timeout=TimeoutPolicy(run_timeout=0.2, idle_timeout=5))
    with pytest.raises(NodeTimeoutError) as caught:
        await graph.ainvoke({"x": 1})
    assert caught.value.kind == "run"


async def test_heartbeats_and_streamed_chunks_are_progress() -> None:
    async def beating(state: State, runtime: Any) -> dict[str, Any]:
        for _ in range(10):
            await asyncio.sleep(0.02)
            runtime.heartbeat()
        return {"x": 1}

    async def writing(state: State, writer: Any) -> dict[str, Any]:
        for i in range(10):
            await asyncio.sleep(0.02)
            writer(i)
        return {"x": 2}

    idle = TimeoutPolicy(idle_timeout=1.0)  # ten times each pause; the whole node takes more
    assert await _graph(beating, timeout=idle).ainvoke({"x": 0}) == {"x": 1}
    chunks = [
        c async for c in _graph(writing, timeout=idle).astream({"x": 0}, stream_mode="custom")
    ]
    assert chunks == list(range(10))


async def test_a_timed_out_attempt_is_retried_and_its_writes_are_lost() -> None:
    attempts: list[int] = []

    async def flaky(state: State, writer: Any) -> dict[str, Any]:
        attempts.append(len(attempts))
        if len(attempts) == 1:
            await asyncio.Event().wait()
        return {"x": state["x"] + 1}

    retry = RetryPolicy(max_attempts=3, initial_interval=0.0, jitter=False)
    graph = _graph(flaky, timeout=TimeoutPolicy(idle_timeout=0.05), retry_policy=retry)
    assert await graph.ainvoke({"x": 0}) == {"x": 1}
    assert attempts == [0, 1]


async def test_a_send_timeout_overrides_the_node_timeout() -> None:
    builder = StateGraph(State).add_node("slow", _forever, timeout=TimeoutPolicy(idle_timeout=60))
    builder.add_conditional_edges(
        START, lambda s: [Send("slow", s, timeout=TimeoutPolicy(idle_timeout=0.05))]
    )
    with pytest.raises(NodeTimeoutError) as caught:
        await builder.compile().ainvoke({"x": 1})
    assert caught.value.idle_timeout == 0.05


async def test_a_low_level_node_times_out() -> None:
    node = NodeBuilder().subscribe_only("input").do(_forever).set_timeout(0.05).write_to("output")
    graph = Pregel(
        nodes={"slow": node},
        channels={"input": EphemeralValue(int), "output": LastValue(int)},
        input_channels="input",
        output_channels="output",
    )
    with pytest.raises(NodeTimeoutError, match="run timeout"):
        await graph.ainvoke(1)


# --- step_timeout ---------------------------------------------------------------------------------


async def test_step_timeout_stops_the_step_and_keeps_what_finished() -> None:
    cancelled = asyncio.Event()

    async def hangs(state: State) -> None:
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            cancelled.set()
            raise

    async def quick(state: State) -> dict[str, Any]:
        return {"x": 1}

    builder = StateGraph(State).add_node("hangs", hangs).add_node("quick", quick)
    builder.add_conditional_edges(START, lambda _: ["hangs", "quick"])
    graph = builder.compile(checkpointer=InMemorySaver())
    graph.step_timeout = 0.2
    config = {"configurable": {"thread_id": "t"}}
    seen = []
    with pytest.raises(asyncio.TimeoutError) as caught:
        async for chunk in graph.astream({"x": 0}, config, stream_mode="updates"):
            seen.append(chunk)
    assert seen == [{"quick": {"x": 1}}]
    assert isinstance(caught.value, StepTimeoutError) and caught.value.unfinished == ("hangs",)
    await asyncio.wait_for(cancelled.wait(), 5)
    # the finished task's writes were saved: the thread resumes with only "hangs" to run
    assert graph.get_state(config).next == ("hangs",)
    pending = graph.checkpointer.get_tuple(config).pending_writes
    assert ("x", 1) in [(channel, value) for _, channel, value in pending]


def test_step_timeout_in_the_sync_driver() -> None:
    release = threading.Event()

    def hangs(state: State) -> dict[str, Any]:
        release.wait(30)
        return {"x": 2}

    graph = _graph(hangs)
    graph.step_timeout = 0.2
    try:
        with pytest.raises(TimeoutError, match=r"step_timeout=0\.2"):
            graph.invoke({"x": 0})
    finally:
        release.set()  # the thread cannot be stopped: let it end


def test_without_step_timeout_a_slow_step_finishes() -> None:
    graph = _graph(lambda s: {"x": s["x"] + 1})
    assert graph.step_timeout is None
    assert graph.invoke({"x": 0}) == {"x": 1}


# --- error handlers -------------------------------------------------------------------------------


def _fail(state: Any) -> dict[str, Any]:
    raise ValueError("boom")


def test_the_handler_runs_after_retries_and_routes_with_a_command() -> None:
    attempts: list[int] = []
    seen: dict[str, Any] = {}

    def failing(state: State) -> dict[str, Any]:
        attempts.append(1)
        raise ValueError("always")

    def handler(state: State, error: NodeError) -> Command[str]:
        seen.update(node=error.node, error=error.error, state=dict(state))
        return Command(update={"x": 100}, goto="after")

    graph = (
        StateGraph(State)
        .add_node(
            "failing",
            failing,
            retry_policy=RetryPolicy(
                max_attempts=2, initial_interval=0, jitter=False, retry_on=ValueError
            ),
            error_handler=handler,
        )
        .add_node("after", lambda s: {"x": s["x"] + 1})
        .add_node("skipped", lambda s: {"x": -1})
        .add_edge(START, "failing")
        .add_edge("failing", "skipped")  # the failed node's own edges are not followed
        .compile()
    )
    assert graph.invoke({"x": 0}) == {"x": 101}
    assert len(attempts) == 2
    assert seen["node"] == "failing" and isinstance(seen["error"], ValueError)
    assert seen["state"] == {"x": 0}


def test_the_handler_steps_in_within_the_failed_step() -> None:
    def handler(state: State) -> dict[str, Any]:
        return {"x": 7}

    graph = (
        StateGraph(State)
        .add_node("failing", _fail, error_handler=handler)
        .add_edge(START, "failing")
        .compile(checkpointer=InMemorySaver())
    )
    config = {"configurable": {"thread_id": "h"}}
    updates = list(graph.stream({"x": 0}, config, stream_mode="updates"))
    assert updates == [{"__error_handler__failing": {"x": 7}}]
    history = list(graph.get_state_history(config))
    assert [s.metadata["step"] for s in history] == [1, 0, -1]
    failed_step = history[1]
    assert [(t.name, t.error) for t in failed_step.tasks] == [("failing", "ValueError('boom')")]


def test_each_node_gets_its_own_handler_and_others_still_fail() -> None:
    class Routed(TypedDict):
        route: str
        log: Annotated[list[str], operator.add]

    def handler(state: Routed, error: NodeError) -> dict[str, Any]:
        return {"log": [f"{error.node}:{type(error.error).__name__}"]}

    builder = (
        StateGraph(Routed)
        .add_node("a", _fail, error_handler=handler)
        .add_node("b", _fail)
        .add_conditional_edges(START, lambda s: s["route"], ["a", "b"])
    )
    graph = builder.compile()
    assert graph.invoke({"route": "a", "log": []})["log"] == ["a:ValueError"]
    with pytest.raises(ValueError, match="boom"):
        graph.invoke({"route": "b", "log": []})


def test_a_failing_handler_fails_the_run() -> None:
    def handler(state: State) -> dict[str, Any]:
        raise RuntimeError("handler failed")

    graph = _graph(_fail, error_handler=handler)
    with pytest.raises(RuntimeError, match="handler failed"):
        graph.invoke({"x": 0})


def test_an_interrupt_is_not_a_failure() -> None:
    def asks(state: State) -> dict[str, Any]:
        return {"x": interrupt("how much?")}

    graph = (
        StateGraph(State)
        .add_node("asks", asks, error_handler=lambda s: {"x": -1})
        .add_node("other", lambda s: {})
        .add_edge(START, "asks")
        .add_edge(START, "other")
        .compile(checkpointer=InMemorySaver())
    )
    config = {"configurable": {"thread_id": "i"}}
    assert "__interrupt__" in graph.invoke({"x": 0}, config)
    assert graph.invoke(Command(resume=5), config) == {"x": 5}


def test_a_subgraph_failure_goes_to_the_parent_handler() -> None:
    subgraph = StateGraph(State).add_node("inner", _fail).add_edge(START, "inner").compile()

    def handler(state: State, error: NodeError) -> dict[str, Any]:
        return {"x": 42 if error.node == "slow" else 0}

    graph = _graph(subgraph, error_handler=handler)
    assert graph.invoke({"x": 0}) == {"x": 42}


async def test_async_handler_of_a_timed_out_node() -> None:
    async def handler(state: State, error: NodeError, config: RunnableConfig) -> dict[str, Any]:
        assert config["metadata"]["langgraph_node"] == "__error_handler__slow"
        return {"x": 1 if isinstance(error.error, NodeTimeoutError) else 0}

    graph = _graph(_forever, timeout=0.05, error_handler=handler)
    assert await graph.ainvoke({"x": 0}) == {"x": 1}
    assert END not in graph.nodes


# --- set_node_defaults ----------------------------------------------------------------------------


def test_default_handler_covers_nodes_without_their_own() -> None:
    class Routed(TypedDict):
        route: str
        log: Annotated[list[str], operator.add]

    def own(state: Routed, error: NodeError) -> dict[str, Any]:
        return {"log": [f"own:{error.node}"]}

    def default(state: Routed, error: NodeError) -> dict[str, Any]:
        return {"log": [f"default:{error.node}"]}

    graph = (
        StateGraph(Routed)
        .set_node_defaults(error_handler=default)
        .add_node("a", _fail, error_handler=own)
        .add_node("b", _fail)
        .add_conditional_edges(START, lambda s: s["route"], ["a", "b"])
        .compile()
    )
    assert graph.invoke({"route": "a", "log": []})["log"] == ["own:a"]
    assert graph.invoke({"route": "b", "log": []})["log"] == ["default:b"]


def test_a_failing_handler_is_not_handled_by_the_default() -> None:
    def broken(state: State) -> dict[str, Any]:
        raise RuntimeError("handler boom")

    graph = (
        StateGraph(State)
        .set_node_defaults(error_handler=lambda s: {"x": 0})
        .add_node("n", _fail, error_handler=broken)
        .add_edge(START, "n")
        .compile()
    )
    with pytest.raises(RuntimeError, match="handler boom"):
        graph.invoke({"x": 1})


def test_default_retry_and_timeout() -> None:
    attempts: list[int] = []

    def flaky(state: State) -> dict[str, Any]:
        attempts.append(1)
        if len(attempts) < 3:
            raise ConnectionError("try again")
        return {"x": len(attempts)}

    retry = RetryPolicy(max_attempts=3, initial_interval=0, jitter=False)
    builder = StateGraph(State).set_node_defaults(retry_policy=retry).add_node("n", flaky)
    assert builder.add_edge(START, "n").compile().invoke({"x": 0}) == {"x": 3}

    timed = StateGraph(State).set_node_defaults(timeout=0.05).add_node("n", _forever)
    with pytest.raises(NodeTimeoutError):
        asyncio.run(timed.add_edge(START, "n").compile().ainvoke({"x": 0}))


def test_the_default_handler_name_must_be_free() -> None:
    builder = (
        StateGraph(State)
        .set_node_defaults(error_handler=lambda s: {})
        .add_node("__default_error_handler__", _fail)
        .add_edge(START, "__default_error_handler__")
    )
    with pytest.raises(ValueError, match="already exists"):
        builder.compile()


# --- the functional API ---------------------------------------------------------------------------


async def test_task_and_entrypoint_timeouts() -> None:
    from threadloom.func import entrypoint, task

    @task(timeout=TimeoutPolicy(idle_timeout=0.05))
    async def stuck(x: int) -> int:
        await asyncio.Event().wait()
        return x

    @task(timeout=60)
    async def quick(x: int) -> int:
        return x + 1

    @entrypoint()
    async def uses_stuck(x: int) -> int:
        return await stuck(x)

    @entrypoint()
    async def uses_quick(x: int) -> int:
        return await quick(x)

    @entrypoint(timeout=0.05)
    async def stuck_itself(x: int) -> int:
        await asyncio.Event().wait()
        return x

    with pytest.raises(NodeTimeoutError, match="'stuck'"):
        await uses_stuck.ainvoke(1)
    assert await uses_quick.ainvoke(1) == 2
    with pytest.raises(NodeTimeoutError, match="'stuck_itself'"):
        await stuck_itself.ainvoke(1)


def test_sync_tasks_and_entrypoints_cannot_have_a_timeout() -> None:
    from threadloom.func import entrypoint, task

    def plain(x: int) -> int:
        return x

    with pytest.raises(ValueError, match="Task 'plain' is sync"):
        task(timeout=1)(plain)
    with pytest.raises(ValueError, match="Node 'plain' is sync"):
        entrypoint(timeout=1)(plain)
    with pytest.raises(ValueError, match="greater than 0"):
        task(timeout=0)


async def test_model_tokens_are_progress_for_an_idle_timeout() -> None:
    """A chat model streaming tokens through its callbacks keeps an idle timeout from firing,
    as LangGraph's ``refresh_on="auto"`` does; a heartbeat-only policy ignores them."""
    from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
    from langchain_core.messages import AIMessage
    from langchain_core.outputs import ChatGeneration, ChatResult

    class Slow(GenericFakeChatModel):
        async def _agenerate(
            self, messages: Any, stop: Any = None, run_manager: Any = None, **kw: Any
        ) -> ChatResult:
            for i in range(8):  # 1.2 s in all, 0.15 s between tokens
                await asyncio.sleep(0.15)
                if run_manager:
                    await run_manager.on_llm_new_token(str(i))
            return ChatResult(generations=[ChatGeneration(message=AIMessage(content="01234567"))])

    model = Slow(messages=iter([AIMessage(content="unused")]))

    async def call(state: State) -> dict[str, Any]:
        reply = await model.ainvoke("hi")
        return {"x": len(reply.content)}

    auto = _graph(call, timeout=TimeoutPolicy(idle_timeout=0.75))
    assert await auto.ainvoke({"x": 0}) == {"x": 8}
    heartbeat_only = _graph(call, timeout=TimeoutPolicy(idle_timeout=0.75, refresh_on="heartbeat"))
    with pytest.raises(NodeTimeoutError, match="idle timeout"):
        await heartbeat_only.ainvoke({"x": 0})


async def test_a_node_raising_cancelled_error_fails_the_run() -> None:
    from threadloom.errors import NodeCancelledError

    async def cancels(state: State) -> dict[str, Any]:
        raise asyncio.CancelledError("from the node")

    graph = (
        StateGraph(State)
        .add_node("cancels", cancels)
        .add_node("fine", lambda s: {})
        .add_edge(START, "cancels")
        .add_edge(START, "fine")
        .compile()
    )
    with pytest.raises(NodeCancelledError) as caught:
        await graph.ainvoke({"x": 0})
    assert caught.value.node == "cancels"


async def test_cancelling_the_caller_still_cancels_the_run() -> None:
    run = asyncio.ensure_future(_graph(_forever).ainvoke({"x": 0}))
    await asyncio.sleep(0.05)
    run.cancel()
    with pytest.raises(asyncio.CancelledError):
        await run


def test_a_resumed_run_runs_the_handler_that_crashed_not_the_node() -> None:
    from threadloom.errors import SavedTaskError

    calls = {"node": 0, "handler": 0}
    errors: list[NodeError] = []
    crash = [True]

    def node(state: State) -> dict[str, Any]:
        calls["node"] += 1
        raise RuntimeError("boom")

    def handler(state: State, error: NodeError) -> dict[str, Any]:
        calls["handler"] += 1
        errors.append(error)
        if crash[0]:
            raise RuntimeError("handler crash")
        return {"x": 1}

    graph = (
        StateGraph(State)
        .set_node_defaults(error_handler=handler)
        .add_node("n", node)
        .add_edge(START, "n")
        .compile(checkpointer=InMemorySaver())
    )
    config = {"configurable": {"thread_id": "crash"}}
    with pytest.raises(RuntimeError, match="handler crash"):
        graph.invoke({"x": 0}, config)
    crash[0] = False
    assert graph.invoke(None, config) == {"x": 1}
    assert calls == {"node": 1, "handler": 2}
    assert isinstance(errors[1].error, SavedTaskError)
    assert "RuntimeError('boom')" in str(errors[1].error)


def test_a_low_level_sync_node_cannot_have_a_timeout() -> None:
    from langchain_core.runnables import RunnableLambda

    def plain(x: int) -> int:
        return x

    async def coro(x: int) -> int:
        return x

    for bound in (plain, RunnableLambda(plain).with_config(tags=["t"])):
        with pytest.raises(ValueError, match="only supported for async nodes"):
            Pregel(
                nodes={
                    "n": NodeBuilder().subscribe_only("a").do(bound).set_timeout(1).write_to("b")
                },
                channels={"a": EphemeralValue(int), "b": LastValue(int)},
                input_channels="a",
                output_channels="b",
            )
    accepted = Pregel(
        nodes={"n": NodeBuilder().subscribe_only("a").do(RunnableLambda(coro)).set_timeout(1)},
        channels={"a": EphemeralValue(int)},
        input_channels="a",
        output_channels="a",
    )
    assert accepted is not None
