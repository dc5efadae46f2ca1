"""Every public error threadloom raises, imported from here.

The graph run's own errors are defined in this module; the others live by topic in
``threadloom._errors`` (storage, store, interop, cli, nodes) and are re-exported here under
this module's name.

Messages say what was wrong (the bad value quoted with ``!r``), where, and what to do. Where the
behavioural contract quotes LangGraph's text, the text is kept word for word so programs that match
on it keep working. Errors keep the offending values as attributes so callers can branch without
parsing text.
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import Enum
from typing import Any

from threadloom._errors.base import (
    ThreadloomError as ThreadloomError,
)
from threadloom._errors.base import (
    ThreadloomWarning as ThreadloomWarning,
)
from threadloom._errors.base import (
    shown_value as shown_value,
)
from threadloom._errors.cli import (
    AlreadyExistsError as AlreadyExistsError,
)
from threadloom._errors.cli import (
    CliError as CliError,
)
from threadloom._errors.cli import (
    DatabaseError as DatabaseError,
)
from threadloom._errors.cli import (
    ModelUnavailableError as ModelUnavailableError,
)
from threadloom._errors.cli import (
    NotFoundError as NotFoundError,
)
from threadloom._errors.interop import (
    LangGraphDatabaseError as LangGraphDatabaseError,
)
from threadloom._errors.interop import (
    LangGraphNotInstalledError as LangGraphNotInstalledError,
)
from threadloom._errors.interop import (
    LangGraphObjectError as LangGraphObjectError,
)
from threadloom._errors.interop import (
    LangGraphSourceError as LangGraphSourceError,
)
from threadloom._errors.interop import (
    LangGraphStoreWarning as LangGraphStoreWarning,
)
from threadloom._errors.interop import (
    MigrationMismatchError as MigrationMismatchError,
)
from threadloom._errors.interop import (
    UnknownSourceThreadsError as UnknownSourceThreadsError,
)
from threadloom._errors.nodes import (
    NodeCancelledError as NodeCancelledError,
)
from threadloom._errors.nodes import (
    NodeError as NodeError,
)
from threadloom._errors.nodes import (
    NodeTimeoutError as NodeTimeoutError,
)
from threadloom._errors.nodes import (
    SavedTaskError as SavedTaskError,
)
from threadloom._errors.nodes import (
    StepTimeoutError as StepTimeoutError,
)
from threadloom._errors.nodes import (
    is_invalid_resume as is_invalid_resume,
)
from threadloom._errors.nodes import (
    mark_invalid_resume as mark_invalid_resume,
)
from threadloom._errors.storage import (
    CheckpointConflictError as CheckpointConflictError,
)
from threadloom._errors.storage import (
    ConnectionStateError as ConnectionStateError,
)
from threadloom._errors.storage import (
    CorruptDataError as CorruptDataError,
)
from threadloom._errors.storage import (
    DatabaseConnectionError as DatabaseConnectionError,
)
from threadloom._errors.storage import (
    DisallowedTypeError as DisallowedTypeError,
)
from threadloom._errors.storage import (
    InvalidBackendError as InvalidBackendError,
)
from threadloom._errors.storage import (
    InvalidConnectionError as InvalidConnectionError,
)
from threadloom._errors.storage import (
    InvalidSaverArgumentError as InvalidSaverArgumentError,
)
from threadloom._errors.storage import (
    InvalidThreadIdError as InvalidThreadIdError,
)
from threadloom._errors.storage import (
    MissingCheckpointIdError as MissingCheckpointIdError,
)
from threadloom._errors.storage import (
    MissingExtensionError as MissingExtensionError,
)
from threadloom._errors.storage import (
    MissingThreadIdError as MissingThreadIdError,
)
from threadloom._errors.storage import (
    SerializationError as SerializationError,
)
from threadloom._errors.storage import (
    SetupRequiredError as SetupRequiredError,
)
from threadloom._errors.storage import (
    StorageError as StorageError,
)
from threadloom._errors.storage import (
    UnserializableValueError as UnserializableValueError,
)
from threadloom._errors.storage import (
    UnstorableTextError as UnstorableTextError,
)
from threadloom._errors.storage import (
    backend_lead as backend_lead,
)
from threadloom._errors.store import (
    EmbeddingError as EmbeddingError,
)
from threadloom._errors.store import (
    FieldPathError as FieldPathError,
)
from threadloom._errors.store import (
    IndexDimensionsError as IndexDimensionsError,
)
from threadloom._errors.store import (
    InvalidNamespaceError as InvalidNamespaceError,
)
from threadloom._errors.store import (
    StoreArgumentError as StoreArgumentError,
)
from threadloom._errors.store import (
    StoreFilterError as StoreFilterError,
)


def __getattr__(name: str) -> Any:
    # ToolInvocationError's base class imports langchain-core's tracers (seconds): load on use.
    if name == "ToolInvocationError":
        from threadloom.prebuilt._tool_errors import ToolInvocationError

        return ToolInvocationError
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


class ErrorCode(Enum):
    """Troubleshooting codes appended to some messages, as LangGraph does."""

    GRAPH_RECURSION_LIMIT = "GRAPH_RECURSION_LIMIT"
    INVALID_CONCURRENT_GRAPH_UPDATE = "INVALID_CONCURRENT_GRAPH_UPDATE"
    INVALID_GRAPH_NODE_RETURN_VALUE = "INVALID_GRAPH_NODE_RETURN_VALUE"
    MULTIPLE_SUBGRAPHS = "MULTIPLE_SUBGRAPHS"
    INVALID_CHAT_HISTORY = "INVALID_CHAT_HISTORY"


def create_error_message(*, message: str, error_code: ErrorCode) -> str:
    """Append the troubleshooting link for ``error_code`` to ``message``."""
    return (
        f"{message}\n"
        "For troubleshooting, visit: https://docs.langchain.com/oss/python/langgraph/errors/"
        f"{error_code.value}"
    )


class GraphRecursionError(RecursionError):
    """A run took more supersteps than ``recursion_limit`` allows."""


class InvalidUpdateError(ValueError):
    """A node or a caller tried to write state in a way the channels do not accept."""


class EmptyInputError(ValueError):
    """A run was started with nothing to do (no input, or an empty ``Command``)."""


class EmptyChannelError(Exception):
    """A channel was read before it had a value."""


class TaskNotFound(Exception):
    """A task named in a resume or an update does not exist."""


class UnknownInterruptError(ValueError):
    """A resume map names an interrupt id that is not pending."""


class GraphBubbleUp(Exception):
    """Control-flow signal that travels up through tasks; not a failure."""


class GraphInterrupt(GraphBubbleUp):
    """A task paused the run by calling ``interrupt()`` (or a static breakpoint fired)."""

    def __init__(self, interrupts: Sequence[Any] = ()) -> None:
        super().__init__(interrupts)
        self.interrupts = tuple(interrupts)


class NodeInterrupt(GraphInterrupt):
    """Deprecated: raise ``interrupt()`` instead."""

    def __init__(self, value: Any, id: str = "placeholder-id") -> None:
        import warnings

        from threadloom.types import Interrupt
        from threadloom.warnings import LangGraphDeprecatedSinceV10

        warnings.warn(
            "NodeInterrupt is deprecated. Please use `threadloom.types.interrupt` instead.",
            LangGraphDeprecatedSinceV10,
            stacklevel=2,
        )
        super().__init__([Interrupt(value=value, id=id)])


class ParentCommand(GraphBubbleUp):
    """Carries a ``Command(graph=Command.PARENT)`` up to the graph that should apply it."""

    def __init__(self, command: Any) -> None:
        super().__init__(command)
        self.command = command


class UnknownStreamModeError(ValueError):
    """``stream_mode`` names a mode that does not exist (it would stream nothing)."""

    def __init__(self, mode: Any, valid: Sequence[str], suggestion: str | None) -> None:
        self.mode, self.valid, self.suggestion = mode, tuple(valid), suggestion
        hint = f"Did you mean {suggestion!r}? " if suggestion else ""
        super().__init__(
            f"Unknown stream_mode {mode!r}: nothing would ever be streamed for it. {hint}"
            f"Valid modes: {', '.join(map(repr, valid))}."
        )


class UnknownStateKeyWarning(ThreadloomWarning):
    """An input or ``update_state`` value has a key the graph's input or state schema does not
    have (it is dropped, as in LangGraph)."""

    def __init__(
        self, where: str, keys: Sequence[str], schema_keys: Sequence[str], schema: str = "state"
    ) -> None:
        import difflib

        self.where, self.keys, self.schema_keys = where, tuple(keys), tuple(schema_keys)
        hints = []
        for key in self.keys:
            close = difflib.get_close_matches(key, self.schema_keys, n=1)
            if close:
                hints.append(f"{key!r} → {close[0]!r}")
        hint = f" Did you mean {', '.join(hints)}?" if hints else ""
        super().__init__(
            f"{where} has key(s) {list(self.keys)!r} that the graph's {schema} schema does not "
            f"have, so they are dropped. Its keys are {list(self.schema_keys)!r}.{hint} Rename "
            f"the key, or add it to the {schema} schema."
        )


class PendingInterruptWarning(ThreadloomWarning):
    """New input was sent to a thread that waits on ``interrupt()``: the interrupt is abandoned
    and the run starts from the thread's state, as in LangGraph."""

    def __init__(self, thread_id: Any, interrupts: Sequence[Any]) -> None:
        self.thread_id, self.interrupts = thread_id, tuple(interrupts)
        shown = ", ".join(
            f"Interrupt(value={getattr(i, 'value', i)!r}, id={getattr(i, 'id', None)!r})"
            for i in self.interrupts[:3]
        )
        more = f" and {len(self.interrupts) - 3} more" if len(self.interrupts) > 3 else ""
        super().__init__(
            f"thread {thread_id!r} is waiting on {len(self.interrupts)} interrupt(s) "
            f"({shown}{more}), and this run sends new input instead of an answer, so the "
            "interrupt is abandoned. To answer it, run graph.invoke(Command(resume=answer), "
            "config) (from threadloom.types import Command); to continue without an answer, pass "
            "None as input. If starting over on this thread is what you mean, ignore this "
            "warning (warnings.filterwarnings('ignore', category=PendingInterruptWarning))."
        )


