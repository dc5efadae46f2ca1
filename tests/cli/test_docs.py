"""The docs' code runs as written: the quickstart's programs give the console output it shows,
and docs/cli.md's exit-code table is the one the CLI uses."""

from __future__ import annotations

import re
import runpy
import shlex
import sys
from pathlib import Path

import pytest

from threadloom.cli._common import EXIT_CODES

DOCS = Path(__file__).parents[2] / "docs"


def blocks(text: str, language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", text, re.S)


def test_quickstart_programs_print_what_the_page_shows(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    page = (DOCS / "quickstart.md").read_text()
    programs = blocks(page, "python")
    sessions = blocks(page, "console")
    assert len(programs) == len(sessions) == 2
    monkeypatch.chdir(tmp_path)
    for program, session in zip(programs, sessions, strict=True):
        lines = session.strip().splitlines()
        name = shlex.split(lines[0][2:])[1]
        (tmp_path / name).write_text(program)
        commands = [(i, shlex.split(line[2:])) for i, line in enumerate(lines) if line[:2] == "$ "]
        for (at, argv), (end, _) in zip(commands, [*commands[1:], (len(lines), [])], strict=True):
            expected = "\n".join(lines[at + 1 : end])
            monkeypatch.setattr(sys, "argv", argv[1:])  # each run opens the file anew
            runpy.run_path(str(tmp_path / name), run_name="__main__")
            assert capsys.readouterr().out.strip() == expected, argv


def test_exit_code_table_in_docs_matches_the_cli() -> None:
    page = (DOCS / "cli.md").read_text()
    rows = dict(re.findall(r"^\| `(\d)` \| (.+?) \|$", page, re.M))
    assert {int(code) for code in rows} == set(EXIT_CODES)


def test_readme_snippets_run_in_order(capsys: pytest.CaptureFixture[str]) -> None:
    readme = (DOCS.parent / "README.md").read_text()
    namespace: dict[str, object] = {}
    for snippet in blocks(readme, "python"):
        exec(compile(snippet, "README.md", "exec"), namespace)
    out = capsys.readouterr().out
    assert "Your name is Bob." in out
    assert out.strip().splitlines()[-1] == "{'text': 'User name is Bob'}"
