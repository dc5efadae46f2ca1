"""The root ``threadloom`` group: each sub-command lives in its own module, imported when used.

Importing a command only when it runs keeps ``threadloom threads ls`` from loading the chat
model's code (langchain-core's language models take a second or more to import).
"""

from __future__ import annotations

import importlib
from typing import Final

import click

from threadloom.cli._common import RootGroup

__all__ = ["COMMANDS", "cli"]

COMMANDS: Final[dict[str, tuple[str, str]]] = {
    "chat": ("threadloom.cli.chat", "chat"),
    "demo": ("threadloom.cli.demo", "demo"),
    "threads": ("threadloom.cli.threads", "threads"),
    "store": ("threadloom.cli.store", "store"),
    "migrate": ("threadloom.cli.migrate", "migrate"),
}
"""Sub-command name: (module, attribute) of its click command."""

SHORT_HELP: Final[dict[str, str]] = {
    "chat": "Talk to the memory chatbot (remembers threads and what you tell it).",
    "demo": "Play the memory guide on a fresh SQLite file, then show what it stored.",
    "threads": "List, show, compare, copy, export and delete threads.",
    "store": "List, search, read, write and delete items of the memory store.",
    "migrate": "Copy a LangGraph database's threads (and store) into threadloom.",
}


class LazyGroup(RootGroup):
    """A ``RootGroup`` whose sub-commands are imported on first use."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in COMMANDS:
            return None
        module, attribute = COMMANDS[cmd_name]
        command: click.Command = getattr(importlib.import_module(module), attribute)
        return command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        with formatter.section("Commands"):
            formatter.write_dl(list(SHORT_HELP.items()))


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
def cli() -> None:
    """threadloom: chat with a memory chatbot, and inspect threads and memories.

    Exit codes: 0 ok, 1 error, 2 usage, 3 not found, 4 database, 5 model, 6 already exists.
    """
