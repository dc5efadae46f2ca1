"""A tool-calling agent that remembers a user across conversations and asks before forgetting.

- Tools save and search the user's memories in a store (``InjectedStore``): what Ann says in one
  conversation (thread) is found in the next.
- Deleting memories is sensitive: the tool calls ``interrupt()`` and the run waits for approval.
- Threads and memories live in two SQLite files; the run that waits for approval is resumed by a
  new process, which finds everything where the first one left it.

The model is ``FakeToolCallingModel``, an offline stand-in that calls tools by rule, so this runs
without an API key; any LangChain chat model with tool calling takes its place unchanged.

Run: ``python examples/agent_with_memory.py``.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

from langchain_core.runnables import RunnableConfig
from langchain_core.tools import tool

from threadloom.checkpoint.sqlite import SqliteSaver
from threadloom.prebuilt import InjectedStore, create_react_agent
from threadloom.store.base import BaseStore
from threadloom.store.sqlite import SqliteStore
from threadloom.testing import FakeToolCallingModel, ToolRule
from threadloom.types import Command, interrupt


def _user(config: RunnableConfig) -> tuple[str, ...]:
    return ("memories", config["configurable"]["user_id"])


@tool
def save_memory(
    text: str, config: RunnableConfig, store: Annotated[BaseStore, InjectedStore()]
) -> str:
    """Save something worth remembering about the user."""
    key = str(len(store.search(_user(config), limit=1000)))
    store.put(_user(config), key, {"text": text})
    return f"Saved: {text}."


@tool
def search_memories(
    query: str, config: RunnableConfig, store: Annotated[BaseStore, InjectedStore()]
) -> str:
    """Find what is remembered about the user on a topic."""
    words = query.lower().split()
    found = [
        item.value["text"]
        for item in store.search(_user(config), limit=1000)
        if any(w in item.value["text"].lower() for w in words)
    ]
    return "I remember: " + "; ".join(found) + "." if found else "I remember nothing about that."


@tool
def forget_everything(config: RunnableConfig, store: Annotated[BaseStore, InjectedStore()]) -> str:
    """Delete every memory of the user (asks a person to approve first)."""
    count = len(store.search(_user(config), limit=1000))
    answer = interrupt({"question": f"Delete {count} memories?", "options": ["yes", "no"]})
    if answer != "yes":
        return "Nothing was deleted."
    for item in store.search(_user(config), limit=1000):
        store.delete(_user(config), item.key)
    return f"Deleted {count} memories."


MODEL = FakeToolCallingModel(
    rules=[
        ToolRule(r"remember that (?P<fact>.+)", "save_memory", {"text": "{fact}"}),
        ToolRule(
            r"what do you know about (?P<topic>[\w ]+)", "search_memories", {"query": "{topic}"}
        ),
        ToolRule(r"forget everything", "forget_everything"),
    ],
    default_reply="Tell me something to remember, or ask what I know.",
)


@contextmanager
def open_agent(folder: Path) -> Iterator[Any]:
    """The agent over the SQLite files in ``folder`` (created on first use)."""
    with (
        SqliteSaver.from_conn_string(str(folder / "threads.db")) as saver,
        SqliteStore.from_conn_string(str(folder / "memories.db")) as store,
    ):
        store.setup()
        yield create_react_agent(
            MODEL,
            [save_memory, search_memories, forget_everything],
            prompt="You remember things for the user.",
            checkpointer=saver,
            store=store,
        )


def config(thread: str) -> RunnableConfig:
    return {"configurable": {"thread_id": thread, "user_id": "ann"}}


def say(agent: Any, thread: str, text: str) -> Any:
    result = agent.invoke({"messages": [("user", text)]}, config(thread))
    if "__interrupt__" in result:
        print(
            f"[{thread}] {text!r} -> paused before {result['messages'][-1].tool_calls[0]['name']}"
        )
    else:
        print(f"[{thread}] {text!r} -> {result['messages'][-1].content!r}")
    return result


def first_process(folder: Path) -> None:
    with open_agent(folder) as agent:
        say(agent, "monday", "remember that I like green tea")
        say(agent, "monday", "remember that my cat is called Miso")
        say(agent, "tuesday", "what do you know about tea?")  # another thread, same user
        paused = say(agent, "tuesday", "forget everything")
        [question] = paused["__interrupt__"]
        print("waiting for approval:", question.value["question"])


def second_process(folder: Path) -> None:
    with open_agent(folder) as agent:
        print("after restart, next:", agent.get_state(config("tuesday")).next)
        result = agent.invoke(Command(resume="yes"), config("tuesday"))
        print("approved ->", repr(result["messages"][-1].content))
        say(agent, "wednesday", "what do you know about my cat?")


def main() -> None:
    if len(sys.argv) == 3 and sys.argv[1] == "--resume":
        second_process(Path(sys.argv[2]))
        return
    with tempfile.TemporaryDirectory() as tmp:
        first_process(Path(tmp))
        restarted = subprocess.run(
            [sys.executable, __file__, "--resume", tmp], capture_output=True, text=True, check=True
        )
        print(restarted.stdout, end="")


if __name__ == "__main__":
    main()
