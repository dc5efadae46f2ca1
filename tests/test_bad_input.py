# ruff: noqa: E501 - one table row per line, so adding a case is one line
"""Bad input, table-driven (issue 7): each row is a mistake and the error that must explain it.

A row is ``(case name, trigger, error type, what the message must say)``. ``trigger`` takes the
``Env`` fixture (a tmp folder, files made on demand, cleanup) and either raises or returns a
coroutine, which the test runs. The message must contain every listed substring: the bad value
and the fix, not only the rule. A row may name a warning class: that warning is turned into an
error while the trigger runs, so it is checked the same way. To add a case, add one row to
``CASES``. LangGraph's objects are stood in for by ``langgraph_standins`` (LangGraph is not a
test dependency).
"""

from __future__ import annotations

import asyncio
import inspect
import operator
import sqlite3
import warnings
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Annotated, Any, TypedDict

import pytest
from langgraph_standins import LGCommand, LGInMemorySaver, LGInMemoryStore, LGSend, lg_interrupt

from threadloom.checkpoint.base import empty_checkpoint
from threadloom.checkpoint.memory import InMemorySaver
from threadloom.checkpoint.serde.jsonplus import JsonPlusSerializer
from threadloom.checkpoint.sqlite import SqliteSaver
from threadloom.checkpoint.sqlite.aio import AsyncSqliteSaver
from threadloom.errors import (
    CorruptDataError,
    InvalidBackendError,
    InvalidConnectionError,
    InvalidNamespaceError,
    InvalidSaverArgumentError,
    InvalidThreadIdError,
    InvalidUpdateError,
    LangGraphDatabaseError,
    LangGraphObjectError,
    PendingInterruptWarning,
    StorageError,
    StoreFilterError,
    UnknownStateKeyWarning,
    UnknownStreamModeError,
    UnserializableValueError,
    UnstorableTextError,
)
from threadloom.graph import END, START, StateGraph
from threadloom.store.base import PutOp
from threadloom.store.memory import InMemoryStore
from threadloom.store.sqlite import SqliteStore
from threadloom.store.sqlite.aio import AsyncSqliteStore
from threadloom.types import Command, interrupt

# The tables langgraph-checkpoint-sqlite's SqliteStore makes (seen in a file made by its setup()
# with langgraph 1.2.22): store_migrations (v), and store (prefix, key, value, created_at,
# updated_at, expires_at, ttl_minutes) keyed by (prefix, key), with migrations 0-4 recorded.
LANGGRAPH_STORE_SQL = (
    "CREATE TABLE store_migrations (v INTEGER PRIMARY KEY)",
    "CREATE TABLE store (prefix text NOT NULL, key text NOT NULL, value text NOT NULL,"
    " created_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP, updated_at TIMESTAMP DEFAULT"
    " CURRENT_TIMESTAMP, expires_at TIMESTAMP, ttl_minutes REAL, PRIMARY KEY (prefix, key))",
    "CREATE INDEX store_prefix_idx ON store (prefix)",
    "INSERT INTO store_migrations (v) VALUES (0), (1), (2), (3), (4)",
    "INSERT INTO store (prefix, key, value) VALUES ('users.1', 'prefs', '{\"theme\":\"dark\"}')",
)
# The tables langgraph-checkpoint-sqlite's SqliteSaver makes (seen in a file it set up under
# langgraph 1.2.22, in WAL mode, with no migrations table), and a checkpoint row.
LANGGRAPH_CHECKPOINT_SQL = (
    "PRAGMA journal_mode = WAL",
    "CREATE TABLE checkpoints (thread_id TEXT NOT NULL, checkpoint_ns TEXT NOT NULL DEFAULT '',"
    " checkpoint_id TEXT NOT NULL, parent_checkpoint_id TEXT, type TEXT, checkpoint BLOB,"
    " metadata BLOB, PRIMARY KEY (thread_id, checkpoint_ns, checkpoint_id))",
    "CREATE TABLE writes (thread_id TEXT NOT NULL, checkpoint_ns TEXT NOT NULL DEFAULT '',"
    " checkpoint_id TEXT NOT NULL, task_id TEXT NOT NULL, task_path TEXT NOT NULL DEFAULT '',"
    " idx INTEGER NOT NULL, channel TEXT NOT NULL, type TEXT, value BLOB,"
    " PRIMARY KEY (thread_id, checkpoint_ns, checkpoint_id, task_id, idx))",
    "INSERT INTO checkpoints VALUES ('t', '', '1f0', NULL, 'msgpack', x'80', x'80')",
)


