"""The PostgreSQL checkpointer core: the shared ``_sql_core.SqlCore`` on PostgreSQL statements.

Every operation is the shared generator of effects (``_sql_core``), run on PostgreSQL's
statements (``_statements``). ``as_unit`` turns one such operation into a unit of work of
``threadloom._postgres``, which both drivers (``PostgresSaver`` on psycopg, ``AsyncPostgresSaver``
on psycopg's async API) run in one transaction, retried once when the connection dropped before
``COMMIT``, with driver errors translated into ``StorageError``. Two operations are PostgreSQL's
own for speed: a step (``put_step``) is one statement planned on what the saver knows is stored,
and the head (``get_tuple``) is read in two statements; both run without a transaction and fall
back to the shared operation when the database says the saver's knowledge is stale.

Only the setup is PostgreSQL's own: ``setup()`` applies versioned migrations under an advisory
lock (``_postgres.migrate``), and the first operation of a saver checks that the database is set
up (``checked``), its reads sent with the operation's first statement in one round trip: a
forgotten ``setup()`` or a LangGraph database is a clear error, never "relation does not
exist".
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable, Generator, Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any, Final, TypeVar, cast

from threadloom._postgres import (
    Batch,
    Query,
    QueryMany,
    migrate,
    resume,
    setup_queries,
    setup_state,
)
from threadloom._postgres import Steps as UnitSteps
from threadloom._postgres._arrays import BoolArray, ByteaArray, IntArray, TextArray
from threadloom.checkpoint._arguments import thread_key
from threadloom.checkpoint._header import pack_header, unpack_header
from threadloom.checkpoint._put import PutPlan, plan_put, probe, remember
from threadloom.checkpoint._records import (
    dumps_fast,
    encode_metadata,
    split_checkpoint,
    thread_config,
)
from threadloom.checkpoint._sql_chains import answer_chains, mark_deep
from threadloom.checkpoint._sql_chains import relay as _relay
from threadloom.checkpoint._sql_core import SqlCore
from threadloom.checkpoint._sql_effects import Exec, Fetch, Steps
from threadloom.checkpoint.base import (
    CONFIG_KEY_EXPECTED_HEAD,
    ChannelVersions,
    Checkpoint,
    CheckpointMetadata,
    CheckpointTuple,
    PruneStrategy,
    StepSave,
    TaskWrites,
    get_checkpoint_metadata,
)
from threadloom.checkpoint.postgres import _migrations
from threadloom.checkpoint.postgres import _statements as sql
from threadloom.checkpoint.postgres._known_rows import KnownRows, Row
from threadloom.checkpoint.postgres._packed_statements import (
    PACKED_COLUMNS,
    PACKED_PARAMS,
    PATH_COLUMNS,
    packed_params,
)
from threadloom.checkpoint.postgres._packing import pack, pack_metadata, pack_path, unpack_rows
from threadloom.checkpoint.serde.base import SerializerProtocol, shared_encodings
from threadloom.errors import LangGraphDatabaseError, StorageError

if TYPE_CHECKING:
    from langchain_core.runnables import RunnableConfig

__all__ = ["PgCore", "as_unit", "once"]

T = TypeVar("T")

_MARKERS = frozenset({sql.BEGIN_WRITE, sql.BEGIN_READ, sql.COMMIT})
_SOLO = frozenset(
    {
        sql.PUT_STEP,
        sql.PUT_STEPS,
        sql.HEAD_WITH_WRITES,
        sql.BLOB_ROWS_OF_LIVE,
        sql.BLOB_CHAINS_OF_LIVE,
    }
)
"""Statements that stand alone: run outside a transaction while the unit has opened none."""
_SOLO_READS = frozenset({sql.HEAD_WITH_WRITES, sql.BLOB_ROWS_OF_LIVE, sql.BLOB_CHAINS_OF_LIVE})
"""Solo statements that only read: one may go in the setup check's ``Batch`` (``checked``)."""


