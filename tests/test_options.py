"""Bad input, clear errors: a call's parameters and options are checked, each error naming the
option, the value and what is expected; any truthy `silent`; `timeout=0` is a deadline already
passed — through every way to call.
"""

import pytest

import parallel
from parallel.exceptions import TimeoutException

import workload


def test_bad_input_is_a_clear_error():
    with pytest.raises(TypeError, match="needs a callable to run, got int"):
        parallel.map(3, [1])
    with pytest.raises(TypeError, match="iterable of parameters .* got int"):
        parallel.map(abs, 3)
    with pytest.raises(TypeError, match="entry 'b' must be a callable"):
        parallel.par({"a": abs, "b": 42})
    with pytest.raises(ValueError, match="executor must be parallel.THREAD_EXECUTOR, parallel.PROCESS_EXECUTOR, parallel.DASK_EXECUTOR or parallel.RAY_EXECUTOR"):
        parallel.map(abs, [1], executor="gpu")
    with pytest.raises(ValueError, match="max_workers must be at least 1"):
        parallel.map(abs, [1], max_workers=0)
    with pytest.raises(ValueError, match="timeout must be 0 or a positive number of seconds"):
        parallel.map(abs, [1], timeout=-1)
    with pytest.raises(TypeError, match="extras must be a dict"):
        parallel.map(abs, [1], extras=[1])
    with pytest.raises(TypeError, match="parallel.future\\(\\) needs a callable"):
        parallel.future("not callable")


# Every way to run `workload.hold`, on either executor.
ENTRY_POINTS = {
    "map-thread": lambda params, **kw: parallel.map(workload.hold, params, executor=parallel.THREAD_EXECUTOR, **kw),
    "map-process": lambda params, **kw: parallel.map(workload.hold, params, executor=parallel.PROCESS_EXECUTOR, **kw),
    "thread.map": lambda params, **kw: parallel.thread.map(workload.hold, params, **kw),
    "process.map": lambda params, **kw: parallel.process.map(workload.hold, params, **kw),
    "decorated.map": lambda params, **kw: workload.decorated_hold.map(params, **kw),
    "decorated-process.map": lambda params, **kw: workload.process_decorated_hold.map(params, **kw),
    "decorated.process.map": lambda params, **kw: workload.decorated_hold.process.map(params, **kw),
}


entry_points = pytest.mark.parametrize("entry", list(ENTRY_POINTS.values()), ids=list(ENTRY_POINTS))


@entry_points
@pytest.mark.parametrize("value", [0, -1, -5])
def test_max_workers_below_one_is_a_clear_value_error(entry, value):
    with pytest.raises(ValueError, match=f"max_workers must be at least 1 \\(or None for the default\\), got {value}$"):
        entry([1], max_workers=value)


@entry_points
@pytest.mark.parametrize("value", [2.5, "4", True])
def test_max_workers_of_another_type_is_a_type_error_saying_what_is_expected(entry, value):
    with pytest.raises(TypeError, match=f"max_workers must be an int, at least 1 .*got {type(value).__name__}"):
        entry([1], max_workers=value)


@entry_points
@pytest.mark.parametrize("truthy", [1, "yes", [0]])
def test_silent_takes_any_truthy_value(entry, truthy):
    results = entry([1, "fail"], silent=truthy)
    assert results[0] == 1
    assert isinstance(results[1], parallel.FailedTask) and isinstance(results[1].ex, ValueError)


@entry_points
@pytest.mark.parametrize("falsy", [0, "", None])
def test_a_falsy_silent_is_strict(entry, falsy):
    with pytest.raises(ValueError, match="failed on purpose"):
        entry([1, "fail"], silent=falsy)


@entry_points
def test_a_zero_timeout_is_a_deadline_already_passed(entry, release):
    with pytest.raises(TimeoutException, match="timeout of 0 s"):
        entry(["hold"], timeout=0)
    results = entry(["hold", "hold"], timeout=0, silent=True)
    assert [type(r.ex) for r in results] == [TimeoutException, TimeoutException]


@entry_points
@pytest.mark.parametrize(
    "option, value, message",
    [
        ("timeout", -1, "timeout must be 0 or a positive number of seconds \\(or None for no limit\\), got -1$"),
        ("timeout", float("nan"), "timeout must be 0 or a positive number of seconds .*got nan$"),
        ("task_timeout", -0.5, "task_timeout must be a positive number of seconds \\(or None for no limit\\), got -0.5$"),
        ("task_timeout", 0, "task_timeout must be a positive number of seconds .*got 0$"),
        ("memory_limit", -1, "memory_limit must be a positive number of bytes \\(or None for no limit\\), got -1$"),
        ("memory_limit", 0, "memory_limit must be a positive number of bytes .*got 0$"),
    ],
)
def test_negative_limits_are_a_value_error_naming_the_option(entry, option, value, message):
    with pytest.raises(ValueError, match=message):
        entry([1], **{option: value})


@entry_points
@pytest.mark.parametrize("option", ["timeout", "task_timeout", "memory_limit"])
def test_limits_of_another_type_are_a_type_error(entry, option):
    with pytest.raises(TypeError, match=f"{option} must be .* \\(or None for no limit\\), got str: '5'"):
        entry([1], **{option: "5"})
