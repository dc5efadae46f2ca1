"""Checks at the public entry points, for the mistakes users make most: pure functions.

- LangGraph objects in a threadloom graph (a saver, a store, a returned ``Command``, a ``Send``, a
  call to LangGraph's ``interrupt()``) raise ``LangGraphObjectError`` naming the import to change.
  They are recognised by their class's module, so langgraph is never imported.
- ``checkpointer=`` / ``store=`` given something else (a ``from_conn_string(...)`` context manager
  not opened with ``with``, a path, …) raise ``InvalidBackendError`` naming the fix.
- An unknown ``stream_mode`` raises ``UnknownStreamModeError`` (it would stream nothing).
- Input and ``update_state`` keys the state schema lacks warn (``UnknownStateKeyWarning``), and so
  does new input sent to a thread waiting on an interrupt (``PendingInterruptWarning``): LangGraph
  runs both without a word, and a working program must keep working.
- Top-level config keys that are not RunnableConfig keys (``{"thread_id": "1"}``) move into
  ``configurable``, as LangGraph's runs do; a config (or an entry of it) of the wrong kind, which
  LangGraph refuses deep inside, raises ``InvalidConfigError`` naming it.

Nothing here does I/O or knows how a run proceeds; the entry points call these functions.
"""

from __future__ import annotations

import difflib
import importlib
import sys
import warnings
from collections.abc import Iterable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager, AbstractContextManager
from typing import Any, Final, NoReturn, get_args

from threadloom.constants import CONFIG_KEY_RESUME_BOX
from threadloom.engine.plan import Plan
from threadloom.errors import (
    InvalidBackendError,
    InvalidConfigError,
    LangGraphObjectError,
    PendingInterruptWarning,
    UnknownStateKeyWarning,
    UnknownStreamModeError,
    backend_lead,
)
from threadloom.types import Command, StreamMode

__all__ = [
    "STREAM_MODES",
    "check_backend",
    "check_config",
    "check_run_input",
    "check_stream_modes",
    "check_updates",
    "langgraph_name",
    "lift_config_keys",
    "reject_langgraph",
    "translate_node_error",
]

# --- LangGraph objects ---------------------------------------------------------------------------

_LANGGRAPH: Final = "langgraph"

_COUNTERPARTS: Final[Mapping[str, str]] = {
    # LangGraph names whose threadloom module is not simply the same path under "threadloom."
    "Command": "threadloom.types",
    "Send": "threadloom.types",
    "interrupt": "threadloom.types",
    "Interrupt": "threadloom.types",
    "InMemorySaver": "threadloom.checkpoint.memory",
    "MemorySaver": "threadloom.checkpoint.memory",
    "SqliteSaver": "threadloom.checkpoint.sqlite",
    "AsyncSqliteSaver": "threadloom.checkpoint.sqlite.aio",
    "InMemoryStore": "threadloom.store.memory",
    "SqliteStore": "threadloom.store.sqlite",
    "AsyncSqliteStore": "threadloom.store.sqlite.aio",
    "get_config": "threadloom.config",
    "get_store": "threadloom.config",
    "get_stream_writer": "threadloom.config",
    "get_runtime": "threadloom.runtime",
}
"""Where threadloom keeps a LangGraph name when the same path under ``threadloom`` lacks it."""


def _is_langgraph_module(module: str) -> bool:
    return module == _LANGGRAPH or module.startswith(_LANGGRAPH + ".")


def langgraph_name(value: Any) -> str | None:
    """``"langgraph.types.Command"`` when ``value``'s class comes from langgraph, else None."""
    cls = type(value)
    module = getattr(cls, "__module__", None) or ""
    if not _is_langgraph_module(module):
        return None
    return f"{module}.{cls.__qualname__}"


def _has(module: str, name: str) -> bool:
    try:
        return hasattr(importlib.import_module(module), name)
    except ImportError:
        return False


def threadloom_import(qualname: str) -> str | None:
    """The threadloom import that replaces a LangGraph name, if threadloom has one."""
    module, _, name = qualname.rpartition(".")
    same_path = "threadloom" + module[len(_LANGGRAPH) :]
    for candidate in (same_path, _COUNTERPARTS.get(name)):
        if candidate and _has(candidate, name):
            return f"from {candidate} import {name}"
    return None


def reject_langgraph(value: Any, where: str, *, lead: str = "", also: str = "") -> None:
    """Raise ``LangGraphObjectError`` when ``value`` is a LangGraph object; else do nothing."""
    qualname = langgraph_name(value)
    if qualname is not None:
        reject_langgraph_name(qualname, where, lead, also)


