"""``threadloom migrate SOURCE``: copy a LangGraph database's threads (and store) into threadloom.

The work is ``threadloom.interop.migrate``'s; this module opens the target, draws the progress
bar, prints the summary and turns the migration's errors into the CLI's exit codes.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click

from threadloom.cli._backend import check_sqlite_file, default_db_path
from threadloom.cli._common import backend_options, console, emit_json, err_console, json_option

__all__ = ["migrate"]


@contextmanager
def _target_saver(db: str | None, dsn: str | None) -> Iterator[tuple[str, Any]]:
    """threadloom's saver on ``--db`` (made if missing) or ``--dsn``, set up."""
    if dsn is not None:
        from threadloom.checkpoint.postgres import PostgresSaver

        with PostgresSaver.from_conn_string(dsn) as saver:
            saver.setup()
            yield "postgres", saver
        return
    from threadloom.checkpoint.sqlite import SqliteSaver

    path = Path(db).expanduser() if db else default_db_path()
    if path.exists():
        check_sqlite_file(path).close()  # a file that is not threadloom's is refused (exit 4)
    path.parent.mkdir(parents=True, exist_ok=True)
    with SqliteSaver.from_conn_string(str(path)) as saver:
        saver.setup()
        yield str(path), saver


@click.command()
@click.argument("source")
@click.option(
    "--thread", "threads", multiple=True, metavar="ID", help="Only this thread (repeatable)."
)
@click.option(
    "--allow",
    "allow",
    multiple=True,
    metavar="MODULE:CLASS",
    help="A type of your state (dataclass, pydantic model, ...) to store and read back "
    "(repeatable; the module is imported).",
)
@click.option("--store", "with_store", is_flag=True, help="Also copy LangGraph's store items.")
@click.option(
    "--copy-vectors",
    is_flag=True,
    help="With --store: keep LangGraph's vectors instead of embedding the items again "
    "(same embedding model and fields only).",
)
@json_option
@backend_options
def migrate(
    source: str,
    threads: tuple[str, ...],
    allow: tuple[str, ...],
    with_store: bool,
    copy_vectors: bool,
    as_json: bool,
    db: str | None,
    dsn: str | None,
) -> None:
    """Copy the threads of a LangGraph database into threadloom.

    SOURCE is the SQLite file of LangGraph's SqliteSaver, or the postgresql:// DSN of its
    PostgresSaver. It is opened read-only and never changed. Thread ids, checkpoint ids,
    parents, subgraph namespaces, metadata and pending writes (interrupts) are kept, and every
    copied checkpoint is read back and compared. Running it again copies only what is missing,
    so an interrupted migration continues where it stopped.

    LangGraph's checkpoints are bytes of LangGraph's serializer: reading them needs the
    langgraph packages (pip install 'threadloom[langgraph]'), used here only, and only on the
    database you name.

    The target is --db (a threadloom SQLite file, made if missing) or --dsn (PostgreSQL).
    """
    from threadloom.errors import (
        CliError,
        DatabaseError,
        LangGraphSourceError,
        MigrationMismatchError,
        NotFoundError,
        SerializationError,
        StorageError,
        UnknownSourceThreadsError,
    )
    from threadloom.interop._langgraph_db import parse_source

    shown = parse_source(source).shown
    try:
        types = [_import_type(name) for name in allow]
        summary = _run(source, list(threads) or None, types, with_store, copy_vectors, db, dsn)
    except UnknownSourceThreadsError as exc:
        raise NotFoundError(
            "thread", ", ".join(exc.thread_ids), shown, str(exc).rpartition(". ")[2]
        ) from exc
    except LangGraphSourceError as exc:
        raise DatabaseError(shown, exc.problem, "Pass the database LangGraph wrote.") from exc
    except MigrationMismatchError as exc:
        raise CliError(str(exc)) from exc
    except SerializationError as exc:
        raise CliError(
            f"{exc} On the command line: --allow package.module:Class for each such type."
        ) from exc
    except StorageError as exc:
        raise DatabaseError(db or dsn or str(default_db_path()), str(exc), "Check it.") from exc
    if as_json:
        emit_json(summary)
        return
    if "checkpoints" in summary:
        checkpoints = summary["checkpoints"]
        console.print(
            f"{checkpoints['threads']} thread(s), {checkpoints['checkpoints']} checkpoint(s) "
            f"from {shown}: {checkpoints['copied']} copied, {checkpoints['skipped']} already "
            f"there, {checkpoints['writes']} pending write(s) -> {summary['target']}",
            markup=False,
        )
    if "store" in summary:
        store = summary["store"]
        console.print(
            f"store: {store['items']} item(s), {store['copied']} copied, {store['skipped']} "
            f"already there, vectors {store['vectors']}",
            markup=False,
        )


def _columns() -> tuple[Any, ...]:
    from rich.progress import BarColumn, MofNCompleteColumn, TextColumn

    return (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn())


def _import_type(name: str) -> type:
    """``package.module:Class`` (or ``package.module.Class``) imported; a usage error if not."""
    import importlib

    module, _, attribute = name.rpartition(":") if ":" in name else name.rpartition(".")
    try:
        found = getattr(importlib.import_module(module), attribute) if module else None
    except ImportError as exc:
        raise click.BadParameter(f"cannot import {module!r}: {exc}", param_hint="--allow") from exc
    if not isinstance(found, type):
        raise click.BadParameter(
            f"{name!r} is not a class; write it as package.module:Class", param_hint="--allow"
        )
    return found


def _run(
    source: str,
    threads: list[str] | None,
    types: list[type],
    with_store: bool,
    copy_vectors: bool,
    db: str | None,
    dsn: str | None,
) -> dict[str, Any]:
    from rich.progress import Progress

    from threadloom.interop._langgraph_db import holds, parse_source
    from threadloom.interop.migrate import MigrationStep, migrate_checkpoints, migrate_store

    summary: dict[str, Any] = {}
    with (
        _target_saver(db, dsn) as (target, saver),
        Progress(*_columns(), console=err_console, transient=err_console.is_terminal) as progress,
    ):
        bar = progress.add_task("checkpoints", total=None)

        def step(done: MigrationStep) -> None:
            progress.update(bar, completed=done.done, total=done.total)

        summary["target"] = target
        if not with_store or "checkpointer" in holds(parse_source(source)):
            report = migrate_checkpoints(source, saver, threads, allowed_types=types, progress=step)
            summary["checkpoints"] = report.as_dict()
        if with_store:
            from threadloom.cli._backend import open_backend

            with open_backend(db, dsn, create=True) as backend:
                items = progress.add_task("store items", total=None)
                copied = migrate_store(
                    source,
                    backend.store,
                    reembed=not copy_vectors,
                    progress=lambda done, total: progress.update(
                        items, completed=done, total=total
                    ),
                )
            summary["store"] = copied.as_dict()
    return summary
