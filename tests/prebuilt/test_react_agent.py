"""create_react_agent runs the programs LangGraph 1.2.22 runs, with the same messages and updates.

The expected messages, update sequences and step counts were observed by running each program on
LangGraph 1.2.22 with the same offline model (``benchmarks/setup.sh``); ids are not compared.
"""

import asyncio
from typing import Annotated, Any

import pytest
from langchain_core.messages import AIMessage, BaseMessage, SystemMessage
from langchain_core.runnables import RunnableLambda
from langchain_core.tools import tool
from pydantic import BaseModel

from threadloom.checkpoint.memory import InMemorySaver
from threadloom.checkpoint.sqlite import SqliteSaver
from threadloom.errors import InvalidChatHistoryError, PendingInterruptWarning
from threadloom.prebuilt import InjectedState, create_react_agent
from threadloom.prebuilt.chat_agent_executor import AgentState, AgentStatePydantic
from threadloom.testing import FakeToolCallingModel, ToolRule
from threadloom.types import Command, interrupt


@tool
def add(a: int, b: int) -> int:
    """Add two numbers."""
    return a + b


@tool(return_direct=True)
def lookup(key: str) -> str:
    """Looks a key up; its result is the agent's answer."""
    return f"value of {key}"


RULES = [
    ToolRule(r"add (?P<a>\d+) and (?P<b>\d+)", "add", {"a": "{a}", "b": "{b}"}),
    ToolRule(r"look up (?P<k>\w+)", "lookup", {"key": "{k}"}),
]


def model(**kw: Any) -> FakeToolCallingModel:
    """A model whose rules call only ``add`` (bind_tools refuses rules for tools not bound)."""
    return FakeToolCallingModel(rules=RULES[:1], default_reply="plain", **kw)


def shape(messages: list[BaseMessage]) -> list[tuple[str, Any]]:
    return [(m.type, m.tool_calls if m.type == "ai" else m.content) for m in messages]  # type: ignore[attr-defined]


def updates(agent: Any, text: str, config: Any = None) -> list[tuple[str, list[Any]]]:
    out = []
    for chunk in agent.stream({"messages": [("user", text)]}, config, stream_mode="updates"):
        for node, update in chunk.items():
            out.append((node, [m.content for m in (update or {}).get("messages", [])]))
    return out


@pytest.mark.parametrize("version", ["v1", "v2"])
def test_tool_loop_updates_match_langgraph(version: str) -> None:
    agent = create_react_agent(FakeToolCallingModel(rules=RULES), [add, lookup], version=version)  # type: ignore[arg-type]
    assert updates(agent, "add 1 and 2") == [("agent", [""]), ("tools", ["3"]), ("agent", ["3"])]
    result = agent.invoke({"messages": [("user", "add 1 and 2")]})
    assert shape(result["messages"]) == [
        ("human", "add 1 and 2"),
        (
            "ai",
            [{"name": "add", "args": {"a": "1", "b": "2"}, "id": "call_1_0", "type": "tool_call"}],
        ),
        ("tool", "3"),
        ("ai", []),
    ]
    assert result["messages"][-1].content == "3"


def test_v2_runs_each_call_as_its_own_task() -> None:
    both = FakeToolCallingModel(
        rules=[*RULES, ToolRule(r"and (?P<b>\d+)", "add", {"a": 0, "b": "{b}"})]
    )
    v1 = updates(create_react_agent(both, [add, lookup], version="v1"), "add 1 and 2")
    v2 = updates(create_react_agent(both, [add, lookup], version="v2"), "add 1 and 2")
    assert v1[1] == ("tools", ["3", "2"])
    assert sorted(v2[1:3]) == [("tools", ["2"]), ("tools", ["3"])]  # in finishing order


