"""How threadloom sets up PostgreSQL connections: one set of rules for both drivers.

=========================  ===================================================================
setting                    why
=========================  ===================================================================
``autocommit=True``        threadloom opens its own transaction per unit of work; a connection
                           left in implicit-transaction mode would hold locks until the caller
                           commits. Set on connections threadloom opens and switched on for a
                           caller's idle connection, instead of failing.
``prepare_threshold=None`` no server-side prepared statements, so a pooler in transaction mode
                           (PgBouncer) never sees a statement prepared on another server
                           connection. ``prepare=True`` asks for psycopg's default behaviour.
tuple rows                 threadloom reads rows by position through its own cursors, whatever
                           ``row_factory`` the caller's connection has.
``BinaryParam`` dumper     a parameter already in PostgreSQL's binary wire form (e.g. a query
                           vector) is sent as is, its type left to the statement's cast: no
                           text to format in Python or parse on the server.
=========================  ===================================================================

A caller's connection in a *failed* transaction is refused with a clear error (threadloom never
rolls back work it did not start); one inside an open transaction of the caller is used as is,
and threadloom's units become savepoints of that transaction.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Final

from psycopg import ProgrammingError
from psycopg.adapt import Dumper, PyFormat
from psycopg.pq import Format, TransactionStatus

from threadloom.errors import ConnectionStateError

__all__ = [
    "CONNECT_KWARGS",
    "BinaryParam",
    "check_usable",
    "needs_autocommit",
    "pool_kwargs",
    "use_binary_params",
]

CONNECT_KWARGS: Final[Mapping[str, Any]] = {"autocommit": True, "prepare_threshold": None}
"""Keyword arguments of every connection threadloom opens."""

_POOL_KEYS: Final = frozenset(
    {"min_size", "max_size", "max_idle", "max_lifetime", "timeout", "name", "reconnect_timeout"}
)


def pool_kwargs(pool_config: Mapping[str, Any], *, prepare: bool) -> dict[str, Any]:
    """``ConnectionPool(...)`` keyword arguments from a LangGraph-style ``pool_config``.

    ``pool_config["kwargs"]`` are extra connection arguments (merged over threadloom's), the
    other keys are the pool's own (``min_size``, ``max_size``, ...).
    """
    unknown = set(pool_config) - _POOL_KEYS - {"kwargs"}
    if unknown:
        raise ValueError(
            f"Unknown pool_config key(s) {sorted(unknown)!r}; use {sorted(_POOL_KEYS)!r} and "
            "'kwargs' (connection arguments)."
        )
    connect = dict(CONNECT_KWARGS)
    if prepare:
        connect.pop("prepare_threshold")
    connect.update(pool_config.get("kwargs") or {})
    config = {k: v for k, v in pool_config.items() if k not in ("kwargs", "timeout")}
    config.setdefault("min_size", 1)
    if "timeout" in pool_config:
        config["timeout"] = float(pool_config["timeout"])
    return {"kwargs": connect, **config}


def check_usable(conn: Any) -> None:
    """Refuse a connection threadloom cannot run a transaction on, naming the fix."""
    if conn.closed:
        raise ConnectionStateError(
            "The PostgreSQL connection given to threadloom is closed. Pass an open connection, "
            "or better a connection pool or a connection string, so threadloom can reconnect."
        )
    if conn.info.transaction_status == TransactionStatus.INERROR:
        raise ConnectionStateError(
            "The PostgreSQL connection is in a failed transaction (an earlier statement on it "
            "failed), so threadloom cannot use it: nothing was run. Roll it back first "
            "(conn.rollback()), or give threadloom a pool or a connection of its own."
        )


class BinaryParam:
    """A statement parameter given in PostgreSQL's binary wire form of its type.

    Sent with no type (OID 0), so the statement must say it: ``%s::vector(384)``. The server
    reads it with the type's binary input function (pgvector's ``vector_recv`` for a vector).
    ``text`` gives the same value's text form, used only where parameters are bound as text
    (a connection whose ``cursor_factory`` is ``psycopg.ClientCursor``).
    """

    __slots__ = ("data", "text")

    def __init__(self, data: bytes, text: Callable[[], str]) -> None:
        self.data = data
        self.text = text

    def __repr__(self) -> str:
        return f"BinaryParam(<{len(self.data)} bytes>)"


class _BinaryParamDumper(Dumper):
    format = Format.BINARY
    oid = 0  # unknown: the server takes the type from the cast in the statement

    def dump(self, obj: Any) -> bytes:
        return obj.data  # type: ignore[no-any-return]


class _BinaryParamTextDumper(Dumper):
    oid = 0

    def dump(self, obj: Any) -> bytes:
        return obj.text().encode()  # type: ignore[no-any-return]


def use_binary_params(conn: Any) -> None:
    """Let ``conn`` send :class:`BinaryParam` values (registered on the connection's own
    adapters; idempotent, and no other type's adaptation changes)."""
    try:
        conn.adapters.get_dumper(BinaryParam, PyFormat.AUTO)
    except ProgrammingError:
        # the text dumper first: a ``%s`` placeholder takes the last one registered (binary)
        conn.adapters.register_dumper(BinaryParam, _BinaryParamTextDumper)
        conn.adapters.register_dumper(BinaryParam, _BinaryParamDumper)


def needs_autocommit(conn: Any) -> bool:
    """Whether to switch ``conn`` to autocommit (only an idle connection can switch)."""
    return not conn.autocommit and conn.info.transaction_status == TransactionStatus.IDLE
