"""A call's options: checked once, with a clear error naming the option and the value for a
bad one, and held in the binding's types. Each executor takes the options that apply to it."""

import dataclasses
import math
import numbers
import operator

__all__ = ["Options", "seconds"]


def _shown(value):
    return f"{type(value).__name__}: {value!r:.80}"


def _count(name, value, what, unset):
    """`value` as an int of at least 1, or None; `what` says what it counts."""
    if value is None:
        return None
    if isinstance(value, bool):
        raise TypeError(f"{name} must be an int, {what} (or None for {unset}), got {_shown(value)}")
    try:
        n = operator.index(value)
    except TypeError:
        raise TypeError(f"{name} must be an int, {what} (or None for {unset}), got {_shown(value)}") from None
    if n < 1:
        raise ValueError(f"{name} must be {what} (or None for {unset}), got {n}")
    return n


def seconds(name, value, zero):
    """`value` as a float number of seconds, or None (no limit; so is infinity). `zero`: 0 is
    allowed, a deadline that has already passed."""
    if value is None:
        return None
    allowed = "0 or a positive number of seconds" if zero else "a positive number of seconds"
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be {allowed} (or None for no limit), got {_shown(value)}")
    s = float(value)
    if math.isnan(s) or s < 0 or (s == 0 and not zero):
        raise ValueError(f"{name} must be {allowed} (or None for no limit), got {value!r}")
    return None if math.isinf(s) else s


def _initializer(initializer, initargs):
    if initializer is not None and not callable(initializer):
        raise TypeError(f"initializer must be a callable (or None for none), got {_shown(initializer)}")
    if isinstance(initargs, (str, bytes)):
        raise TypeError(f"initargs must be a tuple of the initializer's arguments, got {_shown(initargs)}")
    try:
        initargs = tuple(initargs)
    except TypeError:
        raise TypeError(f"initargs must be a tuple of the initializer's arguments, got {_shown(initargs)}") from None
    if initargs and initializer is None:
        raise ValueError("initargs were given without an initializer: pass initializer= too")
    return initializer, initargs


def _retries(retries, retry_on):
    if isinstance(retries, bool) or not isinstance(retries, numbers.Integral):
        raise TypeError(f"retries must be an int, how many more times a failed task runs (0 for none), got {_shown(retries)}")
    if retries < 0:
        raise ValueError(f"retries must be 0 or more, how many more times a failed task runs, got {retries}")
    if retry_on is None:
        return int(retries), None
    types = retry_on if isinstance(retry_on, tuple) else (retry_on,)
    bad = [t for t in types if not (isinstance(t, type) and issubclass(t, BaseException))]
    if bad or not types:
        raise TypeError(
            "retry_on must be an exception type or a tuple of them (None: any failure), "
            f"got {_shown(retry_on)}"
        )
    return int(retries), types


@dataclasses.dataclass(frozen=True)
class Options:
    """The options of one call, checked (build it with `Options.checked`).

    `timeout` is the call's deadline in seconds and `stated_timeout` that timeout as the caller
    wrote it (for messages: "the call's timeout of 0 s passed"). `extras` are the keyword
    arguments of every task as the caller gave them: already merged into each task's keyword
    arguments; the process executor also sends them once per batch, so that each task carries
    only its own.
    """

    max_workers: object = None
    timeout: object = None
    task_timeout: object = None
    memory_limit: object = None
    extras: object = None
    client: object = None  # the Dask executor's cluster: a distributed.Client or an address
    stated_timeout: object = dataclasses.field(default=None, compare=False, repr=False)
    initializer: object = None
    initargs: tuple = ()
    retries: int = 0
    retry_on: object = None  # a tuple of exception types; None: any failure
    max_tasks_per_worker: object = None
    max_worker_memory: object = None

    @classmethod
    def checked(
        cls,
        max_workers=None,
        timeout=None,
        task_timeout=None,
        memory_limit=None,
        extras=None,
        client=None,
        initializer=None,
        initargs=(),
        retries=0,
        retry_on=None,
        max_tasks_per_worker=None,
        max_worker_memory=None,
    ):
        """The options, each checked (in this order) and converted to the binding's type."""
        initializer, initargs = _initializer(initializer, initargs)
        retries, retry_on = _retries(retries, retry_on)
        return cls(
            max_workers=_count("max_workers", max_workers, "at least 1", "the default"),
            timeout=seconds("timeout", timeout, zero=True),
            task_timeout=seconds("task_timeout", task_timeout, zero=False),
            memory_limit=_count("memory_limit", memory_limit, "a positive number of bytes", "no limit"),
            extras=extras,
            client=client,
            stated_timeout=timeout,
            initializer=initializer,
            initargs=initargs,
            retries=retries,
            retry_on=retry_on,
            max_tasks_per_worker=_count("max_tasks_per_worker", max_tasks_per_worker, "at least 1", "no limit"),
            max_worker_memory=_count("max_worker_memory", max_worker_memory, "a positive number of bytes", "no limit"),
        )

    def for_threads(self):
        """The keyword arguments of `_parallel.run_threads`."""
        return {
            "max_workers": self.max_workers,
            "timeout": self.timeout,
            "task_timeout": self.task_timeout,
            "retries": self.retries,
            "retry_on": self.retry_on,
        }

    def for_processes(self):
        """The keyword arguments of `_parallel.run_program` (the extras go separately, pickled)."""
        return {
            **self.for_threads(),
            "memory_limit": self.memory_limit,
            "max_tasks_per_worker": self.max_tasks_per_worker,
            "max_worker_memory": self.max_worker_memory,
        }
