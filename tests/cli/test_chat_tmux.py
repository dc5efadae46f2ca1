"""`threadloom chat` driven as a person would, in a terminal: tmux types, the test reads the screen.

Bob tells his name in one thread and quits; a new process, as Bob, in another thread, recalls it
and names the memory; Alice, in a third process, is not told. Runs on SQLite and on PostgreSQL.
Needs the `tmux` program (scripts/test.sh installs it with apt-get when it is missing).
"""

from __future__ import annotations

import shlex
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

pytestmark = [
    pytest.mark.skipif(
        shutil.which("tmux") is None,
        reason="tmux is not installed (scripts/test.sh installs it with apt-get when it can)",
    ),
    # Three chat processes each import the library and open the database: on a loaded machine
    # that alone can pass the suite's 120 s per test. A limit against a hang, not a timing test.
    pytest.mark.timeout(900),
]

WAIT_SECONDS = 240.0  # a limit against a hang, not a timing assertion: waits end on the screen


class Terminal:
    """One tmux server on a private socket; each `start` opens a session running a command."""

    def __init__(self, socket: str) -> None:
        self.socket = socket

    def tmux(self, *args: str) -> str:
        done = subprocess.run(
            ["tmux", "-L", self.socket, *args], capture_output=True, text=True, check=False
        )
        return done.stdout

    def start(self, session: str, command: list[str]) -> None:
        line = " ".join(shlex.quote(part) for part in command)
        self.tmux("new-session", "-d", "-s", session, "-x", "200", "-y", "50", line)
        # a chat that dies keeps its screen (the traceback) for the failure message
        self.tmux("set-option", "-t", session, "remain-on-exit", "on")

    def screen(self, session: str) -> str:
        return self.tmux("capture-pane", "-p", "-J", "-S", "-200", "-t", session)

    def wait_for(self, session: str, text: str, count: int = 1) -> str:
        deadline, screen = time.monotonic() + WAIT_SECONDS, ""
        while time.monotonic() < deadline:
            alive = self.running(session)  # asked first: what it printed before exiting counts
            screen = self.screen(session)
            if screen.count(text) >= count:
                return screen
            if not alive:  # the chat ended: the text can never show
                break
            time.sleep(0.1)
        raise AssertionError(f"{text!r} never showed on the screen:\n{screen}")

    def running(self, session: str) -> bool:
        """Is the chat of ``session`` still running (its pane is kept after it exits)?"""
        return self.tmux("display-message", "-p", "-t", session, "#{pane_dead}").strip() == "0"

    def type(self, session: str, line: str) -> None:
        self.tmux("send-keys", "-t", session, "-l", line)
        self.tmux("send-keys", "-t", session, "Enter")

    def ended(self, session: str) -> bool:
        deadline = time.monotonic() + WAIT_SECONDS
        while time.monotonic() < deadline:
            if not self.running(session):
                return True
            time.sleep(0.1)
        return False


@pytest.fixture
def terminal() -> Iterator[Terminal]:
    term = Terminal(f"threadloom-test-{uuid.uuid4().hex[:8]}")
    try:
        yield term
    finally:
        term.tmux("kill-server")  # only this test's private server


@pytest.fixture(params=["sqlite", "postgres"])
def database(request: pytest.FixtureRequest, tmp_path: Path) -> list[str]:
    """The chat's database option: a SQLite file, or a fresh PostgreSQL database."""
    if request.param == "sqlite":
        return ["--db", str(tmp_path / "chat.db")]
    return ["--dsn", request.getfixturevalue("pg_dsn")]


def chat_command(database: list[str], user: str, thread: str) -> list[str]:
    return [sys.executable, "-m", "threadloom.cli", "chat", "--user", user, "--thread", thread,
            *database]  # fmt: skip


def ask(terminal: Terminal, session: str, prompt: str, line: str, answer_starts: str) -> str:
    terminal.wait_for(session, prompt)
    terminal.type(session, line)
    screen = terminal.wait_for(session, f"bot> {answer_starts}")
    return next(row for row in screen.splitlines() if f"bot> {answer_starts}" in row)


def test_a_person_tells_quits_and_is_recalled_in_another_thread(
    terminal: Terminal, database: list[str]
) -> None:
    db = database
    terminal.start("first", chat_command(db, "bob", "monday"))
    said = ask(terminal, "first", "bob@monday>", "Hi! My name is Bob", "Got it")
    assert "'User name is Bob'" in said
    terminal.wait_for("first", "bob@monday>", count=2)
    terminal.type("first", "/quit")
    assert terminal.ended("first"), "chat did not exit on /quit"

    # both start at once: on a loaded machine starting a process is what takes the time
    terminal.start("second", chat_command(db, "bob", "tuesday"))
    terminal.start("third", chat_command(db, "alice", "tuesday-alice"))
    recalled = ask(terminal, "second", "bob@tuesday>", "what is my name?", "Your name is")
    assert "Your name is Bob (from memory " in recalled and "'User name is Bob'" in recalled

    other = ask(terminal, "third", "alice@tuesday-alice>", "what is my name?", "I don't know")
    assert "Bob" not in other
