"""Compatibility rules of the Python face with the original python-parallel (0.0.2 / 0.9.1).

Helpers are module-level so both executors can run them; the process workers see the caller's
sys.path and import this module by name.
"""

import os
import time

import pytest

import parallel
from parallel.exceptions import TimeoutException


@pytest.fixture(
    params=[parallel.THREAD_EXECUTOR, parallel.PROCESS_EXECUTOR], ids=["thread", "process"]
)
def executor(request):
    return request.param


@pytest.fixture
def release(tmp_path):
    """A flag file; hung helpers stop as soon as it exists (created when the test ends)."""
    flag = tmp_path / "release"
    yield str(flag)
    flag.touch()


# --- helpers -----------------------------------------------------------------------------------

def echo(*args, **kwargs):
    return (args, kwargs)


def f3(a, b=0, c=0):
    return (a, b, c)


def divide(a, b=1):
    return a / b


def nap(flag, seconds, value=None):
    """Sleep up to `seconds`, stopping early once `flag` exists; then give `value`."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and not os.path.exists(flag):
        time.sleep(0.02)
    return value


def touch(directory, name):
    with open(os.path.join(directory, str(name)), "w"):
        pass
    return name


def pid_of(x):
    return (x, os.getpid())


def double_chunk(chunk):
    return [x * 2 for x in chunk]


def chunk_summary(chunk):
    return [list(chunk)]


def wait_for_files(directory, names, limit=20.0):
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if all(os.path.exists(os.path.join(directory, str(n))) for n in names):
            return True
        time.sleep(0.02)
    return False


# --- arguments: tuples, dicts, arg, extras -----------------------------------------------------

def test_tuple_dict_elements_become_keyword_arguments(executor):
    results = parallel.map(f3, [(1, {'b': 2}), (3, {'c': 4}), (5, 6, {'c': 7})], executor=executor)
    assert results == [(1, 2, 0), (3, 0, 4), (5, 6, 7)]


def test_dict_element_anywhere_in_tuple_is_keyword_arguments(executor):
    results = parallel.map(echo, [({'k': 1}, 'x', 'y')], executor=executor)
    assert results == [(('x', 'y'), {'k': 1})]


def test_lone_dict_is_keyword_arguments(executor):
    results = parallel.map(f3, [{'a': 1, 'c': 3}, {'a': 2}], executor=executor)
    assert results == [(1, 0, 3), (2, 0, 0)]


def test_lone_dict_in_named_input_is_keyword_arguments(executor):
    results = parallel.map(f3, {'x': {'a': 1, 'b': 2}, 'y': 7}, executor=executor)
    assert results == {'x': (1, 2, 0), 'y': (7, 0, 0)}


def test_scalar_param_is_one_positional_argument(executor):
    assert parallel.map(echo, ['abc', 4, None], executor=executor) == [
        (('abc',), {}), ((4,), {}), ((None,), {})]


def test_arg_passes_a_dict_positionally(executor):
    results = parallel.map(echo, [parallel.arg({'k': 1})], executor=executor)
    assert results == [(({'k': 1},), {})]


def test_arg_passes_positional_and_keyword_arguments(executor):
    results = parallel.map(echo, {
        'a': parallel.arg({'k': 1}, 2, flag=True),
        'b': parallel.arg(),
    }, executor=executor)
    assert results == {'a': (({'k': 1}, 2), {'flag': True}), 'b': ((), {})}


def test_extras_apply_to_every_task(executor):
    results = parallel.map(echo, ['x', ('y', 'z'), {'k': 1}, parallel.arg('w')],
                           extras={'e': 0}, executor=executor)
    assert results == [
        (('x',), {'e': 0}),
        (('y', 'z'), {'e': 0}),
        ((), {'k': 1, 'e': 0}),
        (('w',), {'e': 0}),
    ]


def test_extras_apply_to_every_task_of_named_input(executor):
    results = parallel.map(f3, {'p': 1, 'q': (2, 3)}, extras={'c': 9}, executor=executor)
    assert results == {'p': (1, 0, 9), 'q': (2, 3, 9)}


def test_task_kwargs_in_tuple_win_over_extras(executor):
    results = parallel.map(f3, [(1, {'b': 'task'}), (2,)],
                           extras={'b': 'extra', 'c': 'extra'}, executor=executor)
    assert results == [(1, 'task', 'extra'), (2, 'extra', 'extra')]


def test_lone_dict_kwargs_win_over_extras(executor):
    results = parallel.map(f3, [{'a': 1, 'b': 'task'}, {'a': 2}],
                           extras={'b': 'extra'}, executor=executor)
    assert results == [(1, 'task', 0), (2, 'extra', 0)]


def test_arg_kwargs_win_over_extras(executor):
    results = parallel.map(f3, [parallel.arg(1, b='task')], extras={'b': 'extra', 'c': 'x'},
                           executor=executor)
    assert results == [(1, 'task', 'x')]


def test_unpack_arguments_false_passes_each_param_as_one_argument(executor):
    results = parallel.map(echo, [(1, 2), [3, 4], {'k': 5}, 'x'],
                           unpack_arguments=False, executor=executor)
    assert results == [
        (((1, 2),), {}),
        (([3, 4],), {}),
        (({'k': 5},), {}),
        (('x',), {}),
    ]


# --- par entries -------------------------------------------------------------------------------

def test_par_entry_bare_callable(executor):
    assert parallel.par([echo, echo], executor=executor) == [((), {}), ((), {})]


def test_par_entry_lambda(executor):
    assert parallel.par({'one': lambda: 1, 'two': lambda: 2}, executor=executor) == {
        'one': 1, 'two': 2}


def test_par_entry_tuple_with_args_and_kwargs_dict(executor):
    results = parallel.par([(f3, 1), (f3, 1, 2), (f3, 1, {'c': 3})], executor=executor)
    assert results == [(1, 0, 0), (1, 2, 0), (1, 0, 3)]


def test_par_entry_future(executor):
    results = parallel.par([parallel.future(f3, 1, c=3), parallel.future(echo)],
                           executor=executor)
    assert results == [(1, 0, 3), ((), {})]


def test_par_entry_job_alias(executor):
    results = parallel.par({'j': parallel.job(f3, 1, b=2)}, executor=executor)
    assert results == {'j': (1, 2, 0)}


decorated_f3 = parallel.decorate(f3)


def test_par_entry_decorated_future(executor):
    results = parallel.par({
        'pos': decorated_f3.future(1, 2),
        'kw': decorated_f3.future(a=3, c=4),
    }, executor=executor)
    assert results == {'pos': (1, 2, 0), 'kw': (3, 0, 4)}


def test_par_entries_of_every_kind_together(executor):
    results = parallel.par([
        lambda: 'bare',
        (f3, 1, {'b': 2}),
        parallel.future(f3, 3, c=4),
        parallel.job(f3, 5),
        decorated_f3.future(6, b=7),
    ], executor=executor)
    assert results == ['bare', (1, 2, 0), (3, 0, 4), (5, 0, 0), (6, 7, 0)]


def test_par_with_list_gives_list_and_dict_gives_dict(executor):
    as_list = parallel.par([(f3, 1), (f3, 2)], executor=executor)
    as_dict = parallel.par({'z': (f3, 1), 'a': (f3, 2)}, executor=executor)
    assert type(as_list) is not dict and isinstance(as_list, list)
    assert as_list == [(1, 0, 0), (2, 0, 0)]
    assert isinstance(as_dict, dict)
    assert list(as_dict.items()) == [('z', (1, 0, 0)), ('a', (2, 0, 0))]


def test_par_extras_apply_and_task_kwargs_win(executor):
    results = parallel.par([
        (echo, 1),
        (echo, 2, {'k': 'task'}),
        parallel.future(echo, 3, k='task'),
    ], extras={'k': 'extra', 'e': 0}, executor=executor)
    assert results == [
        ((1,), {'k': 'extra', 'e': 0}),
        ((2,), {'k': 'task', 'e': 0}),
        ((3,), {'k': 'task', 'e': 0}),
    ]


# --- async_map / async_par ---------------------------------------------------------------------

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


# --- timeouts ----------------------------------------------------------------------------------

def test_timeout_exception_is_a_builtin_timeout_error():
    assert issubclass(parallel.exceptions.TimeoutException, TimeoutError)


def test_blocking_map_past_timeout_raises_timeout_exception(executor, release):
    start = time.monotonic()
    with pytest.raises(parallel.exceptions.TimeoutException):
        parallel.map(nap, [(release, 0, 'quick'), (release, 30, 'hung')],
                     timeout=0.5, executor=executor)
    assert time.monotonic() - start < 10  # well before the hung task's 30 s


def test_blocking_par_past_timeout_is_caught_as_timeout_error(executor, release):
    start = time.monotonic()
    with pytest.raises(TimeoutError):
        parallel.par({'hung': (nap, release, 30)}, timeout=0.5, executor=executor)
    assert time.monotonic() - start < 10


def test_async_results_past_timeout_raises_timeout_exception(executor, release):
    ex = parallel.async_map(nap, [(release, 30)], executor=executor)
    start = time.monotonic()
    with pytest.raises(TimeoutException):
        ex.results(timeout=0.5)
    assert time.monotonic() - start < 10
    open(release, "w").close()  # let the task finish so shutdown has nothing to wait for
    ex.shutdown()


def test_silent_timed_out_task_is_a_failed_task(executor, release):
    start = time.monotonic()
    results = parallel.map(nap, [(release, 0, 'quick'), (release, 30, 'hung')],
                           timeout=0.5, silent=True, executor=executor)
    assert time.monotonic() - start < 10
    assert results[0] == 'quick'
    assert isinstance(results[1], parallel.FailedTask)
    assert isinstance(results[1].ex, TimeoutException)
    assert results.failures is True
    assert results.replace_failed(None) == ['quick', None]


# --- split -------------------------------------------------------------------------------------

def test_split_calls_fn_once_per_chunk(executor):
    collection = list(range(10))
    chunks = parallel.split(collection, chunk_summary, executor=executor, workers=3)
    assert len(chunks) == 3
    assert all(chunks)
    assert [x for chunk in chunks for x in chunk] == collection


def test_split_returns_flattened_results(executor):
    results = parallel.split(list(range(10)), double_chunk, executor=executor, workers=3)
    assert results == [x * 2 for x in range(10)]
    assert isinstance(results, list)


# --- decorate ----------------------------------------------------------------------------------

@parallel.decorate
def bare_decorated(x, y=0):
    """Adds two numbers."""
    return x + y


@parallel.decorate(executor=parallel.PROCESS_EXECUTOR, timeout=5, max_workers=2)
def process_decorated(x):
    """Reports where it ran."""
    return pid_of(x)


@parallel.decorate(timeout=0.5)
def quick_timeout_decorated(flag, seconds):
    return nap(flag, seconds, 'woke')


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


def test_decorate_timeout_option_applies_to_map(executor, release):
    handler = (quick_timeout_decorated.thread if executor == parallel.THREAD_EXECUTOR
               else quick_timeout_decorated.process)
    start = time.monotonic()
    with pytest.raises(TimeoutException):
        handler.map([(release, 30)])
    assert time.monotonic() - start < 10


# --- results -----------------------------------------------------------------------------------

def sleep_then(seconds, value):
    time.sleep(seconds)
    return value


def test_sequence_input_gives_a_real_list_in_input_order(executor):
    results = parallel.map(sleep_then, [(0.3, 'a'), (0.0, 'b'), (0.15, 'c')], executor=executor)
    assert isinstance(results, list)
    assert isinstance(results, parallel.BaseResult)
    assert results == ['a', 'b', 'c']
    assert list(results) == ['a', 'b', 'c']


def test_tuple_input_gives_a_list(executor):
    results = parallel.map(f3, (1, 2), executor=executor)
    assert isinstance(results, list)
    assert results == [(1, 0, 0), (2, 0, 0)]


def test_generator_and_range_input_give_a_list(executor):
    assert parallel.map(f3, (x for x in range(3)), executor=executor) == [
        (0, 0, 0), (1, 0, 0), (2, 0, 0)]
    assert parallel.map(f3, range(2), executor=executor) == [(0, 0, 0), (1, 0, 0)]


def test_dict_input_gives_a_real_dict_in_input_order(executor):
    results = parallel.map(sleep_then, {'z': (0.3, 1), 'a': (0.0, 2), 'm': (0.15, 3)},
                           executor=executor)
    assert isinstance(results, dict)
    assert isinstance(results, parallel.BaseResult)
    assert list(results.keys()) == ['z', 'a', 'm']
    assert results == {'z': 1, 'a': 2, 'm': 3}


def test_list_results_failed_and_succeeded_are_lists(executor):
    results = parallel.map(divide, [(1, 1), (1, 0), (4, 2)], silent=True, executor=executor)
    assert results.failures is True
    assert isinstance(results.failed, list) and isinstance(results.succeeded, list)
    assert results.succeeded == [1, 2]
    assert results.failed == [
        parallel.FailedTask(params=(1, 0), ex=ZeroDivisionError('division by zero'))]
    assert results.replace_failed('n/a') == [1, 'n/a', 2]


def test_dict_results_failed_and_succeeded_are_dicts(executor):
    results = parallel.map(divide, {'ok': (4, 2), 'bad': (1, 0)}, silent=True,
                           executor=executor)
    assert isinstance(results, dict)
    assert results.failures is True
    assert isinstance(results.failed, dict) and isinstance(results.succeeded, dict)
    assert results.succeeded == {'ok': 2}
    assert list(results.failed) == ['bad']
    assert isinstance(results.failed['bad'].ex, ZeroDivisionError)
    assert results.replace_failed(None) == {'ok': 2, 'bad': None}


def test_silent_par_keeps_failures_in_place(executor):
    results = parallel.par({'ok': (divide, 4, 2), 'bad': (divide, 1, 0)}, silent=True,
                           executor=executor)
    assert results['ok'] == 2
    assert results['bad'] == parallel.FailedTask(
        params=(1, 0), ex=ZeroDivisionError('division by zero'))
    assert results.failed == {'bad': results['bad']}


def test_without_silent_the_first_failure_is_raised_with_its_type(executor):
    with pytest.raises(ZeroDivisionError):
        parallel.map(divide, [(1, 1), (1, 0)], executor=executor)
    with pytest.raises(ZeroDivisionError):
        parallel.par({'bad': (divide, 1, 0)}, executor=executor)


# --- FailedTask --------------------------------------------------------------------------------

def test_failed_task_has_params_kwargs_and_ex(executor):
    results = parallel.map(divide, [(1, {'b': 0})], extras={}, silent=True, executor=executor)
    failed = results[0]
    assert isinstance(failed, parallel.FailedTask)
    assert failed.params == (1,)
    assert isinstance(failed.params, tuple)
    assert failed.kwargs == {'b': 0}
    assert isinstance(failed.ex, ZeroDivisionError)
    assert failed.ex.args == ('division by zero',)


def test_failed_task_kwargs_include_extras(executor):
    results = parallel.map(f3, ['x'], extras={'b': 1, 'bogus': 2}, silent=True,
                           executor=executor)
    failed = results[0]
    assert failed.params == ('x',)
    assert failed.kwargs == {'b': 1, 'bogus': 2}
    assert isinstance(failed.ex, TypeError)


def test_failed_task_of_lone_dict_param(executor):
    results = parallel.map(divide, [{'a': 1, 'b': 0}], silent=True, executor=executor)
    failed = results[0]
    assert failed.params == ()
    assert failed.kwargs == {'a': 1, 'b': 0}


def test_failed_task_equality_compares_params_kwargs_and_exception():
    def task(params=(1,), kwargs=None, ex=None):
        return parallel.FailedTask(params=params, kwargs=kwargs,
                                   ex=ex if ex is not None else ValueError('bad', 1))

    assert task() == task()
    assert task(kwargs={'b': 2}) == task(kwargs={'b': 2})
    assert task(kwargs={}) == task()
    assert task() != task(params=(2,))
    assert task() != task(kwargs={'b': 2})
    assert task() != task(ex=TypeError('bad', 1))
    assert task() != task(ex=ValueError('other', 1))
    assert task() != 'not a failed task'


def test_failed_task_kwargs_default_to_empty_dict():
    failed = parallel.FailedTask(params=('a', 5), ex=KeyError('k'))
    assert failed.params == ('a', 5)
    assert failed.kwargs == {}
    assert isinstance(failed.ex, KeyError)


def test_failed_task_repr_is_readable():
    text = repr(parallel.FailedTask(params=('a', 5), kwargs={'b': 2}, ex=TypeError('boom')))
    assert text.startswith('FailedTask(')
    assert "('a', 5)" in text
    assert "{'b': 2}" in text
    assert 'TypeError' in text
