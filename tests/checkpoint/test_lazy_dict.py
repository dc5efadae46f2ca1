"""``LazyDict`` and ``LazyChannelValues`` behave as the dicts they stand for, whatever reads them:
Python methods, the C paths that read a dict's storage (``dict(x)``, ``{**x}``, ``f(**x)``,
``json.dumps``), ``copy`` and ``pickle``; and they decode only what is read."""

from __future__ import annotations

import copy
import json
import pickle
from collections.abc import Callable
from typing import Any

import pytest

from threadloom.checkpoint._lazy import LazyChannelValues, LazyDict

EXPECTED = {"a": 1, "b": [1, 2], "c": {"x": "y"}}


def lazy() -> LazyDict:
    return LazyDict(lambda: copy.deepcopy(EXPECTED))


def channel_values(calls: list[str]) -> LazyChannelValues:
    def loader(key: str) -> Callable[[], Any]:
        def load() -> Any:
            calls.append(key)
            return copy.deepcopy(EXPECTED[key])

        return load

    return LazyChannelValues({k: loader(k) for k in EXPECTED})


READS: dict[str, Callable[[dict[str, Any]], Any]] = {
    "equal": lambda d: d == EXPECTED,
    "equal reflected": lambda d: EXPECTED == d,  # noqa: SIM300  # the dict on the left
    "not equal": lambda d: d != {"a": 1},
    "getitem": lambda d: d["b"],
    "get": lambda d: (d.get("c"), d.get("zz", 7)),
    "iter": lambda d: list(d),
    "reversed": lambda d: list(reversed(d)),
    "in": lambda d: ("a" in d, "zz" in d),
    "len": lambda d: len(d),
    "bool": lambda d: bool(d),
    "keys": lambda d: list(d.keys()),
    "values": lambda d: list(d.values()),
    "items": lambda d: list(d.items()),
    "repr": lambda d: repr(d),
    "str": lambda d: str(d),
    "dict()": lambda d: dict(d),
    "unpack": lambda d: {**d},
    "kwargs": lambda d: (lambda **kw: kw)(**d),
    "json": lambda d: json.dumps(d, sort_keys=False),
    "json sorted": lambda d: json.dumps(d, sort_keys=True),
    "copy.copy": lambda d: copy.copy(d),
    "copy.deepcopy": lambda d: copy.deepcopy(d),
    "pickle": lambda d: pickle.loads(pickle.dumps(d)),
    ".copy()": lambda d: d.copy(),
    "or": lambda d: d | {"z": 0},
    "ror": lambda d: {"z": 0} | d,
    "format_map": lambda d: "{a}".format_map(d),
    "isinstance": lambda d: isinstance(d, dict),
}


@pytest.mark.parametrize("read", sorted(READS))
@pytest.mark.parametrize("make", [lazy, lambda: channel_values([])], ids=["LazyDict", "channels"])
def test_reads_match_a_plain_dict(read: str, make: Callable[[], dict[str, Any]]) -> None:
    assert READS[read](make()) == READS[read](copy.deepcopy(EXPECTED))


WRITES: dict[str, Callable[[dict[str, Any]], Any]] = {
    "setitem": lambda d: d.__setitem__("a", 5),
    "delitem": lambda d: d.__delitem__("a"),
    "update": lambda d: d.update(z=1),
    "ior": lambda d: d.__ior__({"z": 1}),
    "setdefault": lambda d: d.setdefault("a", 9),
    "pop": lambda d: d.pop("b"),
    "popitem": lambda d: d.popitem(),
    "clear": lambda d: d.clear(),
}


@pytest.mark.parametrize("write", sorted(WRITES))
def test_writes_apply_to_the_loaded_values(write: str) -> None:
    plain, made = copy.deepcopy(EXPECTED), lazy()
    assert WRITES[write](made) == WRITES[write](plain)
    assert made == plain
    assert dict(made) == plain


def test_copies_are_plain_dicts_independent_of_the_original() -> None:
    made = lazy()
    for copied in (copy.copy(made), pickle.loads(pickle.dumps(made)), made.copy()):
        assert type(copied) is dict
        copied["a"] = 2
    assert made["a"] == 1


def test_nothing_is_loaded_until_read() -> None:
    loads: list[int] = []

    def load() -> dict[str, Any]:
        loads.append(1)
        return dict(EXPECTED)

    made = LazyDict(load)
    assert not made.is_loaded and loads == []
    assert made["a"] == 1 and made == EXPECTED and len(made) == 3
    assert made.is_loaded and loads == [1]


def test_channel_values_decode_only_the_channels_read() -> None:
    calls: list[str] = []
    values = channel_values(calls)
    assert "a" in values and "zz" not in values and len(values) == 3
    assert calls == []
    assert values["a"] == 1 and values.get("a") == 1 and values.get("zz") is None
    assert calls == ["a"]
    with pytest.raises(KeyError):
        values["zz"]
    assert values == EXPECTED
    assert sorted(calls) == ["a", "b", "c"]  # "a" was not decoded a second time
    assert list(values) == list(EXPECTED)  # channel order kept
