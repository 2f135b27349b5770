"""Type stubs for `parallel`: the seed API on the Rust engine.

How a result is typed
---------------------
A call's result has the shape of its parameters, and so does its type:

* parameters that are a `Mapping[K, ...]` give a `DictResult[K, V]` (a `dict[K, V]`);
* any other iterable gives a `ListResult[V]` (a `list[V]`).

`V` is the element type, which depends on `silent`:

* strict (the default, or `silent=False`): a failure is raised, so every element is a value
  the function returned: `V` is the function's return type `R`. A `map` of
  `f: Callable[[int], str]` over a list is a `ListResult[str]`, assignable to `list[str]`.
* `silent=True`, or a `silent` that is a `bool` not known statically: a failed task is a
  `FailedTask` in its place, so `V` is `R | FailedTask`; narrow with
  `isinstance(v, parallel.FailedTask)`, or use `.succeeded` (a `list[R]` / `dict[K, R]`),
  `.failed` or `.replace_failed(x)` (a `list[R | type(x)]`).
* `par` runs callables of any return types, so its elements are `Any` (silent or not).

The async forms give an `AsyncCall[ListResult[V]]` / `AsyncCall[DictResult[K, V]]` with the
same `V`; `.results()` returns that type, and `.results(silent=True)` (or a `bool`) adds
`FailedTask` to `V`.

The arguments of each task are not checked against the function (a tuple spreads into
positional arguments, a dict into keyword arguments, decided at run time); the arguments of
`parallel.future(fn, ...)` and `decorated.future(...)` are.

Two unsound corners, both inherent to the API: a `Mapping` passed where only `Iterable` is
known statically is typed as a list but gives a dict at run time; `FailedTask.ex` is typed as
`BaseException` although a `FailedTask` built by hand without `ex` holds `None`.

`AsyncCall` and `ParallelCallable` are generic only here: at run time they cannot be
subscripted, so write `parallel.AsyncCall[...]` in annotations that are not evaluated (in a
function body, in quotes, or under `from __future__ import annotations`). `ListResult[V]` and
`DictResult[K, V]` subscript at run time too.
"""

import enum
from collections.abc import AsyncIterator, Callable, Generator, Iterable, Iterator, Mapping, Sequence
from typing import Any, ClassVar, Generic, Literal, NamedTuple, Protocol, TypeVar, overload

from typing_extensions import ParamSpec, Self, TypeAlias

from . import exceptions as exceptions

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

_P = ParamSpec("_P")
_R = TypeVar("_R")
_K = TypeVar("_K")
_V = TypeVar("_V")
_S = TypeVar("_S")
_T = TypeVar("_T")
_U = TypeVar("_U")
_Res_co = TypeVar("_Res_co", covariant=True)

__version__: str

class ExecutorStrategy(str, enum.Enum):
    THREAD_EXECUTOR = "thread"
    PROCESS_EXECUTOR = "process"
    DASK_EXECUTOR = "dask"
    RAY_EXECUTOR = "ray"

THREAD_EXECUTOR: Literal[ExecutorStrategy.THREAD_EXECUTOR]
PROCESS_EXECUTOR: Literal[ExecutorStrategy.PROCESS_EXECUTOR]
DASK_EXECUTOR: Literal[ExecutorStrategy.DASK_EXECUTOR]
RAY_EXECUTOR: Literal[ExecutorStrategy.RAY_EXECUTOR]
# python-parallel 0.0.2's names.
THREAD: Literal[ExecutorStrategy.THREAD_EXECUTOR]
PROCESS: Literal[ExecutorStrategy.PROCESS_EXECUTOR]

# An executor: `parallel.THREAD_EXECUTOR` / `PROCESS_EXECUTOR` / `DASK_EXECUTOR` / `RAY_EXECUTOR`
# or their names.
_ExecutorLike: TypeAlias = ExecutorStrategy | Literal["thread", "process", "dask", "ray"]

# `client=`: the Dask executor's cluster, a `distributed.Client` or a scheduler's address (typed
# loosely: `distributed` is an optional dependency).
_ClientLike: TypeAlias = object

class _Updates(Protocol):
    """A progress display of one's own (a `tqdm` bar): told how many more tasks finished."""

    def update(self, n: int, /) -> object: ...

# `progress=`: True (a tqdm bar on stderr), `callable(done, total)`, or an object with `update(n)`.
_ProgressLike: TypeAlias = bool | Callable[[int, int | None], object] | _Updates | None

class Progress(NamedTuple):
    """How far a call has got: `done` tasks have an outcome, `failed` of them failed, of `total`
    (None while a generator given as input is not exhausted)."""

    done: int
    failed: int
    total: int | None

# --- tasks -------------------------------------------------------------------------------------

class Job:
    """A function with its arguments, to run later (an entry of `par`)."""

    fn: Callable[..., Any] | None
    args: tuple[Any, ...]
    kwargs: dict[str, Any]
    def __init__(
        self, fn: Callable[..., Any] | None, args: Iterable[Any] = (), kwargs: Mapping[str, Any] | None = None
    ) -> None: ...
    def __eq__(self, other: object) -> bool: ...
    __hash__: ClassVar[None]  # type: ignore[assignment]  # pyright: ignore[reportIncompatibleMethodOverride]

class Arg(Job):
    """The arguments of one task, passed exactly as given."""

    def __init__(self, args: Iterable[Any] = (), kwargs: Mapping[str, Any] | None = None) -> None: ...

def future(fn: Callable[_P, Any], /, *args: _P.args, **kwargs: _P.kwargs) -> Job:
    """`fn(*args, **kwargs)`, to run later as an entry of `parallel.par` (arguments checked)."""

def job(fn: Callable[_P, Any], /, *args: _P.args, **kwargs: _P.kwargs) -> Job:
    """Alias of `future`."""

def arg(*args: Any, **kwargs: Any) -> Arg:
    """The arguments of one task, passed exactly as given (a dict stays positional)."""

# An entry of `par`: a callable, a `(callable, *args)` tuple or a `future(...)`.
_ParEntry: TypeAlias = Callable[..., Any] | tuple[Any, ...] | Job

# --- results -----------------------------------------------------------------------------------

