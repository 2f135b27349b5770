"""A generator (any iterator) given to `map` is read as the workers take its tasks, a bounded
distance ahead of them — never all at once — and `as_completed()` keeps nothing it handed out:
infinite inputs, failures with their parameters, an input that raises, progress whose total is
known once the input is exhausted, and the peak memory of 5,000,000 streamed tasks — with a
loop slower than the workers too, which holds them back: a call goes at its loop's pace."""

import itertools
import threading
import time

import pytest

import parallel
from helpers import EXECUTORS, echo, run_script
from parallel.exceptions import TimeoutException, WorkerCrashedError

import workload


def square(x):
    return x * x


def fail_on_three(x, k=0):
    if x == 3:
        raise ValueError("three")
    return x + k


def len_unless_three(t):
    if t[0] == 3:
        raise ValueError("three")
    return len(t)


class Counted:
    """An iterator over `items` that counts how many were read."""

    def __init__(self, items):
        self._items = iter(items)
        self.read = 0

    def __iter__(self):
        return self

    def __next__(self):
        item = next(self._items)
        self.read += 1
        return item


@pytest.mark.parametrize("executor", EXECUTORS)
def test_an_endless_generator_streams_until_the_call_is_cancelled(executor):
    source = Counted(itertools.count())
    call = parallel.async_map(square, source, executor=executor, max_workers=2)
    seen = {}
    for key, value in call.as_completed():
        seen[key] = value
        if len(seen) == 2_000:
            break
    call.cancel()
    call.shutdown()
    assert all(value == key * key for key, value in seen.items())
    # Cancelled, the call's tasks are those it read (never the rest: there is no end), and
    # each has an outcome.
    assert call.progress().total == call.progress().done == source.read >= 2_000


@pytest.mark.parametrize("executor", EXECUTORS)
def test_a_generator_is_read_only_a_little_ahead_of_the_workers(executor):
    source = Counted((0.02, i) for i in itertools.count())
    call = parallel.async_map(workload.sleep_then, source, executor=executor, max_workers=2)
    try:
        time.sleep(0.5)
        done, read = call.progress().done, source.read
        # Slow tasks go one at a time: each worker has read the task it runs, and the next.
        assert read - done <= 8, (read, done)
    finally:
        call.cancel()
        call.shutdown()


@pytest.mark.parametrize("executor", EXECUTORS)
def test_a_generator_gives_the_same_results_as_a_list(executor):
    params = [1, (2, 3), [4, {"k": 5}], {"x": 6}, parallel.arg({"a": 1})]
    expected = parallel.map(echo, params, executor=executor, extras={"z": 0})
    streamed = parallel.map(echo, iter(params), executor=executor, extras={"z": 0})
    assert streamed == expected and type(streamed) is type(expected)
    assert parallel.map(square, (x for x in range(1000)), executor=executor) == [x * x for x in range(1000)]
    assert parallel.map(square, (x for x in ()), executor=executor) == []


@pytest.mark.parametrize("executor", EXECUTORS)
def test_a_streamed_failure_reports_its_parameters_strict_and_silent(executor):
    results = parallel.map(fail_on_three, ((x, {"k": 1}) for x in range(6)), executor=executor, silent=True)
    assert results[:3] == [1, 2, 3] and results[4:] == [5, 6]
    assert results[3] == parallel.FailedTask(params=(3,), kwargs={"k": 1}, ex=ValueError("three"))
    results = parallel.map(fail_on_three, (x for x in range(6)), executor=executor, silent=True, extras={"k": 10})
    assert results.failed == [parallel.FailedTask(params=(3,), kwargs={"k": 10}, ex=ValueError("three"))]
    with pytest.raises(ValueError, match="three"):
        parallel.map(fail_on_three, (x for x in range(6)), executor=executor)
    # Not unpacked, a tuple is the one argument: its failure reports it as such.
    results = parallel.map(len_unless_three, iter([(1, 2), (3, 4)]), executor=executor, silent=True, unpack_arguments=False)
    assert results[0] == 2 and results[1] == parallel.FailedTask(params=((3, 4),), ex=ValueError("three"))
    call = parallel.async_map(fail_on_three, (x for x in range(6)), executor=executor, silent=True)
    failed = [value for _, value in call.as_completed() if isinstance(value, parallel.FailedTask)]
    assert [f.params for f in failed] == [(3,)] and failed[0].key == 3


@pytest.mark.parametrize("executor", EXECUTORS)
def test_an_input_that_raises_is_raised_once_the_tasks_before_it_ended(executor):
    def broken():
        yield from range(5)
        raise KeyError("the input broke")

    with pytest.raises(KeyError, match="the input broke"):
        parallel.map(square, broken(), executor=executor)
    with pytest.raises(KeyError, match="the input broke"):
        parallel.map(square, broken(), executor=executor, silent=True)
    got = []
    with pytest.raises(KeyError, match="the input broke"):
        for key, value in parallel.async_map(square, broken(), executor=executor).as_completed():
            got.append((key, value))
    assert sorted(got) == [(x, x * x) for x in range(5)]


