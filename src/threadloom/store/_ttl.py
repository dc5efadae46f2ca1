"""Expiry bookkeeping shared by stores: the clock rules and the background sweeper thread.

A store decides what expiring means for its storage (``sweep_ttl``); this module only computes
deadlines and runs ``sweep_ttl`` every few minutes in a daemon thread (sync stores) or a task
(asyncio stores) until told to stop. ``SweepsInThread`` / ``SweepsInTask`` are the stores'
``start_ttl_sweeper`` / ``stop_ttl_sweeper``, written once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections.abc import Awaitable, Callable, Mapping
from concurrent.futures import Future
from typing import Any

from threadloom.store.base import BaseStore

__all__ = [
    "DEFAULT_SWEEP_MINUTES",
    "AsyncTTLSweeper",
    "SweepsInTask",
    "SweepsInThread",
    "TTLSweeper",
    "deadline",
    "sweep_minutes",
]

DEFAULT_SWEEP_MINUTES = 5.0
"""The sweep interval when neither the call nor ``TTLConfig`` names one (as LangGraph)."""

logger = logging.getLogger(__name__)


def deadline(now: float, ttl_minutes: float | None) -> float | None:
    """When an item written or refreshed at ``now`` (epoch seconds) expires; None for never."""
    return None if ttl_minutes is None else now + ttl_minutes * 60.0


class TTLSweeper:
    """Calls ``sweep`` every interval in a daemon thread; ``stop`` ends it."""

    def __init__(self, sweep: Callable[[], int], name: str) -> None:
        self._sweep = sweep
        self._name = name
        self._stop = threading.Event()
        self._future: Future[None] | None = None
        self._thread: threading.Thread | None = None

    def start(self, interval_minutes: float) -> Future[None]:
        """Start sweeping (or return the running sweeper's future)."""
        if self._future is not None and not self._future.done():
            return self._future
        if interval_minutes <= 0:
            raise ValueError(
                f"sweep_interval_minutes must be a positive number, got {interval_minutes!r}."
            )
        self._stop.clear()
        future: Future[None] = Future()
        future.set_running_or_notify_cancel()
        self._future = future

        def run() -> None:
            try:
                while not self._stop.wait(interval_minutes * 60.0):
                    try:
                        removed = self._sweep()
                        if removed:
                            logger.debug("%s: swept %d expired item(s)", self._name, removed)
                    except Exception:  # keep sweeping: one failed sweep must not stop expiry
                        logger.exception("%s: TTL sweep failed", self._name)
            finally:
                future.set_result(None)

        self._thread = threading.Thread(target=run, name=f"{self._name}-ttl-sweeper", daemon=True)
        self._thread.start()
        return future

    def stop(self, timeout: float | None = None) -> bool:
        """Ask the sweeper to stop; True when it has stopped within ``timeout`` seconds."""
        if self._thread is None:
            return True
        self._stop.set()
        self._thread.join(timeout)
        stopped = not self._thread.is_alive()
        if stopped:
            self._thread = None
        return stopped


class AsyncTTLSweeper:
    """``TTLSweeper`` for asyncio stores: awaits ``sweep`` every interval in a task."""

    def __init__(self, sweep: Callable[[], Awaitable[int]], name: str) -> None:
        self._sweep = sweep
        self._name = name
        self._stop = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def start(self, interval_minutes: float) -> asyncio.Task[None]:
        """Start sweeping (or return the running sweeper's task)."""
        if self._task is not None and not self._task.done():
            return self._task
        if interval_minutes <= 0:
            raise ValueError(
                f"sweep_interval_minutes must be a positive number, got {interval_minutes!r}."
            )
        self._stop = asyncio.Event()
        self._task = asyncio.create_task(self._run(interval_minutes * 60.0))
        return self._task

    async def _run(self, seconds: float) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), seconds)
            if self._stop.is_set():
                return
            try:
                await self._sweep()
            except Exception:  # keep sweeping: one failed sweep must not stop expiry
                logger.exception("%s: TTL sweep failed", self._name)

    async def stop(self, timeout: float | None = None) -> bool:
        """Ask the sweeper to stop; True when it has stopped within ``timeout`` seconds."""
        if self._task is None:
            return True
        self._stop.set()
        done, _ = await asyncio.wait({self._task}, timeout=timeout)
        if done:
            self._task = None
        return bool(done)


def sweep_minutes(ttl_config: Mapping[str, Any] | None, given: float | None) -> float | None:
    """The sweep interval: the call's, else the config's, else the default; None without TTL."""
    if ttl_config is None:
        return None
    return float(given or ttl_config.get("sweep_interval_minutes") or DEFAULT_SWEEP_MINUTES)


class SweepsInThread(BaseStore):
    """The sweeper methods of a sync store, whose ``_sweeper`` is a ``TTLSweeper``."""

    _sweeper: TTLSweeper

    def start_ttl_sweeper(self, sweep_interval_minutes: float | None = None) -> Future[None]:
        """Sweep expired items in a background thread every interval (default: config, else 5).

        Without a ``ttl`` config there is nothing to sweep and a finished future is returned.
        """
        minutes = sweep_minutes(self.ttl_config, sweep_interval_minutes)
        if minutes is None:
            done: Future[None] = Future()
            done.set_result(None)
            return done
        return self._sweeper.start(minutes)

    def stop_ttl_sweeper(self, timeout: float | None = None) -> bool:
        """Stop the background sweeper; True when it stopped within ``timeout`` seconds."""
        return self._sweeper.stop(timeout)


class SweepsInTask(BaseStore):
    """The sweeper methods of an asyncio store, whose ``_sweeper`` is an ``AsyncTTLSweeper``."""

    _sweeper: AsyncTTLSweeper

    async def start_ttl_sweeper(
        self, sweep_interval_minutes: float | None = None
    ) -> asyncio.Task[None]:
        """Sweep expired items in a task every interval (default: config, else 5 minutes).

        Without a ``ttl`` config there is nothing to sweep and a finished task is returned.
        """
        minutes = sweep_minutes(self.ttl_config, sweep_interval_minutes)
        if minutes is None:
            task = asyncio.create_task(asyncio.sleep(0))
            await task
            return task
        return self._sweeper.start(minutes)

    async def stop_ttl_sweeper(self, timeout: float | None = None) -> bool:
        """Stop the sweeper task; True when it stopped within ``timeout`` seconds."""
        return await self._sweeper.stop(timeout)