def reject_langgraph_name(qualname: str, where: str, lead: str = "", also: str = "") -> NoReturn:
    """Raise ``LangGraphObjectError`` for a LangGraph name (a class, a factory, a function)."""
    raise LangGraphObjectError(where, qualname, threadloom_import(qualname), lead=lead, also=also)


_WRAP_SAVER: Final = (
    " Or keep the LangGraph checkpointer and wrap it: `from threadloom.interop.langgraph import "
    "from_langgraph_saver`, then checkpointer=from_langgraph_saver(saver)"
)
"""The second fix for a LangGraph saver (``threadloom[langgraph]``; docs/coming-from-langgraph)."""


_RUNTIME_MODULES: Final = frozenset({"langgraph.types", "langgraph.config", "langgraph.runtime"})
"""Where LangGraph's functions that read the running task's config live (``interrupt`` …)."""


def translate_node_error(exc: BaseException, node: str) -> BaseException:
    """A node's failure as the caller should see it.

    LangGraph's runtime functions (``interrupt()``, ``get_store()``, …) read LangGraph's private
    config keys (``__pregel_...``), which a threadloom run does not set, so inside a threadloom
    node they fail with a bare ``KeyError``. That failure becomes a ``LangGraphObjectError`` naming
    the import to change (the ``KeyError`` kept as ``__cause__``); any other error is returned
    as it is.
    """
    if not isinstance(exc, KeyError) or not str(exc.args[0] if exc.args else "").startswith(
        "__pregel_"
    ):
        return exc
    called = _outermost_langgraph_call(exc)
    if called is None or called.rpartition(".")[0] not in _RUNTIME_MODULES:
        return exc  # e.g. a LangGraph graph run as a node failed: its own error, as it is
    error = LangGraphObjectError(
        f"node {node!r} called {called.rpartition('.')[2]}(): that",
        called,
        threadloom_import(called),
    )
    error.__cause__ = exc
    return error


def _outermost_langgraph_call(exc: BaseException) -> str | None:
    """``module.function`` of the first LangGraph frame the node's code called, if any."""
    tb = exc.__traceback__
    while tb is not None:
        module = str(tb.tb_frame.f_globals.get("__name__", ""))
        if _is_langgraph_module(module):
            return f"{module}.{tb.tb_frame.f_code.co_name}"
        tb = tb.tb_next
    return None


# --- checkpointer= and store= --------------------------------------------------------------------


def check_backend(value: Any, argument: str, call: str) -> None:
    """Refuse anything but a threadloom saver (``argument="checkpointer"``) or store.

    ``call`` is how the user passed it (``"compile"`` or ``"@entrypoint"``), for the fix.
    ``None`` is always accepted, and ``True``/``False`` for a checkpointer.
    """
    if value is None or (argument == "checkpointer" and isinstance(value, bool)):
        return
    module, base, example = _BACKENDS[argument]
    if isinstance(value, getattr(importlib.import_module(module), base)):
        return
    lead = backend_lead(argument)
    where = f"the {argument} given to {call}()"
    also = _WRAP_SAVER + "." if argument == "checkpointer" else ""
    reject_langgraph(value, where, lead=lead, also=also)
    factory = _context_factory(value)
    if factory is not None:
        name, factory_module, arg, is_async = factory
        if _is_langgraph_module(
            factory_module
        ):  # LangGraph's from_conn_string(...): name the class
            unopened = f"{where} (an unopened {name}(...), which also needs a `with` block)"
            qualname = f"{factory_module}.{name.partition('.')[0]}"
            reject_langgraph_name(qualname, unopened, lead, also)
        raise InvalidBackendError(argument, value, _with_fix(name, arg, is_async, argument, call))
    raise InvalidBackendError(
        argument,
        value,
        f"Pass an instance of a threadloom {base} subclass, e.g. {example}, or leave it out.",
    )


_BACKENDS: Final[Mapping[str, tuple[str, str, str]]] = {
    # argument: (module of the base class, base class, what to pass instead)
    "checkpointer": (
        "threadloom.checkpoint.base",
        "BaseCheckpointSaver",
        "InMemorySaver() (from threadloom.checkpoint.memory import InMemorySaver)",
    ),
    "store": (
        "threadloom.store.base",
        "BaseStore",
        "InMemoryStore() (from threadloom.store.memory import InMemoryStore)",
    ),
}


def _context_factory(value: Any) -> tuple[str, str, Any, bool] | None:
    """For an unopened context manager: the factory's qualified name, its module, its first
    argument (when it can be read) and whether it is async; None for anything else."""
    is_async = isinstance(value, AbstractAsyncContextManager)
    if not is_async and not isinstance(value, AbstractContextManager):
        return None
    gen = getattr(value, "gen", None)  # contextlib's wrappers keep the generator they run
    code = getattr(gen, "ag_code" if is_async else "gi_code", None)
    frame = getattr(gen, "ag_frame" if is_async else "gi_frame", None)
    if code is None:
        return type(value).__qualname__, type(value).__module__, None, is_async
    module = str(frame.f_globals.get("__name__", "")) if frame is not None else ""
    arg = None
    if frame is not None and code.co_argcount:
        names = code.co_varnames[: code.co_argcount]
        first = names[1] if names[0] == "cls" and len(names) > 1 else names[0]
        arg = frame.f_locals.get(first)
    return code.co_qualname, module, arg, is_async