@pytest.mark.parametrize("version", ["v1", "v2"])
def test_injected_state_in_an_agent_holds_the_managed_keys(version: str) -> None:
    @tool
    def count(q: str, state: Annotated[dict, InjectedState]) -> str:
        """Counts the messages."""
        return f"{q}: {len(state['messages'])} {sorted(state)}"

    rule = ToolRule(r"count (?P<q>\w+)", "count", {"q": "{q}"})
    agent = create_react_agent(FakeToolCallingModel(rules=[rule]), [count], version=version)  # type: ignore[arg-type]
    result = agent.invoke({"messages": [("user", "count x")]})
    assert result["messages"][2].content == "x: 2 ['messages', 'remaining_steps']"  # as LangGraph


def test_return_direct_ends_after_the_tool() -> None:
    agent = create_react_agent(FakeToolCallingModel(rules=RULES), [add, lookup])
    assert updates(agent, "look up x") == [("agent", [""]), ("tools", ["value of x"])]


@pytest.mark.parametrize(
    "prompt",
    [
        "be brief",
        SystemMessage("be brief"),
        lambda state: [SystemMessage("be brief"), *state["messages"]],
        RunnableLambda(lambda state: [SystemMessage("be brief"), *state["messages"]]),
    ],
)
def test_prompt_forms_reach_the_model_but_not_the_state(prompt: Any) -> None:
    seen: list[list[BaseMessage]] = []

    class Recording(FakeToolCallingModel):
        def reply(self, messages: list[BaseMessage]) -> AIMessage:
            seen.append(messages)
            return super().reply(messages)

    agent = create_react_agent(Recording(rules=RULES[:1], default_reply="ok"), [add], prompt=prompt)
    result = agent.invoke({"messages": [("user", "hi")]})
    assert [m.type for m in seen[0]] == ["system", "human"] and seen[0][0].content == "be brief"
    assert shape(result["messages"]) == [("human", "hi"), ("ai", [])]


def test_the_agent_answers_before_the_recursion_limit() -> None:
    class Looping(FakeToolCallingModel):
        def reply(self, messages: list[BaseMessage]) -> AIMessage:
            call = {"name": "add", "args": {"a": 1, "b": 1}, "id": f"c{len(messages)}"}
            return AIMessage("", tool_calls=[call])

    result = create_react_agent(Looping(), [add]).invoke(
        {"messages": [("user", "go")]}, {"recursion_limit": 6}
    )
    assert len(result["messages"]) == 6  # as in LangGraph
    assert result["messages"][-1].content == "Sorry, need more steps to process this request."


def test_remaining_steps_seen_by_the_prompt() -> None:
    seen: list[int] = []

    def prompt(state: AgentState) -> Any:
        seen.append(state["remaining_steps"])
        return state["messages"]

    create_react_agent(model(), [add], prompt=prompt).invoke(
        {"messages": [("user", "add 1 and 2")]}, {"recursion_limit": 10}
    )
    assert seen == [9, 7]  # LangGraph's counts for the same run


def test_interrupt_before_tools_then_resume(tmp_path: Any) -> None:
    with SqliteSaver.from_conn_string(str(tmp_path / "agent.db")) as saver:
        agent = create_react_agent(model(), [add], checkpointer=saver, interrupt_before=["tools"])
        config = {"configurable": {"thread_id": "1"}}
        paused = agent.invoke({"messages": [("user", "add 1 and 2")]}, config)
        assert [m.type for m in paused["messages"]] == ["human", "ai"]
        assert agent.get_state(config).next == ("tools",)
        assert agent.invoke(None, config)["messages"][-1].content == "3"


def test_interrupt_after_agent() -> None:
    agent = create_react_agent(
        model(), [add], checkpointer=InMemorySaver(), interrupt_after=["agent"]
    )
    config = {"configurable": {"thread_id": "1"}}
    agent.invoke({"messages": [("user", "add 1 and 2")]}, config)
    assert agent.get_state(config).next == ("tools",)


class Answer(BaseModel):
    answer: str


class Structured(FakeToolCallingModel):
    def with_structured_output(self, schema: Any, **kw: Any) -> Any:
        return RunnableLambda(lambda msgs: schema(answer=f"n={len(msgs)}"))


