"""`@parallel.decorate`: bare or with defaults; the function stays callable as before, with
`.map`, `.async_map`, `.future`, `.thread` and `.process`; bad defaults fail when decorating.
"""

import os

import pytest

import parallel


def pid_of(x):
    return (x, os.getpid())


@parallel.decorate
def bare_decorated(x, y=0):
    """Adds two numbers."""
    return x + y


@parallel.decorate(executor=parallel.PROCESS_EXECUTOR, timeout=5, max_workers=2)
def process_decorated(x):
    """Reports where it ran."""
    return pid_of(x)


def test_bare_decorate_keeps_function_callable_and_metadata():
    assert bare_decorated(1, 2) == 3
    assert bare_decorated(1, y=5) == 6
    assert bare_decorated.__name__ == 'bare_decorated'
    assert bare_decorated.__doc__ == 'Adds two numbers.'


def test_bare_decorate_map_thread_map_process_map():
    assert bare_decorated.map([(1, 2), 3, (4, {'y': 1})]) == [3, 3, 5]
    assert bare_decorated.thread.map({'a': (1, 1)}) == {'a': 2}
    assert bare_decorated.process.map([1, 2], extras={'y': 10}) == [11, 12]


def test_bare_decorate_async_map_and_future(executor):
    with bare_decorated.async_map([(1, 2), (3, 4)], executor=executor) as ex:
        assert ex.results() == [3, 7]
    assert parallel.par({'f': bare_decorated.future(1, y=2)}, executor=executor) == {'f': 3}


def test_bare_decorate_default_executor_is_thread():
    here = os.getpid()
    decorated_pid = parallel.decorate(pid_of)
    assert decorated_pid.map([1]) == [(1, here)]


def test_decorate_with_options_uses_process_executor_by_default():
    here = os.getpid()
    results = process_decorated.map([1, 2])
    assert [x for x, _ in results] == [1, 2]
    assert all(pid != here for _, pid in results)


def test_decorate_with_options_thread_and_process_attributes():
    here = os.getpid()
    assert process_decorated.thread.map([1]) == [(1, here)]
    (x, pid), = process_decorated.process.map([1])
    assert x == 1 and pid != here


def test_decorate_with_options_async_map_future_and_call():
    with process_decorated.async_map([1, 2]) as ex:
        assert [x for x, _ in ex.results()] == [1, 2]
    (x, _), = parallel.par([process_decorated.future(7)])
    assert x == 7
    assert process_decorated(3) == (3, os.getpid())
    assert process_decorated.__name__ == 'process_decorated'
    assert process_decorated.__doc__ == 'Reports where it ran.'


def test_bad_defaults_of_a_decorated_function_fail_when_it_is_decorated():
    with pytest.raises(ValueError, match="max_workers must be at least 1 .*got -2$"):
        parallel.decorate(max_workers=-2)
    with pytest.raises(ValueError, match="timeout must be 0 or a positive number of seconds .*got -3$"):
        parallel.decorate(timeout=-3)(abs)
    with pytest.raises(TypeError, match="max_workers must be an int"):
        parallel.decorate(abs, max_workers="2")
