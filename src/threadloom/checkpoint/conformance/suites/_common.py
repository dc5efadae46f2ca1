"""Shared bits of the check modules."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from threadloom.checkpoint.conformance.test_utils import generate_config

Check = Callable[[Any], Awaitable[None]]


def collector() -> tuple[list[Check], Callable[[Check], Check]]:
    """A list of checks and the decorator that appends to it."""
    checks: list[Check] = []

    def check(fn: Check) -> Check:
        checks.append(fn)
        return fn

    return checks, check


def new_thread() -> str:
    return f"conformance-{uuid.uuid4()}"


async def listed(saver: Any, config: Any, **kwargs: Any) -> list[Any]:
    return [item async for item in saver.alist(config, **kwargs)]


async def ids(saver: Any, config: Any, **kwargs: Any) -> list[str]:
    return [item.checkpoint["id"] for item in await listed(saver, config, **kwargs)]


def latest(thread_id: str, ns: str = "") -> Any:
    return generate_config(thread_id, ns)


def major(version: Any) -> str:
    return str(version).split(".")[0].lstrip("0") or "0"
