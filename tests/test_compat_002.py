"""Compatibility with python-parallel 0.0.2: the checks of its own test suite (timeout
exceptions equal by type, a timed-out task in each of the ways it times one out, `decorate(ex=)`),
on both executors of ours.
"""

import os

import pytest

import parallel
from parallel.exceptions import TimeoutException

import workload
from helpers import EXECUTORS


def test_timeout_exceptions_compare_equal_by_type():
    assert TimeoutException() == TimeoutException("the task timed out: 1 s")
    assert parallel.FailedTask(params=(1, "a"), ex=TimeoutException("x")) == parallel.FailedTask(
        params=(1, "a"), ex=TimeoutException()
    )
    # Still told apart by arguments, and by the exception's type and arguments.
    assert parallel.FailedTask(params=(2, "a"), ex=TimeoutException()) != parallel.FailedTask(
        params=(1, "a"), ex=TimeoutException()
    )
    assert parallel.FailedTask(params=(1, "a"), ex=TimeoutError()) != parallel.FailedTask(
        params=(1, "a"), ex=TimeoutException()
    )
    assert parallel.FailedTask(params=(1,), ex=ValueError("a")) != parallel.FailedTask(params=(1,), ex=ValueError("b"))


# The 8 ways 0.0.2's suite times a task out, each on both executors of ours: the call's
# timeout (map, par, async_map and async_par, silent), and the task's own (map, par).
TIMED_OUT = {
    "map": lambda ex: parallel.map(workload.stuck, [(1, "a")], executor=ex, timeout=0.2, silent=True)[0],
    "dict-map": lambda ex: parallel.map(workload.stuck, {"k": (1, "a")}, executor=ex, timeout=0.2, silent=True)["k"],
    "par": lambda ex: parallel.par([(workload.stuck, 1, "a")], executor=ex, timeout=0.2, silent=True)[0],
    "dict-par": lambda ex: parallel.par({"k": (workload.stuck, 1, "a")}, executor=ex, timeout=0.2, silent=True)["k"],
    "async_map": lambda ex: parallel.async_map(workload.stuck, [(1, "a")], executor=ex, timeout=0.2).results(silent=True)[0],
    "async_par": lambda ex: parallel.async_par([(workload.stuck, 1, "a")], executor=ex, timeout=0.2).results(silent=True)[0],
    "task_timeout-map": lambda ex: parallel.map(workload.stuck, [(1, "a")], executor=ex, task_timeout=0.2, silent=True)[0],
    "task_timeout-par": lambda ex: parallel.par([(workload.stuck, 1, "a")], executor=ex, task_timeout=0.2, silent=True)[0],
}


@pytest.mark.parametrize("executor", EXECUTORS)
@pytest.mark.parametrize("how", list(TIMED_OUT.values()), ids=list(TIMED_OUT))
def test_a_timed_out_task_equals_failed_task_with_a_bare_timeout_exception(how, executor, release):
    assert how(executor) == parallel.FailedTask(params=(1, "a"), ex=TimeoutException())


@pytest.mark.parametrize("keyword", ["ex", "executor"])
def test_decorate_takes_the_executor_as_ex_too(keyword):
    @parallel.decorate(**{keyword: parallel.PROCESS})
    def where(_):
        return os.getpid()

    assert where(0) == os.getpid()  # still callable as before
    assert os.getpid() not in where.map([1, 2])  # ran in worker processes


def test_decorate_with_both_ex_and_executor_is_a_type_error():
    with pytest.raises(TypeError, match="takes the executor once, got it executor= and ex=: give only executor="):
        parallel.decorate(ex=parallel.PROCESS, executor=parallel.THREAD)
    with pytest.raises(TypeError, match="takes the executor once, got it positionally and ex="):
        parallel.decorate(parallel.PROCESS, ex=parallel.PROCESS)
    with pytest.raises(ValueError, match="executor must be parallel.THREAD_EXECUTOR, parallel.PROCESS_EXECUTOR, parallel.DASK_EXECUTOR or parallel.RAY_EXECUTOR"):
        parallel.decorate(ex="gpu")


def test_a_rebuilt_exception_compares_as_its_class_in_a_failed_task():
    results = parallel.process.map(workload.raise_needs_keyword, [9], silent=True)
    assert results[0] == parallel.FailedTask(params=(9,), ex=workload.NeedsKeyword("failed with code 9", code=9))
    assert results[0] != parallel.FailedTask(params=(9,), ex=workload.NeedsKeyword("failed with code 8", code=8))
