"""Store benchmark: put throughput and search latency, threadloom next to LangGraph in one run.

Workload (issue 3): 100,000 items of 384 dimensions spread over 100 users, namespaces
``("memories", user)``, ``fields=["text"]``. Four stores are loaded the same way and asked the
same queries:

- threadloom ``SqliteStore`` and LangGraph's ``SqliteStore`` (sqlite-vec), each on a fresh file;
- threadloom ``InMemoryStore`` and LangGraph's ``InMemoryStore``;
- and a bare numpy top-k over the same unit-length matrix, the floor for in-memory search.

The embedder is a lookup (text ``"doc 123"`` → row 123 of a fixed random matrix, as a list of
floats like any LangChain embedder returns), so embedding costs the same for every store and no
model runs. Every store's top hit for a probe query is checked against numpy before timing, so a
fast wrong answer cannot win.

Run it from the benchmark venv (see benchmarks/README.md):

    .bench-venv/bin/python benchmarks/store_search.py                  # the full workload
    .bench-venv/bin/python benchmarks/store_search.py --items 20000    # quicker
    .bench-venv/bin/python benchmarks/store_search.py --stores tl-sqlite lg-sqlite
"""

from __future__ import annotations

import argparse
import gc
import re
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

_DOC = re.compile(r"(doc|query) (\d+)")


@dataclass(slots=True)
class Workload:
    """The shared data: item vectors, query vectors, and who owns which item."""

    items: int
    dims: int
    users: int
    queries: int
    docs: np.ndarray = field(init=False)
    probes: np.ndarray = field(init=False)

    def __post_init__(self) -> None:
        rng = np.random.default_rng(7)
        self.docs = rng.standard_normal((self.items, self.dims), dtype=np.float32)
        self.probes = rng.standard_normal((self.queries + 8, self.dims), dtype=np.float32)

    def embed(self, texts: list[str]) -> list[list[float]]:
        """The embedder every store gets: a lookup returning plain lists of floats."""
        out = []
        for text in texts:
            match = _DOC.search(text)
            assert match, text
            table = self.docs if match[1] == "doc" else self.probes
            out.append(table[int(match[2])].tolist())
        return out

    def user(self, i: int) -> str:
        return str(i % self.users)

    def index(self) -> dict[str, Any]:
        return {"dims": self.dims, "embed": self.embed, "fields": ["text"]}

    def numpy_top(self, q: int, user: str | None, k: int = 10) -> list[int]:
        """Item numbers of the true top-k by cosine similarity."""
        rows = np.arange(self.items)
        if user is not None:
            rows = rows[rows % self.users == int(user)]
        m = self.docs[rows]
        scores = (m @ self.probes[q]) / np.linalg.norm(m, axis=1)
        return rows[np.argsort(-scores)[:k]].tolist()


# -- the stores ----------------------------------------------------------------------------


def _sqlite_connect(path: str) -> Any:
    """A sqlite3 connection that can load extensions (for LangGraph's sqlite-vec).

    The pyenv CPython builds lack ``enable_load_extension``; ``pysqlite3-binary`` has it.
    """
    import sqlite3

    conn = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
    if hasattr(conn, "enable_load_extension"):
        return conn
    conn.close()
    from pysqlite3 import dbapi2  # type: ignore[import-not-found]

    return dbapi2.connect(path, check_same_thread=False, isolation_level=None)


@contextmanager
def open_store(name: str, work: Workload, folder: Path) -> Iterator[tuple[Any, type]]:
    """The store under test and its ``PutOp`` class."""
    if name == "tl-sqlite":
        from threadloom.store.base import PutOp
        from threadloom.store.sqlite import SqliteStore

        with SqliteStore.from_conn_string(str(folder / "tl.db"), index=work.index()) as store:
            store.setup()
            yield store, PutOp
    elif name == "lg-sqlite":
        from langgraph.store.base import PutOp as LgPutOp
        from langgraph.store.sqlite import SqliteStore as LgSqliteStore

        conn = _sqlite_connect(str(folder / "lg.db"))
        try:
            store = LgSqliteStore(conn, index=work.index())
            store.setup()
            yield store, LgPutOp
        finally:
            conn.close()
    elif name == "tl-memory":
        from threadloom.store.base import PutOp
        from threadloom.store.memory import InMemoryStore

        yield InMemoryStore(index=work.index()), PutOp  # type: ignore[arg-type]
    elif name == "lg-memory":
        from langgraph.store.base import PutOp as LgPutOp
        from langgraph.store.memory import InMemoryStore as LgInMemoryStore

        yield LgInMemoryStore(index=work.index()), LgPutOp
    else:
        raise SystemExit(f"unknown store {name!r}; use {', '.join(STORES)}")


STORES = ("tl-sqlite", "lg-sqlite", "tl-memory", "lg-memory")


# -- timing --------------------------------------------------------------------------------


def _median_ms(run: Callable[[int], object], reps: int, budget_s: float) -> tuple[float, int]:
    """Median milliseconds of ``run(i)`` over up to ``reps`` calls, stopping after ``budget_s``."""
    times: list[float] = []
    started = time.perf_counter()
    for i in range(reps):
        t0 = time.perf_counter()
        run(i)
        times.append((time.perf_counter() - t0) * 1e3)
        if time.perf_counter() - started > budget_s and len(times) >= 3:
            break
    return statistics.median(times), len(times)


