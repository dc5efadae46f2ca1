"""`threadloom chat` fed lines on stdin, the offline model's rules, and the chat's defaults."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from threadloom.cli._backend import DB_ENV, default_db_path
from threadloom.cli.app import cli
from threadloom.testing.memory_bot import memories_stated


def chat(db: Path, user: str, *lines: str, thread: str | None = None, **env: str) -> Any:
    args = ["chat", "--user", user, "--db", str(db)] + (["--thread", thread] if thread else [])
    return CliRunner(env=env or None).invoke(cli, args, input="\n".join(lines) + "\n")


def answers(result: Any) -> list[str]:
    assert result.exit_code == 0, result.output
    return [line.split("bot> ", 1)[1] for line in result.stdout.splitlines() if "bot> " in line]


def test_chat_continues_after_restart_and_recalls_only_for_the_same_user(tmp_path: Path) -> None:
    db = tmp_path / "chat.db"
    first = answers(chat(db, "bob", "who are you?", "my name is Bob", "/quit"))
    assert "offline rule-based model" in first[0]
    assert "'User name is Bob'" in first[1]
    again = answers(chat(db, "bob", "what is my name?"))  # same default thread, new process
    assert again == ["Your name is Bob: you told me in this thread."]
    other_thread = answers(chat(db, "bob", "what is my name?", thread="later"))
    assert other_thread[0].startswith("Your name is Bob (from memory ")
    stranger = answers(chat(db, "alice", "what is my name?"))
    assert stranger[0].startswith("I don't know your name")


def test_slash_commands(tmp_path: Path) -> None:
    db = tmp_path / "chat.db"
    result = chat(
        db,
        "bob",
        "/help",
        "I like green tea",
        "remember that my cat is called Miso",
        "/memories",
        "/thread second",
        "what do I like?",
        "/history",
        "/undo",
        "/history",
        "/nonsense",
        "/quit",
        "never read",
    )
    out = result.stdout
    assert result.exit_code == 0, result.output
    assert "/undo" in out and "- User likes green tea" in out and "- my cat is called Miso" in out
    assert "now in thread 'second' (0 messages)" in out
    assert "You like green tea (from memory" in out
    assert "undone: the thread is back to 0 messages" in out
    assert "unknown command '/nonsense'" in out
    assert "never read" not in out
    assert answers(chat(db, "bob", "/history", "what is my name?", thread="second"))[0] == (
        "I don't know your name: you haven't told me in this thread, and I found no memory of it."
    )


def test_undo_walks_back_one_turn_at_a_time(tmp_path: Path) -> None:
    db = tmp_path / "chat.db"
    result = chat(
        db, "bob", "hello", "who are you?", "what?", "/undo", "/undo", "/history", "/undo"
    )
    out = result.stdout
    assert "back to 4 messages" in out and "back to 2 messages" in out
    assert "you> hello" in out.split("back to 2 messages")[1]
    assert "back to 0 messages" in out
    history = chat(db, "bob", "/history").stdout
    assert "(no messages)" in history


def test_another_user_cannot_open_a_thread(tmp_path: Path) -> None:
    db = tmp_path / "chat.db"
    answers(chat(db, "bob", "my name is Bob", thread="shared"))
    result = chat(db, "alice", "hi", thread="shared")
    assert result.exit_code == 1 and "belongs to user 'bob'" in result.stderr
    switched = chat(db, "alice", "/thread shared", "what is my name?")
    assert "belongs to user 'bob'" in switched.stdout
    assert answers(switched)[0].startswith("I don't know your name")


def test_a_model_whose_key_or_package_is_missing(tmp_path: Path) -> None:
    result = chat(tmp_path / "c.db", "bob", "hi", OPENAI_API_KEY="")
    assert result.exit_code == 0  # no --model: the offline model needs nothing
    runner = CliRunner(env={"OPENAI_API_KEY": ""})
    args = ["chat", "--user", "bob", "--db", str(tmp_path / "c.db")]
    missing_key = runner.invoke(cli, [*args, "--model", "openai:gpt-4o-mini"])
    assert missing_key.exit_code == 5 and "$OPENAI_API_KEY" in missing_key.stderr
    no_package = runner.invoke(cli, [*args, "--model", "ollama:llama3"])
    assert no_package.exit_code == 5 and "langchain" in no_package.stderr


@pytest.mark.parametrize(
    ("text", "memories"),
    [
        ("Hi! I'm here. My name is bob", ["User name is Bob"]),
        ("call me Ada; I live in Lisbon", ["User name is Ada", "User lives in Lisbon"]),
        (
            "My name is Bob and I like pizza with olives",
            ["User name is Bob", "User likes pizza with olives"],
        ),
        ("Remember: my name is Bob", ["User name is Bob"]),
        ("remember that I have two cats", ["I have two cats"]),
        ("I work as a nurse. I love jazz!", ["User works as a nurse", "User likes jazz"]),
        ("what is my name?", []),
        ("do I like tea? I like coffee", ["User likes coffee"]),
        ("my name is Bob. My name is Bob.", ["User name is Bob"]),
    ],
)
def test_memories_stated(text: str, memories: list[str]) -> None:
    assert memories_stated(text) == memories


def test_default_database_path() -> None:
    home = Path("/home/u")
    assert default_db_path({}, "linux", home) == home / ".local/share/threadloom/threadloom.db"
    assert default_db_path({"XDG_DATA_HOME": "/d"}, "linux", home) == Path(
        "/d/threadloom/threadloom.db"
    )
    assert default_db_path({}, "darwin", home) == (
        home / "Library/Application Support/threadloom/threadloom.db"
    )
    assert default_db_path({"LOCALAPPDATA": "C:/L"}, "win32", home) == Path(
        "C:/L/threadloom/threadloom.db"
    )
    assert default_db_path({DB_ENV: "/x/my.db", "XDG_DATA_HOME": "/d"}, "linux", home) == Path(
        "/x/my.db"
    )


def test_without_db_the_file_comes_from_the_environment(tmp_path: Path) -> None:
    path = tmp_path / "deep" / "dir" / "mine.db"  # parents are created
    runner = CliRunner(env={DB_ENV: str(path)})
    said = runner.invoke(cli, ["chat", "--user", "eve"], input="my name is Eve\n")
    assert said.exit_code == 0 and path.exists()
    listed = runner.invoke(cli, ["threads", "ls", "--json"])
    assert [t["thread_id"] for t in json.loads(listed.stdout)["threads"]] == ["eve-main"]
