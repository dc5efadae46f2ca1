"""What PostgresSaver stores, and the upgrade of a database stored by an earlier schema.

A value row is keyed by its version written as ``_header.version_key`` (``~`` and the
significant digits of a standard string version), and a header is stored packed
(``_header.pack_header``: each distinct version once), by the one-statement step too. A database
whose rows were written before (schema version 5: versions as JSON text) is rewritten by
``setup()``: every checkpoint reads back exactly as before, and the thread goes on with deltas
over the rows written before.
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import psycopg
import pytest

from threadloom.checkpoint.base import (
    CONFIG_KEY_EXPECTED_HEAD,
    empty_checkpoint,
    next_string_version,
)
from threadloom.checkpoint.postgres import PostgresSaver
from threadloom.checkpoint.postgres import _statements as sql
from threadloom.errors import SetupRequiredError

THREAD = {"configurable": {"thread_id": "t", "checkpoint_ns": ""}}


def _chat(saver: PostgresSaver, turns: range, log: list[str], versions: dict[str, Any]) -> None:
    """Steps of a chat: ``log`` (a list channel, stored as deltas), ``turn`` (an int version),
    each step with one task write; ``versions`` carries the channel versions along."""
    for turn in turns:
        head = saver.get_tuple(THREAD)
        parent = None if head is None else head.checkpoint["id"]
        if head is not None:  # extend the list read, as a graph does (deltas go by identity)
            log[:] = head.checkpoint["channel_values"]["log"]
        log.append(f"message {turn}")
        new = {
            "log": next_string_version(versions.get("log")),
            "turn": int(versions.get("turn", 0)) + 1,
        }
        versions.update(new)
        checkpoint = {**empty_checkpoint(), "id": f"{turn:04}"}
        checkpoint["channel_values"] = {"log": list(log), "turn": turn}
        checkpoint["channel_versions"] = dict(versions)
        configurable: dict[str, Any] = {**THREAD["configurable"], "checkpoint_id": parent}
        configurable[CONFIG_KEY_EXPECTED_HEAD] = parent
        writes = [(f"task-{turn}", "", [("log", log[-1])])] if parent else []
        saver.put_step({"configurable": configurable}, writes, checkpoint, {"step": turn}, new)


def _history(saver: PostgresSaver) -> list[tuple[Any, ...]]:
    return [
        (c.config, c.checkpoint, c.metadata, c.parent_config, c.pending_writes)
        for c in saver.list(THREAD)
    ]


def _rows(dsn: str, statement: str) -> list[tuple[Any, ...]]:
    with psycopg.connect(dsn) as conn:
        return conn.execute(statement).fetchall()  # type: ignore[arg-type]


def test_versions_are_stored_as_version_keys_and_headers_packed(pg_dsn: str) -> None:
    with PostgresSaver.from_conn_string(pg_dsn) as saver:
        saver.setup()
        _chat(saver, range(1, 4), [], {})
        stored = _rows(pg_dsn, "SELECT type, checkpoint FROM threadloom_checkpoints")
        for tag, data in stored:
            header = saver.serde.loads_typed((tag, bytes(data)))
            assert isinstance(header, list) and header[0] == 1  # _header.HEADER_FORMAT
        written = [c.checkpoint["channel_versions"]["log"] for c in saver.list(THREAD)]
    keys = _rows(pg_dsn, "SELECT channel, version, base_version FROM threadloom_checkpoint_blobs")
    log_keys = sorted(v for ch, v, _b in keys if ch == "log")
    assert log_keys == sorted("~1" + v.lstrip("0") for v in written)
    assert sorted(v for ch, v, _b in keys if ch == "turn") == ["1", "2", "3"]
    assert sorted(b for ch, _v, b in keys if ch == "log" and b) == log_keys[:2]


def test_a_database_of_json_versions_is_rewritten_by_setup_and_goes_on(
    pg_dsn: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    log: list[str] = []
    versions: dict[str, Any] = {}
    with monkeypatch.context() as before:  # the schema and keys of the previous release
        before.setattr(
            sql,
            "MIGRATIONS",
            dataclasses.replace(sql.MIGRATIONS, statements=sql.MIGRATIONS.statements[:6]),
        )
        before.setattr(sql, "version_text", json.dumps)
        before.setattr(sql, "version_of", json.loads)
        with PostgresSaver.from_conn_string(pg_dsn) as saver:
            saver.setup()
            _chat(saver, range(1, 21), log, versions)
            old = _history(saver)
    stored = _rows(pg_dsn, "SELECT version FROM threadloom_checkpoint_blobs WHERE channel = 'log'")
    assert all(v.startswith('"0000') for (v,) in stored)  # JSON text, as before
    with PostgresSaver.from_conn_string(pg_dsn) as saver:
        with pytest.raises(SetupRequiredError, match="schema version 5"):
            saver.get_tuple(THREAD)
        saver.setup()
        assert _history(saver) == old  # every checkpoint reads back exactly
        deltas = "SELECT count(*) FROM threadloom_checkpoint_blobs WHERE kind = 'delta'"
        ((before_count,),) = _rows(pg_dsn, deltas)
        _chat(saver, range(21, 23), log, versions)
    ((after_count,),) = _rows(pg_dsn, deltas)
    assert after_count == before_count + 2  # the new steps extend the rows written before
    fresh = PostgresSaver(pg_dsn)
    head = fresh.get_tuple(THREAD)
    assert head is not None and head.checkpoint["channel_values"]["log"] == log
    assert head.checkpoint["channel_values"]["turn"] == 22
    stored = _rows(pg_dsn, "SELECT version, base_version FROM threadloom_checkpoint_blobs")
    assert not any(v.startswith('"') or (b or "").startswith('"') for v, b in stored)
