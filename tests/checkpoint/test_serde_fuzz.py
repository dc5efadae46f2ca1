"""Fuzz the decoder: whatever stored bytes say, loading raises only our errors and runs nothing.

Inputs: random bytes, real payloads with bytes flipped, inserted or deleted, and crafted records
naming dangerous or unknown types. Outcomes allowed: a value, ``CorruptDataError`` (with an
offset inside the data when one is given), or ``DisallowedTypeError``. An audit hook records
imports, code execution and process or file-system calls while bytes are decoded: none may
happen outside the allow-list's own packages (issue 7 defect 4; DECISIONS 7).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
import sys
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from decimal import Decimal
from typing import Any, NamedTuple

import numpy as np
import ormsgpack
import pydantic
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from langchain_core.documents import Document
from langchain_core.messages import AIMessage, HumanMessage, SystemMessage, ToolMessage

from threadloom.checkpoint.serde import _stdlib
from threadloom.checkpoint.serde._codec import EXT_STDLIB
from threadloom.checkpoint.serde.jsonplus import JsonPlusSerializer
from threadloom.errors import CorruptDataError, DisallowedTypeError
from threadloom.types import Send

# -- what decoding may not do ----------------------------------------------------------------

_ALLOWED_IMPORTS = ("threadloom", "langchain_core", "tzdata", "zoneinfo", "importlib")
"""Packages decoding may import: the safe set's own, and the time-zone database ZoneInfo reads."""
_FORBIDDEN_EVENTS = (
    "os.system",
    "os.exec",
    "os.posix_spawn",
    "os.spawn",
    "os.fork",
    "os.kill",
    "os.remove",
    "os.rename",
    "os.rmdir",
    "os.mkdir",
    "os.chmod",
    "subprocess.Popen",
    "pickle.find_class",
    "builtins.input",
    "ctypes.",
    "socket.",
    "shutil.",
    "webbrowser.",
    "urllib.",
    "http.",
)


class _Audit:
    """Records suspicious audit events while ``active``; the hook itself cannot be removed."""

    def __init__(self) -> None:
        self.active = False
        self.events: list[tuple[str, str]] = []

    def __call__(self, event: str, args: tuple[Any, ...]) -> None:
        if not self.active:
            return
        if event == "import":
            if not str(args[0]).startswith(_ALLOWED_IMPORTS):
                self.events.append((event, str(args[0])))
        elif event in ("exec", "compile"):
            source = getattr(args[0], "co_filename", None) if event == "exec" else args[1]
            if not any(f"/{name}/" in str(source) for name in _ALLOWED_IMPORTS):
                self.events.append((event, str(source)))
        elif event.startswith(_FORBIDDEN_EVENTS):
            self.events.append((event, repr(args)[:200]))


_AUDIT = _Audit()
sys.addaudithook(_AUDIT)


@contextmanager
def audited() -> Iterator[None]:
    _AUDIT.events.clear()
    _AUDIT.active = True
    try:
        yield
    finally:
        _AUDIT.active = False
    assert _AUDIT.events == [], _AUDIT.events


# -- real payloads -----------------------------------------------------------------------------


class Mood(enum.Enum):
    CALM = "calm"


class Span(NamedTuple):
    start: int
    end: int


@dataclasses.dataclass
class Step:
    name: str
    done: bool = False
    tags: frozenset[str] = frozenset()


class Plan(pydantic.BaseModel):
    goal: str
    steps: list[Step] = []
    due: dt.datetime | None = None
    mood: Mood = Mood.CALM


serde = JsonPlusSerializer(allowed_msgpack_modules=[Mood, Span, Step, Plan])

VALUES: list[Any] = [
    {
        "messages": [
            SystemMessage("be brief"),
            HumanMessage("hi", id="h1"),
            AIMessage("", tool_calls=[{"name": "f", "args": {"q": 1}, "id": "c1"}]),
            ToolMessage("42", tool_call_id="c1"),
        ]
    },
    Plan(
        goal="ship",
        steps=[Step("a", tags=frozenset({"x"})), Step("b", True)],
        due=dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.UTC),
    ),
    {"nested": [[1, (2, 3)], {"k": {4, 5}}, Span(1, 2)], "big": 2**80, "neg": -(2**70)},
    {
        "when": dt.date(2025, 5, 6),
        "at": dt.time(7, 8),
        "gap": dt.timedelta(3),
        "id": uuid.UUID(int=7),
        "d": Decimal("1.5"),
    },
    [Send("node", {"x": 1}), Document(page_content="doc"), "a\ud800b", np.arange(3)],
]
PAYLOADS: list[bytes] = [serde.dumps_typed(value)[1] for value in VALUES]


