"""Workers users shape: `initializer=`/`initargs=` and `parallel.worker_state()`, `retries=` and
`retry_on=` (with `FailedTask.attempts`), `max_tasks_per_worker=` and `max_worker_memory=` — on
threads and on processes. (On Dask and Ray: tests/test_cluster.py, on its session's clusters.)"""

import collections
import os
import threading
import time

import pytest

import parallel
import workload
from parallel.exceptions import InitializerError, TimeoutException, WorkerCrashedError


def _runs(path):
    """How many times the initializer ran in each worker, `{worker: runs}`."""
    if not os.path.exists(path):
        return {}
    return collections.Counter(open(path).read().split())


def _worker(executor, pid, thread):
    return pid if executor is parallel.PROCESS_EXECUTOR else (pid, thread)


# --- initializer and worker_state --------------------------------------------------------------


def test_the_initializer_runs_once_in_each_worker_before_its_first_task(executor, tmp_path):
    path = str(tmp_path / "inits")
    out = parallel.map(
        workload.with_model, range(200), executor=executor, max_workers=2,
        initializer=workload.note_init, initargs=(path, "the model"),
    )
    # Every task saw what its worker's initializer put in its state.
    assert [model for _, _, model, _ in out] == ["the model"] * 200
    assert [x for *_, x in out] == list(range(200))
    runs = _runs(path)
    assert set(runs.values()) == {1}, f"an initializer ran twice in one worker: {runs}"
    workers = {_worker(executor, pid, thread) for pid, thread, _, _ in out}
    ran_in = {line.split(":")[0] if executor is parallel.PROCESS_EXECUTOR else line for line in runs}
    expected = {str(w) if executor is parallel.PROCESS_EXECUTOR else f"{w[0]}:{w[1]}" for w in workers}
    assert expected <= ran_in, "a worker ran a task without running the initializer first"


def test_a_worker_reused_by_a_call_with_the_same_initializer_does_not_run_it_again(executor, tmp_path):
    path = str(tmp_path / "inits")
    options = dict(executor=executor, max_workers=1, initializer=workload.note_init, initargs=(path, 1))
    first = parallel.map(workload.with_model, range(20), **options)
    second = parallel.map(workload.with_model, range(20), **options)
    (worker,) = {_worker(executor, pid, thread) for pid, thread, _, _ in first}
    if worker in {_worker(executor, pid, thread) for pid, thread, _, _ in second}:
        key = str(worker) if executor is parallel.PROCESS_EXECUTOR else f"{worker[0]}:{worker[1]}"
        runs = _runs(path)
        assert sum(n for line, n in runs.items() if line.startswith(key.split(":")[0])) >= 1
        assert all(n == 1 for n in runs.values()), f"run again in a reused worker: {runs}"
    # Other arguments: another initializer, which runs again.
    third = parallel.map(workload.with_model, range(5), **dict(options, initargs=(path, 2)))
    assert [model for _, _, model, _ in third] == [2] * 5


def test_worker_state_is_kept_across_tasks_and_calls(executor):
    first = parallel.map(workload.count_in_state, range(50), executor=executor, max_workers=1)
    second = parallel.map(workload.count_in_state, range(50), executor=executor, max_workers=1)
    for call in (first, second):
        (pid,) = {pid for pid, _ in call}
        counts = [n for _, n in call]
        assert counts == list(range(counts[0], counts[0] + 50)), "the state was not kept from task to task"
    if first[0][0] == second[0][0] and executor is parallel.PROCESS_EXECUTOR:
        assert second[0][1] == first[-1][1] + 1, "the state was not kept from call to call"


def test_each_thread_has_a_state_of_its_own():
    barrier = threading.Barrier(4, timeout=30)

    def state_id(_):
        barrier.wait()  # four tasks at once: on four threads
        return id(parallel.worker_state())

    assert len(set(parallel.map(state_id, range(4), max_workers=4))) == 4


def test_worker_state_is_empty_in_a_new_worker_process():
    pids = parallel.map(workload.leak_then_pid, [0, 0, 0], executor=parallel.PROCESS_EXECUTOR, max_workers=1,
                        max_tasks_per_worker=1)
    assert len(set(pids)) == 3
    fresh = parallel.map(workload.count_in_state, [0], executor=parallel.PROCESS_EXECUTOR, max_workers=1,
                         max_tasks_per_worker=1)
    assert fresh[0][1] == 1