class FailedTask:
    """A task that failed: its positional arguments, keyword arguments and exception.

    `ex` is typed `BaseException`: every `FailedTask` in a result has one (one built by hand
    without `ex`, to compare against, holds `None`)."""

    params: tuple[Any, ...]
    kwargs: dict[str, Any]
    ex: BaseException
    key: Any
    attempts: int
    def __init__(
        self,
        params: Iterable[Any] | None = None,
        kwargs: Mapping[str, Any] | None = None,
        ex: BaseException | None = None,
        key: Any = None,
        attempts: int = 1,
    ) -> None: ...
    @property
    def exc(self) -> BaseException:
        """The exception (python-parallel 0.9.1's name)."""
    def __eq__(self, other: object) -> bool: ...
    __hash__: ClassVar[None]  # type: ignore[assignment]  # pyright: ignore[reportIncompatibleMethodOverride]

class BaseResult:
    """What `map` and `par` return: a `ListResult` or a `DictResult` (whose helpers are typed
    by element; here, for a result whose shape is not known, a list or a dict)."""

    @property
    def failures(self) -> bool:
        """`True` if any task failed."""
    @property
    def failed(self) -> list[FailedTask] | dict[Any, FailedTask]:
        """The failed tasks."""
    @property
    def succeeded(self) -> list[Any] | dict[Any, Any]:
        """The values of the tasks that succeeded."""
    def replace_failed(self, replacement: Any) -> list[Any] | dict[Any, Any]:
        """The results with `replacement` in place of every failed task."""

class ListResult(BaseResult, list[_V]):
    """The results of a call on an iterable: a `list` in input order.

    `ListResult[R]` for a strict call, `ListResult[R | FailedTask]` for a silent one."""

    @property
    def failed(self) -> list[FailedTask]:
        """The failed tasks."""
    @property
    def succeeded(self: Sequence[_S | FailedTask]) -> list[_S]:
        """The values of the tasks that succeeded (`FailedTask` taken out of the type)."""
    def replace_failed(self: Sequence[_S | FailedTask], replacement: _T) -> list[_S | _T]:
        """The results with `replacement` in place of every failed task (a plain list)."""

class DictResult(BaseResult, dict[_K, _V]):
    """The results of a call on a mapping: a `dict` with the same keys, in the same order.

    `DictResult[K, R]` for a strict call, `DictResult[K, R | FailedTask]` for a silent one."""

    @property
    def failed(self: Mapping[_K, object]) -> dict[_K, FailedTask]:
        """The failed tasks, by key."""
    @property
    def succeeded(self: Mapping[_K, _S | FailedTask]) -> dict[_K, _S]:
        """The values of the tasks that succeeded, by key."""
    def replace_failed(self: Mapping[_K, _S | FailedTask], replacement: _T) -> dict[_K, _S | _T]:
        """The results with `replacement` in place of every failed task (a plain dict)."""

class AsyncCall(Generic[_Res_co]):
    """A call already running: `AsyncCall[ListResult[V]]` or `AsyncCall[DictResult[K, V]]`,
    `V` as for the blocking form (see the module docstring)."""

    silent: bool
    def done(self) -> bool: ...
    def cancel(self) -> None: ...
    # The call's own mode (or strict, which only narrows what can come back): its type.
    @overload
    def results(self, timeout: float | None = None, silent: Literal[False] | None = None) -> _Res_co: ...
    # Silent, or not known statically: a `FailedTask` may stand for any task.
    @overload
    def results(self: AsyncCall[DictResult[_K, _S]], timeout: float | None = None, silent: bool = ...) -> DictResult[_K, _S | FailedTask]: ...
    @overload
    def results(self: AsyncCall[ListResult[_S]], timeout: float | None = None, silent: bool = ...) -> ListResult[_S | FailedTask]: ...
    def progress(self) -> Progress: ...
    # `(key, value)` in the order tasks finish: the index for a list, the key for a dict.
    @overload
    def as_completed(self: AsyncCall[DictResult[_K, _S]]) -> Iterator[tuple[_K, _S]]: ...
    @overload
    def as_completed(self: AsyncCall[ListResult[_S]]) -> Iterator[tuple[int, _S]]: ...
    def __await__(self) -> Generator[Any, None, _Res_co]: ...
    @overload
    def __aiter__(self: AsyncCall[DictResult[_K, _S]]) -> AsyncIterator[tuple[_K, _S]]: ...
    @overload
    def __aiter__(self: AsyncCall[ListResult[_S]]) -> AsyncIterator[tuple[int, _S]]: ...
    def shutdown(self, wait: bool = True, cancel: bool = False) -> None: ...
    def __enter__(self) -> Self: ...
    def __exit__(self, *exc_info: object) -> Literal[False]: ...

