"""The ``threadloom`` command: a memory chatbot, its demo, and tools to look inside a database.

``threadloom chat`` and ``threadloom demo`` run the persistence guides' chatbot on one SQLite
file; ``threadloom threads ...`` and ``threadloom store ...`` inspect and manage what a saver and a
store hold. Needs the ``cli`` extra (``pip install 'threadloom[cli]'``); see docs/cli.md.
"""

from __future__ import annotations

import sys

__all__ = ["main"]


def main() -> None:
    """The console script's entry point."""
    try:
        from threadloom.cli.app import cli
    except ImportError as exc:  # click or rich missing: say which extra brings them
        sys.stderr.write(
            f"threadloom's command line needs {exc.name!r}: pip install 'threadloom[cli]'\n"
        )
        raise SystemExit(1) from exc
    cli(prog_name="threadloom")
