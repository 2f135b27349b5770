"""The Rust extension: the engine's calls, as the Python layer uses them."""

from typing import Any, Callable, List, Optional, Sequence, Tuple

DEFAULT_THREAD_WORKERS: int

class Call:
    def wait(self, timeout: Optional[float] = ...) -> Optional[Tuple[str, Any, List[tuple]]]: ...
    def cancel(self) -> None: ...
    def done(self) -> bool: ...

class Program:
    def __init__(self, argv: Sequence[str], env: Sequence[Tuple[str, str]], cwd: Optional[str] = ...) -> None: ...
    def kill_workers(self) -> int: ...

def run_threads(
    tasks: Sequence[Tuple[Callable[..., Any], tuple, Optional[dict]]],
    max_workers: Optional[int] = ...,
    timeout: Optional[float] = ...,
    task_timeout: Optional[float] = ...,
    silent: bool = ...,
) -> Call: ...
def run_program(
    program: Program,
    function: bytes,
    extras: bytes,
    params: Sequence[bytes],
    max_workers: Optional[int] = ...,
    timeout: Optional[float] = ...,
    task_timeout: Optional[float] = ...,
    silent: bool = ...,
    memory_limit: Optional[int] = ...,
) -> Call: ...
