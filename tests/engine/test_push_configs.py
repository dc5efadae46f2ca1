"""The config of a ``Send`` task: ``StepConfigs.for_push`` works out what a node's push tasks
share once per step; each task must get exactly the dicts ``for_task`` builds (key order too:
callbacks and the ``messages`` stream read the metadata as it is)."""

from __future__ import annotations

from typing import Any

import pytest

from threadloom.constants import PUSH
from threadloom.engine.core import StepConfigs

_BASES: list[dict[str, Any]] = [
    {"configurable": {"thread_id": "t", "checkpoint_id": "c1"}},
    {  # a subgraph's config: its parent's metadata, a run name, keys before and after
        "tags": ["x"],
        "metadata": {"langgraph_path": ("old",), "user": 1, "langgraph_step": 9},
        "run_name": "parent",
        "configurable": {"thread_id": "t", "checkpoint_ns": "outer:1"},
        "recursion_limit": 5,
    },
    {"metadata": {"a": 1}},  # no configurable at all
]


def _ordered(value: Any) -> Any:
    """``value`` with every dict as its list of items: equality that sees key order."""
    if isinstance(value, dict):
        return [(k, _ordered(v)) for k, v in value.items()]
    return value


@pytest.mark.parametrize("base", _BASES)
@pytest.mark.parametrize("ns", ["", "outer:1", "outer:1|inner:2"])
def test_a_push_task_config_is_the_one_for_task_builds(base: dict[str, Any], ns: str) -> None:
    configs = StepConfigs(base, 3, ns)  # type: ignore[arg-type]
    config_of = configs.for_push("worker")
    for index, tid in enumerate(["id-a", "id-b"]):
        path = (PUSH, index, False)
        expected = configs.for_task("worker", tid, (PUSH,), path)
        got = config_of(tid, path)
        assert _ordered(got) == _ordered(expected)
    first, second = config_of("id-a", (PUSH, 0, False)), config_of("id-b", (PUSH, 1, False))
    # each task's dicts are its own: a task changing its config changes no sibling's
    assert first["configurable"] is not second["configurable"]
    assert first["metadata"] is not second["metadata"]
    assert (
        first["metadata"]["langgraph_checkpoint_ns"]
        != second["metadata"]["langgraph_checkpoint_ns"]
    )


def test_a_push_task_path_string_is_task_path_str_of_its_path() -> None:
    from threadloom.engine.core import _PUSH_PATH
    from threadloom.engine.ids import task_path_str

    for index in (0, 7, 199, 10**9 - 1, 10**10, 2**40):  # (past ten digits too)
        assert _PUSH_PATH % index == task_path_str((PUSH, index, False))
