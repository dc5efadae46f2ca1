"""A ``@task`` made without ``name=`` is named as LangGraph names it: after the function, the
function inside a ``functools.partial`` (however deeply wrapped), or a callable object's class.
The name is what ``updates`` chunks are keyed by."""

from __future__ import annotations

import functools

from threadloom.func import entrypoint, task


def suffix(tag: str, text: str) -> str:
    return f"{text}|{tag}"


class Shout:
    def __call__(self, text: str) -> str:
        return text.upper()


def test_unnamed_tasks_are_named_after_what_they_call() -> None:
    plain = task(functools.partial(suffix, "one"))
    nested = task(functools.partial(functools.partial(suffix), "two"))
    shout = task(Shout())
    named = task(functools.partial(suffix, "three"), name="third")

    @entrypoint()
    def flow(text: str) -> str:
        for step in (plain, nested, shout, named):
            text = step(text).result()
        return text

    assert list(flow.stream("go", stream_mode="updates")) == [
        {"suffix": "go|one"},
        {"suffix": "go|one|two"},
        {"Shout": "GO|ONE|TWO"},
        {"third": "GO|ONE|TWO|three"},
        {"flow": "GO|ONE|TWO|three"},
    ]
