"""The engine workloads, each written once against a ``Lib`` and timed on both libraries.

A workload is made of parts ("no saver", "InMemorySaver") that fail independently. Building a
part happens outside the clock: it compiles the graph, checks once that the library computes the
right answer (a fast wrong engine must not win) and returns a ``Runner``: one call is one
repetition and returns that part's figures by metric name. Timing policy (warm-up, repetitions,
medians, interleaving the libraries) belongs to run.py.
"""

from __future__ import annotations

import operator
import sqlite3
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from statistics import fmean
from time import perf_counter
from typing import Annotated, Any, Final, TypedDict
from uuid import uuid4

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage
from langchain_core.outputs import ChatGeneration, ChatResult
from libs import Lib

Sample = dict[str, float]
"""One repetition's figures, by metric name."""

Runner = Callable[[bool], Sample]
"""Runs one repetition; ``True`` asks for a (possibly shorter) warm-up run."""

Parts = dict[str, Callable[[], Runner]]
"""Part name -> builds that part's runner; a part that fails to build or run fails alone."""


@dataclass(slots=True, frozen=True)
class Metric:
    """One row of the table."""

    name: str
    unit: str
    part: str = ""
    """The part that produces it; empty means the part named like the metric."""
    target: str = ""
    """What the threadloom figure should meet, in words ("tl <= 0.2 x LG"); empty if none."""
    meets: Callable[[float, float | None], bool] | None = None
    """Checks the target from the threadloom and the LangGraph figure."""

    @property
    def source(self) -> str:
        return self.part or self.name


@dataclass(slots=True, frozen=True)
class Workload:
    name: str
    summary: str
    metrics: tuple[Metric, ...]
    prepare: Callable[[Lib], Parts]
    reps: int
    """Default number of timed repetitions; run.py's --reps overrides it."""


def _thread() -> dict[str, Any]:
    return {"configurable": {"thread_id": uuid4().hex}, "recursion_limit": 10_000}


def _check(what: str, got: object, expected: object) -> None:
    if got != expected:
        raise AssertionError(f"{what}: expected {expected!r}, got {got!r}")


# --- chain100: per-superstep overhead --------------------------------------------------------

CHAIN_LENGTH: Final = 100


class ChainState(TypedDict):
    count: int
    last: str


def _chain_node(n: int) -> Callable[[ChainState], dict[str, Any]]:
    def step(state: ChainState) -> dict[str, Any]:
        return {"count": state["count"] + 1, "last": f"node{n}"}

    return step


def _chain_graph(lib: Lib, checkpointer: Any) -> Any:
    builder = lib.StateGraph(ChainState)
    names = [f"node{n}" for n in range(CHAIN_LENGTH)]
    for n, name in enumerate(names):
        builder.add_node(name, _chain_node(n))
    for a, b in zip([lib.START, *names], [*names, lib.END], strict=True):
        builder.add_edge(a, b)
    return builder.compile(checkpointer=checkpointer)


def _chain_runner(lib: Lib, part: str, checkpointer: Any) -> Runner:
    graph = _chain_graph(lib, checkpointer)
    start = {"count": 0, "last": ""}
    done = {"count": CHAIN_LENGTH, "last": f"node{CHAIN_LENGTH - 1}"}
    _check(f"chain100 {part} result", graph.invoke(start, _thread()), done)

    def run(warmup: bool) -> Sample:
        config = _thread()
        began = perf_counter()
        graph.invoke(start, config)
        return {part: (perf_counter() - began) / CHAIN_LENGTH * 1e6}

    return run


def prepare_chain100(lib: Lib) -> Parts:
    return {
        "no saver": lambda: _chain_runner(lib, "no saver", None),
        "InMemorySaver": lambda: _chain_runner(lib, "InMemorySaver", lib.InMemorySaver()),
    }


# --- chat500: does a turn get slower as the conversation grows? ---------------------------------

CHAT_TURNS: Final = 500
CHAT_WINDOW: Final = 50  # turns averaged at each end of the conversation
CHAT_WARMUP_TURNS: Final = 20


