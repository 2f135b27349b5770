"""Running tasks on the Rust engine: starting a call on either executor, waiting for it
(blocking, or as an `AsyncCall`), and handing how it ended to `_outcomes.finish`.

The thread executor hands the engine the callables themselves; the process executor pickles
them (`_pickling`: cloudpickle for what plain pickle cannot do — lambdas, closures — and for
whatever is defined in `__main__`, which travels by value) and the engine runs them in Python
worker processes it supervises. Scheduling,
timeouts, worker supervision and result assembly are the engine's; this module converts.

A call of one function (`Tasks` of shape `SINGLE` or `SPREAD`) hands the binding its parameters
as they are: the binding calls the function with each (threads), or pickles them all in one
loop (processes: `_parallel.pickle_params`, with `_pickle_task` for what plain pickle must not
do), and unpickles the values straight into the result list.
"""

import atexit
import enum
import os
import pickle
import sys

from . import _logs, _parallel
from ._initializer import initialize
from ._options import seconds
from ._outcomes import Ended, Failure, Kind, Status, failed_task, finish
from ._pickling import PROTOCOL, cloud_dumps, describe, dumps
from ._progress import EVERY, Background, Progress, watcher
from ._protocol import ENTRY_ARGS, ENTRY_PAR, ENTRY_SINGLE
from ._results import ListResult
from ._tasks import EACH, SINGLE, STREAM
from ._worker import _Unpicklable
from .exceptions import PicklingError, TimeoutException

__all__ = [
    "ExecutorStrategy",
    "THREAD_EXECUTOR",
    "PROCESS_EXECUTOR",
    "DASK_EXECUTOR",
    "RAY_EXECUTOR",
    "run",
    "AsyncCall",
    "executor_of",
    "plug",
]


class ExecutorStrategy(str, enum.Enum):
    """Where tasks run: `THREAD_EXECUTOR` (threads of this process: for I/O and code that
    releases the GIL), `PROCESS_EXECUTOR` (worker processes: for CPU-bound Python, and for
    code that may crash), `DASK_EXECUTOR` (a Dask cluster) or `RAY_EXECUTOR` (a Ray cluster):
    on a cluster, batches of tasks each run in worker processes of the machine that takes it."""

    THREAD_EXECUTOR = "thread"
    PROCESS_EXECUTOR = "process"
    DASK_EXECUTOR = "dask"
    RAY_EXECUTOR = "ray"

    def __str__(self):
        return self.value


THREAD_EXECUTOR = ExecutorStrategy.THREAD_EXECUTOR
"""Threads of this process (the default): for I/O, code that releases the GIL, and cheap tasks.
The engine's pool bounds each call to `max_workers` threads (default min(32, cores + 4))."""
PROCESS_EXECUTOR = ExecutorStrategy.PROCESS_EXECUTOR
"""Worker processes of this machine (default one per core): for CPU-bound Python, and for code
that may crash, hang or leak: a task that crashes its worker or passes its `task_timeout` fails
alone, and its worker is replaced."""
DASK_EXECUTOR = ExecutorStrategy.DASK_EXECUTOR
"""A Dask cluster (`client=`, or the current `distributed` client): batches of tasks, each run
in worker processes of the machine that takes it (the extra `parallel-rs[dask]`)."""
RAY_EXECUTOR = ExecutorStrategy.RAY_EXECUTOR
"""A Ray cluster (the connected Ray, or `ray.init()`'s own): batches of tasks, each run in
worker processes of the machine that takes it (the extra `parallel-rs[ray]`)."""


def executor_of(executor):
    """The `ExecutorStrategy` `executor` names."""
    try:
        return ExecutorStrategy(executor)
    except ValueError:
        raise ValueError(
            "executor must be parallel.THREAD_EXECUTOR, parallel.PROCESS_EXECUTOR, parallel.DASK_EXECUTOR "
            f"or parallel.RAY_EXECUTOR, got {executor!r}"
        ) from None


# --- process workers -------------------------------------------------------------------------

_programs = {}

_WORKER_CODE = "from parallel._worker import main; main()"


