"""What callers get from a run: stream chunks shaped by mode and version, and invoke's result.

The drivers yield ``(mode, payload)`` pairs. This module turns them into what ``stream`` yields
(bare payloads, ``(mode, payload)``, namespaced tuples for ``subgraphs=True``, ``version="v2"``
dicts), relays a subgraph's chunks up to the root run, and collects ``invoke``'s return value.
"""

from __future__ import annotations

from typing import Any

from langchain_core.runnables import RunnableConfig

from threadloom.constants import CONFIG_KEY_STREAM, INTERRUPT, NS_SEP, START
from threadloom.engine.plan import Plan
from threadloom.errors import GraphInterrupt, UnsupportedParameterError
from threadloom.types import GraphOutput, Interrupt

__all__ = [
    "INVOKE_MODES",
    "SUBGRAPH_CHUNK",
    "OutputCollector",
    "StreamRelay",
    "graph_output",
    "output_version",
    "relay_of",
    "saved_namespace",
    "shape",
    "stream_relays",
]

INVOKE_MODES = frozenset({"values"})
"""invoke only needs values chunks: interrupts arrive in them when updates are not streamed."""

SUBGRAPH_CHUNK = "__subgraph__"
"""Internal mode of a chunk a subgraph forwarded: its payload is ``(namespace, mode, payload)``."""


class StreamRelay:
    """Carries subgraph chunks up to the root run streaming with ``subgraphs=True``."""

    __slots__ = ("messages_seen", "modes", "put")

    def __init__(self, modes: frozenset[str]) -> None:
        self.modes = modes
        self.put: Any = None
        """Set by the root run's driver: ``put(namespace, mode, payload)`` enqueues a chunk."""
        self.messages_seen: set[str] = set()
        """Ids of the messages streamed so far by any of the graphs (``engine/messages.py``)."""

    def forward(self, ns: tuple[str, ...], mode: str, payload: Any) -> None:
        """Pass on a chunk of a run at namespace ``ns`` (or one a deeper subgraph forwarded)."""
        if self.put is None:
            return
        if mode == SUBGRAPH_CHUNK:
            self.put(*payload)
        elif mode in self.modes:
            self.put(ns, mode, payload)


def relay_of(
    config: RunnableConfig | None,
) -> tuple[StreamRelay | None, frozenset[str], tuple[str, ...]]:
    configurable = (config or {}).get("configurable") or {}
    relay = configurable.get(CONFIG_KEY_STREAM)
    if not isinstance(relay, StreamRelay):
        return None, INVOKE_MODES, ()
    ns = str(configurable.get("checkpoint_ns", ""))
    return relay, relay.modes | INVOKE_MODES, tuple(ns.split(NS_SEP)) if ns else ()


def stream_relays(
    config: RunnableConfig | None, modes: frozenset[str], subgraphs: bool
) -> tuple[StreamRelay | None, StreamRelay | None, frozenset[str]]:
    """For a ``stream`` call: the relay of an enclosing run that streams subgraphs (a node
    streaming this graph: that run gets our chunks too, as in LangGraph), the relay our own
    subgraphs forward to (``subgraphs=True``), and the modes the run must produce for both."""
    outer = relay_of(config)[0]
    run_modes = modes | outer.modes if outer is not None else modes
    relay = StreamRelay(run_modes) if subgraphs else None
    if relay is not None and outer is not None:  # one stream: a message is streamed once
        relay.messages_seen = outer.messages_seen
    return outer, relay, run_modes


def saved_namespace(config: RunnableConfig) -> tuple[str, ...]:
    """The namespace a run's chunks go up under: the one it saves under."""
    ns = str(config["configurable"].get("checkpoint_ns", ""))
    return tuple(ns.split(NS_SEP)) if ns else ()


SKIP = object()
"""What ``shape`` returns for a chunk the caller did not ask for."""


def shape(
    mode: str,
    payload: Any,
    modes: frozenset[str],
    multi: bool,
    subgraphs: bool,
    v2: bool = False,
    classes: Any = None,
) -> Any:
    """The chunk ``stream`` yields: bare, ``(mode, payload)``, with a namespace in front, or
    (``version="v2"``) a ``{"type", "ns", "data"}`` dict. ``classes`` (the plan) names the
    graph's pydantic or dataclass output and state types that v2 builds values as."""
    ns: tuple[str, ...] = ()
    if mode == SUBGRAPH_CHUNK:
        ns, mode, payload = payload
        if not subgraphs:
            return SKIP
    if mode not in modes:
        return SKIP
    if v2:
        return _v2_chunk(mode, payload, ns, classes)
    if subgraphs:
        return (ns, mode, payload) if multi else (ns, payload)
    return (mode, payload) if multi else payload


