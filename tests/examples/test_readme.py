"""The README's graph example runs as written."""

import re
from pathlib import Path

import pytest


def test_readme_graph_example_runs(capsys: pytest.CaptureFixture[str]) -> None:
    readme = (Path(__file__).parents[2] / "README.md").read_text()
    example = re.findall(r"```python\n(.*?)```", readme, re.S)[0]
    namespace: dict[str, object] = {}
    exec(compile(example, "README.md", "exec"), namespace)
    assert "Your name is Bob." in capsys.readouterr().out
