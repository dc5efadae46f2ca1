"""``Pregel``: the compiled graph users run — invoke, stream and batch, sync and async.

Each call becomes one core (a generator of effects, ``engine/loop.py``) over a ``Run``
(``engine/run.py``, set up by ``engine/call_setup.py``), carried out by the sync or the async
driver (``engine/sync.py``, ``engine/aio.py``) through ``engine/invocation.py``. What the caller
gets back is shaped by ``engine/output.py``; the state API is ``engine/state_api.py``; the
graph's attributes, drawing and cache are ``engine/graph_info.py``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Generator, Iterator, Mapping, Sequence
from contextlib import aclosing, closing
from typing import Any, Unpack

from langchain_core.runnables import Runnable, RunnableConfig

from threadloom.constants import NS_SEP
from threadloom.engine import _checks, call_setup
from threadloom.engine.callbacks import GraphTrace, graph_trace
from threadloom.engine.calls import CallOf
from threadloom.engine.drain import with_control
from threadloom.engine.effects import Effect
from threadloom.engine.graph_info import GraphInfo
from threadloom.engine.inject import Injection
from threadloom.engine.invocation import (
    InvokeArgs,
    Invoked,
    Listed,
    StreamArgs,
    Streamed,
    as_stream,
    configs_for,
    is_nested,
)
from threadloom.engine.loop import load_thread, run_loop
from threadloom.engine.nesting import with_ambient
from threadloom.engine.options import RunOptions
from threadloom.engine.output import (
    SKIP,
    OutputCollector,
    StreamRelay,
    output_version,
    relay_of,
    saved_namespace,
    shape,
    stream_relays,
)
from threadloom.engine.plan import Plan
from threadloom.engine.schemas import GraphSchemas
from threadloom.engine.state_api import StateAPI
from threadloom.errors import UnsupportedParameterError
from threadloom.warnings import without_checkpoint_during

__all__ = ["Pregel"]

DEFAULT_RECURSION_LIMIT = call_setup.DEFAULT_RECURSION_LIMIT


class Pregel(GraphInfo, StateAPI, GraphSchemas, Runnable[Any, Any]):
    """A runnable graph with durable threads (what ``compile()`` and ``@entrypoint`` return)."""

    stream_mode: str = "updates"
    step_timeout: float | None = None
    """Seconds a superstep may take; a step still running then fails with ``TimeoutError``."""
    stream_transformers: tuple[Any, ...] = ()
    """The ``compile(transformers=...)`` of ``stream_events(version="v3")`` runs."""

    def __init__(
        self,
        plan: Plan | None = None,
        *,
        injections: dict[str, tuple[Injection, ...]] | None = None,
        config: RunnableConfig | None = None,
        **lowlevel: Any,
    ) -> None:
        """``Pregel(plan, injections=...)`` (what compile returns), or LangGraph's low-level
        ``Pregel(nodes=..., channels=..., input_channels=..., output_channels=...)``."""
        if plan is None:
            from threadloom.pregel._build import lowlevel_pregel
            from threadloom.stream._mux import factories_of

            transformers = factories_of(lowlevel.pop("stream_transformers", None), "Pregel")
            plan, injections, self.stream_mode, self.step_timeout = lowlevel_pregel(**lowlevel)
            self.lowlevel_io = (lowlevel["input_channels"], lowlevel["output_channels"])
            self.stream_transformers = tuple(transformers)
        elif lowlevel:
            raise TypeError(f"Pregel() got unexpected arguments {sorted(lowlevel)!r}")
        self.plan = plan
        self.injections = injections or {}
        self.config: RunnableConfig = config or {}
        self.name = plan.name
        self._saver = self._with_allowlist(plan.checkpointer)
        # worked out once: the same for every call
        self._store_wanted_by = call_setup.store_wanted_by(self.injections)
        """The node that requires a store, if any (a run without one fails at once)."""
        self._invoke_keys = _invoke_keys(plan)
        """What ``invoke``'s values chunks read."""
        self._plain_nodes = plain_nodes(plan, self.injections)
        """The nodes whose tasks may run the short way (``TaskRunner.plain_nodes``)."""
        self._run_options: dict[Any, tuple[Plan, Any, RunOptions]] = {}
        """The ``RunOptions`` made for this graph, by what the call asked (``run_options``)."""

    # --- running ---------------------------------------------------------------------------------

    def stream(  # type: ignore[override]
        self, input: Any, config: RunnableConfig | None = None, **kwargs: Unpack[StreamArgs]
    ) -> Iterator[Any]:
        """Run the graph, yielding chunks of the requested stream mode(s) as they are produced."""
        call = self._stream_call(input, config, kwargs)
        with closing(call.chunks()) as chunks:  # type: ignore[type-var]  # a break saves what is owed
            for chunk in chunks:
                if (out := call.shaped(chunk)) is not SKIP:
                    yield out

    async def astream(  # type: ignore[override]
        self, input: Any, config: RunnableConfig | None = None, **kwargs: Unpack[StreamArgs]
    ) -> AsyncIterator[Any]:
        """Async ``stream``: async nodes are awaited, sync nodes run in a thread."""
        call = self._stream_call(input, config, kwargs)
        async with aclosing(call.achunks()) as chunks:  # type: ignore[type-var]  # a stop saves what is owed
            async for chunk in chunks:
                if (out := call.shaped(chunk)) is not SKIP:
                    yield out

    def invoke(  # type: ignore[override]
        self, input: Any, config: RunnableConfig | None = None, **kwargs: Unpack[InvokeArgs]
    ) -> Any:
        """Run the graph to its end (or an interrupt) and return its output."""
        call = self._invoke_call(input, config, kwargs)
        for chunk in call.chunks():
            call.add(chunk)
        return call.result()

    async def ainvoke(  # type: ignore[override]
        self, input: Any, config: RunnableConfig | None = None, **kwargs: Unpack[InvokeArgs]
    ) -> Any:
        """Async ``invoke``."""
        call = self._invoke_call(input, config, kwargs)
        async for chunk in call.achunks():
            call.add(chunk)
        return call.result()

    def _stream_call(
        self, input: Any, config: RunnableConfig | None, kwargs: StreamArgs
    ) -> Streamed:
        """``stream``'s core and saver, and how its chunks are shaped for the caller."""
        kwargs = without_checkpoint_during(kwargs)
        modes, multi, _ = self._modes(kwargs.get("stream_mode"))
        subgraphs = kwargs.get("subgraphs", False)
        config = with_control(with_ambient(config), kwargs.get("control"))
        outer, relay, run_modes = stream_relays(config, modes, subgraphs)
        v2, classes = output_version("stream", dict(kwargs)) == "v2", self.plan

        def shaped(chunk: tuple[str, Any]) -> Any:
            if outer is not None:  # streamed in a task of a run streaming subgraphs: it gets them
                outer.forward(ns, *chunk)
            return shape(chunk[0], chunk[1], modes, multi, subgraphs, v2, classes)

        core, saver, merged, trace = self._begin(input, config, run_modes, kwargs, relay)
        ns = saved_namespace(merged)
        return Streamed(core, saver, trace, shaped)

    def _invoke_call(
        self, input: Any, config: RunnableConfig | None, kwargs: InvokeArgs
    ) -> Invoked | Listed:
        """``invoke``'s core, saver and graph run to report, and what collects its result."""
        version = "v1"
        if kwargs:  # (most calls pass none)
            kwargs = without_checkpoint_during(kwargs)
            version = output_version("invoke", kwargs)  # type: ignore[arg-type]
            config = with_control(config, kwargs.get("control"))
            if kwargs.get("stream_mode", "values") != "values":  # the list of what stream yields
                streamed = self._stream_call(input, config, as_stream(kwargs))
                return Listed(streamed.core, streamed.saver, streamed.trace, streamed.shaped)
        config = with_ambient(config)
        relay, modes, _ = relay_of(config)
        core, saver, merged, trace = self._begin(input, config, modes, kwargs, None, invoked=True)
        # chunks go up under the namespace the run saves under (numbered, task ids dropped for
        # checkpointer=True), as LangGraph streams them
        configurable = merged["configurable"]
        saved_ns = configurable.get("checkpoint_ns")
        ns = tuple(str(saved_ns).split(NS_SEP)) if saved_ns else ()
        output_keys = kwargs.get("output_keys")
        plan = self.plan
        collector = OutputCollector(plan, output_keys)
        return Invoked(
            core,
            saver,
            trace,
            collector,
            relay,
            ns,
            is_nested(config),
            version,
            plan.output_class,
        )

    def _modes(self, stream_mode: Any) -> tuple[frozenset[str], bool, tuple[str, ...]]:
        if stream_mode is None:
            stream_mode = self.stream_mode
        _checks.check_stream_modes([stream_mode] if isinstance(stream_mode, str) else stream_mode)
        if isinstance(stream_mode, str):
            return frozenset({stream_mode}), False, (stream_mode,)
        modes = tuple(stream_mode)
        return frozenset(modes), True, modes

    def _begin(
        self,
        input: Any,
        config: RunnableConfig | None,
        modes: frozenset[str],
        kwargs: InvokeArgs,
        relay: StreamRelay | None,
        *,
        invoked: bool = False,
    ) -> tuple[Generator[Effect, Any, None], Any, RunnableConfig, GraphTrace | None]:
        """Check the call and return the run's core (for a driver to carry out), its saver, the
        run's config (its namespace, for one thing) and the graph run to report to the config's
        callbacks (None without callbacks)."""
        output_keys = kwargs.get("output_keys")  # (checked by run_options)
        merged, saver, options = call_setup.setup(
            self,
            config,
            modes,
            kwargs.get("interrupt_before"),
            kwargs.get("interrupt_after"),
            kwargs.get("durability"),
            output_keys,
            invoked,
        )
        keys = output_keys if output_keys is not None else self.plan.output_channels
        trace = graph_trace(merged, self.get_name, input, keys)
        context = kwargs.get("context")
        core = self._run(input, merged, options, context, saver, relay, trace)
        return core, saver, merged, trace

    def _run(
        self,
        input: Any,
        config: RunnableConfig,
        options: RunOptions,
        context: Any,
        saver: Any,
        relay: StreamRelay | None,
        trace: GraphTrace | None = None,
    ) -> Generator[Effect, Any, None]:
        saved, head_id = (yield from load_thread(config)) if saver is not None else (None, None)
        run, runner, start = call_setup.prepare(
            self, saved, head_id, input, config, options, context, saver, relay
        )
        if trace is not None:  # its tasks are reported as runs below the graph's
            runner.traced = True
            runner.plain_nodes = frozenset()  # each attempt is reported: run_task
            trace.started(run)
        yield from run_loop(run, runner, start, relay)

    def stream_events(
        self, input: Any, config: RunnableConfig | None = None, *, version: Any = "v2", **kw: Any
    ) -> Any:
        """``version="v3"``: a ``threadloom.stream.GraphRunStream`` (projections ``values``,
        ``messages``, ``lifecycle``, ``subgraphs``, ``output``...; ``transformers=`` adds more),
        read to run the graph. Sync ``"v1"``/``"v2"`` do not exist (as in langchain-core):
        ``UnsupportedParameterError``; use ``astream_events``."""
        if version == "v3":
            from threadloom.stream._entry import stream_events_v3

            return stream_events_v3(self, input, config, **kw)
        raise UnsupportedParameterError("stream_events", "version", version)

    def astream_events(
        self, input: Any, config: RunnableConfig | None = None, *, version: Any = "v2", **kw: Any
    ) -> Any:
        """LangChain's callback events (``version="v1"`` or ``"v2"``, the Runnable base's, over the
        graph's run tree), or with ``"v3"`` an awaitable ``threadloom.stream.AsyncGraphRunStream``
        (see ``stream_events``)."""
        if version == "v3":
            from threadloom.stream._entry import astream_events_v3

            return astream_events_v3(self, input, config, **kw)
        if version not in ("v1", "v2"):
            raise UnsupportedParameterError("astream_events", "version", version)
        kw.pop("transformers", None)  # (a v3 argument: nothing to transform in v1/v2)
        return super().astream_events(input, config, version=version, **kw)

    def batch(
        self,
        inputs: Sequence[Any],
        config: RunnableConfig | Sequence[RunnableConfig] | None = None,
        **kwargs: Any,
    ) -> list[Any]:
        """``invoke`` each input (with its own config when a list of configs is given)."""
        configs = configs_for(inputs, config)
        return [
            self.invoke(value, cfg, **kwargs) for value, cfg in zip(inputs, configs, strict=True)
        ]

    async def abatch(
        self,
        inputs: Sequence[Any],
        config: RunnableConfig | Sequence[RunnableConfig] | None = None,
        **kwargs: Any,
    ) -> list[Any]:
        """``ainvoke`` the inputs concurrently; results in input order."""
        import asyncio

        configs = configs_for(inputs, config)
        return list(
            await asyncio.gather(
                *(
                    self.ainvoke(value, cfg, **kwargs)
                    for value, cfg in zip(inputs, configs, strict=True)
                )
            )
        )


def plain_nodes(plan: Plan, injections: Mapping[str, Any]) -> frozenset[str]:
    """The nodes with no retry policy and nothing to inject: in a run that caches and traces
    nothing, their tasks without a timeout run as ``sync.run_plain`` (one attempt, no retry loop,
    no cache key, no keyword arguments to build)."""
    return frozenset(
        name
        for name, node in plan.nodes.items()
        if not node.retry_policy and not injections.get(name) and type(node.func) is not CallOf
    )


def _invoke_keys(plan: Plan) -> str | Sequence[str]:
    """What ``invoke``'s chunks read: the output channels (managed values are not channels)."""
    if plan.invoke_keys is not None:
        return plan.invoke_keys
    keys = plan.output_channels
    return keys if isinstance(keys, str) else [k for k in keys if k in plan.channels]