def _program():
    """The worker program for the caller's interpreter, `sys.path`, working directory and
    logging levels: workers import the caller's modules as the caller does, and send it the
    log records it would handle (`_logs`). Reused while those stay the same."""
    cwd = os.getcwd()
    levels = _logs.levels()
    key = (sys.executable, tuple(sys.path), cwd, levels)
    program = _programs.get(key)
    if program is None:
        path = os.pathsep.join(os.path.abspath(p) if p else cwd for p in sys.path)
        env = [("PARALLEL_PY_PATH", path), ("PYTHONPATH", path), (_logs.LEVELS_ENV, levels)]
        program = _programs[key] = _parallel.Program(
            [sys.executable, "-c", _WORKER_CODE], env, cwd, logs=_logs.handle
        )
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


# How `_parallel.pickle_params` wraps each parameter: itself, `((param,), None)`,
# `(tuple(param), None)`.
_ITEM, _ONE, _SPREAD = 0, 1, 2


def _pickle_params(objs, wrap, keys, lazy=False):
    """Each of `objs` pickled (in Rust for plain values, else by pickle in one loop there) as
    `wrap` says; one that does not pickle plainly, or names `__main__`, by `_pickle_task`.
    `lazy`: pickled later, by `run_program`, while the call's first tasks run."""
    where = (lambda i: repr(keys[i])) if keys is not None else str
    return _parallel.pickle_params(objs, wrap, pickle.dumps, PROTOCOL, lambda i, obj: _pickle_task(obj, where(i)), lazy=lazy)


def _start_processes(tasks, keys, options, silent):
    extras = options.extras
    if extras:
        try:
            extras_bytes = dumps(extras)
        except Exception as exc:
            raise PicklingError(f"the extras cannot be pickled to cross to a worker process: {describe(exc)}") from exc
    else:
        extras_bytes = b""
    into = ListResult if keys is None else None
    if tasks.shape is STREAM:
        # Read, pickled and sent as the workers take them; the worker adds the extras.
        function = ENTRY_ARGS + _pickle_function(tasks.fn)
        return _parallel.run_program_streamed(
            _program(),
            function,
            extras_bytes,
            tasks.items,
            tasks.special,
            tasks.quad_of,
            pickle.dumps,
            PROTOCOL,
            lambda i, obj: _pickle_task(obj, str(i)),
            silent=silent,
            loads=pickle.loads,
            into=into,
            **options.for_processes(),
        )
    if not len(tasks):
        params, function = [], ENTRY_PAR  # nothing runs: the function need not pickle
    elif tasks.shape is not EACH:
        # One function: each task is its argument (`ENTRY_SINGLE`), or its arguments with no
        # keyword arguments of its own (the worker adds the extras).
        if tasks.shape is SINGLE and not extras:
            function, wrap = ENTRY_SINGLE + _pickle_function(tasks.fn), _ITEM
        else:
            function, wrap = ENTRY_ARGS + _pickle_function(tasks.fn), _ONE if tasks.shape is SINGLE else _SPREAD
        # Pickled by the call itself, run after run, while its first tasks run.
        params = _pickle_params(tasks.items, wrap, keys, lazy=True)
    else:
        params, function = _pickle_each(tasks.items, keys, extras)
    return _parallel.run_program(
        _program(), function, extras_bytes, params, silent=silent, loads=pickle.loads, into=into, **options.for_processes()
    )


def _pickle_each(tasks, keys, extras):
    """`(params, function)` for tasks given as triples."""
    if extras:
        tasks = [(fn, args, _own(kwargs, extras)) for fn, args, kwargs in tasks]
    functions = {id(fn) for fn, _, _ in tasks}
    if len(functions) == 1 and all(len(args) == 1 and not kwargs for _, args, kwargs in tasks) and not extras:
        # One function of one argument (the common `map`): each task is just its argument.
        function = ENTRY_SINGLE + _pickle_function(tasks[0][0])
        return _pickle_params([args[0] for _, args, _ in tasks], _ITEM, keys), function
    if len(functions) == 1:
        function = ENTRY_ARGS + _pickle_function(tasks[0][0])
        return _pickle_params([(args, kwargs) for _, args, kwargs in tasks], _ITEM, keys), function
    where = (lambda i: repr(keys[i])) if keys is not None else str
    params = []
    for i, (fn, args, kwargs) in enumerate(tasks):  # `par`: each task carries its own function
        try:
            params.append(cloud_dumps((fn, args, kwargs)))
        except Exception:
            _pickle_function(fn)  # names the function if it is the culprit
            params.append(_pickle_task((fn, args, kwargs), where(i)))
    return params, ENTRY_PAR


