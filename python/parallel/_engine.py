"""Running tasks on the Rust engine, and turning its outcomes back into Python values.

The thread executor hands the engine the callables themselves; the process executor pickles
them (`_pickling`: cloudpickle for what plain pickle cannot do — lambdas, closures — and for
whatever is defined in `__main__`, which travels by value) and the engine runs them in Python
worker processes it supervises. Scheduling,
timeouts, worker supervision and result assembly are the engine's; this module converts.
"""

import atexit
import enum
import os
import pickle
import signal
import sys

from . import _parallel
from ._options import seconds
from ._pickling import cloud_dumps, describe, dumps, load_exception
from ._protocol import ENTRY_ARGS, ENTRY_PAR, ENTRY_SINGLE
from ._results import DictResult, FailedTask, ListResult
from ._worker import _Unpicklable
from .exceptions import (
    BaseParallelException,
    CancelledError,
    PicklingError,
    RemoteTraceback,
    TimeoutException,
    WorkerCrashedError,
)

__all__ = ["ExecutorStrategy", "THREAD_EXECUTOR", "PROCESS_EXECUTOR", "run", "AsyncCall", "executor_of"]


class ExecutorStrategy(str, enum.Enum):
    """Where tasks run: `THREAD_EXECUTOR` (threads of this process: for I/O and code that
    releases the GIL) or `PROCESS_EXECUTOR` (worker processes: for CPU-bound Python, and for
    code that may crash)."""

    THREAD_EXECUTOR = "thread"
    PROCESS_EXECUTOR = "process"

    def __str__(self):
        return self.value


THREAD_EXECUTOR = ExecutorStrategy.THREAD_EXECUTOR
PROCESS_EXECUTOR = ExecutorStrategy.PROCESS_EXECUTOR


def executor_of(executor):
    """The `ExecutorStrategy` `executor` names."""
    try:
        return ExecutorStrategy(executor)
    except ValueError:
        raise ValueError(
            f"executor must be parallel.THREAD_EXECUTOR or parallel.PROCESS_EXECUTOR, got {executor!r}"
        ) from None


# --- process workers -------------------------------------------------------------------------

_programs = {}

_WORKER_CODE = "from parallel._worker import main; main()"


def _program():
    """The worker program for the caller's interpreter, `sys.path` and working directory:
    workers import the caller's modules as the caller does. Reused while those stay the same."""
    cwd = os.getcwd()
    key = (sys.executable, tuple(sys.path), cwd)
    program = _programs.get(key)
    if program is None:
        path = os.pathsep.join(os.path.abspath(p) if p else cwd for p in sys.path)
        env = [("PARALLEL_PY_PATH", path), ("PYTHONPATH", path)]
        program = _programs[key] = _parallel.Program([sys.executable, "-c", _WORKER_CODE], env, cwd)
    return program


@atexit.register
def _shutdown_workers():
    for program in _programs.values():
        program.kill_workers()


def _name(fn):
    return getattr(fn, "__qualname__", None) or repr(fn)


def _pickle_function(fn):
    try:
        return cloud_dumps(fn)
    except Exception as exc:
        raise PicklingError(
            f"the function {_name(fn)!r} cannot be pickled to run in a worker process ({describe(exc)}); "
            "make what it captures picklable, or use the thread executor"
        ) from exc


def _pickle_task(task, where):
    try:
        return dumps(task)
    except Exception as exc:
        message = f"the arguments of task {where} cannot be pickled to cross to a worker process: {describe(exc)}"
        return pickle.dumps(_Unpicklable(message))


def _own(kwargs, extras):
    """A task's keyword arguments without those it got from `extras` (the worker adds them back)."""
    if not extras or not kwargs:
        return kwargs
    return {k: v for k, v in kwargs.items() if not (k in extras and extras[k] is v)} or None