def test_an_initializer_that_raises_fails_every_task_at_once_and_the_pool_still_works(executor):
    results = parallel.map(workload.with_model, range(30), executor=executor, max_workers=2, silent=True,
                           initializer=workload.failing_init)
    assert len(results) == 30
    for failed in results:
        assert isinstance(failed, parallel.FailedTask)
        assert isinstance(failed.ex, InitializerError)
        assert "the model did not load" in str(failed.ex)
        cause = failed.ex.__cause__
        assert cause is not None and "the model did not load" in str(cause) + str(getattr(cause, "__cause__", ""))
    with pytest.raises(InitializerError):
        parallel.map(workload.with_model, range(30), executor=executor, initializer=workload.failing_init)
    # The same workers run the next call.
    assert [x for *_, x in parallel.map(workload.with_model, range(10), executor=executor)] == list(range(10))


def test_the_initializer_runs_for_par_and_async_forms(executor, tmp_path):
    path = str(tmp_path / "inits")
    options = dict(executor=executor, initializer=workload.note_init, initargs=(path, "m"))
    out = parallel.par([(workload.with_model, 1), (workload.with_model, 2)], **options)
    assert [model for _, _, model, _ in out] == ["m", "m"]
    call = parallel.async_map(workload.with_model, [1, 2, 3], **options)
    assert [model for _, _, model, _ in call.results()] == ["m"] * 3
    out = parallel.map(workload.with_model, iter([5, 6]), **options)  # a streamed input
    assert [model for _, _, model, _ in out] == ["m", "m"]


def test_the_initializers_time_is_no_part_of_the_first_tasks_task_timeout():
    # A process worker runs the call's initializer before it begins the batch: a slow one
    # (a model that takes seconds to load) does not time out the worker's first task.
    results = parallel.process.map(
        workload.square, [1, 2, 3], initializer=time.sleep, initargs=(2,), task_timeout=1, silent=True
    )
    assert results == [1, 4, 9], results
    # A task that itself runs too long still fails at its task_timeout.
    slow = parallel.process.map(
        workload.sleep_then, [(600, "never")], initializer=time.sleep, initargs=(2,), task_timeout=1, silent=True
    )
    assert isinstance(slow[0], parallel.FailedTask) and isinstance(slow[0].ex, TimeoutException), slow


def test_bad_initializer_options_say_what_is_wrong():
    with pytest.raises(TypeError, match="initializer must be a callable"):
        parallel.map(workload.pid, [1], initializer=3)
    with pytest.raises(TypeError, match="initargs must be a tuple"):
        parallel.map(workload.pid, [1], initializer=workload.pid, initargs="abc")
    with pytest.raises(ValueError, match="initargs were given without an initializer"):
        parallel.map(workload.pid, [1], initargs=(1,))


# --- retries -----------------------------------------------------------------------------------


def test_a_task_that_fails_twice_then_succeeds_succeeds_with_two_retries(executor, tmp_path):
    paths = [str(tmp_path / str(i)) for i in range(6)]
    out = parallel.map(workload.fails_then_succeeds, [(p, 2) for p in paths], executor=executor, retries=2)
    assert out == [3] * 6
    # A task that succeeds at once runs once.
    once = str(tmp_path / "once")
    assert parallel.map(workload.fails_then_succeeds, [(once, 0)], executor=executor, retries=3) == [1]


def test_a_task_out_of_retries_reports_its_last_failure_and_its_attempts(executor, tmp_path):
    path = str(tmp_path / "always")
    results = parallel.map(workload.fails_then_succeeds, [(path, 10)], executor=executor, retries=2, silent=True)
    (failed,) = results
    assert isinstance(failed.ex, ValueError) and str(failed.ex) == "run 3 fails"
    assert failed.attempts == 3
    assert failed.params == (path, 10)
    with pytest.raises(ValueError, match="run 6 fails"):
        parallel.map(workload.fails_then_succeeds, [(path, 10)], executor=executor, retries=2)
    plain = parallel.map(workload.fails_then_succeeds, [(path, 10)], executor=executor, silent=True)
    assert plain[0].attempts == 1