# --- map, par and their async forms ------------------------------------------------------------
# The overloads of every `map` and `async_map` below: {Mapping → DictResult, any other iterable →
# ListResult} × {strict: `silent` left out or `Literal[False]`; silent: `silent` given as a
# `bool` (`True`, or a value known only at run time), as a keyword or, for the module's
# functions, positionally}. `silent` is required in the silent overloads so that they do not
# overlap the strict ones. A Mapping is also an Iterable, so the Mapping overloads overlap the
# Iterable ones with another return type: that one warning of each checker is silenced on them
# (the order decides: a value known to be a Mapping takes the first). `par` has only the two
# shapes, its elements being Any.
@overload
def map(  # type: ignore[overload-overlap]  # pyright: ignore[reportOverlappingOverload]
    fn: Callable[..., _R],
    params: Mapping[_K, Any],
    executor: _ExecutorLike = ...,
    max_workers: int | None = None,
    timeout: float | None = None,
    extras: Mapping[str, Any] | None = None,
    silent: Literal[False] = False,
    unpack_arguments: bool = True,
    *,
    task_timeout: float | None = None,
    memory_limit: int | None = None,
    progress: _ProgressLike = None,
    client: _ClientLike = None,
    initializer: Callable[..., object] | None = None,
    initargs: Iterable[Any] = (),
    retries: int = 0,
    retry_on: type[BaseException] | tuple[type[BaseException], ...] | None = None,
    max_tasks_per_worker: int | None = None,
    max_worker_memory: int | None = None,
) -> DictResult[_K, _R]: ...
@overload
def map(  # type: ignore[overload-overlap]  # pyright: ignore[reportOverlappingOverload]
    fn: Callable[..., _R],
    params: Mapping[_K, Any],
    executor: _ExecutorLike = ...,
    max_workers: int | None = None,
    timeout: float | None = None,
    extras: Mapping[str, Any] | None = None,
    *,
    silent: bool,
    unpack_arguments: bool = True,
    task_timeout: float | None = None,
    memory_limit: int | None = None,
    progress: _ProgressLike = None,
    client: _ClientLike = None,
    initializer: Callable[..., object] | None = None,
    initargs: Iterable[Any] = (),
    retries: int = 0,
    retry_on: type[BaseException] | tuple[type[BaseException], ...] | None = None,
    max_tasks_per_worker: int | None = None,
    max_worker_memory: int | None = None,
) -> DictResult[_K, _R | FailedTask]: ...
@overload
def map(  # type: ignore[overload-overlap]  # pyright: ignore[reportOverlappingOverload]
    fn: Callable[..., _R],
    params: Mapping[_K, Any],
    executor: _ExecutorLike,
    max_workers: int | None,
    timeout: float | None,
    extras: Mapping[str, Any] | None,
    silent: bool,
    unpack_arguments: bool = True,
    *,
    task_timeout: float | None = None,
    memory_limit: int | None = None,
    progress: _ProgressLike = None,
    client: _ClientLike = None,
    initializer: Callable[..., object] | None = None,
    initargs: Iterable[Any] = (),
    retries: int = 0,
    retry_on: type[BaseException] | tuple[type[BaseException], ...] | None = None,
    max_tasks_per_worker: int | None = None,
    max_worker_memory: int | None = None,
) -> DictResult[_K, _R | FailedTask]: ...
@overload
def map(
    fn: Callable[..., _R],
    params: Iterable[Any],
    executor: _ExecutorLike = ...,
    max_workers: int | None = None,
    timeout: float | None = None,
    extras: Mapping[str, Any] | None = None,
    silent: Literal[False] = False,
    unpack_arguments: bool = True,
    *,
    task_timeout: float | None = None,
    memory_limit: int | None = None,
    progress: _ProgressLike = None,
    client: _ClientLike = None,
    initializer: Callable[..., object] | None = None,
    initargs: Iterable[Any] = (),
    retries: int = 0,
    retry_on: type[BaseException] | tuple[type[BaseException], ...] | None = None,
    max_tasks_per_worker: int | None = None,
    max_worker_memory: int | None = None,
) -> ListResult[_R]: ...
@overload
def map(
    fn: Callable[..., _R],
    params: Iterable[Any],
    executor: _ExecutorLike = ...,
    max_workers: int | None = None,
    timeout: float | None = None,
    extras: Mapping[str, Any] | None = None,
    *,
    silent: bool,
    unpack_arguments: bool = True,
    task_timeout: float | None = None,
    memory_limit: int | None = None,
    progress: _ProgressLike = None,
    client: _ClientLike = None,
    initializer: Callable[..., object] | None = None,
    initargs: Iterable[Any] = (),
    retries: int = 0,
    retry_on: type[BaseException] | tuple[type[BaseException], ...] | None = None,
    max_tasks_per_worker: int | None = None,
    max_worker_memory: int | None = None,
) -> ListResult[_R | FailedTask]: ...
@overload
def map(
    fn: Callable[..., _R],
    params: Iterable[Any],
    executor: _ExecutorLike,
    max_workers: int | None,
    timeout: float | None,
    extras: Mapping[str, Any] | None,
    silent: bool,
    unpack_arguments: bool = True,
    *,
    task_timeout: float | None = None,
    memory_limit: int | None = None,
    progress: _ProgressLike = None,
    client: _ClientLike = None,
    initializer: Callable[..., object] | None = None,
    initargs: Iterable[Any] = (),
    retries: int = 0,
    retry_on: type[BaseException] | tuple[type[BaseException], ...] | None = None,
    max_tasks_per_worker: int | None = None,
    max_worker_memory: int | None = None,
) -> ListResult[_R | FailedTask]: ...
@overload
def async_map(  # type: ignore[overload-overlap]  # pyright: ignore[reportOverlappingOverload]
    fn: Callable[..., _R],
    params: Mapping[_K, Any],
    executor: _ExecutorLike = ...,
    max_workers: int | None = None,
    timeout: float | None = None,
    extras: Mapping[str, Any] | None = None,
    silent: Literal[False] = False,
    unpack_arguments: bool = True,
    *,
    task_timeout: float | None = None,
    memory_limit: int | None = None,
    progress: _ProgressLike = None,
    client: _ClientLike = None,
    initializer: Callable[..., object] | None = None,
    initargs: Iterable[Any] = (),
    retries: int = 0,
    retry_on: type[BaseException] | tuple[type[BaseException], ...] | None = None,
    max_tasks_per_worker: int | None = None,
    max_worker_memory: int | None = None,
) -> AsyncCall[DictResult[_K, _R]]: ...
@overload
def async_map(  # type: ignore[overload-overlap]  # pyright: ignore[reportOverlappingOverload]
    fn: Callable[..., _R],
    params: Mapping[_K, Any],
    executor: _ExecutorLike = ...,
    max_workers: int | None = None,
    timeout: float | None = None,
    extras: Mapping[str, Any] | None = None,
    *,
    silent: bool,
    unpack_arguments: bool = True,
    task_timeout: float | None = None,
    memory_limit: int | None = None,
    progress: _ProgressLike = None,
    client: _ClientLike = None,
    initializer: Callable[..., object] | None = None,
    initargs: Iterable[Any] = (),
    retries: int = 0,
    retry_on: type[BaseException] | tuple[type[BaseException], ...] | None = None,
    max_tasks_per_worker: int | None = None,
    max_worker_memory: int | None = None,
) -> AsyncCall[DictResult[_K, _R | FailedTask]]: ...
@overload
def async_map(  # type: ignore[overload-overlap]  # pyright: ignore[reportOverlappingOverload]
    fn: Callable[..., _R],
    params: Mapping[_K, Any],
    executor: _ExecutorLike,
    max_workers: int | None,
    timeout: float | None,
    extras: Mapping[str, Any] | None,
    silent: bool,
    unpack_arguments: bool = True,
    *,
    task_timeout: float | None = None,
    memory_limit: int | None = None,
    progress: _ProgressLike = None,
    client: _ClientLike = None,
    initializer: Callable[..., object] | None = None,
    initargs: Iterable[Any] = (),
    retries: int = 0,
    retry_on: type[BaseException] | tuple[type[BaseException], ...] | None = None,
    max_tasks_per_worker: int | None = None,
    max_worker_memory: int | None = None,
) -> AsyncCall[DictResult[_K, _R | FailedTask]]: ...
@overload
def async_map(
    fn: Callable[..., _R],
    params: Iterable[Any],
    executor: _ExecutorLike = ...,
    max_workers: int | None = None,
    timeout: float | None = None,
    extras: Mapping[str, Any] | None = None,
    silent: Literal[False] = False,
    unpack_arguments: bool = True,
    *,
    task_timeout: float | None = None,
    memory_limit: int | None = None,
    progress: _ProgressLike = None,
    client: _ClientLike = None,
    initializer: Callable[..., object] | None = None,
    initargs: Iterable[Any] = (),
    retries: int = 0,
    retry_on: type[BaseException] | tuple[type[BaseException], ...] | None = None,
    max_tasks_per_worker: int | None = None,
    max_worker_memory: int | None = None,
) -> AsyncCall[ListResult[_R]]: ...
@overload
def async_map(
    fn: Callable[..., _R],
    params: Iterable[Any],
    executor: _ExecutorLike = ...,
    max_workers: int | None = None,
    timeout: float | None = None,
    extras: Mapping[str, Any] | None = None,
    *,
    silent: bool,
    unpack_arguments: bool = True,
    task_timeout: float | None = None,
    memory_limit: int | None = None,
    progress: _ProgressLike = None,
    client: _ClientLike = None,
    initializer: Callable[..., object] | None = None,
    initargs: Iterable[Any] = (),
    retries: int = 0,
    retry_on: type[BaseException] | tuple[type[BaseException], ...] | None = None,
    max_tasks_per_worker: int | None = None,
    max_worker_memory: int | None = None,
) -> AsyncCall[ListResult[_R | FailedTask]]: ...
@overload
def async_map(
    fn: Callable[..., _R],
    params: Iterable[Any],
    executor: _ExecutorLike,
    max_workers: int | None,
    timeout: float | None,
    extras: Mapping[str, Any] | None,
    silent: bool,
    unpack_arguments: bool = True,
    *,
    task_timeout: float | None = None,
    memory_limit: int | None = None,
    progress: _ProgressLike = None,
    client: _ClientLike = None,
    initializer: Callable[..., object] | None = None,
    initargs: Iterable[Any] = (),
    retries: int = 0,
    retry_on: type[BaseException] | tuple[type[BaseException], ...] | None = None,
    max_tasks_per_worker: int | None = None,
    max_worker_memory: int | None = None,
) -> AsyncCall[ListResult[_R | FailedTask]]: ...
@overload
def par(  # type: ignore[overload-overlap]
    params: Mapping[_K, _ParEntry],
    executor: _ExecutorLike = ...,
    max_workers: int | None = None,
    timeout: float | None = None,
    extras: Mapping[str, Any] | None = None,
    silent: bool = False,
    unpack_arguments: bool = True,
    *,
    task_timeout: float | None = None,
    memory_limit: int | None = None,
    progress: _ProgressLike = None,
    client: _ClientLike = None,
    initializer: Callable[..., object] | None = None,
    initargs: Iterable[Any] = (),
    retries: int = 0,
    retry_on: type[BaseException] | tuple[type[BaseException], ...] | None = None,
    max_tasks_per_worker: int | None = None,
    max_worker_memory: int | None = None,
) -> DictResult[_K, Any]: ...
@overload
def par(
    params: Iterable[_ParEntry],
    executor: _ExecutorLike = ...,
    max_workers: int | None = None,
    timeout: float | None = None,
    extras: Mapping[str, Any] | None = None,
    silent: bool = False,
    unpack_arguments: bool = True,
    *,
    task_timeout: float | None = None,
    memory_limit: int | None = None,
    progress: _ProgressLike = None,
    client: _ClientLike = None,
    initializer: Callable[..., object] | None = None,
    initargs: Iterable[Any] = (),
    retries: int = 0,
    retry_on: type[BaseException] | tuple[type[BaseException], ...] | None = None,
    max_tasks_per_worker: int | None = None,
    max_worker_memory: int | None = None,
) -> ListResult[Any]: ...
@overload
def async_par(  # type: ignore[overload-overlap]
    params: Mapping[_K, _ParEntry],
    executor: _ExecutorLike = ...,
    max_workers: int | None = None,
    timeout: float | None = None,
    extras: Mapping[str, Any] | None = None,
    silent: bool = False,
    unpack_arguments: bool = True,
    *,
    task_timeout: float | None = None,
    memory_limit: int | None = None,
    progress: _ProgressLike = None,
    client: _ClientLike = None,
    initializer: Callable[..., object] | None = None,
    initargs: Iterable[Any] = (),
    retries: int = 0,
    retry_on: type[BaseException] | tuple[type[BaseException], ...] | None = None,
    max_tasks_per_worker: int | None = None,
    max_worker_memory: int | None = None,
) -> AsyncCall[DictResult[_K, Any]]: ...
@overload
def async_par(
    params: Iterable[_ParEntry],
    executor: _ExecutorLike = ...,
    max_workers: int | None = None,
    timeout: float | None = None,
    extras: Mapping[str, Any] | None = None,
    silent: bool = False,
    unpack_arguments: bool = True,
    *,
    task_timeout: float | None = None,
    memory_limit: int | None = None,
    progress: _ProgressLike = None,
    client: _ClientLike = None,
    initializer: Callable[..., object] | None = None,
    initargs: Iterable[Any] = (),
    retries: int = 0,
    retry_on: type[BaseException] | tuple[type[BaseException], ...] | None = None,
    max_tasks_per_worker: int | None = None,
    max_worker_memory: int | None = None,
) -> AsyncCall[ListResult[Any]]: ...

