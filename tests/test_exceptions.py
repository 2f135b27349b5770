"""A task's exception reaches the caller: a thread's is the task's own with its traceback; a
process worker's keeps the worker's traceback (its script's file and source lines) as its
`__cause__`, and its type even when it cannot be pickled or unpickled as it is.
"""

import os
import textwrap
from urllib.error import HTTPError

import pytest

import parallel
from parallel.exceptions import BaseParallelException, RemoteTraceback

import workload
from helpers import run_user_script


# --- tracebacks ----------------------------------------------------------------------------

def test_a_process_exception_carries_the_workers_traceback_as_cause():
    with pytest.raises(KeyError) as raised:
        parallel.process.map(workload.deep_raise, [3])
    cause = raised.value.__cause__
    assert isinstance(cause, RemoteTraceback)
    assert "deep_raise" in str(cause) and "at the bottom" in str(cause)
    assert str(cause).count("return deep_raise(n - 1)") == 3


def test_a_thread_exception_is_the_tasks_own_with_its_traceback():
    with pytest.raises(KeyError) as raised:
        parallel.map(workload.deep_raise, [2])
    frames = [entry.name for entry in raised.traceback]
    assert frames.count("deep_raise") == 3


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


# --- exceptions that cannot be unpickled keep their type -----------------------------------

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
