"""``threadloom store ...``: the long-term memory store, through ``BaseStore``'s public API.

Namespaces are written with ``/`` between labels on the command line: ``memories/bob`` is
``("memories", "bob")``.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any, Final

import click
from rich.progress import Progress

from threadloom.cli._backend import open_backend
from threadloom.cli._common import (
    backend_options,
    console,
    emit_json,
    err_console,
    json_option,
    table,
)
from threadloom.errors import CliError, NotFoundError

if TYPE_CHECKING:
    from threadloom.store.base import Item

__all__ = ["store"]

REINDEX_PAGE: Final = 500
"""Items read per page before re-embedding."""


def parse_namespace(text: str) -> tuple[str, ...]:
    """``memories/bob`` as ``("memories", "bob")``; empty labels are refused."""
    labels = tuple(text.strip("/").split("/")) if text.strip("/") else ()
    if any(not label for label in labels):
        raise click.BadParameter(f"{text!r} has an empty label; write labels as a/b/c")
    return labels


def _record(item: Item) -> dict[str, Any]:
    record: dict[str, Any] = {
        "namespace": "/".join(item.namespace),
        "key": item.key,
        "value": item.value,
        "created_at": item.created_at.isoformat(),
        "updated_at": item.updated_at.isoformat(),
    }
    score = getattr(item, "score", None)
    if score is not None:
        record["score"] = round(float(score), 4)
    return record


def _print_items(title: str, items: list[Any], as_json: bool) -> None:
    records = [_record(item) for item in items]
    if as_json:
        emit_json(records)
        return
    has_score = any("score" in r for r in records)
    columns = ["namespace", "key", "value", "updated"] + (["score"] if has_score else [])
    table(
        title,
        columns,
        [
            (
                r["namespace"],
                r["key"],
                json.dumps(r["value"], ensure_ascii=False),
                r["updated_at"][:19],
                *([r.get("score")] if has_score else []),
            )
            for r in records
        ],
    )


@click.group()
def store() -> None:
    """List, search, read, write and delete items of the memory store."""


@store.command("namespaces")
@click.option("--prefix", default="", help="Only namespaces under this one (a/b).")
@click.option("--limit", default=100, show_default=True)
@json_option
@backend_options
def namespaces_command(
    prefix: str, limit: int, as_json: bool, db: str | None, dsn: str | None
) -> None:
    """The namespaces that hold items."""
    path = parse_namespace(prefix)
    with open_backend(db, dsn) as backend:
        found = backend.store.list_namespaces(prefix=path or None, limit=limit)
    names = ["/".join(ns) for ns in found]
    if as_json:
        emit_json(names)
    else:
        table("namespaces", ["namespace"], [(n,) for n in names])


@store.command("ls")
@click.argument("namespace", default="")
@click.option("--limit", default=50, show_default=True)
@click.option("--offset", default=0, show_default=True)
@json_option
@backend_options
def list_command(
    namespace: str, limit: int, offset: int, as_json: bool, db: str | None, dsn: str | None
) -> None:
    """Items under a namespace prefix, newest first."""
    with open_backend(db, dsn) as backend:
        items = backend.store.search(parse_namespace(namespace), limit=limit, offset=offset)
    _print_items(f"items under {namespace or '(all)'}", items, as_json)


@store.command("search")
@click.argument("namespace")
@click.argument("query")
@click.option("--limit", default=5, show_default=True)
@json_option
@backend_options
def search_command(
    namespace: str, query: str, limit: int, as_json: bool, db: str | None, dsn: str | None
) -> None:
    """Items under a namespace prefix closest in meaning to QUERY (semantic search)."""
    with open_backend(db, dsn) as backend:
        items = backend.store.search(parse_namespace(namespace), query=query, limit=limit)
    _print_items(f"closest to {query!r}", items, as_json)


@store.command("get")
@click.argument("namespace")
@click.argument("key")
@json_option
@backend_options
def get_command(namespace: str, key: str, as_json: bool, db: str | None, dsn: str | None) -> None:
    """One item's value."""
    with open_backend(db, dsn) as backend:
        item = backend.store.get(parse_namespace(namespace), key)
        if item is None:
            raise NotFoundError(
                "item",
                f"{namespace}:{key}",
                backend.location,
                f"`threadloom store ls {namespace}`.",
            )
    if as_json:
        emit_json(_record(item))
    else:
        console.print_json(json.dumps(item.value, ensure_ascii=False))


@store.command("put")
@click.argument("namespace")
@click.argument("key")
@click.argument("value")
@backend_options
def put_command(namespace: str, key: str, value: str, db: str | None, dsn: str | None) -> None:
    """Write an item; VALUE is a JSON object (its "text" is embedded for search)."""
    try:
        document = json.loads(value)
    except json.JSONDecodeError as exc:
        raise CliError(
            f'VALUE {value!r} is not JSON ({exc}); write e.g. \'{{"text": "..."}}\''
        ) from exc
    if not isinstance(document, dict):
        raise CliError(f'VALUE {value!r} must be a JSON object, like \'{{"text": "..."}}\'')
    path = parse_namespace(namespace)
    if not path:
        raise click.BadParameter("a namespace needs at least one label", param_hint="NAMESPACE")
    with open_backend(db, dsn) as backend:
        backend.store.put(path, key, document)
    console.print(f"stored {namespace}:{key}", markup=False)


@store.command("rm")
@click.argument("namespace")
@click.argument("key")
@backend_options
def remove_command(namespace: str, key: str, db: str | None, dsn: str | None) -> None:
    """Delete an item."""
    path = parse_namespace(namespace)
    with open_backend(db, dsn) as backend:
        if backend.store.get(path, key) is None:
            raise NotFoundError(
                "item",
                f"{namespace}:{key}",
                backend.location,
                f"`threadloom store ls {namespace}`.",
            )
        backend.store.delete(path, key)
    console.print(f"deleted {namespace}:{key}", markup=False)


@store.command("reindex")
@click.argument("namespace", default="")
@backend_options
def reindex_command(namespace: str, db: str | None, dsn: str | None) -> None:
    """Embed the items under a namespace prefix again (after changing the embedding model)."""
    prefix = parse_namespace(namespace)
    with open_backend(db, dsn) as backend:
        items: list[Item] = []
        while page := backend.store.search(prefix, limit=REINDEX_PAGE, offset=len(items)):
            items += page
        with Progress(console=err_console, transient=True) as progress:
            task = progress.add_task("re-embedding", total=len(items))
            for item in items:
                backend.store.put(item.namespace, item.key, item.value)
                progress.advance(task)
    console.print(f"re-embedded {len(items)} item(s) under {namespace or '(all)'}", markup=False)
