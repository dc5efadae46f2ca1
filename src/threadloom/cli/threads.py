"""``threadloom threads ...``: list, read, compare and manage the threads a saver holds.

Reads go through the saver's public API (``get_tuple``, ``list``), except ``ls``, which answers
from one grouped query per backend (``_sqlite_threads``) so it never decodes a checkpoint.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from types import ModuleType
from typing import TYPE_CHECKING, Any, Final

import click
from rich.progress import Progress

from threadloom.cli import _postgres_threads, _sqlite_threads
from threadloom.cli._backend import Backend, open_backend, open_listing
from threadloom.cli._common import (
    backend_options,
    console,
    emit_json,
    err_console,
    json_option,
    table,
)
from threadloom.cli._history import channels_written, diff_values, nodes_ran
from threadloom.cli._render import message_record, print_conversation
from threadloom.cli._transfer import export_records, import_records, read_header, thread_tuples

if TYPE_CHECKING:
    from threadloom.checkpoint.base import CheckpointTuple

__all__ = ["threads"]

PAGE_SIZE: Final = 50


@click.group()
def threads() -> None:
    """List, show, compare, copy, export and delete threads (checkpointed conversations)."""


LISTINGS: Final[dict[str, ModuleType]] = {
    "sqlite": _sqlite_threads,
    "postgres": _postgres_threads,
}
"""Backend kind: the module whose grouped SQL lists its threads (same functions in each)."""


def _head(backend: Backend, thread_id: str, checkpoint_id: str | None = None) -> CheckpointTuple:
    """The thread's newest checkpoint (or the one named), or a NotFoundError."""
    from threadloom.errors import NotFoundError

    conf: dict[str, Any] = {"thread_id": thread_id}
    if checkpoint_id:
        conf["checkpoint_id"] = checkpoint_id
    saved = backend.saver.get_tuple({"configurable": conf})
    if saved is None:
        what, name = ("checkpoint", checkpoint_id) if checkpoint_id else ("thread", thread_id)
        hint = (
            f"`threadloom threads {'history ' + thread_id if checkpoint_id else 'ls'}` lists them."
        )
        raise NotFoundError(what, name or "", backend.location, hint)
    return saved


def _values(saved: CheckpointTuple) -> dict[str, Any]:
    return dict(saved.checkpoint.get("channel_values", {}))


def _jsonable(value: Any) -> Any:
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if hasattr(value, "type") and hasattr(value, "content"):
        return message_record(value)
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return repr(value)


