"""PostgreSQL plumbing shared by threadloom's Postgres store and saver (internal).

- ``_core``: effects (``Query``, ``QueryMany``, ``CopyIn``, ``Batch``), versioned migrations
  under an advisory lock, the retry rule and error translation; no I/O.
- ``_settings``: how connections are set up (autocommit, no prepared statements, tuple rows,
  ``BinaryParam`` values sent in binary).
- ``_sync.Connector`` / ``_aio.AsyncConnector``: accept a DSN, a connection or a pool and run a
  unit of work in one transaction, retried once when the connection dropped before COMMIT.
  ``_sync`` is generated from ``_aio`` by ``scripts/unasync_postgres.py`` (checked by a test).

A backend writes its logic once as ``_core.Steps`` generators and calls ``connector.run``.
"""

from threadloom._postgres._aio import AsyncConnector
from threadloom._postgres._core import (
    Batch,
    CopyIn,
    Migrations,
    Query,
    QueryMany,
    Steps,
    migrate,
    missing_vector_error,
    require_setup,
    resume,
    setup_queries,
    setup_state,
)
from threadloom._postgres._settings import BinaryParam
from threadloom._postgres._sync import Connector

__all__ = [
    "AsyncConnector",
    "Batch",
    "BinaryParam",
    "Connector",
    "CopyIn",
    "Migrations",
    "Query",
    "QueryMany",
    "Steps",
    "migrate",
    "missing_vector_error",
    "require_setup",
    "resume",
    "setup_queries",
    "setup_state",
]
