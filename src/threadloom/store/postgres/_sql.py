"""Everything PostgresStore says to PostgreSQL: schema, migrations, statements, vector settings.

The sync and async stores run exactly these statements; nothing here touches a connection.

Encoding decisions (shared with SqliteStore where the databases allow, so rows decode alike):

- A namespace is stored as its labels joined by ``.`` with a trailing ``.`` (``"memories.1."``)
  in a ``COLLATE "C"`` column. Labels never contain ``.``, so the namespaces under a prefix are one
  B-tree range, ``prefix >= 'memories.1.' AND prefix < 'memories.1/'``: no ``LIKE`` pattern to
  escape, and ``("memories", "1")`` never matches ``("memories", "10")`` or ``("memories", "1%")``.
- Values are ``jsonb`` (filters run in SQL over them); timestamps are integer microseconds since
  the epoch, so ``updated_at DESC`` orders writes exactly; ``expires_at`` is epoch seconds.
- Vectors live in pgvector, one row per embedded field, with a copy of the item's prefix so a
  search inside one namespace reads only that namespace's vectors, and a count of vectors per
  namespace kept by statement triggers. The vector table depends on the ``index``
  configuration (dims, ``vector`` or ``halfvec``), so ``setup()`` creates it (idempotently)
  after the versioned migrations, in the same transaction, and the HNSW index once the table
  is large enough to need one (``EXACT_CANDIDATES``).
- Tables are named ``threadloom_store*``: a database that also holds LangGraph's ``store`` tables
  keeps both apart.
"""

from __future__ import annotations

import json
import struct
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

import numpy as np

from threadloom._postgres import BinaryParam, Migrations
from threadloom.store.sqlite._sql import encode_namespace

__all__ = [
    "ITEM_COLUMNS",
    "MIGRATIONS",
    "VectorSpec",
    "prefix_range",
]

MIGRATIONS: Final = Migrations(
    "threadloom_store_migrations",
    (
        # 0: items; UNIQUE (prefix, key) is also the index prefix range scans use.
        "CREATE TABLE threadloom_store ("
        " id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,"
        ' prefix text COLLATE "C" NOT NULL,'
        " key text NOT NULL,"
        " value jsonb NOT NULL,"
        " created_at bigint NOT NULL,"
        " updated_at bigint NOT NULL,"
        " expires_at double precision,"
        " ttl_minutes double precision,"
        " UNIQUE (prefix, key))",
        # 1: the newest-first page over everything reads this index instead of sorting.
        "CREATE INDEX threadloom_store_updated_idx"
        " ON threadloom_store (updated_at DESC, prefix, key)",
        # 2: the sweeper finds expired rows without a scan.
        "CREATE INDEX threadloom_store_expires_idx ON threadloom_store (expires_at)"
        " WHERE expires_at IS NOT NULL",
    ),
    owner="PostgresStore",
)
"""Append-only: never edit a shipped migration, add a new one."""

ITEMS: Final = "threadloom_store"

LANGGRAPH_STORE_BESIDE_EMPTY: Final = (
    "SELECT to_regclass('store_migrations') IS NOT NULL AND to_regclass('store') IS NOT NULL"
    " AND NOT EXISTS (SELECT 1 FROM threadloom_store)"
)
"""Whether LangGraph's store tables are here while threadloom's store is still empty."""
LANGGRAPH_STORE_ITEMS: Final = "SELECT count(*) FROM store"
"""Items in LangGraph's store table (asked only once it is known to exist)."""
VECTORS: Final = "threadloom_store_vectors"
COUNTS: Final = "threadloom_store_vector_counts"

_COUNTED: Final = (
    # One row per namespace holding vectors (never a zero row), so a search knows in one index
    # range whether its namespaces hold few vectors (exact search) or many (the HNSW index).
    f'CREATE TABLE IF NOT EXISTS {COUNTS} (prefix text COLLATE "C" PRIMARY KEY, n bigint NOT NULL)',
    f"CREATE OR REPLACE FUNCTION {COUNTS}_keep() RETURNS trigger LANGUAGE plpgsql AS $$"
    " BEGIN"
    "  IF TG_OP = 'INSERT' THEN"
    f"   INSERT INTO {COUNTS} AS c (prefix, n)"
    "    SELECT prefix, count(*) FROM new_rows GROUP BY prefix ORDER BY prefix"
    "    ON CONFLICT (prefix) DO UPDATE SET n = c.n + excluded.n;"
    "  ELSE"
    f"   UPDATE {COUNTS} AS c SET n = c.n - d.n"
    "    FROM (SELECT prefix, count(*) AS n FROM old_rows GROUP BY prefix) d"
    "    WHERE c.prefix = d.prefix;"
    f"   DELETE FROM {COUNTS} WHERE n <= 0;"
    "  END IF;"
    "  RETURN NULL;"
    " END $$",
    f"CREATE OR REPLACE TRIGGER {VECTORS}_counted_insert AFTER INSERT ON {VECTORS}"
    f" REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION {COUNTS}_keep()",
    f"CREATE OR REPLACE TRIGGER {VECTORS}_counted_delete AFTER DELETE ON {VECTORS}"
    f" REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION {COUNTS}_keep()",
)

