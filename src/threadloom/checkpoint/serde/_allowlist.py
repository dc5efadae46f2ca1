"""Which named types the serializer may rebuild, and how a name becomes a class safely.

Stored bytes name classes as ``(module, qualname)``. A name becomes a class only if it is on the
allow-list: threadloom's own types, LangChain messages and documents (the safe set), or a type
the user registered. Registered class objects are used as given; registered names, and the safe
set's public locations, are imported only when bytes ask for them. Nothing else is ever imported.
Standard-library value types never reach this module: the codec rebuilds them from a fixed table.

A program may also *declare* types while it runs (``declare``): the types named by
``interrupt(..., response_schema=...)`` are the program's own, like its state schema, so every
allow-list takes them. A declared class is kept as the object given; bytes can name it, never
make it import something.
"""

from __future__ import annotations

import importlib
import logging
import threading
from collections.abc import Iterable
from typing import Any, Final

from threadloom.checkpoint.serde import event_hooks

__all__ = ["SAFE_PUBLIC_TYPES", "Allowlist", "TypeKey", "as_plain_str", "declare", "type_key"]

logger = logging.getLogger(__name__)

TypeKey = tuple[str, str]
"""``(module, qualname)`` of a class, as written into stored bytes."""

_MESSAGE_NAMES: Final = (
    "BaseMessage",
    "HumanMessage",
    "AIMessage",
    "SystemMessage",
    "ChatMessage",
    "ToolMessage",
    "FunctionMessage",
    "BaseMessageChunk",
    "HumanMessageChunk",
    "AIMessageChunk",
    "SystemMessageChunk",
    "ChatMessageChunk",
    "ToolMessageChunk",
    "FunctionMessageChunk",
    "RemoveMessage",
)

SAFE_PUBLIC_TYPES: Final[tuple[TypeKey, ...]] = (
    *(("langchain_core.messages", name) for name in _MESSAGE_NAMES),
    ("langchain_core.documents", "Document"),
    ("threadloom.types", "Send"),
    ("threadloom.types", "Interrupt"),
    ("threadloom.types", "Command"),
    ("threadloom.types", "Overwrite"),
    ("threadloom.types", "StateSnapshot"),
    ("threadloom.types", "PregelTask"),
    ("threadloom.types", "TimeoutPolicy"),
    ("threadloom.store.base", "Item"),
    ("threadloom.store.base", "GetOp"),
)
"""Always rebuilt, named by their public import location. A class may live in a submodule (the
bytes carry its real ``__module__``); the public name is resolved once to learn it."""


def as_plain_str(cls: type) -> bool:
    """Whether values of ``cls`` are stored as plain ``str``: LangChain's ``str`` subclasses.

    langchain-core hands out ``str`` subclasses users take for text (``message.text`` is a
    ``TextAccessor``); they carry no data beyond the text, so they are stored (and read back) as
    ``str``, as LangGraph does. Other ``str`` subclasses keep their type, or are refused.
    """
    return issubclass(cls, str) and cls.__module__.startswith("langchain_core.")


def type_key(cls: type) -> TypeKey:
    """The name stored for ``cls``."""
    return (cls.__module__, cls.__qualname__)