class ToolCallCommandError(ValueError):
    """A tool returned a ``Command`` whose update has no ``ToolMessage`` for its own call."""

    def __init__(self, tool_name: str, messages: Any) -> None:
        self.tool_name = tool_name
        super().__init__(
            f"Expected to have a matching ToolMessage in Command.update for tool {tool_name!r}, "
            f"got: {messages!r}. Every tool call (LLM requesting to call a tool) in the message "
            "history MUST have a corresponding ToolMessage. You can fix it by modifying the tool "
            'to return `Command(update={"messages": [ToolMessage("Success", '
            "tool_call_id=tool_call_id), ...]}, ...)`."
        )


class InvalidChatHistoryError(ValueError):
    """An agent's history has tool calls with no ``ToolMessage`` (``create_react_agent``)."""

    def __init__(self, tool_calls: Sequence[Any]) -> None:
        self.tool_calls = list(tool_calls)
        super().__init__(
            create_error_message(
                message="Found AIMessages with tool_calls that do not have a corresponding "
                f"ToolMessage. Here are the first few of those tool calls: {self.tool_calls[:3]}."
                "\n\nEvery tool call (LLM requesting to call a tool) in the message history MUST "
                "have a corresponding ToolMessage (result of a tool invocation to return to the "
                "LLM) - this is required by most LLM providers.",
                error_code=ErrorCode.INVALID_CHAT_HISTORY,
            )
        )


