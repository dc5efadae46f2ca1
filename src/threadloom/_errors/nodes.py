"""What a failed, cancelled or timed-out node raises, and what its error handler is told."""

from __future__ import annotations

from collections.abc import Sequence


class NodeTimeoutError(Exception):
    """An attempt of a node ran past its ``TimeoutPolicy`` (``add_node(..., timeout=...)``).

    Not a ``TimeoutError`` (an ``OSError``), so the default retry policy retries it, as
    LangGraph's does. ``kind`` says which limit fired (``"run"`` or ``"idle"``), ``timeout`` its
    seconds; ``run_timeout`` and ``idle_timeout`` are the policy's, ``elapsed`` the attempt's time.
    """

    def __init__(
        self,
        node: str,
        elapsed: float,
        *,
        kind: str,
        idle_timeout: float | None = None,
        run_timeout: float | None = None,
    ) -> None:
        limit = idle_timeout if kind == "idle" else run_timeout
        if kind not in ("idle", "run") or limit is None:
            raise ValueError(f"kind={kind!r} needs its {kind}_timeout: use 'idle' or 'run'")
        self.node, self.elapsed, self.kind = node, elapsed, kind
        self.timeout: float = limit
        self.idle_timeout, self.run_timeout = idle_timeout, run_timeout
        what = "without progress" if kind == "idle" else "in all"
        super().__init__(
            f"Node '{node}' exceeded its {kind} timeout of {limit:.3f}s {what} (elapsed: "
            f"{elapsed:.3f}s). Raise the node's TimeoutPolicy, call runtime.heartbeat() while "
            "it works, or retry it with a RetryPolicy."
        )


class StepTimeoutError(TimeoutError):
    """A superstep ran past the graph's ``step_timeout``: its unfinished tasks were stopped.

    A ``TimeoutError`` (also ``asyncio.TimeoutError``), as LangGraph raises. Writes of the tasks
    that finished in time are saved, so a resume runs only the others.
    """

    def __init__(self, step: int, step_timeout: float, unfinished: Sequence[str]) -> None:
        self.step, self.step_timeout, self.unfinished = step, step_timeout, tuple(unfinished)
        super().__init__(
            f"Step {step} took longer than step_timeout={step_timeout!r}s; stopped the tasks "
            f"still running ({', '.join(self.unfinished)}). Raise graph.step_timeout, or give "
            "the slow nodes their own timeout=TimeoutPolicy(...) to retry them."
        )


class NodeError:
    """What a node's ``error_handler`` is told: which node failed, and with what.

    Given to a handler parameter annotated ``NodeError`` (or named ``error``)::

        def handler(state: State, error: NodeError) -> Command:
            return Command(update={"status": f"{error.node} failed: {error.error}"})
    """

    __slots__ = ("error", "node")

    def __init__(self, node: str, error: BaseException) -> None:
        self.node = node
        self.error = error

    def __repr__(self) -> str:
        return f"NodeError(node={self.node!r}, error={self.error!r})"


class SavedTaskError(Exception):
    """A node's failure as a checkpoint keeps it (its ``repr``), given to its error handler when
    a resumed run runs the handler: the exception object itself is not stored."""

    def __init__(self, node: str, saved: object) -> None:
        self.node, self.saved = node, saved
        super().__init__(f"node {node!r} failed before the run stopped: {saved}")


class NodeCancelledError(Exception):
    """A node raised ``asyncio.CancelledError`` itself (not a cancel from outside): a failure of
    the node like any error, so the run fails (or retries) instead of ending as if nothing
    happened. ``node`` is the node's name."""

    def __init__(self, node: str, message: str | None = None) -> None:
        self.node = node
        super().__init__(
            message
            or f"Node {node!r} raised asyncio.CancelledError: raise another exception to fail "
            "the node, or return to end it normally."
        )


_INVALID_RESUME = "_threadloom_invalid_resume"
"""The attribute that marks a resume value's validation error (``is_invalid_resume``)."""


def mark_invalid_resume(error: BaseException) -> None:
    """Mark ``error`` as raised by a resume value that did not match its ``response_schema``."""
    setattr(error, _INVALID_RESUME, True)


def is_invalid_resume(error: BaseException) -> bool:
    """Whether ``error`` was raised because a ``Command(resume=...)`` value did not match the
    ``response_schema`` given to ``interrupt()`` (a pydantic ``ValidationError``, as in
    LangGraph). The interrupt stays pending: answer it again with a valid value."""
    return getattr(error, _INVALID_RESUME, False) is True
