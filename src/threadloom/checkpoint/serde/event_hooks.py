"""Listeners told when the serializer blocks a type or rebuilds one outside the safe set.

A listener that raises is logged and ignored: observing must never break a load.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import NotRequired, TypedDict

__all__ = ["SerdeEvent", "emit", "register_serde_event_listener"]

logger = logging.getLogger(__name__)


class SerdeEvent(TypedDict):
    """``kind`` is ``"msgpack_blocked"`` or ``"msgpack_unregistered_allowed"``."""

    kind: str
    module: str
    name: str
    method: NotRequired[str]


_listeners: list[Callable[[SerdeEvent], None]] = []
_lock = threading.Lock()


def register_serde_event_listener(listener: Callable[[SerdeEvent], None]) -> Callable[[], None]:
    """Call ``listener`` on every serializer event; returns a function that unregisters it."""
    with _lock:
        _listeners.append(listener)

    def unregister() -> None:
        with _lock:
            if listener in _listeners:
                _listeners.remove(listener)

    return unregister


def emit(event: SerdeEvent) -> None:
    """Deliver ``event`` to every listener."""
    for listener in tuple(_listeners):
        try:
            listener(event)
        except Exception:
            logger.exception("serde event listener %r failed on %r", listener, event)