class UnsupportedParameterError(NotImplementedError):
    """A LangGraph parameter threadloom accepts in its signatures but does not implement yet.

    Passing it with a non-default value raises this instead of silently ignoring it; ``where`` is
    the call (``"add_node"``), ``parameter`` its name and ``value`` what was passed.
    """

    def __init__(self, where: str, parameter: str, value: Any) -> None:
        self.where, self.parameter, self.value = where, parameter, value
        super().__init__(
            f"{where}({parameter}={value!r}): {parameter!r} is not supported in this release of "
            f"threadloom, and ignoring it would change what your program does. Remove the "
            f"argument (or pass None) to run without it."
        )


class MessageIdRequiredError(ValueError):
    """``push_message`` was given a message without an id (the stream and the history key it by
    id, so a client could not tell it from the message the node returns later)."""

    def __init__(self, message: Any) -> None:
        self.message = message
        super().__init__(
            f"Message ID is required to push a message, got {message!r}: give it one, e.g. "
            "push_message(AIMessage(content=..., id=str(uuid.uuid4())))."
        )


class GraphDrained(GraphBubbleUp):
    """The run stopped at a superstep boundary because ``RunControl.request_drain()`` was called
    (e.g. on SIGTERM). Its checkpoint is saved: invoke the thread again (input ``None``) to go on.
    """

    def __init__(self, reason: str = "shutdown") -> None:
        self.reason = reason
        super().__init__(f"Graph drained: {reason}")


