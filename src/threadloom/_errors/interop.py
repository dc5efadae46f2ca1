"""Errors of the LangGraph interop and migration paths."""

from __future__ import annotations

from collections.abc import Sequence

from threadloom._errors.base import ThreadloomWarning
from threadloom._errors.storage import StorageError


class LangGraphObjectError(TypeError):
    """A LangGraph object (or function) was used inside threadloom; the message names the import
    to change. ``qualname`` is the LangGraph name (``"langgraph.types.Command"``), ``replacement``
    the threadloom import to use instead (``None`` when threadloom has no counterpart)."""

    def __init__(
        self, where: str, qualname: str, replacement: str | None, *, lead: str = "", also: str = ""
    ) -> None:
        self.where, self.qualname, self.replacement = where, qualname, replacement
        fix = (
            f"Change the import to: {replacement}"
            if replacement
            else "threadloom has no counterpart to it in this release; use threadloom's own "
            "classes and functions (imported from threadloom, not langgraph)"
        )
        super().__init__(
            f"{lead}{where[:1].upper()}{where[1:]} is LangGraph's {qualname}, which threadloom "
            "cannot use: LangGraph's "
            f"objects only work inside LangGraph. {fix}.{also}"
        )


class LangGraphDatabaseError(StorageError):
    """A database file made by LangGraph was opened by a threadloom saver or store.

    threadloom keeps its own tables and does not read or change LangGraph's; ``tables`` lists the
    LangGraph tables found, ``path`` is the file.
    """

    def __init__(self, path: str, kind: str, tables: Sequence[str], docs: str) -> None:
        self.path, self.kind, self.tables = path, kind, tuple(tables)
        super().__init__(
            f"{path!r} holds a LangGraph {kind} (tables {', '.join(self.tables)}), not a "
            f"threadloom one. threadloom keeps its own tables and does not read or change "
            f"LangGraph's: open a new file for threadloom, and copy the data over with "
            f"`threadloom migrate {path} --db NEW_FILE{' --store' if kind == 'store' else ''}` "
            f"(see {docs} and "
            "docs/coming-from-langgraph.md)."
        )


class LangGraphNotInstalledError(ImportError):
    """``threadloom.interop.langgraph`` was imported without LangGraph installed."""

    def __init__(self, missing: str) -> None:
        self.missing = missing
        super().__init__(
            f"threadloom.interop.langgraph needs the package {missing!r}, which is not "
            "installed. Install the extra: pip install 'threadloom[langgraph]'.",
            name=missing,
        )


class LangGraphSourceError(StorageError):
    """The database given to a migration from LangGraph cannot be read as one (``threadloom
    migrate``, ``migrate_checkpoints``, ``migrate_store``); nothing was changed."""

    def __init__(self, source: str, problem: str, fix: str) -> None:
        self.source, self.problem = source, problem
        super().__init__(f"Cannot migrate from {source!r}: {problem}. {fix}")


class MigrationMismatchError(StorageError):
    """A checkpoint copied by a migration read back different from the source; the migration
    stopped there (run it again once the cause is fixed: what was copied is kept)."""

    def __init__(self, thread_id: str, checkpoint_ns: str, checkpoint_id: str, field: str) -> None:
        self.thread_id, self.checkpoint_ns = thread_id, checkpoint_ns
        self.checkpoint_id, self.field = checkpoint_id, field
        super().__init__(
            f"checkpoint {checkpoint_id!r} of thread {thread_id!r} (namespace {checkpoint_ns!r}) "
            f"reads back from the target with a different {field} than in the LangGraph source. "
            "The target saver did not store it faithfully: check that its serializer accepts the "
            "state's types (serde allow-list), then run the migration again; it resumes here."
        )


class UnknownSourceThreadsError(LangGraphSourceError):
    """Threads asked of a migration are not in the LangGraph source; nothing was copied."""

    def __init__(self, source: str, thread_ids: Sequence[str], known: Sequence[str]) -> None:
        self.thread_ids = tuple(thread_ids)
        shown = ", ".join(repr(t) for t in list(known)[:20]) + (" ..." if len(known) > 20 else "")
        super().__init__(
            source,
            f"it has no thread(s) {list(thread_ids)!r}",
            f"Its threads are: {shown or '(none)'}",
        )


class LangGraphStoreWarning(ThreadloomWarning):
    """``PostgresStore.setup()`` found LangGraph's store tables with items beside an empty
    threadloom store: threadloom does not read them; ``threadloom migrate`` copies them."""

    def __init__(self, items: int) -> None:
        self.items = items
        super().__init__(
            f"This database holds LangGraph's store ({items} item(s) in its 'store' table), "
            "which threadloom's PostgresStore does not read: its own tables start empty. Copy "
            "the items over with `threadloom migrate DSN --dsn DSN --store` or "
            "threadloom.interop.migrate.migrate_store (docs/coming-from-langgraph.md)."
        )
