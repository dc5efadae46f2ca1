"""Values users pass to and get back from graphs: Send, Command, Interrupt, policies, snapshots.

These are plain records with no behaviour of their own beyond validation; the engine gives them
meaning. ``interrupt()`` lives here because LangGraph programs import it from ``langgraph.types``.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any, ClassVar, Generic, Literal, NamedTuple, TypeVar

from langchain_core.messages.tool import ToolOutputMixin
from langchain_core.runnables import RunnableConfig
from xxhash import xxh3_128_hexdigest

from threadloom.errors import InvalidUpdateError

if TYPE_CHECKING:
    from threadloom.errors import GraphInterrupt as GraphInterrupt

__all__ = [
    "All",
    "Checkpointer",
    "Command",
    "Durability",
    "GraphOutput",
    "Interrupt",
    "Overwrite",
    "PregelTask",
    "RetryPolicy",
    "Send",
    "StateSnapshot",
    "StateUpdate",
    "StreamMode",
    "StreamWriter",
    "TimeoutPolicy",
    "default_retry_on",
    "interrupt",
]

StreamMode = Literal["values", "updates", "custom", "messages", "checkpoints", "tasks", "debug"]
"""How ``stream`` emits chunks; see the streaming docs."""

Durability = Literal["sync", "async", "exit"]
"""When checkpoints are saved: before the next step, overlapping it, or only when the run exits."""

All = Literal["*"]
"""``interrupt_before="*"``: every node."""

StreamWriter = Callable[[Any], None]
"""Sends one chunk to the ``custom`` stream mode."""

Checkpointer = Any
"""A checkpointer as accepted by ``compile``: a saver, ``True``, ``False`` or ``None``."""

N = TypeVar("N", bound=Hashable)


class Send:
    """Run ``node`` in the next step with ``arg`` as its whole input (one task per Send)."""

    __slots__ = ("arg", "node", "timeout")

    node: str
    arg: Any
    timeout: TimeoutPolicy | None
    """Bounds each attempt of this task, instead of the node's own timeout."""

    def __init__(
        self, node: str, arg: Any, *, timeout: float | timedelta | TimeoutPolicy | None = None
    ) -> None:
        self.node = node
        self.arg = arg
        self.timeout = TimeoutPolicy.coerce(timeout)  # a bad value fails here

    def __hash__(self) -> int:
        return hash((self.node, _hashable(self.arg), self.timeout))

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, Send)
            and self.node == other.node
            and self.arg == other.arg
            and self.timeout == other.timeout
        )

    def __repr__(self) -> str:
        return f"Send(node={self.node!r}, arg={self.arg!r})"


def _hashable(value: Any) -> Any:
    try:
        hash(value)
    except TypeError:
        return repr(value)
    return value


_LEGACY_INTERRUPT_KEYS: frozenset[str] = frozenset({"ns", "when", "resumable", "interrupt_id"})
"""What ``Interrupt`` took before LangGraph 1.0: accepted (so old checkpoints and programs load),
kept only as the id an ``ns`` gives."""


@dataclass(frozen=True, slots=True, init=False)
class Interrupt:
    """A pause raised by ``interrupt(value)``; ``Command(resume={id: ...})`` answers it by id."""

    value: Any
    id: str = "placeholder-id"
    response_schema: Any = None

    def __init__(
        self,
        value: Any,
        id: str = "placeholder-id",
        *,
        response_schema: Any = None,
        **legacy: Any,
    ) -> None:
        unknown = sorted(set(legacy) - _LEGACY_INTERRUPT_KEYS)
        if unknown:
            raise TypeError(
                f"Interrupt() got unexpected arguments {unknown!r}: it takes value, id and "
                "response_schema (and, from LangGraph < 1.0, ns, when, resumable)"
            )
        ns = legacy.get("ns")
        if id == "placeholder-id" and isinstance(ns, list | tuple) and ns:
            id = interrupt_id("|".join(map(str, ns)))  # the id LangGraph 1.0 gives such a one
        object.__setattr__(self, "value", value)
        object.__setattr__(self, "id", id)
        object.__setattr__(self, "response_schema", response_schema)

    @property
    def interrupt_id(self) -> str:
        """Deprecated alias of ``id``."""
        import warnings

        from threadloom.warnings import LangGraphDeprecatedSinceV10

        warnings.warn(
            "`interrupt_id` is deprecated. Use `id` instead.",
            LangGraphDeprecatedSinceV10,
            stacklevel=2,
        )
        return self.id

    @classmethod
    def from_ns(cls, value: Any, ns: str) -> Interrupt:
        """Build the interrupt whose id is derived from a task namespace."""
        return cls(value=value, id=interrupt_id(ns))


