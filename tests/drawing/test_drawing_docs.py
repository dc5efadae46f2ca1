"""The code of docs/graphs.md's "Drawing a graph" and "Node caching" sections runs as shown."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

DOC = Path(__file__).resolve().parents[2] / "docs" / "graphs.md"


def section_code(title: str) -> str:
    text = DOC.read_text()
    section = text.split(f"## {title}\n", 1)[1].split("\n## ", 1)[0]
    return "\n".join(re.findall(r"```python\n(.*?)```", section, re.S))


def test_drawing_and_caching_sections_run(capsys: pytest.CaptureFixture[str]) -> None:
    namespace: dict[str, object] = {"__name__": "docs_graphs"}
    exec(section_code("Drawing a graph"), namespace)
    printed = capsys.readouterr().out
    assert "classify -.-> answer;" in printed and "classify -.-> __end__;" in printed
    exec(section_code("Node caching"), namespace)
    assert namespace["chunks"] == [{"answer": {"question": "hi"}, "__metadata__": {"cached": True}}]
