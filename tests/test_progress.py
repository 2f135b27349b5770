"""Watching a call while it runs: `progress=` (a bar, a callback, an object with `update`),
`AsyncCall.progress()`, `as_completed()`, `await` and `async for`, on both executors."""

import asyncio
import io
import re
import threading
import time

import pytest
from tqdm import tqdm

import parallel
from parallel.exceptions import TimeoutException

EXECUTORS = [parallel.THREAD_EXECUTOR, parallel.PROCESS_EXECUTOR]


def sleep_for(s):
    time.sleep(s)
    return s


def fail_on_two(x):
    if x == 2:
        raise ValueError("two")
    return x * 10


@pytest.mark.parametrize("executor", EXECUTORS)
@pytest.mark.parametrize("shape", ["list", "dict", "generator"])
def test_a_callback_counts_up_to_the_total_and_is_called_at_the_end(executor, shape):
    xs = [0.02] * 8
    params = {"k%d" % i: x for i, x in enumerate(xs)} if shape == "dict" else xs
    if shape == "generator":
        params = (x for x in xs)
    seen = []
    out = parallel.map(sleep_for, params, executor=executor, max_workers=2, progress=lambda d, t: seen.append((d, t)))
    assert len(out) == 8
    dones = [d for d, _ in seen]
    assert dones == sorted(dones), "monotonic"
    assert seen[-1] == (8, 8), "once at the end, at the total"
    # A generator's total is known once it is exhausted (read as the workers take its tasks).
    assert all(t == 8 or (shape == "generator" and t is None) for _, t in seen)


class _Recording(tqdm):
    """A `tqdm.auto.tqdm` that writes nowhere and remembers being closed."""

    made = []

    def __init__(self, *args, **kwargs):
        kwargs["file"] = io.StringIO()
        super().__init__(*args, **kwargs)
        self.closed = False
        _Recording.made.append(self)

    def close(self):
        self.closed = True
        super().close()


@pytest.fixture
def recorded_bars(monkeypatch):
    _Recording.made = []
    monkeypatch.setattr("tqdm.auto.tqdm", _Recording)
    return _Recording.made


@pytest.mark.parametrize("executor", EXECUTORS)
def test_failures_count_and_the_bar_closes_when_the_call_raises(executor, recorded_bars):
    with pytest.raises(ValueError, match="two"):
        parallel.map(fail_on_two, [1, 2, 3, 4], executor=executor, max_workers=1, progress=True)
    assert [bar.closed for bar in recorded_bars] == [True]
    seen = []
    results = parallel.map(fail_on_two, [1, 2, 3], executor=executor, silent=True, progress=lambda d, t: seen.append(d))
    assert seen[-1] == 3 and len(results.failed) == 1
    parallel.map(fail_on_two, [1, 2, 3], executor=executor, silent=True, progress=True)
    assert recorded_bars[-1].closed and recorded_bars[-1].n == 3
    assert recorded_bars[-1].postfix and "failed=1" in recorded_bars[-1].postfix


def test_progress_true_draws_a_tqdm_bar_on_stderr(capsys):
    out = parallel.map(sleep_for, [0.01] * 5, max_workers=2, progress=True)
    assert out == [0.01] * 5
    err = capsys.readouterr().err
    assert "5/5" in err and "100%" in err


def test_a_short_call_ends_with_the_frame_a_closed_tqdm_draws(capsys):
    # A call shorter than the first show makes no tqdm bar; its one frame is drawn by tqdm's
    # formatter, as tqdm draws a bar it closes (a loaded machine may make it longer: then a
    # bar draws more frames before it, and its last is the same).
    parallel.map(fail_on_two, [1, 2, 3], silent=True, progress=True)
    err = capsys.readouterr().err
    assert err.endswith("\n")
    last = err.rstrip("\n").split("\r")[-1]
    assert re.fullmatch(r"100%\|\S+\| 3/3 \[00:00<00:00, +[\d.]+k?task/s, failed=1\]", last), last


def test_an_update_object_gets_increments_that_sum_to_the_tasks():
    class Counter:
        def __init__(self):
            self.steps = []

        def update(self, n):
            self.steps.append(n)

    counter = Counter()
    parallel.par([lambda: 1, lambda: 2, (sleep_for, 0.02)], progress=counter)
    assert sum(counter.steps) == 3 and all(n > 0 for n in counter.steps)


def test_progress_of_another_type_is_a_type_error_naming_the_three_forms():
    with pytest.raises(TypeError, match=r"True .*callable\(done, total\).*update\(n\)"):
        parallel.map(sleep_for, [0], progress=5)
    with pytest.raises(TypeError):
        parallel.async_map(sleep_for, [0], progress="yes")