def measure(name: str, work: Workload, batch: int, budget_s: float) -> dict[str, float]:
    """Load one store, check its answers, time its searches."""
    figures: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as tmp, open_store(name, work, Path(tmp)) as (store, put):
        t0 = time.perf_counter()
        for start in range(0, work.items, batch):
            ops = [
                put(("memories", work.user(i)), str(i), {"text": f"doc {i}", "n": i})
                for i in range(start, min(work.items, start + batch))
            ]
            store.batch(ops)
        figures["put items/s"] = work.items / (time.perf_counter() - t0)

        # The first search may load an index (threadloom's SQLite mirror); timed apart.
        t0 = time.perf_counter()
        first = store.search(("memories",), query=f"query {work.queries}", limit=10)
        figures["first search ms"] = (time.perf_counter() - t0) * 1e3
        expected = work.numpy_top(work.queries, None)
        if [int(i.key) for i in first] != expected:
            raise SystemExit(f"{name}: wrong top-10 over all users: {[i.key for i in first]}")
        probe_user = work.user(3)
        found = store.search(("memories", probe_user), query=f"query {work.queries + 1}", limit=10)
        if [int(i.key) for i in found] != work.numpy_top(work.queries + 1, probe_user):
            raise SystemExit(f"{name}: wrong top-10 within one user: {[i.key for i in found]}")

        def one_user(i: int) -> object:
            ns = ("memories", work.user(i * 7))
            return store.search(ns, query=f"query {i}", limit=10)

        def all_users(i: int) -> object:
            return store.search(("memories",), query=f"query {i}", limit=10)

        def one_user_filtered(i: int) -> object:
            ns = ("memories", work.user(i * 7))
            return store.search(ns, query=f"query {i}", filter={"n": {"$gte": 50_000}}, limit=10)

        figures["search one user ms"], _ = _median_ms(one_user, work.queries, budget_s)
        figures["search one user + filter ms"], _ = _median_ms(
            one_user_filtered, work.queries, budget_s
        )
        figures["search all users ms"], _ = _median_ms(all_users, work.queries, budget_s)
    gc.collect()
    return figures


def bare_numpy(work: Workload) -> dict[str, float]:
    """The floor: one product over the unit-length matrix plus argpartition, per query."""
    matrix = work.docs / np.linalg.norm(work.docs, axis=1, keepdims=True)

    def top(i: int) -> object:
        q = work.probes[i] / np.linalg.norm(work.probes[i])
        scores = matrix @ q
        best = np.argpartition(-scores, 10)[:10]
        return best[np.argsort(-scores[best])]

    ms, _ = _median_ms(top, work.queries, 60)
    return {"search all users ms": ms}


# -- report --------------------------------------------------------------------------------

ROWS = [
    ("put items/s", "at least LangGraph's", lambda tl, lg: tl >= lg),
    ("first search ms", "", None),
    ("search one user ms", "at most 1/10 of LangGraph's", lambda tl, lg: tl <= lg / 10),
    ("search one user + filter ms", "", None),
    ("search all users ms", "at most 1/10 of LangGraph's", lambda tl, lg: tl <= lg / 10),
]


def report(results: dict[str, dict[str, float]], work: Workload) -> None:
    print(
        f"\n{work.items:,} items x {work.dims} dims over {work.users} users; "
        "top 10; search figures are medians\n"
    )
    header = f"{'metric':<28} {'threadloom':>12} {'LangGraph':>12} {'tl/LG':>8}  target"
    for kind, label in (("sqlite", "SqliteStore"), ("memory", "InMemoryStore")):
        tl, lg = results.get(f"tl-{kind}"), results.get(f"lg-{kind}")
        if not tl and not lg:
            continue
        print(f"{label}\n{header}\n{'-' * len(header)}")
        for metric, target, ok in ROWS:
            a, b = (tl or {}).get(metric), (lg or {}).get(metric)
            ratio = f"{a / b:.3f}x" if a is not None and b else ""
            verdict = ""
            if ok is not None and a is not None and b is not None:
                verdict = f"{target}: {'met' if ok(a, b) else 'MISSED'}"
            print(f"{metric:<28} {_fmt(a):>12} {_fmt(b):>12} {ratio:>8}  {verdict}")
        print()
    tl_mem, floor = results.get("tl-memory"), results.get("numpy")
    if tl_mem and floor:
        a, b = tl_mem["search all users ms"], floor["search all users ms"]
        verdict = "met" if a <= 2 * b else "MISSED"
        print(
            f"InMemoryStore all users {a:.2f} ms vs bare numpy top-k {b:.2f} ms: "
            f"{a / b:.2f}x (target: within 2x: {verdict})"
        )


def _fmt(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value:,.0f}" if value >= 100 else f"{value:.2f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--dims", type=int, default=384)
    parser.add_argument("--users", type=int, default=100)
    parser.add_argument("--queries", type=int, default=30, help="timed queries per figure")
    parser.add_argument("--batch", type=int, default=500, help="puts per batch")
    parser.add_argument("--budget", type=float, default=20.0, help="seconds per search figure")
    parser.add_argument("--stores", nargs="*", default=list(STORES), choices=STORES)
    args = parser.parse_args()
    work = Workload(args.items, args.dims, args.users, args.queries)
    results: dict[str, dict[str, float]] = {"numpy": bare_numpy(work)}
    for name in args.stores:
        print(f"{name}: loading {args.items:,} items ...", flush=True)
        results[name] = measure(name, work, args.batch, args.budget)
        print(f"  {results[name]}", flush=True)
    report(results, work)


if __name__ == "__main__":
    main()