class EchoChatModel(BaseChatModel):
    """A deterministic chat model: it answers the last message, so its cost never grows."""

    @property
    def _llm_type(self) -> str:
        return "threadloom-bench-echo"

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: Any = None,
        **kwargs: Any,
    ) -> ChatResult:
        answer = AIMessage(content=f"echo: {messages[-1].content}")
        return ChatResult(generations=[ChatGeneration(message=answer)])


def prepare_chat500(lib: Lib) -> Parts:
    return {"chat": lambda: _chat_runner(lib)}


def _chat_runner(lib: Lib) -> Runner:
    model = EchoChatModel()

    def chatbot(state: dict[str, Any]) -> dict[str, Any]:
        # A real model reads the whole history; handing over only the last message keeps the
        # model's cost flat, so any growth in the turn time is the engine's and the saver's.
        return {"messages": [model.invoke(state["messages"][-1:])]}

    builder = lib.StateGraph(lib.MessagesState)
    builder.add_node("chatbot", chatbot)
    builder.add_edge(lib.START, "chatbot")
    builder.add_edge("chatbot", lib.END)
    graph = builder.compile(checkpointer=lib.InMemorySaver())

    def chat(turns: int) -> list[float]:
        config = _thread()
        times: list[float] = []
        out: dict[str, Any] = {}
        for turn in range(1, turns + 1):
            began = perf_counter()
            out = graph.invoke({"messages": [("user", f"turn {turn}")]}, config)
            times.append(perf_counter() - began)
        history = out["messages"]
        _check("chat messages", len(history), 2 * turns)
        _check("last answer", history[-1].content, f"echo: turn {turns}")
        _check("message kinds", {type(m) for m in history}, {HumanMessage, AIMessage})
        return times

    def run(warmup: bool) -> Sample:
        if warmup:
            chat(CHAT_WARMUP_TURNS)
            return {}
        times = chat(CHAT_TURNS)
        early = fmean(times[:CHAT_WINDOW]) * 1e3
        late = fmean(times[-CHAT_WINDOW:]) * 1e3
        return {"turns 1-50": early, "turns 451-500": late, "late / early": late / early}

    return run


# --- send200: a wide Send fan-out ------------------------------------------------------------

FANOUT: Final = 200


class FanState(TypedDict):
    items: list[int]
    results: Annotated[list[int], operator.add]


class WorkerInput(TypedDict):
    item: int


def _fan_out(lib: Lib) -> Callable[[FanState], list[Any]]:
    send = lib.Send  # looked up once, as a module-level import would be (not 200 times a run)

    def fan_out(state: FanState) -> list[Any]:
        return [send("worker", {"item": item}) for item in state["items"]]

    return fan_out


def _worker(state: WorkerInput) -> dict[str, Any]:
    return {"results": [state["item"] * 2]}


def _fan_graph(lib: Lib, checkpointer: Any) -> Any:
    builder = lib.StateGraph(FanState)
    builder.add_node("worker", _worker)
    builder.add_conditional_edges(lib.START, _fan_out(lib), ["worker"])
    builder.add_edge("worker", lib.END)
    return builder.compile(checkpointer=checkpointer)


def _fan_runner(lib: Lib, part: str, checkpointer: Any) -> Runner:
    graph = _fan_graph(lib, checkpointer)
    start = {"items": list(range(FANOUT)), "results": []}
    out = graph.invoke(start, _thread())
    _check(f"send200 {part} results", sorted(out["results"]), [2 * n for n in range(FANOUT)])

    def run(warmup: bool) -> Sample:
        config = _thread()
        began = perf_counter()
        graph.invoke(start, config)
        return {part: (perf_counter() - began) * 1e3}

    return run


def prepare_send200(lib: Lib) -> Parts:
    return {
        "no saver": lambda: _fan_runner(lib, "no saver", None),
        "InMemorySaver": lambda: _fan_runner(lib, "InMemorySaver", lib.InMemorySaver()),
    }


# --- func20: a functional entrypoint that fans out to 20 @task calls ---------------------------

FUNC_TASKS: Final = 20