def _start_processes(tasks, keys, options, silent):
    extras = options.extras
    if extras:
        try:
            extras_bytes = dumps(extras)
        except Exception as exc:
            raise PicklingError(f"the extras cannot be pickled to cross to a worker process: {describe(exc)}") from exc
        tasks = [(fn, args, _own(kwargs, extras)) for fn, args, kwargs in tasks]
    else:
        extras_bytes = b""
    functions = {id(fn) for fn, _, _ in tasks}
    where = (lambda i: repr(keys[i])) if keys is not None else str
    if len(functions) == 1 and all(len(args) == 1 and not kwargs for _, args, kwargs in tasks) and not extras:
        # One function of one argument (the common `map`): each task is just its argument.
        function = ENTRY_SINGLE + _pickle_function(tasks[0][0])
        params = [_pickle_task(args[0], where(i)) for i, (_, args, _) in enumerate(tasks)]
    elif len(functions) == 1:
        function = ENTRY_ARGS + _pickle_function(tasks[0][0])
        params = [_pickle_task((args, kwargs), where(i)) for i, (_, args, kwargs) in enumerate(tasks)]
    else:
        function = ENTRY_PAR  # `par`: each task carries its own function
        params = []
        for i, (fn, args, kwargs) in enumerate(tasks):
            try:
                params.append(cloud_dumps((fn, args, kwargs)))
            except Exception:
                _pickle_function(fn)  # names the function if it is the culprit
                params.append(_pickle_task((fn, args, kwargs), where(i)))
    return _parallel.run_program(_program(), function, extras_bytes, params, silent=silent, **options.for_processes())


# --- outcomes -> Python ----------------------------------------------------------------------

_SIGNALS = {s.value: s.name for s in signal.Signals}


def _exception(kind, message, sig, code, error):
    """The exception a failed task reports."""
    if kind == "error":
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
    if kind == "timed_out":
        return TimeoutException(f"the task timed out: {message}")
    if kind == "crashed":
        # The engine says how: killed by a signal, exited, or broke the protocol.
        name = f" ({_SIGNALS.get(sig, 'unknown signal')})" if sig is not None and message.endswith(f"signal {sig}") else ""
        return WorkerCrashedError(f"the task crashed: {message}{name}", sig, code)
    if kind == "cancelled":
        return CancelledError(message)
    return BaseParallelException(f"parallel: the engine failed the task: {message}")


def _failed_task(failure, keys, tasks):
    index, kind, message, sig, code, error = failure
    _, args, kwargs = tasks[index]
    key = keys[index] if keys is not None else index
    return FailedTask(params=args, kwargs=kwargs, ex=_exception(kind, message, sig, code, error), key=key)


def _assemble(values, failures, keys, tasks, process, cancelled=False):
    if process:
        values = [pickle.loads(v) if v is not None else None for v in values]
    for failure in failures:
        if cancelled and failure[1] == "crashed":
            # Killed by `cancel()`, not by the task.
            failure = (failure[0], "cancelled", "the call was cancelled while the task ran", None, None, None)
        values[failure[0]] = _failed_task(failure, keys, tasks)
    if keys is None:
        return ListResult(values)
    return DictResult(zip(keys, values))


def _raise(status, values, failures, keys, tasks, timeout):
    if status == "failed":
        raise _failed_task(failures[0], keys, tasks).ex
    if status == "timeout":
        raise TimeoutException(
            f"the call's timeout of {timeout} s passed with {values} of {len(tasks)} tasks finished"
        )
    raise CancelledError("the call was cancelled")


# --- calls -----------------------------------------------------------------------------------


def _start(executor, tasks, keys, options, silent):
    silent = bool(silent)  # any truthy value, as in python-parallel
    if executor is PROCESS_EXECUTOR:
        try:
            return _start_processes(tasks, keys, options, silent)
        except PicklingError as exc:
            if not silent:
                raise
            return exc  # every task fails with it
    return _parallel.run_threads(tasks, silent=silent, **options.for_threads())


def _ended_with(exc, tasks):
    return ("done", [None] * len(tasks), [(i, "error", str(exc), None, None, exc) for i in range(len(tasks))])


