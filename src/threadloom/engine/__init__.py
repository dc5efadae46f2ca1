"""threadloom.engine: what runs a compiled graph. Which module decides what:

Deciding (no I/O, no waiting)
    ``plan``        what a compiled graph is to the engine: nodes, triggers, channels.
    ``channels``    how each channel kind folds writes into its value.
    ``untracked``   what of a task's writes a checkpoint keeps (never an ``UntrackedValue``'s).
    ``core``        superstep rules: which tasks are due, what their writes do.
    ``checkpoints`` the checkpoint a step leaves (id, timestamp, changed values), and back.
    ``run``         the state of one run and what each stage of a superstep does to it.
    ``options``     what the caller of invoke/stream asked for (``RunOptions``).
    ``begin``       how a run begins: new input, resume or replay.
    ``saves``       what a run owes its saver, and when (the durability rules).
    ``loop``        the order of the stages: one generator of effects (``run_loop``).
    ``lone_step``   the short way to end a step whose only task ran inline and returned.
    ``effects``     the effects a core asks for (run tasks, save a step, read a checkpoint, emit).
    ``projection``  the table from run events to stream chunks, per stream mode.
    ``stream``      payloads of the ``checkpoints``, ``tasks`` and ``debug`` modes.
    ``snapshot``    a checkpoint as a ``StateSnapshot``; ``update_state`` as a superstep (a core).
    ``error_handler`` the task that runs a node's error handler in place of its failed task.
    ``tasks``       one task's attempt: injection, output to writes, the retry decision.
    ``scratch``     the running task's context: config, interrupts and resume answers.
    ``calls``       functional ``@task`` calls: ids, saved results, what a finished call saves
                    and streams (the drivers' workers run them, like the step's tasks).
    ``ids``         deterministic task and interrupt ids.

Waiting (carry out effects, decide nothing)
    ``sync``        threads and blocking saver calls (step tasks and ``@task`` calls).
    ``lane``        the sync driver's job queues, whose workers start one another, and their pool.
    ``aio``         asyncio and the saver's ``a*`` methods (step tasks and ``@task`` calls).
    ``_drive_async`` the effect loop of both drivers; ``_drive_sync`` is generated from it
                    (``scripts/unasync_engine.py``, checked by the test suite).

Facing the user
    ``pregel``      ``Pregel``: invoke, stream, batch, sync and async, over one core per call.
    ``invocation``  one invoke/stream call: its core, its driver, how chunks reach the caller.
    ``call_setup``  how a call becomes a run: config, saver, options, task runner, inheritance.
    ``graph_info``  a compiled graph's attributes, drawing, subgraphs, node cache, with_config.
    ``state_api``   get_state, get_state_history, update_state, each one core for both drivers.
    ``output``      shaping stream chunks and collecting ``invoke``'s result.
    ``messages``    the ``messages`` stream mode (chat-model tokens).
    ``inject``      which keyword arguments a node asks for.
"""