def worker_state() -> dict[str, Any]:
    """A dict private to the worker running the current task, kept across its tasks and calls."""

def split(
    collection: list[_T] | tuple[_T, ...],
    fn: Callable[..., Iterable[_U]],
    executor: _ExecutorLike = ...,
    workers: int | None = None,
    timeout: float | None = None,
    extras: Mapping[str, Any] | None = None,
) -> list[_U]:
    """`fn(chunk, **extras)` on `workers` contiguous chunks of `collection`, in parallel; the
    concatenation of what they return."""

# --- parallel.thread / parallel.process ---------------------------------------------------------

class _Executor:
    """`parallel.thread` and `parallel.process`: the functions above on one executor, with its
    defaults for `timeout` and `max_workers`."""

    executor: ExecutorStrategy
    timeout: float | None
    max_workers: int | None
    def __init__(self, executor: _ExecutorLike, timeout: float | None = None, max_workers: int | None = None) -> None: ...
    @overload
    def map(  # type: ignore[overload-overlap]  # pyright: ignore[reportOverlappingOverload]
        self,
        fn: Callable[..., _R],
        params: Mapping[_K, Any],
        *,
        max_workers: int | None = None,
        timeout: float | None = None,
        extras: Mapping[str, Any] | None = None,
        silent: Literal[False] = False,
        unpack_arguments: bool = True,
        task_timeout: float | None = None,
        memory_limit: int | None = None,
        progress: _ProgressLike = None,
    client: _ClientLike = None,
    initializer: Callable[..., object] | None = None,
    initargs: Iterable[Any] = (),
    retries: int = 0,
    retry_on: type[BaseException] | tuple[type[BaseException], ...] | None = None,
    max_tasks_per_worker: int | None = None,
    max_worker_memory: int | None = None,
    ) -> DictResult[_K, _R]: ...
    @overload
    def map(  # type: ignore[overload-overlap]  # pyright: ignore[reportOverlappingOverload]
        self,
        fn: Callable[..., _R],
        params: Mapping[_K, Any],
        *,
        max_workers: int | None = None,
        timeout: float | None = None,
        extras: Mapping[str, Any] | None = None,
        silent: bool,
        unpack_arguments: bool = True,
        task_timeout: float | None = None,
        memory_limit: int | None = None,
        progress: _ProgressLike = None,
    client: _ClientLike = None,
    initializer: Callable[..., object] | None = None,
    initargs: Iterable[Any] = (),
    retries: int = 0,
    retry_on: type[BaseException] | tuple[type[BaseException], ...] | None = None,
    max_tasks_per_worker: int | None = None,
    max_worker_memory: int | None = None,
    ) -> DictResult[_K, _R | FailedTask]: ...
    @overload
    def map(
        self,
        fn: Callable[..., _R],
        params: Iterable[Any],
        *,
        max_workers: int | None = None,
        timeout: float | None = None,
        extras: Mapping[str, Any] | None = None,
        silent: Literal[False] = False,
        unpack_arguments: bool = True,
        task_timeout: float | None = None,
        memory_limit: int | None = None,
        progress: _ProgressLike = None,
    client: _ClientLike = None,
    initializer: Callable[..., object] | None = None,
    initargs: Iterable[Any] = (),
    retries: int = 0,
    retry_on: type[BaseException] | tuple[type[BaseException], ...] | None = None,
    max_tasks_per_worker: int | None = None,
    max_worker_memory: int | None = None,
    ) -> ListResult[_R]: ...
    @overload
    def map(
        self,
        fn: Callable[..., _R],
        params: Iterable[Any],
        *,
        max_workers: int | None = None,
        timeout: float | None = None,
        extras: Mapping[str, Any] | None = None,
        silent: bool,
        unpack_arguments: bool = True,
        task_timeout: float | None = None,
        memory_limit: int | None = None,
        progress: _ProgressLike = None,
    client: _ClientLike = None,
    initializer: Callable[..., object] | None = None,
    initargs: Iterable[Any] = (),
    retries: int = 0,
    retry_on: type[BaseException] | tuple[type[BaseException], ...] | None = None,
    max_tasks_per_worker: int | None = None,
    max_worker_memory: int | None = None,
    ) -> ListResult[_R | FailedTask]: ...
    @overload
    def async_map(  # type: ignore[overload-overlap]  # pyright: ignore[reportOverlappingOverload]
        self,
        fn: Callable[..., _R],
        params: Mapping[_K, Any],
        *,
        max_workers: int | None = None,
        timeout: float | None = None,
        extras: Mapping[str, Any] | None = None,
        silent: Literal[False] = False,
        unpack_arguments: bool = True,
        task_timeout: float | None = None,
        memory_limit: int | None = None,
        progress: _ProgressLike = None,
    client: _ClientLike = None,
    initializer: Callable[..., object] | None = None,
    initargs: Iterable[Any] = (),
    retries: int = 0,
    retry_on: type[BaseException] | tuple[type[BaseException], ...] | None = None,
    max_tasks_per_worker: int | None = None,
    max_worker_memory: int | None = None,
    ) -> AsyncCall[DictResult[_K, _R]]: ...
    @overload
    def async_map(  # type: ignore[overload-overlap]  # pyright: ignore[reportOverlappingOverload]
        self,
        fn: Callable[..., _R],
        params: Mapping[_K, Any],
        *,
        max_workers: int | None = None,
        timeout: float | None = None,
        extras: Mapping[str, Any] | None = None,
        silent: bool,
        unpack_arguments: bool = True,
        task_timeout: float | None = None,
        memory_limit: int | None = None,
        progress: _ProgressLike = None,
    client: _ClientLike = None,
    initializer: Callable[..., object] | None = None,
    initargs: Iterable[Any] = (),
    retries: int = 0,
    retry_on: type[BaseException] | tuple[type[BaseException], ...] | None = None,
    max_tasks_per_worker: int | None = None,
    max_worker_memory: int | None = None,
    ) -> AsyncCall[DictResult[_K, _R | FailedTask]]: ...
    @overload
    def async_map(
        self,
        fn: Callable[..., _R],
        params: Iterable[Any],
        *,
        max_workers: int | None = None,
        timeout: float | None = None,
        extras: Mapping[str, Any] | None = None,
        silent: Literal[False] = False,
        unpack_arguments: bool = True,
        task_timeout: float | None = None,
        memory_limit: int | None = None,
        progress: _ProgressLike = None,
    client: _ClientLike = None,
    initializer: Callable[..., object] | None = None,
    initargs: Iterable[Any] = (),
    retries: int = 0,
    retry_on: type[BaseException] | tuple[type[BaseException], ...] | None = None,
    max_tasks_per_worker: int | None = None,
    max_worker_memory: int | None = None,
    ) -> AsyncCall[ListResult[_R]]: ...
    @overload
    def async_map(
        self,
        fn: Callable[..., _R],
        params: Iterable[Any],
        *,
        max_workers: int | None = None,
        timeout: float | None = None,
        extras: Mapping[str, Any] | None = None,
        silent: bool,
        unpack_arguments: bool = True,
        task_timeout: float | None = None,
        memory_limit: int | None = None,
        progress: _ProgressLike = None,
    client: _ClientLike = None,
    initializer: Callable[..., object] | None = None,
    initargs: Iterable[Any] = (),
    retries: int = 0,
    retry_on: type[BaseException] | tuple[type[BaseException], ...] | None = None,
    max_tasks_per_worker: int | None = None,
    max_worker_memory: int | None = None,
    ) -> AsyncCall[ListResult[_R | FailedTask]]: ...
    @overload
    def par(  # type: ignore[overload-overlap]
        self,
        params: Mapping[_K, _ParEntry],
        *,
        max_workers: int | None = None,
        timeout: float | None = None,
        extras: Mapping[str, Any] | None = None,
        silent: bool = False,
        unpack_arguments: bool = True,
        task_timeout: float | None = None,
        memory_limit: int | None = None,
        progress: _ProgressLike = None,
    client: _ClientLike = None,
    initializer: Callable[..., object] | None = None,
    initargs: Iterable[Any] = (),
    retries: int = 0,
    retry_on: type[BaseException] | tuple[type[BaseException], ...] | None = None,
    max_tasks_per_worker: int | None = None,
    max_worker_memory: int | None = None,
    ) -> DictResult[_K, Any]: ...
    @overload
    def par(
        self,
        params: Iterable[_ParEntry],
        *,
        max_workers: int | None = None,
        timeout: float | None = None,
        extras: Mapping[str, Any] | None = None,
        silent: bool = False,
        unpack_arguments: bool = True,
        task_timeout: float | None = None,
        memory_limit: int | None = None,
        progress: _ProgressLike = None,
    client: _ClientLike = None,
    initializer: Callable[..., object] | None = None,
    initargs: Iterable[Any] = (),
    retries: int = 0,
    retry_on: type[BaseException] | tuple[type[BaseException], ...] | None = None,
    max_tasks_per_worker: int | None = None,
    max_worker_memory: int | None = None,
    ) -> ListResult[Any]: ...
    @overload
    def async_par(  # type: ignore[overload-overlap]
        self,
        params: Mapping[_K, _ParEntry],
        *,
        max_workers: int | None = None,
        timeout: float | None = None,
        extras: Mapping[str, Any] | None = None,
        silent: bool = False,
        unpack_arguments: bool = True,
        task_timeout: float | None = None,
        memory_limit: int | None = None,
        progress: _ProgressLike = None,
    client: _ClientLike = None,
    initializer: Callable[..., object] | None = None,
    initargs: Iterable[Any] = (),
    retries: int = 0,
    retry_on: type[BaseException] | tuple[type[BaseException], ...] | None = None,
    max_tasks_per_worker: int | None = None,
    max_worker_memory: int | None = None,
    ) -> AsyncCall[DictResult[_K, Any]]: ...
    @overload
    def async_par(
        self,
        params: Iterable[_ParEntry],
        *,
        max_workers: int | None = None,
        timeout: float | None = None,
        extras: Mapping[str, Any] | None = None,
        silent: bool = False,
        unpack_arguments: bool = True,
        task_timeout: float | None = None,
        memory_limit: int | None = None,
        progress: _ProgressLike = None,
    client: _ClientLike = None,
    initializer: Callable[..., object] | None = None,
    initargs: Iterable[Any] = (),
    retries: int = 0,
    retry_on: type[BaseException] | tuple[type[BaseException], ...] | None = None,
    max_tasks_per_worker: int | None = None,
    max_worker_memory: int | None = None,
    ) -> AsyncCall[ListResult[Any]]: ...
    def split(
        self,
        collection: list[_T] | tuple[_T, ...],
        fn: Callable[..., Iterable[_U]],
        *,
        workers: int | None = None,
        timeout: float | None = None,
        extras: Mapping[str, Any] | None = None,
    ) -> list[_U]: ...
    @staticmethod
    def future(fn: Callable[_P, Any], /, *args: _P.args, **kwargs: _P.kwargs) -> Job: ...

