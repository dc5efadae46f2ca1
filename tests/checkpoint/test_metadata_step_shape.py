"""The engine's step metadata (``source``, ``step``, empty ``parents``) is recognised by its
shape before the general NUL and JSON walks; anything off that shape must still take them."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest
from saver_helpers import config, make_checkpoint

from threadloom.checkpoint._metadata import is_root_step_metadata
from threadloom.checkpoint._metadata_filter import filter_json, root_step_json
from threadloom.checkpoint._records import METADATA_IN_JSON, encode_metadata, load_metadata
from threadloom.checkpoint.base import get_checkpoint_metadata
from threadloom.checkpoint.serde.jsonplus import JsonPlusSerializer
from threadloom.checkpoint.sqlite import SqliteSaver


class _Text(str):
    pass


def test_the_engine_shape_is_kept_as_is_and_stored_as_json_only() -> None:
    metadata: Any = {"source": "loop", "step": 3, "parents": {}}
    assert is_root_step_metadata(metadata)
    merged = get_checkpoint_metadata({"configurable": {"thread_id": "t"}}, metadata)
    assert merged == metadata and merged is not metadata
    tag, blob, text = encode_metadata(JsonPlusSerializer(), merged, json_only=True)
    assert (tag, blob) == (METADATA_IN_JSON, b"")
    assert load_metadata(JsonPlusSerializer(), tag, text) == metadata


@pytest.mark.parametrize(
    ("metadata", "expected"),
    [
        ({"source": "lo\x00op", "step": 1, "parents": {}}, {"source": "loop", "step": 1}),
        ({"source": "loop", "step": 1, "parents": {"\x00": "p\x00"}}, {"parents": {"": "p"}}),
        ({"source": _Text("loop"), "step": 1, "parents": {}}, {"source": "loop"}),
    ],
)
def test_step_metadata_off_the_shape_is_still_stripped(
    metadata: dict[str, Any], expected: dict[str, Any]
) -> None:
    assert not is_root_step_metadata(metadata)
    merged = get_checkpoint_metadata({}, metadata)  # type: ignore[arg-type]
    assert {k: merged[k] for k in expected} == expected
    assert all(type(merged[k]) is type(v) for k, v in expected.items())


@pytest.mark.parametrize(
    "metadata",
    [
        {"source": "loop", "step": math.nan, "parents": {}},
        {"source": "loop", "step": 1, "parents": {"": ("a",)}},
        {"source": "loop", "step": 1, "parents": {}, "extra": ("t",)},
    ],
)
def test_step_metadata_that_is_not_plain_json_keeps_its_blob(metadata: dict[str, Any]) -> None:
    assert not is_root_step_metadata(metadata)
    serde = JsonPlusSerializer()
    tag, blob, _ = encode_metadata(serde, metadata, json_only=True)
    assert tag != METADATA_IN_JSON and blob
    restored = load_metadata(serde, tag, blob)
    assert restored.keys() == metadata.keys()
    assert type(restored["parents"]) is dict and type(restored["step"]) is type(metadata["step"])


@pytest.mark.parametrize(
    "source", ["loop", "", 'qu"o\\te', "ünï\u2028code\U0001f600", "tab\tnew\nline\x01", "a" * 500]
)
@pytest.mark.parametrize("step", [-1, 0, 7, 2**70, -(2**65)])
def test_the_root_step_json_is_the_filter_json_byte_for_byte(source: str, step: int) -> None:
    for metadata in (
        {"source": source, "step": step, "parents": {}},
        {"parents": {}, "step": step, "source": source},  # another key order: kept as given
    ):
        assert is_root_step_metadata(metadata)
        assert root_step_json(metadata) == filter_json(metadata)
        assert json.loads(root_step_json(metadata)) == metadata


@pytest.mark.parametrize(
    ("added", "json_only"), [({"user": "ada"}, True), ({"score": math.nan}, False)]
)
def test_step_metadata_with_keys_from_the_config_is_stored_by_their_shape(
    tmp_path: Path, added: dict[str, Any], json_only: bool
) -> None:
    # The root-step shape is asked once per put: once the config adds keys, the merged
    # metadata is encoded by the general rule (JSON only, or with its blob when not JSON).
    metadata: Any = {"source": "loop", "step": 3, "parents": {}}
    with SqliteSaver.from_conn_string(str(tmp_path / "m.sqlite")) as saver:
        saver.put({**config("t"), "metadata": added}, make_checkpoint(), metadata, {})
        stored = saver.conn.execute("SELECT metadata_type FROM checkpoints").fetchone()[0]
        back = saver.get_tuple(config("t"))
    assert (stored == METADATA_IN_JSON) is json_only
    assert back is not None
    assert repr(back.metadata) == repr({**metadata, **added})
