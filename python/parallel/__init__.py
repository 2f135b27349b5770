"""`parallel` makes running code in parallel transparent: `parallel.map` runs one function over
many parameters, `parallel.par` different functions at once — on threads or on worker
processes — with per-task failure capture and timeouts that return on time.

The engine is Rust (the `parallel` crate): scheduling, worker supervision, timeouts and result
assembly live there; this package converts Python calls and values for it. See the README.
"""

import functools

from . import _dask, _parallel, _ray, exceptions  # noqa: F401 - _dask and _ray plug their executors in
from ._engine import (
    DASK_EXECUTOR,
    PROCESS_EXECUTOR,
    RAY_EXECUTOR,
    THREAD_EXECUTOR,
    AsyncCall,
    ExecutorStrategy,
    executor_of,
    run,
)
from ._initializer import worker_state
from ._options import Options
from ._progress import Progress
from ._results import BaseResult, DictResult, FailedTask, ListResult
from ._tasks import Arg, Job, arg, future, job, map_tasks, par_tasks, unwrap

__all__ = [
    "map",
    "async_map",
    "par",
    "async_par",
    "split",
    "decorate",
    "future",
    "job",
    "arg",
    "thread",
    "process",
    "dask",
    "ray",
    "THREAD_EXECUTOR",
    "PROCESS_EXECUTOR",
    "DASK_EXECUTOR",
    "RAY_EXECUTOR",
    "ExecutorStrategy",
    "FailedTask",
    "BaseResult",
    "ListResult",
    "DictResult",
    "AsyncCall",
    "Progress",
    "Job",
    "Arg",
    "exceptions",
    "worker_state",
]

# The workspace's version (Cargo.toml), compiled into the extension: it has no other home.
__version__: str = _parallel.__version__

# python-parallel 0.0.2's names for the executors.
THREAD = THREAD_EXECUTOR
PROCESS = PROCESS_EXECUTOR


def map(
    fn,
    params,
    executor=THREAD_EXECUTOR,
    max_workers=None,
    timeout=None,
    extras=None,
    silent=False,
    unpack_arguments=True,
    *,
    task_timeout=None,
    memory_limit=None,
    progress=None,
    client=None,
    initializer=None,
    initargs=(),
    retries=0,
    retry_on=None,
    max_tasks_per_worker=None,
    max_worker_memory=None,
):
    """Calls `fn` once per parameter, in parallel; the results come in the parameters' shape:
    a list in input order for any iterable, a dict with the same keys for a dict.

    A parameter that is a tuple spreads into positional arguments (its dict elements into
    keyword arguments), a dict is keyword arguments, `parallel.arg(...)` is exactly the
    arguments given; `extras` are keyword arguments of every task (a task's own win).

    `timeout` (seconds) is a deadline for the whole call: it returns by then, raising
    `parallel.exceptions.TimeoutException` (or, if `silent`, with a `FailedTask` for each
    unfinished task); 0 is a deadline that has already passed. `task_timeout` fails only a
    task that runs longer (its worker process is killed); on processes it counts from when the
    worker begins the task, after it has loaded the function and `extras` (importing their
    modules) and run the initializer, which may take up to `task_timeout` or 60 s, whichever
    is longer. `max_workers` bounds how many tasks run at once. Without `silent` (any truthy value), the first failure in input order is
    raised once the tasks before it have succeeded; with it, each failed task is a
    `FailedTask` in its place. `client` is the Dask executor's cluster (a `distributed.Client`
    or a scheduler's address; by default the current client).

    Workers (see the README's "Workers you can shape"): `initializer(*initargs)` runs once in
    each worker before its first task of the call (not again in a worker a later call with the
    same initializer reuses; `parallel.worker_state()` is where it keeps what it loads);
    `retries` runs a failed task again up to that many more times (only for failures that are
    instances of `retry_on`, if given; a crash, `WorkerCrashedError`, and a `task_timeout`,
    `TimeoutException`, count as failures); `max_tasks_per_worker` and `max_worker_memory`
    (bytes of resident memory, looked at after each task) replace a process worker past them.
    """
    executor = executor_of(executor)
    # A blocking process call has pickled every parameter before it returns: the caller's
    # list is read in place, not copied first.
    keys, tasks = map_tasks(fn, params, extras, unpack_arguments, borrow=executor is PROCESS_EXECUTOR)
    options = Options.checked(
        max_workers, timeout, task_timeout, memory_limit, extras, client,
        initializer, initargs, retries, retry_on, max_tasks_per_worker, max_worker_memory,
    )
    return run(executor, keys, tasks, options, silent, progress)