thread: _Executor
process: _Executor
dask: _Executor
ray: _Executor

# --- @parallel.decorate ---------------------------------------------------------------------------

class _BoundExecutor(Generic[_P, _R]):
    """`decorated.thread` / `decorated.process`: `map`, `async_map` and `future` of one
    function (not an `_Executor`: no `par`, `async_par` or `split`)."""

    executor: ExecutorStrategy
    timeout: float | None
    max_workers: int | None
    def __init__(
        self, fn: Callable[_P, _R], executor: _ExecutorLike, timeout: float | None = None, max_workers: int | None = None
    ) -> None: ...
    @overload
    def map(  # type: ignore[overload-overlap]  # pyright: ignore[reportOverlappingOverload]
        self,
        params: Mapping[_K, Any],
        *,
        max_workers: int | None = None,
        timeout: float | None = None,
        extras: Mapping[str, Any] | None = None,
        silent: Literal[False] = False,
        unpack_arguments: bool = True,
        task_timeout: float | None = None,
        memory_limit: int | None = None,
        progress: _ProgressLike = None,
    client: _ClientLike = None,
    initializer: Callable[..., object] | None = None,
    initargs: Iterable[Any] = (),
    retries: int = 0,
    retry_on: type[BaseException] | tuple[type[BaseException], ...] | None = None,
    max_tasks_per_worker: int | None = None,
    max_worker_memory: int | None = None,
    ) -> DictResult[_K, _R]: ...
    @overload
    def map(  # type: ignore[overload-overlap]  # pyright: ignore[reportOverlappingOverload]
        self,
        params: Mapping[_K, Any],
        *,
        max_workers: int | None = None,
        timeout: float | None = None,
        extras: Mapping[str, Any] | None = None,
        silent: bool,
        unpack_arguments: bool = True,
        task_timeout: float | None = None,
        memory_limit: int | None = None,
        progress: _ProgressLike = None,
    client: _ClientLike = None,
    initializer: Callable[..., object] | None = None,
    initargs: Iterable[Any] = (),
    retries: int = 0,
    retry_on: type[BaseException] | tuple[type[BaseException], ...] | None = None,
    max_tasks_per_worker: int | None = None,
    max_worker_memory: int | None = None,
    ) -> DictResult[_K, _R | FailedTask]: ...
    @overload
    def map(
        self,
        params: Iterable[Any],
        *,
        max_workers: int | None = None,
        timeout: float | None = None,
        extras: Mapping[str, Any] | None = None,
        silent: Literal[False] = False,
        unpack_arguments: bool = True,
        task_timeout: float | None = None,
        memory_limit: int | None = None,
        progress: _ProgressLike = None,
    client: _ClientLike = None,
    initializer: Callable[..., object] | None = None,
    initargs: Iterable[Any] = (),
    retries: int = 0,
    retry_on: type[BaseException] | tuple[type[BaseException], ...] | None = None,
    max_tasks_per_worker: int | None = None,
    max_worker_memory: int | None = None,
    ) -> ListResult[_R]: ...
    @overload
    def map(
        self,
        params: Iterable[Any],
        *,
        max_workers: int | None = None,
        timeout: float | None = None,
        extras: Mapping[str, Any] | None = None,
        silent: bool,
        unpack_arguments: bool = True,
        task_timeout: float | None = None,
        memory_limit: int | None = None,
        progress: _ProgressLike = None,
    client: _ClientLike = None,
    initializer: Callable[..., object] | None = None,
    initargs: Iterable[Any] = (),
    retries: int = 0,
    retry_on: type[BaseException] | tuple[type[BaseException], ...] | None = None,
    max_tasks_per_worker: int | None = None,
    max_worker_memory: int | None = None,
    ) -> ListResult[_R | FailedTask]: ...
    @overload
    def async_map(  # type: ignore[overload-overlap]  # pyright: ignore[reportOverlappingOverload]
        self,
        params: Mapping[_K, Any],
        *,
        max_workers: int | None = None,
        timeout: float | None = None,
        extras: Mapping[str, Any] | None = None,
        silent: Literal[False] = False,
        unpack_arguments: bool = True,
        task_timeout: float | None = None,
        memory_limit: int | None = None,
        progress: _ProgressLike = None,
    client: _ClientLike = None,
    initializer: Callable[..., object] | None = None,
    initargs: Iterable[Any] = (),
    retries: int = 0,
    retry_on: type[BaseException] | tuple[type[BaseException], ...] | None = None,
    max_tasks_per_worker: int | None = None,
    max_worker_memory: int | None = None,
    ) -> AsyncCall[DictResult[_K, _R]]: ...
    @overload
    def async_map(  # type: ignore[overload-overlap]  # pyright: ignore[reportOverlappingOverload]
        self,
        params: Mapping[_K, Any],
        *,
        max_workers: int | None = None,
        timeout: float | None = None,
        extras: Mapping[str, Any] | None = None,
        silent: bool,
        unpack_arguments: bool = True,
        task_timeout: float | None = None,
        memory_limit: int | None = None,
        progress: _ProgressLike = None,
    client: _ClientLike = None,
    initializer: Callable[..., object] | None = None,
    initargs: Iterable[Any] = (),
    retries: int = 0,
    retry_on: type[BaseException] | tuple[type[BaseException], ...] | None = None,
    max_tasks_per_worker: int | None = None,
    max_worker_memory: int | None = None,
    ) -> AsyncCall[DictResult[_K, _R | FailedTask]]: ...
    @overload
    def async_map(
        self,
        params: Iterable[Any],
        *,
        max_workers: int | None = None,
        timeout: float | None = None,
        extras: Mapping[str, Any] | None = None,
        silent: Literal[False] = False,
        unpack_arguments: bool = True,
        task_timeout: float | None = None,
        memory_limit: int | None = None,
        progress: _ProgressLike = None,
    client: _ClientLike = None,
    initializer: Callable[..., object] | None = None,
    initargs: Iterable[Any] = (),
    retries: int = 0,
    retry_on: type[BaseException] | tuple[type[BaseException], ...] | None = None,
    max_tasks_per_worker: int | None = None,
    max_worker_memory: int | None = None,
    ) -> AsyncCall[ListResult[_R]]: ...
    @overload
    def async_map(
        self,
        params: Iterable[Any],
        *,
        max_workers: int | None = None,
        timeout: float | None = None,
        extras: Mapping[str, Any] | None = None,
        silent: bool,
        unpack_arguments: bool = True,
        task_timeout: float | None = None,
        memory_limit: int | None = None,
        progress: _ProgressLike = None,
    client: _ClientLike = None,
    initializer: Callable[..., object] | None = None,
    initargs: Iterable[Any] = (),
    retries: int = 0,
    retry_on: type[BaseException] | tuple[type[BaseException], ...] | None = None,
    max_tasks_per_worker: int | None = None,
    max_worker_memory: int | None = None,
    ) -> AsyncCall[ListResult[_R | FailedTask]]: ...
    def future(self, *args: _P.args, **kwargs: _P.kwargs) -> Job: ...