def test_a_callback_that_raises_fails_the_call_and_leaves_no_thread():
    ran = []

    def slow(x):
        time.sleep(0.05)
        ran.append(x)
        return x

    def broken(done, total):
        raise RuntimeError("display broke")

    before = threading.active_count()
    with pytest.raises(RuntimeError, match="display broke"):
        parallel.map(slow, range(200), max_workers=2, progress=broken)
    call = parallel.async_map(slow, range(200), max_workers=2, progress=broken)
    with pytest.raises(RuntimeError, match="display broke"):
        call.results()
    assert len(ran) < 200, "the tasks were cancelled"
    deadline = time.monotonic() + 5
    while threading.active_count() > before and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not [t for t in threading.enumerate() if t.name == "parallel-progress"]


@pytest.mark.parametrize("executor", EXECUTORS)
def test_async_progress_and_a_callback_from_a_background_thread(executor):
    threads = set()
    call = parallel.async_map(
        sleep_for, [0.05] * 6, executor=executor, max_workers=2, progress=lambda d, t: threads.add(threading.current_thread())
    )
    first = call.progress()
    assert isinstance(first, parallel.Progress) and first.total == 6 and 0 <= first.done <= 6
    assert call.results() == [0.05] * 6
    assert call.progress() == parallel.Progress(6, 0, 6)
    assert threading.current_thread() not in threads


@pytest.mark.parametrize("executor", EXECUTORS)
def test_as_completed_yields_in_completion_order(executor):
    parallel.map(sleep_for, [0.1] * 3, executor=executor, max_workers=3)  # three workers started
    call = parallel.async_map(sleep_for, [0.9, 0.1, 0.5], executor=executor, max_workers=3)
    assert [k for k, _ in call.as_completed()] == [1, 2, 0]
    call = parallel.async_map(sleep_for, {"slow": 0.4, "fast": 0.05}, executor=executor, max_workers=2)
    assert list(call.as_completed()) == [("fast", 0.05), ("slow", 0.4)]


@pytest.mark.parametrize("executor", EXECUTORS)
def test_as_completed_strict_raises_and_silent_yields_the_failed_task(executor):
    with pytest.raises(ValueError, match="two"):
        list(parallel.async_map(fail_on_two, [1, 2, 3], executor=executor).as_completed())
    got = dict(parallel.async_map(fail_on_two, [1, 2, 3], executor=executor, silent=True).as_completed())
    assert got[0] == 10 and got[2] == 30
    assert isinstance(got[1], parallel.FailedTask) and str(got[1].ex) == "two" and got[1].params == (2,)


def test_results_after_as_completed_says_they_were_handed_out():
    call = parallel.async_map(sleep_for, [0, 0])
    assert sorted(v for _, v in call.as_completed()) == [0, 0]
    with pytest.raises(RuntimeError, match="as_completed"):
        call.results()


@pytest.mark.parametrize("executor", EXECUTORS)
def test_await_does_not_block_the_event_loop(executor):
    async def main():
        ticks = 0

        async def ticker():
            nonlocal ticks
            while True:
                await asyncio.sleep(0.01)
                ticks += 1

        task = asyncio.ensure_future(ticker())
        results = await asyncio.gather(
            parallel.async_map(sleep_for, [0.3, 0.3], executor=executor, max_workers=2),
            parallel.async_map(sleep_for, {"a": 0.1}, executor=executor),
        )
        task.cancel()
        return results, ticks

    (listed, keyed), ticks = asyncio.run(main())
    assert listed == [0.3, 0.3] and keyed == {"a": 0.1}
    assert ticks >= 10, "the loop kept running while the calls did"


@pytest.mark.parametrize("executor", EXECUTORS)
def test_async_for_streams_and_cancelling_the_awaiting_task_cancels_the_call(executor):
    async def stream():
        return [k async for k, _ in parallel.async_map(sleep_for, [0.3, 0.05], executor=executor, max_workers=2)]

    assert asyncio.run(stream()) == [1, 0]

    async def cancelled():
        call = parallel.async_map(sleep_for, [0.2] * 50, executor=executor, max_workers=1)
        waiting = asyncio.ensure_future(call)
        await asyncio.sleep(0.3)
        waiting.cancel()
        with pytest.raises(asyncio.CancelledError):
            await waiting
        return call

    call = asyncio.run(cancelled())
    deadline = time.monotonic() + 10
    while not call.done() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert call.done(), "the call was cancelled, not run to its end (50 × 0.2 s on one worker)"
    with pytest.raises(Exception):
        call.results(timeout=0)


def test_a_bar_closes_when_the_call_times_out(recorded_bars):
    with pytest.raises(TimeoutException):
        parallel.map(sleep_for, [0.01, 5, 5], max_workers=3, timeout=0.3, progress=True)
    assert [bar.closed for bar in recorded_bars] == [True]
    # The tasks the deadline stopped count too: every task is accounted for.
    assert recorded_bars[0].n == 3
