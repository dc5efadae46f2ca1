"""Common mistakes fail or warn with a message that names the fix (issue 7, defects 8-10).

LangGraph is not a test dependency: its objects are stood in for by classes and functions whose
``__module__`` (or module ``__name__``) is LangGraph's, which is all the detection reads (they
live in ``tests/langgraph_standins.py``, shared with ``tests/test_bad_input.py``). A hand
check with the real objects is in the report of the change that added these tests.
"""

from __future__ import annotations

import operator
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any, TypedDict

import pytest
from langgraph_standins import (
    LGCommand,
    LGInMemorySaver,
    LGInMemoryStore,
    LGPostgresSaver,
    LGSend,
    LGSqliteSaver,
    lg_interrupt,
)

from threadloom.checkpoint.memory import InMemorySaver
from threadloom.checkpoint.sqlite import SqliteSaver
from threadloom.checkpoint.sqlite.aio import AsyncSqliteSaver
from threadloom.errors import (
    InvalidBackendError,
    LangGraphObjectError,
    PendingInterruptWarning,
    ThreadloomWarning,
    UnknownStateKeyWarning,
    UnknownStreamModeError,
)
from threadloom.func import entrypoint
from threadloom.graph import END, START, MessagesState, StateGraph
from threadloom.store.memory import InMemoryStore
from threadloom.store.sqlite import SqliteStore
from threadloom.types import Command, Send, interrupt


class LGRedisSaver:
    """Stands in for a LangGraph saver threadloom has no counterpart of."""

    __module__ = "langgraph.checkpoint.redis"
    __qualname__ = "RedisSaver"


# --- graphs --------------------------------------------------------------------------------------


class State(TypedDict):
    messages: Annotated[list[str], operator.add]
    n: int


def cfg(thread: str = "t") -> Any:
    return {"configurable": {"thread_id": thread}}


def one_node(node: Any, *, branch: Any = None, **compile_kwargs: Any) -> Any:
    builder = StateGraph(State)
    builder.add_node("a", node)
    builder.add_node("b", lambda s: {"n": -1})
    builder.add_edge(START, "a")
    if branch is not None:
        builder.add_conditional_edges("a", branch)
    builder.add_edge("b", END)
    return builder.compile(**compile_kwargs)


def count(state: State) -> dict[str, Any]:
    return {"n": state.get("n", 0) + 1}


def asks(state: State) -> dict[str, Any]:
    return {"messages": [interrupt("approve?")]}


@contextmanager
def no_threadloom_warnings() -> Iterator[None]:
    with warnings.catch_warnings():
        warnings.simplefilter("error", ThreadloomWarning)
        yield


# --- LangGraph objects in a threadloom graph -----------------------------------------------------


@pytest.mark.parametrize(
    "returned",
    [LGCommand(update={"n": 5}, goto="b"), [LGCommand(update={"n": 5})]],
    ids=["command", "list-of-commands"],
)
def test_node_returning_a_langgraph_command_names_the_import(returned: Any) -> None:
    graph = one_node(lambda s: returned)
    with pytest.raises(LangGraphObjectError, match=r"from threadloom\.types import Command") as err:
        graph.invoke({"n": 1})
    assert err.value.qualname == "langgraph.types.Command"
    assert isinstance(err.value, TypeError)


def test_threadloom_command_from_a_node_still_works() -> None:
    graph = one_node(lambda s: Command(update={"n": 5}, goto="b"))
    assert graph.invoke({"n": 1}) == {"messages": [], "n": -1}


def test_node_calling_langgraphs_interrupt_names_the_import() -> None:
    graph = one_node(lambda s: {"n": lg_interrupt("approve?")}, checkpointer=InMemorySaver())
    with pytest.raises(
        LangGraphObjectError, match=r"from threadloom\.types import interrupt"
    ) as err:
        graph.invoke({"n": 1}, cfg())
    assert "Node 'a' called interrupt()" in str(err.value)
    assert isinstance(err.value.__cause__, KeyError)


async def test_node_calling_langgraphs_interrupt_names_the_import_async() -> None:
    graph = one_node(lambda s: {"n": lg_interrupt("approve?")}, checkpointer=InMemorySaver())
    with pytest.raises(LangGraphObjectError, match=r"from threadloom\.types import interrupt"):
        await graph.ainvoke({"n": 1}, cfg())


def test_langgraphs_interrupt_in_the_functional_api_names_the_import() -> None:
    from threadloom.func import task

    @task
    def ask(question: str) -> Any:
        return lg_interrupt(question)

    @entrypoint(checkpointer=InMemorySaver())
    def workflow(question: str) -> Any:
        return ask(question).result()

    with pytest.raises(LangGraphObjectError, match=r"from threadloom\.types import interrupt"):
        workflow.invoke("approve?", cfg())


