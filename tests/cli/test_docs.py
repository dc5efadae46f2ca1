"""docs/cli.md's exit-code table is the one the CLI uses. (The quickstart and the README run in
tests/docs/test_docs_pages.py.)"""

from __future__ import annotations

import re
from pathlib import Path

from threadloom.cli._common import EXIT_CODES

DOCS = Path(__file__).parents[2] / "docs"


def test_exit_code_table_in_docs_matches_the_cli() -> None:
    page = (DOCS / "cli.md").read_text()
    rows = dict(re.findall(r"^\| `(\d)` \| (.+?) \|$", page, re.M))
    assert {int(code) for code in rows} == set(EXIT_CODES)
