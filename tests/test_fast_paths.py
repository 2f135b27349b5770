"""The parent's fast paths: a call of one function whose parameters are each its one argument
(`SINGLE`) or its positional arguments (`SPREAD`) keeps only the parameters, the binding pickles
them in one loop (plain values in Rust, others by pickle, the rest by `_pickling`'s rules) and
unpickles the values straight into the result list. Each keeps every behaviour of the general
path: failed tasks report their arguments and keys, an unpicklable argument fails only its
task, extras reach every task, and pickles written or read in Rust mean what pickle's do.
"""

import collections
import enum
import gc
import math
import pickle
import threading
import unittest.mock

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import parallel
from parallel import _parallel
from parallel._tasks import EACH, SINGLE, SPREAD, _shape, map_tasks
from parallel.exceptions import PicklingError

from helpers import f3

Pair = collections.namedtuple("Pair", "a b")


def identity(x):
    return x


def add(a, b, c=0):
    return a + b + c


def inverse(x, scale=1):
    return scale / x


class Unloadable:
    """Pickles in the worker, but its pickle raises when read."""

    def __reduce__(self):
        return _refuse, ()


def _refuse():
    raise ValueError("this value refuses to be unpickled")


def unloadable(x):
    return Unloadable() if x == 1 else x


# --- the shapes ----------------------------------------------------------------------------


class PosesAsDict:
    """An object whose `isinstance(obj, dict)` is True, as a mock's with `spec=dict` is."""

    @property
    def __class__(self):
        return dict


@pytest.mark.parametrize(
    "params, unpack, shape",
    [
        ([1, "a", None, 2.5], True, SINGLE),
        ([(1, 2), [3, 4], Pair(5, 6)], True, SPREAD),
        ([(1, {"c": 2})], True, EACH),  # a dict element is keyword arguments
        ([{"a": 1}], True, EACH),  # a lone dict is keyword arguments
        ([{"a": 1}, (1, 2), [3]], False, SINGLE),  # each the one argument
        ([1, (2,)], True, EACH),  # mixed
        ([parallel.arg(1)], True, EACH),
        ([parallel.arg(1)], False, EACH),  # a Job spreads even then
        ([PosesAsDict()], True, EACH),
        ([(PosesAsDict(),)], True, EACH),
        ([unittest.mock.Mock(spec=dict)], True, EACH),
        ([], True, SINGLE),
    ],
)
def test_the_shape_is_decided_from_the_parameters_types(params, unpack, shape):
    assert (_shape(params, unpack)[0] or EACH) == shape
    if shape != EACH:
        assert map_tasks(identity, params, None, unpack)[1].shape == shape
    assert map_tasks(identity, range(3), None, unpack)[1].shape == SINGLE


class IteratesOtherwise(list):
    """A list whose `__iter__` gives other items than its storage holds."""

    def __iter__(self):
        return iter([{"k": 1}])


@pytest.mark.parametrize(
    "items",
    [
        [],
        [1, 2, 3, "a", 1, None, 2.5, True, 1],
        [(1, 2), [3, "x"], Pair(5, 6), (None,)],
        [(1, {"c": 2}), ()],
        [IteratesOtherwise([1, 2]), (3,)],
        [PosesAsDict(), 1, PosesAsDict()],
    ],
)
def test_the_types_of_a_list_are_those_set_and_map_give(items):
    import itertools

    assert _parallel.types_of(items) == set(map(type, items))
    if all(isinstance(i, (tuple, list)) for i in items):
        assert _parallel.types_of(items, True) == set(map(type, itertools.chain.from_iterable(items)))
    # A subclass's own `__iter__` counts, as itertools.chain would call it: a dict hides there.
    assert _shape([IteratesOtherwise([1, 2])], True)[0] is None


def test_a_fast_task_is_made_only_when_asked_with_its_extras():
    _, tasks = map_tasks(add, [(1, 2), [3, 4]], {"c": 5})
    assert tasks.shape == SPREAD and tasks.items == [(1, 2), (3, 4)]
    assert tasks[1] == (add, (3, 4), {"c": 5})
    _, tasks = map_tasks(identity, range(10, 0, -3))
    assert tasks.items == range(10, 0, -3) and tasks[2] == (identity, (4,), None)