def _start_threads(tasks, keys, options, silent):
    into = ListResult if keys is None else None
    if tasks.shape is STREAM:
        kwargs = dict(tasks.extras) if tasks.extras else None
        return _parallel.run_threads_streamed(
            tasks.items, tasks.fn, kwargs, tasks.special, tasks.task_of, silent=silent, into=into, **options.for_threads()
        )
    if tasks.shape is EACH:
        return _parallel.run_threads(tasks.items, silent=silent, into=into, **options.for_threads())
    return _parallel.run_threads(
        tasks.items,
        silent=silent,
        function=tasks.fn,
        spread=tasks.shape is not SINGLE,
        kwargs=tasks.extras or None,
        into=into,
        **options.for_threads(),
    )


# --- executors plugged in from modules of their own --------------------------------------

# `executor -> start(tasks, keys, options, silent)`, which returns the binding's running call:
# the cluster executors (`_dask`, `_ray`), which register themselves here (`plug`). They take
# a streamed input read to its end.
_PLUGGED = {}


def plug(executor, start):
    """Runs the calls on `executor` with `start(tasks, keys, options, silent)`."""
    _PLUGGED[executor] = start


def _readable(executor, tasks, options):
    """`tasks` as `executor` takes them: a plugged executor reads a streamed input to its end
    first. `client=` is for the Dask executor only."""
    if options.client is not None and executor is not DASK_EXECUTOR:
        raise ValueError(f"client= is the Dask executor's cluster; this call runs on the {executor.value} executor")
    if executor in _PLUGGED and tasks.shape is STREAM:
        return tasks.read_as_tasks()
    return tasks


# --- calls -----------------------------------------------------------------------------------


class _Running:
    """A call the binding runs: its `Call`, whose ended values `wait` names (`Ended`)."""

    __slots__ = ("_call",)

    def __init__(self, call):
        self._call = call

    def done(self):
        return self._call.done()

    def cancel(self):
        self._call.cancel()

    def wait(self, timeout=None):
        """The `Ended` call, or None if `timeout` (seconds) passed first."""
        ended = self._call.wait(timeout)
        return Ended.of(ended) if ended is not None else None

    def join(self, timeout=None):
        """Waits for the call to end, without taking its values; True once it has."""
        return self._call.join(timeout)

    def progress(self):
        return Progress(*self._call.progress())

    def next_outcomes(self, timeout):
        """The outcomes that arrived since the last look, `(index, ok, value or failure)`
        each, waiting up to `timeout` s for the first; None once every one was handed out."""
        return self._call.next_outcomes(timeout)

    def unpace(self):
        """The call no longer waits for `next_outcomes` to take its outcomes."""
        self._call.unpace()


class _FailedStart:
    """A call that could not start (a silent process call whose function does not pickle):
    it has ended, every task failed with `error`."""

    __slots__ = ("error", "_tasks", "_items", "_handed_out")

    def __init__(self, error, tasks):
        self.error = error
        # A streamed input is read to its end: each of its tasks fails, with its arguments.
        self._items = tasks.read_all() if tasks.shape is STREAM else None
        self._tasks = self._items if self._items is not None else tasks
        self._handed_out = False

    def done(self):
        return True

    def cancel(self):
        pass

    def join(self, timeout=None):
        return True

    def wait(self, timeout=None):
        n = len(self._tasks)
        return Ended(Status.DONE, [None] * n, self._failures())

    def _failures(self):
        exc = self.error
        if self._items is not None:
            return [(i, Kind.ERROR, str(exc), None, None, exc, 1, item) for i, item in enumerate(self._items)]
        return [Failure(i, Kind.ERROR, str(exc), None, None, exc) for i in range(len(self._tasks))]

    def progress(self):
        n = len(self._tasks)
        return Progress(n, n, n)

    def next_outcomes(self, timeout):
        if self._handed_out:
            return None
        self._handed_out = True
        return [(f.task, False, f) for f in self._failures()] or None

    def unpace(self):
        pass


