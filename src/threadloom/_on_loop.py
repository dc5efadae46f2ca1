"""Waiting from sync code on an event loop that runs in another thread.

An async saver or store is bound to the loop it was made on; its sync methods submit the async
twin to that loop and wait for the result (LangGraph's habit: a graph's ``invoke`` in a worker
thread while the app's loop runs). On the loop's own thread that wait would deadlock, so it is
refused with the caller's message, which names the fix.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any, TypeVar

__all__ = ["wait_on_loop"]

T = TypeVar("T")


def wait_on_loop(
    loop: asyncio.AbstractEventLoop | None, coro: Coroutine[Any, Any, T], refusal: str
) -> T:
    """Run ``coro`` on ``loop`` and wait for it; ``InvalidStateError(refusal)`` (and ``coro``
    closed, never run) on the loop's own thread or when there is no loop yet."""
    try:
        running = asyncio.get_running_loop()
    except RuntimeError:
        running = None
    if loop is None or running is loop:
        coro.close()
        raise asyncio.InvalidStateError(refusal)
    return asyncio.run_coroutine_threadsafe(coro, loop).result()