def test_a_keyerror_from_the_users_own_code_is_left_alone() -> None:
    def node(state: State) -> dict[str, Any]:
        return {"n": {}["__pregel_scratchpad"]}

    with pytest.raises(KeyError, match="__pregel_scratchpad"):
        one_node(node).invoke({"n": 1})


def test_a_keyerror_from_a_langgraph_graph_run_as_a_node_is_left_alone() -> None:
    # a LangGraph graph works as a threadloom node (a Runnable); its own failures pass unchanged
    namespace: dict[str, Any] = {"__name__": "langgraph.pregel.main"}
    exec("def invoke(value):\n    return {}['__pregel_checkpointer']\n", namespace)
    with pytest.raises(KeyError, match="__pregel_checkpointer"):
        one_node(namespace["invoke"]).invoke({"n": 1})


def test_branch_returning_a_langgraph_send_names_the_import() -> None:
    graph = one_node(count, branch=lambda s: [LGSend("b", {"n": 3})])
    with pytest.raises(LangGraphObjectError, match=r"from threadloom\.types import Send"):
        graph.invoke({"n": 1})
    graph = one_node(lambda s: Command(goto=LGSend("b", {"n": 3})))  # type: ignore[arg-type]
    with pytest.raises(LangGraphObjectError, match=r"from threadloom\.types import Send"):
        graph.invoke({"n": 1})


def test_threadloom_send_from_a_branch_still_works() -> None:
    graph = one_node(count, branch=lambda s: [Send("b", {"n": 3})])
    assert graph.invoke({"n": 1})["n"] == -1


def test_langgraph_command_as_input_names_the_import() -> None:
    graph = one_node(asks, checkpointer=InMemorySaver())
    graph.invoke({"n": 1}, cfg())
    with pytest.raises(LangGraphObjectError, match=r"from threadloom\.types import Command"):
        graph.invoke(LGCommand(resume="yes"), cfg())
    with pytest.raises(LangGraphObjectError, match=r"from threadloom\.types import Command"):
        graph.update_state(cfg(), LGCommand(update={"n": 2}))


@pytest.mark.parametrize(
    ("kwargs", "fix"),
    [
        (
            {"checkpointer": LGInMemorySaver()},
            "from threadloom.checkpoint.memory import InMemorySaver",
        ),
        ({"store": LGInMemoryStore()}, "from threadloom.store.memory import InMemoryStore"),
        (
            {"checkpointer": LGSqliteSaver.from_conn_string("x.db")},
            "from threadloom.checkpoint.sqlite import SqliteSaver",
        ),
        (
            {"checkpointer": LGPostgresSaver()},
            "from threadloom.checkpoint.postgres import PostgresSaver",
        ),
        ({"checkpointer": LGRedisSaver()}, "threadloom has no counterpart"),
    ],
    ids=["saver", "store", "unopened-sqlite-saver", "postgres-saver", "no-counterpart"],
)
def test_langgraph_saver_or_store_names_the_import(kwargs: dict[str, Any], fix: str) -> None:
    with pytest.raises(LangGraphObjectError, match=fix) as err:
        one_node(count, **kwargs)
    assert str(err.value).startswith("Invalid ")  # LangGraph's own first words, kept
    with pytest.raises(LangGraphObjectError, match=fix):
        entrypoint(**kwargs)(lambda x: x)


def test_unopened_langgraph_saver_also_says_with() -> None:
    with pytest.raises(LangGraphObjectError, match="needs a `with` block"):
        one_node(count, checkpointer=LGSqliteSaver.from_conn_string("x.db"))


# --- checkpointer= / store= that are not savers or stores ----------------------------------------


def test_unopened_from_conn_string_names_the_with_fix(tmp_path: Path) -> None:
    path = str(tmp_path / "t.db")
    with pytest.raises(InvalidBackendError, match="Invalid checkpointer provided") as err:
        one_node(count, checkpointer=SqliteSaver.from_conn_string(path))
    assert err.value.argument == "checkpointer"
    assert (
        f"with SqliteSaver.from_conn_string({path!r}) as saver: "
        "graph = builder.compile(checkpointer=saver)"
    ) in str(err.value)
    with pytest.raises(InvalidBackendError, match=r"`async with` .*AsyncSqliteSaver"):
        one_node(count, checkpointer=AsyncSqliteSaver.from_conn_string(path))
    with pytest.raises(InvalidBackendError, match=r"with SqliteStore.from_conn_string\(.*as store"):
        one_node(count, store=SqliteStore.from_conn_string(path))
    with pytest.raises(InvalidBackendError, match=r"@entrypoint\(checkpointer=saver\)"):
        entrypoint(checkpointer=SqliteSaver.from_conn_string(path))(lambda x: x)


