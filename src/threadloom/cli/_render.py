"""Messages as people read them (a chat transcript) and as scripts read them (JSON records)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Final

from rich.text import Text

from threadloom.cli._common import console

__all__ = ["message_record", "print_conversation", "speaker"]

SPEAKERS: Final[dict[str, tuple[str, str]]] = {
    "human": ("you", "bold cyan"),
    "ai": ("bot", "bold green"),
    "system": ("system", "dim"),
    "tool": ("tool", "yellow"),
}
"""How each message type is labelled and coloured in a transcript."""


def _content(message: Any) -> str:
    content = getattr(message, "content", message)
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return " ".join(p if isinstance(p, str) else str(p.get("text", p)) for p in content)
    return str(content)


def speaker(message: Any) -> tuple[str, str]:
    """The label and style of a message's author."""
    kind = getattr(message, "type", "value")
    return SPEAKERS.get(kind, (kind, "magenta"))


def message_record(message: Any) -> dict[str, Any]:
    """A message as JSON: type, id, content (and tool calls if any)."""
    record: dict[str, Any] = {
        "type": getattr(message, "type", type(message).__name__),
        "id": getattr(message, "id", None),
        "content": _content(message),
    }
    if tool_calls := getattr(message, "tool_calls", None):
        record["tool_calls"] = tool_calls
    return record


def print_conversation(messages: Sequence[Any]) -> None:
    """Print messages as a chat transcript, one ``who> text`` line each."""
    if not messages:
        console.print("(no messages)", style="dim")
    for message in messages:
        label, style = speaker(message)
        line = Text(f"{label}> ", style=style)
        line.append(_content(message))
        console.print(line)
