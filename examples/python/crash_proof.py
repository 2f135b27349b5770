"""The process executor survives what kills a `multiprocessing` pool: a segfault, `os._exit`,
a task that hangs. Only the task fails; the other tasks finish and the next call gets fresh
workers. Functions of `__main__`, lambdas and closures cross to the workers by value.
"""

import ctypes
import os
import threading
import time
from collections.abc import Callable

import parallel
from parallel.exceptions import PicklingError, RemoteTraceback, TimeoutException, WorkerCrashedError


def task(kind: str) -> str:
    if kind == "segfault":
        ctypes.string_at(0)  # reads address 0: SIGSEGV
    if kind == "exit":
        os._exit(3)
    if kind == "hang":
        time.sleep(60)
    if kind == "bug":
        table: dict[str, str] = {}
        return table["missing key"]
    return f"{kind} ok (pid {os.getpid()})"


def main() -> None:
    print("one call, five tasks, three of them fatal to their worker:")
    start = time.monotonic()
    results = parallel.process.map(task, ["fine", "segfault", "exit", "hang", "also fine"], task_timeout=1, silent=True)
    elapsed = time.monotonic() - start
    for kind, result in zip(["fine", "segfault", "exit", "hang", "also fine"], results):
        print(f"  {kind:<10} {result.ex!r}" if isinstance(result, parallel.FailedTask) else f"  {kind:<10} {result}")
    # Typed, the silent results are `str | FailedTask`: `.succeeded` and `.failed` split them.
    (fine, also_fine), (segfault, exited, hung) = results.succeeded, results.failed
    assert fine.startswith("fine ok") and also_fine.startswith("also fine ok")
    assert isinstance(segfault.ex, WorkerCrashedError) and segfault.ex.signal == 11, segfault
    assert isinstance(exited.ex, WorkerCrashedError) and exited.ex.exitcode == 3 and exited.ex.signal is None, exited
    assert isinstance(hung.ex, TimeoutException) and isinstance(hung.ex, TimeoutError), hung
    print(f"  ... in {elapsed:.1f} s: the hung task was killed at its task_timeout of 1 s")
    assert elapsed < 5, elapsed

    print("not silent, a crash is raised like any exception:")
    try:
        parallel.process.map(task, ["segfault"])
        raise AssertionError("the crash should have been raised")
    except WorkerCrashedError as exc:
        print(f"  WorkerCrashedError: {exc}")
        assert exc.signal == 11

    print("lambdas and closures run in worker processes too:")
    offset = 100
    assert parallel.process.map(lambda n: n + offset, [1, 2, 3]) == [101, 102, 103]

    def make_scaler(k: int) -> Callable[[int], tuple[int, int]]:
        return lambda n: (n * k, os.getpid())

    scaled = parallel.process.map(make_scaler(3), [1, 2])
    print(f"  closure: {[v for v, _ in scaled]} from worker pids {sorted({p for _, p in scaled})}")
    assert [v for v, _ in scaled] == [3, 6] and os.getpid() not in {p for _, p in scaled}

    print("an exception raised in a worker carries the worker's traceback:")
    try:
        parallel.process.map(task, ["bug"])
        raise AssertionError("the KeyError should have been raised")
    except KeyError as exc:
        assert isinstance(exc.__cause__, RemoteTraceback), exc.__cause__
        print("  " + str(exc.__cause__).strip().replace("\n", "\n  | "))
        assert "in task" in exc.__cause__.tb and "missing key" in exc.__cause__.tb

    print("an argument that cannot be pickled fails its task, named in the error:")
    results = parallel.process.map(task, {"fine": "fine", "locked": threading.Lock()}, silent=True)
    locked, fine = results.failed["locked"], results.succeeded["fine"]
    print(f"  {locked.ex}")
    assert isinstance(locked.ex, PicklingError) and "'locked'" in str(locked.ex)
    assert fine.startswith("fine ok")

    print("and the pool has healed — every worker answers:")
    results = parallel.process.map(task, ["a", "b", "c", "d"], timeout=5)
    print(f"  {results}")
    assert all(r.startswith(f"{k} ok") for k, r in zip("abcd", results))


if __name__ == "__main__":
    main()
