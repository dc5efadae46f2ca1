"""docs/coming-from-langgraph.md runs as written: its programs in order, its console session."""

from __future__ import annotations

import re
import shlex
import sys
import types
from pathlib import Path

import pytest
from click.testing import CliRunner

pytest.importorskip("langgraph.checkpoint.sqlite")

from threadloom.cli.app import cli

PAGE = Path(__file__).parents[2] / "docs" / "coming-from-langgraph.md"


def test_the_page_runs_and_prints_what_it_says(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    text = PAGE.read_text()
    programs = re.findall(r"```python\n(.*?)```", text, re.S)
    (session,) = re.findall(r"```console\n(.*?)```", text, re.S)
    monkeypatch.chdir(tmp_path)
    module = types.ModuleType("coming_from_langgraph_page")  # TypedDict hints resolve in it
    monkeypatch.setitem(sys.modules, module.__name__, module)
    namespace = module.__dict__
    swap, langgraph_app, migrate_py, continue_py, keep_backend = programs
    exec(swap, namespace)
    assert "'items': ['hi', 'noted']" in capsys.readouterr().out
    exec(langgraph_app, namespace)
    command, expected = session.strip().splitlines()
    result = CliRunner().invoke(cli, shlex.split(command[2:])[1:])
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == expected
    capsys.readouterr()
    for program in (migrate_py, continue_py, keep_backend):
        exec(program, namespace)
        printed = capsys.readouterr().out.strip().splitlines()
        comments = re.findall(r"print\(.*\)  # (.*)", program)
        assert printed[: len(comments)] == comments, program
