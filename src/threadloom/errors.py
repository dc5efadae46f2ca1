"""Every public error threadloom raises, in one place.

Messages say what was wrong (the bad value quoted with ``!r``), where, and what to do. Where the
behavioural contract quotes LangGraph's text, the text is kept word for word so programs that match
on it keep working. Errors keep the offending values as attributes so callers can branch without
parsing text.
"""

from __future__ import annotations

import reprlib
from collections.abc import Sequence
from enum import Enum
from typing import Any


def __getattr__(name: str) -> Any:
    # ToolInvocationError's base class imports langchain-core's tracers (seconds): load on use.
    if name == "ToolInvocationError":
        from threadloom.prebuilt._tool_errors import ToolInvocationError

        return ToolInvocationError
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "CheckpointConflictError",
    "EmptyChannelError",
    "EmptyInputError",
    "ErrorCode",
    "GraphBubbleUp",
    "GraphInterrupt",
    "GraphRecursionError",
    "InvalidUpdateError",
    "NodeInterrupt",
    "ParentCommand",
    "SerializationError",
    "StorageError",
    "TaskNotFound",
    "ThreadloomError",
    "UnknownInterruptError",
    "create_error_message",
]


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


class ThreadloomError(Exception):
    """Base of threadloom's own errors that have no standard-library parent."""


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


class CheckpointConflictError(ThreadloomError):
    """Another writer advanced the thread after this run last read its head."""

    def __init__(self, thread_id: str, checkpoint_ns: str, seen_head: str | None, head: str | None):
        self.thread_id = thread_id
        self.checkpoint_ns = checkpoint_ns
        self.seen_head = seen_head
        self.head = head
        where = f"thread {thread_id!r}" + (
            f" (namespace {checkpoint_ns!r})" if checkpoint_ns else ""
        )
        super().__init__(
            f"{where} moved from checkpoint {seen_head!r} to {head!r} while this run was working. "
            "Only one run may write a thread at a time: wait for the other run, or reload the "
            "thread with get_state() and try again."
        )


class SerializationError(TypeError):
    """A value cannot be encoded, or stored bytes name a type that is not allowed."""


class StorageError(ThreadloomError):
    """The database under a saver or a store failed; the driver's error is the ``__cause__``."""


class InvalidNamespaceError(ValueError):
    """A store namespace (a tuple of labels) breaks the label rules; the message says which."""


class StoreFilterError(ValueError):
    """A store search filter uses an unknown operator or has a malformed shape."""


class FieldPathError(ValueError):
    """A field path for indexing (``"a.b[0]"``, ``"{a,b}"``, ``"$"`` …) cannot be parsed."""


class EmbeddingError(ThreadloomError):
    """The embedder failed or returned vectors that do not fit the index; nothing was stored."""


class UnserializableValueError(SerializationError):
    """A value (or a part of it) cannot be encoded; ``path`` says where inside the value."""

    def __init__(self, path: str, value: Any, reason: str, fix: str) -> None:
        self.path, self.value, self.reason, self.fix = path, value, reason, fix
        shown = shown_value(value)
        super().__init__(f"cannot serialize {path} = {shown}: {reason}. {fix}")

    def with_root(self, old_root: str, new_root: str) -> UnserializableValueError:
        """The same error with the path re-rooted (e.g. ``value`` → ``state['messages']``)."""
        path = new_root + self.path.removeprefix(old_root)
        return UnserializableValueError(path, self.value, self.reason, self.fix)


class DisallowedTypeError(SerializationError):
    """Stored bytes name a type the serializer's allow-list does not include; nothing was
    imported or called."""

    def __init__(self, module: str, name: str) -> None:
        self.module, self.name = module, name
        super().__init__(
            f"stored data names the type {module}.{name} ({(module, name)!r}), which is not on "
            "the serializer's allow-list, so it was not rebuilt (nothing was imported). If you "
            "trust it, allow it: JsonPlusSerializer(allowed_msgpack_modules="
            f"[{(module, name)!r}]) or saver.with_allowlist([{(module, name)!r}])."
        )


