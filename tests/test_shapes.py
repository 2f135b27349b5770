"""Results have the parameters' shape: a real list in input order for any iterable, a real dict
with the same keys for a mapping; a `FailedTask` (its arguments, its exception) in place of each
failed task, or without `silent` the first failure in input order, raised; every task has an
outcome.
"""

import time

import pytest

import parallel

import workload
from helpers import EXECUTORS, divide, f3


# --- lists and dicts -----------------------------------------------------------------------

@pytest.mark.parametrize("executor", EXECUTORS)
def test_generators_iterators_sets_and_ranges_give_lists(executor):
    assert parallel.map(workload.add, ((i, 1) for i in range(4)), executor=executor) == [1, 2, 3, 4]
    assert parallel.map(abs, iter([-1, -2]), executor=executor) == [1, 2]
    assert sorted(parallel.map(abs, {-3, 4}, executor=executor)) == [3, 4]
    result = parallel.map(abs, range(-2, 1), executor=executor)
    assert type(result) is parallel.ListResult and isinstance(result, list) and result == [2, 1, 0]
    assert parallel.map(abs, (x for x in []), executor=executor) == []


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


@pytest.mark.parametrize("executor", EXECUTORS)
def test_every_task_has_an_outcome(executor):
    params = {f"k{i}": ("raise" if i % 7 == 0 else i) for i in range(300)}
    results = parallel.map(workload.misbehave, params, executor=executor, silent=True)
    assert type(results) is parallel.DictResult and list(results) == list(params)
    for key, value in params.items():
        if value == "raise":
            assert isinstance(results[key].ex, ValueError) and results[key].key == key
        else:
            assert results[key] == value


@pytest.mark.parametrize("executor", EXECUTORS)
def test_strict_mode_raises_the_first_failure_in_input_order(executor):
    with pytest.raises(ValueError, match="raised on purpose"):
        parallel.map(workload.misbehave, [1, 2, "raise", 4, "raise"], executor=executor)


# --- FailedTask ----------------------------------------------------------------------------

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