def _start(executor, tasks, keys, options, silent):
    silent = bool(silent)  # any truthy value, as in python-parallel
    # Each task function runs the initializer first in a worker that has not run it.
    tasks = initialize(tasks, options.initializer, options.initargs, pickled=executor is not THREAD_EXECUTOR)
    if executor is PROCESS_EXECUTOR or executor in _PLUGGED:
        # A function or extras that cannot cross fail every task of a silent call.
        start = _start_processes if executor is PROCESS_EXECUTOR else _PLUGGED[executor]
        try:
            return _Running(start(tasks, keys, options, silent))
        except PicklingError as exc:
            if not silent:
                raise
            return _FailedStart(exc, tasks)
    return _Running(_start_threads(tasks, keys, options, silent))


def run(executor, keys, tasks, options, silent, progress=None):
    """Runs `tasks` (a `Tasks`, on `executor`, an `ExecutorStrategy`, with `options`, an
    `Options`) and returns the results, or raises the first failure (not silent); shows its
    progress as `progress` says (`_progress.watcher`), from this thread."""
    tasks = _readable(executor, tasks, options)
    watch = watcher(progress, tasks.count)
    running = _start(executor, tasks, keys, options, silent)
    if watch is None:
        ended = running.wait()
    else:
        try:
            while (ended := running.wait(EVERY)) is None:
                watch.show(running.progress())
            watch.close(running.progress())
        except BaseException:
            running.cancel()  # a callback that raised, or Ctrl-C: nothing more runs
            watch.abandon()
            raise
    return finish(ended, keys, tasks, options.stated_timeout)


