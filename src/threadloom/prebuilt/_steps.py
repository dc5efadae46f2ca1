"""``Step``: a ``RunnableLambda`` for the agent's own functions, whose signatures are known.

langchain-core's ``RunnableLambda`` reads its function's signature on every call (does it take
``config``? a run manager?): two ``inspect.signature`` calls each time the agent node, its
prompt or its structured-answer node runs. A ``Step`` is told once. It is otherwise the same
runnable (its name, its traced run, the child callbacks in the config it passes on).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from langchain_core.runnables import RunnableConfig, RunnableLambda
from langchain_core.runnables.config import patch_config

__all__ = ["Step"]


class Step(RunnableLambda):  # type: ignore[type-arg]
    """``Step(func, afunc, name=..., takes_config=...)``: ``func(input)``, or
    ``func(input, config=...)`` when ``takes_config``."""

    def __init__(
        self,
        func: Callable[..., Any],
        afunc: Callable[..., Awaitable[Any]] | None = None,
        *,
        name: str,
        takes_config: bool = False,
    ) -> None:
        super().__init__(func, afunc, name=name)
        self._takes_config = takes_config

    def _invoke(self, input_: Any, run_manager: Any, config: RunnableConfig, **kwargs: Any) -> Any:
        func: Any = self.func
        if self._takes_config:
            return func(input_, config=patch_config(config, callbacks=run_manager.get_child()))
        return func(input_)

    async def _ainvoke(
        self, value: Any, run_manager: Any, config: RunnableConfig, **kwargs: Any
    ) -> Any:
        if not hasattr(self, "afunc"):  # a sync function: langchain-core runs it on a thread
            return await super()._ainvoke(value, run_manager, config, **kwargs)
        afunc: Any = self.afunc
        if self._takes_config:
            return await afunc(
                value, config=patch_config(config, callbacks=run_manager.get_child())
            )
        return await afunc(value)
