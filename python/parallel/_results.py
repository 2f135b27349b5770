"""Results: a real `list` for sequence input and a real `dict` for dict input, in input order,
with a `FailedTask` in place of each task that failed (silent mode)."""

__all__ = ["FailedTask", "BaseResult", "ListResult", "DictResult"]


def _kind(exc):
    """The class of `exc`, or the one it was rebuilt from (an exception from a worker process
    that could not cross as it was: `_pickling.rebuild_exception`)."""
    cls = type(exc)
    return cls.__dict__.get("__parallel_rebuilt_from__", cls)


class FailedTask:
    """A task that failed: its positional arguments (`params`), its keyword arguments
    (`kwargs`) and the exception it raised (`ex`).

    Two failed tasks are equal when their arguments are equal and their exceptions have the
    same type and arguments (or compare equal, as two `TimeoutException`s always do), so a test
    can write what it expects:

    >>> import parallel
    >>> def add(x, y):
    ...     return x + y
    >>> results = parallel.map(add, [(2, 3), ('a', 5)], silent=True)
    >>> results[1] == parallel.FailedTask(
    ...     params=('a', 5), ex=TypeError('can only concatenate str (not "int") to str'))
    True
    >>> results[1].key, results[1].attempts
    (1, 1)

    Attributes:
        params: The task's positional arguments (a tuple).
        kwargs: Its keyword arguments (a dict; the call's `extras` included).
        ex: The exception it raised; `exc` is the same.
        key: Which task: its index in a list input, its key in a dict input.
        attempts: How many times it ran: 1, or more with `retries=`.
    """

    __slots__ = ("params", "kwargs", "ex", "key", "attempts")

    def __init__(self, params=None, kwargs=None, ex=None, key=None, attempts=1):
        self.params = tuple(params) if params is not None else ()
        self.kwargs = dict(kwargs or {})
        self.ex = ex
        self.key = key
        self.attempts = attempts  # how many times it ran: 1, or more with `retries=`

    @property
    def exc(self):
        """The exception (python-parallel 0.9.1's name)."""
        return self.ex

    def __eq__(self, other):
        if type(self) is not type(other):
            return NotImplemented
        return (
            self.params == other.params
            and self.kwargs == other.kwargs
            and _kind(self.ex) is _kind(other.ex)
            and (self.ex == other.ex or getattr(self.ex, "args", None) == getattr(other.ex, "args", None))
        )

    __hash__ = None

    def __repr__(self):
        kwargs = f", kwargs={self.kwargs!r}" if self.kwargs else ""
        return f"FailedTask(params={self.params!r}{kwargs}, ex={self.ex!r})"


class BaseResult:
    """What `map`, `par` and their async forms return: a `ListResult` (a `list`) or a
    `DictResult` (a `dict`), with these helpers. Each helper keeps the shape: a list for a
    list, a dict by key for a dict."""

    __slots__ = ()

    def _select(self, keep):
        """The outcomes `keep` accepts, each passed through `keep`'s answer, in this shape."""
        if isinstance(self, dict):
            return {k: out for k, v in self.items() for out in keep(v)}
        return [out for v in self for out in keep(v)]

    @property
    def failures(self):
        """`True` if any task failed."""
        outcomes = self.values() if isinstance(self, dict) else self
        return any(isinstance(v, FailedTask) for v in outcomes)

    @property
    def failed(self):
        """The failed tasks."""
        return self._select(lambda v: (v,) if isinstance(v, FailedTask) else ())

    @property
    def succeeded(self):
        """The values of the tasks that succeeded."""
        return self._select(lambda v: () if isinstance(v, FailedTask) else (v,))

    def replace_failed(self, replacement):
        """The results with `replacement` in place of every failed task (a plain list or dict)."""
        return self._select(lambda v: (replacement if isinstance(v, FailedTask) else v,))


class ListResult(BaseResult, list):
    """The results of a call on a sequence (or any iterable): a `list` in input order."""

    __slots__ = ()


class DictResult(BaseResult, dict):
    """The results of a call on a dict: a `dict` with the same keys, in the same order."""

    __slots__ = ()
