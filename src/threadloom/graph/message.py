"""The chat-history reducer: how a list of messages absorbs an update.

``add_messages`` merges messages by id: a message whose id is already in the history replaces it
where it stands, a new id is appended, a ``RemoveMessage`` deletes, and ``REMOVE_ALL_MESSAGES``
starts the history over. ``MessagesState`` is the one-key state schema that uses it. The engine
only sees an ordinary two-argument reducer; everything about messages is decided here.

The reducer runs on every chat turn against the whole history, so the common case (a long history
of ready messages plus one or two new ones) does one C-level pass over the history to read its ids
and no per-message Python work beyond that.
"""

import functools
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from operator import attrgetter
from typing import Annotated, Any, ClassVar, Final, Literal, TypeAlias, cast, overload

from langchain_core.messages import (
    AnyMessage,
    BaseMessage,
    BaseMessageChunk,
    MessageLikeRepresentation,
    RemoveMessage,
    convert_to_messages,
    convert_to_openai_messages,
    message_chunk_to_message,
)
from typing_extensions import TypedDict  # (pydantic builds JSON schemas of it on 3.11)

from threadloom._appended import note_appended, take_copy_source
from threadloom.channels._messages_delta import (  # LangGraph's private name, imported by its users
    messages_delta_reducer as _messages_delta_reducer,  # noqa: F401
)
from threadloom.checkpoint.id import uuid4_str

__all__ = [
    "REMOVE_ALL_MESSAGES",
    "ConfiguredAddMessages",
    "Messages",
    "MessagesFormat",
    "MessagesState",
    "add_messages",
    "push_message",
]

REMOVE_ALL_MESSAGES: Final = "__remove_all__"
"""Id of the ``RemoveMessage`` that drops the whole history before it."""

Messages: TypeAlias = list[MessageLikeRepresentation] | MessageLikeRepresentation
"""What either side of ``add_messages`` accepts: one message-like value or a list of them."""

MessagesFormat: TypeAlias = Literal["langchain-openai"]
"""Output formats ``add_messages`` can normalise the merged history to."""


_FORMATS: Final[tuple[str, ...]] = ("langchain-openai",)
_message_id: Final = attrgetter("id")
_SCAN_LIMIT: Final = 8
"""Up to this many ids to look up, scan the old ids; past it, build a dict of them."""


@overload
def add_messages(
    left: Messages, right: Messages, *, format: MessagesFormat | None = None
) -> list[BaseMessage]: ...


@overload
def add_messages(
    left: None = None, right: None = None, *, format: MessagesFormat | None = None
) -> "ConfiguredAddMessages": ...


def add_messages(
    left: Messages | None = None,
    right: Messages | None = None,
    *,
    format: MessagesFormat | None = None,
) -> "list[BaseMessage] | ConfiguredAddMessages":
    """Merge ``right`` into ``left`` by message id and return the new history.

    Strings, ``(role, content)`` tuples and OpenAI-style dicts are turned into messages and chunks
    into full messages; a message without an id gets a uuid4 id, set on the object itself. A right
    message replaces the left message with its id in place, a new id is appended, and a
    ``RemoveMessage`` deletes the message with its id; ``RemoveMessage(id=REMOVE_ALL_MESSAGES)``
    drops everything before it. ``format="langchain-openai"`` normalises the result to OpenAI
    message shapes (ids are not kept, as in LangGraph).

    Called with keyword arguments only (``add_messages(format="langchain-openai")``), it returns
    the configured reducer for use in ``Annotated[list[AnyMessage], ...]``.
    """
    if left is None and right is None:
        _check_format(format)
        return ConfiguredAddMessages(format)
    if left is None or right is None:
        given = "left" if right is None else "right"
        raise ValueError(
            "Must specify non-null arguments for both 'left' and 'right'. "
            f"Only received: '{given}'."
        )
    if format is not None:
        _check_format(format)
    known = _KNOWN.get(left)
    base: list[Any] | None = cast(list[Any], left)  # the known history this call extends
    if known is None:
        base = take_copy_source(left)  # a saver's copy of a history returned here
        known = None if base is None else _KNOWN.get(base)
    seen: set[str] | None = None
    if known is not None:  # a history this function returned: all messages, all with ids
        old, (old_ids, seen) = cast(list[BaseMessage], left), known
    else:
        old = _as_messages(left)
        old_ids, _ = _ensure_ids(old)
        base = None
    new = _as_messages(right)
    new_ids, fresh = _ensure_ids(new)
    if REMOVE_ALL_MESSAGES in new_ids and (cut := _after_last_remove_all(new, new_ids)) is not None:
        return new[cut:]
    if (
        len(new) == 1
        and format is None
        and (
            new_ids[0] in fresh
            or (seen is not None and new_ids[0] not in seen)  # O(1): ``seen`` has every old id
            or new_ids[0] not in old_ids  # (``in``: one C-level scan)
        )
        and not isinstance(new[0], RemoveMessage)
    ):  # one new message, the usual update of a chat turn: appended, as ``_merge`` would
        merged = [*old, new[0]]
        _KNOWN.remember(merged, [*old_ids, new_ids[0]], seen, new_ids, base)
        if old is left:
            note_appended(merged, old)
        return merged
    merged = _merge(old, old_ids, new, new_ids, fresh)
    if format == "langchain-openai":
        # A round trip through OpenAI dicts; like LangGraph's, it does not carry ids over.
        return convert_to_messages(convert_to_openai_messages(merged))
    if len(merged) == len(old) + len(new) and merged[len(old) :] == new:
        _KNOWN.remember(merged, [*old_ids, *new_ids], seen, new_ids, base)  # only appends
        if old is left:  # the channel's list itself: tell the saver only a tail is new
            note_appended(merged, old)
    return merged


