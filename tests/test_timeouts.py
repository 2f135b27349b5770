"""Timeouts return on time: `timeout` is a deadline for the whole call (raised, or a `FailedTask`
per unfinished task when silent), `task_timeout` fails only the slow task (its worker is
killed), a decorated function's default applies, and the interpreter exits cleanly past them.

Here `release` is a flag file (not conftest's event): the hung `nap`s stop once it exists.
"""

import os
import time

import pytest

import parallel
from parallel.exceptions import TimeoutException

import workload
from helpers import EXECUTORS, alive, run_script


@pytest.fixture
def release(tmp_path):
    """A flag file; hung helpers stop as soon as it exists (created when the test ends)."""
    flag = tmp_path / "release"
    yield str(flag)
    flag.touch()


def nap(flag, seconds, value=None):
    """Sleep up to `seconds`, stopping early once `flag` exists; then give `value`."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and not os.path.exists(flag):
        time.sleep(0.02)
    return value


@parallel.decorate(timeout=0.5)
def quick_timeout_decorated(flag, seconds):
    return nap(flag, seconds, 'woke')


# --- the call's deadline -------------------------------------------------------------------

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
    # The quick task must finish before the deadline: on processes, the deadline leaves a
    # worker room to start on a loaded machine (0.5 s was seen to be too short once).
    deadline = 0.5 if executor == parallel.THREAD_EXECUTOR else 3
    start = time.monotonic()
    results = parallel.map(nap, [(release, 0, 'quick'), (release, 30, 'hung')],
                           timeout=deadline, silent=True, executor=executor)
    assert time.monotonic() - start < 10
    assert results[0] == 'quick'
    assert isinstance(results[1], parallel.FailedTask)
    assert isinstance(results[1].ex, TimeoutException)
    assert results.failures is True
    assert results.replace_failed(None) == ['quick', None]


def test_decorate_timeout_option_applies_to_map(executor, release):
    handler = (quick_timeout_decorated.thread if executor == parallel.THREAD_EXECUTOR
               else quick_timeout_decorated.process)
    start = time.monotonic()
    with pytest.raises(TimeoutException):
        handler.map([(release, 30)])
    assert time.monotonic() - start < 10


@pytest.mark.parametrize("executor", EXECUTORS)
def test_timeout_is_a_deadline_that_never_waits_for_a_hung_task(executor):
    start = time.monotonic()
    # The deadline leaves a worker process room to start on a loaded machine.
    with pytest.raises(TimeoutException) as raised:
        parallel.map(workload.sleep_then, [0.01, 600], executor=executor, timeout=3)
    assert time.monotonic() - start < 10  # not the 600 s the hung task would take
    assert isinstance(raised.value, TimeoutError)
    assert "1 of 2 tasks finished" in str(raised.value)


@pytest.mark.parametrize("executor", EXECUTORS)
def test_silent_timeout_fails_only_the_unfinished_tasks(executor):
    start = time.monotonic()
    results = parallel.map(
        workload.sleep_then, [(0.01, "a"), (600, "b"), (0.01, "c")], executor=executor, timeout=3, silent=True
    )
    assert time.monotonic() - start < 10
    assert results[0] == "a" and results[2] == "c"
    assert isinstance(results[1], parallel.FailedTask) and isinstance(results[1].ex, TimeoutException)
    assert results[1].params == (600, "b")


# --- a task's timeout ----------------------------------------------------------------------

def test_task_timeout_fails_only_the_slow_task_and_kills_its_worker():
    results = parallel.process.map(workload.misbehave, ["ok", "hang", "fine"], task_timeout=2.5, silent=True)
    assert results[0] == "ok" and results[2] == "fine"
    assert isinstance(results[1].ex, TimeoutException) and "task_timeout" in str(results[1].ex)
    # The hung worker was killed: every worker alive now is one that answers.
    pids = set(parallel.process.map(workload.pid, range(8)))
    assert all(alive(p) for p in pids)


def test_task_timeout_counts_from_when_the_worker_begins_the_task_not_its_imports(tmp_path, monkeypatch):
    # A worker imports the function's module before it runs the task (the caller's process
    # had imported it already): that load is no part of the task's time.
    (tmp_path / "slow_to_import.py").write_text(
        "import time\ntime.sleep(2)\n\ndef nap(seconds):\n    time.sleep(seconds)\n    return seconds\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    import slow_to_import

    start = time.monotonic()
    results = parallel.process.map(slow_to_import.nap, [0, 0.1, 600], task_timeout=1, silent=True)
    assert results[:2] == [0, 0.1], results
    # A task that runs too long once begun still times out, at its own limit.
    assert isinstance(results[2], parallel.FailedTask) and isinstance(results[2].ex, TimeoutException)
    assert "task_timeout" in str(results[2].ex) and results[2].params == (600,)
    assert time.monotonic() - start < 60


# --- tasks abandoned at a deadline ---------------------------------------------------------

@pytest.mark.parametrize("task", ["spin", "sleep"])
def test_the_interpreter_exits_cleanly_while_abandoned_thread_tasks_run(task):
    # A thread task abandoned at its timeout may wake while the interpreter finalizes: it must
    # not crash the exit (CPython 3.11 would end the thread with pthread_exit).
    for _ in range(3):
        done = run_script(
            """
            import time, parallel

            def spin(seconds):
                end = time.monotonic() + seconds
                while time.monotonic() < end:
                    pass

            task = TASK
            try:
                parallel.map(task, [0.2] * 4, timeout=0.05)
            except TimeoutError:
                pass
            time.sleep(0.15)  # the tasks wake around the time the interpreter exits
            print("bye")
            """.replace("TASK", "spin" if task == "spin" else "time.sleep")
        )
        assert done.returncode == 0, done.stderr
        assert done.stdout.strip() == "bye" and "Fatal Python error" not in done.stderr