class _SafeTypes:
    """The safe set as class objects, resolved lazily from their public locations.

    Resolution imports only the fixed modules of ``SAFE_PUBLIC_TYPES`` (threadloom's own and
    langchain-core). A location that does not import yet (a module still being written, an
    optional dependency) is retried on a later miss.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._by_key: dict[TypeKey, type] = {}
        self._pending: set[TypeKey] = set(SAFE_PUBLIC_TYPES)

    def get(self, key: TypeKey) -> type | None:
        found = self._by_key.get(key)
        # Only a name from the safe packages can be a pending safe type; a user's class never
        # triggers resolution (this runs on every load of a registered class).
        if found is None and self._pending and key[0].startswith(_SAFE_PACKAGES):
            self._resolve_pending()
            found = self._by_key.get(key)
        return found

    def _resolve_pending(self) -> None:
        with self._lock:
            for module, name in sorted(self._pending):
                try:
                    cls = getattr(importlib.import_module(module), name)
                except ImportError:
                    continue  # the module may not exist yet: try again on a later miss
                except AttributeError:
                    cls = None  # the module does not define it: stop looking
                if isinstance(cls, type):
                    self._by_key[type_key(cls)] = cls
                self._pending.discard((module, name))


_SAFE_PACKAGES: Final = tuple(
    sorted({module.split(".")[0] + "." for module, _ in SAFE_PUBLIC_TYPES})
)
_SAFE = _SafeTypes()

_DECLARED: dict[TypeKey, type] = {}
"""Types the running program declared (``declare``), by stored name: every allow-list takes them."""
_DECLARED_CLASSES: set[type] = set()
"""The same classes as objects: each one declared stays storable, even if a later class took
its name (a class defined in a function that runs more than once)."""


def safe_type(key: TypeKey) -> type | None:
    """The class of the safe set stored bytes name as ``key``, or None."""
    return _SAFE.get(key)


def declare(classes: Iterable[type]) -> None:
    """Let every allow-list store and rebuild ``classes``: the program declared them as the
    types of values it keeps (``interrupt(..., response_schema=...)``), as it declares its state
    schema. The last class declared under a name is the one that name rebuilds."""
    for cls in classes:
        _DECLARED_CLASSES.add(cls)
        _DECLARED[type_key(cls)] = cls  # single stores: safe without a lock under the GIL


class Allowlist:
    """An immutable set of rebuildable types: the safe set plus what the user registered.

    ``permissive=True`` (``allowed_msgpack_modules=True``) rebuilds any named type by importing
    it: LangGraph's historical default, unsafe with untrusted bytes, opt-in only.
    """

    __slots__ = ("_classes", "_lock", "_names", "permissive")

    def __init__(self, entries: Iterable[type | TypeKey] | bool | None = None) -> None:
        self.permissive = entries is True
        self._classes: dict[TypeKey, type] = {}
        self._names: set[TypeKey] = set()
        self._lock = threading.Lock()
        if entries is None or isinstance(entries, bool):
            return
        for entry in entries:
            if isinstance(entry, type):
                self._classes[type_key(entry)] = entry
            elif (
                isinstance(entry, tuple)
                and len(entry) == 2
                and all(isinstance(part, str) for part in entry)
            ):
                self._names.add((entry[0], entry[1]))
            else:
                raise TypeError(
                    f"allow-list entry {entry!r} is neither a class nor a (module, name) tuple; "
                    "pass the class itself, e.g. allowed_msgpack_modules=[MyState], or "
                    "('myapp.state', 'MyState')."
                )

    def widened(self, extra: Iterable[type | TypeKey] | bool | None) -> Allowlist:
        """This allow-list plus ``extra``; ``self`` when ``extra`` adds nothing."""
        if self.permissive or extra is None or extra is False:
            return self
        if extra is True:
            return Allowlist(True)
        more = Allowlist(extra)
        new_classes = {k: c for k, c in more._classes.items() if not self.allows(c)}
        new_names = {
            k for k in more._names - self._names if k not in self._classes and _SAFE.get(k) is None
        }
        if not new_classes and not new_names:
            return self
        merged = Allowlist()
        merged._classes = {**self._classes, **new_classes}
        merged._names = self._names | new_names
        return merged

    def entries(self) -> list[type | TypeKey]:
        """What was registered (for display and for cloning)."""
        return [*self._classes.values(), *sorted(self._names)]

    def allows(self, cls: type) -> bool:
        """May values of ``cls`` be encoded (and later rebuilt)?"""
        key = type_key(cls)
        if self._classes.get(key) is cls or cls in _DECLARED_CLASSES or _SAFE.get(key) is cls:
            return True
        return self.permissive or key in self._names

    def resolve(self, key: TypeKey) -> type | None:
        """The class stored bytes name, or None when it is not allowed.

        Only an allowed name is imported; a registered class object is returned without any
        import. Raises ImportError/AttributeError when an allowed name no longer exists.
        """
        cls = self._classes.get(key) or _DECLARED.get(key) or _SAFE.get(key)
        if cls is not None:
            return cls
        if key not in self._names and not self.permissive:
            event_hooks.emit({"kind": "msgpack_blocked", "module": key[0], "name": key[1]})
            return None
        cls = _import_class(key)
        if key in self._names:
            with self._lock:  # remember it: the next load skips the import machinery
                self._classes[key] = cls
        else:
            event_hooks.emit(
                {"kind": "msgpack_unregistered_allowed", "module": key[0], "name": key[1]}
            )
        return cls


def _import_class(key: TypeKey) -> type:
    module, qualname = key
    obj: Any = importlib.import_module(module)
    for part in qualname.split("."):
        obj = getattr(obj, part)
    if not isinstance(obj, type):
        raise TypeError(f"{module}.{qualname} is {obj!r}, not a class")
    return obj
