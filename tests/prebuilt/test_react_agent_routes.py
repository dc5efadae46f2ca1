"""``create_react_agent`` as langgraph-prebuilt 1.1.3's own tests use it: the routes around a
``post_model_hook``, the structured answer asked of the model the agent calls, parallel calls
with a ``return_direct`` tool, prompts given the store, and the arguments it refuses.

The model is a small offline chat model defined here (the tests run unchanged on LangGraph 1.2.22
with the import root swapped: ``benchmarks/setup.sh``'s ``.bench-venv``).
"""

import asyncio
from typing import Any

import pytest
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage, ToolCall
from langchain_core.outputs import ChatGeneration, ChatResult
from langchain_core.runnables import RunnableConfig, RunnableLambda
from langchain_core.tools import tool
from pydantic import BaseModel

from threadloom.graph import START, MessagesState, StateGraph
from threadloom.prebuilt import create_react_agent
from threadloom.prebuilt.chat_agent_executor import AgentState
from threadloom.runtime import Runtime
from threadloom.store.memory import InMemoryStore
from threadloom.warnings import LangGraphDeprecatedSinceV10


class Weather(BaseModel):
    temperature: float


class ScriptedModel(BaseChatModel):
    """Answers with the next tool calls of ``script`` (cycling), its content the joined input."""

    script: list[list[ToolCall]] = []  # noqa: RUF012 (a pydantic field)
    structured: Any = None
    index: int = 0

    def _generate(self, messages: list[BaseMessage], *args: Any, **kwargs: Any) -> ChatResult:
        calls = self.script[self.index % len(self.script)] if self.script else []
        text = "-".join(str(m.content) for m in messages)
        message = AIMessage(content=text, id=str(self.index), tool_calls=list(calls))
        self.index += 1
        return ChatResult(generations=[ChatGeneration(message=message)])

    @property
    def _llm_type(self) -> str:
        return "scripted"

    def bind_tools(self, tools: Any, **kwargs: Any) -> Any:
        return self.bind(tools=[{"type": "function", "function": {"name": t.name}} for t in tools])

    def with_structured_output(self, schema: Any, **kwargs: Any) -> Any:
        if self.structured is None:
            raise ValueError("this model gives no structured output")
        return RunnableLambda(lambda _: self.structured)


@tool
def get_weather() -> str:
    """The weather."""
    return "sunny, 75F"


@tool(return_direct=True)
def final(x: int) -> str:
    """Its result is the answer."""
    return f"final {x}"


@tool
def echo(x: int) -> str:
    """Echoes."""
    return f"echo {x}"


def nodes_run(agent: Any, text: str) -> list[str]:
    config: Any = {"recursion_limit": 10}  # (a wrong route loops, its messages doubling)
    chunks = agent.stream({"messages": [HumanMessage(text)]}, config, stream_mode="updates")
    return [node for chunk in chunks for node in chunk]


def test_the_post_model_hook_sends_only_unanswered_calls_to_the_tools() -> None:
    same_call = [[ToolCall(name="get_weather", args={}, id="1")]]  # asked again and again
    model = ScriptedModel(script=same_call, structured=Weather(temperature=75))
    agent = create_react_agent(
        model, [get_weather], response_format=Weather, post_model_hook=lambda state: {}
    )
    assert nodes_run(agent, "weather?") == [
        "agent",
        "post_model_hook",
        "tools",
        "agent",
        "post_model_hook",
        "generate_structured_response",
    ]


def test_the_structured_answer_is_asked_of_the_model_when_the_agent_answers() -> None:
    agent = create_react_agent(ScriptedModel(), [get_weather], response_format=Weather)
    with pytest.raises(ValueError, match="no structured output"):
        agent.invoke({"messages": [HumanMessage("hi")]})

    chosen = ScriptedModel(structured=Weather(temperature=60))
    dynamic = create_react_agent(lambda state, runtime: chosen, [], response_format=Weather)
    out = dynamic.invoke({"messages": [HumanMessage("hi")]})
    assert out["structured_response"] == Weather(temperature=60)


def test_parallel_calls_end_when_one_tool_returns_directly() -> None:
    calls = [
        ToolCall(name="final", args={"x": 1}, id="a"),
        ToolCall(name="echo", args={"x": 2}, id="b"),
    ]
    agent = create_react_agent(ScriptedModel(script=[calls]), [final, echo], version="v2")
    out = agent.invoke({"messages": [HumanMessage("go")]})
    assert [m.type for m in out["messages"]] == ["human", "ai", "tool", "tool"]