@dataclass(frozen=True, slots=True)
class Overwrite:
    """Replace a reducer channel's value instead of folding ``value`` into it."""

    value: Any


@dataclass(frozen=True, slots=True)
class Command(Generic[N], ToolOutputMixin):
    """Update state, go to nodes and/or resume an interrupt, from a node or as graph input.

    A ``ToolOutputMixin``: a langchain ``@tool`` returning a Command hands it back as is (not
    wrapped in a ToolMessage), so ``ToolNode`` can apply its update and ``goto``.
    """

    graph: str | None = None
    update: Any | None = None
    resume: dict[str, Any] | Any | None = None
    goto: Send | Sequence[Send | N] | N = ()

    PARENT: ClassVar[Literal["__parent__"]] = "__parent__"

    def __repr__(self) -> str:
        parts = ", ".join(
            f"{name}={getattr(self, name)!r}"
            for name in ("graph", "update", "resume", "goto")
            if getattr(self, name) not in (None, ())
        )
        return f"Command({parts})"


def default_retry_on(exc: Exception) -> bool:
    """Retry unless the error is a programming or input error (LangGraph's default rule)."""
    if isinstance(exc, ConnectionError | InvalidUpdateError):
        # (LangGraph's InvalidUpdateError is no ValueError, so its rule retries it; ours is one)
        return True
    if isinstance(
        exc,
        ValueError
        | TypeError
        | ArithmeticError
        | ImportError
        | LookupError
        | NameError
        | SyntaxError
        | RuntimeError
        | ReferenceError
        | StopIteration
        | StopAsyncIteration
        | OSError,
    ):
        return False
    status = _http_status(exc)
    if status is not None:
        return 500 <= status < 600
    return True


def _http_status(exc: Exception) -> int | None:
    response = getattr(exc, "response", None)
    status = getattr(response, "status_code", None)
    return status if isinstance(status, int) else None


class RetryPolicy(NamedTuple):
    """How a failing node or task is retried: backoff, jitter and which errors qualify."""

    initial_interval: float = 0.5
    """Seconds before the first retry."""
    backoff_factor: float = 2.0
    """Multiplier applied to the interval after each retry."""
    max_interval: float = 128.0
    """Upper bound of the interval, before jitter."""
    max_attempts: int = 3
    """Total attempts, the first one included."""
    jitter: bool = True
    """Add a uniform random 0–1 s to each interval."""
    retry_on: type[Exception] | Sequence[type[Exception]] | Callable[[Exception], bool] = (
        default_retry_on
    )
    """An exception class, a sequence of them, or a predicate."""

    def matches(self, exc: Exception) -> bool:
        """Whether this policy applies to ``exc``."""
        rule = self.retry_on
        if isinstance(rule, type) and issubclass(rule, BaseException):
            return isinstance(exc, rule)
        if isinstance(rule, Sequence):
            return isinstance(exc, tuple(rule))
        return bool(rule(exc))  # type: ignore[call-arg]

    def interval(self, attempt: int) -> float:
        """Seconds to sleep before retry number ``attempt`` (1-based)."""
        base = min(self.max_interval, self.initial_interval * self.backoff_factor ** (attempt - 1))
        return base + (random.uniform(0, 1) if self.jitter else 0.0)


