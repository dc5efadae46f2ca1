"""How a call to a compiled graph becomes a ``Run``: its config, its saver, its options, its task
runner and what a graph run inside one of its tasks inherits.

``Pregel`` (``engine/pregel.py``) calls these for ``invoke``/``stream``; the state API
(``engine/state_api.py``) shares ``merge_config`` and ``check_thread_config``. Nothing here
waits: loading the thread is an effect of the run's core (``engine/loop.py``).
"""

from __future__ import annotations

import os
import re
import warnings
from collections.abc import Generator
from typing import TYPE_CHECKING, Any, Final

from langchain_core.runnables import RunnableConfig

from threadloom.checkpoint._arguments import thread_key
from threadloom.checkpoint._saver_calls import saves_steps_at_once
from threadloom.checkpoint.base import next_noted_version, next_string_version
from threadloom.constants import (
    CONFIG_KEY_CHECKPOINTER,
    CONFIG_KEY_CONTEXT,
    CONFIG_KEY_DURABILITY,
    CONFIG_KEY_REPLAY,
    CONFIG_KEY_RESUME_BOX,
    CONFIG_KEY_RESUMING,
    CONFIG_KEY_STORE,
    CONFIG_KEY_STREAM,
)
from threadloom.engine import _checks, snapshot
from threadloom.engine.begin import begin
from threadloom.engine.callbacks import GraphTrace, graph_trace
from threadloom.engine.core import METADATA_FROM_CONFIGURABLE
from threadloom.engine.drain import CONFIG_KEY_CONTROL
from threadloom.engine.effects import Effect
from threadloom.engine.inject import Injection
from threadloom.engine.lone_step import takes_lone_steps
from threadloom.engine.loop import ReplayBound, load_thread, run_loop
from threadloom.engine.nesting import address_by_map, count_in_task
from threadloom.engine.options import RunOptions
from threadloom.engine.output import INVOKE_MODES, StreamRelay
from threadloom.engine.projection import Projection
from threadloom.engine.run import Run
from threadloom.engine.scratch import ResumeBox
from threadloom.engine.tasks import TaskRunner
from threadloom.errors import MissingThreadIdError
from threadloom.runtime import ExecutionInfo, RunControl, Runtime, server_info_of

if TYPE_CHECKING:
    from threadloom.engine.invocation import InvokeArgs
    from threadloom.engine.pregel import Pregel

__all__ = [
    "DEFAULT_RECURSION_LIMIT",
    "ROOT_WITH_PARENTS_SAVER",
    "check_thread_config",
    "merge_config",
    "run_core",
    "setup",
]

DEFAULT_RECURSION_LIMIT = int(os.environ.get("LANGGRAPH_DEFAULT_RECURSION_LIMIT", "10007"))
CONFIG_KEYS_MESSAGE = (
    "Checkpointer requires one or more of the following 'configurable' keys: "
    "thread_id, checkpoint_ns, checkpoint_id"
)
_HEX32 = re.compile(r"^[0-9a-f]{32}$")
_METADATA_ORDER: Final = {key: i for i, key in enumerate(METADATA_FROM_CONFIGURABLE)}
"""``METADATA_FROM_CONFIGURABLE`` by position: a run's metadata gets them in this order."""


def merge_config(
    defaults: RunnableConfig, config: RunnableConfig | None, *, checked: bool = False
) -> RunnableConfig:
    """``config`` over the graph's ``defaults`` (``with_config``), always in new dicts: a run
    never changes the caller's config. ``checked``: ``config`` passed ``check_config`` already
    (``with_ambient``, the first place a call reads it)."""
    if defaults:
        merged: dict[str, Any] = dict(_checks.lift_config_keys(defaults))
        merged["configurable"] = dict(merged.get("configurable") or {})
        merged["metadata"] = dict(merged.get("metadata") or {})
    else:  # (most graphs: no with_config)
        merged = {"configurable": {}, "metadata": {}}
    config = _checks.lift_config_keys(config, checked)  # {"thread_id": ...} as in LangGraph
    if config:
        for key, value in config.items():
            if key == "configurable" or key == "metadata":
                if value:
                    merged[key].update(value)
            elif key == "tags" and merged.get("tags"):  # .with_config(tags=) kept, as
                extra: Any = value or []  # LangGraph merges them
                merged[key] = sorted({*merged["tags"], *extra})
            else:
                merged[key] = value
    metadata, configurable = merged["metadata"], merged["configurable"]
    if configurable:  # the keys present, found and put in order in C (most calls: one or two)
        for key in sorted(
            _METADATA_ORDER.keys() & configurable.keys(), key=_METADATA_ORDER.__getitem__
        ):
            if key not in metadata and (value := configurable[key]):
                metadata[key] = value
    return merged  # type: ignore[return-value]