def test_response_format_adds_a_structured_response() -> None:
    agent = create_react_agent(Structured(rules=RULES[:1]), [add], response_format=Answer)
    result = agent.invoke({"messages": [("user", "add 1 and 2")]})
    assert result["structured_response"] == Answer(answer="n=4")
    with_prompt = create_react_agent(
        Structured(rules=RULES[:1]), [add], response_format=("sys", Answer)
    )
    assert with_prompt.invoke({"messages": [("user", "add 1 and 2")]})["structured_response"] == (
        Answer(answer="n=5")  # the system prompt goes first
    )


def test_pre_and_post_model_hooks() -> None:
    def pre(state: Any) -> dict[str, Any]:
        return {"llm_input_messages": [SystemMessage("pre"), *state["messages"]]}

    def post(state: Any) -> dict[str, Any]:
        return {"messages": [AIMessage("post", id=state["messages"][-1].id)]}

    seen: list[list[str]] = []

    class Recording(FakeToolCallingModel):
        def reply(self, messages: list[BaseMessage]) -> AIMessage:
            seen.append([m.type for m in messages])
            return super().reply(messages)

    agent = create_react_agent(Recording(default_reply="plain"), [add], pre_model_hook=pre)
    assert [node for node, _ in updates(agent, "hi")] == ["pre_model_hook", "agent"]
    assert seen == [["system", "human"]]
    result = agent.invoke({"messages": [("user", "hi")]})
    assert "llm_input_messages" not in result
    agent = create_react_agent(model(), [add], post_model_hook=post)
    assert updates(agent, "hi") == [("agent", ["plain"]), ("post_model_hook", ["post"])]


def test_state_schema_name_and_no_tools() -> None:
    class MyState(AgentState):
        extra: str

    agent = create_react_agent(model(), [add], state_schema=MyState, name="bob")
    assert agent.name == "bob"
    result = agent.invoke({"messages": [("user", "hi")], "extra": "e"})
    assert result["extra"] == "e" and result["messages"][-1].name == "bob"
    bare = create_react_agent(model(), [])
    assert shape(bare.invoke({"messages": [("user", "hi")]})["messages"]) == [
        ("human", "hi"),
        ("ai", []),
    ]


def test_async_agent_matches_sync() -> None:
    agent = create_react_agent(model(), [add])
    result = asyncio.run(agent.ainvoke({"messages": [("user", "add 2 and 2")]}))
    assert [m.content for m in result["messages"]][2:] == ["4", "4"]


def test_model_tokens_stream_in_messages_mode() -> None:
    agent = create_react_agent(FakeToolCallingModel(default_reply="one two three"), [add])
    tokens = [
        chunk.content
        for chunk, meta in agent.stream({"messages": [("user", "hi")]}, stream_mode="messages")
        if meta["langgraph_node"] == "agent" and chunk.content
    ]
    assert tokens == ["one ", "two ", "three"]


def test_model_errors_are_clear() -> None:
    with pytest.raises(ValueError, match="chat model instance"):
        create_react_agent("openai:gpt-4o", [add])
    with pytest.raises(ValueError, match=r"Number of tools in the model\.bind_tools\(\)"):
        create_react_agent(FakeToolCallingModel().bind_tools([lookup]), [add, lookup])
    with pytest.raises(ValueError, match=r"Missing tools '\{'add'\}' in the model\.bind_tools\(\)"):
        create_react_agent(FakeToolCallingModel().bind_tools([lookup]), [add])
    with pytest.raises(ValueError, match="must be 'v1' or 'v2'"):
        create_react_agent(model(), [add], version="v3")  # type: ignore[arg-type]


@tool
def pay(amount: int) -> str:
    """Pays, after a person approves."""
    return f"paid {amount}" if interrupt(f"pay {amount}?") == "yes" else "refused"


PAY = FakeToolCallingModel(
    rules=[
        ToolRule(r"pay (?P<a>\d+)", "pay", {"amount": "{a}"}),
        ToolRule(r"and (?P<b>\d+)", "pay", {"amount": "{b}"}),
    ]
)


