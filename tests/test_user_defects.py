"""Defects users reported, each with the check a user would make."""

import os
import subprocess
import sys
import textwrap
from urllib.error import HTTPError

import pytest

import parallel
from parallel.exceptions import BaseParallelException, RemoteTraceback, TimeoutException

import workload

EXECUTORS = [parallel.THREAD_EXECUTOR, parallel.PROCESS_EXECUTOR]
HERE = os.path.dirname(os.path.abspath(__file__))


# --- objects of the script's own classes cross to process workers ----------------------------

# A user's script, with no `if __name__ == "__main__":` guard: its classes, enum and exception
# live in `__main__`. Each check prints one line.
SCRIPT = textwrap.dedent(
    '''
    import dataclasses
    import enum

    import parallel

    print("top level ran")


    @dataclasses.dataclass
    class Point:
        x: int
        y: int


    class Color(enum.Enum):
        RED = 1
        GREEN = 2


    class ScriptError(Exception):
        pass


    def norm(p):
        return abs(p.x) + abs(p.y)


    def flip(c):
        return Color.GREEN if c is Color.RED else Color.RED


    def make_point(n):
        return Point(n, -n)


    def point_class(_):
        return Point


    def fails(x):
        raise ScriptError(f"script error {x}")


    print("norm:", parallel.process.map(norm, [Point(1, 2), Point(-3, 4)]))
    print("enum:", parallel.process.map(flip, [Color.RED, Color.GREEN]) == [Color.GREEN, Color.RED])
    made = parallel.process.map(make_point, [1, 2])
    print("made:", made, all(type(p) is Point for p in made))
    print("class:", parallel.process.map(point_class, [0])[0] is Point)
    print("par:", parallel.process.par([(norm, Point(5, 5)), (flip, Color.GREEN)]) == [10, Color.RED])
    try:
        parallel.process.map(fails, [1])
    except ScriptError as e:
        print("strict:", type(e).__name__, e, type(e.__cause__).__name__)
    results = parallel.process.map(fails, [2], silent=True)
    try:
        raise results[0].ex
    except ScriptError as e:
        print("silent:", type(e).__name__, e)
    '''
)

EXPECTED = [
    "norm: [3, 7]",
    "enum: True",
    "made: [Point(x=1, y=-1), Point(x=2, y=-2)] True",
    "class: True",
    "par: True",
    "strict: ScriptError script error 1 RemoteTraceback",
    "silent: ScriptError script error 2",
]


def run_user_script(script, tmp_path, stdin):
    """Runs `script` as a user would: `python script.py`, or `python - < script.py`."""
    path = tmp_path / "user_script.py"
    path.write_text(script)
    if stdin:
        with open(path) as source:
            done = subprocess.run([sys.executable, "-"], stdin=source, capture_output=True, text=True, cwd=tmp_path, timeout=120)
    else:
        done = subprocess.run([sys.executable, str(path)], capture_output=True, text=True, cwd=tmp_path, timeout=120)
    return path, done


@pytest.mark.parametrize("stdin", [False, True], ids=["file", "stdin"])
def test_the_scripts_own_classes_cross_to_process_workers(tmp_path, stdin):
    _, done = run_user_script(SCRIPT, tmp_path, stdin)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[1:] == EXPECTED
    # The workers did not run the script's top level again (what they print goes to stderr).
    assert (done.stdout + done.stderr).count("top level ran") == 1


def test_a_remote_traceback_shows_the_scripts_file_and_source_line(tmp_path):
    script = textwrap.dedent(
        '''
        import parallel


        def divide(x):
            return 10 // (x - x)  # the failing line


        try:
            parallel.process.map(divide, [3])
        except ZeroDivisionError as e:
            print(e.__cause__)
        '''
    )
    path, done = run_user_script(script, tmp_path, stdin=False)
    assert done.returncode == 0, done.stderr
    line = script.splitlines().index("    return 10 // (x - x)  # the failing line") + 1
    assert f'File "{path}", line {line}, in divide' in done.stdout
    assert "return 10 // (x - x)  # the failing line" in done.stdout
    assert "<dynamic-code>" not in done.stdout