class IndexDimensionsError(ValueError):
    """A database holds vectors of other dimensions than the store's ``index["dims"]``."""

    def __init__(self, stored_dims: int, configured_dims: int, vectors: int) -> None:
        self.stored_dims, self.configured_dims, self.vectors = stored_dims, configured_dims, vectors
        super().__init__(
            f"This store's vector index was built with dims={stored_dims!r} ({vectors} vector(s) "
            f"stored), but index['dims'] is {configured_dims!r}. Use the embedding model the "
            f"index was built with (dims={stored_dims}), or open a new database file to embed "
            "with the new model."
        )


__all__ += ["IndexDimensionsError"]


class LangGraphObjectError(TypeError):
    """A LangGraph object (or function) was used inside threadloom; the message names the import
    to change. ``qualname`` is the LangGraph name (``"langgraph.types.Command"``), ``replacement``
    the threadloom import to use instead (``None`` when threadloom has no counterpart)."""

    def __init__(
        self, where: str, qualname: str, replacement: str | None, *, lead: str = "", also: str = ""
    ) -> None:
        self.where, self.qualname, self.replacement = where, qualname, replacement
        fix = (
            f"Change the import to: {replacement}"
            if replacement
            else "threadloom has no counterpart to it in this release; use threadloom's own "
            "classes and functions (imported from threadloom, not langgraph)"
        )
        super().__init__(
            f"{lead}{where[:1].upper()}{where[1:]} is LangGraph's {qualname}, which threadloom "
            "cannot use: LangGraph's "
            f"objects only work inside LangGraph. {fix}.{also}"
        )


class InvalidBackendError(TypeError):
    """``compile()`` or ``@entrypoint`` got something that is not a saver (``checkpointer=``) or
    not a store (``store=``); ``argument`` and ``value`` say which."""

    def __init__(self, argument: str, value: Any, fix: str) -> None:
        self.argument, self.value, self.fix = argument, value, fix
        shown = repr(value)
        if len(shown) > 120:
            shown = shown[:117] + "..."
        super().__init__(
            f"{backend_lead(argument)}Received {type(value).__name__}: {argument}={shown}. {fix}"
        )


def backend_lead(argument: str) -> str:
    """The first words of a bad ``checkpointer=`` / ``store=`` error (LangGraph's, for savers)."""
    if argument == "checkpointer":
        return (
            "Invalid checkpointer provided. Expected an instance of `BaseCheckpointSaver`, "
            "`True`, `False`, or `None`. "
        )
    return f"Invalid {argument} provided. Expected an instance of `BaseStore` or `None`. "


class UnknownStreamModeError(ValueError):
    """``stream_mode`` names a mode that does not exist (it would stream nothing)."""

    def __init__(self, mode: Any, valid: Sequence[str], suggestion: str | None) -> None:
        self.mode, self.valid, self.suggestion = mode, tuple(valid), suggestion
        hint = f"Did you mean {suggestion!r}? " if suggestion else ""
        super().__init__(
            f"Unknown stream_mode {mode!r}: nothing would ever be streamed for it. {hint}"
            f"Valid modes: {', '.join(map(repr, valid))}."
        )


class ThreadloomWarning(UserWarning):
    """Base of threadloom's warnings: ``warnings.filterwarnings("ignore", category=...)``."""


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


__all__ += [
    "InvalidBackendError",
    "LangGraphObjectError",
    "PendingInterruptWarning",
    "ThreadloomWarning",
    "UnknownStateKeyWarning",
    "UnknownStreamModeError",
]


class DatabaseConnectionError(StorageError):
    """A database could not be reached; the message names the host and database, never secrets."""


class SetupRequiredError(StorageError):
    """A database has not been set up (or is behind this version's schema): call ``setup()``."""


class ConnectionStateError(StorageError):
    """A connection handed to threadloom cannot be used as it is (e.g. a failed transaction)."""


class MissingExtensionError(StorageError):
    """A PostgreSQL extension the configuration needs (pgvector) is not installed."""


__all__ += [
    "ConnectionStateError",
    "DatabaseConnectionError",
    "MissingExtensionError",
    "SetupRequiredError",
]