def async_map(
    fn,
    params,
    executor=THREAD_EXECUTOR,
    max_workers=None,
    timeout=None,
    extras=None,
    silent=False,
    unpack_arguments=True,
    *,
    task_timeout=None,
    memory_limit=None,
    progress=None,
    client=None,
    initializer=None,
    initargs=(),
    retries=0,
    retry_on=None,
    max_tasks_per_worker=None,
    max_worker_memory=None,
):
    """`map` without blocking: returns an `AsyncCall`, already running; `.results()` waits."""
    keys, tasks = map_tasks(fn, params, extras, unpack_arguments)
    executor, options = executor_of(executor), Options.checked(
        max_workers, timeout, task_timeout, memory_limit, extras, client,
        initializer, initargs, retries, retry_on, max_tasks_per_worker, max_worker_memory,
    )
    return AsyncCall(executor, keys, tasks, options, silent, progress)


def par(
    params,
    executor=THREAD_EXECUTOR,
    max_workers=None,
    timeout=None,
    extras=None,
    silent=False,
    unpack_arguments=True,
    *,
    task_timeout=None,
    memory_limit=None,
    progress=None,
    client=None,
    initializer=None,
    initargs=(),
    retries=0,
    retry_on=None,
    max_tasks_per_worker=None,
    max_worker_memory=None,
):
    """Runs different functions at once. `params` is a list or dict whose entries are each a
    callable, a `(callable, *args)` tuple or `parallel.future(callable, *args, **kwargs)`; the
    results come in its shape. Options as for `map`."""
    keys, tasks = par_tasks(params, extras, unpack_arguments)
    executor, options = executor_of(executor), Options.checked(
        max_workers, timeout, task_timeout, memory_limit, extras, client,
        initializer, initargs, retries, retry_on, max_tasks_per_worker, max_worker_memory,
    )
    return run(executor, keys, tasks, options, silent, progress)


def async_par(
    params,
    executor=THREAD_EXECUTOR,
    max_workers=None,
    timeout=None,
    extras=None,
    silent=False,
    unpack_arguments=True,
    *,
    task_timeout=None,
    memory_limit=None,
    progress=None,
    client=None,
    initializer=None,
    initargs=(),
    retries=0,
    retry_on=None,
    max_tasks_per_worker=None,
    max_worker_memory=None,
):
    """`par` without blocking: returns an `AsyncCall`, already running."""
    keys, tasks = par_tasks(params, extras, unpack_arguments)
    executor, options = executor_of(executor), Options.checked(
        max_workers, timeout, task_timeout, memory_limit, extras, client,
        initializer, initargs, retries, retry_on, max_tasks_per_worker, max_worker_memory,
    )
    return AsyncCall(executor, keys, tasks, options, silent, progress)


