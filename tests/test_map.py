"""`parallel.map`: how each parameter becomes a task's arguments (tuples, dicts, `parallel.arg`,
`extras`, `unpack_arguments=False`), `parallel.split`, and the caller's other threads while it
waits.

Helpers are module-level so both executors can run them; the process workers see the caller's
sys.path and import this module by name.
"""

import threading
import time

import pytest

import parallel

import workload
from helpers import EXECUTORS, echo, f3


# --- arguments: tuples, dicts, arg, extras -------------------------------------------------

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


# --- split ---------------------------------------------------------------------------------

def double_chunk(chunk):
    return [x * 2 for x in chunk]


def chunk_summary(chunk):
    return [list(chunk)]


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


# --- the GIL -------------------------------------------------------------------------------

@pytest.mark.parametrize("executor", EXECUTORS)
def test_the_gil_is_released_while_the_caller_waits(executor):
    ticks = []
    stop = threading.Event()

    def ticker():
        while not stop.is_set():
            ticks.append(1)
            time.sleep(0.01)

    other = threading.Thread(target=ticker)
    other.start()
    try:
        parallel.map(workload.sleep_then, [0.5, 0.5], executor=executor)
    finally:
        stop.set()
        other.join()
    assert len(ticks) >= 5  # the other thread ran while the call waited