def push_message(
    message: MessageLikeRepresentation | BaseMessageChunk, *, state_key: str | None = "messages"
) -> AnyMessage:
    """Send ``message`` to the ``messages`` stream now, from inside a node or task, and write it
    to the state key ``state_key`` (``None``: stream it only).

    The message needs an id (``MessageIdRequiredError`` otherwise): the node may return it later,
    and it is not streamed twice. It streams under the namespace of the graph whose task pushed
    it. Outside a running task it raises ``RuntimeError``.
    """
    from threadloom.engine.messages import push_message as push  # the engine imports this module

    return push(message, state_key)  # type: ignore[return-value]  # a message, as AnyMessage


class _KnownHistories:
    """The ids of the last few histories ``add_messages`` returned or was given, by list identity.

    A chat turn folds several updates into one history: the second call gets the list the first
    returned, so it can skip reading every id of a long history again. An entry holds the list
    itself, so its ``id()`` cannot be reused while it is cached, and its length: a list grown in
    place is not trusted. (A history edited by changing a message's id in place is not supported;
    state is changed by returning updates.)

    Each entry also holds ``seen``, a set holding at least every id of its history, so a new
    message's id is proven new in O(1) (an id in ``seen`` is then looked for in the ids). A
    history extended by appending hands its set on to the new one, which supersedes it: the
    older entry is dropped, so a chat keeps one entry (and one history list alive) rather than
    its last ``_KNOWN_SIZE``, which the garbage collector would walk element by element.
    """

    __slots__ = ("entries", "lock")

    def __init__(self) -> None:
        self.entries: dict[int, tuple[list[Any], int, list[str], set[str]]] = {}
        self.lock = threading.Lock()

    def get(self, history: object) -> tuple[list[str], set[str]] | None:
        """The ids of ``history`` and a set holding at least them, if it is known."""
        entry = self.entries.get(id(history))
        if entry is None or entry[0] is not history or entry[1] != len(entry[0]):
            return None
        with self.lock:  # least recently used goes first: a history read often stays
            self.entries[id(history)] = self.entries.pop(id(history), entry)
        return entry[2], entry[3]

    def remember(
        self,
        history: list[BaseMessage],
        ids: list[str],
        seen: set[str] | None,
        appended: list[str],
        superseded: list[Any] | None,
    ) -> None:
        """Know ``history`` (its ``ids``): ``superseded``'s ids (held by ``seen``, or None to
        build it) followed by ``appended``; ``superseded``'s entry is dropped."""
        if seen is None:
            seen = set(ids)
        else:  # handed on: the superseded history's entry goes below
            seen.update(appended)
        with self.lock:
            entries = self.entries
            if superseded is not None:
                entry = entries.get(id(superseded))
                if entry is not None and entry[0] is superseded:
                    del entries[id(superseded)]
            if len(entries) >= _KNOWN_SIZE:
                entries.pop(next(iter(entries)))
            entries[id(history)] = (history, len(history), ids, seen)


_KNOWN_SIZE: Final = 32
_KNOWN = _KnownHistories()


@dataclass(frozen=True, slots=True)
class ConfiguredAddMessages:
    """``add_messages`` with its options bound, as ``add_messages(format=...)`` returns it.

    A value, not a ``functools.partial`` (LangGraph's choice): two reducers configured alike
    compare equal, so two schemas declaring the same key this way agree on its channel, and it
    has a ``__name__`` like any function reducer.
    """

    format: MessagesFormat | None
    __name__: ClassVar[str] = "add_messages"

    def __call__(self, left: Messages, right: Messages) -> list[BaseMessage]:
        return add_messages(left, right, format=self.format)


