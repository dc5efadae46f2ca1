"""The SQLite checkpointer's on-disk layout: compact rows, and files of older layouts upgraded.

``data/layout_v0.sqlite`` was written by the layout of migration 0 (full headers, versions keyed
by their JSON text, an index of ids); ``data/layout_v0.json`` is what that code read from it.
Today's code must upgrade it in ``setup``, read exactly the same, and go on writing to it.
"""

from __future__ import annotations

import json
import random
import shutil
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from layout_helpers import DATA, load_maker, plain

from threadloom.checkpoint._header import version_key
from threadloom.checkpoint._records import PACKED_PREFIX
from threadloom.checkpoint.base import empty_checkpoint, next_string_version
from threadloom.checkpoint.sqlite import SqliteSaver
from threadloom.checkpoint.sqlite._statements import MIGRATIONS, _version_key_sql
from threadloom.checkpoint.sqlite.aio import AsyncSqliteSaver
from threadloom.types import Command

MAKER = load_maker("make_layout_v0")


@pytest.fixture
def v0_file(tmp_path: Path) -> Path:
    path = tmp_path / "v0.sqlite"
    shutil.copy(DATA / "layout_v0.sqlite", path)
    return path


def test_a_v0_file_is_upgraded_and_reads_as_before(v0_file: Path) -> None:
    expected = json.loads((DATA / "layout_v0.json").read_text())
    with SqliteSaver.from_conn_string(str(v0_file)) as saver:
        assert plain(MAKER.snapshot(saver)) == expected
        done = [v for (v,) in saver.conn.execute("SELECT v FROM checkpoint_migrations")]
        assert done == list(range(len(MIGRATIONS)))
        keys = [k for (k,) in saver.conn.execute("SELECT version FROM checkpoint_blobs")]
        indexes = [n for (n,) in saver.conn.execute("SELECT name FROM sqlite_master")]
    assert len(keys) == 109  # every value row is still there ...
    assert sum(k.startswith("~") for k in keys) == 107  # ... keyed compactly (ints stay JSON)
    assert "checkpoints_newest" not in indexes
    with SqliteSaver.from_conn_string(str(v0_file)) as saver:  # reopened: nothing to upgrade
        assert plain(MAKER.snapshot(saver)) == expected


async def test_the_async_saver_upgrades_a_v0_file_too(v0_file: Path) -> None:
    expected = json.loads((DATA / "layout_v0.json").read_text())
    async with AsyncSqliteSaver.from_conn_string(str(v0_file)) as saver:
        listed = [item async for item in saver.alist(None)]
        assert [item.config["configurable"] for item in listed] == [e["config"] for e in expected]
        assert plain([item.metadata for item in listed]) == [e["metadata"] for e in expected]
        values = [dict(item.checkpoint["channel_values"]) for item in listed]
        assert plain(values) == [e["checkpoint"]["channel_values"] for e in expected]


def test_a_v0_file_goes_on(v0_file: Path) -> None:
    with SqliteSaver.from_conn_string(str(v0_file)) as saver:
        graph = MAKER.build(saver)
        chat = {"configurable": {"thread_id": "chat"}}
        # the run left waiting on an interrupt resumes from its old pending writes ...
        waiting = next(s for s in graph.get_state_history(chat) if s.interrupts)
        before = waiting.values["items"]
        resumed = graph.invoke(Command(resume="yes"), waiting.config)
        assert resumed["items"] == [*before, "asked yes"]
        # ... and a new turn extends the list (stored as a delta on the old rows)
        graph.invoke({"items": ["again"], "count": 20}, chat)
        after = graph.get_state(chat).values["items"]
        assert after == [*before, "asked yes", "again", "answer 20"]
        assert saver.thread_size_report("chat").delta_blobs > 25
        other = saver.get_tuple({"configurable": {"thread_id": "other"}})
        assert other is not None and other.checkpoint["channel_values"] == {"n": 7, "xs": [1, 2]}
        assert other.metadata["note"] == ("a", "tuple")  # not JSON: read from the blob


