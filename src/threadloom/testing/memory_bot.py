"""``OfflineMemoryModel``: the rule-based chat model of ``threadloom chat`` when no LLM is chosen.

It is honest about what it is: no language model, a few rules. ``memories_stated`` finds what a
message says about the user ("my name is…", "I like…", "remember…") as memory texts to save;
``memory_prompt`` writes the system message that shows a model the memories found by semantic
search; the model answers from the thread and from those memories and names the memory it used.
Any LangChain chat model reads the same system message as plain prose, so the chatbot's graph is
the same with or without an LLM.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

from langchain_core.messages import BaseMessage

from threadloom.testing.chat import FakeMemoryChatModel, _text

__all__ = ["OfflineMemoryModel", "RecalledMemory", "memories_stated", "memory_prompt"]

_WORD = r"[A-Za-z][A-Za-z'-]*"
_PHRASE = r"[^.!?;\n]+"

MEMORY_RULES: Final[tuple[tuple[re.Pattern[str], str], ...]] = (
    (re.compile(rf"\b(?:my name is|call me)\s+(?P<x>{_WORD})", re.I), "User name is {x}"),
    (
        re.compile(rf"\bi (?:really )?(?:like|love|enjoy)\s+(?P<x>{_PHRASE})", re.I),
        "User likes {x}",
    ),
    (re.compile(rf"\bi live in\s+(?P<x>{_PHRASE})", re.I), "User lives in {x}"),
    (re.compile(rf"\bi work (?:as|at)\s+(?P<x>{_PHRASE})", re.I), "User works as {x}"),
)
"""What a statement says about the user, as (pattern, memory template); all that match count."""

_REMEMBER = re.compile(rf"\bremember(?: that)?\s*[:,]?\s*(?P<x>{_PHRASE})", re.I)
_ASKS_NAME = re.compile(r"\b(?:what(?:'s| is)\s+my\s+name|who am i|do you know my name)\b", re.I)
_ASKS_LIKES = re.compile(r"\b(?:what do i (?:like|love|enjoy)|do i like|my favou?rite)\b", re.I)
_ASKS_SELF = re.compile(r"\b(?:who|what) are you\b", re.I)
_NAME_IN_MEMORY = re.compile(rf"\bUser name is (?P<x>{_WORD})", re.I)
_LIKE_IN_MEMORY = re.compile(rf"\bUser likes (?P<x>{_PHRASE})", re.I)

SELF_DESCRIPTION: Final = (
    "I'm threadloom's offline rule-based model, not an LLM: I save what you tell me about "
    "yourself ('my name is…', 'I like…', 'remember …') as memories and answer from this thread "
    "and from your memories found by semantic search. Start `threadloom chat --model "
    "provider:name` to talk to a real model."
)


def _clean(text: str) -> str:
    return " ".join(text.strip().split()).rstrip(",")


def memories_stated(text: str) -> list[str]:
    """The memory texts a user message states, in order, without repeats."""
    found: list[str] = []
    for clause in re.findall(r"[^.!?;\n]*[.!?;\n]?", text):
        if clause.rstrip().endswith("?"):  # a question states nothing: "do I like tea?"
            continue
        stated = [
            template.format(
                x=_clean(match["x"]).capitalize() if "name" in template else _clean(match["x"])
            )
            for pattern, template in MEMORY_RULES
            if (match := pattern.search(clause))
        ]
        if not stated and (match := _REMEMBER.search(clause)):
            stated.append(_clean(match["x"]))
        found += stated
    return list(dict.fromkeys(m for m in found if m))


@dataclass(slots=True, frozen=True)
class RecalledMemory:
    """A memory shown to the model: its store key, its text and its search score."""

    key: str
    text: str
    score: float | None = None


_FOUND_HEADER = "Memories about the user found by semantic search (most relevant first):"
_SAVED_HEADER = "Memories saved from the user's last message:"
_LINE = re.compile(r"^- \[(?P<key>[^\]]*)\] (?P<text>.*?)(?: \(score (?P<score>[-0-9.]+)\))?$")


def memory_prompt(found: Sequence[RecalledMemory], saved: Sequence[RecalledMemory]) -> str:
    """The system message that shows a model the user's memories (any model reads it as prose)."""

    def lines(memories: Sequence[RecalledMemory]) -> list[str]:
        return [
            f"- [{m.key}] {m.text}" + (f" (score {m.score:.2f})" if m.score is not None else "")
            for m in memories
        ] or ["- (none)"]

    return "\n".join(
        [
            "You are a helpful assistant with a long-term memory about the user. When you use a "
            "memory, say which one.",
            _FOUND_HEADER,
            *lines(found),
            _SAVED_HEADER,
            *lines(saved),
        ]
    )


