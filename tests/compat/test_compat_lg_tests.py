"""What LangGraph 1.2.22's own tests (the harness's all tier, `benchmarks/langgraph_tests/`) showed
threadloom doing differently, now fixed; each passes on LangGraph with the import root swapped.
The tests they come from also read private names, so they are not in the public tier.
"""

from __future__ import annotations

import asyncio
import operator
from typing import Annotated, Any, TypedDict

from threadloom.channels import LastValue
from threadloom.checkpoint.memory import InMemorySaver
from threadloom.graph import START, StateGraph
from threadloom.pregel import NodeBuilder, Pregel
from threadloom.types import Command, RetryPolicy, interrupt


class _Key(TypedDict):
    my_key: str


def _doubly_nested() -> Any:
    """parent_1 → child → parent_2, where child runs a grandchild that stops before its second
    node (``interrupt_before``); only the parent has a saver (LangGraph's own test)."""
    grandchild = StateGraph(_Key)
    grandchild.add_node("grandchild_1", lambda s: {"my_key": s["my_key"] + " here"})
    grandchild.add_node("grandchild_2", lambda s: {"my_key": s["my_key"] + " and there"})
    grandchild.add_edge(START, "grandchild_1")
    grandchild.add_edge("grandchild_1", "grandchild_2")
    child = StateGraph(_Key)
    child.add_node("child_1", grandchild.compile(interrupt_before=["grandchild_2"]))
    child.add_edge(START, "child_1")
    parent = StateGraph(_Key)
    parent.add_node("parent_1", lambda s: {"my_key": "hi " + s["my_key"]})
    parent.add_node("child", child.compile())
    parent.add_node("parent_2", lambda s: {"my_key": s["my_key"] + " and back again"})
    parent.add_edge(START, "parent_1")
    parent.add_edge("parent_1", "child")
    parent.add_edge("child", "parent_2")
    return parent.compile(checkpointer=InMemorySaver())


def test_a_breakpoint_two_subgraphs_down_pauses_the_root() -> None:
    # it paused only the middle graph's task, which then ended as if its subgraph had finished
    graph = _doubly_nested()
    config: Any = {"configurable": {"thread_id": "1"}}
    assert graph.invoke({"my_key": "my value"}, config) == {"my_key": "hi my value"}
    state = graph.get_state(config, subgraphs=True)
    assert state.next == ("child",)
    assert state.tasks[0].state.next == ("child_1",)
    assert graph.invoke(None, config) == {"my_key": "hi my value here and there and back again"}


def test_only_the_root_streams_a_deep_breakpoint() -> None:
    graph = _doubly_nested()
    config: Any = {"configurable": {"thread_id": "1"}}
    chunks = [
        (len(ns), update) for ns, update in graph.stream({"my_key": "v"}, config, subgraphs=True)
    ]
    assert chunks == [
        (0, {"parent_1": {"my_key": "hi v"}}),
        (2, {"grandchild_1": {"my_key": "hi v here"}}),
        (0, {"__interrupt__": ()}),
    ]


def test_a_pregel_tasks_result_shows_its_writes_to_every_channel() -> None:
    # (test_invoke_two_processes_in_out_interrupt) it showed only writes to the output channel,
    # bare: None for a node writing another channel
    one = NodeBuilder().subscribe_only("input").do(lambda x: x + 1).write_to("inbox")
    two = NodeBuilder().subscribe_only("inbox").do(lambda x: x + 1).write_to("output")
    app = Pregel(
        nodes={"one": one, "two": two},
        channels={"inbox": LastValue(int), "output": LastValue(int), "input": LastValue(int)},
        input_channels="input",
        output_channels="output",
        checkpointer=InMemorySaver(),
        interrupt_after_nodes=["one"],
    )
    config: Any = {"configurable": {"thread_id": "1"}}
    app.invoke(2, config)
    assert app.invoke(None, config) == 4
    history = list(app.get_state_history(config))
    assert [(s.next, [t.result for t in s.tasks]) for s in history] == [
        ((), []),
        (("two",), [{"output": 4}]),
        (("one",), [{"inbox": 3}]),
    ]


class _Log(TypedDict, total=False):
    log: Annotated[list[str], operator.add]


def _ask_then_fail(failures: list[Exception], questions: int = 1) -> Any:
    """One node with a retry policy asking ``questions`` questions, then failing while
    ``failures`` lasts (test_strict_resume.py's ``_ask_then_fail_once``)."""

    def ask(state: _Log) -> _Log:
        answers = [interrupt(f"q{i}?") for i in range(questions)]
        if failures:
            raise failures.pop()
        return {"log": [",".join(answers)]}

    retry = RetryPolicy(initial_interval=0, jitter=False)
    builder = StateGraph(_Log).add_node("ask", ask, retry_policy=retry).add_edge(START, "ask")
    return builder.compile(checkpointer=InMemorySaver())