def check_thread_config(config: RunnableConfig, saver: Any) -> None:
    """A run with a saver needs a thread id (made a string here, as LangGraph stores it)."""
    if saver is None:
        return
    configurable = config.get("configurable")
    if not configurable:
        raise MissingThreadIdError(
            CONFIG_KEYS_MESSAGE + ". Pass a thread id, e.g. "
            "graph.invoke(inputs, {'configurable': {'thread_id': '1'}})"
        )
    if configurable.get("thread_id") is None:
        problem = (  # LangGraph would store a None thread id as the thread 'None'
            "config['configurable']['thread_id'] is None"
            if "thread_id" in configurable
            else f"config['configurable'] has no 'thread_id' (keys given: {sorted(configurable)!r})"
        )
        raise MissingThreadIdError(
            f"{CONFIG_KEYS_MESSAGE}. {problem}; pass the thread's name, e.g. "
            "{'configurable': {'thread_id': '1'}}"
        )
    thread_id = configurable["thread_id"]
    if type(thread_id) is not str:  # (most are)
        configurable["thread_id"] = thread_key(thread_id)


def setup(
    graph: Pregel,
    input: Any,
    config: RunnableConfig | None,
    modes: frozenset[str],
    kwargs: InvokeArgs,
    relay: StreamRelay | None,
    invoked: bool = False,
) -> tuple[Generator[Effect, Any, None], Any, RunnableConfig, GraphTrace | None]:
    """Check the call; return the run's core (for a driver to carry out, ``run_core``), its
    saver, the run's merged config (its namespace, for one thing) and the graph run to report
    to the config's callbacks (None without callbacks). Values chunks read ``output_keys`` when
    given, else (``invoked``: invoke's, a subgraph's too) the graph's output channels, as
    LangGraph's, else the stream channels."""
    output_keys = kwargs.get("output_keys")  # (checked by run_options)
    durability = kwargs.get("durability")
    merged = merge_config(graph.config, config, checked=True)  # (by with_ambient)
    configurable: dict[str, Any] = merged["configurable"]
    nested = CONFIG_KEY_RESUME_BOX in configurable  # run inside a running graph's task
    if nested:
        count_in_task(configurable)
    own = graph.plan.checkpointer
    if CONFIG_KEY_CHECKPOINTER in configurable:  # run inside a parent run
        saver = _inherited_saver(graph, own, configurable)
    elif own is True:
        raise RuntimeError(ROOT_WITH_PARENTS_SAVER)
    else:  # a root run: the graph's own
        saver = None if own is None or own is False else graph._saver
    if nested or configurable.get("checkpoint_ns"):  # (a root run at the root: nothing to map)
        address_by_map(configurable)
    if saver is not None and type(configurable.get("thread_id")) is not str:  # (most are)
        check_thread_config(merged, saver)
    if graph._store_wanted_by is not None:  # a node requires a store
        _check_store(graph, configurable)
    if durability is None and saver is not None:  # a run without a saver has no use for it
        durability = configurable.get(CONFIG_KEY_DURABILITY)
    options = run_options(
        graph, merged, modes, kwargs.get("interrupt_before"), kwargs.get("interrupt_after"),
        durability, saver, output_keys, invoked,
    )  # fmt: skip
    keys = output_keys if output_keys is not None else graph.plan.output_channels
    trace = graph_trace(merged, graph.get_name, input, keys)
    core = run_core(graph, input, merged, options, kwargs.get("context"), saver, relay, trace)
    return core, saver, merged, trace


ROOT_WITH_PARENTS_SAVER = "checkpointer=True cannot be used for root graphs."
"""What a root graph compiled with ``checkpointer=True`` says when it is run or read."""


def _inherited_saver(graph: Pregel, own: Any, configurable: dict[str, Any]) -> Any:
    """The saver of a run inside a parent run: none for ``checkpointer=False``, else the
    parent's (none if it has none), even for a subgraph compiled with a saver of its own, as
    LangGraph does, so a thread's subgraph checkpoints live with its parent's. (A root run uses
    the graph's own, ``setup``.)"""
    inherited = configurable[CONFIG_KEY_CHECKPOINTER]
    if own is False or inherited is None:
        return None
    if own is True:  # one history per thread: the namespace without task ids
        configurable["checkpoint_ns"] = snapshot.thread_ns(
            str(configurable.get("checkpoint_ns", ""))
        )
    return graph._with_allowlist(inherited)


def _check_store(graph: Pregel, configurable: dict[str, Any]) -> None:
    """A run of a graph with a node that requires a store (``Pregel._store_wanted_by``) needs
    one, given to compile or inherited from a parent run."""
    if graph.plan.store is not None or configurable.get(CONFIG_KEY_STORE) is not None:
        return
    raise ValueError(
        f"Node {graph._store_wanted_by!r} asks for a 'store' parameter, but no store was given. "
        "Pass one when compiling, e.g. builder.compile(store=InMemoryStore()) or "
        "@entrypoint(store=InMemoryStore()), or make the parameter optional "
        "(store: BaseStore | None = None)."
    )