class LangGraphDatabaseError(StorageError):
    """A database file made by LangGraph was opened by a threadloom saver or store.

    threadloom keeps its own tables and does not read or change LangGraph's; ``tables`` lists the
    LangGraph tables found, ``path`` is the file.
    """

    def __init__(self, path: str, kind: str, tables: Sequence[str], docs: str) -> None:
        self.path, self.kind, self.tables = path, kind, tuple(tables)
        super().__init__(
            f"{path!r} holds a LangGraph {kind} (tables {', '.join(self.tables)}), not a "
            f"threadloom one. threadloom keeps its own tables and does not read or change "
            f"LangGraph's: open a new file for threadloom, and copy the data over with "
            f"`threadloom migrate {path} --db NEW_FILE{' --store' if kind == 'store' else ''}` "
            f"(see {docs} and "
            "docs/coming-from-langgraph.md)."
        )


__all__ += ["LangGraphDatabaseError"]


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


__all__ += ["InvalidChatHistoryError", "ToolCallCommandError", "ToolInvocationError"]  # noqa: F822 (lazy)


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


__all__ += ["UnsupportedParameterError"]


class CorruptDataError(SerializationError):
    """Stored bytes do not decode: changed after they were written, truncated, or crafted.

    ``offset`` is the byte position in the stored bytes where decoding failed (None when it
    could not be found) and ``path`` the place inside the value being rebuilt there.
    """

    def __init__(self, reason: str, offset: int | None = None, path: str | None = None) -> None:
        self.reason, self.offset, self.path = reason, offset, path
        where = "at an unknown position" if offset is None else f"at byte {offset}"
        if path:
            where += f" (in {path})"
        super().__init__(
            f"stored bytes are corrupt {where}: {reason}. They were changed after being written "
            "or were not written by threadloom's JsonPlusSerializer; nothing was imported or "
            "called. Restore the data from a backup, or delete the checkpoint or thread."
        )


def shown_value(value: Any, limit: int = 120) -> str:
    """``repr(value)`` for an error message, cut to ``limit`` characters; never raises.

    Huge ints are described rather than converted (int-to-str conversion has a digit limit and
    is quadratic), and a ``__repr__`` that fails or recurses too deeply is replaced.
    """
    if isinstance(value, int) and value.bit_length() > 256:
        return f"<{type(value).__name__} of {value.bit_length()} bits>"
    try:
        shown = _BOUNDED_REPR.repr(value)
    except Exception:  # a broken __repr__ must not hide the error being reported
        shown = f"<{type(value).__qualname__} object (its repr() failed)>"
    return shown if len(shown) <= limit else shown[: limit - 3] + "..."


_BOUNDED_REPR = reprlib.Repr()  # bounded in depth and width: a huge or deep value stays cheap
_BOUNDED_REPR.maxlevel = 4
_BOUNDED_REPR.maxstring = _BOUNDED_REPR.maxother = _BOUNDED_REPR.maxlong = 100


__all__ += ["CorruptDataError", "shown_value"]


class InvalidConnectionError(TypeError):
    """A saver was given something other than the open connection it runs on (a file path,
    say); ``saver`` names the saver, ``value`` is what it got, ``fix`` what to do instead."""

    def __init__(self, saver: str, value: Any, expected: str, fix: str) -> None:
        self.saver, self.value, self.fix = saver, value, fix
        shown = repr(value)
        if len(shown) > 120:
            shown = shown[:117] + "..."
        super().__init__(
            f"{saver}(conn) needs {expected}, but got {type(value).__name__}: {shown}. {fix}"
        )


__all__ += ["InvalidConnectionError"]


class UnstorableTextError(StorageError, ValueError):
    """A text bound as a key or filter value (a thread id, a namespace, a metadata filter value)
    holds a lone surrogate, which the database's UTF-8 text cannot hold."""

    def __init__(self, what: str, text: str) -> None:
        self.text = text
        super().__init__(
            f"{what}: the text {shown_value(text)} holds a lone surrogate (a str UTF-8 cannot "
            "encode), so it cannot be a thread id, namespace or filter value in a SQL database. "
            "Fix the text (e.g. text.encode('utf-8', 'replace').decode()); channel values and "
            "metadata may hold such strings, they are stored losslessly."
        )


__all__ += ["UnstorableTextError"]


class CliError(ThreadloomError):
    """A ``threadloom`` command cannot do what was asked; ``exit_code`` tells scripts why."""

    exit_code = 1