@pytest.mark.parametrize(
    "params",
    [
        range(5),
        range(10, -10, -3),
        range(2**62, 2**62 + 3),
        range(2**63 - 2, 2**63 + 2),  # past 64 bits: read by the range itself
        range(0),
    ],
)
def test_ranges_give_their_ints(executor, params):
    assert parallel.map(identity, params, executor=executor) == list(params)


def test_spread_parameters_are_tuples_lists_and_their_subclasses(executor):
    class Args(list):
        pass

    assert parallel.map(add, [(1, 2), [3, 4], Pair(5, 6), Args([7, 8])], executor=executor) == [3, 7, 11, 15]
    assert parallel.map(add, [(1, 2), [3, 4]], extras={"c": 10}, executor=executor) == [13, 17]
    assert parallel.map(inverse, [1, 4], extras={"scale": 2}, executor=executor) == [2.0, 0.5]


def test_list_parameters_are_the_arguments_of_the_calls_start(executor):
    params = [[1, 2], [3, 4]]
    call = parallel.async_map(add, params, executor=executor)
    params[0].append(100)  # the task may not have run yet: it still gets (1, 2)
    assert call.results(timeout=30) == [3, 7]


def test_the_general_path_is_unchanged_where_a_parameter_poses_as_a_dict():
    # `isinstance(p, dict)` is True: a lone dict is keyword arguments, as ever.
    with pytest.raises(TypeError):
        parallel.map(identity, [PosesAsDict()])


# --- failures keep their parameters and keys ----------------------------------------------


def test_failed_tasks_of_one_argument_keep_their_parameter_and_key(executor):
    results = parallel.map(inverse, [1, 0, 2], silent=True, executor=executor)
    assert results[0] == 1.0 and results[2] == 0.5
    assert results[1] == parallel.FailedTask(params=(0,), ex=ZeroDivisionError("division by zero"))
    named = parallel.map(inverse, {"one": 1, "zero": 0}, extras={"scale": 3}, silent=True, executor=executor)
    failed = named["zero"]
    assert named["one"] == 3.0 and failed.key == "zero"
    assert failed.params == (0,) and failed.kwargs == {"scale": 3}


def test_failed_tasks_of_spread_arguments_keep_their_parameters(executor):
    results = parallel.map(add, [(1, 2), ["a", 2], Pair(3, 4)], extras={"c": 0}, silent=True, executor=executor)
    assert results[0] == 3 and results[2] == 7
    assert results[1].params == ("a", 2) and results[1].kwargs == {"c": 0}
    assert isinstance(results[1].ex, TypeError)
    with pytest.raises(TypeError):
        parallel.map(add, [(1, 2), ("a", 2)], executor=executor)


def test_a_strict_failure_of_a_range_is_its_first_in_order(executor):
    with pytest.raises(ZeroDivisionError):
        parallel.map(inverse, range(-3, 3), executor=executor)
    results = parallel.map(inverse, range(-1, 2), silent=True, executor=executor)
    assert results[1].params == (0,) and results[0] == -1.0 and results[2] == 1.0


def test_an_unpicklable_argument_fails_only_its_task_on_the_fast_paths():
    lock = threading.Lock()
    results = parallel.process.map(identity, [1, lock, 3], silent=True)
    assert results[0] == 1 and results[2] == 3
    assert isinstance(results[1].ex, PicklingError) and "task 1" in str(results[1].ex)
    assert results[1].params == (lock,)
    results = parallel.process.map(add, {"ok": (1, 2), "bad": (lock, 2)}, silent=True)
    assert results["ok"] == 3 and isinstance(results["bad"].ex, PicklingError)
    assert "'bad'" in str(results["bad"].ex) and results["bad"].params == (lock, 2)
    results = parallel.process.map(inverse, [lock, 2], extras={"scale": 4}, silent=True)
    assert isinstance(results[0].ex, PicklingError) and results[1] == 2.0


def test_arguments_plain_pickle_cannot_do_go_by_cloudpickle():
    results = parallel.process.map(lambda f: f(3), [lambda x: x + 1, abs], unpack_arguments=False)
    assert results == [4, 3]


def test_a_value_that_does_not_unpickle_raises_every_time():
    with pytest.raises(ValueError, match="refuses"):
        parallel.process.map(unloadable, [0, 1, 2])
    call = parallel.process.async_map(unloadable, [1])
    for _ in range(2):
        with pytest.raises(ValueError, match="refuses"):
            call.results(timeout=30)


