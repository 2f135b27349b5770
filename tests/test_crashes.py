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
