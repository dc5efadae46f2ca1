"""How a graph run inside a task of another graph becomes its child (as LangGraph links them).

A node's code runs with its task's config as langchain-core's child-runnable config, so a graph
invoked there (``sub.invoke(...)``, no config needed) starts from that config: the task's saver,
namespace, store, context and resume box (``with_ambient``). Each graph a task runs gets its own
namespace, in call order (``count_in_task``). A subgraph snapshot's config names the checkpoint
of every enclosing graph (``checkpoint_map``); running the root with it travels back into the
subgraph (``address_by_map``).
"""

from __future__ import annotations

from typing import Any

from langchain_core.runnables import RunnableConfig
from langchain_core.runnables.config import var_child_runnable_config

from threadloom._running import current_task
from threadloom.constants import (
    CHECKPOINT_COORDINATE_KEYS,
    CHECKPOINT_MAP,
    CONFIG_KEY_RESUME_BOX,
    NS_SEP,
)
from threadloom.engine._checks import check_config

__all__ = ["address_by_map", "count_in_task", "with_ambient"]


def with_ambient(config: RunnableConfig | None) -> RunnableConfig | None:
    """``config`` over the config of the task this call runs in, if any (as LangGraph links a
    graph invoked inside a node to the running graph): the graph runs as the task's child, with
    its saver, namespace, store and context. A config that addresses a thread of its own (a
    ``thread_id``, a ``checkpoint_ns``...) starts a root run instead. A config of the wrong kind
    is refused here, the first place a call reads it."""
    check_config(config)
    ambient = var_child_runnable_config.get()
    inherited = (ambient or {}).get("configurable")
    if not inherited or CONFIG_KEY_RESUME_BOX not in inherited:
        return config
    given = (config or {}).get("configurable") or {}
    if any(given.get(key) is not None for key in CHECKPOINT_COORDINATE_KEYS):
        return config
    return {**(config or {}), "configurable": {**inherited, **given}}


def count_in_task(configurable: dict[str, Any]) -> None:
    """A task that runs several graphs gives each its own namespace, in call order: the
    task's for the first, then ``<task ns>|1``, ``|2``... (as LangGraph numbers them)."""
    pad = current_task.get()
    if pad is None or CONFIG_KEY_RESUME_BOX not in configurable:
        return
    if configurable.get("checkpoint_ns") != pad.task_ns:
        return  # not a child of the running task
    count, pad.subgraph_counter = pad.subgraph_counter, pad.subgraph_counter + 1
    if count:
        configurable["checkpoint_ns"] = f"{pad.task_ns}{NS_SEP}{count}"


def address_by_map(configurable: dict[str, Any]) -> None:
    """Time travel into a subgraph: a config from ``get_state(config, subgraphs=True)`` names a
    subgraph's checkpoint, and its ``checkpoint_map`` the checkpoint of each enclosing graph. The
    root run goes from its own entry (its namespace is the root's), and each subgraph on the way
    from its entry, so the addressed subgraph replays from there."""
    by_ns = configurable.get(CHECKPOINT_MAP)
    nested = CONFIG_KEY_RESUME_BOX in configurable
    if not nested and configurable.get("checkpoint_ns"):
        configurable["checkpoint_ns"] = ""
        configurable["checkpoint_id"] = by_ns.get("") if isinstance(by_ns, dict) else None
    elif nested and isinstance(by_ns, dict) and configurable.get("checkpoint_ns") in by_ns:
        configurable["checkpoint_id"] = by_ns[configurable["checkpoint_ns"]]