def test_results_of_a_list_are_a_list_result_made_once(executor):
    results = parallel.map(f3, [1, 2], executor=executor)
    assert type(results) is parallel.ListResult and results == [(1, 0, 0), (2, 0, 0)]
    results = parallel.map(f3, {"a": 1}, executor=executor)
    assert type(results) is parallel.DictResult and results == {"a": (1, 0, 0)}


# --- the binding ---------------------------------------------------------------------------


def test_run_program_still_takes_a_list_of_bytes_and_gives_bytes():
    from parallel._engine import _program
    from parallel._protocol import ENTRY_SINGLE

    call = _parallel.run_program(_program(), ENTRY_SINGLE + pickle.dumps(abs), b"", [pickle.dumps(-2)])
    status, values, failures = call.wait(30)
    assert status == "done" and [pickle.loads(v) for v in values] == [2] and failures == []


def test_params_cross_once():
    from parallel._engine import _program
    from parallel._protocol import ENTRY_SINGLE

    params = _parallel.pickle_params([1, 2], 0, pickle.dumps, 5, None)
    assert len(params) == 2
    call = _parallel.run_program(_program(), ENTRY_SINGLE + pickle.dumps(abs), b"", params, loads=pickle.loads)
    assert len(params) == 0  # taken by the call, not copied
    assert call.wait(30)[1] == [1, 2]
    with pytest.raises(RuntimeError, match="already"):
        _parallel.run_program(_program(), ENTRY_SINGLE + pickle.dumps(abs), b"", params)


def test_pickle_params_wraps_and_falls_back():
    seen = []

    def fallback(i, obj):
        seen.append((i, obj))
        return b"fallback"

    lock = threading.Lock()
    params = _parallel.pickle_params([1, lock, (2, 3)], 1, pickle.dumps, 5, fallback)
    call_params = _parallel.pickle_params([(1, 2), [3]], 2, pickle.dumps, 5, fallback)
    assert seen == [(1, ((lock,), None))]
    assert len(params) == 3 and len(call_params) == 2
    with pytest.raises(ValueError, match="wrap"):
        _parallel.pickle_params([1], 3, pickle.dumps, 5, fallback)


# --- plain pickles mean what pickle's do ---------------------------------------------------

_keys = st.one_of(st.none(), st.booleans(), st.integers(), st.text(), st.binary())
_plain = st.recursive(
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(min_value=-(2**63), max_value=2**63 - 1),
        st.integers(),
        st.floats(allow_nan=True),
        st.text(),
        st.binary(),
    ),
    lambda inner: st.one_of(
        st.lists(inner, max_size=6),
        st.lists(inner, max_size=6).map(tuple),
        st.dictionaries(_keys, inner, max_size=6),
    ),
    max_leaves=30,
)