def store_wanted_by(injections: dict[str, tuple[Injection, ...]]) -> str | None:
    """The first node whose function requires a ``store`` parameter (None: no node does);
    worked out once per compiled graph (``Pregel._store_wanted_by``)."""
    for name, wanted in injections.items():
        if any(inj.name == "store" and inj.required for inj in wanted):
            return name
    return None


_OPTIONS_KEPT: Final = 32
"""Option sets a compiled graph keeps (``run_options``): a few recur, each run has one."""


def run_options(
    graph: Pregel,
    config: RunnableConfig,
    modes: frozenset[str],
    interrupt_before: Any,
    interrupt_after: Any,
    durability: str | None,
    saver: Any,
    output_keys: Any = None,
    invoked: bool = False,
) -> RunOptions:
    """The run's options, checked: made once per graph for each set of options a call can name
    by a hashable key (no ``interrupt_before``/``interrupt_after`` given, ``output_keys`` none or
    one channel) and shared by the runs that name it, which is safe as ``RunOptions`` is frozen.
    A record is kept only for the plan, saver and ``step_timeout`` it was made for: a graph
    given another checkpointer (or step timeout) makes a new one."""
    limit = config.get("recursion_limit", DEFAULT_RECURSION_LIMIT)
    if durability is not None:
        if saver is None:  # (said on every call)
            warnings.warn(
                "`durability` has no effect when no checkpointer is present.", stacklevel=3
            )
        if durability not in ("sync", "async", "exit"):
            raise ValueError(f"durability must be 'sync', 'async' or 'exit', got {durability!r}")
    key: Any = None
    kept = graph._run_options
    if (
        interrupt_before is None
        and interrupt_after is None
        and (output_keys is None or type(output_keys) is str)
    ):
        key = (modes, modes is INVOKE_MODES, invoked, output_keys, durability, limit, id(saver))
        found = kept.get(key)
        if (
            found is not None
            and found[0] is graph.plan
            and found[1] is saver
            and found[2].step_timeout == graph.step_timeout
        ):
            return found[2]
    options = _options(
        graph, modes, interrupt_before, interrupt_after, durability, saver, output_keys, invoked,
        limit,
    )  # fmt: skip
    if key is not None and (len(kept) < _OPTIONS_KEPT or key in kept):
        kept[key] = (graph.plan, saver, options)
    return options


def _options(
    graph: Pregel,
    modes: frozenset[str],
    interrupt_before: Any,
    interrupt_after: Any,
    durability: str | None,
    saver: Any,
    output_keys: Any,
    invoked: bool,
    limit: Any,
) -> RunOptions:
    plan = graph.plan
    if limit < 1:
        raise ValueError("recursion_limit must be at least 1")
    only_values = modes is INVOKE_MODES  # invoke (and nothing else) passes this very set
    if output_keys is not None:  # values chunks (and invoke's result) read these channels
        _checks.check_output_keys(output_keys, plan)
        keys = output_keys
    elif invoked:  # invoke's chunks (a subgraph's too) read the output channels, as LangGraph's
        keys = graph._invoke_keys
    else:
        keys = plan.stream_channels
    key_set = frozenset([keys] if isinstance(keys, str) else keys)
    projection = Projection.of(modes)
    before = plan.interrupt_before if interrupt_before is None else interrupt_before
    after = plan.interrupt_after if interrupt_after is None else interrupt_after
    durability = durability or "async"
    checkpointing = saver is not None
    return RunOptions(
        modes,
        keys,
        before,
        after,
        durability,
        limit,
        checkpointing,
        checkpointing and saves_steps_at_once(saver),
        final_values_only=only_values,  # it reads only the last values
        step_timeout=graph.step_timeout,
        projection=projection,
        next_version=_int_version if saver is None else _saver_versions(saver),
        stream_key_set=key_set,
        ephemeral_output=not plan.ephemeral.isdisjoint(key_set),
        plain_tick=not (
            (checkpointing and projection.wants("checkpoint"))
            or before
            or projection.wants("task_start")
        ),
        inline_ok=not projection.live
        and graph.step_timeout is None
        and not (plan.is_functional and projection.wants("update")),
        lone_steps=takes_lone_steps(projection, after, durability),
        quiet_outcomes=not (projection.wants("update") or projection.wants("task_end")),
    )


_SERVER_KEYS: Final = frozenset({"assistant_id", "graph_id", "langgraph_auth_user"})
"""The ``configurable`` keys ``server_info_of`` reads."""