def _func_runner(lib: Lib) -> Runner:
    @lib.task
    def double(n: int) -> int:
        return 2 * n

    @lib.entrypoint(checkpointer=lib.InMemorySaver())
    def workflow(count: int) -> list[int]:
        futures = [double(n) for n in range(count)]
        return [f.result() for f in futures]

    out = workflow.invoke(FUNC_TASKS, _thread())
    _check("func20 results", out, [2 * n for n in range(FUNC_TASKS)])

    def run(warmup: bool) -> Sample:
        config = _thread()
        began = perf_counter()
        workflow.invoke(FUNC_TASKS, config)
        return {"InMemorySaver": (perf_counter() - began) * 1e3}

    return run


def prepare_func20(lib: Lib) -> Parts:
    return {"InMemorySaver": lambda: _func_runner(lib)}


# --- reducer1000: add_messages alone on a long history -----------------------------------------

HISTORY: Final = 1000
CALLS: Final = 200


def prepare_reducer1000(lib: Lib) -> Parts:
    return {"reducer": lambda: _reducer_runner(lib)}


def _reducer_runner(lib: Lib) -> Runner:
    add_messages = lib.add_messages
    history = add_messages(
        [],
        [
            (HumanMessage if n % 2 == 0 else AIMessage)(f"message {n}", id=f"m{n}")
            for n in range(HISTORY)
        ],
    )
    _check("history length", len(history), HISTORY)
    _check("edit in place", add_messages(history, [AIMessage("x", id="m5")])[5].content, "x")

    def run(warmup: bool) -> Sample:
        # A new user turn arrives without an id; a model's answer usually carries its own.
        tuples = [("user", f"hi {n}") for n in range(CALLS)]
        answers = [AIMessage(f"answer {n}", id=f"run-{n}") for n in range(CALLS)]
        began = perf_counter()
        for item in tuples:
            add_messages(history, [item])
        middle = perf_counter()
        for answer in answers:
            add_messages(history, [answer])
        end = perf_counter()
        return {
            "new tuple": (middle - began) / CALLS * 1e6,
            "message with id": (end - middle) / CALLS * 1e6,
        }

    return run


# --- sqlchat500 and history500: a long chat on SQLite, and walking its history -------------

HISTORY_TURNS: Final = 500


def _chat_graph(lib: Lib, checkpointer: Any) -> Any:
    model = EchoChatModel()

    def chatbot(state: dict[str, Any]) -> dict[str, Any]:
        return {"messages": [model.invoke(state["messages"][-1:])]}

    builder = lib.StateGraph(lib.MessagesState)
    builder.add_node("chatbot", chatbot)
    builder.add_edge(lib.START, "chatbot")
    builder.add_edge("chatbot", lib.END)
    return builder.compile(checkpointer=checkpointer)


def _sqlite_saver(lib: Lib, path: Path) -> Any:
    conn = sqlite3.connect(path, check_same_thread=False)
    return lib.SqliteSaver(conn)


def _db_bytes(path: Path) -> int:
    """The database file with its WAL and shared-memory files, as they are on disk."""
    return sum(p.stat().st_size for p in path.parent.glob(path.name + "*"))


def _talk(graph: Any, config: Any, turns: int) -> list[float]:
    times = []
    out: dict[str, Any] = {}
    for turn in range(1, turns + 1):
        began = perf_counter()
        out = graph.invoke({"messages": [("user", f"turn {turn}")]}, config)
        times.append(perf_counter() - began)
    _check("chat messages", len(out["messages"]), 2 * turns)
    _check("last answer", out["messages"][-1].content, f"echo: turn {turns}")
    return times


def prepare_sqlchat500(lib: Lib) -> Parts:
    return {"chat": lambda: _sqlite_chat_runner(lib)}


def _sqlite_chat_runner(lib: Lib) -> Runner:
    def run(warmup: bool) -> Sample:
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "chat.sqlite"
            saver = _sqlite_saver(lib, path)
            graph = _chat_graph(lib, saver)
            turns = CHAT_WARMUP_TURNS if warmup else HISTORY_TURNS
            times = _talk(graph, _thread(), turns)
            size = _db_bytes(path)
            saver.conn.close()
        early = fmean(times[:CHAT_WINDOW]) * 1e3
        late = fmean(times[-CHAT_WINDOW:]) * 1e3
        return {"turns 1-50": early, "turns 451-500": late, "file": size / 1e6}

    return run