class PgCore(SqlCore):
    """Every checkpoint operation of one PostgreSQL saver, as generators of effects."""

    tracker: KnownRows
    metadata_json_only = True  # the ``json`` column gives back the text it was given

    def __init__(self, owner: str) -> None:
        super().__init__(sql)
        self.tracker = KnownRows()
        self.migrations = dataclasses.replace(_migrations.MIGRATIONS, owner=owner)

    def setup(self) -> Steps[None]:
        """Nothing inside an operation: the driver runs ``check_setup`` once before the first."""
        return
        yield  # pragma: no cover

    def migrate(self) -> UnitSteps[None]:
        """Create or upgrade the tables (idempotent, safe from several workers at once)."""
        rows = yield self._catalog()
        self._refuse_langgraph(*rows[0])
        yield from migrate(self.migrations)
        self.is_setup = True

    def unit(self, steps: Steps[T]) -> UnitSteps[T]:
        """One operation as the driver's unit of work (``as_unit``), checking the setup with
        it while this saver has not (``checked``)."""
        unit = as_unit(steps)
        return unit if self.is_setup else self.checked(unit)

    def checked(self, unit: UnitSteps[T]) -> UnitSteps[T]:
        """``unit``, after checking that ``setup()`` made this database ready (creates nothing):
        the check's reads go in one ``Batch`` with the unit's first statement when it is a solo
        read (the head read of a fresh saver's ``get_tuple``): one round trip for both, where
        the check alone took three. A database not set up raises before the statement's own
        error (a missing table) is looked at. A first statement that writes (a step) runs only
        after the check passed, so nothing is ever written to a schema of another version."""
        try:
            first = next(unit)
        except StopIteration as done:
            yield from self._check(())
            return cast(T, done.value)
        if not (isinstance(first, Query) and first.sql in _SOLO_READS):
            yield from self._check(())  # a write waits: nothing written to a bad schema
            return (yield from resume(unit, (yield first)))
        (outcome,) = yield from self._check((first,))
        if isinstance(outcome, BaseException):
            raise outcome
        return (yield from resume(unit, outcome))

    def _check(self, then: tuple[Query, ...]) -> UnitSteps[list[Any]]:
        """Raise unless the database is threadloom's and at this version; the results of
        ``then``, sent in the same ``Batch``."""
        version = setup_queries(self.migrations)[1]
        results = yield Batch((self._catalog(), version, *then))
        if isinstance(results[0], BaseException):
            raise results[0]
        ((database, found, ours),) = results[0]
        self._refuse_langgraph(database, found, ours)
        setup_state(self.migrations, ours, results[1])
        self.is_setup = True
        return list(results[2:])

    # -- reading the head: two statements, no transaction -------------------------------------

    def get_tuple(
        self, serde: SerializerProtocol, config: RunnableConfig
    ) -> Steps[CheckpointTuple | None]:
        """The head in at most two statements without a transaction (``sql.HEAD_WITH_WRITES``,
        then ``sql.BLOB_ROWS_OF_LIVE`` for the value rows this saver does not hold, module
        ``_known_rows``): one round trip when this worker wrote the head, instead of seven. The
        shared read runs unchanged; its statements are answered from these. If the head is
        deleted between them (a prune or ``delete_thread``), the read starts again in one
        snapshot."""
        if config["configurable"].get("checkpoint_id") is not None:
            return (yield from _relay(super().get_tuple(serde, config), self._chains))
        try:
            return (yield from _head_read(super().get_tuple(serde, config), self.tracker))
        except _HeadGone:
            return (yield from _relay(super().get_tuple(serde, config), self._chains))

    def list_checkpoints(
        self,
        serde: SerializerProtocol,
        config: RunnableConfig | None,
        filter: Mapping[str, Any] | None,
        before: RunnableConfig | None,
        limit: int | None,
    ) -> Steps[None]:
        """``SqlCore.list_checkpoints``, each list's chain read in one statement when this
        saver cannot stop its walk early (``_chains``)."""
        steps = super().list_checkpoints(serde, config, filter, before, limit)
        return (yield from _relay(steps, self._chains))

    def _chains(self, effect: Any) -> Generator[Any, Any, Any]:
        """Answers the shared reads' ``BLOB_ROWS`` with ``BLOB_CHAINS`` (``_sql_chains``): the
        keys whose walk would go down to a full value bring their whole chain in the same
        statement, instead of one query per level of it."""
        answer = answer_chains(self.tracker, sql.BLOB_ROWS, sql.BLOB_CHAINS, sql.version_of)
        return (yield from answer(effect))

    # -- writing: one statement per step (or per pair of steps) ---------------------------------

    def put_step(
        self,
        serde: SerializerProtocol,
        config: RunnableConfig,
        writes: Sequence[TaskWrites],
        checkpoint: Checkpoint,
        metadata: CheckpointMetadata,
        new_versions: ChannelVersions,
    ) -> Steps[RunnableConfig]:
        """The step in one statement (``sql.PUT_STEP``, one round trip) planned on what this
        saver knows is stored: the head the run expects and the delta bases it last wrote or
        read. When the database says otherwise (another worker moved the head, pruned a base),
        nothing is written and the general path runs (``SqlCore.put_checked_steps``: it reads
        what is stored under the lock, then writes, or raises ``CheckpointConflictError``)."""
        step = (config, writes, checkpoint, metadata, new_versions)
        return (yield from self.put_steps(serde, (step,)))

    def put_steps(
        self, serde: SerializerProtocol, steps: Sequence[StepSave]
    ) -> Steps[RunnableConfig]:
        """One step as ``put_step``; two (a run's input checkpoint and the step after it) in
        one statement too (``sql.PUT_STEPS``: the second is written only once the first is,
        in the same transaction). A step the database finds stale is written, with those
        after it, on the general path; the ones before it are committed."""
        fast = [_FastStep.of(self, serde, *step) for step in steps]
        if None in fast or len(fast) > 2:
            return (yield from self.put_checked_steps(serde, steps))
        made = cast(list[_FastStep], fast)
        if len(made) == 1:
            statuses = (yield Fetch(sql.PUT_STEP, made[0].params))[0]
        else:
            last = made[-1]
            params = [last.thread_id, last.ns, last.checkpoint_id, *made[0].params, *last.params]
            statuses = (yield Fetch(sql.PUT_STEPS, params))[0]
        for at, (status, step) in enumerate(zip(statuses, made, strict=True)):
            if status == "stale":  # nothing of it written: the general path, from this one
                return (yield from self.put_checked_steps(serde, steps[at:]))
            step.committed(self.tracker)
        return thread_config(made[-1].thread_id, made[-1].ns, made[-1].checkpoint_id)

    def put_writes(
        self,
        serde: SerializerProtocol,
        config: RunnableConfig,
        writes: Sequence[tuple[str, Any]],
        task_id: str,
        task_path: str,
    ) -> Steps[None]:
        """One task's writes in one statement (one round trip)."""
        return (yield from self.put_writes_batch(serde, config, [(task_id, task_path, writes)]))

    def put_writes_batch(
        self, serde: SerializerProtocol, config: RunnableConfig, writes: Sequence[TaskWrites]
    ) -> Steps[None]:
        """Several tasks' writes in one statement (one round trip, one transaction)."""
        groups = [self._write_rows(serde, config, w, task_id, path) for task_id, path, w in writes]
        configurable = config["configurable"]
        thread_id, ns = thread_key(configurable["thread_id"]), configurable.get("checkpoint_ns", "")
        yield Fetch(sql.PUT_STEP, _step_params(thread_id, ns, None, False, None, [], [], groups))

    # -- lifecycle: the shared operations, with what this layout adds -------------------------

    def prune(
        self,
        serde: SerializerProtocol,
        thread_ids: Sequence[str],
        strategy: PruneStrategy,
        keep_last: int | None,
        before: datetime | None,
    ) -> Steps[None]:
        """``SqlCore.prune``, given each checkpoint's ``ts`` from its header, the text as written
        (the ``ts`` column is a ``timestamptz``, NULL for a text that is not a time:
        ``sql.PRUNE_INFO``)."""

        def answer(effect: Any) -> Generator[Any, Any, Any]:
            rows = yield effect
            if isinstance(effect, Fetch) and effect.sql == sql.PRUNE_INFO:
                return [
                    (ns, id_, parent, _ts(serde, tag, data, id_), interrupted)
                    for ns, id_, parent, tag, data, interrupted in rows
                ]
            return rows

        steps = super().prune(serde, thread_ids, strategy, keep_last, before)
        return (yield from _relay(steps, answer))

    def _collect(self, serde: SerializerProtocol, thread_id: str) -> Steps[None]:
        """Before the thread's unused values go, its writes stored as references to value rows
        are stored whole again (``sql.STORE_REFERENCES``); after, a thread left without
        checkpoints loses its other rows, its ``tid`` too (``sql.DELETE_VALUES_AND_WRITES``)."""
        yield Fetch(sql.STORE_REFERENCES, (thread_id,))
        yield from super()._collect(serde, thread_id)
        for statement in sql.DELETE_VALUES_AND_WRITES:
            yield Fetch(statement, (thread_id,))

    def _catalog(self) -> Query:
        """``_CATALOG``'s read: a solo statement (no transaction)."""
        return Query(_CATALOG, (list(sql.LANGGRAPH_TABLES), self.migrations.table), solo=True)

    def _refuse_langgraph(self, database: str, found: list[str], ours: bool) -> None:
        """A database with LangGraph's checkpoint tables and not threadloom's is LangGraph's
        (``_CATALOG``'s row: the database, the LangGraph tables found, whether ours exist)."""
        if ours or not {"checkpoints", "checkpoint_migrations"} <= set(found):
            return
        error = LangGraphDatabaseError(database, "checkpoint database", found, "docs/postgres.md")
        error.args = (
            f"Database {database!r} holds LangGraph's checkpoint tables ({', '.join(found)}), "
            f"not threadloom's. {self.migrations.owner} keeps its own tables and does not read "
            "or change LangGraph's, so the threads saved there would not be seen: point the saver "
            "at another database, or at another schema of this one (e.g. add "
            "'options=-csearch_path=threadloom' to the connection string after "
            "'CREATE SCHEMA threadloom'). To bring the threads along, run `threadloom migrate "
            "LANGGRAPH_DSN --dsn THREADLOOM_DSN`. See docs/postgres.md and "
            "docs/coming-from-langgraph.md.",
        )
        raise error