def test_a_closure_of_a_module_keeps_its_file_in_the_remote_traceback():
    offset = 2

    def shifted(x):
        return workload.add(x, None) + offset  # TypeError here

    with pytest.raises(TypeError) as raised:
        parallel.process.map(shifted, [1])
    text = str(raised.value.__cause__)
    assert f'File "{os.path.abspath(__file__)}"' in text
    assert "return workload.add(x, None) + offset  # TypeError here" in text


# --- exceptions that cannot be unpickled keep their type -------------------------------------


def test_an_http_error_keeps_its_type_strict_and_silent():
    with pytest.raises(HTTPError) as raised:
        parallel.process.map(workload.raise_http_error, [1])
    assert raised.value.code == 500
    assert str(raised.value) == "HTTP Error 500: boom"
    assert isinstance(raised.value.__cause__, RemoteTraceback)
    assert "raise_http_error" in str(raised.value.__cause__)

    results = parallel.process.map(workload.raise_http_error, [1, 2], silent=True)
    assert all(isinstance(r, parallel.FailedTask) and isinstance(r.ex, HTTPError) for r in results)
    try:
        raise results[1].ex
    except HTTPError as e:
        assert e.code == 500 and isinstance(e.__cause__, RemoteTraceback)


def test_an_exception_with_a_required_keyword_argument_keeps_its_type():
    with pytest.raises(workload.NeedsKeyword) as raised:
        parallel.process.map(workload.raise_needs_keyword, [7])
    assert str(raised.value) == "failed with code 7"
    assert raised.value.code == 7
    assert isinstance(raised.value.__cause__, RemoteTraceback)

    results = parallel.process.map(workload.raise_needs_keyword, [8], silent=True)
    assert isinstance(results[0].ex, workload.NeedsKeyword) and results[0].ex.code == 8


@pytest.mark.parametrize(
    "fn, cls, message",
    [
        (workload.raise_holds_lock, workload.HoldsLock, "locked 3"),
        (workload.raise_holds_generator, workload.HoldsGenerator, "generating 3"),
    ],
)
def test_an_exception_that_cannot_be_pickled_keeps_its_type(fn, cls, message):
    with pytest.raises(cls) as raised:
        parallel.process.map(fn, [3])
    assert str(raised.value) == message
    assert isinstance(raised.value.__cause__, RemoteTraceback)
    assert fn.__name__ in str(raised.value.__cause__)

    results = parallel.process.map(fn, [3], silent=True)
    failed = results[0]
    assert isinstance(failed.ex, cls) and str(failed.ex) == message
    assert isinstance(failed.ex.__cause__, RemoteTraceback)


def test_the_attributes_that_pickle_come_along():
    with pytest.raises(workload.HoldsLock) as raised:
        parallel.process.map(workload.raise_holds_lock, [1])
    assert raised.value.detail == "kept"


def test_an_exception_that_truly_cannot_be_rebuilt_says_so():
    with pytest.raises(BaseParallelException, match="Vanished: from a class made in the worker .*could not be rebuilt"):
        parallel.process.map(workload.raise_unimportable, [1])


# --- bad input, clear errors -----------------------------------------------------------------


@pytest.fixture
def release():
    """Tasks that `workload.hold` holds on threads are let go once the test is over."""
    workload.RELEASE.clear()
    yield workload.RELEASE
    workload.RELEASE.set()


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


def test_bad_defaults_of_a_decorated_function_fail_when_it_is_decorated():
    with pytest.raises(ValueError, match="max_workers must be at least 1 .*got -2$"):
        parallel.decorate(max_workers=-2)
    with pytest.raises(ValueError, match="timeout must be 0 or a positive number of seconds .*got -3$"):
        parallel.decorate(timeout=-3)(abs)
    with pytest.raises(TypeError, match="max_workers must be an int"):
        parallel.decorate(abs, max_workers="2")


# --- python-parallel 0.0.2's own tests ---------------------------------------------------------


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
    with pytest.raises(ValueError, match="executor must be parallel.THREAD_EXECUTOR or parallel.PROCESS_EXECUTOR"):
        parallel.decorate(ex="gpu")


def test_a_rebuilt_exception_compares_as_its_class_in_a_failed_task():
    results = parallel.process.map(workload.raise_needs_keyword, [9], silent=True)
    assert results[0] == parallel.FailedTask(params=(9,), ex=workload.NeedsKeyword("failed with code 9", code=9))
    assert results[0] != parallel.FailedTask(params=(9,), ex=workload.NeedsKeyword("failed with code 8", code=8))