@pytest.mark.parametrize("executor", EXECUTORS)
def test_progress_of_a_generator_learns_its_total_at_its_end(executor):
    seen = []
    parallel.map(workload.sleep_then, ((0.01, x) for x in range(30)), executor=executor, max_workers=2,
                 progress=lambda done, total: seen.append((done, total)))
    assert seen[-1] == (30, 30)
    assert all(total in (None, 30) for _, total in seen)
    dones = [done for done, _ in seen]
    assert dones == sorted(dones)
    call = parallel.async_map(square, (x for x in range(100)), executor=executor)
    call.results()
    assert call.progress() == (100, 0, 100)
    assert "streamed" in repr(call)


def test_a_streamed_task_that_times_out_or_crashes_fails_alone_with_its_parameters():
    params = iter([(0.01, "a"), (30, "slow"), ("exit",), (0.01, "b")])
    results = parallel.process.map(workload.sleep_or_exit, params, silent=True, task_timeout=2)
    assert results[0] == "a" and results[3] == "b"
    assert isinstance(results[1].ex, TimeoutException) and results[1].params == (30, "slow")
    assert isinstance(results[2].ex, WorkerCrashedError) and results[2].params == ("exit",)


def test_a_future_with_its_own_function_cannot_be_streamed_to_processes():
    params = iter([1, parallel.future(square, 2)])
    with pytest.raises(TypeError, match="function of its own"):
        parallel.process.map(fail_on_three, params)
    # Threads call each task's own function.
    assert parallel.thread.map(fail_on_three, iter([1, parallel.future(square, 2)])) == [1, 4]


def test_a_silent_stream_whose_function_does_not_pickle_fails_every_task():
    lock = threading.Lock()
    results = parallel.process.map(lambda x: (lock, x), (x for x in range(3)), silent=True)
    assert len(results) == 3 and all(isinstance(r, parallel.FailedTask) for r in results)
    assert [r.params for r in results] == [(0,), (1,), (2,)]


@pytest.mark.parametrize("executor", EXECUTORS)
def test_five_million_streamed_tasks_keep_the_parents_peak_memory_flat(executor):
    # In a fresh interpreter, whose peak (VmHWM) is this call's alone. Holding the input as a
    # list, or the results, would take well over 300 MB. The call goes at the loop's pace, so
    # a loop slowed by a loaded machine keeps it as flat (about 25 MB measured).
    done = run_script(
        f"""
        import parallel

        def noop(x):
            return x

        n, count, total = 5_000_000, 0, 0
        call = parallel.async_map(noop, (i for i in range(n)), executor={str(executor)!r})
        for key, value in call.as_completed():
            count += 1
            total += value
        assert count == n and total == n * (n - 1) // 2, (count, total)
        peak = [line for line in open("/proc/self/status") if line.startswith("VmHWM")][0]
        print(int(peak.split()[1]) // 1024)
        """,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr
    peak_mb = int(done.stdout.split()[-1])
    assert peak_mb < 300, f"the parent's peak was {peak_mb} MB"


@pytest.mark.parametrize("executor", EXECUTORS)
def test_a_slow_loop_holds_back_millions_of_streamed_tasks_in_bounded_memory(executor):
    # The loop naps a millisecond every 1,000 results (3 s in all): the workers would finish
    # every task long before it took them all, and keep their results (and their inputs) —
    # 400 MB and more measured for 2,000,000 tasks. Held back, the call keeps a few batches:
    # the loop never lags the tasks done by more than the engine's bound (32,768 for two
    # workers, a batch of 4096 and the results of a look), and the parent's peak stays near
    # the interpreter's own (about 25 MB measured).
    done = run_script(
        f"""
        import time
        import parallel

        def noop(x):
            return x

        n, count, total, most_ahead = 3_000_000, 0, 0, 0
        call = parallel.async_map(noop, (i for i in range(n)), executor={str(executor)!r}, max_workers=2)
        for key, value in call.as_completed():
            count += 1
            total += value
            if count % 1_000 == 0:
                most_ahead = max(most_ahead, call.progress().done - count)
                time.sleep(0.001)
        assert count == n and total == n * (n - 1) // 2, (count, total)
        peak = [line for line in open("/proc/self/status") if line.startswith("VmHWM")][0]
        print(most_ahead, int(peak.split()[1]) // 1024)
        """,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr
    most_ahead, peak_mb = map(int, done.stdout.split()[-2:])
    assert most_ahead <= 49_152, f"{most_ahead} tasks were done and not yet taken by the loop"
    assert peak_mb < 120, f"the parent's peak was {peak_mb} MB"


@pytest.mark.parametrize("executor", EXECUTORS)
def test_a_loop_left_early_leaves_the_call_running_to_its_end(executor):
    # Held back while the loop runs; once it is left, the call runs on, unpaced, and ends.
    call = parallel.async_map(echo, (i for i in range(200_000)), executor=executor)
    for key, value in call.as_completed():
        break
    deadline = time.monotonic() + 120
    while not call.done() and time.monotonic() < deadline:
        time.sleep(0.01)
    assert call.done() and call.progress() == parallel.Progress(200_000, 0, 200_000)


@pytest.mark.parametrize("executor", EXECUTORS)
def test_shutdown_waits_for_a_call_whose_loop_stopped_midway(executor):
    # The loop took one result and still holds its iterator: waiting for the call lets it
    # run on (it would otherwise wait for the loop forever).
    call = parallel.async_map(echo, (i for i in range(200_000)), executor=executor)
    results = call.as_completed()
    assert next(results) is not None
    call.shutdown(wait=True)
    assert call.done() and call.progress().done == 200_000
    assert sum(1 for _ in results) == 200_000 - 1, "the outcomes not taken are still handed out"
