"""Stopping a call: Ctrl-C interrupts a blocking call and kills its workers; `cancel()` fails
what has not run. On the process executor, as on threads: the tasks after a strict call's
failure never run, and no task starts once `cancel()` returned — also those of a batch already
sent to a worker (the worker looks at its control page before each task)."""

import ast
import os
import re
import signal
import subprocess
import sys
import textwrap
import time

import pytest

import parallel
from parallel import _protocol

import workload
from helpers import EXECUTORS, HERE, wait_gone


def logged(log, index, fail_at=-1):
    """Appends `index` to the file `log` (one write: lines never interleave), then fails if
    asked to, else spins ~50 µs."""
    fd = os.open(log, os.O_WRONLY | os.O_APPEND | os.O_CREAT)
    os.write(fd, f"{index}\n".encode())
    os.close(fd)
    if index == fail_at:
        raise ValueError(f"task {index} asked to fail")
    until = time.perf_counter() + 50e-6
    while time.perf_counter() < until:
        pass
    return index


def started(log):
    try:
        with open(log) as f:
            return [int(line) for line in f]
    except FileNotFoundError:
        return []


def test_a_strict_call_runs_no_task_after_its_failure(tmp_path):
    log = str(tmp_path / "log")
    params = [(log, i, 100) for i in range(3000)]
    try:
        parallel.process.map(logged, params, max_workers=1)
    except ValueError as exc:
        assert str(exc) == "task 100 asked to fail"
    else:
        raise AssertionError("the failure was not raised")
    time.sleep(0.3)  # anything still running would log by now
    late = [i for i in started(log) if i > 100]
    assert not late, f"{len(late)} tasks after the failed one ran"


def test_no_task_starts_once_cancel_returned(tmp_path):
    log = str(tmp_path / "log")
    call = parallel.process.async_map(logged, [(log, i) for i in range(20000)], max_workers=1)
    deadline = time.monotonic() + 60
    while len(started(log)) < 200 and time.monotonic() < deadline:
        time.sleep(0.001)
    call.cancel()
    at_cancel = len(started(log))
    results = call.results(silent=True)
    time.sleep(0.2)
    ran = len(started(log))
    # The one task that had passed its look when `cancel` ran may record itself just after.
    assert ran <= at_cancel + 1, f"{ran - at_cancel} tasks started after cancel() returned"
    assert ran < 20000
    # A task running at the cancel is killed with its worker: it fails as cancelled.
    assert ran - 1 <= len(results.succeeded) <= ran
    assert all(isinstance(f.ex, parallel.exceptions.CancelledError) for f in results.failed)


@pytest.mark.parametrize("executor", ["thread", "process"])
def test_ctrl_c_interrupts_a_blocking_call_and_kills_its_workers(executor, tmp_path):
    pids = tmp_path / "pids"
    child = subprocess.Popen(
        [
            sys.executable,
            "-c",
            textwrap.dedent(
                f"""
                import os, sys, time, parallel
                def task(x):
                    with open({str(pids)!r}, "a") as f:
                        f.write(f"{{os.getpid()}}\\n")
                    time.sleep(600)
                print("ready", flush=True)
                try:
                    parallel.map(task, range(4), executor={executor!r}, max_workers=2)
                except KeyboardInterrupt:
                    print("interrupted", time.monotonic(), flush=True)
                """
            ),
        ],
        stdout=subprocess.PIPE,
        text=True,
        env=dict(os.environ, PYTHONPATH=HERE),
    )
    assert child.stdout.readline().strip() == "ready"
    deadline = time.monotonic() + 30
    while (not pids.exists() or len(pids.read_text().split()) < 2) and time.monotonic() < deadline:
        time.sleep(0.05)
    sent = time.monotonic()
    child.send_signal(signal.SIGINT)
    line = child.stdout.readline().split()
    assert line and line[0] == "interrupted"
    assert float(line[1]) - sent < 3  # promised: within 0.5 s; generous for a loaded box
    if executor == "process":
        workers = [int(p) for p in pids.read_text().split()]
        assert workers and not set(workers) & {child.pid}
        assert wait_gone(workers) == []
    child.stdout.close()
    child.kill()  # the abandoned sleeping threads of the thread case
    child.wait()



@pytest.mark.parametrize("executor", EXECUTORS)
def test_cancelling_an_async_call_cancels_what_has_not_run(executor):
    call = parallel.async_map(workload.sleep_then, [(0.3, i) for i in range(40)], executor=executor, max_workers=2)
    time.sleep(0.1)
    call.cancel()
    results = call.results(silent=True)
    assert len(results) == 40
    cancelled = [r for r in results if isinstance(r, parallel.FailedTask)]
    assert len(cancelled) >= 30  # at most the first few ran
    assert all(isinstance(r.ex, parallel.exceptions.CancelledError) for r in cancelled)
    with pytest.raises(parallel.exceptions.CancelledError):
        call.results()
    assert parallel.map(workload.add, [(1, 1)], executor=executor) == [2]


# --- the control page's layout, on both sides ---------------------------------------------------

CONTROL_RS = os.path.join(HERE, os.pardir, "crates", "parallel", "src", "process", "control.rs")


def control_rs():
    """control.rs without its tests, and the constants it declares, by name."""
    with open(CONTROL_RS) as f:
        source = f.read().split("#[cfg(test)]")[0]
    constants = {}
    for name, value in re.findall(r"^(?:pub(?:\(crate\))? )?const (\w+): [^=]+ = (.+);$", source, re.M):
        constants[name] = ast.literal_eval(value) if value.startswith('"') else int(value, 0)
    return source, constants


def test_the_control_page_has_the_same_layout_in_the_crate_and_in_the_python_worker():
    # Written twice: in control.rs, which the parent maps, and in _protocol.py, which the
    # Python worker maps. Every constant of control.rs has a twin of the same name and value.
    source, rust = control_rs()
    layout = {"CONTROL_ENV", "CONTROL_SIZE", "STOP_WORD", "BATCH_SHIFT", "FLAGS_WORD", "STOP_ON_FAILURE"}
    assert layout <= rust.keys(), f"control.rs no longer declares {sorted(layout - rust.keys())}"
    python = {name: getattr(_protocol, name, None) for name in rust}
    assert python == rust, "control.rs and _protocol.py disagree on the control page's layout"
    # The words are u64s, and batch numbers u32s: they wrap at 2**32 on both sides.
    assert re.search(r"\bAtomicU64\b", source) and re.search(r"fn stop_from\(&self, batch: u32\b", source)
    assert _protocol.BATCH_MASK == (1 << (64 - _protocol.BATCH_SHIFT)) - 1 == 2**32 - 1
