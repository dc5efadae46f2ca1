"""docs/tracing.md runs as written: its python blocks, in order, print what the comments say."""

import re
from pathlib import Path

import pytest

PAGE = Path(__file__).parents[2] / "docs" / "tracing.md"


def _expected(block: str) -> list[str]:
    """The ``# ...`` lines that end a block: what it prints."""
    lines = block.rstrip().splitlines()
    tail: list[str] = []
    while lines and lines[-1].startswith("# "):
        tail.insert(0, lines.pop()[2:])
    return tail


def test_tracing_page_runs(capsys: pytest.CaptureFixture[str]) -> None:
    namespace: dict[str, object] = {}
    blocks = re.findall(r"```python\n(.*?)```", PAGE.read_text(), re.S)
    assert len(blocks) == 8
    for block in blocks:
        exec(compile(block, str(PAGE), "exec"), namespace)
        assert capsys.readouterr().out.splitlines() == _expected(block)