# --- storeput: InMemoryStore single puts ------------------------------------------------------

STORE_PUTS: Final = 20_000
STORE_NAMESPACES: Final = 100


def prepare_storeput(lib: Lib) -> Parts:
    return {"InMemoryStore": lambda: _store_runner(lib)}


def _store_runner(lib: Lib) -> Runner:
    namespaces = [("memories", str(i % STORE_NAMESPACES)) for i in range(STORE_PUTS)]
    keys = [str(i) for i in range(STORE_PUTS)]
    values = [{"text": f"doc {i}", "n": i} for i in range(STORE_PUTS)]
    check = lib.InMemoryStore()
    check.put(namespaces[7], keys[7], values[7])
    item = check.get(namespaces[7], keys[7])
    _check("storeput value", item.value if item else None, values[7])

    def run(warmup: bool) -> Sample:
        store = lib.InMemoryStore()  # a fresh store: half the puts make a namespace's items
        put = store.put
        began = perf_counter()
        for ns, key, value in zip(namespaces, keys, values, strict=True):
            put(ns, key, value)
        return {"InMemoryStore": STORE_PUTS / (perf_counter() - began) / 1e3}

    return run


def prepare_history500(lib: Lib) -> Parts:
    return {
        "InMemorySaver": lambda: _history_runner(
            lib, "InMemorySaver", lambda _path: lib.InMemorySaver()
        ),
        "SqliteSaver": lambda: _history_runner(
            lib, "SqliteSaver", lambda path: _sqlite_saver(lib, path)
        ),
    }


def _history_runner(lib: Lib, part: str, make_saver: Callable[[Path], Any]) -> Runner:
    """A 500-turn chat built once (outside the clock); each repetition walks its history as a
    user browsing it does: ids, metadata, ``next``, ``created_at`` and ``tasks``."""
    folder = tempfile.mkdtemp()  # lives as long as the process: the runner keeps its saver
    graph = _chat_graph(lib, make_saver(Path(folder) / "history.sqlite"))
    config = _thread()
    _talk(graph, config, HISTORY_TURNS)
    newest = next(iter(graph.get_state_history(config)))
    _check("newest snapshot", len(newest.values["messages"]), 2 * HISTORY_TURNS)

    def run(warmup: bool) -> Sample:
        began = perf_counter()
        seen = [
            (s.config["configurable"]["checkpoint_id"], s.metadata, s.next, s.created_at, s.tasks)
            for s in graph.get_state_history(config)
        ]
        took = perf_counter() - began
        _check("checkpoints walked", len(seen), 3 * HISTORY_TURNS)
        return {part: took}

    return run


# --- list10k: one append per step to a 10,000-entry list channel --------------------------------

LIST_SIZE: Final = 10_000
LIST_STEPS: Final = 100


class ListState(TypedDict):
    items: Annotated[list[str], operator.add]
    n: int


def prepare_list10k(lib: Lib) -> Parts:
    return {"InMemorySaver": lambda: _list_runner(lib)}


def _list_runner(lib: Lib) -> Runner:
    def step(state: ListState) -> dict[str, Any]:
        return {"items": [f"item {state['n']}"], "n": state["n"] + 1}

    def more(state: ListState) -> str:
        return "step" if state["n"] < LIST_STEPS else lib.END

    builder = lib.StateGraph(ListState)
    builder.add_node("step", step)
    builder.add_edge(lib.START, "step")
    builder.add_conditional_edges("step", more)
    graph = builder.compile(checkpointer=lib.InMemorySaver())
    start = {"items": [f"seed {i}" for i in range(LIST_SIZE)], "n": 0}
    out = graph.invoke(start, _thread())
    _check("list10k length", len(out["items"]), LIST_SIZE + LIST_STEPS)

    def run(warmup: bool) -> Sample:
        config = _thread()
        began = perf_counter()
        graph.invoke(start, config)
        return {"InMemorySaver": (perf_counter() - began) / LIST_STEPS * 1e6}

    return run


# --- coldread: a long chat read by a saver that holds nothing (coldread.py) ----------------


def prepare_coldread(lib: Lib) -> Parts:
    from coldread import prepare_coldread as prepare

    return prepare(lib)