class Env:
    """What a trigger may use: files in a tmp folder, made on demand, closed after the test."""

    def __init__(self, folder: Path, cleanup: ExitStack) -> None:
        self.folder, self.cleanup = folder, cleanup

    def path(self, name: str = "store.db") -> str:
        return str(self.folder / name)

    def sql_file(self, name: str, statements: tuple[str, ...]) -> str:
        """A SQLite file made by running ``statements``."""
        conn = sqlite3.connect(self.path(name), isolation_level=None)
        for statement in statements:
            conn.execute(statement)
        conn.close()
        return self.path(name)

    def langgraph_store_file(self) -> str:
        return self.sql_file("langgraph-store.db", LANGGRAPH_STORE_SQL)

    def other_apps_file(self) -> str:
        return self.sql_file("other.db", ("CREATE TABLE store (id INTEGER, name TEXT)",))

    def not_a_database(self) -> str:
        path = Path(self.path("notes.db"))
        path.write_text("These are my notes, not a database.\n" * 200)
        return str(path)

    def set_up_store_file(self) -> str:
        with SqliteStore.from_conn_string(self.path("set-up.db")) as store:
            store.setup()
            store.put(("a",), "k", {"v": 1})
        return self.path("set-up.db")

    def read_only_store(self) -> SqliteStore:
        """A set-up file opened read-only (``mode=ro``: read-only whoever runs the test)."""
        conn = sqlite3.connect(
            f"file:{self.set_up_store_file()}?mode=ro", uri=True, isolation_level=None
        )
        self.cleanup.callback(conn.close)
        store = SqliteStore(conn)
        store.setup()
        return store

    def store_on_closed_connection(self) -> SqliteStore:
        conn = sqlite3.connect(self.path("closed-early.db"))
        conn.close()
        return SqliteStore(conn)

    def closed_store(self) -> SqliteStore:
        with SqliteStore.from_conn_string(self.path("closed.db")) as store:
            store.setup()
        return store

    # -- checkpointers --

    def langgraph_checkpoint_file(self) -> str:
        return self.sql_file("langgraph-checkpoints.db", LANGGRAPH_CHECKPOINT_SQL)

    def saver(self, path: str) -> SqliteSaver:
        return self.cleanup.enter_context(SqliteSaver.from_conn_string(path))

    def set_up_saver_file(self) -> str:
        with SqliteSaver.from_conn_string(self.path("saved.db")) as saver:
            saver.put(SAVER_CONFIG, checkpoint("1"), {}, {"n": "1"})
        return self.path("saved.db")

    def read_only_saver(self) -> SqliteSaver:
        """A set-up file opened read-only (``mode=ro``); reading it works."""
        uri = f"file:{self.set_up_saver_file()}?mode=ro"
        conn = sqlite3.connect(uri, uri=True, check_same_thread=False)
        self.cleanup.callback(conn.close)
        saver = SqliteSaver(conn)
        assert saver.get_tuple(SAVER_CONFIG) is not None
        return saver

    def closed_saver(self) -> SqliteSaver:
        with SqliteSaver.from_conn_string(self.path("closed.db")) as saver:
            saver.setup()
        return saver

    def locked_saver(self) -> SqliteSaver:
        """A set-up saver whose file another connection holds a write lock on; it waits 0.1 s."""
        saver = self.saver(self.set_up_saver_file())
        saver.setup()
        saver.conn.execute("PRAGMA busy_timeout = 100")
        writer = sqlite3.connect(self.path("saved.db"), isolation_level=None)
        writer.execute("BEGIN IMMEDIATE")
        self.cleanup.callback(writer.close)
        self.cleanup.callback(writer.execute, "ROLLBACK")
        return saver

    # -- graphs --

    def interrupted_graph(self) -> Any:
        """A graph whose thread "t" waits on ``interrupt()``."""
        graph = one_node_graph(lambda s: {"n": interrupt("approve?")}, checkpointer=InMemorySaver())
        graph.invoke({"n": 1}, GRAPH_CONFIG)
        return graph