def split(collection, fn, executor=THREAD_EXECUTOR, workers=None, timeout=None, extras=None):
    """Splits `collection` (a list or tuple) into `workers` contiguous chunks, calls
    `fn(chunk, **extras)` on each in parallel, and returns the concatenation of the lists they
    return (python-parallel 0.9.1's `split`). `workers` defaults to min(32, cores + 4)."""
    if not isinstance(collection, (list, tuple)):
        raise TypeError(f"parallel.split() takes a list or a tuple, got {type(collection).__name__}")
    from ._parallel import DEFAULT_THREAD_WORKERS

    workers = workers or DEFAULT_THREAD_WORKERS
    if workers < 1:
        raise ValueError(f"workers must be at least 1, got {workers}")
    size = -(-len(collection) // workers) or 1
    chunks = [arg(collection[i : i + size]) for i in range(0, len(collection), size)]
    results = map(fn, chunks, executor=executor, max_workers=workers, timeout=timeout, extras=extras)
    return [item for chunk in results for item in chunk]


class _OnExecutor:
    """An executor with defaults for `timeout` and `max_workers`, which it gives the calls made
    through it: what `_Executor` and `_BoundExecutor` share."""

    def __init__(self, executor, timeout=None, max_workers=None):
        self.executor = executor_of(executor)
        self.timeout = timeout
        self.max_workers = max_workers

    def _defaults(self, kwargs):
        kwargs["executor"] = self.executor
        if kwargs.get("timeout") is None:
            kwargs["timeout"] = self.timeout
        if kwargs.get("max_workers") is None:
            kwargs["max_workers"] = self.max_workers
        return kwargs

    def __repr__(self):
        return f"<parallel.{self.executor.value}>"


class _Executor(_OnExecutor):
    """`parallel.thread`, `parallel.process`, `parallel.dask` and `parallel.ray`: the same
    functions with the executor chosen. Every keyword option of the calls is accepted, except
    `executor=`.

    >>> import parallel
    >>> parallel.process.map(abs, [-1, -2])
    [1, 2]
    >>> parallel.thread.par({'one': (abs, -1), 'two': parallel.thread.future(abs, -2)})
    {'one': 1, 'two': 2}
    """

    def map(self, fn, params, **kwargs):
        """`parallel.map` on this executor."""
        return map(fn, params, **self._defaults(kwargs))

    def async_map(self, fn, params, **kwargs):
        """`parallel.async_map` on this executor."""
        return async_map(fn, params, **self._defaults(kwargs))

    def par(self, params, **kwargs):
        """`parallel.par` on this executor."""
        return par(params, **self._defaults(kwargs))

    def async_par(self, params, **kwargs):
        """`parallel.async_par` on this executor."""
        return async_par(params, **self._defaults(kwargs))

    def split(self, collection, fn, **kwargs):
        """`parallel.split` on this executor."""
        kwargs["executor"] = self.executor
        return split(collection, fn, **kwargs)

    future = staticmethod(future)


thread = _Executor(THREAD_EXECUTOR)
"""`parallel.thread.map(fn, params)`, `.async_map`, `.par`, `.async_par`, `.split`, `.future`:
the calls on threads (`THREAD_EXECUTOR`)."""
process = _Executor(PROCESS_EXECUTOR)
"""`parallel.process.map(fn, params)` and the other calls on worker processes
(`PROCESS_EXECUTOR`)."""
dask = _Executor(DASK_EXECUTOR)
"""`parallel.dask.map(fn, params, client=...)` and the other calls on a Dask cluster
(`DASK_EXECUTOR`): `client=` or the current client."""
ray = _Executor(RAY_EXECUTOR)
"""`parallel.ray.map(fn, params)` and the other calls on Ray (`RAY_EXECUTOR`): the connected
Ray, or `ray.init()`'s own."""


class _BoundExecutor(_OnExecutor):
    """`decorated.thread` / `decorated.process`: `map`, `async_map` and `future` of one
    function. (Not an `_Executor`: its `par`, `async_par` and `split` would not be the
    function's.)"""

    def __init__(self, fn, executor, timeout=None, max_workers=None):
        super().__init__(executor, timeout, max_workers)
        self._fn = fn

    def map(self, params, **kwargs):
        """`parallel.map` of this function on this executor."""
        return map(self._fn, params, **self._defaults(kwargs))

    def async_map(self, params, **kwargs):
        """`parallel.async_map` of this function on this executor."""
        return async_map(self._fn, params, **self._defaults(kwargs))

    def future(self, *args, **kwargs):
        """This function with these arguments, for `parallel.par`."""
        return Job(self._fn, args, kwargs)


class ParallelCallable:
    """A function decorated with `@parallel.decorate`: still callable as before, with
    `.map(params)`, `.async_map(params)`, `.future(*args, **kwargs)` and the `.thread` and
    `.process` forms of `map` and `async_map` (`f.thread.map(params)`,
    `f.process.async_map(params)`, each with `.future` too).

    >>> import parallel
    >>> @parallel.decorate
    ... def double(x):
    ...     return 2 * x
    >>> double(4), double.map([1, 2]), double.process.map({'a': 3})
    (8, [2, 4], {'a': 6})
    """

    def __init__(self, fn, executor=THREAD_EXECUTOR, timeout=None, max_workers=None):
        if not callable(fn):
            raise TypeError(f"parallel.decorate needs a callable, got {type(fn).__name__}: {fn!r:.80}")
        Options.checked(max_workers=max_workers, timeout=timeout)  # bad defaults fail here
        self.__parallel_fn__ = fn
        self.thread = _BoundExecutor(fn, THREAD_EXECUTOR, timeout, max_workers)
        self.process = _BoundExecutor(fn, PROCESS_EXECUTOR, timeout, max_workers)
        executor = executor_of(executor)
        if executor is THREAD_EXECUTOR or executor is PROCESS_EXECUTOR:
            self._default = self.thread if executor is THREAD_EXECUTOR else self.process
        else:
            self._default = _BoundExecutor(fn, executor, timeout, max_workers)
        functools.update_wrapper(self, fn)

    def __call__(self, *args, **kwargs):
        return self.__parallel_fn__(*args, **kwargs)

    def map(self, params, **kwargs):
        """`parallel.map` of this function, on its default executor unless `executor=` says."""
        if "executor" in kwargs:
            return _BoundExecutor(self.__parallel_fn__, kwargs.pop("executor"), self._default.timeout, self._default.max_workers).map(params, **kwargs)
        return self._default.map(params, **kwargs)

    def async_map(self, params, **kwargs):
        """`parallel.async_map` of this function."""
        if "executor" in kwargs:
            return _BoundExecutor(self.__parallel_fn__, kwargs.pop("executor"), self._default.timeout, self._default.max_workers).async_map(params, **kwargs)
        return self._default.async_map(params, **kwargs)

    def future(self, *args, **kwargs):
        """This function with these arguments, for `parallel.par`."""
        return Job(self.__parallel_fn__, args, kwargs)

    def __get__(self, instance, owner=None):
        # Decorated methods bind like functions.
        if instance is None:
            return self
        return functools.partial(self.__call__, instance)

    def __repr__(self):
        return f"<parallel.decorate {unwrap(self).__qualname__}>"


_UNSET = object()


def decorate(*args, executor=_UNSET, ex=_UNSET, timeout=None, max_workers=None):
    """Adds `.map`, `.async_map`, `.future`, `.thread` and `.process` to a function, which stays
    callable as before. Use bare (`@parallel.decorate`) or with defaults
    (`@parallel.decorate(executor=parallel.PROCESS_EXECUTOR, timeout=10, max_workers=4)`).
    `ex=` is python-parallel 0.0.2's name for `executor=` (`@parallel.decorate(ex=parallel.PROCESS)`)."""
    fn = None
    if args and callable(args[0]) and not isinstance(args[0], ExecutorStrategy):
        fn, args = args[0], args[1:]
    if len(args) > 1 or (fn is not None and args):
        raise TypeError("parallel.decorate takes a function, or an executor and keyword options")
    given = {
        name: value
        for name, value in (("positionally", args[0] if args else _UNSET), ("executor=", executor), ("ex=", ex))
        if value is not _UNSET
    }
    if len(given) > 1:
        raise TypeError(
            f"parallel.decorate takes the executor once, got it {' and '.join(given)}: "
            "give only executor= (ex= is python-parallel 0.0.2's name for it)"
        )
    executor = executor_of(next(iter(given.values()), THREAD_EXECUTOR))
    if fn is not None:
        return ParallelCallable(fn, executor, timeout, max_workers)
    Options.checked(max_workers=max_workers, timeout=timeout)

    def wrapper(fn):
        return ParallelCallable(fn, executor, timeout, max_workers)

    return wrapper
