"""Parameters → tasks: the only place that knows the shapes a user may pass.

A call's tasks are a `Tasks`: each task is `(function, args, kwargs)`, but the common shapes —
one function, each parameter its one argument, or each a tuple of positional arguments — keep
only the parameters, and a task's triple is made only if someone asks for it (a failed task's
report). The rules are python-parallel's (0.0.2, the release the README documents, and the
0.9.1 additions that do not conflict):

* a tuple or list spreads into positional arguments, and its dict elements into keyword
  arguments; a lone dict is keyword arguments; anything else is the one argument;
* `parallel.arg(*args, **kwargs)` passes exactly those arguments (a dict stays positional);
* `extras` are keyword arguments of every task, and a task's own keyword arguments win;
* `unpack_arguments=False` passes each parameter as the one argument, whatever it is;
* a `par` entry is a callable, a `(callable, *args)` tuple or `parallel.future(...)`.
"""

import collections.abc
import datetime
import itertools

__all__ = [
    "Job",
    "Arg",
    "future",
    "job",
    "arg",
    "map_tasks",
    "par_tasks",
    "keyed",
    "Tasks",
    "Streamed",
    "SINGLE",
    "SPREAD",
    "EACH",
    "STREAM",
]


class Job:
    """A function with its arguments, to run later: what `parallel.future(fn, *args,
    **kwargs)` (alias `parallel.job`) and `decorated.future(...)` make, for `par`."""

    __slots__ = ("fn", "args", "kwargs")

    def __init__(self, fn, args=(), kwargs=None):
        if fn is not None and not callable(fn):
            raise TypeError(f"parallel.future() needs a callable first, got {type(fn).__name__}: {fn!r}")
        self.fn = fn
        self.args = tuple(args)
        self.kwargs = dict(kwargs or {})

    def __eq__(self, other):
        if type(self) is not type(other):
            return NotImplemented
        return (self.fn, self.args, self.kwargs) == (other.fn, other.args, other.kwargs)

    __hash__ = None

    def __repr__(self):
        name = getattr(self.fn, "__qualname__", repr(self.fn))
        return f"parallel.future({name}, *{self.args!r}, **{self.kwargs!r})"


class Arg(Job):
    """Arguments passed exactly as given: `parallel.arg(*args, **kwargs)`. Use it when an
    argument is a dict, which would otherwise be taken as keyword arguments."""

    __slots__ = ()

    def __init__(self, args=(), kwargs=None):
        super().__init__(None, args, kwargs)

    def __repr__(self):
        return f"parallel.arg(*{self.args!r}, **{self.kwargs!r})"


def future(fn, *args, **kwargs):
    """`fn(*args, **kwargs)`, to run later as an entry of `parallel.par`."""
    return Job(fn, args, kwargs)


job = future


def arg(*args, **kwargs):
    """The arguments of one task, passed exactly as given (a dict stays positional)."""
    return Arg(args, kwargs)


# The shapes of a call's tasks (`Tasks.shape`).
SINGLE = "single"  # `fn(param, **extras)` for each parameter
SPREAD = "spread"  # `fn(*param, **extras)`: each parameter a tuple or list without a dict in it
EACH = "each"  # each task its `(fn, args, kwargs)` triple
STREAM = "stream"  # read from an iterator as the workers take them (`Streamed`)


class Tasks:
    """A call's tasks: `len(tasks)` of them, task `i` is `tasks[i]`, a `(fn, args, kwargs)`
    triple (`kwargs` a dict or None).

    `shape` says how they are held: `SINGLE` and `SPREAD` keep `fn`, `extras` (a dict, maybe
    empty) and the parameters as `items` (a list, or the caller's `range`), and make a task's
    triple when asked; `EACH` holds the triples themselves as `items`."""

    __slots__ = ("shape", "items", "fn", "extras")

    def __init__(self, shape, items, fn=None, extras=None):
        self.shape = shape
        self.items = items
        self.fn = fn
        self.extras = extras or {}

    def __len__(self):
        return len(self.items)

    @property
    def count(self):
        """How many tasks: known for every `Tasks` (a `Streamed` input's is not)."""
        return len(self.items)

    def __getitem__(self, i):
        item = self.items[i]
        if self.shape is EACH:
            return item
        args = (item,) if self.shape is SINGLE else tuple(item)
        return self.fn, args, dict(self.extras) if self.extras else None

    def with_functions(self, wrap):
        """The same tasks with each function `fn` replaced by `wrap(fn)`."""
        if self.shape is EACH:
            return Tasks(EACH, [(wrap(fn), args, kwargs) for fn, args, kwargs in self.items])
        return Tasks(self.shape, self.items, wrap(self.fn), self.extras)


class _Task(tuple):
    """A streamed task made of a parameter that is not the function's one argument:
    `(fn, args, kwargs or None)` (threads) or `(fn, args, kwargs or None, own kwargs or None)`
    (processes). Its type tells a failed task's item from a plain parameter (which may itself
    be a tuple, with `unpack_arguments=False`)."""

    __slots__ = ()


