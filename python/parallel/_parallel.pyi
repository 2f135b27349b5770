"""The Rust extension: the engine's calls, as the Python layer uses them."""

from collections.abc import Callable, Iterator, Sequence
from typing import Any, final

from typing_extensions import Self

__all__ = [
    "run_threads",
    "run_threads_streamed",
    "run_program_streamed",
    "run_program",
    "run_cluster",
    "pickle_params",
    "plain_dumps",
    "plain_loads",
    "types_of",
    "Call",
    "Stopped",
    "Program",
    "Params",
    "Worker",
    "OutOfBand",
    "SharedBuffer",
    "DEFAULT_THREAD_WORKERS",
]

DEFAULT_THREAD_WORKERS: int
__version__: str

@final
class Call:
    # `(status, values, failures)` once ended, `None` if `timeout` passed first.
    def wait(self, timeout: float | None = ...) -> tuple[str, Any, list[tuple[Any, ...]]] | None: ...
    # The outcomes that arrived, `(index, ok, value or failure tuple)`; `None` once all went out.
    def next_outcomes(self, timeout: float | None = ...) -> list[tuple[int, bool, Any]] | None: ...
    def unpace(self) -> None: ...
    # Waits for the end without taking the values (they may have been handed out); True once ended.
    def join(self, timeout: float | None = ...) -> bool: ...
    # `(done, failed, total)`; `total` None while a streamed input is not exhausted.
    def progress(self) -> tuple[int, int, int | None]: ...
    def cancel(self) -> None: ...
    def done(self) -> bool: ...

@final
class Program:
    # `logs(line)`: each line a worker writes to its PARALLEL_LOG_FD (a log record, `_logs`).
    def __new__(
        cls,
        argv: Sequence[str],
        env: Sequence[tuple[str, str]],
        cwd: str | None = ...,
        logs: Callable[[bytes], object] | None = ...,
    ) -> Self: ...
    def kill_workers(self) -> int: ...

# The calling thread's `(worker_state(), initializers run)` dicts, held by the OS thread.
def thread_state() -> tuple[dict[str, Any], dict[Any, Any]]: ...
@final
class Params:
    # A call's pickled parameters (`pickle_params`), taken by `run_program` once.
    def __len__(self) -> int: ...

# `tasks`: `(callable, args, kwargs or None)` triples; with `function`, a sequence of
# parameters, each task `function(param, **kwargs)` (`spread`: `function(*param, **kwargs)`).
def run_threads(
    tasks: Sequence[Any],
    max_workers: int | None = ...,
    timeout: float | None = ...,
    task_timeout: float | None = ...,
    silent: bool = ...,
    *,
    function: Callable[..., Any] | None = ...,
    spread: bool = ...,
    kwargs: dict[str, Any] | None = ...,
    into: type[list[Any]] | None = ...,
    retries: int = ...,
    retry_on: tuple[type[BaseException], ...] | None = ...,
) -> Call: ...
# Whether a cluster call's batch must stop (cancelled, past its deadline, or after a strict
# failure before it): what `run_cluster` hands its runner with each batch.
@final
class Stopped:
    def __call__(self) -> bool: ...

# A call of `tasks` tasks on a cluster: the engine sizes the batches and calls
# `runner.run(indices, stopped)` for each, which answers one outcome per task, `(True, value)`
# or `(False, kind, message, signal, exitcode, error)`.
def run_cluster(
    runner: Any,
    tasks: int,
    max_workers: int | None = ...,
    timeout: float | None = ...,
    silent: bool = ...,
    *,
    into: type[list[Any]] | None = ...,
) -> Call: ...
def run_program(
    program: Program,
    function: bytes,
    extras: bytes,
    params: Sequence[bytes] | Params,
    max_workers: int | None = ...,
    timeout: float | None = ...,
    task_timeout: float | None = ...,
    silent: bool = ...,
    memory_limit: int | None = ...,
    *,
    loads: Callable[[bytes], Any] | None = ...,
    into: type[list[Any]] | None = ...,
    retries: int = ...,
    retry_on: tuple[type[BaseException], ...] | None = ...,
    max_tasks_per_worker: int | None = ...,
    max_worker_memory: int | None = ...,
) -> Call: ...