def test_retry_on_retries_only_the_exceptions_it_names(executor, tmp_path):
    value_error, key_error = str(tmp_path / "v"), str(tmp_path / "k")
    results = parallel.map(
        workload.fails_then_succeeds, [(value_error, 1), (key_error, 1, "key")],
        executor=executor, retries=2, retry_on=ValueError, silent=True,
    )
    assert results[0] == 2
    assert isinstance(results[1].ex, KeyError) and results[1].attempts == 1


def test_a_crashed_task_runs_again_on_a_new_worker_process(tmp_path):
    paths = [str(tmp_path / str(i)) for i in range(3)]
    out = parallel.map(workload.fails_then_succeeds, [(p, 2, "exit") for p in paths],
                       executor=parallel.PROCESS_EXECUTOR, max_workers=2, retries=2)
    assert out == [3, 3, 3]
    # retry_on names the crash's exception to retry crashes only.
    path = str(tmp_path / "only-crashes")
    results = parallel.map(workload.fails_then_succeeds, [(path, 1, "exit"), (str(tmp_path / "v"), 1)],
                           executor=parallel.PROCESS_EXECUTOR, retries=1, retry_on=WorkerCrashedError, silent=True)
    assert results[0] == 2 and isinstance(results[1].ex, ValueError)


def test_a_task_past_its_task_timeout_runs_again(executor, tmp_path):
    path = str(tmp_path / "hangs-once")
    out = parallel.map(workload.fails_then_succeeds, [(path, 1, "hang")], executor=executor,
                       task_timeout=1, retries=1)
    assert out == [2]
    path = str(tmp_path / "hangs")
    results = parallel.map(workload.fails_then_succeeds, [(path, 5, "hang")], executor=parallel.PROCESS_EXECUTOR,
                           task_timeout=0.5, retries=1, silent=True)
    assert isinstance(results[0].ex, TimeoutException) and results[0].attempts == 2


def test_bad_retry_options_say_what_is_wrong():
    with pytest.raises(ValueError, match="retries must be 0 or more"):
        parallel.map(workload.pid, [1], retries=-1)
    with pytest.raises(TypeError, match="retries must be an int"):
        parallel.map(workload.pid, [1], retries=1.5)
    with pytest.raises(TypeError, match="retry_on must be an exception type"):
        parallel.map(workload.pid, [1], retries=1, retry_on="ValueError")


# --- recycling ---------------------------------------------------------------------------------


def test_max_tasks_per_worker_replaces_a_process_worker_after_that_many_tasks():
    pids = parallel.map(workload.pid, range(12), executor=parallel.PROCESS_EXECUTOR, max_workers=1,
                        max_tasks_per_worker=3)
    runs = [len(list(group)) for _, group in __import__("itertools").groupby(pids)]
    assert all(n <= 3 for n in runs), runs
    assert len(set(pids)) >= 4


def test_max_worker_memory_replaces_a_worker_that_leaks_and_keeps_its_values():
    # Each task leaks 50 MB; a worker above 200 MB after a task is replaced.
    pids = parallel.map(workload.leak_then_pid, [50] * 12, executor=parallel.PROCESS_EXECUTOR, max_workers=1,
                        max_worker_memory=200 << 20)
    assert len(pids) == 12 and all(isinstance(p, int) for p in pids)
    runs = [len(list(group)) for _, group in __import__("itertools").groupby(pids)]
    assert len(runs) >= 3, f"the leaking worker was not replaced: {runs}"
    assert all(n <= 5 for n in runs), runs


def test_bad_recycling_options_say_what_is_wrong():
    with pytest.raises(ValueError, match="max_tasks_per_worker must be at least 1"):
        parallel.map(workload.pid, [1], executor=parallel.PROCESS_EXECUTOR, max_tasks_per_worker=0)
    with pytest.raises(TypeError, match="max_worker_memory must be an int"):
        parallel.map(workload.pid, [1], executor=parallel.PROCESS_EXECUTOR, max_worker_memory="1G")
