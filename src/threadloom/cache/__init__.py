"""Node caches: where ``CachePolicy`` nodes and tasks keep their writes, keyed by their input.

``base.BaseCache`` is the interface; ``memory.InMemoryCache`` (one process) and
``sqlite.SqliteCache`` (a file, shared by processes and kept across restarts) implement it. A
graph uses one when compiled with ``compile(cache=...)`` (``@entrypoint(cache=...)``): a node or
task with a ``cache_policy`` whose input was seen before is not run, its saved writes are replayed.
"""

from threadloom.cache.base import BaseCache, FullKey, Namespace

__all__ = ["BaseCache", "FullKey", "Namespace"]
