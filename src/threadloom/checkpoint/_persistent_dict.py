"""``PersistentDict``: a dict kept in memory and written to a file on ``sync()`` / ``close()``.

LangGraph's ``langgraph.checkpoint.memory.PersistentDict``, for ``InMemorySaver(factory=...)``:
``InMemorySaver(factory=functools.partial(PersistentDict, filename="threads.pickle"))`` keeps the
saver's threads in one, written out when the saver's ``with`` block ends. The file is a pickle,
as LangGraph's is: ``load()`` runs whatever the file says, so load only files you wrote. For
checkpoints that outlive a process, ``SqliteSaver`` is the durable choice.
"""

from __future__ import annotations

import os
import pickle
from collections import defaultdict
from collections.abc import Callable, MutableMapping
from types import TracebackType
from typing import Any

__all__ = ["PersistentDict", "threads_mapping"]


class PersistentDict(defaultdict[Any, Any]):
    """A ``defaultdict`` saved to ``filename`` by ``sync()`` (atomically: a temporary file is
    written, then renamed over it) and by ``close()`` / the end of a ``with`` block, which also
    empty it. ``flag`` is ``"c"`` (read and write), ``"r"`` (never written) or ``"n"`` (``load``
    reads nothing)."""

    def __init__(self, *args: Any, filename: str, **kwargs: Any) -> None:
        self.flag = "c"
        self.mode: int | None = None
        """File permissions to set after writing (e.g. ``0o600``), or None to leave them."""
        self.format = "pickle"
        self.filename = filename
        super().__init__(*args, **kwargs)

    def sync(self) -> None:
        """Write the dict to ``filename``."""
        if self.flag == "r":
            return
        if self.format != "pickle":
            raise NotImplementedError(
                f"PersistentDict format {self.format!r} is not supported: use 'pickle'"
            )
        temporary = f"{self.filename}.tmp"
        try:
            with open(temporary, "wb") as file:
                pickle.dump(dict(self), file, protocol=pickle.HIGHEST_PROTOCOL)
        except BaseException:
            if os.path.exists(temporary):
                os.remove(temporary)
            raise
        os.replace(temporary, self.filename)
        if self.mode is not None:
            os.chmod(self.filename, self.mode)

    def load(self) -> None:
        """Add what ``filename`` holds (nothing when the file is empty or ``flag`` is ``"n"``)."""
        if self.flag == "n":
            return
        with open(self.filename, "rb") as file:
            try:
                stored = pickle.load(file)
            except EOFError:
                return
        self.update(stored)

    def close(self) -> None:
        """Write the dict out, then empty it."""
        self.sync()
        self.clear()

    def __enter__(self) -> PersistentDict:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def threads_mapping(factory: Callable[..., Any]) -> Any:
    """The mapping a saver keeps its threads in: a dict, or what ``factory()`` makes (LangGraph's
    ``factory=functools.partial(PersistentDict, filename=...)``)."""
    if factory is defaultdict or factory is dict:
        return {}
    mapping = factory()
    if not isinstance(mapping, MutableMapping):
        raise ValueError(
            f"InMemorySaver(factory={factory!r}) made {type(mapping).__name__!r}, not a mapping: "
            "pass a callable that returns a dict-like object, e.g. "
            "functools.partial(PersistentDict, filename='threads.pickle'). For checkpoints that "
            "outlive the process, SqliteSaver is the durable choice."
        )
    return mapping