def _cold_metrics() -> tuple[Metric, ...]:
    return tuple(
        Metric(f"{backend} {what}", "ms", saver, *target)
        for backend, saver in (("SQLite", "SqliteSaver"), ("Postgres", "PostgresSaver"))
        for what, target in (
            ("get_state", ("tl <= LG", _at_most(1.0))),
            ("next turn", ()),
            ("history 10", ()),
        )
    )


# --- the registry --------------------------------------------------------------------------


def _at_most(fraction: float) -> Callable[[float, float | None], bool]:
    return lambda tl, lg: lg is not None and tl <= fraction * lg


WORKLOADS: Final[dict[str, Workload]] = {
    w.name: w
    for w in (
        Workload(
            "chain100",
            "100-node chain, one invoke per repetition on a fresh thread",
            (
                Metric("no saver", "µs/step"),
                Metric("InMemorySaver", "µs/step", "", "tl <= 0.1 x LG", _at_most(0.1)),
            ),
            prepare_chain100,
            reps=7,
        ),
        Workload(
            "chat500",
            "500 turns on one thread, StateGraph(MessagesState) + InMemorySaver",
            (
                Metric("turns 1-50", "ms/turn", "chat"),
                Metric("turns 451-500", "ms/turn", "chat"),
                Metric("late / early", "x", "chat", "tl <= 1.5", lambda tl, lg: tl <= 1.5),
            ),
            prepare_chat500,
            reps=3,
        ),
        Workload(
            "send200",
            "200 Sends from START to a worker, results joined with operator.add",
            (
                Metric("no saver", "ms/invoke"),
                Metric("InMemorySaver", "ms/invoke", "", "tl <= LG / 15", _at_most(1 / 15)),
            ),
            prepare_send200,
            reps=7,
        ),
        Workload(
            "func20",
            "@entrypoint calling 20 @task functions at once, InMemorySaver",
            (Metric("InMemorySaver", "ms/invoke", "", "tl <= LG / 15", _at_most(1 / 15)),),
            prepare_func20,
            reps=7,
        ),
        Workload(
            "reducer1000",
            "add_messages on a 1000-message history, one new message per call",
            (
                Metric("new tuple", "µs/call", "reducer"),
                Metric("message with id", "µs/call", "reducer"),
            ),
            prepare_reducer1000,
            reps=7,
        ),
        Workload(
            "sqlchat500",
            "chat500 on a SqliteSaver file (WAL), fresh file per repetition",
            (
                Metric("turns 1-50", "ms/turn", "chat", "tl <= 0.2 x LG", _at_most(0.2)),
                Metric("turns 451-500", "ms/turn", "chat", "tl <= 1/30 x LG", _at_most(1 / 30)),
                Metric("file", "MB", "chat", "tl <= 3 MB", lambda tl, lg: tl <= 3),
            ),
            prepare_sqlchat500,
            reps=3,
        ),
        Workload(
            "history500",
            "get_state_history of a 500-turn chat (1,500 checkpoints), reading ids and metadata",
            (
                Metric("InMemorySaver", "s/walk", "", "tl <= 1/50 x LG", _at_most(1 / 50)),
                Metric("SqliteSaver", "s/walk", "", "tl <= 1/50 x LG", _at_most(1 / 50)),
            ),
            prepare_history500,
            reps=3,
        ),
        Workload(
            "storeput",
            "InMemoryStore.put of 20,000 small dicts into 100 namespaces, one call each",
            (
                Metric(
                    "InMemoryStore",
                    "k puts/s",
                    "",
                    "tl >= LG",
                    lambda tl, lg: lg is not None and tl >= lg,
                ),
            ),
            prepare_storeput,
            reps=7,
        ),
        Workload(
            "list10k",
            "one append per step to a 10,000-entry operator.add list, InMemorySaver",
            (Metric("InMemorySaver", "µs/step"),),
            prepare_list10k,
            reps=5,
        ),
        Workload(
            "coldread",
            "a 1,000-turn chat read by a fresh saver: get_state, the next turn, 10 of history",
            _cold_metrics(),
            prepare_coldread,
            reps=3,
        ),
    )
}
