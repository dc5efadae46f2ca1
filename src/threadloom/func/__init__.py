"""The functional API: ``@entrypoint`` workflows and the ``@task`` calls they make.

An entrypoint compiles to a one-node graph: channels ``__start__`` (the input), ``__end__`` (the
return value) and ``__previous__`` (what the next invocation on the thread receives as
``previous``). Task calls run inside the entrypoint's superstep and are saved as they finish.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar, get_args, get_origin, get_type_hints

from threadloom.cache.base import BaseCache
from threadloom.constants import _PREVIOUS as PREVIOUS
from threadloom.constants import END, START, TASKS
from threadloom.engine._checks import check_backend
from threadloom.engine.caching import call_cache_spec, node_cache_spec
from threadloom.engine.calls import call_node, start_call
from threadloom.engine.channels import EphemeralValue, LastValue, Topic
from threadloom.engine.inject import injections_for, warn_mistyped_config
from threadloom.engine.plan import NodeSpec, Plan, TaskWriteContext
from threadloom.engine.pregel import Pregel
from threadloom.engine.timeouts import require_async
from threadloom.graph._routing import no_sync_function
from threadloom.graph._schema import collect_types
from threadloom.graph.state import retry_policies
from threadloom.types import RetryPolicy, TimeoutPolicy
from threadloom.warnings import (
    LangGraphDeprecatedSinceV05,
    LangGraphDeprecatedSinceV10,
    warn_renamed,
)

__all__ = ["entrypoint", "task"]

R = TypeVar("R")
FinalValue = TypeVar("FinalValue")
FinalSave = TypeVar("FinalSave")


class _TaskFunction(Generic[R]):
    """A ``@task``: calling it inside a run schedules it and returns a future."""

    def __init__(
        self,
        func: Callable[..., R],
        *,
        name: str | None,
        retry: Any,
        timeout: Any = None,
        cache_policy: Any = None,
    ) -> None:
        if name is not None and not isinstance(name, str):
            raise TypeError(f"A task's name must be a str, got {type(name).__name__} {name!r}.")
        functools.update_wrapper(self, func)
        self._func = func
        self.name: str = name or _default_name(func)
        if name is not None:
            self.__name__ = name
        self._retry_policy: Any = retry_policies(retry)
        self._cache_policy = cache_policy
        self.timeout = TimeoutPolicy.coerce(timeout)
        self._build()

    def _build(self) -> None:
        """Make the node every call runs as, from the attributes a call reads.

        Built once and reused by every call (the per-function cache). LangGraph reads ``func``,
        ``retry_policy`` and ``cache_policy`` at each call, so assigning one of them builds the
        node again (they are properties): the next call runs what was assigned.
        """
        func, cache_policy = self._func, self._cache_policy
        self.is_async = inspect.iscoroutinefunction(func)
        require_async(self.name, self.is_async, self.timeout, "Task")
        self._cache = call_cache_spec(cache_policy, func)
        retry = retry_policies(self._retry_policy)
        self._node = call_node(self.name, func, retry, self.is_async, self._cache)

    @property
    def func(self) -> Callable[..., R]:
        """The decorated function (assign another: the next call runs it)."""
        return self._func

    @func.setter
    def func(self, func: Callable[..., R]) -> None:
        self._func = func
        self._build()

    @property
    def retry_policy(self) -> Any:
        """The task's retry policies (assign others: the next call follows them)."""
        return self._retry_policy

    @retry_policy.setter
    def retry_policy(self, retry: Any) -> None:
        self._retry_policy = retry
        self._build()

    @property
    def cache_policy(self) -> Any:
        """The task's ``CachePolicy``, or None (assign one: the next call uses it)."""
        return self._cache_policy

    @cache_policy.setter
    def cache_policy(self, cache_policy: Any) -> None:
        self._cache_policy = cache_policy
        self._build()

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return start_call(self._node, args, kwargs, self.timeout)

    def clear_cache(self, cache: BaseCache[Any]) -> None:
        """Drop this task's entries from ``cache``."""
        cache.clear([self._cache.ns])

    async def aclear_cache(self, cache: BaseCache[Any]) -> None:
        """Async ``clear_cache``."""
        await cache.aclear([self._cache.ns])


def task(
    __func_or_none__: Callable[..., Any] | None = None,
    *,
    name: str | None = None,
    retry_policy: RetryPolicy | Sequence[RetryPolicy] | None = None,
    cache_policy: Any = None,
    timeout: Any = None,
    **kwargs: Any,
) -> Any:
    """Mark a function as a task: each call inside a run is checkpointed and never redone.

    ``timeout`` (seconds, a ``timedelta`` or a ``TimeoutPolicy``) bounds each attempt of an async
    task, as a node's. With ``cache_policy`` (a ``CachePolicy``) and a cache on the entrypoint, a
    call whose arguments were seen before returns the cached result without running.
    """
    retry = retry_policy
    if "retry" in kwargs:
        warn_renamed("retry", "retry_policy", LangGraphDeprecatedSinceV05)
        retry = retry if retry is not None else kwargs.pop("retry")
    TimeoutPolicy.coerce(timeout)  # a bad value fails at the decorator, as in LangGraph

    def decorate(func: Callable[..., Any]) -> _TaskFunction[Any]:
        return _TaskFunction(
            func, name=name, retry=retry, timeout=timeout, cache_policy=cache_policy
        )

    if __func_or_none__ is not None:
        return decorate(__func_or_none__)
    return decorate


