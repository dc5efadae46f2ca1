"""Checkpoint and task ids: time-ordered, deterministic where resumes depend on it."""

import uuid

import pytest

from threadloom.checkpoint.id import uuid4_str, uuid6, uuid6_str
from threadloom.engine.ids import interrupt_id, task_id, task_path_str


def test_fast_checkpoint_ids_are_uuid6_in_creation_order() -> None:
    ids = [uuid6_str(step) if step % 2 else str(uuid6(clock_seq=step)) for step in range(-1, 50)]
    assert ids == sorted(ids)
    parsed = uuid.UUID(ids[0])
    assert parsed.version == 6 and ids[0].split("-")[3] == "bfff"  # step -1
    assert uuid6_str(0).split("-")[3] == "8000" and uuid6_str(2).split("-")[3] == "8002"


def test_task_ids_are_deterministic_and_distinct() -> None:
    a = task_id("cp", "", "1", "node", "__pregel_pull", "branch:to:node")
    assert a == task_id("cp", "", "1", "node", "__pregel_pull", "branch:to:node")
    assert a != task_id("cp", "", "2", "node", "__pregel_pull", "branch:to:node")
    assert a != task_id("cp2", "", "1", "node", "__pregel_pull", "branch:to:node")
    assert len(a) == 36 and a.count("-") == 4
    assert len(interrupt_id("node:" + a)) == 32
    assert interrupt_id("ns") != interrupt_id("ns", 1)


def test_task_paths_sort_pull_before_push_and_pad_ints() -> None:
    assert task_path_str(("__pregel_pull", "b")) < task_path_str(("__pregel_push", 0))
    assert task_path_str(("__pregel_push", 2)) < task_path_str(("__pregel_push", 10))


def test_fast_checkpoint_ids_match_the_uuid_layout_across_kept_heads(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # uuid6_str keeps the text of the first two fields while the top 48 timestamp bits stay
    # the same: each id must still be the UUID built field by field, before, at and after a
    # change of those bits, and with a clock that steps back (forced strictly increasing)
    from threadloom.checkpoint import id as ids

    monkeypatch.setattr(ids, "_getrandbits", lambda bits: 0xABCDEF012345)
    monkeypatch.setattr(ids, "_last_timestamp", 0)
    monkeypatch.setattr(ids, "_head", (-1, ""))
    base = 1_765_000_000_000_000_000 // 100 * 100
    stamps = [0, 100, 409_500, 409_600, 409_700, 5_000_000_000, 4_999_999_000, 7 * 409_600]
    last = 0
    for step, offset in enumerate(stamps):
        now_ns = base + offset
        timestamp = last = max(now_ns // 100 + ids._GREGORIAN_OFFSET, last + 1)
        timestamp &= 0x0FFF_FFFF_FFFF_FFFF
        value = ((timestamp >> 12) << 80) | (0x6 << 76) | ((timestamp & 0x0FFF) << 64)
        value |= (0b10 << 62) | ((step & 0x3FFF) << 48) | 0xABCDEF012345
        assert ids.uuid6_str(step, now_ns) == str(uuid.UUID(int=value))


def test_uuid4_str_is_a_random_uuid4_as_str_gives_it(monkeypatch: pytest.MonkeyPatch) -> None:
    """Message ids: ``str(uuid.uuid4())`` from the same 16 random bytes, without a ``UUID``."""
    from threadloom.checkpoint import id as ids

    for raw in (b"\xff" * 16, b"\x00" * 16, bytes(range(16))):
        monkeypatch.setattr(ids, "_urandom", lambda n, raw=raw: raw)
        assert uuid4_str() == str(uuid.UUID(bytes=raw, version=4))
    monkeypatch.undo()
    made = {uuid4_str() for _ in range(1000)}
    assert len(made) == 1000
    assert all(uuid.UUID(s).version == 4 and str(uuid.UUID(s)) == s for s in made)
