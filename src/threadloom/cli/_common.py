"""What every command shares: the root group that turns our errors into exit codes, the
``--db``/``--dsn``/``--json`` options, and output for people (rich) or scripts (JSON).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Sequence
from typing import Any, Final, TypeVar

import click
from rich.console import Console
from rich.table import Table

__all__ = [
    "EXIT_CODES",
    "RootGroup",
    "backend_options",
    "console",
    "emit_json",
    "json_option",
    "table",
]

EXIT_CODES: Final[dict[int, str]] = {
    0: "success",
    1: "any other error",
    2: "bad usage: unknown command or option, missing argument",
    3: "not found: no such thread, checkpoint or store item",
    4: "database: missing file, not a threadloom database, DSN that does not connect",
    5: "model: the --model package or API key is missing",
    6: "already exists: the target thread of copy or import",
}
"""What each exit code means (docs/cli.md lists the same table; a test checks they agree)."""

console = Console(highlight=False, soft_wrap=True)
err_console = Console(stderr=True, highlight=False, soft_wrap=True)

F = TypeVar("F", bound=Callable[..., Any])


class RootGroup(click.Group):
    """The ``threadloom`` group: a ``CliError`` becomes a one-line message and its exit code."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except Exception as exc:
            # threadloom.errors is imported by whatever raised one of its errors; not importing it
            # here keeps `threads ls` from loading it (it imports langchain-core, which is slow).
            errors = sys.modules.get("threadloom.errors")
            if errors is None or not isinstance(exc, errors.CliError):
                raise
            err_console.print(f"[bold red]error:[/] {exc}", markup=True, highlight=False)
            ctx.exit(exc.exit_code)


def backend_options(command: F) -> F:
    """``--db PATH`` and ``--dsn URL`` on a command."""
    command = click.option(
        "--dsn",
        metavar="URL",
        help="PostgreSQL connection string (postgresql://...) instead of a SQLite file.",
    )(command)
    command = click.option(
        "--db",
        metavar="PATH",
        help="SQLite file (default: $THREADLOOM_DB, else threadloom.db in your data directory).",
    )(command)
    return command


def json_option(command: F) -> F:
    """``--json``: print machine-readable output instead of tables."""
    return click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")(command)


def emit_json(value: Any) -> None:
    """Print ``value`` as JSON on stdout (no colours, no wrapping)."""
    click.echo(json.dumps(value, ensure_ascii=False, default=str, indent=2))


def table(title: str | None, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    """Print a rich table for people."""
    out = Table(title=title, show_lines=False)
    for name in columns:
        out.add_column(name, overflow="fold")
    for row in rows:
        out.add_row(*("" if cell is None else str(cell) for cell in row))
    console.print(out)
