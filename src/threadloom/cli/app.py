"""The root ``threadloom`` group: each sub-command lives in its own module."""

from __future__ import annotations

import click

from threadloom.cli._common import RootGroup
from threadloom.cli.chat import chat
from threadloom.cli.demo import demo
from threadloom.cli.store import store
from threadloom.cli.threads import threads

__all__ = ["cli"]


@click.group(cls=RootGroup, context_settings={"help_option_names": ["-h", "--help"]})
def cli() -> None:
    """threadloom: chat with a memory chatbot, and inspect threads and memories.

    Exit codes: 0 ok, 1 error, 2 usage, 3 not found, 4 database, 5 model, 6 already exists.
    """


for command in (chat, demo, threads, store):
    cli.add_command(command)