def _ts(serde: SerializerProtocol, tag: str, data: bytes, checkpoint_id: str) -> str:
    """The ``ts`` of a stored header."""
    return str(unpack_header(serde.loads_typed((tag, data)), checkpoint_id)["ts"])


_CATALOG: Final = (
    "SELECT current_database(), array(SELECT t FROM unnest(%s::text[]) t "
    "WHERE to_regclass(t) IS NOT NULL), to_regclass(%s) IS NOT NULL"
)
"""(LangGraph's tables, our record table): the database, those of LangGraph's found, and
whether ours is (``PgCore._refuse_langgraph``)."""


class _HeadGone(Exception):
    """The head read by ``HEAD_WITH_WRITES`` was deleted before its values were read."""


def _head_read(
    steps: Steps[CheckpointTuple | None], known: KnownRows
) -> Steps[CheckpointTuple | None]:
    """Runs ``SqlCore.get_tuple`` of a head, answering its statements from ``HEAD_WITH_WRITES``
    and ``BLOB_ROWS_OF_LIVE`` (module ``_statements``), and value rows from ``known`` where it
    holds them; raises ``_HeadGone`` if the head went before its values were read."""
    header: list[Any] = []
    writes: list[Any] = []
    first = True  # the first value rows asked for are the head's own versions

    def answer(effect: Any) -> Generator[Any, Any, Any]:
        nonlocal header, writes, first
        match effect:
            case Fetch(sql.HEAD_ADDRESS, params):
                rows = yield Fetch(sql.HEAD_WITH_WRITES, params)
                header = [rows[0][:8]] if rows else []
                writes = [(r[7], r[0], r[1], *r[8:]) for r in rows if r[8] is not None]
                return [(r[7], r[0], r[1]) for r in header]
            case Fetch(sql.HEADERS_AT, _):
                return header
            case Fetch(sql.BLOB_ROWS, (bound,)):
                rows = yield from _values_of_head(known, header[0], bound, first)
                first = False
                return rows
            case Fetch(sql.WRITES_AT, _):
                return writes
            case Fetch(sql.BEGIN_READ | sql.COMMIT, _):
                return []
        raise TypeError(f"Not a statement of a head read: {effect!r}.")

    return (yield from _relay(steps, answer))


