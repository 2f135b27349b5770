"""The exceptions of `parallel`.

Every exception a task raises reaches the caller unchanged (in silent mode, as the `ex` of
its `FailedTask`); these are the ones `parallel` raises itself.

From a worker process, an exception that cannot be pickled there, or unpickled here, keeps its
type when its class can be imported here: the class is called again with the exception's
arguments when it accepts them, else the exception is an instance of a subclass of it, made
without calling its constructor, with its message, arguments and the attributes that pickled
(a note in its traceback says so). Only when its class cannot be imported here is it a
`BaseParallelException` whose message names the class and says why.
"""

import concurrent.futures
import pickle

__all__ = [
    "BaseParallelException",
    "TimeoutException",
    "WorkerCrashedError",
    "PicklingError",
    "CancelledError",
    "InitializerError",
    "RemoteTraceback",
]


class BaseParallelException(Exception):
    """The base of the exceptions `parallel` raises itself."""


class TimeoutException(BaseParallelException, TimeoutError):
    """A call passed its `timeout` (or a task its `task_timeout`).

    A subclass of the builtin `TimeoutError`, so `except TimeoutError` catches it too. As in
    python-parallel, two of them compare equal whatever their message.
    """

    def __eq__(self, other):
        return type(self) is type(other)

    __hash__ = Exception.__hash__


class WorkerCrashedError(BaseParallelException, RuntimeError):
    """The worker process running a task died (a segfault, `os._exit`, the kernel's OOM
    killer…): only that task fails, and the next task gets a new worker.

    `signal` is the signal that killed the worker, or `None`; `exitcode` its exit code, or
    `None`.
    """

    def __init__(self, message, signal=None, exitcode=None):
        super().__init__(message)
        self.signal = signal
        self.exitcode = exitcode

    def __reduce__(self):
        return (type(self), (self.args[0] if self.args else "", self.signal, self.exitcode))


class PicklingError(BaseParallelException, pickle.PicklingError, TypeError):
    """A function, argument or value could not cross to or from a worker process; the message
    names it and why. Also a `TypeError` and a `pickle.PicklingError`."""


class CancelledError(BaseParallelException, concurrent.futures.CancelledError):
    """The call was cancelled before the task started."""


class InitializerError(BaseParallelException, RuntimeError):
    """A call's `initializer` raised in the worker that was to run the task: the task did not
    run. Every task of the call on that worker fails so, at once (the initializer is not run
    again for the call); the exception it raised is the `__cause__`, with its traceback."""


class RemoteTraceback(Exception):
    """The traceback of an exception raised in a worker process, attached as that exception's
    `__cause__` (as `concurrent.futures` does)."""

    def __init__(self, tb):
        super().__init__(tb)
        self.tb = tb

    def __str__(self):
        return self.tb
