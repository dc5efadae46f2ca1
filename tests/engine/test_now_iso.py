"""A checkpoint's ``ts`` is ``datetime.now(UTC).isoformat()``, made from a per-second cache."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import pytest

from threadloom.engine import checkpoints


@pytest.mark.parametrize(
    "ns",
    [
        1_765_000_000_123_456_789,  # microseconds 123456 (nanoseconds dropped, as datetime does)
        1_765_000_000_000_000_000,  # a whole second: isoformat leaves the fraction out
        1_765_000_000_000_001_000,  # one microsecond past it
        1_765_000_001_999_999_999,  # the next second, at its last microsecond
    ],
)
def test_matches_isoformat(monkeypatch: pytest.MonkeyPatch, ns: int) -> None:
    monkeypatch.setattr(time, "time_ns", lambda: ns)
    expected = datetime.fromtimestamp(ns // 1_000_000_000, UTC).replace(
        microsecond=ns // 1000 % 1_000_000
    )
    assert checkpoints._now_iso() == expected.isoformat()


def test_follows_the_clock_across_seconds() -> None:
    first = checkpoints._now_iso()
    assert datetime.fromisoformat(first) <= datetime.now(UTC)
    assert datetime.fromisoformat(first).tzinfo is not None