class AsyncCall:
    """A call already running: what `async_map` and `async_par` return.

    `results(timeout=None)` waits for it (raising `TimeoutException` if it is not done within
    `timeout` seconds — 0 only looks — and the first failure unless the call is silent); `done()` says whether
    it has ended; `cancel()` stops it (tasks not started never run; process workers running
    its tasks are killed); `shutdown(wait=True)` waits for it; as a context manager it is
    waited for on exit (and cancelled when the block raises). `await call` gives what
    `results()` returns without blocking the event loop, and `async for key, value in call`
    what `as_completed()` gives.

    >>> import parallel
    >>> call = parallel.async_map(abs, [-1, -2, -3])
    >>> call.results()
    [1, 2, 3]
    >>> call.done(), call.progress()
    (True, Progress(done=3, failed=0, total=3))
    """

    def __init__(self, executor, keys, tasks, options, silent, progress=None):
        tasks = _readable(executor, tasks, options)
        watch = watcher(progress, tasks.count)  # a bad `progress` fails before anything runs
        self._executor = executor
        self._keys = keys
        self._tasks = tasks  # until the results are made: failed tasks report their arguments
        self._count = tasks.count  # None for a streamed input
        self._timeout = options.stated_timeout
        self.silent = bool(silent)
        # Always silent in the engine: `results(silent=...)` may still choose.
        self._call = _start(self._executor, tasks, keys, options, True)
        self._pid = os.getpid()  # a forked child has the object, not the call
        self._results = None
        self._cancelled = False
        self._watching = Background(watch, self._call, self.cancel) if watch is not None else None

    def done(self):
        """`True` once every task has an outcome."""
        return self._call.done()

    def cancel(self):
        """Stops the call: tasks not started never run."""
        if os.getpid() != self._pid:
            return  # a forked child: the call runs in its parent, which alone may stop it
        if not self._call.done():
            self._cancelled = True
            self._call.cancel()

    def results(self, timeout=None, silent=None):
        """The results, once every task has ended: a `ListResult` or a `DictResult`, as the
        blocking call returns. `timeout` (seconds) raises `TimeoutException` if the call has
        not ended by then (the call goes on; 0 only looks); `silent` (default: the call's own)
        says whether a failure is raised or kept in place as a `FailedTask`."""
        if silent is None:
            silent = self.silent
        timeout = seconds("timeout", timeout, zero=True)  # 0: the results if done, at once
        if self._results is None:
            ended = self._wait(timeout)
            if ended is None:
                if timeout == 0:
                    raise TimeoutException("the call has not ended yet (results(timeout=0) does not wait)")
                raise TimeoutException(f"the results were not ready within {timeout} s")
            self._watched()
            self._results = finish(ended, self._keys, self._tasks, self._timeout, self._cancelled)
            self._tasks = self._keys = None
        if not silent and self._results.failures:
            failed = self._results.failed
            first = next(iter(failed.values())) if isinstance(failed, dict) else failed[0]
            raise first.ex
        return self._results

    def progress(self):
        """`parallel.Progress(done, failed, total)`: how many tasks have an outcome, how many
        of them failed, of how many. Cheap: poll it as often as a display needs."""
        return self._call.progress()

    def as_completed(self):
        """The results in the order the tasks finish: an iterator of `(key, value)` pairs,
        `key` the task's index (sequence input) or its dict key. A failed task is yielded as
        its `FailedTask` if the call is silent; otherwise the iterator raises its exception
        when it reaches it. What it hands out is not kept: `results()` then has nothing to
        give. Leaving the loop early leaves the call running (`cancel()` stops it).

        It runs in bounded memory however many tasks the call has, however slow the loop: the
        call goes at the pace of the loop. While a few batches' worth of tasks — 32,768, or
        four batches of up to 4096 per worker on a machine of more than two cores — have
        started and the loop has not taken their results yet, no new task starts and a
        generator input is not read further (a worker that took its turn takes one batch
        more); the workers resume as the loop goes on. A timeout, `cancel()` or a crashed
        worker still end the call on time. Once the loop is left (or `shutdown()` waits for
        the call), the call runs on at its own pace."""
        for batch in self._batches():
            yield from batch

    def _batches(self, wait=0.05):
        """`as_completed`'s pairs, a list at a time (as they arrived)."""
        keys, tasks = self._keys, self._tasks
        if tasks is None:
            raise RuntimeError("this call's results were already taken by results(): as_completed() has nothing to give")
        try:
            while True:
                outcomes = self._call.next_outcomes(wait)
                if outcomes is None:
                    break
                batch = []
                for index, ok, value in outcomes:
                    if ok:
                        batch.append((keys[index] if keys is not None else index, value))
                        continue
                    failed = failed_task(value, keys, tasks, self._cancelled)
                    if not self.silent:
                        yield batch
                        raise failed.ex
                    batch.append((failed.key, failed))
                yield batch
        except GeneratorExit:
            self._call.unpace()  # the caller left the loop: the call goes on, at its own pace
            raise
        except BaseException:
            self.cancel()  # a strict failure, or Ctrl-C while streaming, stops the call
            raise
        self._watched()

    def __await__(self):
        """`await call`: what `results()` returns, without blocking the event loop (the call
        is waited for on a thread of the loop's executor); cancelling the awaiting task cancels
        the call."""
        return self._awaited().__await__()

    async def _awaited(self):
        import asyncio

        loop = asyncio.get_running_loop()
        try:
            await loop.run_in_executor(None, self._wait, None)
        except asyncio.CancelledError:
            self.cancel()
            raise
        return self.results()

    async def __aiter__(self):
        """`async for key, value in call`: `as_completed()`, without blocking the event loop."""
        import asyncio

        loop = asyncio.get_running_loop()
        batches = self._batches(wait=0.05)
        done = object()
        try:
            while (batch := await loop.run_in_executor(None, next, batches, done)) is not done:
                for pair in batch:
                    yield pair
        except asyncio.CancelledError:
            self.cancel()
            raise
        finally:
            batches.close()

    def _watched(self):
        """Once the call ended: its progress display is done; a callback's error raised."""
        if self._watching is not None:
            self._watching.join()
            if self._watching.error is not None:
                raise self._watching.error

    def shutdown(self, wait=True, cancel=False):
        """Ends the call: cancels it if `cancel`, then waits for it if `wait`."""
        if cancel:
            self.cancel()
        if wait:
            self._wait(None, values=False)

    def _wait(self, timeout, values=True):
        """The call's `Ended` once it ended (None past `timeout`); without `values`, whether
        it ended (its outcomes may have been handed out by `as_completed`)."""
        if os.getpid() != self._pid and not self._call.done():
            raise RuntimeError(
                f"this call was started by process {self._pid}, which forked this one: its tasks run "
                "there, and a forked child cannot wait for them; start a new call in the child"
            )
        try:
            return self._call.wait(timeout) if values else self._call.join(timeout)
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
        count = "streamed" if self._count is None else f"{self._count} tasks"
        return f"<parallel.AsyncCall {self._executor.value}, {count}, {state}>"
