"""The task pages of docs/ run as written: each page's blocks in order, in a fresh directory,
offline, printing what the page shows (``tests/doc_pages.py`` says how a page is read).

The PostgreSQL page runs against the suite's real server: it reads its DSN from
``DATABASE_URL``, as the page tells the reader to set it.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from doc_pages import NO_RUN_REASON, PageRun, blocks, python_code

DOCS = Path(__file__).parents[2] / "docs"

OFFLINE_PAGES = ["quickstart.md", "memory.md", "human-in-the-loop.md"]
"""Task pages whose code needs nothing but a temporary directory."""

POSTGRES_PAGES = ["production.md"]
"""Task pages whose code needs a PostgreSQL server (``DATABASE_URL``)."""

NO_RUN_ALLOWED: dict[str, int] = {"production.md": 0}
"""How many blocks each page may mark ``no-run``: a new one must be argued here."""


def run_page(name: str, capsys: pytest.CaptureFixture[str]) -> PageRun:
    page = PageRun(DOCS / name, lambda: capsys.readouterr().out)
    assert page.run() > 0, f"{name} has no code to run"
    assert len(page.skipped) <= NO_RUN_ALLOWED.get(name, 0), (NO_RUN_REASON, page.skipped)
    return page


@pytest.mark.parametrize("name", OFFLINE_PAGES)
def test_offline_page_runs_as_written(
    name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    run_page(name, capsys)


@pytest.mark.parametrize("name", POSTGRES_PAGES)
def test_postgres_page_runs_on_a_real_server(
    name: str,
    pg_dsn: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATABASE_URL", pg_dsn)
    run_page(name, capsys)


def test_readme_snippets_run_in_order(capsys: pytest.CaptureFixture[str]) -> None:
    namespace: dict[str, object] = {}
    for snippet in python_code((DOCS.parent / "README.md").read_text()):
        exec(compile(snippet, "README.md", "exec"), namespace)
    out = capsys.readouterr().out
    assert "Your name is Bob." in out
    assert out.strip().splitlines()[-1] == "{'text': 'User name is Bob'}"


RUN_ELSEWHERE = {
    "agents.md": "tests/prebuilt/test_docs_agents.py",
    "tracing.md": "tests/runtime/test_docs_tracing.py",
    "coming-from-langgraph.md": "tests/interop/test_migrate_docs.py",
    "cli.md": "tests/cli/test_docs.py",  # its console blocks are transcripts
}
"""Pages whose code another test runs (with checks of its own)."""

REFERENCE_PAGES = {
    "checkpoints.md",
    "differences.md",
    "durability.md",
    "graphs.md",
    "interop-langgraph.md",
    "messages.md",
    "postgres.md",
    "serialization.md",
    "store-sqlite.md",
    "store.md",
}
"""Reference pages: their snippets are fragments of a program (a `builder`, a model, embeddings
of your own), not steps to follow; the task pages above link to them."""


def test_every_page_with_code_is_run_or_listed_as_reference() -> None:
    run_here = set(OFFLINE_PAGES) | set(POSTGRES_PAGES)
    for name, test in RUN_ELSEWHERE.items():
        assert (DOCS.parent / test).exists(), f"{name}: {test} is gone"
    with_code = {p.name for p in DOCS.glob("*.md") if blocks(p.read_text(), ("python",))}
    unlisted = with_code - run_here - set(RUN_ELSEWHERE) - REFERENCE_PAGES
    assert not unlisted, f"run these pages' code in a test, or list them as reference: {unlisted}"


LINK = re.compile(r"\]\(([^)\s]+)\)")


def anchors(page: Path) -> set[str]:
    """GitHub's anchors for the page's headings."""
    found: set[str] = set()
    for heading in re.findall(r"^#+ (.+)$", FENCE_FREE.sub("", page.read_text()), re.M):
        slug = re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")
        repeat = sum(1 for a in found if a == slug or re.fullmatch(rf"{re.escape(slug)}-\d+", a))
        found.add(f"{slug}-{repeat}" if repeat else slug)  # a repeated heading gets -1, -2, ...
    return found


FENCE_FREE = re.compile(r"^```.*?^```$", re.S | re.M)


@pytest.mark.parametrize("name", ["README.md", *(f"docs/{p.name}" for p in DOCS.glob("*.md"))])
def test_links_lead_somewhere(name: str) -> None:
    """Every relative link of the README and docs/ names a file that exists, and a heading of
    it when it has an anchor: a newcomer following the pages never lands nowhere."""
    page = DOCS.parent / name
    broken = []
    for target in LINK.findall(FENCE_FREE.sub("", page.read_text())):
        if target.startswith(("http://", "https://", "mailto:")):
            continue
        path, _, anchor = target.partition("#")
        linked = (page.parent / path).resolve() if path else page
        missing_anchor = bool(anchor) and linked.suffix == ".md" and anchor not in anchors(linked)
        if not linked.exists() or missing_anchor:
            broken.append(target)
    assert not broken, f"{name}: {broken}"