_RUN_INFO: Final = ExecutionInfo()
"""The run-wide ``Runtime``'s execution info: never read (each task attempt gets its own,
``TaskRunner.task_runtime``), so one shared record rather than one per run."""


def _int_version(current: Any) -> int:
    """Versions of a run without a saver: plain counters."""
    if current is None:
        return 1
    if type(current) is int:
        return current + 1
    return int(str(current).split(".")[0]) + 1


def run_core(
    graph: Pregel,
    run_input: Any,
    config: RunnableConfig,
    options: RunOptions,
    context: Any,
    saver: Any,
    relay: StreamRelay | None,
    trace: GraphTrace | None,
) -> Generator[Effect, Any, None]:
    """The run's core: load the thread, begin the run of ``graph`` over it with ``run_input``
    and run its loop. ``config`` gets what the run's tasks inherit."""
    saved, head_id = (yield from load_thread(config)) if saver is not None else (None, None)
    configurable: dict[str, Any] = config["configurable"]
    if configurable.get(CONFIG_KEY_RESUMING) and saved is not None:
        run_input = None  # the parent resumes, so does this subgraph
    _checks.check_run_input(graph.plan, run_input, saved, config)
    control = configurable.get(CONFIG_KEY_CONTROL)  # the caller's, else the parent run's
    if not isinstance(control, RunControl):  # else a new one, for the graphs its tasks run
        control = configurable[CONFIG_KEY_CONTROL] = RunControl()
    run = Run(
        graph.plan,
        config,
        options,
        options.next_version,
        saved=saved,
        head_id=head_id,
        ns=str(configurable.get("checkpoint_ns", "")),
    )
    run.control = control
    start = begin(run, run_input)
    box = configurable.get(CONFIG_KEY_RESUME_BOX)
    if box is None:  # our own: emptied when our first step ends (a child's is its parent's)
        box = run.resume_box = _resume_box(run) if run.resume_present else ResumeBox()
    store = graph.plan.store or configurable.get(CONFIG_KEY_STORE)
    if context is None:  # a graph invoked inside a task runs with the task's context
        context = configurable.get(CONFIG_KEY_CONTEXT)
    # what a graph run inside one of our tasks inherits (a subgraph node, or a graph a node
    # function invokes: its config is the task's, see engine/nesting.py)
    configurable[CONFIG_KEY_CHECKPOINTER] = saver
    configurable[CONFIG_KEY_STORE] = store
    configurable[CONFIG_KEY_RESUME_BOX] = box
    configurable[CONFIG_KEY_CONTEXT] = context
    configurable[CONFIG_KEY_DURABILITY] = options.durability  # nodes may read it (LangGraph)
    configurable[CONFIG_KEY_RESUMING] = run.resumed
    if run.replay_from is not None:
        configurable[CONFIG_KEY_REPLAY] = ReplayBound(run.replay_from)
    if relay is not None:
        configurable[CONFIG_KEY_STREAM] = relay
    channel = run.channels.get("__previous__")
    previous = channel.value if channel is not None and channel.is_available() else None
    schema = graph.plan.context_schema
    if (
        isinstance(context, dict)
        and isinstance(schema, type)
        and not issubclass(schema, dict)
        and hasattr(schema, "__annotations__")
    ):
        context = schema(**context)
    runtime = Runtime(
        context=context,
        store=store,
        control=control,
        previous=previous,
        execution_info=_RUN_INFO,
        server_info=(  # (most runs name none of its keys)
            None if _SERVER_KEYS.isdisjoint(configurable) else server_info_of(configurable)
        ),
    )
    runner = TaskRunner(
        channels=run.channels,
        runtime=runtime,
        box=box,
        writer=_no_writer,
        injections=graph.injections,
        thread_id=configurable.get("thread_id"),
        checkpoint_id=run.checkpoint["id"],
        cache=graph.plan.cache,
        cache_policy=graph.plan.cache_policy,
        plain_nodes=graph._plain_nodes if graph.plan.cache is None else frozenset(),
    )
    if trace is not None:  # its tasks are reported as runs below the graph's
        runner.traced = True
        runner.plain_nodes = frozenset()  # each attempt is reported: run_task
        trace.started(run)
    yield from run_loop(run, runner, start, relay)


def _saver_versions(saver: Any) -> Any:
    bundled = getattr(type(saver), "get_next_version", None)
    if bundled is next_string_version or bundled is next_noted_version:
        return bundled  # the bundled savers': called as it is, once a step

    def next_version(current: Any) -> Any:
        return saver.get_next_version(current, None)

    return next_version


def _resume_box(run: Run) -> ResumeBox:
    """The box of a run given ``Command(resume=...)``."""
    value = run.resume_value
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


def _no_writer(_: Any) -> None:
    """Stream writer used when ``custom`` is not streamed."""
