"""Checkpoint and task ids: time-ordered, deterministic where resumes depend on it."""

import uuid

from threadloom.checkpoint.id import uuid6, uuid6_str
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
