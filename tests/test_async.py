"""`async_map` / `async_par`: already running when they return; `AsyncCall.results()` (again,
silent or not, `timeout=0` only looks), `shutdown`, the context manager.
"""

import os
import time

import pytest

import parallel
from parallel.exceptions import TimeoutException

import workload
from helpers import EXECUTORS, divide, f3


def touch(directory, name):
    with open(os.path.join(directory, str(name)), "w"):
        pass
    return name


def wait_for_files(directory, names, limit=20.0):
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if all(os.path.exists(os.path.join(directory, str(n))) for n in names):
            return True
        time.sleep(0.02)
    return False


def test_async_map_is_already_started(executor, tmp_path):
    ex = parallel.async_map(touch, [(str(tmp_path), n) for n in range(3)], executor=executor)
    try:
        # without ever asking for results, the tasks run
        assert wait_for_files(str(tmp_path), range(3))
    finally:
        assert ex.results() == [0, 1, 2]
        ex.shutdown()


def test_async_par_is_already_started(executor, tmp_path):
    ex = parallel.async_par({
        'a': (touch, str(tmp_path), 'a'),
        'b': parallel.future(touch, str(tmp_path), 'b'),
    }, executor=executor)
    try:
        assert wait_for_files(str(tmp_path), ['a', 'b'])
    finally:
        assert ex.results() == {'a': 'a', 'b': 'b'}
        ex.shutdown()


def test_async_map_results_with_timeout_none_then_shutdown(executor):
    ex = parallel.async_map(f3, [1, (2, 3)], executor=executor)
    assert ex.results(timeout=None) == [(1, 0, 0), (2, 3, 0)]
    ex.shutdown()


def test_async_map_as_context_manager(executor):
    with parallel.async_map(f3, {'x': 1, 'y': (2, 3)}, executor=executor) as ex:
        results = ex.results()
    assert results == {'x': (1, 0, 0), 'y': (2, 3, 0)}


def test_async_par_as_context_manager(executor):
    with parallel.async_par([(f3, 1), parallel.future(f3, 2, c=5)], executor=executor) as ex:
        assert ex.results() == [(1, 0, 0), (2, 0, 5)]


def test_async_results_called_twice_gives_the_same_result(executor):
    with parallel.async_map(f3, [1, 2], executor=executor) as ex:
        first = ex.results()
        second = ex.results()
    assert first == second == [(1, 0, 0), (2, 0, 0)]


def test_async_silent_results_called_twice_gives_the_same_result(executor):
    with parallel.async_map(divide, [(1, 1), (1, 0)], silent=True, executor=executor) as ex:
        first = ex.results()
        second = ex.results()
    assert first == second
    assert first[0] == 1
    assert first[1] == parallel.FailedTask(params=(1, 0), ex=ZeroDivisionError('division by zero'))


@pytest.mark.parametrize("executor", EXECUTORS)
def test_results_with_a_zero_timeout_polls(executor, release):
    done = parallel.async_map(workload.hold, [1, 2], executor=executor)
    done.shutdown(wait=True)
    assert done.results(timeout=0) == [1, 2]

    running = parallel.async_map(workload.hold, ["hold"], executor=executor)
    with pytest.raises(TimeoutException, match="has not ended yet"):
        running.results(timeout=0)
    with pytest.raises(ValueError, match="timeout must be 0 or a positive number of seconds .*got -1$"):
        running.results(timeout=-1)
    if executor is parallel.THREAD_EXECUTOR:
        release.set()  # the call went on: its results come
        assert running.results() == ["hold"]
    else:
        running.cancel()
        assert isinstance(running.results(silent=True)[0].ex, parallel.exceptions.CancelledError)


@pytest.mark.parametrize("executor", EXECUTORS)
def test_async_silent_takes_any_truthy_value(executor):
    call = parallel.async_map(workload.hold, [1, "fail"], executor=executor, silent=1)
    assert isinstance(call.results()[1], parallel.FailedTask)
    assert isinstance(call.results(silent="yes")[1], parallel.FailedTask)
    with pytest.raises(ValueError, match="failed on purpose"):
        call.results(silent=0)
