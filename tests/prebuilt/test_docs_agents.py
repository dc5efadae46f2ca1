"""docs/agents.md runs as written: its code blocks, in order, print what the comments say."""

import re
from pathlib import Path

import pytest

PAGE = Path(__file__).parents[2] / "docs" / "agents.md"


def test_agents_page_runs(capsys: pytest.CaptureFixture[str]) -> None:
    namespace: dict[str, object] = {}
    for block in re.findall(r"```python\n(.*?)```", PAGE.read_text(), re.S):
        exec(compile(block, str(PAGE), "exec"), namespace)
    out = capsys.readouterr().out.splitlines()
    assert out == [
        "['human', 'ai', 'tool', 'ai']",
        "It is sunny in Paris.",
        "It is sunny in Rome.",
        "['Transferred to billing.', 'Billing here, how can I help?']",
        "{'seen': [(3, False), (2, False), (1, True)]}",
    ]