def run(executor, keys, tasks, options, silent):
    """Runs `tasks` (on `executor`, an `ExecutorStrategy`, with `options`, an `Options`) and
    returns the results, or raises the first failure (not silent)."""
    call = _start(executor, tasks, keys, options, silent)
    if isinstance(call, BaseException):
        status, values, failures = _ended_with(call, tasks)
    else:
        status, values, failures = call.wait()
    if status != "done":
        _raise(status, values, failures, keys, tasks, options.stated_timeout)
    process = executor is PROCESS_EXECUTOR and not isinstance(call, BaseException)
    return _assemble(values, failures, keys, tasks, process)


class AsyncCall:
    """A call already running: what `async_map` and `async_par` return.

    `results(timeout=None)` waits for it (raising `TimeoutException` if it is not done within
    `timeout` seconds — 0 only looks — and the first failure unless the call is silent); `done()` says whether
    it has ended; `cancel()` stops it (tasks not started never run; process workers running
    its tasks are killed); `shutdown(wait=True)` waits for it; as a context manager it is
    waited for on exit.
    """

    def __init__(self, executor, keys, tasks, options, silent):
        self._executor = executor
        self._keys = keys
        self._tasks = tasks
        self._timeout = options.stated_timeout
        self.silent = bool(silent)
        # Always silent in the engine: `results(silent=...)` may still choose.
        self._call = _start(self._executor, tasks, keys, options, True)
        self._pid = os.getpid()  # a forked child has the object, not the call
        self._results = None
        self._cancelled = False

    def done(self):
        """`True` once every task has an outcome."""
        return isinstance(self._call, BaseException) or self._call.done()

    def cancel(self):
        """Stops the call: tasks not started never run."""
        if os.getpid() != self._pid:
            return  # a forked child: the call runs in its parent, which alone may stop it
        if not isinstance(self._call, BaseException) and not self._call.done():
            self._cancelled = True
            self._call.cancel()

    def results(self, timeout=None, silent=None):
        """The results, once every task has ended; see the class documentation."""
        if silent is None:
            silent = self.silent
        timeout = seconds("timeout", timeout, zero=True)  # 0: the results if done, at once
        if self._results is None:
            if isinstance(self._call, BaseException):
                status, values, failures = _ended_with(self._call, self._tasks)
                process = False
            else:
                ended = self._wait(timeout)
                if ended is None:
                    if timeout == 0:
                        raise TimeoutException("the call has not ended yet (results(timeout=0) does not wait)")
                    raise TimeoutException(f"the results were not ready within {timeout} s")
                status, values, failures = ended
                process = self._executor is PROCESS_EXECUTOR
            if status != "done":
                _raise(status, values, failures, self._keys, self._tasks, self._timeout)
            self._results = _assemble(values, failures, self._keys, self._tasks, process, self._cancelled)
        if not silent and self._results.failures:
            failed = self._results.failed
            first = next(iter(failed.values())) if isinstance(failed, dict) else failed[0]
            raise first.ex
        return self._results

    def shutdown(self, wait=True, cancel=False):
        """Ends the call: cancels it if `cancel`, then waits for it if `wait`."""
        if cancel:
            self.cancel()
        if wait and not isinstance(self._call, BaseException):
            self._wait(None)

    def _wait(self, timeout):
        if os.getpid() != self._pid and not self._call.done():
            raise RuntimeError(
                f"this call was started by process {self._pid}, which forked this one: its tasks run "
                "there, and a forked child cannot wait for them; start a new call in the child"
            )
        try:
            return self._call.wait(timeout)
        except BaseException:
            # Ctrl-C (or any exception a signal handler raised) cancelled the call.
            self._cancelled = True
            raise

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.shutdown(wait=exc_info[0] is None, cancel=exc_info[0] is not None)
        return False

    def __repr__(self):
        state = "done" if self.done() else "running"
        return f"<parallel.AsyncCall {self._executor.value}, {len(self._tasks)} tasks, {state}>"
