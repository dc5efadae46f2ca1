"""Run a Markdown page's code as a reader would, and check it prints what the page shows.

The one extractor of the suite's docs tests. A page's fenced blocks are read in order:

- A ```python block runs in the page's namespace, after the blocks before it. Its trailing
  ``# `` lines are what it prints, line for line (a block without them prints nothing).
- A ```python block followed by a ```console block whose commands are ``$ python NAME ...`` is a
  program the reader saves as ``NAME``: each command runs it anew (``runpy``, as ``__main__``,
  with those arguments), and prints the lines under the command.
- ```python no-run marks a block that is deliberately not run; the page says why next to it
  (``NO_RUN_REASON`` below is what the test reports for it).
- ```console lines ``$ threadloom ...`` run the CLI in process (``$VARS`` expanded from the
  environment); they must succeed and print the lines under them, when the page shows any.
"""

from __future__ import annotations

import os
import re
import runpy
import shlex
import sys
import types
from dataclasses import dataclass
from pathlib import Path
from typing import Any

FENCE = re.compile(r"^```(\w+)([^\n]*)\n(.*?)^```$", re.S | re.M)
NO_RUN_REASON = "marked ```python no-run: it needs something the tests do not have (see page)"


@dataclass(frozen=True, slots=True)
class Block:
    """One fenced block of a page."""

    language: str
    """``python`` or ``console`` (other languages are not collected)."""
    flags: tuple[str, ...]
    """Words after the language, e.g. ``("no-run",)``."""
    code: str
    line: int
    """Line of the opening fence, for messages."""

    @property
    def runs(self) -> bool:
        return "no-run" not in self.flags

    @property
    def printed(self) -> list[str]:
        """The trailing ``# `` lines of a python block: what it prints."""
        lines = self.code.rstrip().splitlines()
        tail: list[str] = []
        while lines and (lines[-1].startswith("# ") or lines[-1] == "#"):
            tail.insert(0, lines.pop()[2:])
        return tail


def blocks(text: str, languages: tuple[str, ...] = ("python", "console")) -> list[Block]:
    """The page's fenced blocks in those languages, in order."""
    return [
        Block(m[1], tuple(m[2].split()), m[3], text.count("\n", 0, m.start()) + 1)
        for m in FENCE.finditer(text)
        if m[1] in languages
    ]


def python_code(text: str) -> list[str]:
    """The source of each runnable ```python block, in order."""
    return [b.code for b in blocks(text, ("python",)) if b.runs]


def _commands(session: str) -> list[tuple[list[str], list[str]]]:
    """A console block as (argv, lines printed) pairs."""
    found: list[tuple[list[str], list[str]]] = []
    for line in session.strip().splitlines():
        if line.startswith("$ "):
            found.append((shlex.split(line[2:]), []))
        elif found:
            found[-1][1].append(line)
    return found


def _is_program(session: Block) -> bool:
    return any(argv[:1] == ["python"] for argv, _ in _commands(session.code))


def _run_cli(argv: list[str], page: Path, line: int) -> list[str]:
    from click.testing import CliRunner

    from threadloom.cli.app import cli

    args = [os.path.expandvars(a) for a in argv[1:]]
    result = CliRunner().invoke(cli, args, catch_exceptions=False)
    assert result.exit_code == 0, f"{page.name}:{line}: {' '.join(argv)}\n{result.output}"
    return result.stdout.strip().splitlines()


class PageRun:
    """Runs one page's blocks in order, in the current directory; ``output`` reads what a block
    printed since the last call (pytest's ``capsys.readouterr().out``)."""

    def __init__(self, page: Path, output: Any) -> None:
        self.page, self.output = page, output
        module = types.ModuleType(f"docs_page_{page.stem.replace('-', '_')}")
        sys.modules[module.__name__] = module  # TypedDict and dataclass hints resolve in it
        self.namespace = module.__dict__
        self.skipped: list[Block] = []

    def run(self) -> int:
        """Run every block; return how many ran."""
        found = blocks(self.page.read_text())
        ran = 0
        for at, block in enumerate(found):
            following = found[at + 1] if at + 1 < len(found) else None
            if not block.runs:
                self.skipped.append(block)
            elif block.language == "python" and following and following.language == "console":
                if _is_program(following):
                    continue  # saved and run by the console block that follows it
                self._exec(block)
            elif block.language == "python":
                self._exec(block)
            elif _is_program(block):
                self._run_program(found[at - 1], block)
            else:
                self._run_session(block)
            ran += 1
        return ran

    def _where(self, block: Block) -> str:
        return f"{self.page.name}:{block.line}"

    def _exec(self, block: Block) -> None:
        self.output()
        exec(compile(block.code, self._where(block), "exec"), self.namespace)
        printed = self.output().rstrip("\n")
        lines = printed.splitlines() if printed else []
        shown = block.printed
        assert lines == shown, f"{self._where(block)} printed {lines}, the page shows {shown}"

    def _run_program(self, program: Block, session: Block) -> None:
        for argv, expected in _commands(session.code):
            assert argv[0] == "python", self._where(session)
            Path(argv[1]).write_text(program.code)
            saved = sys.argv
            sys.argv = argv[1:]
            try:
                self.output()
                runpy.run_path(argv[1], run_name="__main__")
            finally:
                sys.argv = saved
            assert self.output().strip().splitlines() == expected, (self._where(session), argv)

    def _run_session(self, session: Block) -> None:
        for argv, expected in _commands(session.code):
            assert argv[0] == "threadloom", f"{self._where(session)}: cannot run {argv[0]!r}"
            printed = _run_cli(argv, self.page, session.line)
            if expected:
                assert printed == expected, (self._where(session), argv)