def test_the_with_fix_works(tmp_path: Path) -> None:
    with SqliteSaver.from_conn_string(str(tmp_path / "t.db")) as saver:
        graph = one_node(count, checkpointer=saver)
        assert graph.invoke({"n": 1}, cfg())["n"] == 2


@pytest.mark.parametrize("bad", ["file.db", 3, InMemorySaver], ids=["path", "int", "class"])
def test_other_objects_are_named(bad: Any) -> None:
    with pytest.raises(InvalidBackendError, match=f"Received {type(bad).__name__}: checkpointer"):
        one_node(count, checkpointer=bad)
    with pytest.raises(InvalidBackendError, match=f"Received {type(bad).__name__}: store"):
        one_node(count, store=bad)
    with pytest.raises(TypeError, match="Invalid checkpointer provided"):
        entrypoint(checkpointer=bad)(lambda x: x)


def test_real_savers_and_stores_are_accepted() -> None:
    one_node(count, checkpointer=InMemorySaver(), store=InMemoryStore())
    one_node(count, checkpointer=False)
    entrypoint(checkpointer=InMemorySaver(), store=InMemoryStore())(lambda x: x)


# --- stream modes --------------------------------------------------------------------------------


def test_unknown_stream_mode_lists_the_valid_ones() -> None:
    graph = one_node(count)
    with pytest.raises(UnknownStreamModeError, match="Did you mean 'values'") as err:
        list(graph.stream({"n": 1}, stream_mode="value"))
    assert "'updates'" in str(err.value) and err.value.mode == "value"
    with pytest.raises(UnknownStreamModeError, match="'update'"):
        list(graph.stream({"n": 1}, stream_mode=["values", "update"]))
    with pytest.raises(ValueError, match="Unknown stream_mode 'value'"):
        graph.invoke({"n": 1}, stream_mode="value")


async def test_unknown_stream_mode_async() -> None:
    graph = one_node(count)
    with pytest.raises(UnknownStreamModeError):
        [c async for c in graph.astream({"n": 1}, stream_mode="events")]
    with pytest.raises(UnknownStreamModeError):
        await graph.ainvoke({"n": 1}, stream_mode="events")


def test_every_valid_stream_mode_is_accepted() -> None:
    graph = one_node(count, checkpointer=InMemorySaver())
    modes = ["values", "updates", "custom", "messages", "checkpoints", "tasks", "debug"]
    for mode in modes:
        list(graph.stream({"n": 1}, cfg(mode), stream_mode=mode))
    assert list(graph.stream({"n": 1}, cfg("all"), stream_mode=modes))


# --- keys the schema does not have ---------------------------------------------------------------


def test_unknown_input_key_warns_with_a_close_match() -> None:
    graph = one_node(count)
    with pytest.warns(UnknownStateKeyWarning, match=r"'message' → 'messages'") as record:
        out = graph.invoke({"message": ["hi"], "n": 1})
    assert out == {"messages": [], "n": 2}  # dropped, as in LangGraph
    warning = record[0]
    assert warning.filename == __file__  # points at the caller's line, not at threadloom
    assert isinstance(warning.message, UnknownStateKeyWarning)
    assert warning.message.keys == ("message",)
    assert warning.message.schema_keys == ("messages", "n")


async def test_unknown_input_key_warns_on_stream_and_async() -> None:
    graph = StateGraph(MessagesState)
    graph.add_node("a", lambda s: {})
    graph.add_edge(START, "a")
    compiled = graph.compile()
    with pytest.warns(UnknownStateKeyWarning, match="messages"):
        list(compiled.stream({"message": "hi"}))
    with pytest.warns(UnknownStateKeyWarning, match="messages"):
        await compiled.ainvoke({"message": "hi"})


def test_known_keys_and_subgraph_inputs_do_not_warn() -> None:
    class Sub(TypedDict):
        n: int

    sub = StateGraph(Sub)
    sub.add_node("inc", lambda s: {"n": s["n"] + 10})
    sub.add_edge(START, "inc")
    parent = StateGraph(State)
    parent.add_node("sub", sub.compile())  # receives the parent's state, with "messages"
    parent.add_edge(START, "sub")
    with no_threadloom_warnings():
        assert parent.compile().invoke({"messages": ["x"], "n": 1})["n"] == 11
        assert one_node(count).invoke({"n": 1})["n"] == 2


def test_unknown_update_state_key_warns() -> None:
    graph = one_node(count, checkpointer=InMemorySaver())
    graph.invoke({"n": 1}, cfg())
    with pytest.warns(UnknownStateKeyWarning, match=r"update_state.*'nn' → 'n'") as record:
        graph.update_state(cfg(), {"nn": 5})
    assert record[0].filename == __file__
    assert graph.get_state(cfg()).values["n"] == 2
    with no_threadloom_warnings():
        graph.update_state(cfg(), {"n": 5}, as_node="a")


