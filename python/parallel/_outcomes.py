"""How a call ended, from the binding's values to the caller's.

The binding's `Call.wait()` gives `(status, values, failures)`: the status a string, each
failure a tuple `(index, kind, message, signal, exitcode, error)`. They are named here, once
(`Status`, `Kind`, `Failure`, `Ended.of`), and `finish` is the one step that turns an ended call
into its results, or raises — for blocking and async calls alike.
"""

import dataclasses
import enum
import pickle
import signal
from typing import NamedTuple

from ._pickling import describe, load_exception
from ._results import DictResult, FailedTask, ListResult
from .exceptions import BaseParallelException, CancelledError, RemoteTraceback, TimeoutException, WorkerCrashedError

__all__ = ["Status", "Kind", "Failure", "Ended", "finish"]


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


@dataclasses.dataclass(frozen=True)
class Failure:
    """A failed task, as the engine reports it. (A dataclass, not a NamedTuple: its `index`
    would shadow the tuple's method.)"""

    index: int
    kind: Kind
    message: str
    signal: object  # int | None
    exitcode: object  # int | None
    error: object  # BaseException | bytes | None

    @classmethod
    def of(cls, failure):
        """From the binding's tuple."""
        index, kind, message, sig, code, error = failure
        return cls(index, Kind(kind), message, sig, code, error)


class Ended(NamedTuple):
    """An ended call: its `Status`, its values (see `Status`) and its `Failure`s."""

    status: Status
    values: object
    failures: list

    @classmethod
    def of(cls, ended):
        """From the binding's `(status, values, failures)`."""
        status, values, failures = ended
        return cls(Status(status), values, [Failure.of(f) for f in failures])


_SIGNALS = {s.value: s.name for s in signal.Signals}


def _exception(failure):
    """The exception a failed task reports."""
    kind, message, sig = failure.kind, failure.message, failure.signal
    if kind is Kind.ERROR:
        error = failure.error
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
    if kind is Kind.TIMED_OUT:
        return TimeoutException(f"the task timed out: {message}")
    if kind is Kind.CRASHED:
        # The engine says how: killed by a signal, exited, or broke the protocol.
        name = f" ({_SIGNALS.get(sig, 'unknown signal')})" if sig is not None and message.endswith(f"signal {sig}") else ""
        return WorkerCrashedError(f"the task crashed: {message}{name}", sig, failure.exitcode)
    if kind is Kind.CANCELLED:
        return CancelledError(message)
    return BaseParallelException(f"parallel: the engine failed the task: {message}")


def _failed_task(failure, keys, tasks):
    _, args, kwargs = tasks[failure.index]
    key = keys[failure.index] if keys is not None else failure.index
    return FailedTask(params=args, kwargs=kwargs, ex=_exception(failure), key=key)


def _assemble(values, failures, keys, tasks, process, cancelled):
    if process:
        values = [pickle.loads(v) if v is not None else None for v in values]
    for failure in failures:
        if cancelled and failure.kind is Kind.CRASHED:
            # Killed by `cancel()`, not by the task.
            failure = Failure(failure.index, Kind.CANCELLED, "the call was cancelled while the task ran", None, None, None)
        values[failure.index] = _failed_task(failure, keys, tasks)
    if keys is None:
        return ListResult(values)
    return DictResult(zip(keys, values))


def finish(ended, keys, tasks, stated_timeout, process, cancelled=False):
    """The results of the call that `ended` (an `Ended`) — a `ListResult`, or a `DictResult`
    by `keys` — with a `FailedTask` in place of each failed task; or, if the call did not end
    with every task's outcome, its first failure, its timeout (`stated_timeout`, as the caller
    wrote it) or its cancellation, raised. `process`: the values are pickled; `cancelled`: the
    call was cancelled, so a task whose worker was killed failed as cancelled."""
    status, values, failures = ended
    if status is Status.DONE:
        return _assemble(values, failures, keys, tasks, process, cancelled)
    if status is Status.FAILED:
        raise _failed_task(failures[0], keys, tasks).ex
    if status is Status.TIMEOUT:
        raise TimeoutException(
            f"the call's timeout of {stated_timeout} s passed with {values} of {len(tasks)} tasks finished"
        )
    raise CancelledError("the call was cancelled")
