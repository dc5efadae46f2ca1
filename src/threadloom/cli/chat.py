"""``threadloom chat``: the memory chatbot as an interactive REPL, with slash commands.

Each line is one run of the chatbot graph on the current thread; the thread is kept by the saver
(so it continues after a restart) and the user's memories by the store (so every thread of the
same user recalls them). A thread belongs to the user who started it: another user cannot open it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final

import click
from langchain_core.messages import RemoveMessage
from rich.text import Text

from threadloom.cli._backend import Backend, open_backend
from threadloom.cli._bot import build_chat_graph, chat_model, memory_namespace
from threadloom.cli._common import backend_options, console
from threadloom.cli._render import print_conversation
from threadloom.errors import CliError
from threadloom.graph.message import REMOVE_ALL_MESSAGES

__all__ = ["ChatSession", "chat"]

HELP: Final = """\
/thread NAME   switch to thread NAME (created on first message)
/memories      your memories (shared by all your threads)
/history       this thread's conversation
/undo          drop the last turn (fork the thread from the checkpoint before it)
/help          this help
/quit          leave (Ctrl-D works too); everything is already saved"""


def thread_owner(backend: Backend, thread_id: str) -> str | None:
    """The ``user_id`` the thread's newest checkpoint was written for, or None if it is new."""
    saved = backend.saver.get_tuple({"configurable": {"thread_id": thread_id}})
    if saved is None:
        return None
    return str(saved.metadata.get("user_id", "")) or None


class ChatSession:
    """One user's REPL state: the graph, the current thread, and what each slash command does."""

    def __init__(self, graph: Any, backend: Backend, user: str, thread: str) -> None:
        self.graph, self.backend, self.user = graph, backend, user
        self.thread = self._checked(thread)
        self.commands: dict[str, Callable[[str], bool]] = {
            "/thread": self.switch_thread,
            "/memories": self.show_memories,
            "/history": self.show_history,
            "/undo": self.undo,
            "/help": self.show_help,
            "/quit": lambda _: False,
            "/exit": lambda _: False,
        }

    @property
    def config(self) -> dict[str, Any]:
        return {"configurable": {"thread_id": self.thread, "user_id": self.user}}

    def _checked(self, thread: str) -> str:
        owner = thread_owner(self.backend, thread)
        if owner is not None and owner != self.user:
            raise CliError(
                f"thread {thread!r} belongs to user {owner!r}, not {self.user!r}. Threads are "
                "private to their user: choose another thread name."
            )
        return thread

    def prompt(self) -> str:
        return f"{self.user}@{self.thread}> "

    def handle(self, line: str) -> bool:
        """Answer one input line; False when the session should end."""
        line = line.strip()
        if not line:
            return True
        if line.startswith("/"):
            name, _, arg = line.partition(" ")
            command = self.commands.get(name)
            if command is None:
                console.print(f"unknown command {name!r}; /help lists them", style="yellow")
                return True
            return command(arg.strip())
        out = self.graph.invoke({"messages": [("user", line)]}, self.config)
        answer = Text("bot> ", style="bold green")
        answer.append(str(out["messages"][-1].content))
        console.print(answer)
        return True

    def switch_thread(self, name: str) -> bool:
        if not name:
            console.print(f"current thread: {self.thread} (usage: /thread NAME)")
            return True
        try:
            self.thread = self._checked(name)
        except CliError as exc:
            console.print(str(exc), style="red")
            return True
        state = self.graph.get_state(self.config)
        count = len(state.values.get("messages", []))
        console.print(f"now in thread {self.thread!r} ({count} messages)", style="dim")
        return True

    def show_memories(self, _: str) -> bool:
        items = self.backend.store.search(memory_namespace(self.user), limit=100)
        if not items:
            console.print("no memories yet: tell me 'my name is …', 'I like …'", style="dim")
        for item in items:
            console.print(f"- {item.value.get('text')}  [{item.key[:8]}]", markup=False)
        return True

    def show_history(self, _: str) -> bool:
        print_conversation(self.graph.get_state(self.config).values.get("messages", []))
        return True

    def undo(self, _: str) -> bool:
        """Fork the thread from the checkpoint before the last user input."""
        snapshot = self._last_input()
        if snapshot is None:
            console.print("nothing to undo in this thread", style="dim")
            return True
        if snapshot.parent_config:  # fork: a copy of the checkpoint before the turn is the head
            self.graph.update_state(snapshot.parent_config, None, as_node="__copy__")
        else:  # the thread's first turn: nothing came before it, so empty the messages
            clear = RemoveMessage(id=REMOVE_ALL_MESSAGES)
            self.graph.update_state(self.config, {"messages": [clear]})
        messages = self.graph.get_state(self.config).values.get("messages", [])
        console.print(f"undone: the thread is back to {len(messages)} messages", style="dim")
        return True

    def _last_input(self) -> Any:
        """The checkpoint where the head's last turn began, following parents from the head."""
        by_id = {
            s.config["configurable"]["checkpoint_id"]: s
            for s in self.graph.get_state_history(self.config)
        }
        snapshot = self.graph.get_state(self.config) if by_id else None
        while snapshot is not None and snapshot.metadata.get("source") != "input":
            parent = snapshot.parent_config
            snapshot = by_id.get(parent["configurable"]["checkpoint_id"]) if parent else None
        return snapshot

    def show_help(self, _: str) -> bool:
        console.print(HELP, markup=False)
        return True


@click.command()
@click.option("--user", required=True, help="Who is talking: memories are kept per user.")
@click.option("--thread", help="Thread (conversation) to continue or start [default: USER-main].")
@click.option("--model", metavar="PROVIDER:NAME", help="A LangChain chat model (needs its key).")
@backend_options
def chat(user: str, thread: str | None, model: str | None, db: str | None, dsn: str | None) -> None:
    """Talk to the memory chatbot; it remembers each thread and what you tell it about you."""
    llm = chat_model(model)
    with open_backend(db, dsn, create=True) as backend:
        session = ChatSession(
            build_chat_graph(llm, backend.saver, backend.store),
            backend,
            user,
            thread or f"{user}-main",
        )
        kind = f"model {model}" if model else "the offline rule-based model (no LLM)"
        console.print(
            f"threadloom chat: user {user!r}, thread {session.thread!r}, {kind}; "
            f"saved in {backend.location}. /help for commands, /quit to leave.",
            style="dim",
            markup=False,
        )
        while True:
            try:
                line = console.input(session.prompt())
            except EOFError:  # Ctrl-D: end the prompt's line before leaving
                console.print()
                break
            if not session.handle(line):
                break
