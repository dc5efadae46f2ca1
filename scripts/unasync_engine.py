"""Write ``engine/_drive_sync.py`` from ``engine/_drive_async.py``; ``--check`` only compares.

The sync driver's effect loop is the async one without ``async``/``await`` and with the saver's
sync method names, the way httpcore keeps ``_sync/`` a translation of ``_async/``. The test suite
runs ``--check``, so an edit to one side alone fails CI.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

ENGINE = Path(__file__).resolve().parent.parent / "src" / "threadloom" / "engine"
SOURCE = ENGINE / "_drive_async.py"
TARGET = ENGINE / "_drive_sync.py"

HEADER = (
    '"""How the sync driver carries out a core\'s effects. GENERATED from ``_drive_async.py`` by\n'
    "``scripts/unasync_engine.py``: do not edit, edit the async file and run the script.\n"
    '"""\n'
)

# (pattern, replacement), applied in order to the text after the module docstring
RULES: tuple[tuple[str, str], ...] = (
    (r"\[t async for t in saver\.alist\((.*)\)\]", r"list(saver.list(\1))"),
    (r"import AsyncGenerator, Generator\b", "import Generator"),
    (r"AsyncGenerator\[(.+?), None\]", r"Generator[\1, None, None]"),
    (r"for chunk in workers\.drain\(\):\n\s+yield chunk", "yield from workers.drain()"),
    (r"\basync def ", "def "),
    (r"\bawait effect\.acall\(", "effect.call("),
    (r"\bawait ", ""),
    (r"\basync for ", "for "),
    (r"\bAsyncIterator\b", "Iterator"),
    (
        r"\bsaver\.a(put_writes_batch|put_writes|put_step_diff|put_steps|put_step|put|get_tuple|list)\b",
        r"saver.\1",
    ),
)


def translate(text: str) -> str:
    """The sync text of the async driver module."""
    body = text.split('"""', 2)[2].lstrip("\n")
    for pattern, replacement in RULES:
        body = re.sub(pattern, replacement, body)
    return HEADER + "\n" + body


def main(argv: list[str]) -> int:
    wanted = translate(SOURCE.read_text())
    if "--check" in argv:
        if TARGET.read_text() != wanted:
            print(f"{TARGET.name} is out of date: run python scripts/unasync_engine.py")
            return 1
        return 0
    TARGET.write_text(wanted)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