def _with_fix(name: str, arg: Any, is_async: bool, argument: str, call: str) -> str:
    value = "saver" if argument == "checkpointer" else "store"
    opened = f"{name}({arg!r})" if isinstance(arg, str) else f"{name}(...)"
    with_ = "async with" if is_async else "with"
    if call == "compile":
        use = f"`{with_} {opened} as {value}: graph = builder.compile({argument}={value})`"
    else:
        use = f"`{with_} {opened} as {value}:` and decorate with `@entrypoint({argument}={value})`"
    return (
        f"{name}() returns a context manager, not a {value}: open it with `{with_}` and run "
        f"the graph inside the block, e.g. {use}."
    )


# --- stream modes --------------------------------------------------------------------------------


STREAM_MODES: Final[tuple[str, ...]] = (*get_args(StreamMode), "tools")
"""Every valid ``stream_mode``: threadloom's ``StreamMode`` (LangGraph's seven) and ``"tools"``,
which LangGraph 1.2 streams without naming it in its ``StreamMode``."""


def check_stream_modes(modes: Iterable[Any]) -> None:
    """Raise ``UnknownStreamModeError`` for a mode that does not exist."""
    for mode in modes:
        if mode not in STREAM_MODES:
            close = difflib.get_close_matches(str(mode), STREAM_MODES, n=1)
            raise UnknownStreamModeError(mode, STREAM_MODES, close[0] if close else None)


# --- input and update keys -----------------------------------------------------------------------


def check_output_keys(keys: str | Sequence[str], plan: Plan) -> None:
    """``output_keys`` name channels of the graph: checked before the run changes anything
    (LangGraph's error, with the keys that may be named)."""
    for key in [keys] if isinstance(keys, str) else keys:
        if key not in plan.channels:
            known = sorted(plan.state_keys or ())
            raise ValueError(f"Key {key} not in channels; output_keys may name: {known}")


def _warn(warning: Warning) -> None:
    """Warn at the user's line: the first calling frame outside the threadloom package."""
    frame: Any = sys._getframe(0)
    level = 1
    while frame.f_back is not None and str(frame.f_globals.get("__name__", "")).startswith(
        "threadloom."
    ):
        frame = frame.f_back
        level += 1
    warnings.warn(warning, stacklevel=level)


def _unknown_keys(value: Any, known: frozenset[str] | None) -> list[str]:
    if known is None or not isinstance(value, dict):
        return []
    return [k for k in value if isinstance(k, str) and k not in known]


_PLAIN_INPUTS: Final = frozenset({dict, list, tuple, str, int, float, bool, type(None)})
"""Input types ``check_run_input`` knows are not LangGraph objects without asking."""


def check_run_input(plan: Plan, run_input: Any, saved: Any, config: Mapping[str, Any]) -> None:
    """Checks on the input of a run, made once the thread is loaded (``saved`` is its
    checkpoint tuple or None). A subgraph's run is not checked: its input is its parent's state,
    and the parent's run was."""
    configurable = config.get("configurable") or {}
    if CONFIG_KEY_RESUME_BOX in configurable:
        return
    kind = type(run_input)
    if kind not in _PLAIN_INPUTS:  # (a dict, a number, a string...: not LangGraph's)
        reject_langgraph(run_input, "the input")
    if plan.input_keys is not None:  # (a graph's: an entrypoint's input is any value)
        unknown = _unknown_keys(run_input, plan.input_keys)
        if unknown:
            _warn(UnknownStateKeyWarning("The input", unknown, sorted(plan.input_keys), "input"))
    if isinstance(run_input, Command):
        reject_langgraph(run_input.update, "Command(update=...)")
        unknown = _unknown_keys(run_input.update, plan.state_keys)
        if unknown and plan.state_keys is not None:
            _warn(UnknownStateKeyWarning("Command(update=...)", unknown, sorted(plan.state_keys)))
    if run_input is None or saved is None or not saved.pending_writes:
        return
    from threadloom.engine.snapshot import pending_interrupts

    if isinstance(run_input, Command) or configurable.get("checkpoint_id"):
        return  # an answer, or deliberate time travel from a named checkpoint
    run_id = (config.get("metadata") or {}).get("run_id")
    if run_id is not None and run_id == (saved.metadata or {}).get("run_id"):
        return  # the same run continues
    waiting = pending_interrupts(saved.pending_writes)
    if waiting:
        _warn(PendingInterruptWarning(configurable.get("thread_id"), waiting))


