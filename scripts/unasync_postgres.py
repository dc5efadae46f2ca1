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
    (r"\.aclose\(\)", ".close()"),
    (r"\basynccontextmanager\b", "contextmanager"),
    (r"\bAsync(Connector|Connection|ConnectionPool|ExitStack|Iterator)\b", r"\1"),
    (r"\basync (def|with|for) ", r"\1 "),
    (r"\bawait ", ""),
)


def sync_text(async_text: str) -> str:
    """The sync connector module written from the async one's text."""
    _, _, code = async_text.split('"""', 2)
    for pattern, replacement in RULES:
        code = re.sub(pattern, replacement, code, flags=re.MULTILINE)
    return HEADER + "\n" + code.lstrip("\n")


if __name__ == "__main__":
    target = PACKAGE / "_sync.py"
    wanted = sync_text((PACKAGE / "_aio.py").read_text())
    if "--check" not in sys.argv[1:]:
        target.write_text(wanted)
    elif target.read_text() != wanted:
        sys.exit(f"{target.name} is out of date: run python scripts/unasync_postgres.py")
