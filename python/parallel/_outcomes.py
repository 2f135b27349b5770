"""How a call ended, from the binding's values to the caller's.

The binding's `Call.wait()` gives `(status, values, failures)`: the status a string, each
failure a tuple `(task, kind, message, signal, exitcode, error, attempts)`. They are named here, once
(`Status`, `Kind`, `Failure`, `Ended.of`), and `finish` is the one step that turns an ended call
into its results, or raises — for blocking and async calls alike.
"""

import enum
import signal
from typing import NamedTuple

from ._pickling import describe, load_exception
from ._results import DictResult, FailedTask, ListResult
from .exceptions import BaseParallelException, CancelledError, RemoteTraceback, TimeoutException, WorkerCrashedError

__all__ = ["Status", "Kind", "Failure", "Ended", "finish", "failed_task", "retried"]


class Status(str, enum.Enum):
    """How a call ended (the binding's `Call.wait`)."""

    DONE = "done"  # every task has an outcome: `values` in order, `None` where one failed
    FAILED = "failed"  # strict: a task failed, the first failure is the only one
    TIMEOUT = "timeout"  # strict: the call's deadline passed; `values` is how many finished
    CANCELLED = "cancelled"  # strict: the call was cancelled


class Kind(str, enum.Enum):
    """How a task failed (the engine's `FailureKind`)."""

    ERROR = "error"  # it raised: `error` is the exception (threads) or its pickle (processes)
    PANICKED = "panicked"
    TIMED_OUT = "timed_out"
    CANCELLED = "cancelled"
    CRASHED = "crashed"  # its worker died: `signal` or `exitcode` says how


class Failure(NamedTuple):
    """A failed task, as the engine reports it: `task` is its index, `kind` a `Kind` (or the
    binding's string for it, which compares equal), `error` the exception (threads), its
    pickle (processes) or None.

    The binding's failure tuples have exactly these fields in this order, and are read as they
    come, without turning each into a `Failure` first (a silent call may have many failures,
    and that step alone cost a few percent of such a call): code that takes a failure reads its
    fields through `TASK`, `KIND`, … below, which holds for both."""

    task: int
    kind: Kind
    message: str
    signal: object  # int | None
    exitcode: object  # int | None
    error: object  # BaseException | bytes | None
    attempts: int = 1  # how many times the task ran


# The fields of a failure, by position: a `Failure` or the binding's tuple. A streamed call's
# failures have an eighth, `ITEM`: the task's `(fn, args, kwargs, ...)` as it was read.
TASK, KIND, MESSAGE, SIGNAL, EXITCODE, ERROR, ATTEMPTS, ITEM = range(8)
assert Failure._fields == ("task", "kind", "message", "signal", "exitcode", "error", "attempts")


class Ended(NamedTuple):
    """An ended call: its `Status`, its values (see `Status`) and its failures (each a
    `Failure`, or the binding's tuple of the same fields)."""

    status: Status
    values: object
    failures: list

    @classmethod
    def of(cls, ended):
        """From the binding's `(status, values, failures)`."""
        status, values, failures = ended
        return cls(Status(status), values, failures)


_SIGNALS = {s.value: s.name for s in signal.Signals}

# The kinds as plain strings, compared per failure: a str compares with these at C speed, with
# an enum member through Python code.
_ERROR, _TIMED_OUT, _CRASHED, _CANCELLED = Kind.ERROR.value, Kind.TIMED_OUT.value, Kind.CRASHED.value, Kind.CANCELLED.value


def _exception(failure):
    """The exception a failed task reports."""
    kind, message, sig, code, error = failure[KIND], failure[MESSAGE], failure[SIGNAL], failure[EXITCODE], failure[ERROR]
    if kind == _ERROR:
        if isinstance(error, BaseException):
            return error
        if isinstance(error, bytes):
            try:
                exc, tb = load_exception(error)
            except Exception as failed:
                exc, tb = BaseParallelException(f"{message} (it could not be unpickled: {describe(failed)})"), ""
            if tb:
                exc.__cause__ = RemoteTraceback(tb)
            return exc
        return BaseParallelException(message)
    if kind == _TIMED_OUT:
        return TimeoutException(f"the task timed out: {message}")
    if kind == _CRASHED:
        # The engine says how: killed by a signal, exited, or broke the protocol.
        name = f" ({_SIGNALS.get(sig, 'unknown signal')})" if sig is not None and message.endswith(f"signal {sig}") else ""
        return WorkerCrashedError(f"the task crashed: {message}{name}", sig, code)
    if kind == _CANCELLED:
        return CancelledError(message)
    return BaseParallelException(f"parallel: the engine failed the task: {message}")


def retried(kind, message, sig, code, error, types):
    """`True` if a task that failed so (the engine's fields, as in a failure tuple) raised an
    instance of `types`: the exception the caller would see — a crash is a
    `WorkerCrashedError`, a `task_timeout` a `TimeoutException`. Asked by the engine before it
    runs a failed task again, when the call has `retry_on`."""
    return isinstance(_exception((None, kind, message, sig, code, error)), types)


def failed_task(failure, keys, tasks, cancelled=False):
    """The `FailedTask` of one failure (a binding's tuple), as `finish` makes it."""
    if cancelled and failure[KIND] == _CRASHED:
        failure = _killed_by_cancel(failure)
    return _failed_task(failure, keys, tasks)


def _killed_by_cancel(failure):
    """A task whose worker `cancel()` killed: cancelled, not crashed (its item kept)."""
    message = "the call was cancelled while the task ran"
    return (failure[TASK], Kind.CANCELLED, message, None, None, None, failure[ATTEMPTS], *failure[ITEM:])


def _failed_task(failure, keys, tasks):
    task = failure[TASK]
    if len(failure) > ITEM:
        # A streamed task: its item came back with its failure (`Streamed.reported`).
        args, kwargs = tasks.reported(failure[ITEM])
    else:
        _, args, kwargs = tasks[task]
    key = keys[task] if keys is not None else task
    failed = FailedTask(params=args, kwargs=kwargs, ex=_exception(failure), key=key)
    failed.attempts = failure[ATTEMPTS]
    return failed


def _assemble(values, failures, keys, tasks, cancelled):
    # The binding made the values (unpickled, for processes) in a `ListResult` for a list.
    for failure in failures:
        if cancelled and failure[KIND] == _CRASHED:
            # Killed by `cancel()`, not by the task.
            failure = _killed_by_cancel(failure)
        values[failure[TASK]] = _failed_task(failure, keys, tasks)
    if keys is None:
        return values if type(values) is ListResult else ListResult(values)
    return DictResult(zip(keys, values))


def finish(ended, keys, tasks, stated_timeout, cancelled=False):
    """The results of the call that `ended` (an `Ended`) — a `ListResult`, or a `DictResult`
    by `keys` — with a `FailedTask` in place of each failed task (`tasks`, a `Tasks`, says its
    arguments); or, if the call did not end with every task's outcome, its first failure, its
    timeout (`stated_timeout`, as the caller wrote it) or its cancellation, raised.
    `cancelled`: the call was cancelled, so a task whose worker was killed failed as
    cancelled."""
    status, values, failures = ended
    if status is Status.DONE:
        return _assemble(values, failures, keys, tasks, cancelled)
    if status is Status.FAILED:
        raise _failed_task(failures[0], keys, tasks).ex
    if status is Status.TIMEOUT:
        of = f" of {tasks.count}" if tasks.count is not None else ""
        raise TimeoutException(f"the call's timeout of {stated_timeout} s passed with {values}{of} tasks finished")
    raise CancelledError("the call was cancelled")