def fan_out_graph() -> Any:
    """START → a and b in parallel; thread "t" has run once."""
    builder = StateGraph(State)
    builder.add_node("a", lambda s: {})
    builder.add_node("b", lambda s: {})
    builder.add_edge(START, "a")
    builder.add_edge(START, "b")
    graph = builder.compile(checkpointer=InMemorySaver())
    graph.invoke({"n": 1}, GRAPH_CONFIG)
    return graph


def ran_graph() -> Any:
    """``one_node_graph`` on a saver; thread "t" has run once."""
    graph = one_node_graph(checkpointer=InMemorySaver())
    graph.invoke({"n": 1}, GRAPH_CONFIG)
    return graph


def open_sqlite(path: str) -> None:
    with SqliteStore.from_conn_string(path) as store:
        store.setup()


async def open_async_sqlite(path: str) -> None:
    async with AsyncSqliteStore.from_conn_string(path) as store:
        await store.setup()


async def async_put(path: str, namespace: tuple[str, ...]) -> None:
    async with AsyncSqliteStore.from_conn_string(path) as store:
        await store.aput(namespace, "k", {"v": 1})


async def put_after_close(path: str) -> None:
    async with AsyncSqliteStore.from_conn_string(path) as store:
        await store.setup()
    await store.aput(("a",), "k", {"v": 1})


def sqlite_put(env: Env, namespace: tuple[str, ...]) -> None:
    store = env.cleanup.enter_context(SqliteStore.from_conn_string(env.path()))
    store.put(namespace, "k", {"v": 1})


def deep_not(depth: int) -> dict[str, Any]:
    filter: dict[str, Any] = {"a": 1}
    for _ in range(depth):
        filter = {"$not": filter}
    return filter


SAVER_CONFIG: Any = {"configurable": {"thread_id": "t", "checkpoint_ns": ""}}
GRAPH_CONFIG: Any = {"configurable": {"thread_id": "t"}}


def checkpoint(checkpoint_id: str) -> Any:
    made = empty_checkpoint()
    made["id"], made["channel_values"], made["channel_versions"] = checkpoint_id, {"n": 1}, {"n": 1}
    return made


def saver_put(saver: Any) -> Any:
    return saver.put(SAVER_CONFIG, checkpoint("2"), {}, {"n": 2})


async def async_saver(path: str) -> None:
    AsyncSqliteSaver(path)  # type: ignore[arg-type]


async def async_saver_get(path: str) -> None:
    async with AsyncSqliteSaver.from_conn_string(path) as saver:
        await saver.aget_tuple(SAVER_CONFIG)


async def async_saver_put_after_close(path: str) -> None:
    async with AsyncSqliteSaver.from_conn_string(path) as saver:
        await saver.setup()
    await saver.aput(SAVER_CONFIG, checkpoint("1"), {}, {"n": 1})


class State(TypedDict):
    messages: Annotated[list[str], operator.add]
    n: int


def one_node_graph(node: Any = None, *, branch: Any = None, **compile_kwargs: Any) -> Any:
    """START → a (→ ``branch``) → b → END over ``State``."""
    builder = StateGraph(State)
    builder.add_node("a", node or (lambda s: {"n": s["n"] + 1}))
    builder.add_node("b", lambda s: {"n": -1})
    builder.add_edge(START, "a")
    if branch is not None:
        builder.add_conditional_edges("a", branch)
    builder.add_edge("b", END)
    return builder.compile(**compile_kwargs)


EMPTY_NS = ("Namespace cannot be empty", "store.put(('memories', 'user-1'), key, value)")
LANGGRAPH = ("langgraph-store.db", "LangGraph store", "keeps its own tables", "store-sqlite.md")
CLOSED = ("closed", "with SqliteStore.from_conn_string(...) as store:")
TOO_DEEP = ("deeper than 64 levels", "Flatten it")
SAVER_CLOSED = (
    "connection is closed",
    "used after its `with SqliteSaver.from_conn_string(...) as saver:` block",
)
SAVER_LANGGRAPH = (
    "langgraph-checkpoints.db",
    "LangGraph checkpoint database",
    "keeps its own tables",
    "docs/checkpoints.md",
)

