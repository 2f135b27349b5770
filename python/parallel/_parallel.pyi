"""The Rust extension: the engine's calls, as the Python layer uses them."""

from collections.abc import Callable, Sequence
from typing import Any, final

from typing_extensions import Self

__all__ = ["run_threads", "run_program", "Call", "Program", "Worker", "DEFAULT_THREAD_WORKERS"]

DEFAULT_THREAD_WORKERS: int

@final
class Call:
    # `(status, values, failures)` once ended, `None` if `timeout` passed first.
    def wait(self, timeout: float | None = ...) -> tuple[str, Any, list[tuple[Any, ...]]] | None: ...
    def cancel(self) -> None: ...
    def done(self) -> bool: ...

@final
class Program:
    def __new__(cls, argv: Sequence[str], env: Sequence[tuple[str, str]], cwd: str | None = ...) -> Self: ...
    def kill_workers(self) -> int: ...

def run_threads(
    tasks: Sequence[tuple[Callable[..., Any], tuple[Any, ...], dict[str, Any] | None]],
    max_workers: int | None = ...,
    timeout: float | None = ...,
    task_timeout: float | None = ...,
    silent: bool = ...,
) -> Call: ...
def run_program(
    program: Program,
    function: bytes,
    extras: bytes,
    params: Sequence[bytes],
    max_workers: int | None = ...,
    timeout: float | None = ...,
    task_timeout: float | None = ...,
    silent: bool = ...,
    memory_limit: int | None = ...,
) -> Call: ...

@final
class Worker:
    def __new__(cls, replies: int) -> Self: ...
    def begin_batch(self) -> int: ...
    def serve(
        self,
        function: Callable[..., Any] | None,
        params: Sequence[bytes | memoryview],
        extras: dict[str, Any] | None,
        single: bool,
        unpicklable: type,
        reply: Callable[[str, Any, Any], tuple[bytes, bool]],
    ) -> None: ...
    def answer(self, frames: bytes, count: int) -> None: ...