def _read_prompt(text: str) -> tuple[list[RecalledMemory], list[RecalledMemory]]:
    """The (found, saved) memories of a ``memory_prompt`` text."""
    found: list[RecalledMemory] = []
    saved: list[RecalledMemory] = []
    target: list[RecalledMemory] | None = None
    for line in text.splitlines():
        if line == _FOUND_HEADER:
            target = found
        elif line == _SAVED_HEADER:
            target = saved
        elif target is not None and (match := _LINE.match(line)):
            score = float(match["score"]) if match["score"] else None
            target.append(RecalledMemory(match["key"], match["text"], score))
    return found, saved


def _quote(memory: RecalledMemory) -> str:
    return f"memory {memory.key[:8]} {memory.text!r}"


class OfflineMemoryModel(FakeMemoryChatModel):
    """A rule-based chat model that answers from the thread and the memories it is shown."""

    @property
    def _llm_type(self) -> str:
        return "threadloom-offline-memory-model"

    def reply(self, messages: list[BaseMessage]) -> str:
        """The answer to the last user message, given the thread and the memory prompt."""
        found: list[RecalledMemory] = []
        saved: list[RecalledMemory] = []
        for message in messages:
            if message.type == "system":
                more_found, more_saved = _read_prompt(_text(message))
                found += more_found
                saved += more_saved
        said = [_text(m) for m in messages if m.type == "human"]
        last = said[-1] if said else ""
        if saved:
            noted = ", ".join(repr(m.text) for m in saved)
            names = [n["x"] for m in saved if (n := _NAME_IN_MEMORY.search(m.text))]
            greeting = f" Nice to meet you, {names[-1]}!" if names else ""
            return f"Got it, I saved this as a memory: {noted}.{greeting}"
        if _ASKS_SELF.search(last):
            return SELF_DESCRIPTION
        if _ASKS_NAME.search(last):
            return self._answer_name(said[:-1], found)
        if _ASKS_LIKES.search(last):
            likes = [m for m in found if _LIKE_IN_MEMORY.search(m.text)]
            if likes:
                what = _LIKE_IN_MEMORY.search(likes[0].text)
                assert what is not None
                return f"You like {what['x']} (from {_quote(likes[0])})."
            return "I don't know what you like: I found no memory about it."
        if last.rstrip().endswith("?"):
            if found:
                best = found[0]
                return (
                    f"The closest thing I remember is {_quote(best)}. I'm a rule-based offline "
                    "model, so I can only repeat what you told me."
                )
            return "I don't know: you haven't told me anything about that, and I found no memory."
        return (
            "Hello! I'm an offline rule-based model (no LLM). Tell me about yourself ('my name "
            "is…', 'I like…', 'remember …') and ask me about it later, in any of your threads."
        )

    @staticmethod
    def _answer_name(earlier: Sequence[str], found: Sequence[RecalledMemory]) -> str:
        for text in reversed(earlier):
            for stated in memories_stated(text):
                if name := _NAME_IN_MEMORY.search(stated):
                    return f"Your name is {name['x']}: you told me in this thread."
        for memory in found:
            if name := _NAME_IN_MEMORY.search(memory.text):
                return f"Your name is {name['x']} (from {_quote(memory)})."
        return (
            "I don't know your name: you haven't told me in this thread, and I found no memory "
            "of it."
        )