class Streamed:
    """A `map`'s tasks read from an iterator (a generator, `map(...)`, `iter(...)`…) as the
    workers take them: never all at once, so a stream of any length runs in bounded memory.
    Their number (`count`) is unknown until the iterator is exhausted; a failed task's
    parameter comes back with its failure (the binding keeps the items in flight).

    Most parameters are the function's one argument, and the binding passes them as they are;
    one of the `special` types (what spreads into arguments, or brings its own) is made a
    `_Task` by `task_of` (threads) or `quad_of` (processes)."""

    __slots__ = ("items", "fn", "extras", "unpack", "special")
    shape = STREAM
    count = None

    def __init__(self, fn, items, extras, unpack):
        self.items = items
        self.fn = fn
        self.extras = extras
        self.unpack = unpack
        self.special = (tuple, list, dict, Job) if unpack else (Job,)

    def task_of(self, param):
        """`(fn, args, kwargs or None)`, the keyword arguments with the extras: for the thread
        executor, which calls `fn(*args, **kwargs)` as it is."""
        args, kwargs = split_params(param, self.extras, self.unpack)
        task_fn = unwrap(param.fn) if isinstance(param, Job) and param.fn is not None else self.fn
        return _Task((task_fn, args, kwargs or None))

    def quad_of(self, param):
        """`(fn, args, kwargs or None, own kwargs or None)`, its own keyword arguments without
        the extras (which cross to the worker once per call): for the process executor, whose
        workers call the call's one function — a `parallel.future` with a function of its own
        is a `TypeError` there."""
        fn, extras = self.fn, self.extras
        if isinstance(param, Job) and param.fn is not None and unwrap(param.fn) is not fn:
            raise TypeError(
                f"a parallel.future() with a function of its own ({param!r:.80}) cannot be streamed to "
                "worker processes, which call the map's one function: give map a list, or use parallel.par()"
            )
        args, own = split_params(param, None, self.unpack)
        kwargs = _with_extras(extras, own) if extras else own
        return _Task((fn, args, kwargs or None, own or None))

    def read_all(self):
        """Every task's item, read to the end, as the binding keeps it: a plain parameter as
        it is, a special one as `quad_of` makes it (what `reported` reads)."""
        special = self.special
        return [self.quad_of(p) if isinstance(p, special) else p for p in self.items]

    def with_functions(self, wrap):
        """The same stream with each function `fn` replaced by `wrap(fn)` (a `Job` item's too,
        as it is read)."""
        items = (Job(wrap(p.fn), p.args, p.kwargs) if type(p) is Job and p.fn is not None else p for p in self.items)
        return Streamed(wrap(self.fn), items, self.extras, self.unpack)

    def read_as_tasks(self):
        """Every task, read to the end, as `EACH` `Tasks` of `(fn, args, kwargs)` triples: for
        an executor that takes a call's tasks at once (a cluster's)."""
        fn, extras, special = self.fn, self.extras, self.special
        kwargs = dict(extras) if extras else None
        return Tasks(EACH, [self.task_of(p) if isinstance(p, special) else (fn, (p,), kwargs) for p in self.items])

    def reported(self, item):
        """`(args, kwargs)` of a failed task from the item the binding kept (None: not read)."""
        if type(item) is _Task:
            return item[1], item[2]
        if item is None:
            return (), None
        return (item,), dict(self.extras) if self.extras else None

    def __len__(self):
        raise TypeError("a streamed input's length is not known until it is exhausted")


# Classes whose instances report their own class to `isinstance`.
_HONEST = frozenset(
    {object, int, bool, float, complex, str, bytes, bytearray, tuple, list, dict, set, frozenset, range, type(None)}
    | {datetime.date, datetime.datetime, datetime.time, datetime.timedelta}
)


def _poses(cls):
    """Whether an instance of `cls` may claim another class: `isinstance` also asks an object's
    `__class__`, which a class (or a base) that defines `__class__` or `__getattribute__` may
    fake (mocks, proxies). The builtins of `_HONEST` define a `__getattribute__` that does not."""
    return any(c not in _HONEST and ("__class__" in vars(c) or "__getattribute__" in vars(c)) for c in cls.__mro__)


def _any_is(types, classes):
    """Whether an instance of one of `types` may be an instance of `classes`."""
    return any(issubclass(t, classes) or _poses(t) for t in types)


def _types_of(items, nested=False):
    """`set(map(type, items))` — with `nested`, of the items' own items — for a list in one
    pass in Rust (`_parallel.types_of`: a pointer comparison per item, not a set operation)."""
    from parallel._parallel import types_of

    if type(items) is list:
        return types_of(items, nested)
    return set(map(type, itertools.chain.from_iterable(items) if nested else items))


def _shape(items, unpack):
    """`(shape, items)`: `SINGLE` or `SPREAD` if every parameter has that shape (a look at
    their types, and for `SPREAD` at their elements' types, with no Python loop over them),
    else None; and the parameters, lists among them made tuples (their arguments are those of
    the call's start, as when each task was made then)."""
    types = _types_of(items)
    if _any_is(types, Job):
        return None, items  # a Job brings its own function or arguments
    if not unpack or not _any_is(types, (tuple, list, dict)):
        return SINGLE, items
    if all(issubclass(t, (tuple, list)) and not _poses(t) for t in types):
        if not _any_is(_types_of(items, nested=True), dict):
            return SPREAD, (items if types == {tuple} else list(map(tuple, items)))
    return None, items


