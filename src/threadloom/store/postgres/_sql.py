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
  search inside one namespace reads only that namespace's vectors. The vector table and its
  index depend on the ``index`` configuration, so ``setup()`` creates them (idempotently) after
  the versioned migrations, in the same transaction.
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

from threadloom._postgres import Migrations
from threadloom.store.sqlite._sql import encode_namespace

__all__ = [
    "ITEM_COLUMNS",
    "MIGRATIONS",
    "VectorSpec",
    "encode_vectors",
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
VECTORS: Final = "threadloom_store_vectors"

ITEM_COLUMNS: Final = (
    "s.id, s.prefix, s.key, s.value::text, s.created_at, s.updated_at, s.ttl_minutes, s.expires_at"
)
"""The columns ``threadloom.store.sqlite._sql.decode_item`` reads, in order."""

SELECT_GET: Final = f"SELECT {ITEM_COLUMNS} FROM {ITEMS} s WHERE s.prefix = %s AND s.key = %s"
SELECT_NAMESPACES: Final = f"SELECT DISTINCT prefix FROM {ITEMS}"
NEWEST_FIRST: Final = " ORDER BY s.updated_at DESC, s.prefix, s.key"
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
        """The indexes every vector table has (by item, by namespace)."""
        return [
            f"CREATE INDEX IF NOT EXISTS {VECTORS}_item_idx ON {VECTORS} (item_id)",
            f"CREATE INDEX IF NOT EXISTS {VECTORS}_prefix_idx ON {VECTORS} (prefix)",
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
        """Binary COPY rows: bigint, text, text and pgvector's binary ``vector``/``halfvec``
        (int16 dims, int16 unused, then big-endian float32 or float16 values)."""
        element = ">f4" if self.vector_type == "vector" else ">f2"
        body = np.ascontiguousarray(vectors, dtype=np.float32).astype(element)
        head = struct.pack("!hh", self.dims, 0)
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

    def count_candidates(self, where: str) -> str:
        """How many vectors lie in the searched namespaces, counting at most one past exact."""
        return (
            f"SELECT count(*) FROM (SELECT 1 FROM {VECTORS} v WHERE {where}"
            f" LIMIT {EXACT_CANDIDATES + 1}) c"
        )

    def exact_search(self, where: str, join_items: bool) -> str:
        """Every candidate vector scored; the best per item, best items first.

        Parameters: query vector, ``where``'s parameters, limit.
        """
        join = f" JOIN {ITEMS} s ON s.id = v.item_id" if join_items else ""
        return (
            f"SELECT {ITEM_COLUMNS}, b.score FROM ("
            f"SELECT v.item_id, max({self.score_sql}) AS score FROM {VECTORS} v{join}"
            f" WHERE {where} GROUP BY v.item_id ORDER BY score DESC, v.item_id LIMIT %s"
            f") b JOIN {ITEMS} s ON s.id = b.item_id ORDER BY b.score DESC, b.item_id"
        )

    def index_search(self, where: str, join_items: bool) -> str:
        """The HNSW index walked in distance order (iteratively, until enough rows pass the
        filters), then the best per item.

        Parameters: query vector, ``where``'s parameters, query vector, rows to read, limit.
        """
        join = f" JOIN {ITEMS} s ON s.id = v.item_id" if join_items else ""
        return (
            f"SELECT {ITEM_COLUMNS}, b.score FROM ("
            "SELECT c.item_id, max(c.score) AS score FROM ("
            f"SELECT v.item_id, {self.score_sql} AS score FROM {VECTORS} v{join}"
            f" WHERE {where} ORDER BY {self.distance_sql} LIMIT %s"
            ") c GROUP BY c.item_id ORDER BY score DESC, c.item_id LIMIT %s"
            f") b JOIN {ITEMS} s ON s.id = b.item_id ORDER BY b.score DESC, b.item_id"
        )

    def index_settings(self, rows: int) -> str:
        """Transaction-local HNSW settings: iterative scans so filtered searches fill up."""
        ef_search = max(self.ef_search, rows)
        return (
            "SELECT set_config('hnsw.iterative_scan', 'relaxed_order', true),"
            f" set_config('hnsw.ef_search', '{min(ef_search, 1000)}', true)"
        )


def parse_column_type(column_type: str) -> tuple[str, int]:
    """``"vector(384)"`` → ``("vector", 384)``."""
    name, _, rest = column_type.partition("(")
    return name, int(rest.rstrip(")") or 0)


def encode_vectors(vectors: np.ndarray[Any, Any]) -> list[str]:
    """pgvector's text form of each row (exact: float32 values survive the round trip)."""
    return [json.dumps(row) for row in vectors.tolist()]