def same(a, b):
    """`a == b` with the same types all the way down (and NaN equal to NaN)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, float):
        return a == b or (math.isnan(a) and math.isnan(b))
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    if isinstance(a, dict):
        return list(a) == list(b) and all(same(a[k], b[k]) for k in a)
    return a == b


@settings(max_examples=300, deadline=None)
@given(_plain)
def test_plain_pickles_read_back_as_pickle_reads_them(value):
    data = _parallel.plain_dumps(value)
    if data is not None:
        assert same(pickle.loads(data), value)
    found, loaded = _parallel.plain_loads(pickle.dumps(value, 5))
    if found:
        assert same(loaded, value)


@settings(max_examples=300, deadline=None)
@given(_plain, st.integers(0, 1000), st.integers(0, 255), st.booleans())
def test_a_damaged_pickle_is_read_as_pickle_reads_it_or_left_to_it(value, at, byte, insert):
    data = bytearray(pickle.dumps(value, 5))
    if insert:
        data.insert(at % (len(data) + 1), byte)
    else:
        data[at % len(data)] = byte
    found, loaded = _parallel.plain_loads(bytes(data))
    if found:
        # pickle reads it too, to the same value: same pickle (sharing included, NaN too).
        assert pickle.dumps(loaded, 5) == pickle.dumps(pickle.loads(bytes(data)), 5)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=40))
def test_plain_loads_never_fails_on_garbage(data):
    found, loaded = _parallel.plain_loads(data)
    if found:
        assert pickle.dumps(loaded, 5) == pickle.dumps(pickle.loads(data), 5)


def test_plain_values_are_read_without_pickle():
    for value in [None, True, 0, 255, 65536, -1, 2**40, -(2**63), 1.5, "é", "x" * 300, b"b" * 70000,
                  (), (1,), (1, 2, 3, 4), [], [1], {"a": [1, (2,)]}]:
        data = _parallel.plain_dumps(value)
        assert data is not None and same(pickle.loads(data), value)
        assert _parallel.plain_loads(pickle.dumps(value, 5)) == (True, value)


class Color(enum.IntEnum):
    RED = 1


class Text(str):
    pass


def test_what_is_not_plain_is_left_to_pickle():
    for value in [2**63, Color.RED, Text("a"), "\udc80", {1, 2}, 1j, bytearray(b"a"), Pair(1, 2)]:
        assert _parallel.plain_dumps(value) is None
        assert _parallel.plain_loads(pickle.dumps(value, 5)) == (False, None)
    assert _parallel.plain_loads(b"\x80\x06K\x01.") == (False, None)  # a protocol pickle does not know


def test_shared_lists_and_dicts_stay_shared():
    shared, table = [1], {"k": 2}
    value = (shared, shared, [table, table])
    for read in (pickle.loads(_parallel.plain_dumps(value)), _parallel.plain_loads(pickle.dumps(value, 5))[1]):
        assert read == value
        assert read[0] is read[1] and read[2][0] is read[2][1]
    loop = []
    loop.append(loop)
    read = pickle.loads(_parallel.plain_dumps(loop))
    assert read[0] is read
    read = _parallel.plain_loads(pickle.dumps(loop, 5))[1]
    assert read[0] is read
    # A tuple inside itself (through a list) is pickle's special case: left to it.
    knot = ([],)
    knot[0].append(knot)
    assert _parallel.plain_dumps(knot) is None


def test_many_containers_use_the_memo_past_its_short_list():
    inner = [[i] for i in range(40)]
    value = [inner, inner, *inner]
    read = pickle.loads(_parallel.plain_dumps(value))
    assert read == value and read[0] is read[1] and read[2] is read[0][0]


def test_deep_values_are_left_to_pickle():
    deep = []
    for _ in range(100):
        deep = [deep]
    assert _parallel.plain_dumps(deep) is None
    assert parallel.process.map(identity, [deep], unpack_arguments=False) == [deep]


def test_a_pickle_pickle_must_read_is_lent_to_it_and_outlives_the_call_if_kept():
    from parallel._engine import _program
    from parallel._protocol import ENTRY_SINGLE

    # bytearray(100_000) pickles in band (it is under the size of shared memory): a large
    # pickle, lent; bytearray(2)'s is small, copied into bytes.
    call = _parallel.run_program(
        _program(), ENTRY_SINGLE + pickle.dumps(bytearray), b"", [pickle.dumps(100_000), pickle.dumps(2)], loads=memoryview
    )
    views = call.wait(30)[1]
    del call
    assert [pickle.loads(v) for v in views] == [bytearray(100_000), bytearray(2)]
    assert views[0].readonly and views[1].readonly and type(views[1].obj) is bytes
    for view in views:
        with pytest.raises((BufferError, TypeError)):  # read-only: no writable view of it
            _writable(view)
    # A view made from the lent one keeps its bytes alive once every other is gone.
    kept = memoryview(views[0])
    del views
    gc.collect()
    assert pickle.loads(kept) == bytearray(100_000)


def _writable(view):
    import ctypes

    return (ctypes.c_char * len(view)).from_buffer(view.obj)


def test_large_values_that_pickle_reads_cross_whole(executor):
    results = parallel.map(bytearray, [5_000_000, 3], executor=executor)
    assert results == [bytearray(5_000_000), bytearray(3)]


class Interrupts:
    """Pickling it raises KeyboardInterrupt (a BaseException: no fallback catches it)."""

    def __reduce__(self):
        raise KeyboardInterrupt


def test_an_interrupt_while_the_call_pickles_its_parameters_stops_the_call():
    # The call pickles its parameters run after run while its first tasks run: an interrupt
    # in the middle reaches the caller, the call stops, and the next call works.
    params = [1] * 50_000 + [Interrupts()] + [2] * 50_000
    with pytest.raises(KeyboardInterrupt):
        parallel.process.map(identity, params, max_workers=2)
    assert parallel.process.map(identity, [1, 2, 3], max_workers=2) == [1, 2, 3]
    call = parallel.process.async_map(identity, list(range(100_000)), max_workers=2)
    assert call.results(timeout=60) == list(range(100_000))
