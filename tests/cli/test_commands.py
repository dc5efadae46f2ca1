"""Every `threadloom` command on a SQLite file the demo wrote, through click's runner."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

from click.testing import CliRunner

from threadloom.cli.app import cli


def as_json(result: Any) -> Any:
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_demo_recalls_across_threads_and_never_across_users(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["demo", "--db", str(tmp_path / "d.db")])
    assert result.exit_code == 0, result.output
    turns = result.stdout.split("[thread ")
    bob_2 = next(t for t in turns if t.startswith("bob-2") and "What is my name?" in t)
    alice = next(t for t in turns if t.startswith("alice-1")).split("threads in")[0]
    assert "Your name is Bob (from memory" in bob_2 and "'User name is Bob'" in bob_2
    assert "I don't know your name" in alice and "Bob" not in alice
    assert "memories/bob" in result.stdout and "memories/alice" not in result.stdout


def test_demo_refuses_to_replace_a_file_that_is_not_threadloom(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("my notes")
    result = CliRunner().invoke(cli, ["demo", "--db", str(path)])
    assert result.exit_code == 4
    assert path.read_text() == "my notes"


def test_threads_ls_lists_users_checkpoints_and_pages(run: Any) -> None:
    listing = as_json(run("threads", "ls", "--json"))
    assert listing["total"] == 3
    by_id = {t["thread_id"]: t for t in listing["threads"]}
    assert {k: v["user_id"] for k, v in by_id.items()} == {
        "bob-1": "bob",
        "bob-2": "bob",
        "alice-1": "alice",
    }
    assert by_id["bob-2"]["checkpoints"] == 2 * by_id["bob-1"]["checkpoints"]  # two turns vs one
    assert all(t["size_bytes"] > 0 for t in listing["threads"])
    pages = [
        as_json(run("threads", "ls", "--json", "--limit", "2", "--page", str(p))) for p in (1, 2)
    ]
    seen = [t["thread_id"] for page in pages for t in page["threads"]]
    assert sorted(seen) == sorted(by_id)
    bob = as_json(run("threads", "ls", "--json", "--user", "bob"))
    assert {t["thread_id"] for t in bob["threads"]} == {"bob-1", "bob-2"}
    assert "bob-1" in run("threads", "ls").stdout


def test_threads_show_renders_the_conversation(run: Any) -> None:
    shown = as_json(run("threads", "show", "bob-2", "--json"))
    assert shown["user_id"] == "bob"
    messages = shown["values"]["messages"]
    assert [m["type"] for m in messages] == ["human", "ai", "human", "ai"]
    assert messages[0]["content"] == "What is my name?"
    text = run("threads", "show", "bob-2").stdout
    assert "you> What is my name?" in text and "bot> Your name is Bob" in text
    missing = run("threads", "show", "nobody")
    assert missing.exit_code == 3 and "no thread 'nobody'" in missing.stderr


def test_threads_history_and_diff(run: Any) -> None:
    steps = as_json(run("threads", "history", "bob-2", "--json"))["checkpoints"]
    assert [s["step"] for s in steps] == sorted(s["step"] for s in steps)
    ran = [s for s in steps if "remember_and_answer" in s["nodes"]]
    assert len(ran) == 2 and all("messages" in s["writes"] for s in ran)
    first, last = steps[0]["checkpoint_id"], steps[-1]["checkpoint_id"]
    changes = as_json(run("threads", "diff", "bob-2", first, last, "--json"))
    messages = next(c for c in changes if c["key"] == "messages")
    assert messages["kind"] in ("added", "appended") and len(messages["after"]) == 4
    assert (
        "bot> You like pizza"
        in run("threads", "diff", "bob-2", ran[0]["checkpoint_id"], last).stdout
    )
    assert run("threads", "diff", "bob-2", first, "no-such-id").exit_code == 3
    assert run("threads", "history", "nobody").exit_code == 3


def test_threads_rm_prune_copy(run: Any) -> None:
    assert run("threads", "rm", "nobody").exit_code == 3
    assert run("threads", "rm", "alice-1").exit_code == 0
    assert run("threads", "show", "alice-1").exit_code == 3
    before = as_json(run("threads", "show", "bob-2", "--json"))["values"]
    assert run("threads", "prune", "bob-2", "--keep-last", "1").exit_code == 0
    assert len(as_json(run("threads", "history", "bob-2", "--json"))["checkpoints"]) == 1
    assert as_json(run("threads", "show", "bob-2", "--json"))["values"] == before
    assert run("threads", "prune").exit_code == 2  # nothing named, no --all
    assert run("threads", "copy", "bob-1", "bob-copy").exit_code == 0
    original = as_json(run("threads", "show", "bob-1", "--json"))
    copied = as_json(run("threads", "show", "bob-copy", "--json"))
    assert copied["values"] == original["values"]
    assert run("threads", "copy", "bob-1", "bob-2").exit_code == 6
    assert run("threads", "prune", "--all").exit_code == 0
    ls = as_json(run("threads", "ls", "--json"))["threads"]
    assert all(t["checkpoints"] == 1 for t in ls)


def test_export_then_import_gives_the_same_thread_back(run: Any, tmp_path: Path) -> None:
    out = tmp_path / "bob-2.jsonl"
    assert run("threads", "export", "bob-2", "-o", str(out)).exit_code == 0
    lines = out.read_text().splitlines()
    assert json.loads(lines[0])["format"] == "threadloom-thread" and len(lines) == 7
    history = as_json(run("threads", "history", "bob-2", "--json"))["checkpoints"]
    shown = as_json(run("threads", "show", "bob-2", "--json"))
    fresh = str(tmp_path / "fresh.db")  # into a new file under the same id
    assert run("threads", "import", str(out), db=fresh).exit_code == 0
    again = as_json(run("threads", "history", "bob-2", "--json", db=fresh))["checkpoints"]
    assert again == history
    assert as_json(run("threads", "show", "bob-2", "--json", db=fresh)) == shown
    assert run("threads", "import", str(out)).exit_code == 6  # already there
    assert run("threads", "import", str(out), "--thread", "bob-9").exit_code == 0
    renamed = as_json(run("threads", "show", "bob-9", "--json"))
    assert renamed["values"] == shown["values"]
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"format": "something else"}\n')
    assert run("threads", "import", str(bad)).exit_code == 1


def test_store_commands(run: Any) -> None:
    assert as_json(run("store", "namespaces", "--json")) == ["memories/bob"]
    items = as_json(run("store", "ls", "memories/bob", "--json"))
    assert {i["value"]["text"] for i in items} == {
        "User name is Bob",
        "User likes pizza with olives",
    }
    found = as_json(run("store", "search", "memories/bob", "what is my name?", "--json"))
    assert found[0]["value"]["text"] == "User name is Bob" and "score" in found[0]
    assert as_json(run("store", "search", "memories/alice", "what is my name?", "--json")) == []
    assert (
        run("store", "put", "memories/alice", "m1", '{"text": "User name is Alice"}').exit_code == 0
    )
    got = as_json(run("store", "get", "memories/alice", "m1", "--json"))
    assert got["value"] == {"text": "User name is Alice"}
    found = as_json(
        run("store", "search", "memories", "what is my name?", "--json", "--limit", "2")
    )
    assert {f["value"]["text"] for f in found} == {"User name is Bob", "User name is Alice"}
    assert run("store", "put", "memories/alice", "m2", "not json").exit_code == 1
    assert run("store", "put", "memories/alice", "m2", "[1, 2]").exit_code == 1
    assert run("store", "rm", "memories/alice", "m1").exit_code == 0
    assert run("store", "get", "memories/alice", "m1").exit_code == 3
    assert run("store", "rm", "memories/alice", "m1").exit_code == 3
    assert "memories/bob" in run("store", "ls", "memories").stdout
    reindexed = run("store", "reindex", "memories")
    assert reindexed.exit_code == 0 and "re-embedded 2 item(s)" in reindexed.stdout
    found = as_json(run("store", "search", "memories/bob", "what is my name?", "--json"))
    assert found[0]["value"]["text"] == "User name is Bob"


def test_databases_that_are_not_threadloom_s(run: Any, tmp_path: Path) -> None:
    assert run("threads", "ls", db=str(tmp_path / "missing.db")).exit_code == 4
    text = tmp_path / "notes.db"
    text.write_text("hello, this is not SQLite at all" * 10)
    assert run("threads", "ls", db=str(text)).exit_code == 4
    other = tmp_path / "other.db"
    with sqlite3.connect(other) as conn:
        conn.execute("CREATE TABLE invoices (id INTEGER)")
    result = run("store", "ls", db=str(other))
    assert result.exit_code == 4 and "not a threadloom database" in result.stderr
    langgraph = tmp_path / "langgraph.db"  # the tables LangGraph's SqliteSaver makes
    with sqlite3.connect(langgraph) as conn:
        conn.execute("CREATE TABLE checkpoints (thread_id TEXT, checkpoint BLOB, metadata BLOB)")
        conn.execute("CREATE TABLE writes (thread_id TEXT, value BLOB)")
    for args in (("threads", "ls"), ("threads", "show", "t1"), ("store", "ls")):
        result = run(*args, db=str(langgraph))
        assert result.exit_code == 4 and "a LangGraph database" in result.stderr
    chat = CliRunner().invoke(cli, ["chat", "--user", "u", "--db", str(langgraph)], input="hi\n")
    assert chat.exit_code == 4
    with sqlite3.connect(langgraph) as conn:
        assert conn.execute("SELECT count(*) FROM sqlite_master").fetchone()[0] == 2  # untouched
    dsn = run("threads", "ls", "--dsn", "postgresql://u:secret@localhost/x", db=None)
    assert dsn.exit_code == 4 and "secret" not in dsn.stderr


def test_unknown_command_is_a_usage_error(run: Any) -> None:
    assert run("threads", "frobnicate").exit_code == 2


def test_threads_ls_loads_neither_the_saver_nor_langchain(demo_db: str) -> None:
    """`threads ls` starts fast as a new process: the listing needs no saver, store or model
    (threadloom.errors imports langchain-core, so it too is loaded only when an error is raised)."""
    program = (
        "import sys\n"
        "from threadloom.cli.app import cli\n"
        f"cli(['threads', 'ls', '--db', {demo_db!r}], standalone_mode=False)\n"
        "heavy = ('threadloom.checkpoint', 'threadloom.store', 'threadloom.errors', 'langchain')\n"
        "heavy = [m for m in sys.modules if m.startswith(heavy)]\n"
        "print('HEAVY', heavy)\n"
    )
    done = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert "bob-1" in done.stdout and "HEAVY []" in done.stdout
