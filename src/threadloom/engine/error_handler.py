"""The task that runs a node's error handler in place of its failed task.

A node added with ``error_handler=`` has a handler node (``graph/_handlers.py``); when the node
fails for good, the run adds this task to the same step (``Run.handle_failure``): it reads the
state as the failed node did, is given the failure, and its writes apply where the failed task's
would have.
"""

from __future__ import annotations

from typing import Any

from langchain_core.runnables import RunnableConfig

from threadloom.engine.core import Task, task_config
from threadloom.engine.ids import task_id
from threadloom.engine.plan import Plan
from threadloom.errors import GraphBubbleUp, NodeError

__all__ = ["error_handler_task"]


def error_handler_task(
    plan: Plan,
    channels: Any,
    config: RunnableConfig,
    where: tuple[str, str, int],
    task: Task,
    error: BaseException | None,
) -> Task | None:
    """The handler task of the failed ``task`` (``where``: the checkpoint id, namespace and step
    it runs in), or None when its node has no handler or ``error`` is no handled failure (a
    ``Command`` for the parent graph, an interrupt, a ``BaseException``)."""
    handler_name = task.node.error_handler
    if handler_name is None or not isinstance(error, Exception):
        return None
    if isinstance(error, GraphBubbleUp):  # a Command for the parent graph, an interrupt
        return None
    checkpoint_id, ns, step = where
    spec = plan.nodes[handler_name]
    tid = task_id(checkpoint_id, ns, str(step), handler_name, task.id)
    path = (*task.path, "error_handler")
    return Task(
        tid,
        handler_name,
        path,
        f"{task.path_str}~error_handler",  # its writes apply where the failed task's would
        (),
        spec.read(channels),
        spec,
        task_config(config, handler_name, tid, step, (), path, ns),
        timeout=spec.timeout,
        failure=NodeError(task.name, error),
    )