def test_a_prompt_function_is_given_the_store_it_asks_for() -> None:
    store = InMemoryStore()
    store.put(("users",), "1", {"name": "Alice"})

    def prompt(state, config, *, store):  # type: ignore[no-untyped-def]  # (LangGraph: no annotation)
        user = store.get(("users",), config["configurable"]["user_id"]).value["name"]
        return [SystemMessage(f"user {user}"), *state["messages"]]

    async def aprompt(state, *, store):  # type: ignore[no-untyped-def]
        return [SystemMessage(store.get(("users",), "1").value["name"]), *state["messages"]]

    agent = create_react_agent(ScriptedModel(), [echo], prompt=prompt, store=store)
    out = agent.invoke({"messages": [HumanMessage("hi")]}, {"configurable": {"user_id": "1"}})
    assert out["messages"][-1].content == "user Alice-hi"
    agent = create_react_agent(ScriptedModel(), [echo], prompt=aprompt, store=store)
    out = asyncio.run(agent.ainvoke({"messages": [HumanMessage("hi")]}))
    assert out["messages"][-1].content == "Alice-hi"


def test_arguments_refused_or_renamed() -> None:
    with pytest.raises(TypeError, match=r"got unexpected keyword arguments: \{'extra': 1\}"):
        create_react_agent(ScriptedModel(), [], extra=1)
    with pytest.warns(LangGraphDeprecatedSinceV10, match="`config_schema` is deprecated"):
        agent = create_react_agent(ScriptedModel(), [], config_schema=Weather)
    assert agent.context_schema is Weather

    class NoSteps(MessagesState):
        pass

    with pytest.raises(ValueError, match="Missing required key"):
        create_react_agent(ScriptedModel(), [], state_schema=NoSteps)


def test_an_agent_streamed_inside_a_node_streams_to_its_own_reader_only() -> None:
    agent = create_react_agent(ScriptedModel(), [echo])

    def run_agent(state: MessagesState, config: RunnableConfig) -> dict[str, Any]:
        streamed = agent.stream({"messages": state["messages"]}, config, stream_mode="messages")
        return {"messages": [("assistant", " ".join(str(m.content) for m, _ in streamed))]}

    outer = StateGraph(MessagesState).add_node(run_agent).add_edge(START, "run_agent").compile()
    chunks = list(
        outer.stream({"messages": [HumanMessage("hi")]}, stream_mode=["messages", "values"])
    )
    assert [mode for mode, _ in chunks] == ["values", "values"]  # the agent's are not the outer's
    assert chunks[-1][1]["messages"][-1].content == "hi"
    with_subgraphs = outer.stream(
        {"messages": [HumanMessage("hi")]}, stream_mode="messages", subgraphs=True
    )
    assert [(len(ns), m.content) for ns, (m, _) in with_subgraphs] == [(1, "hi")]
    assert issubclass(AgentState, dict)


def test_a_model_bound_already_must_have_exactly_the_agents_tools() -> None:
    bound = ScriptedModel(script=[[]]).bind_tools([echo])
    agent = create_react_agent(bound | RunnableLambda(lambda message: message), [echo])
    assert agent.invoke({"messages": [HumanMessage("hi")]})["messages"][-1].content == "hi"
    with pytest.raises(ValueError, match="Number of tools in the model"):
        create_react_agent(bound, [])
    with pytest.raises(ValueError, match="Missing tools"):
        create_react_agent(bound, [final])


def test_a_compiled_graphs_node_runs_on_its_own() -> None:
    agent = create_react_agent(ScriptedModel(), [echo])
    call = ToolCall(name="echo", args={"x": 7}, id="1")
    config: Any = {"configurable": {"__pregel_runtime": Runtime()}}  # (LangGraph needs one)
    out = agent.nodes["tools"].invoke({"messages": [AIMessage("", tool_calls=[call])]}, config)
    assert [m.content for m in out["messages"]] == ["echo 7"]
    graph = StateGraph(MessagesState).add_node("double", lambda state: {"messages": ["twice"]})
    node = graph.add_edge(START, "double").compile().nodes["double"]
    assert node.invoke({"messages": []}) == {"messages": ["twice"]}
    assert asyncio.run(node.ainvoke({"messages": []})) == {"messages": ["twice"]}


def test_the_traced_runs_are_langgraphs() -> None:
    from langchain_core.tracers.base import BaseTracer

    class Names(BaseTracer):
        runs: list[tuple[str, str]] = []  # noqa: RUF012

        def _persist_run(self, run: Any) -> None:
            pass

        def _start_trace(self, run: Any) -> None:
            super()._start_trace(run)
            self.runs.append((run.name, run.run_type))

    agent = create_react_agent(ScriptedModel(), [echo], prompt="be brief")
    tracer = Names()
    agent.invoke({"messages": [HumanMessage("hi")]}, {"callbacks": [tracer]})
    assert tracer.runs == [
        ("LangGraph", "chain"),
        ("agent", "chain"),
        ("call_model", "chain"),
        ("RunnableSequence", "chain"),
        ("Prompt", "chain"),
        ("ScriptedModel", "llm"),
        ("should_continue", "chain"),
    ]