def _positive_seconds(value: float | timedelta | None, name: str) -> float | None:
    if value is None:
        return None
    seconds = value.total_seconds() if isinstance(value, timedelta) else float(value)
    if seconds <= 0:
        raise ValueError(f"{name} must be greater than 0, got {value!r}")
    return seconds


@dataclass(frozen=True, slots=True)
class TimeoutPolicy:
    """How long one attempt of a node may take (``add_node(..., timeout=...)``).

    ``run_timeout`` caps an attempt's wall-clock time; ``idle_timeout`` caps the time it may go
    without progress: a chunk it streams, a ``@task`` it calls, or ``runtime.heartbeat()``
    (``refresh_on="auto"``), or only ``runtime.heartbeat()`` (``refresh_on="heartbeat"``). An
    attempt that runs out raises ``NodeTimeoutError``, which the default retry policy retries.
    As in LangGraph, only async nodes can be timed out: Python cannot stop a running thread.
    """

    run_timeout: float | timedelta | None = None
    """Seconds (or a ``timedelta``) an attempt may run in all; never refreshed."""
    idle_timeout: float | timedelta | None = None
    """Seconds (or a ``timedelta``) an attempt may go without progress."""
    refresh_on: Literal["auto", "heartbeat"] = "auto"
    """What counts as progress for ``idle_timeout``."""

    @classmethod
    def coerce(cls, value: float | timedelta | TimeoutPolicy | None) -> TimeoutPolicy | None:
        """A policy with both timeouts in seconds (floats), or None when neither is set."""
        if value is None:
            return None
        policy = value if isinstance(value, TimeoutPolicy) else cls(run_timeout=value)
        if policy.refresh_on not in ("auto", "heartbeat"):
            raise ValueError(
                f"TimeoutPolicy(refresh_on={policy.refresh_on!r}): use 'auto' or 'heartbeat'"
            )
        run = _positive_seconds(policy.run_timeout, "run_timeout")
        idle = _positive_seconds(policy.idle_timeout, "idle_timeout")
        if run is None and idle is None:
            return None
        return cls(run_timeout=run, idle_timeout=idle, refresh_on=policy.refresh_on)


class PregelTask(NamedTuple):
    """A task of a checkpoint as shown by ``get_state``."""

    id: str
    name: str
    path: tuple[Any, ...]
    error: Exception | str | None = None
    interrupts: tuple[Interrupt, ...] = ()
    state: RunnableConfig | StateSnapshot | None = None
    result: Any | None = None


class StateSnapshot(NamedTuple):
    """A thread's state at one checkpoint, with what would run next."""

    values: dict[str, Any] | Any
    next: tuple[str, ...]
    config: RunnableConfig
    metadata: dict[str, Any] | None
    created_at: str | None
    parent_config: RunnableConfig | None
    tasks: tuple[PregelTask, ...]
    interrupts: tuple[Interrupt, ...] = ()


class StateUpdate(NamedTuple):
    """One update of ``bulk_update_state``: values written as if ``as_node`` had returned them."""

    values: dict[str, Any] | None
    as_node: str | None = None
    task_id: str | None = None


OutputT = TypeVar("OutputT")


@dataclass(frozen=True)
class GraphOutput(Generic[OutputT]):
    """What ``invoke(..., version="v2")`` returns: the output, and the interrupts kept apart."""

    value: OutputT
    interrupts: tuple[Interrupt, ...] = ()

    def __getitem__(self, key: str) -> Any:
        """Deprecated dict-style access (``result["__interrupt__"]``, ``result["key"]``)."""
        _warn_item_access("result[key]")
        if key == "__interrupt__":
            return self.interrupts
        if isinstance(self.value, dict):
            return self.value[key]
        try:
            return getattr(self.value, key)
        except AttributeError:
            raise KeyError(key) from None

    def __contains__(self, key: object) -> bool:
        """Deprecated ``key in result``."""
        _warn_item_access("key in result")
        if key == "__interrupt__":
            return bool(self.interrupts)
        if isinstance(self.value, dict):
            return key in self.value
        return isinstance(key, str) and hasattr(self.value, key)


