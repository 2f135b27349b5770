"""Defects users reported, each with the check a user would make."""

import os
import subprocess
import sys
import textwrap
from urllib.error import HTTPError

import pytest

import parallel
from parallel.exceptions import BaseParallelException, RemoteTraceback

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
