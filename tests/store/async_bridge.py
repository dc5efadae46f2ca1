"""Run a store's async API behind its sync method names, so one test suite covers both.

``AsyncAsSync(store)`` answers ``get``/``put``/``search``/``delete``/``list_namespaces``/``batch``
(and the TTL methods) by running the store's ``a``-twins on one event loop in a helper thread.
The conformance suite stays written once, in plain sync calls.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine
from typing import Any, TypeVar

T = TypeVar("T")


class LoopThread:
    """One event loop running in a daemon thread, for the whole life of a test."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self._thread.start()

    def run(self, coro: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result()

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join()
        self.loop.close()


class AsyncAsSync:
    """The sync face of a store whose async methods do the work."""

    def __init__(self, store: Any, loop: LoopThread) -> None:
        self.store = store
        self._loop = loop

    def __getattr__(self, name: str) -> Any:
        return getattr(self.store, name)  # attributes such as supports_ttl, ttl_config

    def _call(self, name: str, *args: Any, **kwargs: Any) -> Any:
        return self._loop.run(getattr(self.store, name)(*args, **kwargs))

    def batch(self, ops: Any) -> Any:
        return self._call("abatch", ops)

    def get(self, *args: Any, **kwargs: Any) -> Any:
        return self._call("aget", *args, **kwargs)

    def put(self, *args: Any, **kwargs: Any) -> Any:
        return self._call("aput", *args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        return self._call("adelete", *args, **kwargs)

    def search(self, *args: Any, **kwargs: Any) -> Any:
        return self._call("asearch", *args, **kwargs)

    def list_namespaces(self, *args: Any, **kwargs: Any) -> Any:
        return self._call("alist_namespaces", *args, **kwargs)