def _warn_item_access(how: str) -> None:
    import warnings

    from threadloom.warnings import LangGraphDeprecatedSinceV11  # a DeprecationWarning

    warnings.warn(
        f"Accessing GraphOutput via `{how}` is deprecated: read result.value for the output "
        "and result.interrupts for the interrupts.",
        LangGraphDeprecatedSinceV11,
        stacklevel=3,
    )


def interrupt(value: Any, *, response_schema: Any = None) -> Any:
    """Pause the run and surface ``value``; returns the resume value when the run is resumed.

    The node re-executes from the top on resume, so code before the call runs again.
    """
    from threadloom._running import running_task

    return running_task().interrupt(value, response_schema)


def interrupt_id(task_ns: str, answered: int = 0) -> str:
    """Id of a task's next interrupt: the task namespace, plus the count already answered."""
    text = task_ns if answered == 0 else f"{task_ns}|{answered}"
    return str(xxh3_128_hexdigest(text.encode()))


# --- node caching ---------------------------------------------------------------------------------


def _frozen(obj: Any, depth: int = 10) -> Any:
    """``obj`` as hashable, order-free data: dicts by sorted items, sequences as tuples."""
    if depth <= 0 or isinstance(obj, Hashable):
        return obj
    if isinstance(obj, Mapping):
        return tuple(sorted((k, _frozen(v, depth - 1)) for k, v in obj.items()))
    if isinstance(obj, Sequence):
        return tuple(_frozen(v, depth - 1) for v in obj)
    if hasattr(obj, "tobytes"):  # arrays: their bytes, type and shape
        return (type(obj).__name__, obj.tobytes(), getattr(obj, "shape", None))
    return obj


def default_cache_key(*args: Any, **kwargs: Any) -> str | bytes:
    """The cache key of a call's arguments: equal for equal data (dict order aside).

    Pickled bytes, used only as a hash input: nothing is ever unpickled from a cache.
    """
    import pickle

    return pickle.dumps((_frozen(args), _frozen(kwargs)), protocol=5, fix_imports=False)


KeyFuncT = TypeVar("KeyFuncT", bound=Callable[..., str | bytes])


@dataclass(frozen=True, slots=True, kw_only=True)
class CachePolicy(Generic[KeyFuncT]):
    """Cache a node's (or a ``@task``'s) writes by its input: ``add_node(..., cache_policy=...)``.

    A later run with an equal input (by ``key_func``) skips the node and replays its writes,
    while the entry lives; needs a cache on the graph (``compile(cache=InMemoryCache())``).
    """

    key_func: KeyFuncT = default_cache_key  # type: ignore[assignment]
    """Turns the node's input (a task's arguments) into the key; default: the pickled data."""
    ttl: int | None = None
    """Seconds an entry lives; ``None``: until the cache is cleared."""


__all__ += ["CachePolicy", "default_cache_key"]


@dataclass(frozen=True, slots=True, kw_only=True)
class TracePolicy:
    """What tracers record of a node's own run: ``add_node(..., trace_policy=...)``.

    ``process_inputs`` / ``process_outputs`` get the node's real input / return value and give
    what tracers (``BaseTracer`` handlers: LangSmith's, Langfuse's) record instead, e.g. to keep
    a long message history out of traces. The node, the graph's streams and other callback
    handlers see the real values; the runs of what the node calls are not changed. A processor
    that raises is ignored (the real value is recorded). Not a way to redact secrets: use the
    tracing client's own hiding for that.
    """

    process_inputs: Callable[[Any], Any] | None = None
    """The node's input -> what tracers record as the run's inputs."""
    process_outputs: Callable[[Any], Any] | None = None
    """The node's return value -> what tracers record as the run's outputs."""


def omit_payload(_value: Any) -> dict[str, Any]:
    """A ``TracePolicy`` processor recording an empty payload (the run and its timing stay)."""
    return {}


__all__ += ["TracePolicy", "omit_payload"]
