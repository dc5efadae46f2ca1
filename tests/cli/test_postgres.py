"""The CLI against a real PostgreSQL (``pg_dsn``): chat, every ``threads`` and ``store`` command,
and clear errors when the database is not set up or the DSN is wrong."""

from __future__ import annotations

import json
from typing import Any

import pytest
from click.testing import CliRunner

from threadloom.cli._backend import embedding_index
from threadloom.cli.app import cli

pytest.importorskip("psycopg")


def run(*args: str, dsn: str) -> Any:
    return CliRunner().invoke(cli, [*args, "--dsn", dsn])


def test_store_commands_on_postgres(pg_dsn: str) -> None:
    from threadloom.store.postgres import PostgresStore

    with PostgresStore.from_conn_string(pg_dsn, index=embedding_index()) as store:  # type: ignore[arg-type]
        store.setup()
    assert (
        run(
            "store", "put", "memories/bob", "a", '{"text": "User name is Bob"}', dsn=pg_dsn
        ).exit_code
        == 0
    )
    assert (
        run("store", "put", "memories/bob", "b", '{"text": "User likes tea"}', dsn=pg_dsn).exit_code
        == 0
    )
    assert (
        run(
            "store", "put", "memories/amy", "a", '{"text": "User name is Amy"}', dsn=pg_dsn
        ).exit_code
        == 0
    )
    names = run("store", "namespaces", "--json", dsn=pg_dsn)
    assert sorted(json.loads(names.stdout)) == ["memories/amy", "memories/bob"]
    found = json.loads(
        run("store", "search", "memories/bob", "what is my name?", "--json", dsn=pg_dsn).stdout
    )
    assert [f["value"]["text"] for f in found] == ["User name is Bob", "User likes tea"]
    listed = json.loads(run("store", "ls", "memories/amy", "--json", dsn=pg_dsn).stdout)
    assert [item["key"] for item in listed] == ["a"]
    got = json.loads(run("store", "get", "memories/bob", "b", "--json", dsn=pg_dsn).stdout)
    assert got["value"] == {"text": "User likes tea"}
    assert run("store", "rm", "memories/bob", "b", dsn=pg_dsn).exit_code == 0
    assert run("store", "get", "memories/bob", "b", dsn=pg_dsn).exit_code == 3


def test_postgres_errors_a_user_can_act_on(pg_dsn: str) -> None:
    fresh = run("store", "ls", dsn=pg_dsn)  # a database nobody set up
    assert fresh.exit_code == 4 and "not a threadloom database" in fresh.stderr
    threads = run("threads", "ls", dsn=pg_dsn)
    assert threads.exit_code == 4
    bad = "postgresql://nobody:hunter2@127.0.0.1:1/nowhere?connect_timeout=2"
    unreachable = run("store", "ls", dsn=bad)
    assert unreachable.exit_code == 4 and "hunter2" not in unreachable.stderr


def test_chat_and_threads_on_postgres(pg_dsn: str, tmp_path: Any) -> None:
    runner = CliRunner()
    for user, thread, text in (
        ("bob", "bob-1", "Remember: my name is Bob"),
        ("bob", "bob-2", "what is my name?"),
        ("alice", "alice-1", "what is my name?"),
    ):
        args = ["chat", "--user", user, "--thread", thread, "--dsn", pg_dsn]
        said = runner.invoke(cli, args, input=text + "\n")
        assert said.exit_code == 0, said.output
    recalled = json.loads(run("threads", "show", "bob-2", "--json", dsn=pg_dsn).stdout)
    assert "Your name is Bob (from memory" in recalled["values"]["messages"][-1]["content"]
    alice = json.loads(run("threads", "show", "alice-1", "--json", dsn=pg_dsn).stdout)
    assert alice["values"]["messages"][-1]["content"].startswith("I don't know your name")
    listing = json.loads(run("threads", "ls", "--json", dsn=pg_dsn).stdout)
    assert {t["thread_id"]: t["user_id"] for t in listing["threads"]} == {
        "bob-1": "bob",
        "bob-2": "bob",
        "alice-1": "alice",
    }
    assert all(t["checkpoints"] > 0 and t["size_bytes"] > 0 for t in listing["threads"])
    steps = json.loads(run("threads", "history", "bob-2", "--json", dsn=pg_dsn).stdout)
    assert any("remember_and_answer" in s["nodes"] for s in steps["checkpoints"])
    first, last = (
        steps["checkpoints"][0]["checkpoint_id"],
        steps["checkpoints"][-1]["checkpoint_id"],
    )
    changes = json.loads(run("threads", "diff", "bob-2", first, last, "--json", dsn=pg_dsn).stdout)
    messages = next(c for c in changes if c["key"] == "messages")
    assert messages["after"][-1]["content"].startswith("Your name is Bob")
    assert run("threads", "diff", "bob-2", first, "no-such-id", dsn=pg_dsn).exit_code == 3
    out = tmp_path / "bob-2.jsonl"
    assert run("threads", "export", "bob-2", "-o", str(out), dsn=pg_dsn).exit_code == 0
    assert run("threads", "import", str(out), "--thread", "bob-3", dsn=pg_dsn).exit_code == 0
    copied = json.loads(run("threads", "show", "bob-3", "--json", dsn=pg_dsn).stdout)
    assert copied["values"] == recalled["values"]
    assert run("threads", "copy", "bob-1", "bob-4", dsn=pg_dsn).exit_code == 0
    assert run("threads", "prune", "--all", dsn=pg_dsn).exit_code == 0
    assert run("threads", "rm", "bob-4", dsn=pg_dsn).exit_code == 0
    assert run("threads", "show", "bob-4", dsn=pg_dsn).exit_code == 3


def test_threads_ls_needs_only_the_checkpoint_tables(pg_dsn: str) -> None:
    """An application that keeps only its threads in PostgreSQL (no store) can list them."""
    from threadloom.checkpoint.postgres import PostgresSaver
    from threadloom.graph import START, MessagesState, StateGraph

    builder = StateGraph(MessagesState)
    builder.add_node("echo", lambda state: {"messages": [("ai", "hi")]})
    builder.add_edge(START, "echo")
    with PostgresSaver.from_conn_string(pg_dsn) as saver:
        saver.setup()
        config = {"configurable": {"thread_id": "only-threads", "user_id": "ann"}}
        builder.compile(checkpointer=saver).invoke({"messages": [("user", "hi")]}, config)
    listing = json.loads(run("threads", "ls", "--json", dsn=pg_dsn).stdout)
    assert [(t["thread_id"], t["user_id"]) for t in listing["threads"]] == [("only-threads", "ann")]
