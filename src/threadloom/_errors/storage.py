"""Errors of savers and their databases: connections, schema, stored bytes, conflicts, arguments."""

from __future__ import annotations

from typing import Any

from threadloom._errors.base import ThreadloomError, shown_value


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


class DatabaseConnectionError(StorageError):
    """A database could not be reached; the message names the host and database, never secrets."""


class SetupRequiredError(StorageError):
    """A database has not been set up (or is behind this version's schema): call ``setup()``."""


class ConnectionStateError(StorageError):
    """A connection handed to threadloom cannot be used as it is (e.g. a failed transaction)."""


class MissingExtensionError(StorageError):
    """A PostgreSQL extension the configuration needs (pgvector) is not installed."""


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


class MissingThreadIdError(ValueError, KeyError):
    """A run or a state call on a graph with a checkpointer got no ``thread_id``. A
    ``ValueError`` as LangGraph's ``invoke`` raises for an empty config, and a ``KeyError`` as it
    raises otherwise (``get_state``, ``update_state``, a config with other keys)."""

    def __str__(self) -> str:  # KeyError's would show the message quoted
        return str(self.args[0])