ITEM_COLUMNS: Final = (
    "s.id, s.prefix, s.key, s.value::text, s.created_at, s.updated_at, s.ttl_minutes, s.expires_at"
)
"""The columns ``threadloom.store.sqlite._sql.decode_item`` reads, in order."""

SELECT_GET: Final = f"SELECT {ITEM_COLUMNS} FROM {ITEMS} s WHERE s.prefix = %s AND s.key = %s"
SELECT_NAMESPACES: Final = f"SELECT DISTINCT prefix FROM {ITEMS}"
NEWEST_FIRST: Final = " ORDER BY s.updated_at DESC, s.prefix, s.key"
INSERTION_ORDER: Final = " ORDER BY s.id"
"""Items without a vector in a semantic search: in the order they were first put, as
LangGraph's InMemoryStore lists them (an update keeps the place; the id is kept)."""
NOT_EXPIRED: Final = "(s.expires_at IS NULL OR s.expires_at >= %s)"
HAS_NO_VECTORS: Final = f"NOT EXISTS (SELECT 1 FROM {VECTORS} v WHERE v.item_id = s.id)"

# Writes: one statement per kind for the whole batch (multi-row through unnest of arrays).
UPSERT_ITEMS: Final = (
    f"INSERT INTO {ITEMS} AS s"
    " (prefix, key, value, created_at, updated_at, expires_at, ttl_minutes)"
    " SELECT * FROM unnest(%s::text[], %s::text[], %s::jsonb[], %s::bigint[], %s::bigint[],"
    " %s::float8[], %s::float8[])"
    " ON CONFLICT (prefix, key) DO UPDATE SET value = excluded.value,"
    " updated_at = excluded.updated_at, expires_at = excluded.expires_at,"
    " ttl_minutes = excluded.ttl_minutes"  # created_at is kept (DECISIONS 10)
    " RETURNING s.id, s.prefix, s.key"
)
DELETE_ITEMS: Final = (
    f"DELETE FROM {ITEMS} WHERE (prefix, key) IN (SELECT * FROM unnest(%s::text[], %s::text[]))"
)
DELETE_VECTORS_OF_ITEMS: Final = f"DELETE FROM {VECTORS} WHERE item_id = ANY(%s::bigint[])"
REFRESH_TTL: Final = (
    f"UPDATE {ITEMS} SET expires_at = %s + ttl_minutes * 60.0"
    " WHERE ttl_minutes IS NOT NULL AND id = ANY(%s::bigint[])"
)
DELETE_EXPIRED: Final = (
    f"DELETE FROM {ITEMS} WHERE expires_at IS NOT NULL AND expires_at < %s RETURNING id"
)

# The vector table's state, read by setup() and by the first use of a store.
SELECT_EXTENSION: Final = "SELECT 1 FROM pg_extension WHERE extname = 'vector'"
CREATE_EXTENSION: Final = "CREATE EXTENSION IF NOT EXISTS vector"
SELECT_VECTOR_COLUMN: Final = (
    "SELECT format_type(atttypid, atttypmod) FROM pg_attribute"
    f" WHERE attrelid = to_regclass('{VECTORS}') AND attname = 'embedding'"
)
COUNT_VECTORS: Final = f"SELECT count(*) FROM {VECTORS}"
EXACT_CANDIDATES: Final = 10_000
"""Searches whose namespaces hold at most this many vectors are exact (every vector scored).

Also the size from which ``setup()`` builds the HNSW index: below it every search is exact, so
an index would only slow down every write (pgvector updates an HNSW graph row by row).
"""
BUILD_MEMORY: Final = "SET LOCAL maintenance_work_mem = '256MB'"  # the HNSW build, in memory
COUNT_AT_LEAST: Final = f"SELECT count(*) FROM (SELECT 1 FROM {VECTORS} LIMIT %s) c"


