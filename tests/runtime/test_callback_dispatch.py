"""Task runs are reported to plain handlers directly: the same calls, errors and skips as through
langchain-core (observed on LangGraph 1.2.22, which goes through it)."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from langchain_core.callbacks import AsyncCallbackHandler, BaseCallbackHandler
from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from typing_extensions import TypedDict

from threadloom.graph import START, StateGraph


class State(TypedDict):
    n: int


def _graph() -> Any:
    def model(state: State) -> dict[str, Any]:
        GenericFakeChatModel(messages=iter(["hi"])).invoke("q")
        return {"n": state["n"] + 1}

    builder = StateGraph(State)
    builder.add_node("a", lambda state: {"n": state["n"] + 1})
    builder.add_node("model", model)
    builder.add_edge(START, "a")
    builder.add_edge("a", "model")
    return builder.compile()


class Failing(BaseCallbackHandler):
    def __init__(self, raise_error: bool) -> None:
        self.raise_error = raise_error

    def on_chain_start(self, serialized: Any, inputs: Any, **kwargs: Any) -> None:
        if kwargs.get("name") == "a":
            raise KeyError("boom")


def test_a_failing_handler_is_logged_and_the_run_goes_on(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="langchain_core.callbacks.manager"):
        assert _graph().invoke({"n": 1}, {"callbacks": [Failing(False)]}) == {"n": 3}
    assert "Error in Failing.on_chain_start callback: KeyError('boom')" in caplog.text


def test_a_failing_handler_that_raises_errors_stops_the_run() -> None:
    with pytest.raises(KeyError, match="boom"):
        _graph().invoke({"n": 1}, {"callbacks": [Failing(True)]})


class Runs(BaseCallbackHandler):
    """Records chain starts and ends, and the parent of each chat model run."""

    def __init__(self, ignore_chain: bool = False) -> None:
        self._ignore_chain = ignore_chain
        self.chains: list[str] = []
        self.model_parents: list[Any] = []

    @property
    def ignore_chain(self) -> bool:
        return self._ignore_chain

    def on_chain_start(self, serialized: Any, inputs: Any, **kwargs: Any) -> None:
        self.chains.append(f"start {kwargs['name']}")

    def on_chain_end(self, outputs: Any, **kwargs: Any) -> None:
        self.chains.append("end")

    def on_chat_model_start(self, serialized: Any, messages: Any, **kwargs: Any) -> None:
        self.model_parents.append(kwargs["parent_run_id"])


def test_a_handler_ignoring_chains_gets_no_chain_event_but_models_keep_their_node_parent() -> None:
    ignoring, seeing = Runs(ignore_chain=True), Runs()

    _graph().invoke({"n": 1}, {"callbacks": [ignoring, seeing]})

    assert ignoring.chains == []
    assert seeing.chains == [
        "start LangGraph", "start a", "end", "start model", "end", "end"
    ]  # fmt: skip
    # both see the model run below the node's run, though one never heard of that run
    assert ignoring.model_parents == seeing.model_parents
    assert ignoring.model_parents[0] is not None


class AsyncRuns(AsyncCallbackHandler):
    def __init__(self) -> None:
        self.chains: list[str] = []

    async def on_chain_start(self, serialized: Any, inputs: Any, **kwargs: Any) -> None:
        self.chains.append(f"start {kwargs['name']}")

    async def on_chain_end(self, outputs: Any, **kwargs: Any) -> None:
        self.chains.append("end")


def test_an_async_handler_in_a_sync_run_is_still_called() -> None:
    handler = AsyncRuns()

    _graph().invoke({"n": 1}, {"callbacks": [handler, Runs()]})

    assert handler.chains == ["start LangGraph", "start a", "end", "start model", "end", "end"]


class Tags(BaseCallbackHandler):
    def __init__(self) -> None:
        self.tags: dict[str, list[str]] = {}

    def on_chain_start(self, serialized: Any, inputs: Any, **kwargs: Any) -> None:
        self.tags[kwargs["name"]] = kwargs["tags"]


def test_a_langsmith_tracing_context_still_adds_its_tags_to_the_runs() -> None:
    from langsmith import tracing_context

    handler = Tags()
    with tracing_context(tags=["from-context"], enabled=False):
        _graph().invoke({"n": 1}, {"callbacks": [handler], "tags": ["mine"]})

    assert handler.tags["LangGraph"] == ["mine", "from-context"]
    # (LangGraph lists the context's tag first on the node's run; the same three tags)
    assert sorted(handler.tags["a"]) == ["from-context", "graph:step:1", "mine"]