VERSIONS = [
    next_string_version(None),
    next_string_version(1498),
    "0" * 32,
    "0" * 32 + ".",
    "9" * 40,
    "1" * 31 + "x",
    "00000000000000000000000000000001.00000000000000.5",
    "12",
    "",
    'quote " and \\ and é and \u2603',
    0,
    7,
    -3,
    1.5,
    1e300,
]


@pytest.mark.parametrize("version", VERSIONS, ids=repr)
def test_the_migration_keys_versions_as_the_code_does(version: Any) -> None:
    conn = sqlite3.connect(":memory:")
    (key,) = conn.execute(f"SELECT {_version_key_sql('?1')}", (json.dumps(version),)).fetchone()
    assert key == version_key(version)
    assert conn.execute(f"SELECT {_version_key_sql('NULL')}").fetchone() == (None,)


def test_version_keys_sort_as_the_versions() -> None:
    versions = [next_string_version(n) for n in (0, 1, 8, 9, 10, 99, 100, 999, 12345, 10**9)]
    assert sorted(versions, key=version_key) == sorted(versions)


def test_large_values_are_stored_compressed_and_read_back(tmp_path: Path) -> None:
    noise = random.Random(7).randbytes(4000)  # does not compress: stored as it is
    text = "the same words again " * 500  # compresses
    with SqliteSaver.from_conn_string(str(tmp_path / "c.db")) as saver:
        checkpoint = {**empty_checkpoint(), "channel_values": {"text": text, "noise": noise}}
        checkpoint["channel_versions"] = {"text": 1, "noise": 1}
        config = saver.put(
            {"configurable": {"thread_id": "t", "checkpoint_ns": ""}},
            checkpoint,
            {},
            {"text": 1, "noise": 1},
        )
        saver.put_writes(config, [("text", text)], "task")
        stored = dict(saver.conn.execute("SELECT channel, type FROM checkpoint_blobs").fetchall())
        assert stored["text"].startswith(PACKED_PREFIX)
        assert not stored["noise"].startswith(PACKED_PREFIX)
        ((write_type, write_size),) = saver.conn.execute("SELECT type, length(value) FROM writes")
        assert write_type.startswith(PACKED_PREFIX) and write_size < len(text) // 10
        got = saver.get_tuple(config)
        assert got is not None
        assert got.checkpoint["channel_values"] == {"text": text, "noise": noise}
        assert got.pending_writes == [("task", "text", text)]


@pytest.mark.parametrize(
    ("metadata", "once"),
    [
        ({"source": "loop", "step": 3, "parents": {}, "x": [1.5, None, True, "é"]}, True),
        ({"source": "loop", "note": ("a", "tuple")}, False),  # a tuple is not JSON
        ({"source": "loop", "big": float("inf")}, False),
        ({"source": "loop", "when": Command(resume=1)}, False),
    ],
    ids=["json", "tuple", "inf", "object"],
)
def test_metadata_is_stored_once_when_json_holds_it(
    tmp_path: Path, metadata: dict[str, Any], once: bool
) -> None:
    with SqliteSaver.from_conn_string(str(tmp_path / "c.db")) as saver:
        config = saver.put(
            {"configurable": {"thread_id": "t", "checkpoint_ns": ""}},
            empty_checkpoint(),
            metadata,  # type: ignore[arg-type]
            {},
        )
        ((blob_bytes,),) = saver.conn.execute("SELECT length(metadata_blob) FROM checkpoints")
        assert (blob_bytes == 0) is once
        got = saver.get_tuple(config)
        assert got is not None and got.metadata == metadata
        assert [type(v) for v in got.metadata.values()] == [type(v) for v in metadata.values()]
        listed = list(saver.list(None, filter={"source": "loop"}))
        assert [c.metadata for c in listed] == [metadata]