def prefix_range(
    namespace_prefix: Sequence[str], column: str = "s.prefix"
) -> tuple[str, list[Any]]:
    """A WHERE fragment keeping the namespaces under ``namespace_prefix``, label by label."""
    if not namespace_prefix:
        return "TRUE", []
    low = encode_namespace(namespace_prefix)
    return f"{column} >= %s AND {column} < %s", [low, low[:-1] + "/"]


# ---------------------------------------------------------------------------------------------
# Vectors: type, distance and ANN index from LangGraph-style index settings

_DISTANCES: Final[Mapping[str, tuple[str, str, str]]] = {
    # distance_type: (operator, operator class suffix, score from distance d)
    "cosine": ("<=>", "cosine_ops", "1 - ({d})"),
    "l2": ("<->", "l2_ops", "-({d})"),
    "inner_product": ("<#>", "ip_ops", "-({d})"),  # <#> is the negative inner product
}
_COPY_HEADER: Final = b"PGCOPY\n\xff\r\n\x00" + struct.pack("!ii", 0, 0)
_COPY_TRAILER: Final = struct.pack("!h", -1)
_HNSW_MAX_DIMS: Final = {"vector": 2000, "halfvec": 4000}
_ANN_KEYS: Final = frozenset({"kind", "vector_type", "m", "ef_construction", "ef_search"})