@threads.command("ls")
@click.option("--user", help="Only the threads of this user_id.")
@click.option("--limit", default=PAGE_SIZE, show_default=True, help="Threads per page.")
@click.option("--page", default=1, show_default=True, help="Page number, from 1.")
@json_option
@backend_options
def list_command(
    user: str | None, limit: int, page: int, as_json: bool, db: str | None, dsn: str | None
) -> None:
    """Threads, most recently active first: user, last activity, checkpoints, size."""
    with open_listing(db, dsn) as opened:
        listing = LISTINGS[opened.kind]
        offset = (max(page, 1) - 1) * limit
        rows = listing.list_threads(opened.conn, limit=limit, offset=offset, user=user)
        total = listing.count_threads(opened.conn, user)
    if as_json:
        emit_json(
            {
                "total": total,
                "page": page,
                "threads": [
                    {
                        "thread_id": r.thread_id,
                        "user_id": r.user_id,
                        "last_activity": r.last_activity,
                        "checkpoints": r.checkpoints,
                        "size_bytes": r.size_bytes,
                    }
                    for r in rows
                ],
            }
        )
        return
    pages = max(1, -(-total // limit))
    table(
        f"threads (page {page} of {pages}, {total} in all)",
        ["thread", "user", "last activity", "checkpoints", "size"],
        [
            (r.thread_id, r.user_id, r.last_activity[:19], r.checkpoints, _size(r.size_bytes))
            for r in rows
        ],
    )


def _size(n: int) -> str:
    """Bytes for people: 812 B, 4.9 KB, 1.2 MB."""
    if n < 1024:
        return f"{n} B"
    size = n / 1024
    for unit in ("KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            break
        size /= 1024
    return f"{size:.1f} {unit}"


@threads.command("show")
@click.argument("thread_id")
@click.option("--checkpoint", "checkpoint_id", help="Show this checkpoint instead of the newest.")
@json_option
@backend_options
def show_command(
    thread_id: str, checkpoint_id: str | None, as_json: bool, db: str | None, dsn: str | None
) -> None:
    """The thread's conversation (its newest state) rendered as a chat."""
    with open_backend(db, dsn) as backend:
        saved = _head(backend, thread_id, checkpoint_id)
    values = _values(saved)
    if as_json:
        emit_json(
            {
                "thread_id": thread_id,
                "checkpoint_id": saved.checkpoint["id"],
                "user_id": saved.metadata.get("user_id"),
                "values": _jsonable(values),
            }
        )
        return
    user = saved.metadata.get("user_id")
    console.print(
        f"thread {thread_id!r}"
        + (f" of user {user!r}" if user else "")
        + f", checkpoint {saved.checkpoint['id']}",
        style="dim",
        markup=False,
    )
    print_conversation(values.get("messages", []))
    for key, value in values.items():
        if key != "messages" and not key.startswith("__"):
            console.print(f"{key} = {_jsonable(value)!r}", markup=False)


@threads.command("history")
@click.argument("thread_id")
@json_option
@backend_options
def history_command(thread_id: str, as_json: bool, db: str | None, dsn: str | None) -> None:
    """The thread's checkpoints, oldest first: step, source, nodes that ran, channels written."""
    with open_backend(db, dsn) as backend:
        tuples = thread_tuples(backend.saver, thread_id)
        if not tuples:
            _head(backend, thread_id)  # says there is no such thread
    by_id = {t.checkpoint["id"]: t.checkpoint for t in tuples}
    steps: list[dict[str, Any]] = []
    for saved in tuples:
        parent_id = (
            saved.parent_config["configurable"]["checkpoint_id"] if saved.parent_config else None
        )
        parent = by_id.get(parent_id) if parent_id else None
        steps.append(
            {
                "checkpoint_id": saved.checkpoint["id"],
                "parent_checkpoint_id": parent_id,
                "step": saved.metadata.get("step"),
                "source": saved.metadata.get("source"),
                "nodes": nodes_ran(parent, saved.checkpoint),
                "writes": channels_written(parent, saved.checkpoint),
                "pending_writes": len(saved.pending_writes or []),
                "ts": saved.checkpoint.get("ts"),
            }
        )
    if as_json:
        emit_json({"thread_id": thread_id, "checkpoints": steps})
        return
    table(
        f"history of thread {thread_id!r} (oldest first)",
        ["step", "source", "nodes", "channels written", "checkpoint"],
        [
            (
                s["step"],
                s["source"],
                ", ".join(s["nodes"]),
                ", ".join(s["writes"]),
                s["checkpoint_id"],
            )
            for s in steps
        ],
    )


@threads.command("diff")
@click.argument("thread_id")
@click.argument("checkpoint_a")
@click.argument("checkpoint_b")
@json_option
@backend_options
def diff_command(
    thread_id: str,
    checkpoint_a: str,
    checkpoint_b: str,
    as_json: bool,
    db: str | None,
    dsn: str | None,
) -> None:
    """How the thread's values differ from checkpoint A to checkpoint B."""
    with open_backend(db, dsn) as backend:
        a = _values(_head(backend, thread_id, checkpoint_a))
        b = _values(_head(backend, thread_id, checkpoint_b))
    changes = diff_values(a, b)
    if as_json:
        emit_json(
            [
                {
                    "key": c.key,
                    "kind": c.kind,
                    "before": _jsonable(c.before),
                    "after": _jsonable(c.after),
                }
                for c in changes
            ]
        )
        return
    if not changes:
        console.print("no difference in values", style="dim")
    for change in changes:
        console.print(f"{change.key}: {change.kind}", style="bold", markup=False)
        if change.kind == "appended" and change.key == "messages":
            print_conversation(change.after)
        else:
            if change.before is not None:
                console.print(f"  - {_jsonable(change.before)!r}", style="red", markup=False)
            if change.after is not None:
                console.print(f"  + {_jsonable(change.after)!r}", style="green", markup=False)


@threads.command("rm")
@click.argument("thread_ids", nargs=-1, required=True)
@backend_options
def remove_command(thread_ids: tuple[str, ...], db: str | None, dsn: str | None) -> None:
    """Delete threads: every checkpoint, value and pending write."""
    with open_backend(db, dsn) as backend:
        for thread_id in thread_ids:
            _head(backend, thread_id)
        for thread_id in thread_ids:
            backend.saver.delete_thread(thread_id)
    console.print(f"deleted {len(thread_ids)} thread(s)", markup=False)


@threads.command("prune")
@click.argument("thread_ids", nargs=-1)
@click.option("--all", "every", is_flag=True, help="Prune every thread in the database.")
@click.option("--keep-last", default=1, show_default=True, help="Checkpoints to keep per thread.")
@backend_options
def prune_command(
    thread_ids: tuple[str, ...], every: bool, keep_last: int, db: str | None, dsn: str | None
) -> None:
    """Drop old checkpoints, keeping the newest (the thread continues as before)."""
    if not thread_ids and not every:
        raise click.UsageError("name the threads to prune, or pass --all")
    targets = list(thread_ids)
    if every:
        with open_listing(db, dsn) as opened:
            listing = LISTINGS[opened.kind]
            rows = listing.list_threads(opened.conn, limit=listing.count_threads(opened.conn))
            targets = [r.thread_id for r in rows]
    with open_backend(db, dsn) as backend:
        if not every:
            for thread_id in targets:
                _head(backend, thread_id)
        with Progress(console=err_console, transient=True) as progress:
            task = progress.add_task("pruning", total=len(targets))
            for thread_id in targets:
                backend.saver.prune([thread_id], strategy="keep_latest", keep_last=keep_last)
                progress.advance(task)
    console.print(f"pruned {len(targets)} thread(s), keeping {keep_last} checkpoint(s) each")


@threads.command("copy")
@click.argument("source")
@click.argument("target")
@backend_options
def copy_command(source: str, target: str, db: str | None, dsn: str | None) -> None:
    """Copy a thread, with its whole history, to a new thread id."""
    with open_backend(db, dsn) as backend:
        _head(backend, source)
        _refuse_existing(backend, target)
        backend.saver.copy_thread(source, target)
    console.print(f"copied thread {source!r} to {target!r}", markup=False)


def _refuse_existing(backend: Backend, thread_id: str) -> None:
    from threadloom.errors import AlreadyExistsError

    if backend.saver.get_tuple({"configurable": {"thread_id": thread_id}}) is not None:
        raise AlreadyExistsError(
            "thread", thread_id, backend.location, "Choose another id or remove it first."
        )


@threads.command("export")
@click.argument("thread_id")
@click.option("-o", "--output", type=click.File("w"), default="-", help="File [default: stdout].")
@backend_options
def export_command(thread_id: str, output: Any, db: str | None, dsn: str | None) -> None:
    """Write a thread as JSON lines (header, then one checkpoint a line, oldest first)."""
    with open_backend(db, dsn) as backend:
        tuples = thread_tuples(backend.saver, thread_id)
        if not tuples:
            _head(backend, thread_id)  # says there is no such thread
        with Progress(console=err_console, transient=True) as progress:
            task = progress.add_task("exporting", total=len(tuples))
            for record in export_records(backend.saver, thread_id, tuples):
                output.write(json.dumps(record) + "\n")
                if "checkpoint" in record:
                    progress.advance(task)


@threads.command("import")
@click.argument("source", type=click.File("r"))
@click.option("--thread", "thread_id", help="Import under this id [default: the exported id].")
@backend_options
def import_command(source: Any, thread_id: str | None, db: str | None, dsn: str | None) -> None:
    """Read a thread written by `threads export` (same checkpoints, same ids)."""
    header = read_header(source.readline())
    target = thread_id or str(header["thread_id"])
    with open_backend(db, dsn, create=True) as backend:
        _refuse_existing(backend, target)
        with Progress(console=err_console, transient=True) as progress:
            task = progress.add_task("importing", total=int(header.get("checkpoints", 0)))

            def records() -> Iterator[dict[str, Any]]:
                for line in source:
                    if line.strip():
                        yield json.loads(line)
                        progress.advance(task)

            count = import_records(backend.saver, target, records())
    console.print(f"imported {count} checkpoint(s) into thread {target!r}", markup=False)