async def test_unknown_update_state_key_warns_async() -> None:
    graph = one_node(count, checkpointer=InMemorySaver())
    await graph.ainvoke({"n": 1}, cfg())
    with pytest.warns(UnknownStateKeyWarning, match="'nn'"):
        await graph.aupdate_state(cfg(), {"nn": 5})


# --- new input while an interrupt waits ----------------------------------------------------------


def test_new_input_on_a_waiting_thread_warns() -> None:
    graph = one_node(asks, checkpointer=InMemorySaver())
    first = graph.invoke({"n": 1}, cfg())
    pending = first["__interrupt__"][0]
    with pytest.warns(PendingInterruptWarning, match=r"Command\(resume=") as record:
        graph.invoke({"n": 2}, cfg())
    assert record[0].filename == __file__
    assert isinstance(record[0].message, PendingInterruptWarning)
    assert record[0].message.thread_id == "t"
    assert [i.value for i in record[0].message.interrupts] == [pending.value]


async def test_new_input_on_a_waiting_thread_warns_async() -> None:
    graph = one_node(asks, checkpointer=InMemorySaver())
    await graph.ainvoke({"n": 1}, cfg())
    with pytest.warns(PendingInterruptWarning, match="approve"):
        await graph.ainvoke({"n": 2}, cfg())


def test_answers_and_time_travel_do_not_warn() -> None:
    graph = one_node(asks, checkpointer=InMemorySaver())
    graph.invoke({"n": 1}, cfg())
    first = list(graph.get_state_history(cfg()))[-1].config
    with no_threadloom_warnings():
        assert graph.invoke(Command(resume="ok"), cfg())["messages"] == ["ok"]
        graph.invoke({"n": 1}, cfg())  # nothing was pending any more: it waits again
        graph.invoke(None, cfg())  # continue without an answer
        graph.invoke({"n": 5}, first)  # a fork from a named checkpoint is deliberate


# --- top-level config keys -----------------------------------------------------------------------


def test_top_level_thread_id_is_used_and_persisted() -> None:
    graph = one_node(count, checkpointer=InMemorySaver())
    assert graph.invoke({"n": 1}, {"thread_id": "top"})["n"] == 2
    assert graph.get_state(cfg("top")).values["n"] == 2
    assert graph.get_state({"thread_id": "top"}).values["n"] == 2
    assert len(list(graph.get_state_history({"thread_id": "top"}))) == 3
    new = graph.update_state({"thread_id": "top"}, {"n": 7})
    assert new["configurable"]["thread_id"] == "top"
    assert list(graph.stream({"n": 4}, {"thread_id": "top"}))[-1] == {"a": {"n": 5}}
    old = list(graph.get_state_history(cfg("top")))[-1].config["configurable"]["checkpoint_id"]
    by_id = graph.get_state({"thread_id": "top", "checkpoint_id": old})
    assert by_id.config["configurable"]["checkpoint_id"] == old


def test_top_level_keys_win_and_none_is_ignored() -> None:
    graph = one_node(count, checkpointer=InMemorySaver())
    graph.invoke({"n": 1}, {"thread_id": "outer", "configurable": {"thread_id": "inner"}})
    assert graph.get_state(cfg("outer")).values["n"] == 2  # as LangGraph: top level wins
    assert graph.get_state(cfg("inner")).values == {}
    graph.invoke({"n": 1}, {"thread_id": None, "configurable": {"thread_id": "kept"}})
    assert graph.get_state(cfg("kept")).values["n"] == 2


async def test_top_level_thread_id_async() -> None:
    graph = one_node(count, checkpointer=InMemorySaver())
    config: Any = {"thread_id": "atop"}
    await graph.ainvoke({"n": 1}, config)
    assert [c async for c in graph.astream({"n": 4}, config)] == [{"a": {"n": 5}}]
    assert (await graph.aget_state(config)).values["n"] == 5
    await graph.aupdate_state(config, {"n": 9})
    history = [s.values.get("n") async for s in graph.aget_state_history(config)]
    assert history[0] == 9
    assert config == {"thread_id": "atop"}  # the caller's config is not changed


def test_unknown_key_in_a_command_update_warns() -> None:
    graph = one_node(asks, checkpointer=InMemorySaver())
    graph.invoke({"n": 1}, cfg())
    with pytest.warns(UnknownStateKeyWarning, match=r"Command\(update=\.\.\.\).*'nn' → 'n'"):
        graph.invoke(Command(resume="ok", update={"nn": 3}), cfg())


def test_top_level_thread_id_in_with_config() -> None:
    graph = one_node(count, checkpointer=InMemorySaver())
    bound = graph.with_config({"thread_id": "bound"})  # type: ignore[typeddict-unknown-key]
    assert bound.invoke({"n": 1})["n"] == 2
    assert graph.get_state(cfg("bound")).values["n"] == 2