def _values_of_head(
    known: KnownRows, header: tuple[Any, ...], bound: str, first: bool
) -> Generator[Any, Any, list[Row]]:
    """The value rows of the keys ``bound`` (``BLOB_ROWS``' parameter) for the head
    ``header``: those ``known`` holds, and the others read while the head still exists.
    ``first``: these are the head's own versions (remembered), not bases of its deltas."""
    ns, checkpoint_id, thread_id = header[0], header[1], header[7]
    rows: list[Row] = []
    missing = []
    for key in json.loads(bound):
        row = known.row(*key)
        if row is None:
            missing.append(key)
        else:
            rows.append(row)
    if missing:
        deep = mark_deep(known, missing, sql.version_of)
        statement = sql.BLOB_ROWS_OF_LIVE if deep is None else sql.BLOB_CHAINS_OF_LIVE
        found = yield Fetch(statement, (thread_id, ns, checkpoint_id, json.dumps(deep or missing)))
        if not found:
            raise _HeadGone
        found = [row for row in found if row[0] is not None]  # none stored: one row of NULLs
        if first:
            asked = {(key[2], key[3]) for key in missing}
            for row in found:
                if (row[2], row[3]) in asked:  # not the bases a chain brought along
                    known.remember_row(tuple(row))
        rows.extend(found)
    return rows