# Parameters read from an iterator as the workers take them: each the one argument of
# `function`, unless it is of the `special` types — then `convert(item)` gives its task tuple,
# `(callable, args, kwargs or None)` (threads) or `(callable, args, kwargs, own kwargs)`
# (processes: `(args, own kwargs)` pickled).
def run_threads_streamed(
    params: Iterator[Any],
    function: Callable[..., Any],
    kwargs: dict[str, Any] | None,
    special: tuple[type, ...],
    convert: Callable[[Any], tuple[Any, ...]],
    max_workers: int | None = ...,
    timeout: float | None = ...,
    task_timeout: float | None = ...,
    silent: bool = ...,
    *,
    into: type[list[Any]] | None = ...,
    retries: int = ...,
    retry_on: tuple[type[BaseException], ...] | None = ...,
) -> Call: ...
def run_program_streamed(
    program: Program,
    function: bytes,
    extras: bytes,
    params: Iterator[Any],
    special: tuple[type, ...],
    convert: Callable[[Any], tuple[Any, ...]],
    dumps: Callable[[Any, int], bytes],
    protocol: int,
    fallback: Callable[[int, Any], bytes],
    max_workers: int | None = ...,
    timeout: float | None = ...,
    task_timeout: float | None = ...,
    silent: bool = ...,
    memory_limit: int | None = ...,
    *,
    loads: Callable[[bytes], Any] | None = ...,
    into: type[list[Any]] | None = ...,
    retries: int = ...,
    retry_on: tuple[type[BaseException], ...] | None = ...,
    max_tasks_per_worker: int | None = ...,
    max_worker_memory: int | None = ...,
) -> Call: ...

# `wrap`: 0 each item itself, 1 `((item,), None)`, 2 `(tuple(item), None)`; `dumps(obj,
# protocol)` for what is not a plain value, `fallback(index, obj)` where that raises or names
# `__main__`.
def pickle_params(
    items: Sequence[Any],
    wrap: int,
    dumps: Callable[[Any, int], bytes],
    protocol: int,
    fallback: Callable[[int, Any], bytes],
    *,
    lazy: bool = ...,  # pickled by `run_program`, run after run, while the call's first tasks run
) -> Params: ...
def plain_dumps(obj: object) -> bytes | None: ...
def plain_loads(data: bytes) -> tuple[bool, Any]: ...

# `set(map(type, items))` of a list (with `nested`, of its items' items).
def types_of(items: list[Any], nested: bool = ...) -> set[type]: ...

# pickle.dumps's `buffer_callback`: keeps buffers of 128 KiB or more out of band.
@final
class OutOfBand:
    def __new__(cls) -> Self: ...
    def __call__(self, buffer: Any) -> bool: ...

# The owner of a buffer that crossed through shared memory: pickle.loads's `buffers` are
# writable memoryviews of its bytes, which keep it alive.
@final
class SharedBuffer:
    def __len__(self) -> int: ...
@final
class Worker:
    # `flush()`: called before each batch's last reply.
    def __new__(cls, requests: int, replies: int, flush: Callable[[], object] | None = ...) -> Self: ...
    # `(entry, extras, count)` of the next request, `None` once the parent closed the requests.
    def next_request(self) -> tuple[bytes, bytes, int] | None: ...
    def serve(
        self,
        function: Callable[..., Any] | None,
        extras: dict[str, Any] | None,
        single: bool,
        unpicklable: type,
        reply: Callable[[str, Any, Any], tuple[bytes, bool]],
    ) -> None: ...
    def answer(self, frames: bytes, count: int) -> None: ...
