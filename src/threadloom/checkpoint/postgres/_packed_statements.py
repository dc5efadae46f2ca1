"""Which of the PostgreSQL saver's statements carry packed values (``_packing``): the columns
of the rows they give back, the parameters they store, and how those parameters are packed."""

from __future__ import annotations

from typing import Any, Final

from threadloom.checkpoint.postgres import _statements as sql
from threadloom.checkpoint.postgres._packing import pack, pack_metadata, pack_path

__all__ = ["PACKED_COLUMNS", "PACKED_PARAMS", "PATH_COLUMNS", "packed_params"]


PACKED_COLUMNS: Final = {
    sql.HEADERS_AT: (3,),
    sql.HEAD_WITH_WRITES: (3, 11),
    sql.HEADERS_OF_THREAD: (1,),
    sql.PRUNE_INFO: (3,),
    sql.BLOB_ROWS: (5,),
    sql.BLOB_ROWS_OF_LIVE: (5,),
    sql.BLOB_CHAINS: (5,),
    sql.BLOB_CHAINS_OF_LIVE: (5,),
    sql.WRITES_AT: (6,),
}
"""Statements giving stored (type, data) pairs: the column of each pair's type."""
PATH_COLUMNS: Final = {sql.WRITES_AT: 8, sql.HEAD_WITH_WRITES: 13}
"""Statements giving stored task paths: the column (``_packing.pack_path``)."""
PACKED_PARAMS: Final = {
    sql.UPSERT_CHECKPOINT: 4,
    sql.INSERT_BLOB: 5,
    sql.KEEP_WRITES: 7,
    sql.REPLACE_WRITES: 7,
}
"""Statements storing a (type, data) pair: the parameter of its type (``PUT_STEP``'s are
packed by ``PgCore.put_step``)."""


_WRITE_PATH_PARAM: Final = 4
"""``KEEP_WRITES`` / ``REPLACE_WRITES``: the parameter of the task path."""
_METADATA_PARAM: Final = 8
"""``UPSERT_CHECKPOINT``: the parameter of the metadata's JSON text (``_packing.pack_metadata``)."""


def packed_params(statement: str, params: Any) -> tuple[Any, ...]:
    """``params`` of ``statement`` (one of ``PACKED_PARAMS``) as stored: the (type, data) pair
    packed, and a write's task path or a header's metadata shortened."""
    at = PACKED_PARAMS[statement]
    out = (*params[:at], *pack(params[at], params[at + 1]), *params[at + 2 :])
    if statement in (sql.KEEP_WRITES, sql.REPLACE_WRITES):  # a write row: its task path too
        path = _WRITE_PATH_PARAM
        out = (*out[:path], pack_path(out[path]), *out[path + 1 :])
    elif statement is sql.UPSERT_CHECKPOINT:
        meta = _METADATA_PARAM
        out = (*out[:meta], pack_metadata(out[meta]), *out[meta + 1 :])
    return out
