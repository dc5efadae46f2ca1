"""``threadloom migrate``: LangGraph files into threadloom databases through click's runner.

Here rather than in ``tests/cli/``: only ``tests/interop/`` imports LangGraph, which makes the
source files."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

pytest.importorskip("langgraph.checkpoint.sqlite")

from migrate_sources import THREADS, make_threads

from threadloom.cli.app import cli


@pytest.fixture(scope="module")
def langgraph_template(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    from langgraph.checkpoint.sqlite import SqliteSaver

    path = tmp_path_factory.mktemp("lg") / "langgraph.db"
    with SqliteSaver.from_conn_string(str(path)) as saver:
        make_threads(saver)
    return path.read_bytes()


@pytest.fixture
def langgraph_file(tmp_path: Path, langgraph_template: bytes) -> Path:
    path = tmp_path / "langgraph.db"
    path.write_bytes(langgraph_template)
    return path


def migrate(*args: str) -> Any:
    return CliRunner().invoke(cli, ["migrate", *args])


def test_migrate_copies_every_thread_shows_progress_and_a_second_run_copies_nothing(
    langgraph_file: Path, tmp_path: Path
) -> None:
    target = str(tmp_path / "threadloom.db")
    before = hashlib.sha256(langgraph_file.read_bytes()).hexdigest()
    first = migrate(str(langgraph_file), "--db", target)
    assert first.exit_code == 0, first.output
    assert f"{len(THREADS)} thread(s)" in first.stdout and "0 already there" in first.stdout
    assert "checkpoints" in first.stderr and "━" in first.stderr  # the bar's last state
    second = migrate(str(langgraph_file), "--db", target, "--json")
    assert second.exit_code == 0, second.output
    report = json.loads(second.stdout)["checkpoints"]
    assert report["copied"] == 0 and report["skipped"] == report["checkpoints"] > len(THREADS)
    assert hashlib.sha256(langgraph_file.read_bytes()).hexdigest() == before
    listed = CliRunner().invoke(cli, ["threads", "ls", "--db", target, "--json"])
    assert listed.exit_code == 0, listed.output
    assert {t["thread_id"] for t in json.loads(listed.stdout)["threads"]} == set(THREADS)


def test_thread_picks_threads_and_an_unknown_one_is_exit_3(
    langgraph_file: Path, tmp_path: Path
) -> None:
    target = str(tmp_path / "threadloom.db")
    missing = migrate(str(langgraph_file), "--db", target, "--thread", "nope")
    assert missing.exit_code == 3 and "'nope'" in missing.stderr and "'done'" in missing.stderr
    picked = migrate(str(langgraph_file), "--db", target, "--thread", "done", "--json")
    assert picked.exit_code == 0, picked.output
    assert json.loads(picked.stdout)["checkpoints"]["threads"] == 1


def test_wrong_source_or_target_is_exit_4_and_changes_nothing(
    langgraph_file: Path, tmp_path: Path
) -> None:
    before = langgraph_file.read_bytes()
    into_langgraph = migrate(str(langgraph_file), "--db", str(langgraph_file))
    assert into_langgraph.exit_code == 4 and "LangGraph database" in into_langgraph.stderr
    assert langgraph_file.read_bytes() == before
    target = str(tmp_path / "threadloom.db")
    assert migrate(str(langgraph_file), "--db", target).exit_code == 0
    from_threadloom = migrate(target, "--db", str(tmp_path / "other.db"))
    assert from_threadloom.exit_code == 4 and "threadloom database" in from_threadloom.stderr
    nowhere = migrate(str(tmp_path / "missing.db"), "--db", str(tmp_path / "other.db"))
    assert nowhere.exit_code == 4 and "no such file" in nowhere.stderr


def test_migrate_into_postgres(langgraph_file: Path, pg_dsn: str) -> None:
    result = migrate(str(langgraph_file), "--dsn", pg_dsn, "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["checkpoints"]["copied"] == report["checkpoints"]["checkpoints"]
    assert "password" not in report["target"]


def test_store_items_come_over_with_the_store_flag(tmp_path: Path) -> None:
    pytest.importorskip("static_model")  # the CLI's store embeds with it
    from langgraph.store.sqlite import SqliteStore

    source = tmp_path / "lg-store.db"
    with SqliteStore.from_conn_string(str(source)) as store:
        store.setup()
        store.put(("memories", "bob"), "1", {"text": "Bob likes tea"})
        store.put(("memories", "bob"), "2", {"text": "Bob lives in Lyon"})
    target = str(tmp_path / "threadloom.db")
    result = migrate(str(source), "--db", target, "--store", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["store"]["copied"] == 2
    found = CliRunner().invoke(
        cli, ["store", "search", "memories/bob", "where does bob live", "--db", target, "--json"]
    )
    assert found.exit_code == 0, found.output
    assert json.loads(found.stdout)[0]["value"] == {"text": "Bob lives in Lyon"}


def test_help_lists_migrate_and_says_where_langgraph_is_used() -> None:
    assert "migrate" in CliRunner().invoke(cli, ["--help"]).stdout
    text = migrate("--help").stdout
    assert "read-only" in text and "LangGraph's serializer" in text


def test_allow_names_the_states_own_types(tmp_path: Path) -> None:
    from langgraph.checkpoint.sqlite import SqliteSaver
    from migrate_sources import make_order_thread

    source = tmp_path / "orders.db"
    with SqliteSaver.from_conn_string(str(source)) as saver:
        make_order_thread(saver)
    target = str(tmp_path / "threadloom.db")
    refused = migrate(str(source), "--db", target)
    assert refused.exit_code == 1 and "--allow package.module:Class" in refused.stderr
    allowed = migrate(str(source), "--db", target, "--allow", "migrate_sources:Order", "--json")
    assert allowed.exit_code == 0, allowed.output
    assert json.loads(allowed.stdout)["checkpoints"]["copied"] > 0
    assert migrate(str(source), "--db", target, "--allow", "nowhere:Order").exit_code == 2