def _step_params(
    thread_id: str,
    ns: str,
    head_fields: tuple[Any, ...] | None,
    check: bool,
    expected: str | None,
    bases: list[tuple[str, Any]],
    blobs: list[Row],
    groups: list[tuple[str, list[tuple[Any, ...]]]],
) -> list[Any]:
    """The parameters of ``sql.PUT_STEP``: scalars, then each column of the value rows (as
    ``_value_rows`` gives them) and of the write rows as one array (``head_fields`` None:
    writes only)."""
    text = sql.version_text
    rows = [
        (
            row[3],
            pack_path(row[4]),
            *row[5:7],
            *pack(row[7], row[8]),
            statement is sql.REPLACE_WRITES,
        )
        for statement, group in groups
        for row in group
    ]
    write_checkpoint = groups[0][1][0][2] if rows else None
    return [
        thread_id,
        ns,
        *(head_fields or (None,) * 9),
        check,
        expected,
        TextArray([ch for ch, _v in bases]),
        TextArray([text(v) for _ch, v in bases]),
        *_columns([(*row[2:5], *pack(row[5], row[6]), *row[7:]) for row in blobs], _VALUE_COLUMNS),
        write_checkpoint,
        *_columns(rows, _WRITE_COLUMNS),
    ]


def _value_rows(thread_id: str, ns: str, plan: PutPlan) -> list[Row]:
    """The new value rows of a step as ``BLOB_ROWS`` reads them back (``_known_rows.Row``)."""
    text = sql.version_text
    return [
        (
            thread_id,
            ns,
            ch,
            text(v),
            r.kind,
            r.type,
            r.data,
            None if r.base_version is None else text(r.base_version),
            r.index,
            r.length,
        )
        for ch, v, r in plan.rows
    ]


_VALUE_COLUMNS: Final = (TextArray,) * 4 + (ByteaArray, TextArray, IntArray, IntArray)
"""channel, version, kind, type, data, base version, delta index, length"""
_WRITE_COLUMNS: Final = (TextArray,) * 2 + (IntArray, TextArray, TextArray, ByteaArray, BoolArray)
"""task, path, idx, channel, type, value, replaces"""


def _columns(rows: list[tuple[Any, ...]], kinds: tuple[type[list[Any]], ...]) -> list[list[Any]]:
    """Rows as one typed array per column (``_postgres._arrays``), unnested by the statement."""
    if not rows:
        return [kind() for kind in kinds]
    return [kind(column) for kind, column in zip(kinds, zip(*rows, strict=True), strict=True)]


def as_unit(steps: Steps[T]) -> UnitSteps[T]:
    """One core operation as a ``threadloom._postgres`` unit of work.

    The unit runs in the driver's transaction, so the core's transaction markers run nothing,
    except a read that opens the transaction: it becomes a ``REPEATABLE READ, READ ONLY``
    snapshot, so a header and its values are read from one state of the database. Values,
    writes and headers are packed as they go in and unpacked as they come out (``_packing``).
    """
    opened = False  # whether the driver opened the unit's transaction (not for solo statements)

    def answer(effect: Any) -> Generator[Any, Any, Any]:
        nonlocal opened
        match effect:
            case Fetch(sql.BEGIN_READ, _) if not opened:
                opened = True
                return (yield Query(sql.READ_ONLY_SNAPSHOT))
            case Fetch(statement, _) if statement in _MARKERS:
                return []
            case Fetch(statement, params):
                solo = statement in _SOLO
                opened = opened or not solo
                if statement in PACKED_PARAMS:
                    params = packed_params(statement, params)
                rows = yield Query(statement, params, solo=solo)
                packed = PACKED_COLUMNS.get(statement)
                if packed is None:
                    return rows
                return unpack_rows(rows, packed, PATH_COLUMNS.get(statement))
            case Exec(statement, rows):
                opened = opened or bool(rows)
                if statement in PACKED_PARAMS:
                    rows = [packed_params(statement, row) for row in rows]
                return (yield QueryMany(statement, rows)) if rows else None
        raise TypeError(f"A PostgreSQL saver cannot carry out {effect!r}.")

    return (yield from _relay(steps, answer))


