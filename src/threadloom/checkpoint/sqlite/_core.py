"""The SQLite checkpointer core: the shared ``_sql_core.SqlCore`` on SQLite's statements.

Only ``setup`` is SQLite's own (pragmas, WAL, checks of the file, migrations created on first
use: ``_checks.open_file``), the token that says nothing changed (``_sql_head``) and, for
speed, steps written on the head this saver kept (``put_steps``); every other operation is the
shared generator of effects, run by ``SqliteSaver`` (``sqlite3``) and ``AsyncSqliteSaver``
(``aiosqlite``). The drivers hold the saver's lock for a whole operation.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, TypeVar, cast

from threadloom.checkpoint._put import PutPlan, plan_rows, remember
from threadloom.checkpoint._records import expects_head
from threadloom.checkpoint._sql_chains import answer_chains, relay
from threadloom.checkpoint._sql_core import EncodedStep, SqlCore
from threadloom.checkpoint._sql_head import BlobKey, KeptHead
from threadloom.checkpoint.base import StepSave
from threadloom.checkpoint.serde.base import SerializerProtocol
from threadloom.checkpoint.sqlite import _statements as sql
from threadloom.checkpoint.sqlite._checks import database_path, open_file
from threadloom.checkpoint.sqlite._effects import Exec, Fetch, Steps

if TYPE_CHECKING:
    from langchain_core.runnables import RunnableConfig

Version = str | int | float

__all__ = ["SqliteCore"]

T = TypeVar("T")


class SqliteCore(SqlCore):
    """Every checkpoint operation of one SQLite connection, as generators of effects."""

    metadata_json_only = True  # a TEXT column gives back its text; ``HEADERS_AT`` reads it

    def __init__(self, synchronous: str = "NORMAL") -> None:
        super().__init__(sql)
        self.synchronous = synchronous
        self.path: str | None = None
        """The database file, learnt by ``setup`` (for messages)."""

    def setup(self) -> Steps[None]:
        """Pragmas, WAL, checks, then create or upgrade the tables (``_checks.open_file``).
        Every operation runs this first (a no-op once done)."""
        if self.is_setup:
            return
        self.path = yield from database_path()  # first: every later error names the file
        yield from open_file(self.synchronous, self.path)
        self.is_setup = True

    def head_token(self) -> Steps[Any]:
        rows = yield Fetch(sql.HEAD_TOKEN)
        return tuple(rows[0])

    def token_after_put(self, upserted: Any) -> Any:
        if not upserted:  # SQLite before 3.35: no RETURNING, no kept heads
            return None
        data_version, changes, has_writes = upserted[0]
        if has_writes:  # saved before their checkpoint: a kept head would leave them out
            return None
        return (data_version, changes + 1)

    # -- reading: a list's chain in one query (``_sql_chains``) ---------------------------------

    def _rows_read(self, steps: Steps[T]) -> Steps[T]:
        answer = answer_chains(self.tracker, sql.BLOB_ROWS, sql.BLOB_CHAINS, sql.version_of)
        return relay(steps, answer)

    # -- writing steps on the kept head -------------------------------------------------------

    def put_steps(
        self, serde: SerializerProtocol, steps: Sequence[StepSave]
    ) -> Steps[RunnableConfig]:
        """Steps in one transaction, as ``SqlCore.put_steps``; when this saver keeps the head
        of the thread (it wrote or read it last), without reading the head or the stored
        versions first (``_put_on_kept``)."""
        encoded = [self.encode_step(serde, *step) for step in steps]
        yield from self.setup()
        first = encoded[0]
        kept = self.heads.get(first.thread_id, first.ns)
        if kept is not None:
            done = yield from self._put_on_kept(encoded, kept)
            if done is not None:
                return done
        return (yield from self.put_checked(*encoded))

    def _put_on_kept(
        self, steps: list[EncodedStep], kept: KeptHead
    ) -> Steps[RunnableConfig | None]:
        """Write ``steps`` as if the database were as it was when ``kept`` was kept, then
        check that it was; if not, roll back and return None (the caller runs the general
        path).

        Planned on ``kept``: the head is its checkpoint, the stored pairs are its rows (the delta
        bases must be among them) and, for a later step, the rows of the steps before it;
        nothing else is stored. The writes and the new value rows (``INSERT OR IGNORE``) count
        the rows they change; the last checkpoint's ``UPSERT`` returns the token as of just
        before its row (the earlier ones return nothing: the token only grows, and no other
        connection commits while this one holds the write lock). If every value row went in and
        the token is the kept one plus exactly the rows this transaction changed, no other
        statement changed the database since ``kept``: the plan was right, and the steps
        commit. Two statements a step fewer than ``put_checked`` (``HEAD_ID``,
        ``STORED_VERSIONS``), and the same rows written; the steps' value rows go in by one
        statement, their earlier checkpoints by one more (a round trip into SQLite each)."""
        rows, head = kept.rows, kept.header[1]
        planned: list[tuple[EncodedStep, PutPlan, str]] = []
        for step in steps:
            plan = self._plan_on(step, rows, head)
            if plan is None:
                return None
            planned.append((step, plan, head))
            if len(planned) < len(steps):  # what the next step finds stored
                thread_id, ns = step.thread_id, step.ns
                rows = {**rows, **{(thread_id, ns, ch, v): row for ch, v, row in plan.rows}}
                head = step.row[2]
        yield self._begin_write
        kept_version, changed = cast(tuple[int, int], kept.token)
        *earlier, (step, plan, head) = planned
        for before, _plan, _head in planned:
            for statement, write_rows in before.writes:
                if write_rows:
                    changed += yield Exec(statement, write_rows)
        # no row twice: a later step was planned on the earlier steps' rows as stored
        blobs = self.blob_rows(step, plan)
        for before, before_plan, _head in earlier:
            blobs += self.blob_rows(before, before_plan)
        if blobs:
            inserted = yield Exec(sql.INSERT_NEW_BLOB, blobs)
            if inserted != len(blobs):  # a row was there already: the plan was wrong
                yield Fetch(sql.ROLLBACK)
                return None
            changed += inserted
        if earlier:  # the token only grows: the last checkpoint's checks all
            yield Exec(sql.REPLACE_CHECKPOINT, [before.row for before, _plan, _head in earlier])
            changed += len(earlier)
        upserted = yield Fetch(sql.UPSERT_CHECKPOINT, step.row)
        if tuple(upserted[0][:2]) != (kept_version, changed):
            yield Fetch(sql.ROLLBACK)
            return None
        yield self._commit
        for before, before_plan, _head in earlier:  # only the last is kept as the head
            remember(self.tracker, before.thread_id, before.ns, before_plan)
        carried = [row for _step, before_plan, _head in earlier for row in before_plan.rows]
        return self.committed(step, plan, head, self.token_after_put(upserted), carried)

    def _plan_on(self, step: EncodedStep, rows: Mapping[BlobKey, Any], head: str) -> PutPlan | None:
        """``step``'s plan on a head whose value rows are ``rows``; None when a delta base is
        not among them or the step expects another head (the general path decides)."""
        if not expects_head(step.configurable, head):
            return None  # decided on the head read under the lock
        thread_id, ns, values = step.thread_id, step.ns, step.values
        stored: set[tuple[str, Version]] = set()
        for channel, version in step.new_versions.items():
            if rows.get((thread_id, ns, channel, version)) is not None:
                stored.add((channel, version))  # the head's own version: stored
            if type(values.get(channel)) is list:
                known = self.tracker.get((thread_id, ns, channel))
                if known is not None:
                    if rows.get((thread_id, ns, channel, known.version)) is None:
                        return None  # a delta base this saver cannot vouch for
                    stored.add((channel, known.version))
        # ``plan_put`` once the head is checked: the shared rows of ``_put.plan_rows``.
        return plan_rows(step.serde, thread_id, ns, values, step.new_versions, stored, self.tracker)