class NotFoundError(CliError):
    """The thread, checkpoint or store item named on the command line does not exist."""

    exit_code = 3

    def __init__(self, what: str, name: str, where: str, hint: str) -> None:
        self.what, self.name, self.where = what, name, where
        super().__init__(f"no {what} {name!r} in {where}. {hint}")


class DatabaseError(CliError):
    """The database cannot be opened, or it is not one that threadloom wrote."""

    exit_code = 4

    def __init__(self, where: str, problem: str, fix: str) -> None:
        self.where, self.problem = where, problem
        super().__init__(f"{where}: {problem}. {fix}")


class ModelUnavailableError(CliError):
    """The chat model asked for with ``--model`` needs a package or an API key that is missing."""

    exit_code = 5

    def __init__(self, model: str, missing: str, fix: str) -> None:
        self.model, self.missing = model, missing
        super().__init__(f"--model {model!r} needs {missing}. {fix}")


class AlreadyExistsError(CliError):
    """The thread a command would create (copy, import) already exists."""

    exit_code = 6

    def __init__(self, what: str, name: str, where: str, hint: str) -> None:
        self.what, self.name, self.where = what, name, where
        super().__init__(f"{what} {name!r} already exists in {where}. {hint}")


__all__ += [
    "AlreadyExistsError",
    "CliError",
    "DatabaseError",
    "ModelUnavailableError",
    "NotFoundError",
]


class LangGraphNotInstalledError(ImportError):
    """``threadloom.interop.langgraph`` was imported without LangGraph installed."""

    def __init__(self, missing: str) -> None:
        self.missing = missing
        super().__init__(
            f"threadloom.interop.langgraph needs the package {missing!r}, which is not "
            "installed. Install the extra: pip install 'threadloom[langgraph]'.",
            name=missing,
        )


__all__ += ["LangGraphNotInstalledError"]


class LangGraphSourceError(StorageError):
    """The database given to a migration from LangGraph cannot be read as one (``threadloom
    migrate``, ``migrate_checkpoints``, ``migrate_store``); nothing was changed."""

    def __init__(self, source: str, problem: str, fix: str) -> None:
        self.source, self.problem = source, problem
        super().__init__(f"Cannot migrate from {source!r}: {problem}. {fix}")


class MigrationMismatchError(StorageError):
    """A checkpoint copied by a migration read back different from the source; the migration
    stopped there (run it again once the cause is fixed: what was copied is kept)."""

    def __init__(self, thread_id: str, checkpoint_ns: str, checkpoint_id: str, field: str) -> None:
        self.thread_id, self.checkpoint_ns = thread_id, checkpoint_ns
        self.checkpoint_id, self.field = checkpoint_id, field
        super().__init__(
            f"checkpoint {checkpoint_id!r} of thread {thread_id!r} (namespace {checkpoint_ns!r}) "
            f"reads back from the target with a different {field} than in the LangGraph source. "
            "The target saver did not store it faithfully: check that its serializer accepts the "
            "state's types (serde allow-list), then run the migration again; it resumes here."
        )


class UnknownSourceThreadsError(LangGraphSourceError):
    """Threads asked of a migration are not in the LangGraph source; nothing was copied."""

    def __init__(self, source: str, thread_ids: Sequence[str], known: Sequence[str]) -> None:
        self.thread_ids = tuple(thread_ids)
        shown = ", ".join(repr(t) for t in list(known)[:20]) + (" ..." if len(known) > 20 else "")
        super().__init__(
            source,
            f"it has no thread(s) {list(thread_ids)!r}",
            f"Its threads are: {shown or '(none)'}",
        )


__all__ += ["LangGraphSourceError", "MigrationMismatchError", "UnknownSourceThreadsError"]


class LangGraphStoreWarning(ThreadloomWarning):
    """``PostgresStore.setup()`` found LangGraph's store tables with items beside an empty
    threadloom store: threadloom does not read them; ``threadloom migrate`` copies them."""

    def __init__(self, items: int) -> None:
        self.items = items
        super().__init__(
            f"This database holds LangGraph's store ({items} item(s) in its 'store' table), "
            "which threadloom's PostgresStore does not read: its own tables start empty. Copy "
            "the items over with `threadloom migrate DSN --dsn DSN --store` or "
            "threadloom.interop.migrate.migrate_store (docs/coming-from-langgraph.md)."
        )