class MessagesState(TypedDict):
    """State with one key, ``messages``: a chat history merged by ``add_messages``."""

    messages: Annotated[list[AnyMessage], add_messages]


def _check_format(format: object) -> None:
    if format is not None and format not in _FORMATS:
        raise ValueError(
            f"Unrecognized format={format!r}. Expected one of 'langchain-openai', None."
        )


def _as_messages(value: Messages) -> list[BaseMessage]:
    """The value as a list of full messages; a list that already is one is returned as is."""
    if isinstance(value, list):
        items: list[Any] = value
    elif isinstance(value, tuple) and value and _only_messages(value):
        # LangGraph fails on a tuple of messages; a tuple of strings stays one (role, content).
        items = list(value)
    else:
        items = [value]
    if _only_messages(items):
        return items
    return [message_chunk_to_message(m) for m in convert_to_messages(items)]


@functools.cache
def _is_full_message_type(kind: type) -> bool:
    return issubclass(kind, BaseMessage) and not issubclass(kind, BaseMessageChunk)


def _only_messages(items: Sequence[Any]) -> bool:
    """True when every item is a BaseMessage that is not a chunk (checked once per type)."""
    return all(map(_is_full_message_type, set(map(type, items))))


def _ensure_ids(messages: list[BaseMessage]) -> tuple[list[str], set[str]]:
    """The ids of ``messages`` and the uuid4 ids just given to the messages that had none."""
    ids: list[Any] = list(map(_message_id, messages))
    fresh: set[str] = set()
    if None in ids:
        for at, message_id in enumerate(ids):
            if message_id is None:
                # Re-read: the same object may occur twice and already have its id by now.
                message = messages[at]
                if message.id is None:
                    message.id = uuid4_str()
                    fresh.add(message.id)
                ids[at] = message.id
    return ids, fresh


def _after_last_remove_all(messages: list[BaseMessage], ids: list[str]) -> int | None:
    """Index just past the last ``RemoveMessage(id=REMOVE_ALL_MESSAGES)``, or None."""
    for at in range(len(ids) - 1, -1, -1):
        if ids[at] == REMOVE_ALL_MESSAGES and isinstance(messages[at], RemoveMessage):
            return at + 1
    return None


def _nowhere(_message_id: str) -> None:
    return None


def _position_finder(ids: list[str], lookups: int) -> Callable[[str], int | None]:
    """A function giving the position of the last message with an id in ``ids``, or None.

    Building a dict over a long history costs more than a few C-level list scans, and a chat turn
    looks up one or two ids, usually recent ones: those are found from the end of the list.
    """
    if lookups == 0:  # every id of the update is new: nothing to find (nor to prepare)
        return _nowhere
    if lookups > _SCAN_LIMIT:
        table = dict(zip(ids, range(len(ids)), strict=True))  # later duplicates win
        return table.get
    backwards = ids[::-1]
    last = len(ids) - 1

    def scan(message_id: str) -> int | None:
        try:
            return last - backwards.index(message_id)
        except ValueError:
            return None

    return scan


def _merge(
    old: list[BaseMessage],
    old_ids: list[str],
    new: list[BaseMessage],
    new_ids: list[str],
    fresh: set[str],
) -> list[BaseMessage]:
    """Apply ``new`` to a copy of ``old``: replace by id in place, append, delete."""
    merged = old.copy()
    # An id given a moment ago cannot be in the old history: only the others are looked up.
    find_old = _position_finder(old_ids, sum(i not in fresh for i in new_ids))
    added: dict[str, int] = {}  # ids appended by this update, for later messages of the update
    doomed: set[str] = set()
    for message, message_id in zip(new, new_ids, strict=True):
        at = added.get(message_id)
        if at is None and message_id not in fresh:
            at = find_old(message_id)
        if isinstance(message, RemoveMessage):
            if at is None:
                raise ValueError(
                    f"Attempting to delete a message with an ID that doesn't exist ('{message_id}')"
                )
            doomed.add(message_id)
        elif at is None:
            added[message_id] = len(merged)
            merged.append(message)
        else:
            # A message re-sent after its RemoveMessage in the same update keeps it alive.
            doomed.discard(message_id)
            merged[at] = message
    if doomed:
        merged = [m for m in merged if m.id not in doomed]
    return merged


def __getattr__(name: str) -> Any:
    if name == "MessageGraph":  # deprecated; defined apart, since it needs StateGraph
        from threadloom.graph._message_graph import MessageGraph

        return MessageGraph
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
