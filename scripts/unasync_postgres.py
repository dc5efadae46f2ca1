"""Write ``_postgres/_sync.py`` from ``_postgres/_aio.py``; ``--check`` only compares.

The sync connector is the async one without ``async``/``await``, with psycopg's sync classes
and a ``threading.RLock`` for the ``asyncio.Lock``. All the logic both share is in ``_core`` and
``_settings``; what is left is I/O, written once here in its async form. The test suite runs
``--check`` (``tests/store/test_postgres_connections.py``), so an edit to one side alone fails.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "src" / "threadloom" / "_postgres"
SOURCE = PACKAGE / "_aio.py"
TARGET = PACKAGE / "_sync.py"

HEADER = (
    '"""The sync connector. GENERATED from ``_aio.py`` by ``scripts/unasync_postgres.py``: do not\n'
    "edit, edit the async file and run the script.\n"
    '"""\n'
)

# (pattern, replacement), applied in order to the text after the module docstring
RULES: tuple[tuple[str, str], ...] = (
    (r"^import asyncio$", "import threading"),
    (r"asyncio\.Lock\(\)", "threading.RLock()"),  # as the sync connector always had
    (r"import AsyncIterator, Callable, Mapping", "import Callable, Iterator, Mapping"),
    (r"import AsyncExitStack, asynccontextmanager", "import ExitStack, contextmanager"),
    (r"\benter_async_context\b", "enter_context"),
    (r"\basynccontextmanager\b", "contextmanager"),
    (r"\bAsync(Connector|Connection|ConnectionPool|ExitStack|Iterator)\b", r"\1"),
    (r"\basync (def|with|for) ", r"\1 "),
    (r"\bawait ", ""),
)


def translate(text: str) -> str:
    """The sync text of the async connector module."""
    body = text.split('"""', 2)[2].lstrip("\n")
    for pattern, replacement in RULES:
        body = re.sub(pattern, replacement, body, flags=re.MULTILINE)
    return HEADER + "\n" + body


def main(argv: list[str]) -> int:
    wanted = translate(SOURCE.read_text())
    if "--check" in argv:
        if TARGET.read_text() != wanted:
            print(f"{TARGET.name} is out of date: run python scripts/unasync_postgres.py")
            return 1
        return 0
    TARGET.write_text(wanted)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
