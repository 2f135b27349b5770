"""What crosses to and from process workers: lambdas, closures, decorated functions, the script's
own functions and classes (by value); what cannot be pickled is named, never a hang; extras
cross once per call.
"""

import os
import textwrap
import threading

import pytest

import parallel
from parallel.exceptions import PicklingError

import workload
from helpers import run_script, run_user_script


# --- the process executor runs any function ------------------------------------------------

def test_process_executor_runs_lambdas_closures_and_decorated_functions():
    offset = 10
    assert parallel.process.map(lambda x: x + offset, [1, 2]) == [11, 12]

    def closure(x, scale=2):
        return x * scale + offset

    assert parallel.process.map(closure, [1, (2, {"scale": 3})]) == [12, 16]
    assert workload.decorated_square.process.map([3, 4]) == [9, 16]
    assert workload.decorated_pid.map([1, 2])[0] != os.getpid()
    assert parallel.process.map(workload.decorated_square, [5]) == [25]


def test_process_executor_runs_functions_defined_in_main():
    done = run_script(
        """
        import parallel

        def triple(x):
            return 3 * x

        @parallel.decorate
        def shout(s):
            return s.upper()

        if __name__ == "__main__":
            print(parallel.process.map(triple, [1, 2]), shout.process.map(["a"]))
        """
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[3, 6] ['A']"


# --- objects of the script's own classes cross to process workers --------------------------

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


@pytest.mark.parametrize("stdin", [False, True], ids=["file", "stdin"])
def test_the_scripts_own_classes_cross_to_process_workers(tmp_path, stdin):
    _, done = run_user_script(SCRIPT, tmp_path, stdin)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[1:] == EXPECTED
    # The workers did not run the script's top level again (what they print goes to stderr).
    assert (done.stdout + done.stderr).count("top level ran") == 1


SPAWNED_CHILD_SCRIPT = """
import dataclasses
import multiprocessing

import parallel


@dataclasses.dataclass
class Point:
    x: int


def double(p):
    return Point(p.x * 2)


def child(queue):
    # In a child of multiprocessing's spawn the script is the module `__mp_main__`.
    queue.put([parallel.process.map(double, [Point(1), Point(2)]), parallel.process.map(lambda p: p.x, [Point(3)])])


if __name__ == "__main__":
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    process = context.Process(target=child, args=(queue,))
    process.start()
    print(queue.get(timeout=100))
    process.join()
    print("exit", process.exitcode)
"""


def test_a_spawned_childs_script_functions_and_classes_cross_to_process_workers(tmp_path):
    # A Dask worker of a LocalCluster with processes=True is such a child too.
    _, done = run_user_script(SPAWNED_CHILD_SCRIPT, tmp_path, stdin=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == ["[[Point(x=2), Point(x=4)], [3]]", "exit 0"]


# --- what cannot be pickled is named, never a hang -----------------------------------------

def test_an_unpicklable_function_is_a_clear_error():
    lock = threading.Lock()

    def uses_lock(x):
        with lock:
            return x

    with pytest.raises(PicklingError, match="the function .*uses_lock.* cannot be pickled"):
        parallel.process.map(uses_lock, [1, 2])
    results = parallel.process.map(uses_lock, [1, 2], silent=True)
    assert len(results) == 2 and all(isinstance(r.ex, PicklingError) for r in results)
    assert results[1].params == (2,)


def test_an_unpicklable_argument_fails_its_task_only():
    results = parallel.process.map(workload.add, [(1, 2), (threading.Lock(), 1), (3, 4)], silent=True)
    assert results[0] == 3 and results[2] == 7
    assert isinstance(results[1].ex, PicklingError) and "arguments of task 1" in str(results[1].ex)
    with pytest.raises(PicklingError, match="arguments of task 'x'"):
        parallel.process.map(workload.add, {"x": (threading.Lock(), 1)})


def test_an_unpicklable_value_is_a_clear_error():
    results = parallel.process.map(lambda x: threading.Lock() if x else x, [0, 1], silent=True)
    assert results[0] == 0
    assert isinstance(results[1].ex, PicklingError) and "cannot be pickled" in str(results[1].ex)


# --- extras --------------------------------------------------------------------------------

def test_process_extras_are_pickled_once_per_call_not_per_task():
    extra = workload.CountsPickling(100)
    workload.CountsPickling.pickled = 0
    results = parallel.process.map(workload.with_extra, range(200), extras={"extra": extra})
    assert results == [x + 100 for x in range(200)]
    assert workload.CountsPickling.pickled == 1
