"""The page runner itself: it runs what a page shows, and fails when a page lies."""

from __future__ import annotations

from pathlib import Path

import pytest
from doc_pages import PageRun

PAGE = """# A page

```python
x = 2
print(x * 21)
# 42
```

```python no-run
import a_module_nobody_has  # deliberately not run: the page would say why
```

Save this as `hello.py`:

```python
import sys

print("hello", sys.argv[1])
```

```console
$ python hello.py Bob
hello Bob
$ python hello.py Ann
hello Ann
```
"""


def run(text: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> PageRun:
    page = tmp_path / "page.md"
    page.write_text(text)
    runner = PageRun(page, lambda: capsys.readouterr().out)
    runner.run()
    return runner


def test_a_true_page_runs_and_its_no_run_block_is_reported(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    runner = run(PAGE, tmp_path, capsys)
    assert [b.flags for b in runner.skipped] == [("no-run",)]
    assert (tmp_path / "hello.py").exists()


@pytest.mark.parametrize(
    ("wrong", "right"),
    [
        ("# 42\n", "# 41\n"),  # a block printing something else than the page shows
        ("hello Ann\n", "hello Eve\n"),  # a program run printing something else
        ("print(x * 21)\n", "print(x * 21)\nprint(0)\n"),  # printing more than shown
    ],
)
def test_a_page_that_lies_fails(
    wrong: str,
    right: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(AssertionError):
        run(PAGE.replace(wrong, right), tmp_path, capsys)
