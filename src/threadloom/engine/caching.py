"""Node caching in the engine: a task's cache key, replaying a hit, what a finished task caches.

A task is cached when its node (or ``@task``) has a ``CachePolicy``, or the graph gives a default
one (``@entrypoint(cache_policy=...)``), and the graph has a cache. The key is the policy's
``key_func`` of the node's input (of a task call's arguments), hashed; the namespace names the
function and, for a node, the node: ``("__pregel_ns_writes", "<module>.<qualname>", name)``, so
``clear_cache(nodes=...)`` drops one node's entries. Only a task that finished is cached (never
an error or an interrupt); a hit skips the call and replays the writes as the node's own.

The drivers do the cache I/O (``get``/``set``, or ``aget``/``aset``) around these pure steps.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from xxhash import xxh3_128_hexdigest

from threadloom.constants import ERROR, INTERRUPT
from threadloom.engine.core import Task

__all__ = [
    "CACHE_NS_WRITES",
    "CacheSpec",
    "cache_entry",
    "cache_key",
    "call_cache_spec",
    "namespaces_of",
    "node_cache_spec",
    "replay",
]

CACHE_NS_WRITES: Final = "__pregel_ns_writes"

CacheKey = tuple[tuple[tuple[str, ...], str], int | None]
"""``((namespace, key), ttl)``."""


@dataclass(frozen=True, slots=True)
class CacheSpec:
    """How a node's or a ``@task``'s tasks are cached."""

    policy: Any
    """Its own ``CachePolicy``, or None to use the graph's default (if any)."""
    ns: tuple[str, ...]
    """The namespace of its entries."""
    call: bool = False
    """A ``@task`` call: the key is made of ``(args, kwargs)``, not of one input."""


def identifier(func: Any) -> str:
    """``module.qualname`` of a function, ``"__dynamic__"`` when it has none."""
    name = getattr(func, "__qualname__", None) or getattr(func, "__name__", None)
    module = getattr(func, "__module__", None)
    if name is None or module is None:
        return "__dynamic__"
    return f"{module}.{name}"


def node_cache_spec(policy: Any, func: Any, name: str) -> CacheSpec:
    """The spec of a graph node (``policy`` may be None: the graph's default then applies)."""
    return CacheSpec(policy, (CACHE_NS_WRITES, identifier(func), name))


def call_cache_spec(policy: Any, func: Any) -> CacheSpec:
    """The spec of a ``@task`` function."""
    return CacheSpec(policy, (CACHE_NS_WRITES, identifier(func)), call=True)


def cache_key(task: Task, cache: Any, default_policy: Any) -> CacheKey | None:
    """The task's cache address and ttl, or None when it is not cached."""
    spec: CacheSpec | None = task.node.cache
    if cache is None or spec is None or task.done:
        return None
    policy = spec.policy or default_policy
    if policy is None:
        return None
    if spec.call:
        args, kwargs = task.input
        raw = policy.key_func(*args, **kwargs)
    else:
        raw = policy.key_func(task.input)
    digest = xxh3_128_hexdigest(raw.encode() if isinstance(raw, str) else raw)
    return (spec.ns, str(digest)), policy.ttl


def replay(task: Task, key: CacheKey, found: Mapping[Any, Any]) -> bool:
    """Give the task the writes cached under ``key``, if any; True on a hit."""
    writes = found.get(key[0])
    if writes is None:
        return False
    task.writes = [(str(chan), value) for chan, value in writes]
    task.cached = True
    return True


def cache_entry(task: Task, key: CacheKey) -> dict[Any, Any] | None:
    """What to cache for a task that just ran: its writes, unless it failed or was interrupted."""
    if task.error is not None or task.interrupts or task.cached:
        return None
    if any(chan in (ERROR, INTERRUPT) for chan, _ in task.writes):
        return None
    address, ttl = key
    return {address: (list(task.writes), ttl)}


def namespaces_of(plan: Any, nodes: Sequence[str] | None) -> list[tuple[str, ...]]:
    """The cache namespaces of ``nodes`` (default: all) of a plan: what ``clear_cache`` drops."""
    names = plan.nodes if nodes is None else [n for n in nodes if n in plan.nodes]
    return [plan.nodes[n].cache.ns for n in names if plan.nodes[n].cache is not None]