Trigger = Callable[[Env], Any]
CASES: list[tuple[str, Trigger, type[BaseException], tuple[str, ...]]] = [
    # -- stores: an empty namespace (DECISIONS 15) -----------------------------------------
    ("memory-put-()", lambda e: InMemoryStore().put((), "k", {}), InvalidNamespaceError, EMPTY_NS),
    ("memory-aput-()", lambda e: InMemoryStore().aput((), "k", {}), InvalidNamespaceError, EMPTY_NS),
    ("memory-batch-()", lambda e: InMemoryStore().batch([PutOp((), "k", {})]), InvalidNamespaceError, EMPTY_NS),
    ("sqlite-put-()", lambda e: sqlite_put(e, ()), InvalidNamespaceError, EMPTY_NS),
    ("sqlite-aput-()", lambda e: async_put(e.path(), ()), InvalidNamespaceError, EMPTY_NS),
    # -- stores: a file threadloom cannot use as it is -------------------------------------
    ("sqlite-langgraph-file", lambda e: open_sqlite(e.langgraph_store_file()), LangGraphDatabaseError, LANGGRAPH),
    ("sqlite-async-langgraph-file", lambda e: open_async_sqlite(e.langgraph_store_file()), LangGraphDatabaseError, LANGGRAPH),
    ("sqlite-other-apps-file", lambda e: open_sqlite(e.other_apps_file()), StorageError, ("other.db", "['store']", "did not make", "Open a new file")),
    ("sqlite-not-a-database", lambda e: open_sqlite(e.not_a_database()), StorageError, ("notes.db", "not a SQLite database", "path of a SQLite file")),
    ("sqlite-async-not-a-database", lambda e: open_async_sqlite(e.not_a_database()), StorageError, ("notes.db", "not a SQLite database")),
    ("sqlite-read-only-write", lambda e: e.read_only_store().put(("a",), "k", {"v": 2}), StorageError, ("set-up.db", "read-only", "make the file and its folder writable")),
    ("sqlite-closed-store", lambda e: e.closed_store().put(("a",), "k", {"v": 1}), StorageError, CLOSED),
    ("sqlite-closed-before-setup", lambda e: e.store_on_closed_connection().get(("a",), "k"), StorageError, CLOSED),
    ("sqlite-async-closed-store", lambda e: put_after_close(e.path()), StorageError, ("closed", "async with")),
    # -- stores: filters -------------------------------------------------------------------
    ("memory-filter-too-deep", lambda e: InMemoryStore().search(("a",), filter=deep_not(10_000)), StoreFilterError, TOO_DEEP),
    ("sqlite-filter-too-deep", lambda e: open_and_search(e, deep_not(10_000)), StoreFilterError, TOO_DEEP),
    ("store-unknown-operator", lambda e: InMemoryStore().search(("a",), filter={"a": {"$regex": "x"}}), StoreFilterError, ("'$regex'", "Supported:")),
    ("sqlite-value-not-json", lambda e: sqlite_put_value(e, {"when": object()}), TypeError, ("cannot be written as JSON", "convert the value first")),
    # -- checkpointers: the wrong thing where a connection is expected ------------------------
    ("saver-given-a-path", lambda e: SqliteSaver("file.db"), InvalidConnectionError, ("got str: 'file.db'", "with SqliteSaver.from_conn_string('file.db') as saver:")),  # type: ignore[arg-type]
    ("saver-given-an-int", lambda e: SqliteSaver(3), InvalidConnectionError, ("needs an open sqlite3.Connection", "got int: 3", "from_conn_string")),  # type: ignore[arg-type]
    ("async-saver-given-a-path", lambda e: async_saver("file.db"), InvalidConnectionError, ("got str: 'file.db'", "async with AsyncSqliteSaver.from_conn_string('file.db') as saver:")),
    ("saver-missing-folder", lambda e: e.saver(e.path("no-such-folder/c.db")), StorageError, ("no-such-folder/c.db", "its folder must exist")),
    # -- checkpointers: closed, read-only, locked -------------------------------------------
    ("saver-closed", lambda e: e.closed_saver().get_tuple(SAVER_CONFIG), StorageError, SAVER_CLOSED),
    ("saver-closed-list", lambda e: list(e.closed_saver().list(None)), StorageError, SAVER_CLOSED),
    ("saver-closed-put", lambda e: saver_put(e.closed_saver()), StorageError, SAVER_CLOSED),
    ("async-saver-closed", lambda e: async_saver_put_after_close(e.path()), StorageError, ("connection is closed", "`async with AsyncSqliteSaver.from_conn_string(...) as saver:`")),
    ("saver-read-only-write", lambda e: saver_put(e.read_only_saver()), StorageError, ("saved.db", "is read-only here", "make the file and its folder writable")),
    ("saver-locked", lambda e: saver_put(e.locked_saver()), StorageError, ("saved.db", "database is locked", "this call gave up after", "keep write transactions short")),
    # -- checkpointers: a file that is not theirs --------------------------------------------
    ("saver-not-a-database", lambda e: e.saver(e.not_a_database()).get_tuple(SAVER_CONFIG), StorageError, ("notes.db", "is not a SQLite database", "path of a SQLite file")),
    ("async-saver-not-a-database", lambda e: async_saver_get(e.not_a_database()), StorageError, ("notes.db", "is not a SQLite database")),
    ("saver-langgraph-file", lambda e: e.saver(e.langgraph_checkpoint_file()).get_tuple(SAVER_CONFIG), LangGraphDatabaseError, SAVER_LANGGRAPH),
    ("async-saver-langgraph-file", lambda e: async_saver_get(e.langgraph_checkpoint_file()), LangGraphDatabaseError, SAVER_LANGGRAPH),
    ("saver-other-apps-file", lambda e: saver_put(e.saver(e.sql_file("other.db", ("CREATE TABLE checkpoints (id INTEGER)",)))), StorageError, ("other.db", "['checkpoints']", "did not make", "Open a new file")),
    # -- graphs: LangGraph's objects in a threadloom graph ------------------------------------
    ("graph-langgraph-saver", lambda e: one_node_graph(checkpointer=LGInMemorySaver()), LangGraphObjectError, ("InMemorySaver", "from threadloom.checkpoint.memory import InMemorySaver")),
    ("graph-langgraph-store", lambda e: one_node_graph(store=LGInMemoryStore()), LangGraphObjectError, ("InMemoryStore", "from threadloom.store.memory import InMemoryStore")),
    ("graph-node-returns-langgraph-command", lambda e: one_node_graph(lambda s: LGCommand(update={"n": 5})).invoke({"n": 1}), LangGraphObjectError, ("langgraph.types.Command", "from threadloom.types import Command")),
    ("graph-node-calls-langgraph-interrupt", lambda e: one_node_graph(lambda s: {"n": lg_interrupt("ok?")}, checkpointer=InMemorySaver()).invoke({"n": 1}, GRAPH_CONFIG), LangGraphObjectError, ("Node 'a' called interrupt()", "from threadloom.types import interrupt")),
    ("graph-branch-returns-langgraph-send", lambda e: one_node_graph(branch=lambda s: [LGSend("b", {"n": 3})]).invoke({"n": 1}), LangGraphObjectError, ("langgraph.types.Send", "from threadloom.types import Send")),
    # -- graphs: checkpointer= that is not a saver ------------------------------------------
    ("graph-unopened-sqlite-saver", lambda e: one_node_graph(checkpointer=SqliteSaver.from_conn_string(e.path("c.db"))), InvalidBackendError, ("with SqliteSaver.from_conn_string(", "as saver:")),
    ("graph-checkpointer-path", lambda e: one_node_graph(checkpointer="file.db"), InvalidBackendError, ("Received str", "'file.db'")),
    # -- graphs: silent mistakes, now errors or warnings ------------------------------------
    ("graph-stream-mode-typo", lambda e: list(one_node_graph().stream({"n": 1}, stream_mode="value")), UnknownStreamModeError, ("'value'", "Did you mean 'values'?")),
    ("graph-unknown-input-key", lambda e: one_node_graph().invoke({"message": ["hi"], "n": 1}), UnknownStateKeyWarning, ("'message'", "'messages'")),
    ("graph-new-input-while-interrupted", lambda e: e.interrupted_graph().invoke({"n": 2}, GRAPH_CONFIG), PendingInterruptWarning, ("approve?", "Command(resume=")),
    # -- serializer: stored bytes that do not decode, values that cannot be stored ------------
    ("serde-flipped-byte", lambda e: SERDE.loads_typed(flipped(SERDE.dumps_typed({"messages": ["hi", {"a": 1}]}))), CorruptDataError, ("stored bytes are corrupt at byte", "nothing was imported")),
    ("serde-truncated", lambda e: SERDE.loads_typed(("msgpack", SERDE.dumps_typed({"a": [1, 2, "x"]})[1][:-2])), CorruptDataError, ("at byte", "end before this value")),
    ("serde-huge-int", lambda e: SERDE.dumps_typed(10**5000), UnserializableValueError, ("<int of 16610 bits>", "Store it as str or bytes")),
    ("serde-surrogate-key", lambda e: SERDE.dumps_typed({"a\ud800": 1}), UnserializableValueError, ("lone surrogate", "Fix the text")),
    ("serde-too-deep", lambda e: SERDE.dumps_typed(nested(1000)), UnserializableValueError, ("nests too deeply", "Store it flatter")),
    ("saver-surrogate-thread-id", lambda e: e.saver(e.path()).get_tuple({"configurable": {"thread_id": "a\ud800"}}), UnstorableTextError, ("'a\\ud800'", "lone surrogate", "Fix the text")),
    ("store-surrogate-namespace", lambda e: sqlite_put(e, ("a\ud800",)), UnstorableTextError, ("lone surrogate", "Fix the text")),
    ("graph-thread-id-object", lambda e: one_node_graph(checkpointer=InMemorySaver()).invoke({"n": 1}, {"configurable": {"thread_id": object()}}), InvalidThreadIdError, ("thread_id must be a str, an int or a uuid.UUID, got object <object", "'thread_id': 'user-42'")),
    ("saver-list-limit-str", lambda e: list(e.saver(e.path()).list(None, limit="10")), InvalidSaverArgumentError, ("limit must be a non-negative int, got str '10'", "Pass None for no limit")),
    ("store-ttl-zero", lambda e: InMemoryStore().put(("a",), "k", {"v": 1}, ttl=0), ValueError, ("got 0", "positive, finite number of minutes", "Use None")),
    ("update-state-unknown-node", lambda e: ran_graph().update_state(GRAPH_CONFIG, {"n": 2}, as_node="c"), InvalidUpdateError, ("Node c does not exist", "as_node must name one of the graph's nodes: ['a', 'b']", "'__start__'")),
    ("update-state-ambiguous", lambda e: fan_out_graph().update_state(GRAPH_CONFIG, {"n": 2}), InvalidUpdateError, ("Ambiguous update, specify as_node", "the last step ran several nodes", "['a', 'b']", "as_node='a'")),
    ("graph-goto-unknown-node", lambda e: one_node_graph(lambda s: Command(goto="c")).invoke({"n": 1}), InvalidUpdateError, ("Command(goto='c')", "Known nodes: ['a', 'b']", "fix the name")),
]  # fmt: skip