def test_a_retried_node_reuses_the_answer_it_took() -> None:
    # (test_a_retried_node_reuses_its_answer) the retry asked the question again
    for by_id in (True, False):
        graph = _ask_then_fail([ConnectionError("flaky api")])
        config: Any = {"configurable": {"thread_id": "1"}}
        graph.invoke({"log": []}, config)
        (card,) = graph.get_state(config).interrupts
        answer = {card.id: "yes"} if by_id else "yes"
        assert graph.invoke(Command(resume=answer), config) == {"log": ["yes"]}
        assert graph.get_state(config).next == ()


def test_a_retried_node_keeps_its_answer_when_it_asks_again() -> None:
    # the retry replays the first answer and pauses at the second question; the first answer
    # is saved with the pause, so answering the second finishes the node
    graph = _ask_then_fail([ConnectionError("flaky api")], questions=2)
    config: Any = {"configurable": {"thread_id": "1"}}
    graph.invoke({"log": []}, config)
    graph.invoke(Command(resume="1"), config)
    (card,) = graph.get_state(config).interrupts
    assert card.value == "q1?"
    assert graph.invoke(Command(resume="2"), config) == {"log": ["1,2"]}


def test_a_retried_node_reuses_the_answer_it_took_async() -> None:
    async def main() -> Any:
        graph = _ask_then_fail([ConnectionError("flaky api")])
        config: Any = {"configurable": {"thread_id": "1"}}
        await graph.ainvoke({"log": []}, config)
        return await graph.ainvoke(Command(resume="yes"), config)

    assert asyncio.run(main()) == {"log": ["yes"]}


def test_the_json_schemas_of_messages_state_and_the_react_agent() -> None:
    # (test_prebuilt_tool_chat) on Python 3.11 pydantic refused their typing.TypedDict
    from langchain_core.language_models.fake_chat_models import GenericFakeChatModel

    from threadloom.graph import MessagesState
    from threadloom.prebuilt import create_react_agent

    graph = StateGraph(MessagesState).add_node("a", lambda s: s).add_edge(START, "a").compile()
    agent = create_react_agent(GenericFakeChatModel(messages=iter([])), [])
    for app in (graph, agent):
        for schema in (app.get_input_jsonschema(), app.get_output_jsonschema()):
            assert schema["properties"]["messages"]["type"] == "array"
            assert schema["required"] == ["messages"]


class _Root(TypedDict):
    __root__: Annotated[list[str], operator.add]


def test_a_typed_dict_of_one_root_key_is_its_value() -> None:
    # (test_root_graph) the state, the input, node returns and update_state were dicts
    builder = StateGraph(_Root)
    builder.add_node("a", lambda state: [f"a saw {len(state)}"])
    builder.add_node("b", lambda state: ["b"])
    builder.add_edge(START, "a")
    builder.add_edge("a", "b")
    graph = builder.compile(checkpointer=InMemorySaver())
    config: Any = {"configurable": {"thread_id": "1"}}
    assert graph.invoke(["x"], config) == ["x", "a saw 1", "b"]
    assert list(graph.stream(["y"], config)) == [{"a": ["a saw 4"]}, {"b": ["b"]}]
    graph.update_state(config, ["u"], as_node="b")
    assert graph.get_state(config).values == ["x", "a saw 1", "b", "y", "a saw 4", "b", "u"]


def test_message_ids_follow_a_patched_uuid4() -> None:
    # (test_root_graph, deterministic_uuids) a test patching uuid.uuid4 for repeatable message
    # ids got random ones
    import uuid
    from unittest import mock

    from langchain_core.messages import AIMessage, HumanMessage

    from threadloom.graph import MessagesState

    builder = StateGraph(MessagesState)
    builder.add_node("a", lambda state: {"messages": [AIMessage("hi")]})
    builder.add_edge(START, "a")
    graph = builder.compile()
    fixed = (uuid.UUID(f"00000000-0000-4000-8000-{i:012}") for i in range(100))
    with mock.patch("uuid.uuid4", side_effect=fixed):
        out = graph.invoke({"messages": [HumanMessage("hello")]})
    assert [m.id for m in out["messages"]] == [
        "00000000-0000-4000-8000-000000000000",
        "00000000-0000-4000-8000-000000000001",
    ]


def test_the_json_schema_of_a_bare_state_type_is_that_type() -> None:
    # (test_message_graph) it was an object with one "root" property
    graph = StateGraph(Annotated[list[str], operator.add])  # type: ignore[arg-type]
    graph.add_node("a", lambda s: s).add_edge(START, "a")
    compiled = graph.compile()
    assert compiled.get_input_jsonschema() == {
        "default": None,
        "items": {"type": "string"},
        "title": "LangGraphInput",
        "type": "array",
    }
    assert compiled.get_output_jsonschema()["title"] == "LangGraphOutput"
    assert compiled.get_output_jsonschema()["type"] == "array"
