"""Bad arguments to a saver are refused before anything is read or stored, on every backend.

LangGraph 1.2.22 (checked side by side) stores a checkpoint under ``str(thread_id)`` whatever it
is (an object's repr, ``'None'``), fails on ``list(filter="x")`` with an ``AttributeError`` and,
on SQLite, reads ``limit=-1`` as no limit; threadloom names the value and the fix.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import pytest
from saver_helpers import config, make_checkpoint

from threadloom.errors import InvalidSaverArgumentError, InvalidThreadIdError

BAD_THREAD_IDS = [None, 1.5, True, b"t", ["t"], object()]


def _put(saver: Any, thread_id: Any) -> Any:
    return saver.put(config(thread_id), make_checkpoint(), {}, {})


@pytest.mark.parametrize("thread_id", BAD_THREAD_IDS, ids=repr)
def test_a_thread_id_of_another_type_is_refused_and_nothing_is_stored(
    saver: Any, thread_id: Any
) -> None:
    _put(saver, "kept")
    calls: list[Callable[[], Any]] = [
        lambda: _put(saver, thread_id),
        lambda: saver.get_tuple(config(thread_id)),
        lambda: list(saver.list(config(thread_id))),
        lambda: saver.put_writes(config(thread_id, checkpoint_id="x"), [("a", 1)], "task"),
        lambda: saver.delete_thread(thread_id),
    ]
    for call in calls:
        with pytest.raises(InvalidThreadIdError) as raised:
            call()
        assert repr(thread_id) in str(raised.value) and "'thread_id'" in str(raised.value)
        assert raised.value.thread_id is thread_id
    assert [t.config["configurable"]["thread_id"] for t in saver.list(None)] == ["kept"]


def test_an_int_or_uuid_thread_id_is_its_string(saver: Any) -> None:
    thread = uuid.uuid4()
    _put(saver, thread)
    _put(saver, 7)
    assert saver.get_tuple(config(str(thread))) is not None
    assert saver.get_tuple(config(thread)) is not None
    assert saver.get_tuple(config("7")) is not None


@pytest.mark.parametrize(
    ("arguments", "says"),
    [
        ({"limit": "3"}, "limit must be a non-negative int, got str '3'"),
        ({"limit": -1}, "got int -1. Pass None for no limit"),
        ({"limit": 1.5}, "got float 1.5"),
        ({"limit": True}, "got bool True"),
        ({"filter": "source"}, "filter must be a dict"),
        ({"filter": [("source", "loop")]}, "got list"),
        ({"before": "1ef"}, "before must be a checkpoint's config dict, got str '1ef'"),
    ],
)
def test_list_refuses_arguments_of_the_wrong_kind(
    saver: Any, arguments: dict[str, Any], says: str
) -> None:
    _put(saver, "t")
    with pytest.raises(InvalidSaverArgumentError) as raised:
        list(saver.list(config("t"), **arguments))
    assert says in str(raised.value)
    assert isinstance(raised.value, TypeError) and isinstance(raised.value, ValueError)
    assert len(list(saver.list(config("t"), limit=0))) == 0
    assert len(list(saver.list(config("t"), limit=None))) == 1


def test_list_refuses_a_config_that_is_not_a_dict(saver: Any) -> None:
    with pytest.raises(InvalidSaverArgumentError, match="config must be a config dict or None"):
        list(saver.list("t"))


def test_prune_refuses_one_string_instead_of_a_list(saver: Any) -> None:
    # a string would otherwise be read as one-letter thread ids ("abc" -> "a", "b", "c")
    for thread_id in ("a", "abc"):
        _put(saver, thread_id)
    with pytest.raises(InvalidSaverArgumentError, match=r"Pass e.g. \['abc'\]"):
        saver.prune("abc", strategy="delete")
    assert sorted(t.config["configurable"]["thread_id"] for t in saver.list(None)) == ["a", "abc"]


def test_delete_for_runs_refuses_one_string_instead_of_a_list(saver: Any) -> None:
    # a string would otherwise be read as one-letter run ids ("run-1" -> "r", "u", ...), which
    # match nothing: the call would silently delete nothing
    saver.put(config("t"), make_checkpoint(), {"run_id": "run-1"}, {})
    saver.put(config("t"), make_checkpoint(), {"run_id": "r"}, {})
    for bad in ("run-1", b"run-1", 7):
        with pytest.raises(InvalidSaverArgumentError, match="run_ids must be a list of run ids"):
            saver.delete_for_runs(bad)
    assert sorted(t.metadata["run_id"] for t in saver.list(config("t"))) == ["r", "run-1"]
    saver.delete_for_runs(("run-1",))  # any iterable of run ids, as many as given
    assert [t.metadata["run_id"] for t in saver.list(config("t"))] == ["r"]
    saver.delete_for_runs([uuid.uuid4()])  # a UUID is its string form (matches nothing here)
    assert [t.metadata["run_id"] for t in saver.list(config("t"))] == ["r"]