def open_and_search(env: Env, filter: dict[str, Any]) -> Any:
    store = env.cleanup.enter_context(SqliteStore.from_conn_string(env.path()))
    return store.search(("a",), filter=filter)


def sqlite_put_value(env: Env, value: dict[str, Any]) -> None:
    store = env.cleanup.enter_context(SqliteStore.from_conn_string(env.path()))
    store.put(("a",), "k", value)


SERDE = JsonPlusSerializer()


def flipped(typed: tuple[str, bytes]) -> tuple[str, bytes]:
    """The payload with its middle byte inverted."""
    kind, data = typed
    middle = len(data) // 2
    return kind, data[:middle] + bytes([data[middle] ^ 0xFF]) + data[middle + 1 :]


def nested(depth: int) -> list[Any]:
    value: list[Any] = []
    for _ in range(depth):
        value = [value]
    return value


def enter(manager: Any) -> Any:
    with manager as opened:
        return opened


async def aenter(manager: Any) -> Any:
    async with manager as opened:
        return opened


@pytest.fixture
def env(tmp_path: Path) -> Iterator[Env]:
    with ExitStack() as cleanup:
        yield Env(tmp_path, cleanup)


@pytest.mark.parametrize(
    ("trigger", "error", "says"),
    [pytest.param(*row[1:], id=row[0]) for row in CASES],
)
def test_bad_input_gives_a_clear_error(
    env: Env, trigger: Trigger, error: type[BaseException], says: tuple[str, ...]
) -> None:
    with pytest.raises(error) as raised, warnings.catch_warnings():
        if issubclass(error, Warning):
            warnings.simplefilter("error", error)
        result = trigger(env)
        if inspect.isawaitable(result):
            asyncio.run(result)  # type: ignore[arg-type]
    message = str(raised.value)
    missing = [part for part in says if part not in message]
    assert not missing, f"{missing!r} not in {message!r}"


def test_case_names_are_unique() -> None:
    names = [row[0] for row in CASES]
    assert len(names) == len(set(names))
