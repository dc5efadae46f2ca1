"""``Pregel``: the compiled graph users run — invoke, stream and the state API, sync and async.

This module turns a call into a ``Run`` (config checks, loading the thread, the resume box, the
task runner, what a subgraph inherits). The run itself is ``engine/run.py`` over the superstep
rules of ``engine/core.py``; waiting is ``engine/sync.py`` and ``engine/aio.py``; what the caller
gets back is shaped by ``engine/output.py``; the state API is ``engine/state_api.py``.
"""

from __future__ import annotations

import os
import re
import warnings
from collections.abc import AsyncIterator, Callable, Generator, Iterator, Sequence
from contextlib import aclosing, closing
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from langchain_core.runnables import Runnable, RunnableConfig

from threadloom.constants import (
    CONFIG_KEY_CHECKPOINTER,
    CONFIG_KEY_CONTEXT,
    CONFIG_KEY_DURABILITY,
    CONFIG_KEY_REPLAY,
    CONFIG_KEY_RESUME_BOX,
    CONFIG_KEY_RESUMING,
    CONFIG_KEY_STORE,
    CONFIG_KEY_STREAM,
    NS_SEP,
)
from threadloom.engine import _checks, aio, caching, snapshot
from threadloom.engine import sync as sync_driver
from threadloom.engine.callbacks import GraphTrace, graph_trace, traced_achunks, traced_chunks
from threadloom.engine.core import METADATA_FROM_CONFIGURABLE
from threadloom.engine.drain import run_control, with_control
from threadloom.engine.effects import Effect
from threadloom.engine.inject import Injection
from threadloom.engine.loop import ReplayBound, load_thread, run_loop
from threadloom.engine.nesting import address_by_map, count_in_task, with_ambient
from threadloom.engine.output import (
    INVOKE_MODES,
    SKIP,
    OutputCollector,
    StreamRelay,
    graph_output,
    output_version,
    relay_of,
    shape,
)
from threadloom.engine.plan import Plan
from threadloom.engine.run import Run, RunOptions
from threadloom.engine.schemas import GraphSchemas
from threadloom.engine.scratch import ResumeBox
from threadloom.engine.state_api import CONFIG_KEYS_MESSAGE, StateAPI
from threadloom.engine.tasks import TaskRunner
from threadloom.errors import UnsupportedParameterError
from threadloom.runtime import Runtime

if TYPE_CHECKING:
    from langchain_core.runnables.graph import Graph

__all__ = ["Pregel"]

DEFAULT_RECURSION_LIMIT = int(os.environ.get("LANGGRAPH_DEFAULT_RECURSION_LIMIT", "10007"))
_HEX32 = re.compile(r"^[0-9a-f]{32}$")


def _int_version(current: Any) -> int:
    """Versions of a run without a saver: plain counters."""
    if current is None:
        return 1
    if type(current) is int:
        return current + 1
    return int(str(current).split(".")[0]) + 1


@dataclass(slots=True)
class _Prepared:
    run: Run
    runner: TaskRunner
    saver: Any
    start: list[Effect]


