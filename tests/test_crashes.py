"""A worker that crashes (a segfault, an exit, SIGKILL) or passes its memory limit fails only its
task, with a `WorkerCrashedError` (or `MemoryError`) saying how; the pool heals.
"""

import signal

import pytest

import parallel
from parallel.exceptions import WorkerCrashedError

import workload


@pytest.mark.parametrize("how", ["segfault", "exit", "sigkill"])
def test_a_crashing_worker_fails_only_its_task_and_the_pool_heals(how):
    results = parallel.process.map(workload.misbehave, ["a", how, "b"], silent=True)
    assert results[0] == "a" and results[2] == "b"
    failed = results[1]
    assert isinstance(failed.ex, WorkerCrashedError)
    expected = {"segfault": (signal.SIGSEGV, None), "exit": (None, 3), "sigkill": (signal.SIGKILL, None)}[how]
    assert (failed.ex.signal, failed.ex.exitcode) == expected
    assert parallel.process.map(workload.add, [(1, 2), (3, 4)]) == [3, 7]  # no BrokenProcessPool


def test_a_crash_in_strict_mode_raises_worker_crashed():
    with pytest.raises(WorkerCrashedError, match="signal 11 \\(SIGSEGV\\)"):
        parallel.process.map(workload.misbehave, ["segfault"])


def test_memory_limit_fails_only_the_task_that_passes_it():
    results = parallel.process.map(
        lambda n: len(bytearray(n)), [10, 2_000_000_000, 20], memory_limit=500_000_000, silent=True
    )
    assert results[0] == 10 and results[2] == 20
    assert isinstance(results[1].ex, MemoryError)


def test_a_worker_dying_mid_batch_loses_no_finished_task_and_runs_none_twice(tmp_path):
    # Tiny tasks are answered through the reply log; when the worker dies, the replies still in
    # the log are read from it: the tasks before the crash keep their values, the one running
    # fails, and no task that finished runs again (each task records itself once per run).
    path = str(tmp_path / "runs")
    n, crash = 3000, 2500
    results = parallel.process.map(
        workload.record_then, [(path, i, i == crash) for i in range(n)], max_workers=1, silent=True
    )
    assert [r for i, r in enumerate(results) if i != crash] == [i for i in range(n) if i != crash]
    assert isinstance(results[crash].ex, WorkerCrashedError) and results[crash].ex.exitcode == 3
    with open(path) as f:
        runs = [int(line) for line in f]
    assert sorted(runs) == list(range(n)), "every task ran exactly once"