def _with_extras(extras, kwargs):
    return {**extras, **kwargs} if extras else kwargs


def split_params(param, extras, unpack=True):
    """One task's `(args, kwargs)` from one parameter."""
    if isinstance(param, Job):
        return param.args, _with_extras(extras, param.kwargs)
    if not unpack:
        return (param,), dict(extras) if extras else {}
    if isinstance(param, (tuple, list)):
        args = []
        kwargs = dict(extras) if extras else {}
        for item in param:
            if isinstance(item, dict):
                kwargs.update(item)
            else:
                args.append(item)
        return tuple(args), kwargs
    if isinstance(param, dict):
        return (), _with_extras(extras, param)
    return (param,), dict(extras) if extras else {}


def keyed(params, what, borrow=False):
    """`(keys, items)`: `keys` is None for a sequence-like input (the result is a list) or
    the list of keys of a mapping (the result is a dict); `items` is a list — the caller's own
    list itself if `borrow` (a call that has read it all before it returns), else a copy."""
    if isinstance(params, collections.abc.Mapping):
        return list(params.keys()), list(params.values())
    if not isinstance(params, collections.abc.Iterable):
        raise TypeError(
            f"{what} takes an iterable of parameters (a list, tuple, set, generator…) or a dict "
            f"of them, got {type(params).__name__}: {params!r:.80}"
        )
    if borrow and type(params) is list:
        return None, params
    return None, list(params)


def _check_extras(extras):
    if extras is not None and not isinstance(extras, collections.abc.Mapping):
        raise TypeError(f"extras must be a dict of keyword arguments, got {type(extras).__name__}: {extras!r:.80}")
    return dict(extras) if extras else {}


def map_tasks(fn, params, extras=None, unpack_arguments=True, borrow=False):
    """`(keys, tasks)` for `map`: `fn` called once per parameter (`borrow`: see `keyed`)."""
    fn = unwrap(fn)
    if not callable(fn):
        raise TypeError(f"parallel.map() needs a callable to run, got {type(fn).__name__}: {fn!r:.80}")
    extras = _check_extras(extras)
    if type(params) is range:
        # Its ints are each the one argument, and it is a sequence already: no list of them.
        return None, Tasks(SINGLE, params, fn, extras)
    if isinstance(params, collections.abc.Iterator) and not isinstance(params, collections.abc.Mapping):
        # A generator (any iterator): read as the workers take its tasks, not all at once.
        return None, Streamed(fn, params, extras, unpack_arguments)
    keys, items = keyed(params, "parallel.map()", borrow)
    shape, args = _shape(items, unpack_arguments)
    if shape is not None:
        return keys, Tasks(shape, args, fn, extras)
    if not extras and unpack_arguments:
        # The common case, quickly: plain values are the one argument.
        plain = (tuple, list, dict, Job)
        tasks = []
        append = tasks.append
        for param in items:
            if isinstance(param, plain):
                args, kwargs = split_params(param, extras, unpack_arguments)
                task_fn = unwrap(param.fn) if isinstance(param, Job) and param.fn is not None else fn
                append((task_fn, args, kwargs or None))
            else:
                append((fn, (param,), None))
        return keys, Tasks(EACH, tasks)
    tasks = []
    for param in items:
        args, kwargs = split_params(param, extras, unpack_arguments)
        task_fn = unwrap(param.fn) if isinstance(param, Job) and param.fn is not None else fn
        tasks.append((task_fn, args, kwargs))
    return keys, Tasks(EACH, tasks)


def par_tasks(params, extras=None, unpack_arguments=True):
    """`(keys, tasks)` for `par`: each entry its own function."""
    extras = _check_extras(extras)
    keys, items = keyed(params, "parallel.par()")
    tasks = []
    for n, entry in enumerate(items):
        where = repr(keys[n]) if keys is not None else str(n)
        if isinstance(entry, Job) and entry.fn is not None:
            tasks.append((unwrap(entry.fn), entry.args, _with_extras(extras, entry.kwargs)))
        elif callable(entry):
            tasks.append((unwrap(entry), (), dict(extras)))
        elif isinstance(entry, (tuple, list)) and entry and callable(entry[0]):
            rest = entry[1:]
            if not unpack_arguments and len(rest) == 1:
                rest = rest[0]
            args, kwargs = split_params(rest, extras, unpack_arguments)
            tasks.append((unwrap(entry[0]), args, kwargs))
        else:
            raise TypeError(
                f"parallel.par() entry {where} must be a callable, a (callable, *args) tuple or "
                f"parallel.future(callable, *args, **kwargs), got {type(entry).__name__}: {entry!r:.80}"
            )
    return keys, Tasks(EACH, tasks)


def unwrap(fn):
    """The plain function of a `@parallel.decorate`d one."""
    inner = getattr(fn, "__parallel_fn__", None)
    return inner if inner is not None else fn