class Pregel(StateAPI, GraphSchemas, Runnable[Any, Any]):
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
            self.stream_transformers = tuple(transformers)
        elif lowlevel:
            raise TypeError(f"Pregel() got unexpected arguments {sorted(lowlevel)!r}")
        self.plan = plan
        self.injections = injections or {}
        self.config: RunnableConfig = config or {}
        self.name = plan.name
        self._saver = self._with_allowlist(plan.checkpointer)

    # --- public attributes ------------------------------------------------------------------------

    @property
    def checkpointer(self) -> Any:
        """The saver given to compile (``None``, a saver, or ``True``/``False`` for subgraphs)."""
        return self.plan.checkpointer

    @property
    def store(self) -> Any:
        """The store given to compile, if any."""
        return self.plan.store

    @property
    def nodes(self) -> dict[str, Any]:
        """The graph's nodes by name (START included)."""
        return dict(self.plan.nodes)

    # --- drawing and node cache (graph/_drawing.py, engine/caching.py) ----------------------------

    @property
    def cache(self) -> Any:
        """The node cache given to compile (``@entrypoint(cache=...)``), if any."""
        return self.plan.cache

    def get_graph(self, config: RunnableConfig | None = None, *, xray: int | bool = False) -> Graph:
        """The graph as langchain-core's ``Graph`` (``draw_mermaid()``, ``draw_ascii()``…);
        ``xray`` draws subgraphs inside their nodes, that many levels deep (``True``: all)."""
        from threadloom.graph._drawing import draw_graph

        return draw_graph(self, config, xray)

    async def aget_graph(
        self, config: RunnableConfig | None = None, *, xray: int | bool = False
    ) -> Graph:
        """Same as ``get_graph`` (drawing does no I/O)."""
        return self.get_graph(config, xray=xray)

    def get_subgraphs(
        self, *, namespace: str | None = None, recurse: bool = False
    ) -> Iterator[tuple[str, Pregel]]:
        """``(namespace, compiled graph)`` of the nodes that run a compiled graph."""
        from threadloom.graph._drawing import subgraphs_of

        return subgraphs_of(self, namespace, recurse)

    async def aget_subgraphs(
        self, *, namespace: str | None = None, recurse: bool = False
    ) -> AsyncIterator[tuple[str, Pregel]]:
        """Same as ``get_subgraphs``, as an async iterator."""
        for item in self.get_subgraphs(namespace=namespace, recurse=recurse):
            yield item

    def clear_cache(self, nodes: Sequence[str] | None = None) -> None:
        """Drop the cached writes of ``nodes`` (default: every node) from the graph's cache."""
        self._cache_or_raise().clear(caching.namespaces_of(self.plan, nodes))

    async def aclear_cache(self, nodes: Sequence[str] | None = None) -> None:
        """Async ``clear_cache``."""
        await self._cache_or_raise().aclear(caching.namespaces_of(self.plan, nodes))

    def _cache_or_raise(self) -> Any:
        if self.plan.cache is None:
            raise ValueError(
                "No cache is set for this graph. Cannot clear cache. Compile it with one, e.g. "
                "builder.compile(cache=InMemoryCache()) or @entrypoint(cache=InMemoryCache())."
            )
        return self.plan.cache

    channels = property(lambda self: dict(self.plan.channels), doc="The channels, by name.")
    input_channels = property(lambda self: self.plan.input_channel, doc="Where input goes.")
    output_channels = property(lambda self: self.plan.output_channels, doc="What invoke returns.")
    stream_channels = property(lambda self: self.plan.stream_channels, doc="What values hold.")

    def with_config(self, config: RunnableConfig | None = None, **kwargs: Any) -> Pregel:
        """A copy whose runs merge ``config`` into theirs."""
        merged: dict[str, Any] = {**self.config, **(config or {}), **kwargs}
        clone = type(self).__new__(type(self))
        clone.__dict__.update(self.__dict__)
        clone.config = merged  # type: ignore[assignment]
        return clone

    def _with_allowlist(self, saver: Any) -> Any:
        if saver is None or isinstance(saver, bool) or not self.plan.allowed_types:
            return saver if not isinstance(saver, bool) else None
        widen = getattr(saver, "with_allowlist", None)
        return widen(self.plan.allowed_types) if widen else saver

    # --- running ---------------------------------------------------------------------------------

    def _merge_config(self, config: RunnableConfig | None) -> RunnableConfig:
        # always new dicts: a run never changes the caller's config
        merged: dict[str, Any] = dict(_checks.lift_config_keys(self.config) or {})
        for key in ("configurable", "metadata"):
            merged[key] = dict(merged.get(key) or {})
        config = _checks.lift_config_keys(config)  # {"thread_id": ...} as in LangGraph
        if config:
            for key, value in config.items():
                if key in ("configurable", "metadata"):
                    merged[key].update(value or {})
                elif key == "tags" and merged.get("tags"):  # .with_config(tags=) kept, as
                    extra: Any = value or []  # LangGraph merges them
                    merged[key] = sorted({*merged["tags"], *extra})
                else:
                    merged[key] = value
        metadata, configurable = merged["metadata"], merged["configurable"]
        for key in METADATA_FROM_CONFIGURABLE:
            if key not in metadata and (value := configurable.get(key)):
                metadata[key] = value
        return merged  # type: ignore[return-value]

    def _effective_saver(self, configurable: dict[str, Any]) -> Any:
        """Our own saver, or (for a subgraph compiled without one) the parent run's."""
        own = self.plan.checkpointer
        if own is False:
            return None
        if own is not None and own is not True:
            return self._saver
        inherited = configurable.get(CONFIG_KEY_CHECKPOINTER)
        if inherited is None:
            if own is True:
                raise RuntimeError("checkpointer=True cannot be used for root graphs.")
            return None
        if own is True:  # one history per thread: the namespace without task ids
            configurable["checkpoint_ns"] = snapshot.thread_ns(
                str(configurable.get("checkpoint_ns", ""))
            )
        return self._with_allowlist(inherited)

    def _setup(
        self,
        config: RunnableConfig | None,
        modes: frozenset[str],
        interrupt_before: Any,
        interrupt_after: Any,
        durability: str | None,
    ) -> tuple[RunnableConfig, Any, RunOptions]:
        merged = self._merge_config(config)
        configurable: dict[str, Any] = merged["configurable"]
        count_in_task(configurable)
        saver = self._effective_saver(configurable)
        address_by_map(configurable)
        self._check_config(merged, saver)
        self._check_store(configurable)
        if durability is None:
            durability = configurable.get(CONFIG_KEY_DURABILITY)
        options = self._options(merged, modes, interrupt_before, interrupt_after, durability, saver)
        return merged, saver, options

    def _check_config(self, config: RunnableConfig, saver: Any) -> None:
        if saver is None:
            return
        configurable = config.get("configurable")
        if not configurable:
            raise ValueError(
                CONFIG_KEYS_MESSAGE + ". Pass a thread id, e.g. "
                "graph.invoke(inputs, {'configurable': {'thread_id': '1'}})"
            )
        if configurable.get("thread_id") is None:
            raise ValueError(
                f"{CONFIG_KEYS_MESSAGE}. config['configurable'] has no 'thread_id' "
                f"(keys given: {sorted(configurable)!r}); add one, e.g. "
                "{'configurable': {'thread_id': '1'}}"
            )
        configurable["thread_id"] = str(configurable["thread_id"])

    def _check_store(self, configurable: dict[str, Any]) -> None:
        if self.plan.store is not None or configurable.get(CONFIG_KEY_STORE) is not None:
            return
        for name, wanted in self.injections.items():
            if any(inj.name == "store" and inj.required for inj in wanted):
                raise ValueError(
                    f"Node {name!r} asks for a 'store' parameter, but no store was given. "
                    "Pass one when compiling, e.g. builder.compile(store=InMemoryStore()) or "
                    "@entrypoint(store=InMemoryStore()), or make the parameter optional "
                    "(store: BaseStore | None = None)."
                )

    def _options(
        self,
        config: RunnableConfig,
        modes: frozenset[str],
        interrupt_before: Any,
        interrupt_after: Any,
        durability: str | None,
        saver: Any,
    ) -> RunOptions:
        limit = config.get("recursion_limit", DEFAULT_RECURSION_LIMIT)
        if limit < 1:
            raise ValueError("recursion_limit must be at least 1")
        if durability is not None and saver is None:
            warnings.warn(
                "`durability` has no effect when no checkpointer is present.", stacklevel=4
            )
        if durability not in (None, "sync", "async", "exit"):
            raise ValueError(f"durability must be 'sync', 'async' or 'exit', got {durability!r}")
        return RunOptions(
            modes=modes,
            stream_keys=self.plan.invoke_keys
            if modes is INVOKE_MODES and self.plan.invoke_keys is not None
            else self.plan.stream_channels,
            interrupt_before=interrupt_before
            if interrupt_before is not None
            else self.plan.interrupt_before,
            interrupt_after=interrupt_after
            if interrupt_after is not None
            else self.plan.interrupt_after,
            durability=durability or "async",
            recursion_limit=limit,
            checkpointing=saver is not None,
            step_timeout=self.step_timeout,
            # invoke (and nothing else) passes this very set: it reads only the last values
            final_values_only=modes is INVOKE_MODES,
        )

    def _runtime(self, context: Any, store: Any) -> Runtime[Any]:
        schema = self.plan.context_schema
        if (
            isinstance(context, dict)
            and isinstance(schema, type)
            and not issubclass(schema, dict)
            and hasattr(schema, "__annotations__")
        ):
            context = schema(**context)
        return Runtime(context=context, store=store)

    def _prepare(
        self,
        saved: Any,
        head_id: str | None,
        run_input: Any,
        config: RunnableConfig,
        options: RunOptions,
        context: Any,
        saver: Any,
        relay: StreamRelay | None = None,
    ) -> _Prepared:
        def next_version(current: Any) -> Any:
            return (
                saver.get_next_version(current, None)
                if saver is not None
                else _int_version(current)
            )

        configurable: dict[str, Any] = config["configurable"]
        if configurable.get(CONFIG_KEY_RESUMING) and saved is not None:
            run_input = None  # the parent resumes, so does this subgraph
        _checks.check_run_input(self.plan, run_input, saved, config)
        options.control = control = run_control(configurable)
        run = Run(
            self.plan,
            config,
            options,
            next_version,
            saved=saved,
            head_id=head_id,
            ns=str(configurable.get("checkpoint_ns", "")),
        )
        start = run.start(run_input)
        box = configurable.get(CONFIG_KEY_RESUME_BOX) or self._resume_box(run)
        store = self.plan.store or configurable.get(CONFIG_KEY_STORE)
        if context is None:  # a graph invoked inside a task runs with the task's context
            context = configurable.get(CONFIG_KEY_CONTEXT)
        # what a graph run inside one of our tasks inherits (a subgraph node, or a graph a node
        # function invokes: its config is the task's, see engine/nesting.py)
        configurable[CONFIG_KEY_CHECKPOINTER] = saver
        configurable[CONFIG_KEY_STORE] = store
        configurable[CONFIG_KEY_RESUME_BOX] = box
        configurable[CONFIG_KEY_CONTEXT] = context
        if saver is not None:  # (a durability without a saver would only warn)
            configurable[CONFIG_KEY_DURABILITY] = options.durability
        configurable[CONFIG_KEY_RESUMING] = run.resumed
        if run.replay_from is not None:
            configurable[CONFIG_KEY_REPLAY] = ReplayBound(run.replay_from)
        if relay is not None:
            configurable[CONFIG_KEY_STREAM] = relay
        runtime = self._runtime(context, store).override(control=control)
        previous = run.channels.get("__previous__")
        if previous is not None and previous.is_available():
            runtime = runtime.override(previous=previous.value)
        runner = TaskRunner(
            channels=run.channels,
            runtime=runtime,
            box=box,
            writer=_no_writer,
            injections=self.injections,
            thread_id=config.get("configurable", {}).get("thread_id"),
            checkpoint_id=run.checkpoint["id"],
            cache=self.plan.cache,
            cache_policy=self.plan.cache_policy,
        )
        return _Prepared(run, runner, saver, start)

    def _resume_box(self, run: Run) -> ResumeBox:
        present, value = run.resume_box_value()
        if not present:
            return ResumeBox()
        if (
            isinstance(value, dict)
            and value
            and all(isinstance(k, str) and _HEX32.match(k) for k in value)
        ):
            return ResumeBox(by_id=dict(value))
        pending = snapshot.pending_interrupts(run.pending)
        if len(pending) > 1:
            raise RuntimeError(
                "When there are multiple pending interrupts, you must specify the interrupt id "
                "when resuming. Docs: https://docs.langchain.com/oss/python/langgraph/"
                "interrupts#handling-multiple-interrupts."
            )
        return ResumeBox(value=value, present=True)

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
        context: Any,
        interrupt_before: Any,
        interrupt_after: Any,
        durability: str | None,
        relay: StreamRelay | None = None,
        output_keys: Any = None,
    ) -> tuple[Generator[Effect, Any, None], Any, RunnableConfig, GraphTrace | None]:
        """Check the call and return the run's core (for a driver to carry out), its saver, the
        run's config (its namespace, for one thing) and the graph run to report to the config's
        callbacks (None without callbacks)."""
        merged, saver, options = self._setup(
            config, modes, interrupt_before, interrupt_after, durability
        )
        if output_keys is not None:  # values chunks (and invoke's result) read these channels
            options.stream_keys = output_keys
        keys = output_keys if output_keys is not None else self.plan.output_channels
        trace = graph_trace(merged, self.get_name(), input, keys)
        core = self._run(input, merged, options, context, saver, relay, trace)
        return core, saver, merged, trace

    @staticmethod
    def _chunks(
        core: Generator[Effect, Any, None], saver: Any, trace: GraphTrace | None
    ) -> Iterator[tuple[str, Any]]:
        chunks = sync_driver.drive(core, saver)
        return chunks if trace is None else traced_chunks(chunks, trace)

    @staticmethod
    def _achunks(
        core: Generator[Effect, Any, None], saver: Any, trace: GraphTrace | None
    ) -> AsyncIterator[tuple[str, Any]]:
        chunks = aio.drive(core, saver)
        return chunks if trace is None else traced_achunks(chunks, trace)

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
        prepared = self._prepare(saved, head_id, input, config, options, context, saver, relay)
        if trace is not None:  # its tasks are reported as runs below the graph's
            prepared.runner.traced = True
            trace.started(prepared.run)
        yield from run_loop(prepared.run, prepared.runner, prepared.start, relay)

    def _streaming(
        self, call: dict[str, Any]
    ) -> tuple[
        Generator[Effect, Any, None], Any, GraphTrace | None, Callable[[tuple[str, Any]], Any]
    ]:
        """``stream``'s core and saver, and how its chunks are shaped for the caller; ``call``
        holds ``stream``'s arguments by name."""
        modes, multi, _ = self._modes(call["stream_mode"])
        subgraphs = call["subgraphs"]
        relay = StreamRelay(modes) if subgraphs else None
        version = output_version("stream", call["kwargs"])
        v2, classes = version == "v2", self.plan

        def shaped(chunk: tuple[str, Any]) -> Any:
            return shape(chunk[0], chunk[1], modes, multi, subgraphs, v2, classes)

        core, saver, _, trace = self._begin(
            call["input"],
            with_control(with_ambient(call["config"]), call["kwargs"].get("control")),
            modes,
            call["context"],
            call["interrupt_before"],
            call["interrupt_after"],
            call["durability"],
            relay,
            call["output_keys"],
        )
        return core, saver, trace, shaped

    def stream(  # type: ignore[override]
        self,
        input: Any,
        config: RunnableConfig | None = None,
        *,
        context: Any = None,
        stream_mode: Any = None,
        output_keys: Any = None,
        interrupt_before: Any = None,
        interrupt_after: Any = None,
        durability: str | None = None,
        subgraphs: bool = False,
        debug: bool | None = None,
        **kwargs: Any,
    ) -> Iterator[Any]:
        """Run the graph, yielding chunks of the requested stream mode(s) as they are produced."""
        core, saver, trace, shaped = self._streaming(locals())  # the arguments, by name
        with closing(self._chunks(core, saver, trace)) as chunks:  # type: ignore[type-var]  # a break saves what is owed
            for chunk in chunks:
                if (out := shaped(chunk)) is not SKIP:
                    yield out

    async def astream(  # type: ignore[override]
        self,
        input: Any,
        config: RunnableConfig | None = None,
        *,
        context: Any = None,
        stream_mode: Any = None,
        output_keys: Any = None,
        interrupt_before: Any = None,
        interrupt_after: Any = None,
        durability: str | None = None,
        subgraphs: bool = False,
        debug: bool | None = None,
        **kwargs: Any,
    ) -> AsyncIterator[Any]:
        """Async ``stream``: async nodes are awaited, sync nodes run in a thread."""
        core, saver, trace, shaped = self._streaming(locals())  # the arguments, by name
        async with aclosing(self._achunks(core, saver, trace)) as chunks:  # type: ignore[type-var]  # a stop saves what is owed
            async for chunk in chunks:
                if (out := shaped(chunk)) is not SKIP:
                    yield out

    def _invocation(
        self,
        input: Any,
        config: RunnableConfig | None,
        context: Any,
        output_keys: Any,
        interrupt_before: Any,
        interrupt_after: Any,
        durability: str | None,
    ) -> tuple[Generator[Effect, Any, None], Any, GraphTrace | None, _Invocation]:
        """``invoke``'s core, saver and graph run to report, and what collects its result."""
        config = with_ambient(config)
        relay, modes, _ = relay_of(config)
        core, saver, merged, trace = self._begin(
            input,
            config,
            modes,
            context,
            interrupt_before,
            interrupt_after,
            durability,
            None,
            output_keys,
        )
        # chunks go up under the namespace the run saves under (numbered, task ids dropped for
        # checkpointer=True), as LangGraph streams them
        saved_ns = str(merged["configurable"].get("checkpoint_ns", ""))
        ns = tuple(saved_ns.split(NS_SEP)) if saved_ns else ()
        collector = OutputCollector(self.plan, output_keys)
        return core, saver, trace, _Invocation(collector, relay, ns, _is_nested(config))

    def invoke(
        self,
        input: Any,
        config: RunnableConfig | None = None,
        *,
        context: Any = None,
        stream_mode: Any = "values",
        output_keys: Any = None,
        interrupt_before: Any = None,
        interrupt_after: Any = None,
        durability: str | None = None,
        **kwargs: Any,
    ) -> Any:
        """Run the graph to its end (or an interrupt) and return its output."""
        version = output_version("invoke", kwargs)
        config = with_control(config, kwargs.get("control"))
        if stream_mode != "values":  # the list of what stream yields
            return list(self.stream(input, config, **_as_stream(locals())))
        core, saver, trace, call = self._invocation(
            input, config, context, output_keys, interrupt_before, interrupt_after, durability
        )
        for mode, payload in self._chunks(core, saver, trace):
            call.add(mode, payload)
        return call.result(version, self.plan.output_class)

    async def ainvoke(
        self,
        input: Any,
        config: RunnableConfig | None = None,
        *,
        context: Any = None,
        stream_mode: Any = "values",
        output_keys: Any = None,
        interrupt_before: Any = None,
        interrupt_after: Any = None,
        durability: str | None = None,
        **kwargs: Any,
    ) -> Any:
        """Async ``invoke``."""
        version = output_version("invoke", kwargs)
        config = with_control(config, kwargs.get("control"))
        if stream_mode != "values":  # the list of what astream yields
            return [c async for c in self.astream(input, config, **_as_stream(locals()))]
        core, saver, trace, call = self._invocation(
            input, config, context, output_keys, interrupt_before, interrupt_after, durability
        )
        async for mode, payload in self._achunks(core, saver, trace):
            call.add(mode, payload)
        return call.result(version, self.plan.output_class)

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
        configs = _configs_for(inputs, config)
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

        configs = _configs_for(inputs, config)
        return list(
            await asyncio.gather(
                *(
                    self.ainvoke(value, cfg, **kwargs)
                    for value, cfg in zip(inputs, configs, strict=True)
                )
            )
        )


