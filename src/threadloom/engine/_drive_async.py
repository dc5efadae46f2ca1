"""How the async driver carries out a core's effects: the text ``_drive_sync.py`` is made from.

``scripts/unasync_engine.py`` writes ``_drive_sync.py`` from this file (``async``/``await`` and
the saver's ``a*`` names dropped) and the test suite checks the two agree, so the sync and the
async driver cannot drift apart. Edit this file, then run the script. What differs between the
drivers for real (threads or asyncio tasks, how a task is waited for) is the ``workers`` object
of ``engine/sync.py`` and ``engine/aio.py``.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Generator
from typing import Any

from threadloom.checkpoint._saver_calls import (
    batch_is_whole,
    path_args,
    step_is_whole,
    steps_are_whole,
    takes_diffs,
)
from threadloom.engine.effects import (
    CancelTasks,
    Effect,
    Emit,
    Flush,
    GetTuple,
    ListTuples,
    NextDone,
    Put,
    PutStep,
    PutWrites,
    PutWritesBatch,
    RunStopped,
    SaverEffect,
    StartTasks,
    StateEffect,
    UserCall,
    Wire,
)

__all__ = ["drive", "result_of", "saver_call"]


async def _put_step_diff(effect: PutStep, saver: Any) -> Any:
    """Save a graph step with a saver that takes diffs (``_saver_calls.takes_diffs``)."""
    if effect.previous is not None:  # the held input checkpoint: saved first
        await _put_step_diff(effect.previous, saver)
    # the effect's fields are the method's arguments, in order (at C speed: no field read)
    return await saver.aput_step_diff(*effect)


async def saver_call(effect: SaverEffect, saver: Any) -> Any:
    """Make the saver call ``effect`` asks for; return what the saver returns."""
    match effect:
        case PutStep() if takes_diffs(saver):  # a graph step's save: first, the most frequent
            return await _put_step_diff(effect, saver)
        case PutWrites(config, writes, task_id, task_path):
            path = path_args(saver.aput_writes, task_path)
            return await saver.aput_writes(config, writes, task_id, *path)
        case PutWritesBatch(config, writes) if batch_is_whole(saver):
            return await saver.aput_writes_batch(config, writes)
        case PutWritesBatch(config, writes):  # an override of aput_writes sees each task
            for task_id, task_path, task_writes in writes:
                path = path_args(saver.aput_writes, task_path)
                await saver.aput_writes(config, task_writes, task_id, *path)
            return None
        case PutStep(previous=None):
            return await _put_step(effect, saver)
        case PutStep(previous=PutStep() as first) if steps_are_whole(saver):
            return await saver.aput_steps([_step_arguments(first), _step_arguments(effect)])
        case PutStep(previous=PutStep() as first):  # two saver calls, each as a step is saved
            await _put_step(first, saver)
            return await _put_step(effect, saver)
        case Put(config, checkpoint, metadata, new_versions):
            return await saver.aput(config, checkpoint, metadata, new_versions)
        case GetTuple(config):
            return await saver.aget_tuple(config)
        case ListTuples(config, filter, before, limit):
            return [t async for t in saver.alist(config, filter=filter, before=before, limit=limit)]


async def _put_step(effect: PutStep, saver: Any) -> Any:
    """One step's save: in one call when the saver allows (``put_step``), else as LangGraph
    saves a step (``put_writes`` per task, then ``put``)."""
    config, writes, checkpoint = effect.config, effect.writes, effect.checkpoint
    metadata, new_versions = effect.metadata, effect.new_versions
    if writes and step_is_whole(saver):
        return await saver.aput_step(config, writes, checkpoint, metadata, new_versions)
    for task_id, task_path, task_writes in writes:
        path = path_args(saver.aput_writes, task_path)
        await saver.aput_writes(config, task_writes, task_id, *path)
    return await saver.aput(config, checkpoint, metadata, new_versions)


def _step_arguments(effect: PutStep) -> tuple[Any, ...]:
    """``put_step``'s arguments for ``effect`` (an item of ``put_steps``)."""
    return (effect.config, effect.writes, effect.checkpoint, effect.metadata, effect.new_versions)


async def result_of(core: Generator[StateEffect, Any, Any], saver: Any) -> Any:
    """Run a core of the state API (saver calls, user code that may be async); return what it
    returns."""
    result: Any = None
    while True:
        try:
            effect = core.send(result)
        except StopIteration as done:
            return done.value
        if type(effect) is UserCall:
            result = await effect.acall(*effect.args)
        else:
            result = await saver_call(effect, saver)  # type: ignore[arg-type]


async def drive(
    core: Generator[Effect, Any, None], saver: Any, workers: Any
) -> AsyncGenerator[tuple[str, Any], None]:
    """Carry out the run loop's effects, yielding ``(mode, payload)`` chunks as they come."""
    result: Any = None
    diffs = takes_diffs(saver)  # asked once: each step of a run saves with a PutStep
    later: Any = None  # a chunk met after the tasks sent back last: streamed before what follows
    try:
        while True:
            try:
                effect = core.send(result)
            except StopIteration:
                return
            result = None
            kind = type(effect)  # the most frequent kinds first
            if kind is StartTasks:  # (a step: one; a chain step also one PutStep)
                result = await workers.start(effect)  # a task run inline, when it finished
            elif kind is PutStep and diffs:
                result = await _put_step_diff(effect, saver)  # type: ignore[arg-type]
            elif kind is NextDone:  # (a batch of finished tasks: one)
                if later is not None:
                    yield later
                    later = None
                if effect.wait:  # type: ignore[union-attr]
                    while (item := await workers.next_event())[0] == "chunk":
                        yield item[1]
                else:  # ("done", None) when no task has finished
                    while (item := workers.ready_event())[0] == "chunk":
                        yield item[1]
                if item[1] is None:
                    result = ()
                else:  # with the tasks that finished right after it: one exchange for all
                    result = [item[1]]
                    while (item := workers.ready_event())[0] == "done" and item[1] is not None:
                        result.append(item[1])
                    if item[0] == "chunk":  # (after the ones sent back: it waits for them)
                        later = item[1]
            elif kind is Emit:
                yield effect.mode, effect.payload  # type: ignore[union-attr]
            elif kind is CancelTasks:
                result = workers.cancel(effect.failed)  # type: ignore[union-attr]
            elif kind is Wire:
                effect.connect(workers.put, workers.save, workers.call)  # type: ignore[union-attr]
            elif kind is Flush:
                if later is not None:
                    yield later
                    later = None
                for chunk in workers.drain():
                    yield chunk
            else:
                result = await saver_call(effect, saver)  # type: ignore[arg-type]
    except workers.stopped:  # the consumer stopped the run: what the loop owes is saved first
        await _save_owed(core, saver)
        raise
    finally:
        await workers.close()


async def _save_owed(core: Generator[Effect, Any, None], saver: Any) -> None:
    """Throw ``RunStopped`` into the loop and carry out the saves it yields before it ends."""
    try:
        effect = core.throw(RunStopped())
        while True:
            effect = core.send(await saver_call(effect, saver))  # type: ignore[arg-type]
    except (RunStopped, StopIteration):
        return
