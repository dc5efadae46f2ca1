"""Writes ``pg_layout_v<SCHEMA>.json``: the rows of a PostgresSaver database in a compact layout
(``threadloom_threads`` and its ``bigint`` keys) and what that code read back from them.

Kept to show how the fixtures were made; each dump only comes out right when run with threadloom
as it was at that schema, with a DSN: ``python make_pg_layout_compact.py SCHEMA DSN``.

- ``pg_layout_v26.json``, commit 71ebbcd: ``bytea`` ids, a ``ts`` column in every checkpoint
  row, every write stored whole;
- ``pg_layout_v34.json``, commit 3bdf9d7: a write with the bytes of a value row of its step stored
  as a reference to it, writes and values of ``None`` riding on other rows, short type tags and
  task paths, ``ts`` a ``timestamptz``, metadata as its JSON text.

The threads are those of ``make_pg_layout_v8.write``. ``test_postgres_layout.py`` loads the rows
into a schema of that version and opens them with today's code, which must read the same and go on.
"""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).parent
TABLES = (
    "threadloom_threads",
    "threadloom_checkpoints",
    "threadloom_checkpoint_blobs",
    "threadloom_checkpoint_writes",
)


def main(schema: str, dsn: str) -> None:
    sys.path.insert(0, str(HERE))
    import make_pg_layout_v8

    make_pg_layout_v8.dump(dsn, TABLES, f"pg_layout_v{schema}.json")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