@dataclass(slots=True, frozen=True)
class VectorSpec:
    """How one store's vectors are stored and searched, decided from its ``index`` config."""

    dims: int
    vector_type: str
    """``vector`` (float32) or ``halfvec`` (float16: half the bytes, up to 4,000 dims in HNSW)."""
    distance: str
    kind: str
    """``hnsw`` (an approximate index for large namespaces) or ``flat`` (always exact)."""
    m: int
    ef_construction: int
    ef_search: int

    @classmethod
    def from_config(cls, dims: int, index: Mapping[str, Any]) -> VectorSpec:
        """Check LangGraph's ``distance_type`` and ``ann_index_config`` keys, naming the fix."""
        distance = index.get("distance_type", "cosine")
        if distance not in _DISTANCES:
            raise ValueError(
                f"index['distance_type'] must be one of {sorted(_DISTANCES)!r}, got {distance!r}."
            )
        ann = dict(index.get("ann_index_config") or {})
        unknown = set(ann) - _ANN_KEYS
        if unknown:
            raise ValueError(
                f"Unknown ann_index_config key(s) {sorted(unknown)!r}; PostgresStore reads "
                f"{sorted(_ANN_KEYS)!r}."
            )
        kind = ann.get("kind", "hnsw")
        if kind not in ("hnsw", "flat"):
            raise ValueError(
                f"ann_index_config['kind'] must be 'hnsw' or 'flat', got {kind!r}. (IVFFlat is not "
                "offered: HNSW with iterative scans keeps recall inside one namespace.)"
            )
        default_type = "halfvec" if dims > _HNSW_MAX_DIMS["vector"] else "vector"
        vector_type = ann.get("vector_type", default_type)
        if vector_type not in _HNSW_MAX_DIMS:
            raise ValueError(
                f"ann_index_config['vector_type'] must be 'vector' or 'halfvec', got "
                f"{vector_type!r}."
            )
        if kind == "hnsw" and dims > _HNSW_MAX_DIMS[vector_type]:
            raise ValueError(
                f"An HNSW index on {vector_type} holds at most {_HNSW_MAX_DIMS[vector_type]} "
                f"dims, and index['dims'] is {dims}. Use vector_type 'halfvec' (up to 4,000), "
                "kind 'flat' (exact search, no index), or a model with fewer dims."
            )
        numbers = {"m": 16, "ef_construction": 64, "ef_search": 100}
        for name, default in numbers.items():
            value = ann.get(name, default)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(
                    f"ann_index_config[{name!r}] must be a positive int, got {value!r}."
                )
            numbers[name] = value
        return cls(dims, vector_type, distance, kind, **numbers)

    @property
    def column_type(self) -> str:
        return f"{self.vector_type}({self.dims})"

    def create_table(self) -> str:
        return (
            f"CREATE TABLE IF NOT EXISTS {VECTORS} ("
            f" item_id bigint NOT NULL REFERENCES {ITEMS} (id) ON DELETE CASCADE,"
            " field_name text NOT NULL,"
            ' prefix text COLLATE "C" NOT NULL,'
            f" embedding {self.column_type} NOT NULL)"
        )

    def create_indexes(self) -> list[str]:
        """The indexes every vector table has (by item, by namespace), and the vector counts
        per namespace, kept by statement triggers in the writing transaction."""
        return [
            f"CREATE INDEX IF NOT EXISTS {VECTORS}_item_idx ON {VECTORS} (item_id)",
            f"CREATE INDEX IF NOT EXISTS {VECTORS}_prefix_idx ON {VECTORS} (prefix)",
            *_COUNTED,
        ]

    @property
    def ann_index(self) -> str:
        _, ops, _ = _DISTANCES[self.distance]
        return f"{VECTORS}_hnsw_{self.vector_type}_{ops}"

    def create_ann_index(self) -> str:
        """The HNSW index, built in one pass over the vectors already stored."""
        _, ops, _ = _DISTANCES[self.distance]
        return (
            f"CREATE INDEX IF NOT EXISTS {self.ann_index} ON {VECTORS}"
            f" USING hnsw (embedding {self.vector_type}_{ops})"
            f" WITH (m = {self.m}, ef_construction = {self.ef_construction})"
        )

    @property
    def ann_index_exists(self) -> str:
        return f"SELECT to_regclass('{self.ann_index}') IS NOT NULL"

    @property
    def distance_sql(self) -> str:
        """The distance of ``v.embedding`` to the query vector (one ``%s`` parameter)."""
        operator, _, _ = _DISTANCES[self.distance]
        return f"v.embedding {operator} %s::{self.column_type}"

    @property
    def score_sql(self) -> str:
        """Higher is better: cosine similarity, negative L2 distance or inner product."""
        _, _, score = _DISTANCES[self.distance]
        return score.format(d=self.distance_sql)

    def copy_vectors(self) -> str:
        """Loads the rows of ``encode_copy`` (binary COPY: nothing to quote or parse)."""
        return f"COPY {VECTORS} (item_id, field_name, prefix, embedding) FROM STDIN (FORMAT BINARY)"

    def encode_copy(
        self,
        item_ids: Sequence[int],
        names: Sequence[str],
        prefixes: Sequence[str],
        vectors: np.ndarray[Any, Any],
    ) -> bytes:
        """Binary COPY rows: bigint, text, text and the vector in binary (``_binary``)."""
        head, body = self._binary(vectors)
        vector_length = struct.pack("!i", len(head) + body.shape[1] * body.itemsize)
        parts = [_COPY_HEADER]
        for item_id, name, prefix, row in zip(item_ids, names, prefixes, body, strict=True):
            name_bytes, prefix_bytes = name.encode(), prefix.encode()
            parts += (
                struct.pack("!hiq", 4, 8, item_id),
                struct.pack("!i", len(name_bytes)),
                name_bytes,
                struct.pack("!i", len(prefix_bytes)),
                prefix_bytes,
                vector_length,
                head,
                row.tobytes(),
            )
        parts.append(_COPY_TRAILER)
        return b"".join(parts)

    def _binary(self, vectors: np.ndarray[Any, Any]) -> tuple[bytes, np.ndarray[Any, Any]]:
        """pgvector's binary ``vector``/``halfvec``: the header (int16 dims, int16 unused), and
        the rows' values as big-endian float32 or float16."""
        element = ">f4" if self.vector_type == "vector" else ">f2"
        body = np.ascontiguousarray(vectors, dtype=np.float32).reshape(-1, self.dims)
        return struct.pack("!hh", self.dims, 0), body.astype(element)

    def encode_query(self, vector: Sequence[float] | np.ndarray[Any, Any]) -> BinaryParam:
        """The query vector as a binary parameter of ``distance_sql``'s cast: nothing to format
        in Python or parse on the server (the text form of 384 floats costs about a ms; it is
        built only for a connection that binds parameters as text)."""
        values = np.asarray(vector, dtype=np.float32)
        head, body = self._binary(values)
        return BinaryParam(head + body.tobytes(), lambda: json.dumps(values.tolist()))

    def top_items(self, where: str, join_items: bool, *, index_rows: int | None) -> str:
        """The best ``limit`` items by their best vector among the ``rows`` best vectors.

        ``index_rows`` (the ``rows`` parameter, when searching the index): the HNSW index is
        walked in distance order (iteratively, until enough rows pass the filters), with the
        settings of ``index_settings`` set by the statement itself; ``None``: every candidate
        is scored (a top-N sort, exact). Items have few vectors each, so the best ``rows``
        vectors hold the best items; the caller reads more when they did not.

        Parameters: query vector, ``where``'s parameters, [query vector if indexed], rows, limit.
        """
        join = f" JOIN {ITEMS} s ON s.id = v.item_id" if join_items else ""
        indexed = index_rows is not None
        order = self.distance_sql if indexed else "score DESC"
        settings = f" WHERE {self.index_settings(index_rows)}" if index_rows is not None else ""
        return (
            f"SELECT {ITEM_COLUMNS}, b.score FROM ("
            "SELECT c.item_id, max(c.score) AS score FROM ("
            f"SELECT v.item_id, {self.score_sql} AS score FROM {VECTORS} v{join}"
            f" WHERE {where} ORDER BY {order} LIMIT %s"
            ") c GROUP BY c.item_id ORDER BY score DESC, c.item_id LIMIT %s"
            f") b JOIN {ITEMS} s ON s.id = b.item_id{settings} ORDER BY b.score DESC, b.item_id"
        )

    def counted_exact_items(self, namespaces: str, where: str, join_items: bool) -> str:
        """How many vectors the searched namespaces hold and, when they are few, the exact
        ``top_items``, in one statement.

        The count comes from the per-namespace counts the triggers keep: one short index range
        however many vectors there are (every counted namespace holds at least one vector, so
        reading ``EXACT_CANDIDATES + 1`` of them tells small from large). It gates the scoring
        (a one-time filter: with many candidates nothing is scored), so the common search,
        inside one user's namespace, is one round trip. Always returns at least one row; its
        last column is the count, and rows without an item (NULL id) are not hits.

        Parameters: ``namespaces``' parameters, query vector, ``where``'s parameters, rows, limit.
        """
        join = f" JOIN {ITEMS} s ON s.id = v.item_id" if join_items else ""
        gate = "TRUE" if self.kind == "flat" else f"n.n <= {EXACT_CANDIDATES}"
        return (
            "WITH n AS (SELECT coalesce(sum(n), 0) AS n FROM ("
            f"SELECT v.n FROM {COUNTS} v WHERE {namespaces} LIMIT {EXACT_CANDIDATES + 1}) c)"
            f" SELECT {ITEM_COLUMNS}, b.score, n.n FROM n LEFT JOIN LATERAL ("
            "SELECT c.item_id, max(c.score) AS score FROM ("
            f"SELECT v.item_id, {self.score_sql} AS score FROM {VECTORS} v{join}"
            f" WHERE {where} AND {gate} ORDER BY score DESC LIMIT %s"
            ") c GROUP BY c.item_id ORDER BY score DESC, c.item_id LIMIT %s"
            f") b ON TRUE LEFT JOIN {ITEMS} s ON s.id = b.item_id"
            " ORDER BY b.score DESC NULLS LAST, b.item_id"
        )

    def index_settings(self, rows: int) -> str:
        """A condition, always true, that sets the HNSW settings of the statement it is in:
        iterative scans (so filtered searches fill up) and an ``ef_search`` of at least ``rows``.

        The settings are transaction-local (``set_config(..., true)``) and set by the search
        statement itself, so a search is one round trip and leaves nothing behind: a lone search
        runs without a transaction, where they end with the statement, and a failing statement
        takes them back with it. An uncorrelated scalar subquery is a one-time filter, run
        before any row is read (pgvector reads the settings at the index scan's first row).
        """
        ef_search = min(max(self.ef_search, rows), 1000)
        return (
            "(SELECT set_config('hnsw.iterative_scan', 'relaxed_order', true)"
            f" || set_config('hnsw.ef_search', '{ef_search}', true)) IS NOT NULL"
        )


# Planner statistics for the vectors just indexed: without them (a table loaded since autovacuum
# last looked) the planner guesses that a namespace range holds 0.5% of the vectors, and sorts
# all of them exactly instead of walking the HNSW index (22 ms instead of 0.7 ms at 20k vectors).
ANALYZE_VECTORS: Final = f"ANALYZE {VECTORS}"


def parse_column_type(column_type: str) -> tuple[str, int]:
    """``"vector(384)"`` → ``("vector", 384)``."""
    name, _, rest = column_type.partition("(")
    return name, int(rest.rstrip(")") or 0)
