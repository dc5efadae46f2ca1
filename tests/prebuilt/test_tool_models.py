"""The offline chat models call tools (or refuse to) the way a real tool-calling model does."""

import subprocess
import sys

import pytest
from langchain_core.messages import AIMessage, HumanMessage, ToolMessage
from langchain_core.tools import tool

from threadloom.testing import FakeMemoryChatModel, FakeToolCallingModel, ToolRule


@tool
def search(query: str) -> str:
    """Search."""
    return query


RULES = [ToolRule(r"find (?P<q>\w+)", "search", {"query": "{q}"})]


def test_rules_make_parallel_calls_and_answer_from_results() -> None:
    model = FakeToolCallingModel(
        rules=[*RULES, ToolRule(r"and (?P<q>\w+)", "search", {"query": "{q}"})]
    )
    bound = model.bind_tools([search])
    reply = bound.invoke([HumanMessage("find tea and cake")])
    assert [(c["name"], c["args"]) for c in reply.tool_calls] == [
        ("search", {"query": "tea"}),
        ("search", {"query": "cake"}),
    ]
    ids = [c["id"] for c in reply.tool_calls]
    assert len(set(ids)) == 2
    results = [
        ToolMessage("tea found", tool_call_id=ids[0]),
        ToolMessage("cake found", tool_call_id=ids[1]),
    ]
    answer = bound.invoke([HumanMessage("find tea and cake"), reply, *results])
    assert answer.content == "tea found cake found" and not answer.tool_calls
    assert bound.invoke([HumanMessage("hello")]).content == "I can't help with that."


def test_rule_answers_are_the_same_in_a_new_process() -> None:
    code = (
        "from threadloom.testing import FakeToolCallingModel, ToolRule\n"
        "from langchain_core.messages import HumanMessage\n"
        "rule = ToolRule(r'find (?P<q>\\w+)', 'search', {'query': '{q}'})\n"
        "m = FakeToolCallingModel(rules=[rule])\n"
        "print(m.invoke([HumanMessage('find tea')]).tool_calls)\n"
    )
    here = FakeToolCallingModel(rules=RULES).invoke([HumanMessage("find tea")]).tool_calls
    there = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert there.stdout.strip() == repr(here)


def test_script_replies_in_order_then_says_it_is_used_up() -> None:
    model = FakeToolCallingModel(responses=[[{"name": "search", "args": {"query": "x"}}], "done"])
    first = model.invoke([HumanMessage("hi")])
    assert first.tool_calls[0]["name"] == "search"
    assert model.invoke([HumanMessage("hi")]).content == "done"
    with pytest.raises(ValueError, match="script of 2 responses is used up"):
        model.invoke([HumanMessage("hi")])


def test_bind_tools_refuses_rules_for_tools_not_bound() -> None:
    with pytest.raises(ValueError, match=r"would call \['search'\], but bind_tools got only \[\]"):
        FakeToolCallingModel(rules=RULES).bind_tools([])


def test_streaming_yields_words_and_tool_call_chunks() -> None:
    text = FakeToolCallingModel(default_reply="a b c")
    assert [c.content for c in text.stream([HumanMessage("x")]) if c.content] == ["a ", "b ", "c"]
    calls = FakeToolCallingModel(rules=RULES).stream([HumanMessage("find tea")])
    merged = None
    for chunk in calls:
        merged = chunk if merged is None else merged + chunk
    assert merged is not None and merged.tool_calls[0]["args"] == {"query": "tea"}


def test_fake_memory_model_binds_tools_but_answers_in_text() -> None:
    bound = FakeMemoryChatModel().bind_tools([search])
    reply = bound.invoke([HumanMessage("my name is Bob")])
    assert isinstance(reply, AIMessage) and reply.content == "Hi Bob! Nice to meet you."
    assert not reply.tool_calls
    with pytest.raises(ValueError, match="never calls tools"):
        FakeMemoryChatModel().bind_tools([search], tool_choice="any")
