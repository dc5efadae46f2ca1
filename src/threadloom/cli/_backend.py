"""Where the CLI keeps and finds its data: one function opens a saver and a store for a command.

The embedded default is one SQLite file under the user's data directory holding the checkpoints
(``SqliteSaver``) and the memories (``SqliteStore`` with the offline ``tokenlearn-static-model``
embeddings). ``--db PATH`` or ``$THREADLOOM_DB`` choose another file; ``--dsn`` is the branch
where PostgreSQL plugs in. Opening checks the file is threadloom's before any command touches it.
"""

from __future__ import annotations

import importlib
import os
import sqlite3
import sys
from collections.abc import Iterator, Mapping
from contextlib import ExitStack, closing, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

if TYPE_CHECKING:  # kept out of `threads ls`, which must start fast: langchain-core is slow
    from threadloom.checkpoint.base import BaseCheckpointSaver
    from threadloom.store.base import BaseStore

__all__ = [
    "DB_ENV",
    "Backend",
    "Listing",
    "check_sqlite_file",
    "default_db_path",
    "embedding_index",
    "open_backend",
    "open_listing",
]

DB_ENV: Final = "THREADLOOM_DB"
"""Environment variable naming the SQLite file used when ``--db`` is not given."""

EMBEDDING_DIMS: Final = 64
"""Dimensions of ``tokenlearn-static-model``'s vectors."""

THREADLOOM_TABLES: Final = frozenset({"checkpoint_migrations", "threadloom_store_migrations"})
"""The migration records of threadloom's SqliteSaver and SqliteStore: a file without either is
not threadloom's (LangGraph's SQLite files have ``checkpoints``/``writes``/``store`` tables too)."""

LANGGRAPH_TABLES: Final = frozenset({"checkpoints", "writes", "store", "store_migrations"})


def default_db_path(
    env: Mapping[str, str] | None = None, platform: str = sys.platform, home: Path | None = None
) -> Path:
    """``$THREADLOOM_DB``, else ``threadloom.db`` in the platform's per-user data directory."""
    env = os.environ if env is None else env
    if env.get(DB_ENV):
        return Path(env[DB_ENV]).expanduser()
    home = Path.home() if home is None else home
    if platform == "darwin":
        base = home / "Library" / "Application Support"
    elif platform.startswith("win"):
        base = Path(env.get("LOCALAPPDATA") or home / "AppData" / "Local")
    else:
        base = Path(env.get("XDG_DATA_HOME") or home / ".local" / "share")
    return base / "threadloom" / "threadloom.db"


def embedding_index() -> dict[str, Any]:
    """The store's semantic index: the offline static model, over each memory's ``text``."""
    from threadloom.errors import CliError

    try:
        import static_model
    except ImportError as exc:
        raise CliError(
            "the chat's memories are embedded by the offline model of the "
            "'tokenlearn-static-model' package, which is not installed. Install the CLI's "
            "extra: pip install 'threadloom[cli]'"
        ) from exc

    def embed(texts: list[str]) -> list[list[float]]:
        vectors: list[list[float]] = static_model.get_embeddings(list(texts))
        return vectors

    return {"dims": EMBEDDING_DIMS, "embed": embed, "fields": ["text"]}


@dataclass(slots=True)
class Backend:
    """An open database: its saver and its store."""

    kind: str
    """``"sqlite"`` or ``"postgres"``: which module under ``cli/`` answers the listing SQL."""
    location: str
    """The file path or the DSN (without its password), for messages."""
    store: BaseStore
    checkpointer: BaseCheckpointSaver[Any] | None
    """None where this version has no saver for the backend (see ``saver``)."""

    @property
    def saver(self) -> BaseCheckpointSaver[Any]:
        """The checkpoint saver, or a ``DatabaseError`` saying this backend has none yet."""
        if self.checkpointer is None:
            from threadloom.errors import DatabaseError

            raise DatabaseError(
                self.location,
                f"threads on {self.kind} need threadloom.checkpoint.{self.kind}, which this "
                "version does not have yet (the store commands work)",
                "Use --db PATH with a SQLite file for threads and chat.",
            )
        return self.checkpointer


def check_sqlite_file(path: Path) -> sqlite3.Connection:
    """A read-only connection to ``path`` once it is known to be a threadloom database.

    ``threadloom.errors`` is imported only on failure: ``threads ls`` should not pay for it.
    """
    conn: sqlite3.Connection | None = None
    cause: Exception | None = None
    problem: tuple[str, str] | None = None
    if not path.exists():
        problem = (
            "no such database file",
            "Check the path, or create one with `threadloom chat` or `threadloom demo`.",
        )
    else:
        try:
            conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
            tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master")}
        except sqlite3.DatabaseError as exc:
            cause = exc
            problem = (f"not a SQLite database ({exc})", "Pass the file threadloom wrote.")
        else:
            problem = _foreign_tables(tables)
    if problem is None and conn is not None:
        return conn
    if conn is not None:
        conn.close()
    from threadloom.errors import DatabaseError

    assert problem is not None
    raise DatabaseError(str(path), *problem) from cause


def _foreign_tables(tables: set[str]) -> tuple[str, str] | None:
    """Why a file with these tables is not threadloom's (problem, fix), or None if it is."""
    if tables & THREADLOOM_TABLES:
        return None
    if tables & LANGGRAPH_TABLES:
        return (
            f"a LangGraph database (tables {', '.join(sorted(tables & LANGGRAPH_TABLES))}), "
            "not a threadloom one; threadloom neither reads nor changes LangGraph's tables",
            "Use a file threadloom wrote; copy this one's threads into it with "
            "`threadloom migrate FILE --db NEW_FILE` (docs/coming-from-langgraph.md).",
        )
    return (
        "not a threadloom database (it has no checkpoints or store tables)",
        "Pass the file that SqliteSaver or SqliteStore wrote.",
    )