def check_load(data: bytes) -> None:
    """Load ``data``: a value or one of our errors, and nothing run on the way."""
    with audited():
        try:
            serde.loads_typed(("msgpack", data))
        except CorruptDataError as exc:
            assert exc.offset is None or 0 <= exc.offset <= len(data), exc
        except DisallowedTypeError:
            pass


def test_payloads_round_trip() -> None:
    for value, data in zip(VALUES, PAYLOADS, strict=True):
        back = serde.loads_typed(("msgpack", data))
        if isinstance(value, list):
            assert back[:3] == value[:3] and ascii(back[3]) == ascii(value[3])
        else:
            assert back == value


@pytest.mark.parametrize("index", range(len(PAYLOADS)))
def test_every_single_byte_change_of_real_payloads(index: int) -> None:
    data = PAYLOADS[index]
    for at in range(len(data)):
        for mask in (0x01, 0x10, 0x80, 0xFF):
            check_load(data[:at] + bytes([data[at] ^ mask]) + data[at + 1 :])
        check_load(data[:at] + data[at + 1 :])  # one byte deleted


# -- hypothesis --------------------------------------------------------------------------------

FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FUZZ
@given(st.binary(max_size=200))
def test_random_bytes(data: bytes) -> None:
    check_load(data)


@st.composite
def mutated(draw: Callable[..., Any]) -> bytes:
    data = bytearray(draw(st.sampled_from(PAYLOADS)))
    for _ in range(draw(st.integers(1, 6))):
        at = draw(st.integers(0, len(data)))
        match draw(st.sampled_from(["flip", "insert", "delete", "splice"])):
            case "flip" if at < len(data):
                data[at] = draw(st.integers(0, 255))
            case "insert":
                data[at:at] = draw(st.binary(min_size=1, max_size=4))
            case "delete":
                del data[at : at + draw(st.integers(1, 8))]
            case _:  # a piece of another payload at this place
                other = draw(st.sampled_from(PAYLOADS))
                start = draw(st.integers(0, len(other) - 1))
                data[at:at] = other[start : start + draw(st.integers(1, 32))]
    return bytes(data)


@FUZZ
@given(mutated())
def test_mutated_payloads(data: bytes) -> None:
    check_load(data)


_DANGEROUS_NAMES = [
    ("os", "system"),
    ("subprocess", "Popen"),
    ("builtins", "eval"),
    ("builtins", "exec"),
    ("builtins", "__import__"),
    ("importlib", "import_module"),
    ("pickle", "loads"),
    ("posix", "system"),
    ("threadloom_not_a_module", "run"),
    ("langchain_core.messages", "convert_to_messages"),  # allowed module, attribute not allowed
    ("langchain_core.messages", "HumanMessage.__init__"),
    ("langchain_core.messages", "BaseMessage.__subclasses__"),
    ("threadloom.types", "os"),
    ("threadloom.checkpoint.serde._allowlist", "importlib"),
    (__name__, "Step"),  # allowed
    (HumanMessage.__module__, HumanMessage.__qualname__),  # allowed
]

plain = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**63), 2**64 - 1) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner),
    max_leaves=6,
)


@st.composite
def crafted(draw: Callable[..., Any]) -> bytes:
    if draw(st.booleans()):  # a standard-library record with arguments of any shape
        tag = draw(st.sampled_from(sorted(_stdlib.BY_TAG)) | st.text(max_size=6))
        inner = ormsgpack.packb([tag, draw(plain | st.binary(max_size=20))])
        record = ormsgpack.Ext(EXT_STDLIB, inner)
    else:
        module, name = draw(st.sampled_from(_DANGEROUS_NAMES))
        args = draw(st.lists(plain | st.binary(max_size=8), max_size=3))
        inner = ormsgpack.packb([module, name, *args])
        record = ormsgpack.Ext(draw(st.integers(2, 10)), inner)
    return ormsgpack.packb(draw(st.sampled_from([record, [record], {"state": [1, record]}])))


@FUZZ
@given(crafted())
def test_crafted_records(data: bytes) -> None:
    check_load(data)


def test_audit_hook_sees_what_it_must() -> None:
    """The hook is not blind: an import outside the allow-list during a load is caught."""
    permissive = JsonPlusSerializer(allowed_msgpack_modules=True)
    record = ormsgpack.Ext(8, ormsgpack.packb(["xml.dom.minidom", "Node", {}]))
    sys.modules.pop("xml.dom.minidom", None)
    with pytest.raises(AssertionError, match=r"'import', 'xml\.dom"), audited():
        permissive.loads_typed(("msgpack", ormsgpack.packb(record)))
