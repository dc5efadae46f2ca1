"""``threadloom demo``: the cross-thread memory guide played on a fresh SQLite file.

Bob tells his name in one thread; a new thread of Bob's recalls it from memory; Alice, another
user, is told nothing. Then the demo shows what the file now holds: threads and memories.
"""

from __future__ import annotations

from pathlib import Path
from typing import Final

import click
from rich.text import Text

from threadloom.cli import _sqlite_threads
from threadloom.cli._backend import check_sqlite_file, open_backend, open_listing
from threadloom.cli._bot import build_chat_graph, chat_model
from threadloom.cli._common import console, table

__all__ = ["SCRIPT", "demo"]

SCRIPT: Final[tuple[tuple[str, str, str], ...]] = (
    ("bob", "bob-1", "Hi! Remember: my name is Bob, and I like pizza with olives."),
    ("bob", "bob-2", "What is my name?"),
    ("bob", "bob-2", "What do I like?"),
    ("alice", "alice-1", "What is my name?"),
)
"""(user, thread, message): the guide's conversation."""


@click.command()
@click.option(
    "--db",
    default="threadloom-demo.db",
    show_default=True,
    help="File to create (a threadloom file already there is replaced).",
)
def demo(db: str) -> None:
    """Play the memory guide on a fresh SQLite file, then show what it stored."""
    path = Path(db)
    if path.exists():
        check_sqlite_file(path).close()  # never delete a file threadloom did not write
        for leftover in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
            leftover.unlink(missing_ok=True)
    with open_backend(str(path), create=True) as backend:
        graph = build_chat_graph(chat_model(None), backend.saver, backend.store)
        for user, thread, text in SCRIPT:
            config = {"configurable": {"thread_id": thread, "user_id": user}}
            console.print(f"\n[thread {thread}, user {user}]", style="dim", markup=False)
            console.print(Text(f"{user}> ", style="bold cyan") + Text(text))
            out = graph.invoke({"messages": [("user", text)]}, config)
            console.print(Text("bot> ", style="bold green") + Text(out["messages"][-1].content))
        console.print()
        with open_listing(str(path)) as listing:
            rows = _sqlite_threads.list_threads(listing.conn, limit=10)
        table(
            f"threads in {path}",
            ["thread", "user", "checkpoints"],
            [(r.thread_id, r.user_id, r.checkpoints) for r in rows],
        )
        items = backend.store.search(("memories",), limit=20)
        table(
            "memories (store namespace memories/<user>)",
            ["namespace", "text"],
            [("/".join(i.namespace), i.value.get("text")) for i in items],
        )
    console.print(
        "\nEverything above is in one SQLite file and survives a restart. Next:\n"
        f"  threadloom chat --user bob --db {path}      # continue as Bob (try: what is my name?)\n"
        f"  threadloom threads show bob-1 --db {path}   # read a thread\n"
        f"  threadloom store ls memories --db {path}    # list the memories",
        markup=False,
    )