__all__ += ["LangGraphStoreWarning"]


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


__all__ += [
    "NodeCancelledError",
    "NodeError",
    "NodeTimeoutError",
    "SavedTaskError",
    "StepTimeoutError",
]


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


__all__ += ["is_invalid_resume"]


class MessageIdRequiredError(ValueError):
    """``push_message`` was given a message without an id (the stream and the history key it by
    id, so a client could not tell it from the message the node returns later)."""

    def __init__(self, message: Any) -> None:
        self.message = message
        super().__init__(
            f"Message ID is required to push a message, got {message!r}: give it one, e.g. "
            "push_message(AIMessage(content=..., id=str(uuid.uuid4())))."
        )


__all__ += ["MessageIdRequiredError"]


class GraphDrained(GraphBubbleUp):
    """The run stopped at a superstep boundary because ``RunControl.request_drain()`` was called
    (e.g. on SIGTERM). Its checkpoint is saved: invoke the thread again (input ``None``) to go on.
    """

    def __init__(self, reason: str = "shutdown") -> None:
        self.reason = reason
        super().__init__(f"Graph drained: {reason}")


__all__ += ["GraphDrained"]


class InvalidThreadIdError(TypeError):
    """A saver was given a ``thread_id`` that is not a ``str``, an ``int`` or a ``UUID``: turned
    into a string, it would store the thread under a name nobody can ask for again (an object's
    ``repr`` holds its address) or merge threads (``None``, ``True``)."""

    def __init__(self, thread_id: Any) -> None:
        self.thread_id = thread_id
        super().__init__(
            f"thread_id must be a str, an int or a uuid.UUID, got {type(thread_id).__name__} "
            f"{thread_id!r}. Pass the thread's name, e.g. {{'configurable': {{'thread_id': "
            "'user-42'}}."
        )


class InvalidSaverArgumentError(TypeError, ValueError):
    """A saver's ``list`` was given an argument of the wrong kind (a ``limit`` that is not a
    non-negative int, a ``filter`` or ``before`` that is not a dict); nothing was read."""

    def __init__(self, name: str, value: Any, rule: str, fix: str) -> None:
        self.name, self.value = name, value
        super().__init__(f"{name} {rule}, got {type(value).__name__} {value!r}. {fix}")


__all__ += ["InvalidSaverArgumentError", "InvalidThreadIdError"]


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


__all__ += ["MissingNodeFunctionError"]


class MissingCheckpointIdError(ValueError, KeyError):
    """``put_writes`` got a config without ``checkpoint_id``: the writes belong to no checkpoint.
    A ``KeyError`` too, as LangGraph's savers raise there."""

    def __init__(self, thread_id: Any) -> None:
        self.thread_id = thread_id
        super().__init__(
            f"put_writes for thread {thread_id!r} needs config['configurable']['checkpoint_id']: "
            "the checkpoint the task ran from."
        )

    def __str__(self) -> str:  # KeyError's would show the message quoted
        return str(self.args[0])


__all__ += ["MissingCheckpointIdError"]


class StoreArgumentError(TypeError, ValueError):
    """A store call got an argument of the wrong kind: a value that is not a dict with string
    keys, a ``limit``/``offset``/``max_depth`` that is not a non-negative int, an op that is not
    a store op. Both a ``TypeError`` and a ``ValueError``: LangGraph's stores fail on these with
    one or the other (or not at all), so code written for either kind catches it."""


__all__ += ["StoreArgumentError"]


class MissingThreadIdError(ValueError, KeyError):
    """A run or a state call on a graph with a checkpointer got no ``thread_id``. A
    ``ValueError`` as LangGraph's ``invoke`` raises for an empty config, and a ``KeyError`` as it
    raises otherwise (``get_state``, ``update_state``, a config with other keys)."""

    def __str__(self) -> str:  # KeyError's would show the message quoted
        return str(self.args[0])


__all__ += ["MissingThreadIdError"]


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


__all__ += ["InvalidConfigError"]


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


__all__ += ["ExecutionInfoNotSetError"]
