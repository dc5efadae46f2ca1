"""The runnable examples in examples/ run and show what they promise."""

import runpy
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).parents[2] / "examples"


def run_example(name: str, capsys: pytest.CaptureFixture[str]) -> str:
    sys.path.insert(0, str(EXAMPLES))
    try:
        runpy.run_path(str(EXAMPLES / name), run_name="__main__")
    finally:
        sys.path.remove(str(EXAMPLES))
    return capsys.readouterr().out


def test_chatbot_example(capsys: pytest.CaptureFixture[str]) -> None:
    out = run_example("chatbot.py", capsys)
    assert "Your name is Bob." in out
    assert "I don't know your name" in out


def test_cross_thread_memory_example(capsys: pytest.CaptureFixture[str]) -> None:
    out = run_example("cross_thread_memory.py", capsys)
    assert "[thread 2, user 1] 'what is my name?' -> 'Your name is Bob.'" in out
    assert "[thread 3, user 2] 'what is my name?' -> \"I don't know your name" in out


def test_human_in_the_loop_example(capsys: pytest.CaptureFixture[str]) -> None:
    out = run_example("human_in_the_loop.py", capsys)
    assert "next: ('review',)" in out
    assert "'status': 'paid'" in out


def test_agent_with_memory_example(capsys: pytest.CaptureFixture[str]) -> None:
    out = run_example("agent_with_memory.py", capsys)
    assert "[tuesday] 'what do you know about tea?' -> 'I remember: I like green tea.'" in out
    assert "paused before forget_everything" in out
    assert "after restart, next: ('tools',)" in out  # a new process found the waiting run
    assert "approved -> 'Deleted 2 memories.'" in out
    assert "[wednesday] 'what do you know about my cat?' -> 'I remember nothing about that.'" in out
