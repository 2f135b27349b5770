"""`parallel.par`: its entries (a callable, a `(callable, *args)` tuple, `parallel.future`, `job`,
a decorated function's `.future`), their shapes and `extras`.
"""

import parallel

from helpers import echo, f3


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