def graph_output(result: Any, output_class: Any) -> GraphOutput[Any]:
    """``invoke(..., version="v2")``'s result: the output as its type, the interrupts apart."""
    value, interrupts = _split_interrupts(result)
    return GraphOutput(_as_output(value, output_class), interrupts)


def _split_interrupts(value: Any) -> tuple[Any, tuple[Interrupt, ...]]:
    if isinstance(value, dict) and INTERRUPT in value:
        rest = {k: v for k, v in value.items() if k != INTERRUPT}
        return rest, tuple(value[INTERRUPT])
    return value, ()


def _as_output(value: Any, output_class: Any) -> Any:
    """A values dict built as the graph's pydantic or dataclass output type, when it has one."""
    if output_class is None or not isinstance(value, dict):
        return value
    try:
        return output_class(**value)
    except Exception:  # partial state (e.g. before required keys are set): keep the dict
        return value


def _v2_chunk(mode: str, payload: Any, ns: tuple[str, ...], classes: Any) -> dict[str, Any]:
    if mode == "values":
        data, interrupts = _split_interrupts(payload)
        output_class = classes.output_class if classes is not None else None
        return {
            "type": "values",
            "ns": ns,
            "data": _as_output(data, output_class),
            "interrupts": interrupts,
        }
    state_class = classes.state_class if classes is not None else None
    if state_class is not None and mode in ("checkpoints", "debug"):
        payload = _with_state_values(payload, state_class)
    return {"type": mode, "ns": ns, "data": payload}


def _with_state_values(payload: Any, state_class: Any) -> Any:
    """A checkpoint (or debug checkpoint) payload whose values are built as the state type, as
    LangGraph's v2 stream has them; the checkpoint before the first step (``next`` is
    ``__start__``) keeps its dict, its channels are not all set yet."""
    if not isinstance(payload, dict):
        return payload
    if payload.get("type") == "checkpoint" and isinstance(payload.get("payload"), dict):
        return {**payload, "payload": _with_state_values(payload["payload"], state_class)}
    values = payload.get("values")
    if not isinstance(values, dict) or START in payload.get("next", ()):
        return payload
    return {**payload, "values": _as_output(values, state_class)}


class OutputCollector:
    """What ``invoke`` returns: the last values chunk, filtered, plus any interrupts."""

    __slots__ = ("interrupts", "keys", "latest", "plan", "seen_values")

    def __init__(self, plan: Plan, output_keys: Any) -> None:
        self.plan = plan
        self.keys = output_keys if output_keys is not None else plan.output_channels
        self.latest: Any = None
        self.seen_values = False
        self.interrupts: list[Interrupt] = []

    def add(self, mode: str, payload: Any) -> None:
        if mode != "values":
            return
        if isinstance(payload, dict) and INTERRUPT in payload:
            self.interrupts.extend(payload[INTERRUPT])
            rest = {k: v for k, v in payload.items() if k != INTERRUPT}
            if rest or not isinstance(self.keys, str):
                self.latest, self.seen_values = rest, True
            return
        self.latest, self.seen_values = payload, True

    def result(self, *, nested: bool = False) -> Any:
        if nested and self.interrupts:  # a subgraph pauses its parent's task
            raise GraphInterrupt(tuple(self.interrupts))
        if not self.seen_values and not self.interrupts:
            return None
        latest = self.latest
        if isinstance(self.keys, str):
            value = latest
        elif isinstance(latest, dict):
            value = {k: latest[k] for k in self.keys if k in latest}
        else:
            value = latest
        if self.interrupts:
            if isinstance(value, dict):
                return {**value, INTERRUPT: list(self.interrupts)}
            return {INTERRUPT: list(self.interrupts)}
        return value


def output_version(where: str, kwargs: dict[str, Any]) -> str:
    """The ``version=`` of an invoke or stream: ``"v1"`` (the default) or ``"v2"``."""
    version = kwargs.get("version", "v1")
    if version not in ("v1", "v2"):
        raise UnsupportedParameterError(where, "version", version)
    return str(version)
