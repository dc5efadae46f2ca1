"""The ``Runtime`` a task attempt sees, built from its scratchpad when first asked for
(``TaskRunner.task_runtime``): where the task sits, and which attempt this is."""

from typing import Annotated, Any, TypedDict

from threadloom.checkpoint.memory import InMemorySaver
from threadloom.graph import END, START, StateGraph
from threadloom.runtime import Runtime
from threadloom.types import Command, RetryPolicy, Send, interrupt


class State(TypedDict, total=False):
    seen: list[Any]


def test_each_attempt_sees_its_number_the_first_attempt_time_and_where_the_task_sits() -> None:
    attempts: list[Any] = []

    def flaky(state: State, runtime: Runtime) -> State:
        attempts.append(runtime.execution_info)
        if len(attempts) < 3:
            raise ValueError("not yet")
        return {"seen": [runtime.execution_info.node_attempt]}

    builder = StateGraph(State)
    builder.add_node(
        "flaky",
        flaky,
        retry_policy=RetryPolicy(initial_interval=0, jitter=False, retry_on=ValueError),
    )
    builder.add_edge(START, "flaky")
    builder.add_edge("flaky", END)
    saver = InMemorySaver()
    graph = builder.compile(checkpointer=saver)
    config = {"configurable": {"thread_id": "t"}}

    assert graph.invoke({}, config) == {"seen": [3]}
    assert [info.node_attempt for info in attempts] == [1, 2, 3]
    assert len({info.node_first_attempt_time for info in attempts}) == 1
    assert len({info.task_id for info in attempts}) == 1
    first = attempts[0]
    assert first.thread_id == "t"
    assert first.checkpoint_ns == f"flaky:{first.task_id}"
    # the checkpoint the task ran from: the one before the run's last
    history = list(graph.get_state_history(config))
    assert first.checkpoint_id == history[1].config["configurable"]["checkpoint_id"]


def test_send_tasks_each_see_their_own_id_and_answers_resume_each_task() -> None:
    def keep(left: list[Any] | None, right: list[Any]) -> list[Any]:
        return sorted([*(left or []), *right])

    class Kept(TypedDict, total=False):
        seen: Annotated[list[Any], keep]

    def fan_out(state: Kept) -> list[Send]:
        return [Send("ask", {"n": n}) for n in range(3)]

    def ask(arg: dict[str, int], runtime: Runtime) -> Kept:
        first = interrupt(f"first {arg['n']}")
        second = interrupt(f"second {arg['n']}")
        return {"seen": [(arg["n"], runtime.execution_info.task_id, first, second)]}

    builder = StateGraph(Kept)
    builder.add_node("ask", ask)
    builder.add_conditional_edges(START, fan_out, ["ask"])
    builder.add_edge("ask", END)
    graph = builder.compile(checkpointer=InMemorySaver())
    config = {"configurable": {"thread_id": "fan"}}

    graph.invoke({}, config)
    for _ in range(2):  # each round answers every pending interrupt by its id
        pending = graph.get_state(config).interrupts
        graph.invoke(Command(resume={i.id: i.value.upper() for i in pending}), config)
    seen = graph.get_state(config).values["seen"]
    assert [(n, first, second) for n, _, first, second in seen] == [
        (n, f"FIRST {n}", f"SECOND {n}") for n in range(3)
    ]
    assert len({tid for _, tid, _, _ in seen}) == 3