@contextmanager
def open_backend(
    db: str | None = None, dsn: str | None = None, *, create: bool = False
) -> Iterator[Backend]:
    """Open the saver and store of ``--db`` or ``--dsn`` (default file if neither).

    ``create`` makes the file and its tables if missing (chat, demo); inspection commands open
    only an existing threadloom database and say so otherwise.
    """
    from threadloom.errors import DatabaseError, StorageError

    if dsn is not None:
        with _open_postgres(dsn, create=create) as backend:
            yield backend
        return
    from threadloom.checkpoint.sqlite import SqliteSaver
    from threadloom.store.sqlite import SqliteStore

    path = Path(db).expanduser() if db else default_db_path()
    with ExitStack() as stack:
        if create:
            path.parent.mkdir(parents=True, exist_ok=True)
            if path.exists():
                stack.callback(check_sqlite_file(path).close)
        if not create:
            stack.callback(check_sqlite_file(path).close)
        try:  # the file's own errors, opening or inside the command, are exit code 4
            saver = stack.enter_context(SqliteSaver.from_conn_string(str(path)))
            store = stack.enter_context(
                SqliteStore.from_conn_string(str(path), index=embedding_index())  # type: ignore[arg-type]
            )
            if create:
                saver.setup()
                store.setup()
            yield Backend("sqlite", str(path), store, saver)
        except (sqlite3.Error, StorageError) as exc:
            raise DatabaseError(str(path), f"SQLite failed: {exc}", "Check the file.") from exc


@contextmanager
def _open_postgres(dsn: str, *, create: bool) -> Iterator[Backend]:
    """The PostgreSQL branch: PostgresStore, and PostgresSaver where this version has it."""
    from threadloom.errors import DatabaseError, SetupRequiredError, StorageError

    where = _without_password(dsn)
    try:
        from threadloom.store.postgres import PostgresStore
    except ImportError as exc:
        raise DatabaseError(
            where, f"PostgreSQL needs {exc.name!r}", "pip install 'threadloom[postgres]'"
        ) from exc
    try:
        saver_module: Any = importlib.import_module("threadloom.checkpoint.postgres")
    except ImportError:
        saver_module = None
    with ExitStack() as stack:
        try:
            store = stack.enter_context(
                PostgresStore.from_conn_string(dsn, index=embedding_index())  # type: ignore[arg-type]
            )
            saver = None
            if saver_module is not None:
                saver = stack.enter_context(saver_module.PostgresSaver.from_conn_string(dsn))
            if create:
                store.setup()
                if saver is not None:
                    saver.setup()
            else:
                store.search(("__threadloom_cli_check__",), limit=1)  # tables there?
            yield Backend("postgres", where, store, saver)
        except SetupRequiredError as exc:
            raise DatabaseError(
                where,
                "not a threadloom database (its tables are missing or older)",
                "Point --dsn at the database your application set up (setup() creates them).",
            ) from exc
        except StorageError as exc:
            raise DatabaseError(
                where, f"cannot use the database ({exc})", "Check the DSN and the server."
            ) from exc


@dataclass(slots=True, frozen=True)
class Listing:
    """A read-only connection for the grouped thread-listing queries of ``kind``'s module."""

    kind: str
    location: str
    conn: Any
    """``sqlite3.Connection`` or ``psycopg.Connection``."""


@contextmanager
def open_listing(db: str | None = None, dsn: str | None = None) -> Iterator[Listing]:
    """A read-only connection to list threads, without loading the saver or the store.

    ``threads ls`` needs no checkpoint decoding, so on SQLite it imports neither the saver nor
    langchain-core: the command answers in a fraction of a second even as a new process.
    """
    if dsn is not None:
        conn = _postgres_listing_connection(dsn)
        if conn is None:  # open_backend says what is wrong: no server, no tables, no driver
            with open_backend(None, dsn) as backend:
                from threadloom.errors import DatabaseError

                raise DatabaseError(
                    backend.location,
                    "not a threadloom checkpoint database (no threadloom_checkpoints table)",
                    "Point --dsn at the database your application set up (setup() creates it).",
                )
        with conn:
            yield Listing("postgres", _without_password(dsn), conn)
        return
    path = Path(db).expanduser() if db else default_db_path()
    with closing(check_sqlite_file(path)) as conn:
        try:
            yield Listing("sqlite", str(path), conn)
        except sqlite3.Error as exc:
            from threadloom.errors import DatabaseError

            raise DatabaseError(
                str(path), f"SQLite failed: {exc}", "Is it a threadloom checkpoint file?"
            ) from exc


def _postgres_listing_connection(dsn: str) -> Any:
    """A read-only session on a database with threadloom's checkpoint tables, or None.

    Only psycopg is imported (not the saver, the store, langchain-core or the embedding model):
    on success ``threads ls`` answers fast; on any failure the caller lets ``open_backend`` say
    what is wrong, with its messages.
    """
    try:
        import psycopg
    except ImportError:
        return None
    try:
        conn = psycopg.connect(dsn, autocommit=True)
    except psycopg.Error:
        return None
    try:
        row = conn.execute("SELECT to_regclass('threadloom_checkpoints') IS NOT NULL").fetchone()
        if row is not None and row[0]:
            conn.execute("SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY")
            return conn
    except psycopg.Error:
        pass
    conn.close()
    return None


def _without_password(dsn: str) -> str:
    """The DSN as it may appear in a message: any password replaced by ``***``."""
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(dsn)
    if parts.password:
        netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
        return urlunsplit(parts._replace(netloc=netloc))
    return dsn