class MissingNodeFunctionError(RuntimeError, ValueError):
    """``add_node`` was given no function for the node (``add_node("a")``, ``add_node(None)``).
    A ``RuntimeError`` as LangGraph raises there, and a ``ValueError`` as threadloom did."""

    def __init__(self, node: Any) -> None:
        self.node = node
        super().__init__(
            f"add_node got no function for node {node!r}. Pass the node's name and its "
            "function, add_node('name', func), or the function alone, add_node(func), to name "
            "the node after it."
        )


class InvalidConfigError(TypeError, AttributeError):
    """A run or state call got a config, or a config entry, of the wrong kind (a config that is
    not a dict, ``configurable`` or ``metadata`` that is not a dict, ``tags`` that cannot be
    iterated, a ``recursion_limit`` or ``max_concurrency`` that is not a number). A
    ``TypeError``, and an ``AttributeError`` too: LangGraph fails on most of these with an
    ``AttributeError`` from deep inside (``'int' object has no attribute 'items'``), so code
    catching that keeps working."""

    def __init__(self, where: str, value: Any, wanted: str, fix: str) -> None:
        self.where, self.value = where, value
        super().__init__(f"{where} must be {wanted}, got {type(value).__name__} {value!r}. {fix}")


class ExecutionInfoNotSetError(RuntimeError):
    """``Runtime.patch_execution_info`` on a runtime that has no ``execution_info`` (one made
    outside a run). A ``RuntimeError``, as LangGraph raises."""

    def __init__(self, fields: list[str]) -> None:
        self.fields = fields
        super().__init__(
            f"Cannot patch execution_info ({', '.join(fields)}) before it has been set: this "
            "Runtime was made outside a run. Pass Runtime(execution_info=ExecutionInfo(...)) "
            "first, or patch the runtime a task receives"
        )


__all__ = [
    "AlreadyExistsError",
    "CheckpointConflictError",
    "CliError",
    "ConnectionStateError",
    "CorruptDataError",
    "DatabaseConnectionError",
    "DatabaseError",
    "EmptyChannelError",
    "EmptyInputError",
    "ErrorCode",
    "ExecutionInfoNotSetError",
    "GraphBubbleUp",
    "GraphDrained",
    "GraphInterrupt",
    "GraphRecursionError",
    "IndexDimensionsError",
    "InvalidBackendError",
    "InvalidChatHistoryError",
    "InvalidConfigError",
    "InvalidConnectionError",
    "InvalidSaverArgumentError",
    "InvalidThreadIdError",
    "InvalidUpdateError",
    "LangGraphDatabaseError",
    "LangGraphNotInstalledError",
    "LangGraphObjectError",
    "LangGraphSourceError",
    "LangGraphStoreWarning",
    "MessageIdRequiredError",
    "MigrationMismatchError",
    "MissingCheckpointIdError",
    "MissingExtensionError",
    "MissingNodeFunctionError",
    "MissingThreadIdError",
    "ModelUnavailableError",
    "NodeCancelledError",
    "NodeError",
    "NodeInterrupt",
    "NodeTimeoutError",
    "NotFoundError",
    "ParentCommand",
    "PendingInterruptWarning",
    "SavedTaskError",
    "SerializationError",
    "SetupRequiredError",
    "StepTimeoutError",
    "StorageError",
    "StoreArgumentError",
    "TaskNotFound",
    "ThreadloomError",
    "ThreadloomWarning",
    "ToolCallCommandError",
    "ToolInvocationError",  # noqa: F822 (module __getattr__ loads it on use)
    "UnknownInterruptError",
    "UnknownSourceThreadsError",
    "UnknownStateKeyWarning",
    "UnknownStreamModeError",
    "UnstorableTextError",
    "UnsupportedParameterError",
    "create_error_message",
    "is_invalid_resume",
    "shown_value",
]

# Their home is threadloom.errors, where users import them from: tracebacks, reprs and pickles
# name them there, as before the topics were split into modules.
for _value in list(globals().values()):
    if isinstance(_value, type) and _value.__module__.startswith("threadloom._errors."):
        _value.__module__ = __name__
del _value
