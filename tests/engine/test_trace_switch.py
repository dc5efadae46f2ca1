"""A run asks whether LangSmith traces it without calling ``tracing_is_enabled()`` while none of
LangSmith's switches is set (``callbacks._langsmith_tracing``): its answer must be LangSmith's
own in every state those switches and the environment can be in."""

from __future__ import annotations

from typing import Any

import pytest
from langsmith import tracing_context
from langsmith import utils as ls_utils
from langsmith._internal import _context
from langsmith.run_trees import RunTree

from threadloom.engine import callbacks


def _agree() -> Any:
    ours, theirs = callbacks._langsmith_tracing(), ls_utils.tracing_is_enabled()
    assert ours == theirs
    return ours


@pytest.mark.parametrize("tracing_env", ["", "true", "false"])
def test_the_environment_s_answer_is_langsmith_s(
    monkeypatch: pytest.MonkeyPatch, tracing_env: str
) -> None:
    def get_env_var(name: str, default: Any = None, **_: Any) -> Any:
        return tracing_env if name == "TRACING_V2" and tracing_env else default

    monkeypatch.setattr(ls_utils, "get_env_var", get_env_var)
    assert callbacks._LANGSMITH is not None  # this LangSmith's switches are read directly
    assert _agree() is (tracing_env == "true")
    with tracing_context(enabled=False):
        assert _agree() is False
    with tracing_context(enabled=True):
        assert _agree() is True
    with tracing_context(enabled="local"):
        assert _agree() == "local"
    monkeypatch.setattr(_context, "_GLOBAL_TRACING_ENABLED", True)
    assert _agree() is True
    monkeypatch.setattr(_context, "_GLOBAL_TRACING_ENABLED", False)
    assert _agree() is False


def test_a_current_run_tree_means_tracing() -> None:
    with tracing_context(parent=RunTree(name="outer")):
        assert _agree() is True
    assert _agree() is ls_utils.tracing_is_enabled()


def test_langsmith_is_asked_when_its_switches_are_not_where_we_look(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(callbacks, "_LANGSMITH", None)
    monkeypatch.setattr(ls_utils, "tracing_is_enabled", lambda: "asked")
    assert callbacks._langsmith_tracing() == "asked"