def check_updates(supersteps: Sequence[Sequence[Any]], state_keys: frozenset[str] | None) -> None:
    """Checks on ``update_state`` / ``bulk_update_state`` values (``StateUpdate`` records)."""
    for updates in supersteps:
        for update in updates:
            values = getattr(update, "values", None)
            reject_langgraph(values, "the update_state values")
            unknown = _unknown_keys(values, state_keys)
            if unknown and state_keys is not None:
                _warn(UnknownStateKeyWarning("update_state(values)", unknown, sorted(state_keys)))


# --- config --------------------------------------------------------------------------------------

_RUNNABLE_CONFIG_KEYS: Final = frozenset(
    {
        "tags",
        "metadata",
        "callbacks",
        "run_name",
        "max_concurrency",
        "recursion_limit",
        "configurable",
        "run_id",
    }
)
"""langchain-core's RunnableConfig keys; any other top-level key belongs to ``configurable``."""


def lift_config_keys(config: Mapping[str, Any] | None, checked: bool = False) -> Any:
    """``config`` with its non-RunnableConfig top-level keys moved into ``configurable``.

    ``{"thread_id": "1"}`` reads as ``{"configurable": {"thread_id": "1"}}``, as in LangGraph
    (langchain-core's ``ensure_config``): a top-level value wins over ``configurable``'s, and
    ``None`` values are left out (``{"recursion_limit": None}`` is the default limit, as there).
    Returns ``config`` itself when there is nothing to move or leave out. ``checked``: it
    passed ``check_config`` already.
    """
    if not checked:
        check_config(config)
    if not config or (_RUNNABLE_CONFIG_KEYS.issuperset(config) and None not in config.values()):
        return config
    lifted: dict[str, Any] = {
        k: v for k, v in config.items() if k in _RUNNABLE_CONFIG_KEYS and v is not None
    }
    configurable = dict(config.get("configurable") or {})
    configurable.update(
        (k, v) for k, v in config.items() if k not in _RUNNABLE_CONFIG_KEYS and v is not None
    )
    lifted["configurable"] = configurable
    return lifted


_MAPPING_FIX: Final = "Pass a dict, e.g. {'configurable': {'thread_id': '1'}}."


def check_config(config: Any) -> None:
    """Refuse a config LangGraph cannot run either (it fails deep inside, mostly with an
    ``AttributeError``): not a dict; ``configurable`` or ``metadata`` not a dict; ``tags`` not
    iterable; a ``recursion_limit`` or ``max_concurrency`` that is not a number, or a
    ``max_concurrency`` below 1 (LangGraph's thread pool refuses it with ``ValueError``). What
    LangGraph accepts (``tags="abc"``, ``None`` entries) is accepted."""
    if config is None:
        return
    # ``type() is dict`` first: a config is a dict, and an ABC check runs Python code (abc's)
    if type(config) is not dict and not isinstance(config, Mapping):
        raise InvalidConfigError(
            "config", config, "a dict (a RunnableConfig) or None", _MAPPING_FIX
        )
    for key in _CHECKED_KEYS.intersection(config):  # each call checks only the entries given
        value = config[key]
        if value is not None and not (type(value) is dict and key in _DICT_KEYS):
            _check_entry(key, value)  # (a dict ``configurable``/``metadata`` passes)


_CHECKED_KEYS: Final = frozenset(
    {"configurable", "metadata", "tags", "recursion_limit", "max_concurrency"}
)
_DICT_KEYS: Final = frozenset({"configurable", "metadata"})
"""The entries that must be dicts (``_check_entry``)."""


def _check_entry(key: str, value: Any) -> None:
    """Refuse one config entry of the wrong kind (``check_config``)."""
    if key in ("configurable", "metadata"):
        if type(value) is not dict and not isinstance(value, Mapping):
            raise InvalidConfigError(
                f"config[{key!r}]", value, "a dict", f"Pass e.g. {{{key!r}: {{'user': 'x'}}}}."
            )
    elif key == "tags":
        if not isinstance(value, Iterable):
            raise InvalidConfigError(
                "config['tags']", value, "a list of str", "Pass e.g. {'tags': ['a']}."
            )
    elif not isinstance(value, int | float):
        raise InvalidConfigError(f"config[{key!r}]", value, "an int", f"Pass e.g. {{{key!r}: 10}}.")
    elif key == "max_concurrency" and value < 1:
        raise ValueError(
            f"config['max_concurrency'] must be at least 1, got {value!r}: it is how many tasks "
            "may run at once. Leave it out for no limit."
        )
