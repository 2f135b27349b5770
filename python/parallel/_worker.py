"""The worker process of the process executor: a Python interpreter that the Rust supervisor
starts and talks to through its stdin and stdout, in the frames of `parallel::plumbing::wire` (their
codec and the messages' layout are `_protocol`'s).

A request holds the pickled function (empty for `par`, whose tasks carry their own), each task's pickled
`(args, kwargs)` and the pickled extras; the worker answers each task with one reply. The loop
over a batch's tasks — unpickle, call, pickle, reply — runs in Rust (`_parallel.Worker`, on the
engine's worker side): the replies go into the control page's reply log (a memory copy) and the
log to the pipe in one write — a millisecond after its oldest reply, when full, and at the end of
each batch — so tiny tasks cost no system call each, and a worker that dies mid-batch loses
nothing already done: the parent reads the replies still in the log once the worker is gone.
The requests are read in Rust too; this module resolves each request's function and extras,
and makes the replies of tasks that fail (`_reply`).

Run with `python -c "from parallel._worker import main; main()"` and PARALLEL_PY_PATH set to
the caller's `sys.path` (os.pathsep-separated).

The parent also shares a control page with the worker (`control.rs` in the crate; its
descriptor in PARALLEL_CONTROL_FD, its layout in `_protocol`): before each task the worker looks whether the parent
stopped its batch (a cancel, or a strict call's failure elsewhere), and a strict call's batch
stops after a failed task; a task that does not start is answered `Skipped`.

What tasks print goes to the parent, which forwards it line by line to its own stdout and
stderr (`output.rs` in the crate): the worker puts the descriptor in PARALLEL_OUTPUT_FD on its
stdout (without one, stdout is its stderr), makes both line-buffered, and flushes them before
a batch's last reply, so a call returns after its tasks' output. Log records go to the parent
too, through the pipe in PARALLEL_LOG_FD (`_logs`).
"""

import os
import pickle
import signal
import sys
import traceback

from ._pickling import describe
from ._protocol import ENTRY_SINGLE, raised_reply, value_reply


def _failure(exc):
    """The reply for a task that raised `exc`: the exception and its traceback, pickled, with
    what the parent needs to rebuild an exception that does not cross (`_pickling`)."""
    tb = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
    from parallel._pickling import exception_payload

    return raised_reply(describe(exc).encode("utf-8", "replace"), exception_payload(exc, tb))


def _unpickle_failed(exc):
    from parallel.exceptions import PicklingError

    error = PicklingError(f"the task's arguments could not be unpickled in the worker: {describe(exc)}")
    error.__cause__ = exc
    return error


def _value_failed(function, exc):
    from parallel.exceptions import PicklingError

    name = getattr(function, "__qualname__", function)
    error = PicklingError(
        f"the value returned by {name!r} cannot be pickled to cross back from the worker process: {describe(exc)}"
    )
    error.__cause__ = exc
    return error


def _reply(stage, obj, function):
    """`(frame, failed)`: the reply of a task that did not go the plain way, as
    `_parallel.Worker.serve` asks for it. `stage` says where it left it: its arguments did not
    unpickle ("unpickle", `obj` the exception), were the placeholder of arguments that did not
    pickle ("unpicklable", `obj` the `_Unpicklable`), it raised ("raised", `obj` the exception),
    or its value `obj` did not pickle ("value", `function` the task's function)."""
    if stage == "raised":
        return _failure(obj), True
    if stage == "unpickle":
        return _failure(_unpickle_failed(obj)), True
    if stage == "unpicklable":
        from parallel.exceptions import PicklingError

        return _failure(PicklingError(obj.message)), True
    try:
        from parallel._pickling import cloud_dumps

        return value_reply(cloud_dumps(obj)), False
    except Exception as exc:
        return _failure(_value_failed(function, exc)), True


def _streams():
    """The tasks' stdout and stderr: the parent's pipes (or the parent's own descriptors), line
    by line; and their log records to the parent."""
    output = os.environ.pop("PARALLEL_OUTPUT_FD", None)
    if output is not None:
        os.dup2(int(output), 1)
        os.close(int(output))
    else:
        os.dup2(2, 1)
    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None:
            reconfigure(line_buffering=True)
    from parallel._logs import install

    install()


def _flush():
    """Before a batch's last reply: what its tasks printed, to the pipes."""
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except Exception:
            pass


class _Unpicklable:
    """Sent in place of a task's arguments that could not be pickled: the task fails in place
    with this message."""

    def __init__(self, message):
        self.message = message


def main():
    from parallel._initializer import Initialized, in_worker_process
    from parallel._parallel import Worker

    in_worker_process()  # one `parallel.worker_state()` for every task of this process

    # Ctrl-C reaches the whole process group: the parent cancels the call and kills workers.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    path = os.environ.pop("PARALLEL_PY_PATH", None)
    if path is not None:
        sys.path[:] = path.split(os.pathsep)
    # The protocol moves off stdin/stdout: what tasks print goes to the parent's pipes, and
    # they read nothing, so neither can corrupt a frame.
    requests, replies = os.dup(0), os.dup(1)
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    os.close(null)
    _streams()
    worker = Worker(requests, replies, _flush)  # takes both descriptors, and the control page
    functions = {}
    last_extras = (b"", None)  # sent with every batch of a call: unpickled once
    while True:
        try:
            request = worker.next_request()
        except OSError as exc:
            sys.exit(f"parallel worker: not a request from the parent: {exc}")
        if request is None:
            return
        entry, extras_bytes, count = request
        try:
            # The entry: `ENTRY_PAR` (each task carries its function), or `ENTRY_ARGS` /
            # `ENTRY_SINGLE` + the pickled function (tasks are `(args, kwargs)` / its one
            # argument).
            function = functions.get(entry)
            if function is None and entry:
                function = functions[entry] = pickle.loads(entry[1:])
                if len(functions) > 16:
                    functions.pop(next(iter(functions)))
            single = entry[:1] == ENTRY_SINGLE
            if extras_bytes != last_extras[0]:
                last_extras = (extras_bytes, pickle.loads(extras_bytes) if extras_bytes else None)
            extras = last_extras[1]
        except BaseException as exc:
            from parallel.exceptions import PicklingError

            error = PicklingError(f"the function could not be unpickled in the worker process: {describe(exc)}")
            worker.answer(_failure(error) * count, count)
            continue
        if isinstance(function, Initialized):
            # The call's initializer, before its tasks begin (their task_timeout counts from
            # `serve`). One that does not return (KeyboardInterrupt, SystemExit) runs again
            # in the first task, which then fails as it would have.
            try:
                function.prepare()
            except BaseException:
                pass
        worker.serve(function, extras or None, single, _Unpicklable, _reply)