class ParallelCallable(Generic[_P, _R]):
    """A function decorated with `@parallel.decorate`: callable as before (same parameters and
    return type), with `.map`, `.async_map`, `.future` and the `.thread` / `.process` forms.
    `.map` and `.async_map` also take `executor=`; the others take the options of the
    blocking forms (no `executor`)."""

    thread: _BoundExecutor[_P, _R]
    process: _BoundExecutor[_P, _R]
    __wrapped__: Callable[_P, _R]
    __parallel_fn__: Callable[_P, _R]
    def __init__(
        self,
        fn: Callable[_P, _R],
        executor: _ExecutorLike = ...,
        timeout: float | None = None,
        max_workers: int | None = None,
    ) -> None: ...
    def __call__(self, *args: _P.args, **kwargs: _P.kwargs) -> _R: ...
    @overload
    def __get__(self, instance: None, owner: type[Any] | None = None) -> Self: ...
    @overload
    def __get__(self, instance: object, owner: type[Any] | None = None) -> Callable[..., _R]: ...
    @overload
    def map(  # type: ignore[overload-overlap]  # pyright: ignore[reportOverlappingOverload]
        self,
        params: Mapping[_K, Any],
        *,
        executor: _ExecutorLike = ...,
        max_workers: int | None = None,
        timeout: float | None = None,
        extras: Mapping[str, Any] | None = None,
        silent: Literal[False] = False,
        unpack_arguments: bool = True,
        task_timeout: float | None = None,
        memory_limit: int | None = None,
        progress: _ProgressLike = None,
    client: _ClientLike = None,
    initializer: Callable[..., object] | None = None,
    initargs: Iterable[Any] = (),
    retries: int = 0,
    retry_on: type[BaseException] | tuple[type[BaseException], ...] | None = None,
    max_tasks_per_worker: int | None = None,
    max_worker_memory: int | None = None,
    ) -> DictResult[_K, _R]: ...
    @overload
    def map(  # type: ignore[overload-overlap]  # pyright: ignore[reportOverlappingOverload]
        self,
        params: Mapping[_K, Any],
        *,
        executor: _ExecutorLike = ...,
        max_workers: int | None = None,
        timeout: float | None = None,
        extras: Mapping[str, Any] | None = None,
        silent: bool,
        unpack_arguments: bool = True,
        task_timeout: float | None = None,
        memory_limit: int | None = None,
        progress: _ProgressLike = None,
    client: _ClientLike = None,
    initializer: Callable[..., object] | None = None,
    initargs: Iterable[Any] = (),
    retries: int = 0,
    retry_on: type[BaseException] | tuple[type[BaseException], ...] | None = None,
    max_tasks_per_worker: int | None = None,
    max_worker_memory: int | None = None,
    ) -> DictResult[_K, _R | FailedTask]: ...
    @overload
    def map(
        self,
        params: Iterable[Any],
        *,
        executor: _ExecutorLike = ...,
        max_workers: int | None = None,
        timeout: float | None = None,
        extras: Mapping[str, Any] | None = None,
        silent: Literal[False] = False,
        unpack_arguments: bool = True,
        task_timeout: float | None = None,
        memory_limit: int | None = None,
        progress: _ProgressLike = None,
    client: _ClientLike = None,
    initializer: Callable[..., object] | None = None,
    initargs: Iterable[Any] = (),
    retries: int = 0,
    retry_on: type[BaseException] | tuple[type[BaseException], ...] | None = None,
    max_tasks_per_worker: int | None = None,
    max_worker_memory: int | None = None,
    ) -> ListResult[_R]: ...
    @overload
    def map(
        self,
        params: Iterable[Any],
        *,
        executor: _ExecutorLike = ...,
        max_workers: int | None = None,
        timeout: float | None = None,
        extras: Mapping[str, Any] | None = None,
        silent: bool,
        unpack_arguments: bool = True,
        task_timeout: float | None = None,
        memory_limit: int | None = None,
        progress: _ProgressLike = None,
    client: _ClientLike = None,
    initializer: Callable[..., object] | None = None,
    initargs: Iterable[Any] = (),
    retries: int = 0,
    retry_on: type[BaseException] | tuple[type[BaseException], ...] | None = None,
    max_tasks_per_worker: int | None = None,
    max_worker_memory: int | None = None,
    ) -> ListResult[_R | FailedTask]: ...
    @overload
    def async_map(  # type: ignore[overload-overlap]  # pyright: ignore[reportOverlappingOverload]
        self,
        params: Mapping[_K, Any],
        *,
        executor: _ExecutorLike = ...,
        max_workers: int | None = None,
        timeout: float | None = None,
        extras: Mapping[str, Any] | None = None,
        silent: Literal[False] = False,
        unpack_arguments: bool = True,
        task_timeout: float | None = None,
        memory_limit: int | None = None,
        progress: _ProgressLike = None,
    client: _ClientLike = None,
    initializer: Callable[..., object] | None = None,
    initargs: Iterable[Any] = (),
    retries: int = 0,
    retry_on: type[BaseException] | tuple[type[BaseException], ...] | None = None,
    max_tasks_per_worker: int | None = None,
    max_worker_memory: int | None = None,
    ) -> AsyncCall[DictResult[_K, _R]]: ...
    @overload
    def async_map(  # type: ignore[overload-overlap]  # pyright: ignore[reportOverlappingOverload]
        self,
        params: Mapping[_K, Any],
        *,
        executor: _ExecutorLike = ...,
        max_workers: int | None = None,
        timeout: float | None = None,
        extras: Mapping[str, Any] | None = None,
        silent: bool,
        unpack_arguments: bool = True,
        task_timeout: float | None = None,
        memory_limit: int | None = None,
        progress: _ProgressLike = None,
    client: _ClientLike = None,
    initializer: Callable[..., object] | None = None,
    initargs: Iterable[Any] = (),
    retries: int = 0,
    retry_on: type[BaseException] | tuple[type[BaseException], ...] | None = None,
    max_tasks_per_worker: int | None = None,
    max_worker_memory: int | None = None,
    ) -> AsyncCall[DictResult[_K, _R | FailedTask]]: ...
    @overload
    def async_map(
        self,
        params: Iterable[Any],
        *,
        executor: _ExecutorLike = ...,
        max_workers: int | None = None,
        timeout: float | None = None,
        extras: Mapping[str, Any] | None = None,
        silent: Literal[False] = False,
        unpack_arguments: bool = True,
        task_timeout: float | None = None,
        memory_limit: int | None = None,
        progress: _ProgressLike = None,
    client: _ClientLike = None,
    initializer: Callable[..., object] | None = None,
    initargs: Iterable[Any] = (),
    retries: int = 0,
    retry_on: type[BaseException] | tuple[type[BaseException], ...] | None = None,
    max_tasks_per_worker: int | None = None,
    max_worker_memory: int | None = None,
    ) -> AsyncCall[ListResult[_R]]: ...
    @overload
    def async_map(
        self,
        params: Iterable[Any],
        *,
        executor: _ExecutorLike = ...,
        max_workers: int | None = None,
        timeout: float | None = None,
        extras: Mapping[str, Any] | None = None,
        silent: bool,
        unpack_arguments: bool = True,
        task_timeout: float | None = None,
        memory_limit: int | None = None,
        progress: _ProgressLike = None,
    client: _ClientLike = None,
    initializer: Callable[..., object] | None = None,
    initargs: Iterable[Any] = (),
    retries: int = 0,
    retry_on: type[BaseException] | tuple[type[BaseException], ...] | None = None,
    max_tasks_per_worker: int | None = None,
    max_worker_memory: int | None = None,
    ) -> AsyncCall[ListResult[_R | FailedTask]]: ...
    def future(self, *args: _P.args, **kwargs: _P.kwargs) -> Job:
        """This function with these arguments (checked), for `parallel.par`."""

# Bare, `@parallel.decorate(parallel.PROCESS)`, or with keyword options; `ex=` is
# python-parallel 0.0.2's name for `executor=`.
@overload
def decorate(fn: Callable[_P, _R], /) -> ParallelCallable[_P, _R]: ...
@overload
def decorate(
    executor: _ExecutorLike, /, *, timeout: float | None = None, max_workers: int | None = None
) -> Callable[[Callable[_P, _R]], ParallelCallable[_P, _R]]: ...
@overload
def decorate(
    *,
    executor: _ExecutorLike = ...,
    ex: _ExecutorLike = ...,
    timeout: float | None = None,
    max_workers: int | None = None,
) -> Callable[[Callable[_P, _R]], ParallelCallable[_P, _R]]: ...
