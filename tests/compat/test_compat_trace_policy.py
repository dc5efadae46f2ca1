"""``add_node(trace_policy=TracePolicy(...))``: tracers record the processed payloads of the
node's run, while the node, the graph's result, ``astream_events`` and other handlers get the
real ones; a processor that raises is ignored. Passes on LangGraph 1.2.22 with the import root
swapped (LangGraph's own tests/test_trace_policy.py checks the same)."""

from __future__ import annotations

from typing import Any, TypedDict
from uuid import UUID

import pytest
from langchain_core.callbacks import BaseCallbackHandler
from langchain_core.tracers.base import BaseTracer
from langchain_core.tracers.schemas import Run

from threadloom.graph import END, START, StateGraph
from threadloom.types import TracePolicy, omit_payload


class State(TypedDict):
    value: int


def incr(state: State) -> State:
    return {"value": state["value"] + 1}


class Tracer(BaseTracer):
    """Keeps every finished run."""

    def __init__(self) -> None:
        super().__init__()
        self.finished: list[Run] = []

    def _persist_run(self, run: Run) -> None:
        pass

    def _end_trace(self, run: Run) -> None:
        self.finished.append(run)
        super()._end_trace(run)

    def node(self, name: str) -> Run:
        return next(r for r in self.finished if r.name == name)


class Recorder(BaseCallbackHandler):
    """A handler that is not a tracer: it sees the node run's real payloads."""

    def __init__(self) -> None:
        self.seen: list[Any] = []
        self.node_runs: set[UUID] = set()

    def on_chain_start(self, serialized: Any, inputs: Any, *, run_id: UUID, **kw: Any) -> None:
        if kw.get("name") == "n":
            self.node_runs.add(run_id)
            self.seen.append(("start", inputs))

    def on_chain_end(self, outputs: Any, *, run_id: UUID, **kwargs: Any) -> None:
        if run_id in self.node_runs:
            self.seen.append(("end", outputs))


def graph(policy: TracePolicy | None) -> Any:
    builder = StateGraph(State).add_node("n", incr, trace_policy=policy)
    return builder.add_edge(START, "n").add_edge("n", END).compile()


def test_tracers_record_the_processed_payloads_and_others_the_real_ones() -> None:
    seen: dict[str, Any] = {}

    def inputs(value: Any) -> Any:
        seen["inputs"] = value
        return {"in": "hidden"}

    def outputs(value: Any) -> Any:
        seen["outputs"] = value
        return {"out": "hidden"}

    tracer, recorder = Tracer(), Recorder()
    policy = TracePolicy(process_inputs=inputs, process_outputs=outputs)
    assert graph(policy).invoke({"value": 1}, {"callbacks": [recorder, tracer]}) == {"value": 2}
    run = tracer.node("n")
    assert (run.inputs, run.outputs) == ({"in": "hidden"}, {"out": "hidden"})
    assert seen == {"inputs": {"value": 1}, "outputs": {"value": 2}}
    assert recorder.seen == [("start", {"value": 1}), ("end", {"value": 2})]


async def test_the_async_driver_applies_the_policy_too() -> None:
    tracer = Tracer()
    policy = TracePolicy(process_inputs=omit_payload, process_outputs=omit_payload)
    assert await graph(policy).ainvoke({"value": 1}, {"callbacks": [tracer]}) == {"value": 2}
    run = tracer.node("n")
    assert (run.inputs, run.outputs) == ({}, {})


async def test_astream_events_shows_the_real_payloads() -> None:
    tracer = Tracer()
    policy = TracePolicy(process_inputs=omit_payload, process_outputs=omit_payload)
    events = [
        event
        async for event in graph(policy).astream_events(
            {"value": 1}, {"callbacks": [tracer]}, version="v2"
        )
        if event["name"] == "n" and event["event"] in ("on_chain_start", "on_chain_end")
    ]
    start, end = (e["data"] for e in events)
    assert (start["input"], end["output"]) == ({"value": 1}, {"value": 2})
    assert (tracer.node("n").inputs, tracer.node("n").outputs) == ({}, {})


def test_a_processor_that_raises_records_the_real_payload() -> None:
    def boom(value: Any) -> Any:
        raise RuntimeError("processor failed")

    tracer = Tracer()
    policy = TracePolicy(process_inputs=boom, process_outputs=boom)
    assert graph(policy).invoke({"value": 1}, {"callbacks": [tracer]}) == {"value": 2}
    assert graph(policy).invoke({"value": 1}) == {"value": 2}
    run = tracer.node("n")
    assert (run.inputs, run.outputs) == ({"value": 1}, {"value": 2})


def test_trace_policy_is_keyword_only_and_frozen() -> None:
    policy = TracePolicy(process_inputs=omit_payload)
    assert policy.process_outputs is None
    assert omit_payload({"big": "payload"}) == {}
    with pytest.raises(TypeError):
        TracePolicy(omit_payload)  # type: ignore[misc]
    with pytest.raises(AttributeError):
        policy.process_inputs = None  # type: ignore[misc]
