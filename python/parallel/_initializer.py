"""Per-worker state and initializers: `parallel.worker_state()`, and the function a call with
`initializer=` runs in place of the caller's (`Initialized`).

A *worker* is one worker process (the process executor's, also those a Dask or Ray worker runs
our tasks in), or one thread of the engine's pool (the thread executor). `worker_state()` is a
dict private to it, kept across its tasks and calls: a worker process has one, each thread its
own.

An initializer runs once per worker, before the first task of the call that worker runs: the
task's function is wrapped in an `Initialized`, which crosses to the worker with it (pickled,
for processes) and runs the initializer on its first call there. A worker reused by a later
call with the *same* initializer — the same function with equal arguments, recognised by their
pickle (processes) or by identity and equality (threads) — does not run it again. One that
raises fails every task of the call on that worker with `InitializerError` (its traceback as
`__cause__`), without running them and without running it again for that call; the worker
stays usable, and the next call tries the initializer again.
"""

import os

from . import _parallel
from .exceptions import InitializerError

__all__ = ["worker_state", "Initialized", "initialize"]

# In a worker process (set by `_worker.main`): one state and one record for the whole process.
_process = None


def _local():
    """`(state, done)` of the current worker: the process's in a worker process, else this
    thread's. `done` maps an initializer's key to None (it ran) or `(call, error)` (it raised
    during that call)."""
    if _process is not None:
        return _process
    return _parallel.thread_state()  # held by the OS thread: a pool thread keeps it


def in_worker_process():
    """Makes this process a worker process: one `worker_state()` for all its tasks."""
    global _process
    _process = ({}, {})


def worker_state():
    """A dict private to the worker running the current task — its process, or its thread
    on the thread executor — kept across its tasks and calls, empty in a new worker: the place
    an initializer keeps a model, a connection or a cache.

    >>> import parallel
    >>> def count(x):
    ...     state = parallel.worker_state()
    ...     state["seen"] = state.get("seen", 0) + 1
    ...     return state["seen"]
    >>> all(n >= 1 for n in parallel.map(count, range(10)))
    True
    """
    return _local()[0]


class Initialized:
    """`fn`, which runs `initializer(*initargs)` first in each worker that has not run it.

    `key` tells one initializer from another across calls; `call` tells this call from the
    next, so an initializer that raised is tried again by a later call."""

    __slots__ = ("fn", "initializer", "initargs", "key", "call", "__weakref__")

    def __init__(self, fn, initializer, initargs, key, call):
        self.fn = fn
        self.initializer = initializer
        self.initargs = initargs
        self.key = key
        self.call = call

    def prepare(self):
        """Runs the initializer here, unless this worker has run it (or seen it raise) for
        this call: the process worker calls it before it begins a batch's tasks, so the
        initializer's time is no part of the first task's `task_timeout`."""
        done = _local()[1]
        key = self.key
        if key not in done or (done[key] is not None and done[key][0] != self.call):
            _run_initializer(self, done)
        return done

    def __call__(self, *args, **kwargs):
        failed = self.prepare()[self.key]
        if failed is not None:
            raise InitializerError(f"the initializer {_name(self.initializer)} raised {failed[1]!r}") from failed[1]
        return self.fn(*args, **kwargs)

    def __reduce__(self):
        return (Initialized, (self.fn, self.initializer, self.initargs, self.key, self.call))

    def __repr__(self):
        return f"<initialized by {_name(self.initializer)}: {self.fn!r}>"

    def __getattr__(self, name):
        # Failure messages and pickling errors name the caller's function.
        if name in ("__qualname__", "__name__", "__module__"):
            return getattr(self.fn, name)
        raise AttributeError(name)


def _run_initializer(initialized, done):
    try:
        initialized.initializer(*initialized.initargs)
    except Exception as exc:
        done[initialized.key] = (initialized.call, exc)
    else:
        done[initialized.key] = None


def _name(fn):
    return getattr(fn, "__qualname__", None) or repr(fn)


def _key(initializer, initargs, pickled):
    """What tells this initializer from another: by its pickle for a process call (the worker
    sees a new object each call), by identity and equality on threads."""
    if pickled:
        import hashlib

        from ._pickling import cloud_dumps

        try:
            return hashlib.sha256(cloud_dumps((initializer, initargs))).hexdigest()
        except Exception:
            return os.urandom(16).hex()  # it will not cross anyway: the call says why
    try:
        key = (initializer, initargs)
        hash(key)
        return key
    except TypeError:
        return (id(initializer), id(initargs))


def initialize(tasks, initializer, initargs, pickled):
    """`tasks` whose functions run `initializer(*initargs)` first in each worker: every task
    function wrapped in an `Initialized` (one per distinct function). `pickled`: the tasks
    cross to worker processes."""
    if initializer is None:
        return tasks
    key, call = _key(initializer, initargs, pickled), os.urandom(8)
    wrapped = {}

    def wrap(fn):
        found = wrapped.get(id(fn))
        if found is None:
            found = wrapped[id(fn)] = (fn, Initialized(fn, initializer, initargs, key, call))
        return found[1]

    return tasks.with_functions(wrap)
