"""The exceptions of `parallel` (stubs of exceptions.py)."""

import concurrent.futures
import pickle

__all__ = [
    "BaseParallelException",
    "TimeoutException",
    "WorkerCrashedError",
    "PicklingError",
    "CancelledError",
    "InitializerError",
    "RemoteTraceback",
]

class BaseParallelException(Exception): ...

class TimeoutException(BaseParallelException, TimeoutError):
    def __eq__(self, other: object) -> bool: ...
    def __hash__(self) -> int: ...

class WorkerCrashedError(BaseParallelException, RuntimeError):
    signal: int | None
    exitcode: int | None
    def __init__(self, message: str, signal: int | None = None, exitcode: int | None = None) -> None: ...

class PicklingError(BaseParallelException, pickle.PicklingError, TypeError): ...
class CancelledError(BaseParallelException, concurrent.futures.CancelledError): ...
class InitializerError(BaseParallelException, RuntimeError): ...

class RemoteTraceback(Exception):
    tb: str
    def __init__(self, tb: str) -> None: ...