class entrypoint(Generic[R]):
    """Turn a function into a workflow with durable threads: ``@entrypoint(checkpointer=...)``."""

    @dataclass(frozen=True, slots=True)
    class final(Generic[FinalValue, FinalSave]):
        """Return ``value`` to the caller and save ``save`` as the next ``previous``."""

        value: Any
        save: Any

    def __init__(
        self,
        checkpointer: Any = None,
        store: Any = None,
        cache: Any = None,
        context_schema: Any = None,
        cache_policy: Any = None,
        retry_policy: RetryPolicy | Sequence[RetryPolicy] | None = None,
        timeout: Any = None,
        **kwargs: Any,
    ) -> None:
        self.timeout = TimeoutPolicy.coerce(timeout)
        check_backend(checkpointer, "checkpointer", "@entrypoint")
        self.cache = cache
        self.cache_policy = cache_policy
        check_backend(store, "store", "@entrypoint")
        self.checkpointer = checkpointer
        self.store = store
        if "config_schema" in kwargs:
            warn_renamed("config_schema", "context_schema", LangGraphDeprecatedSinceV10)
        self.context_schema = context_schema or kwargs.pop("config_schema", None)
        if "retry" in kwargs:
            warn_renamed("retry", "retry_policy", LangGraphDeprecatedSinceV05)
        self.retry_policy = retry_policies(
            retry_policy if retry_policy is not None else kwargs.pop("retry", None)
        )

    def __call__(self, func: Callable[..., Any]) -> Pregel:
        if inspect.isgeneratorfunction(func) or inspect.isasyncgenfunction(func):
            raise NotImplementedError("Generators are not supported in the Functional API.")
        params = list(inspect.signature(func).parameters.values())
        if not params:
            raise ValueError("Entrypoint function must have at least one parameter")
        name = func.__name__
        is_async = inspect.iscoroutinefunction(func)
        require_async(name, is_async, self.timeout)

        def write(output: Any, _ctx: TaskWriteContext) -> list[tuple[str, Any]]:
            if isinstance(output, entrypoint.final):
                return [(END, output.value), (PREVIOUS, output.save)]
            return [(END, output), (PREVIOUS, output)]

        def needs_async(*_: Any, **__: Any) -> Any:
            raise no_sync_function(name)

        node = NodeSpec(
            name=name,
            triggers=(START,),
            read=lambda channels: channels[START].get(),
            func=needs_async if is_async else func,
            afunc=func if is_async else None,
            write=write,
            retry_policy=self.retry_policy,
            timeout=self.timeout,
            cache=node_cache_spec(None, func, name),
        )
        try:  # resolved, so string annotations (`from __future__ import annotations`) count too
            hints = get_type_hints(func)
        except Exception:
            hints = dict(getattr(func, "__annotations__", {}))
        plan = Plan(
            nodes={name: node},
            channels={
                START: EphemeralValue(key=START),
                END: LastValue(key=END),
                PREVIOUS: LastValue(key=PREVIOUS),
                TASKS: Topic(key=TASKS),
            },
            input_channel=START,
            output_channels=END,
            stream_channels=END,
            trigger_to_nodes={START: (name,)},
            name="LangGraph",  # as LangGraph names an entrypoint (its node keeps the name)
            is_functional=True,
            store=self.store,
            checkpointer=self.checkpointer,
            context_schema=self.context_schema,
            allowed_types=collect_types(*hints.values()),
            update_writers={name: write},
            cache=self.cache,
            cache_policy=self.cache_policy,
        )
        warn_mistyped_config(func)
        graph = Pregel(plan, injections={name: injections_for(func)})
        first = next(
            iter(inspect.signature(func).parameters), None
        )  # the input's type, for schemas
        graph.io_types = (hints.get(first, Any) if first else Any, _returned(hints))
        functools.update_wrapper(graph, func)  # type: ignore[arg-type]
        return graph


def _returned(hints: dict[str, Any]) -> Any:
    """An entrypoint's output type: its return annotation, the value's of ``final[value, save]``."""
    returned = hints.get("return", Any)
    if returned is entrypoint.final:
        return Any
    if get_origin(returned) is entrypoint.final:
        return get_args(returned)[0]
    return returned


def _default_name(func: Any) -> str:
    """A task's name when none is given, as LangGraph names it: the function's, a partial's
    function's, else the callable object's class name."""
    while isinstance(func, functools.partial):
        func = func.func
    return str(getattr(func, "__name__", None) or type(func).__name__)