def test_v2_parallel_tool_interrupts_are_answered_by_id() -> None:
    agent = create_react_agent(PAY, [pay], checkpointer=InMemorySaver())
    config = {"configurable": {"thread_id": "1"}}
    paused = agent.invoke({"messages": [("user", "pay 5 and 7")]}, config)
    asks = {i.id: i.value for i in paused["__interrupt__"]}
    assert sorted(asks.values()) == ["pay 5?", "pay 7?"]
    assert agent.get_state(config).next == ("tools", "tools")
    answers = {i: "yes" if "5" in v else "no" for i, v in asks.items()}
    result = agent.invoke(Command(resume=answers), config)
    assert [m.content for m in result["messages"]][2:] == ["paid 5", "refused", "paid 5 refused"]


def test_an_unanswered_tool_call_in_the_history_is_refused() -> None:
    agent = create_react_agent(PAY, [pay], checkpointer=InMemorySaver(), version="v1")
    config = {"configurable": {"thread_id": "1"}}
    agent.invoke({"messages": [("user", "pay 5 and 7")]}, config)  # paused inside the tools
    with (
        pytest.warns(PendingInterruptWarning),
        pytest.raises(InvalidChatHistoryError, match="do not have a corresponding ToolMessage"),
    ):
        agent.invoke({"messages": [("user", "hello")]}, config)  # new input, calls unanswered


def test_pydantic_state_provider_tools_and_a_dynamic_model() -> None:
    expected = ["add 1 and 2", "", "3", "3"]  # LangGraph's messages for each of these agents
    pydantic_agent = create_react_agent(model(), [add], state_schema=AgentStatePydantic)
    result = pydantic_agent.invoke({"messages": [("user", "add 1 and 2")]})
    assert [m.content for m in result["messages"]] == expected
    web_search = {
        "type": "function",
        "function": {"name": "web_search", "description": "x", "parameters": {"type": "object"}},
    }
    with_provider_tool = create_react_agent(model(), [add, web_search])  # bound, never run here
    result = with_provider_tool.invoke({"messages": [("user", "add 1 and 2")]})
    assert [m.content for m in result["messages"]] == expected
    chosen: list[int] = []

    def pick(state: Any, runtime: Any) -> Any:
        chosen.append(len(state["messages"]))
        return model()

    result = create_react_agent(pick, [add]).invoke({"messages": [("user", "add 1 and 2")]})
    assert [m.content for m in result["messages"]] == expected and chosen == [1, 3]


@pytest.mark.parametrize("version", ["v1", "v2"])
def test_messages_and_debug_streams_match_langgraph(version: str) -> None:
    agent = create_react_agent(model(), [add], version=version)  # type: ignore[arg-type]
    question = {"messages": [("user", "add 1 and 2")]}
    messages = [
        (type(chunk).__name__, chunk.content, meta["langgraph_node"], meta["langgraph_step"])
        for chunk, meta in agent.stream(question, stream_mode="messages")
    ]
    assert messages == [
        ("AIMessageChunk", "", "agent", 1),
        ("AIMessageChunk", "", "agent", 1),
        ("ToolMessage", "3", "tools", 2),
        ("AIMessageChunk", "3", "agent", 3),
        ("AIMessageChunk", "", "agent", 3),
    ]

    async def collect() -> list[tuple[str, Any, str]]:
        return [
            (type(chunk).__name__, chunk.content, meta["langgraph_node"])
            async for chunk, meta in agent.astream(question, stream_mode="messages")
        ]

    assert asyncio.run(collect()) == [m[:3] for m in messages]
    debug = [(c["type"], c["payload"]["name"]) for c in agent.stream(question, stream_mode="debug")]
    assert debug == [
        ("task", "agent"),
        ("task_result", "agent"),
        ("task", "tools"),
        ("task_result", "tools"),
        ("task", "agent"),
        ("task_result", "agent"),
    ]