@dataclass(slots=True)
class _Invocation:
    """How an ``invoke``'s chunks become its result (and reach an enclosing stream)."""

    collector: OutputCollector
    relay: StreamRelay | None
    """Set when a parent run streams with ``subgraphs=True``: our chunks go up to it."""
    ns: tuple[str, ...]
    nested: bool

    def add(self, mode: str, payload: Any) -> None:
        if self.relay is not None:
            self.relay.forward(self.ns, mode, payload)
        self.collector.add(mode, payload)

    def result(self, version: str, output_class: Any) -> Any:
        result = self.collector.result(nested=self.nested)
        return graph_output(result, output_class) if version == "v2" else result


def _as_stream(arguments: dict[str, Any]) -> dict[str, Any]:
    """``invoke``'s arguments as ``stream`` takes them (for a non-``values`` stream mode)."""
    keys = ("context", "stream_mode", "interrupt_before", "interrupt_after", "durability")
    return {**{k: arguments[k] for k in keys}, "version": arguments["version"]}


def _is_nested(config: RunnableConfig | None) -> bool:
    return bool(config) and CONFIG_KEY_RESUME_BOX in (config.get("configurable") or {})  # type: ignore[union-attr]


def _configs_for(
    inputs: Sequence[Any], config: RunnableConfig | Sequence[RunnableConfig] | None
) -> list[RunnableConfig | None]:
    if isinstance(config, Sequence) and not isinstance(config, dict):
        if len(config) != len(inputs):
            raise ValueError(
                f"batch got {len(inputs)} inputs but {len(config)} configs: pass one config, "
                "or one per input"
            )
        return list(config)
    return [config] * len(inputs)  # type: ignore[list-item]


def _no_writer(_: Any) -> None:
    """Stream writer used when ``custom`` is not streamed."""
