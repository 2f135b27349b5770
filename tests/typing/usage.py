"""What a user writes, typed: every form of the API assigned to the plain types a user expects.

`make typecheck` checks this file with `mypy --strict` and pyright (strict), so each line here
is a promise of the stubs (python/parallel/*.pyi); tests/test_typing.py also runs `main()`, so
each call really works and gives what its annotation says. Its counterpart, bad_usage.py, holds
the assignments the checkers must reject.

The rule (see the docstring of python/parallel/__init__.pyi): a Mapping of parameters gives a
`DictResult[K, V]`, any other iterable a `ListResult[V]`; `V` is the function's return type, or
that `| FailedTask` with `silent=True`; `par` gives `Any` elements.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

import parallel
from parallel import FailedTask
from parallel.exceptions import RemoteTraceback, TimeoutException, WorkerCrashedError


def add(x: int, y: int) -> int:
    return x + y


def double(n: int) -> int:
    return 2 * n


def label(n: int) -> str:
    return f"#{n}"


def risky(n: int) -> int:
    if n < 0:
        raise ValueError(f"negative: {n}")
    return n


def doubled_chunk(chunk: list[int]) -> list[int]:
    return [2 * n for n in chunk]


@parallel.decorate
def shout(word: str, suffix: str = "!") -> str:
    return word.upper() + suffix


@parallel.decorate(executor=parallel.PROCESS_EXECUTOR, timeout=30, max_workers=2)
def cube(n: int) -> int:
    return n**3


@parallel.decorate(parallel.THREAD)
def halve(n: int) -> float:
    return n / 2


class Counter:
    def __init__(self, start: int) -> None:
        self.start = start

    @parallel.decorate
    def plus(self, n: int) -> int:
        return self.start + n


def blocking_forms() -> None:
    values: list[int] = parallel.map(add, [(1, 2), (3, 4)])
    assert values == [3, 7]
    by_key: dict[str, int] = parallel.map(double, {"a": 1, "b": 2})
    assert by_key == {"a": 2, "b": 4}
    labels: list[str] = parallel.map(label, (n for n in range(3)), executor="thread", max_workers=2)
    assert labels == ["#0", "#1", "#2"]
    kept: parallel.ListResult[int] = parallel.map(double, [1], timeout=5, task_timeout=5)
    assert not kept.failures and kept.succeeded == [2]
    processes: list[int] = parallel.map(double, [1, 2], parallel.PROCESS_EXECUTOR, max_workers=2)
    assert processes == [2, 4]
    extras: list[int] = parallel.map(add, [1, 2], extras={"y": 10})
    assert extras == [11, 12]
    exact: list[int] = parallel.map(add, [parallel.arg(1, y=2)], unpack_arguments=True)
    assert exact == [3]
    strict: list[int] = parallel.map(double, [1], silent=False)
    assert strict == [2]


def silent_forms() -> None:
    results = parallel.map(risky, [1, -1, 2], silent=True)
    mixed: list[int | FailedTask] = results
    assert mixed[0] == 1 and isinstance(mixed[1], FailedTask)
    succeeded: list[int] = results.succeeded
    failed: list[FailedTask] = results.failed
    replaced: list[int | None] = results.replace_failed(None)
    assert (succeeded, replaced, results.failures) == ([1, 2], [1, None, 2], True)
    task = failed[0]
    params: tuple[Any, ...] = task.params
    error: BaseException = task.ex
    assert params == (-1,) and isinstance(error, ValueError) and task.exc is error
    assert task == FailedTask(params=(-1,), ex=ValueError("negative: -1"))
    first = results[1]
    if isinstance(first, FailedTask):
        message: str = str(first.ex)
        assert message == "negative: -1"

    by_key = parallel.map(risky, {"ok": 3, "bad": -3}, silent=True)
    mixed_by_key: dict[str, int | FailedTask] = by_key
    good_by_key: dict[str, int] = by_key.succeeded
    failed_by_key: dict[str, FailedTask] = by_key.failed
    replaced_by_key: dict[str, int | str] = by_key.replace_failed("failed")
    assert mixed_by_key["ok"] == 3 and good_by_key == {"ok": 3} and list(failed_by_key) == ["bad"]
    assert replaced_by_key == {"ok": 3, "bad": "failed"}

    # A `silent` only known at run time: the silent type, which is always sound.
    quiet = len(mixed) > 0
    maybe: list[int | FailedTask] = parallel.map(risky, [1], silent=quiet)
    assert maybe == [1]
    # A strict result's helpers keep its type.
    clean: list[int] = parallel.map(double, [1]).succeeded
    assert clean == [2]


def async_forms() -> None:
    values: list[int] = parallel.async_map(add, [(1, 2)]).results()
    assert values == [3]
    call: parallel.AsyncCall[parallel.ListResult[int]] = parallel.async_map(double, [1, 2])
    assert call.results(timeout=5) == [2, 4] and call.done()
    with parallel.async_map(double, {"a": 1}, executor=parallel.PROCESS) as keyed:
        by_key: dict[str, int] = keyed.results()
        assert by_key == {"a": 2}
    silent_call = parallel.async_map(risky, [1, -1], silent=True)
    mixed: list[int | FailedTask] = silent_call.results()
    assert mixed[0] == 1 and isinstance(mixed[1], FailedTask)
    # Silent at `results()` time only: FailedTask comes in then.
    late: list[int | FailedTask] = parallel.async_map(risky, [-2]).results(silent=True)
    assert isinstance(late[0], FailedTask)
    late_by_key: dict[str, int | FailedTask] = parallel.async_map(risky, {"k": 2}).results(5, True)
    assert late_by_key == {"k": 2}
    strict_again: list[int | FailedTask] = parallel.async_map(risky, [4], silent=True).results(silent=False)
    assert strict_again == [4]

    par_call = parallel.async_par([(add, 1, 2), parallel.future(double, 4)])
    any_values: list[Any] = par_call.results()
    assert any_values == [3, 8]
    with parallel.async_par({"sum": (add, 1, 2)}) as keyed_par:
        keyed_values: dict[str, Any] = keyed_par.results()
        assert keyed_values == {"sum": 3}
    cancelled = parallel.async_map(double, [1])
    cancelled.shutdown(wait=True, cancel=False)
    cancelled.cancel()


def par_forms() -> None:
    # Different functions: Any elements, assignable to what the caller knows they are.
    values: list[int] = parallel.par([(add, 1, 2), parallel.future(double, 3), parallel.job(add, 1, y=1)])
    assert values == [3, 6, 2]
    mixed: list[Any] = parallel.par([(label, 1), (double, 1), lambda: None])
    assert mixed == ["#1", 2, None]
    by_key: dict[str, int | str] = parallel.par({"n": (double, 2), "s": parallel.future(label, 2)})
    assert by_key == {"n": 4, "s": "#2"}
    silent: list[Any] = parallel.par([(risky, -1)], silent=True)
    assert isinstance(silent[0], FailedTask)


def executor_forms() -> None:
    on_threads: list[int] = parallel.thread.map(double, [1, 2])
    on_processes: list[int] = parallel.process.map(double, [1, 2], max_workers=2, timeout=30)
    keyed: dict[str, str] = parallel.process.map(label, {"x": 1})
    assert (on_threads, on_processes, keyed) == ([2, 4], [2, 4], {"x": "#1"})
    silent: list[int | FailedTask] = parallel.process.map(risky, [-1], silent=True, task_timeout=30)
    assert isinstance(silent[0], FailedTask)
    later: list[int] = parallel.thread.async_map(add, [(1, 1)]).results()
    keyed_later: dict[int, int] = parallel.process.async_map(double, {7: 7}).results(timeout=30)
    assert (later, keyed_later) == ([2], {7: 14})
    par_values: list[int] = parallel.process.par([(add, 1, 2)])
    par_keyed: dict[str, Any] = parallel.thread.par({"a": parallel.thread.future(double, 1)})
    async_par: list[Any] = parallel.thread.async_par([(double, 5)]).results()
    assert (par_values, par_keyed, async_par) == ([3], {"a": 2}, [10])
    flat: list[int] = parallel.thread.split([1, 2, 3], doubled_chunk, workers=2)
    assert flat == [2, 4, 6]
    flat_again: list[int] = parallel.split((1, 2, 3), doubled_chunk, parallel.PROCESS, workers=3)
    assert flat_again == [2, 4, 6]
    where: parallel.ExecutorStrategy = parallel.process.executor
    assert where is parallel.PROCESS_EXECUTOR


def decorated_forms() -> None:
    called: str = shout("hi", suffix="?")
    assert called == "HI?"
    mapped: list[str] = shout.map(["a", ("b", "?")])
    keyed: dict[int, str] = shout.map({1: "a"}, executor=parallel.PROCESS_EXECUTOR)
    threads: list[str] = shout.thread.map(["c"], max_workers=1)
    processes: dict[str, str] = shout.process.map({"d": "d"}, timeout=30)
    assert (mapped, keyed, threads, processes) == (["A!", "B?"], {1: "A!"}, ["C!"], {"d": "D!"})
    later: list[str] = shout.async_map(["e"]).results()
    later_threads: list[str] = shout.thread.async_map(["f"]).results()
    silent: list[str | FailedTask] = shout.process.async_map([("g", 1)], silent=True).results()
    assert (later, later_threads) == (["E!"], ["F!"]) and isinstance(silent[0], FailedTask)
    par: dict[str, str] = parallel.par({"h": shout.future("h"), "i": shout.thread.future("i", suffix=".")})
    assert par == {"h": "H!", "i": "I."}

    cubes: list[int] = cube.map([1, 2])  # on processes, its default
    cube_threads: list[int] = cube.thread.map([3])
    cube_silent: dict[str, int | FailedTask] = cube.map({"x": "not a number"}, silent=True)
    assert (cubes, cube_threads) == ([1, 8], [27]) and isinstance(cube_silent["x"], FailedTask)
    halves: list[float] = halve.process.map([1])
    assert halves == [0.5] and halve(4) == 2.0

    counter = Counter(10)
    plus_one: int = counter.plus(1)
    assert plus_one == 11
    options: Callable[[Callable[[int], int]], parallel.ParallelCallable[[int], int]] = parallel.decorate(timeout=5)
    assert options(double).map([4]) == [8]


def decorated_with_ex() -> None:
    """python-parallel 0.0.2's keyword for the executor."""

    @parallel.decorate(ex=parallel.PROCESS)
    def where(n: int) -> tuple[int, int]:
        return n, os.getpid()

    (n, pid), = where.map([1])
    assert n == 1 and pid != os.getpid()


def exception_forms() -> None:
    crashed = parallel.process.map(os._exit, [3], silent=True)[0]
    assert isinstance(crashed, FailedTask)
    if isinstance(crashed.ex, WorkerCrashedError):
        code: int | None = crashed.ex.exitcode
        signal: int | None = crashed.ex.signal
        assert (code, signal) == (3, None)
    try:
        parallel.process.map(risky, [-1])
    except ValueError as exc:
        cause = exc.__cause__
        assert isinstance(cause, RemoteTraceback)
        traceback: str = cause.tb
        assert "negative" in traceback
    try:
        parallel.map(os.times, [()], timeout=30)
        parallel.async_map(double, [1]).results(timeout=30)
    except TimeoutException:
        raise AssertionError("no timeout expected") from None


def main() -> None:
    blocking_forms()
    silent_forms()
    async_forms()
    par_forms()
    executor_forms()
    decorated_forms()
    exception_forms()


if __name__ == "__main__":
    main()
    decorated_with_ex()