def once(make: Callable[[], T], what: str) -> Callable[[], T]:
    """``make`` for a unit that continues a listing, which cannot be run twice: a second call
    (the driver retrying after the connection dropped) is an error naming the fix."""
    calls = 0

    def unit() -> T:
        nonlocal calls
        calls += 1
        if calls > 1:
            raise StorageError(
                f"The connection to PostgreSQL dropped while {what}; the listing cannot go on. "
                "Start the listing again (a connection pool replaces the dropped connection)."
            )
        return make()

    return unit


class _FastStep:
    """A step encoded and planned for ``sql.PUT_STEP`` on what the saver knows is stored."""

    __slots__ = ("blobs", "checkpoint_id", "ns", "params", "plan", "thread_id")

    def __init__(
        self, thread_id: str, ns: str, checkpoint_id: str, plan: PutPlan, blobs: list[Row]
    ) -> None:
        self.thread_id, self.ns, self.checkpoint_id = thread_id, ns, checkpoint_id
        self.plan, self.blobs = plan, blobs
        self.params: list[Any] = []
        """``sql.PUT_STEP``'s parameters."""

    @classmethod
    def of(
        cls,
        core: PgCore,
        serde: SerializerProtocol,
        config: RunnableConfig,
        writes: Sequence[TaskWrites],
        checkpoint: Checkpoint,
        metadata: CheckpointMetadata,
        new_versions: ChannelVersions,
    ) -> _FastStep | None:
        """The step planned on the head the run expects and the bases ``core`` knows; None
        when a base it knows is one of the new versions (the general path decides)."""
        tracker = core.tracker
        if writes:  # a Send in the writes and in the checkpoint's packets is encoded once
            serde = shared_encodings(serde)
        configurable = config["configurable"]
        thread_id, ns = thread_key(configurable["thread_id"]), configurable.get("checkpoint_ns", "")
        header, values = split_checkpoint(checkpoint)
        pairs = probe(tracker, thread_id, ns, values, new_versions)
        bases = pairs[len(new_versions) :]
        if not set(bases).isdisjoint(new_versions.items()):  # cannot be both stored and new
            return None
        check = CONFIG_KEY_EXPECTED_HEAD in configurable
        expected = configurable.get(CONFIG_KEY_EXPECTED_HEAD)
        tag, data = pack(*dumps_fast(serde, pack_header(header), "checkpoint"))
        merged = get_checkpoint_metadata(config, metadata)  # keeps `writes`, as LangGraph
        meta_tag, meta_data, meta_json = encode_metadata(serde, merged, PgCore.metadata_json_only)
        address = (thread_id, ns, configurable.get("checkpoint_id"))
        groups = [core._write_rows_at(serde, address, w, tid, path) for tid, path, w in writes]
        plan = plan_put(
            serde, configurable, thread_id, ns, expected, values, new_versions, set(bases), tracker
        )
        head_fields: tuple[Any, ...] = (checkpoint["id"], configurable.get("checkpoint_id"), tag)
        head_fields += (data, meta_tag, meta_data, pack_metadata(meta_json), checkpoint["ts"])
        head_fields += (merged.get("run_id"),)
        step = cls(thread_id, ns, checkpoint["id"], plan, _value_rows(thread_id, ns, plan))
        step.params = _step_params(
            thread_id, ns, head_fields, check, expected, bases, step.blobs, groups
        )
        return step

    def committed(self, tracker: KnownRows) -> None:
        """The statement committed the step: its lists are the next bases, its rows known."""
        remember(tracker, self.thread_id, self.ns, self.plan)
        for row in self.blobs:
            tracker.remember_row(row)
