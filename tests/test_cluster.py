"""The Dask and Ray executors, on a real local cluster of each (started once per session,
`conftest.py`): the same calls, the same guarantees as on the local executors — results in
shape, failures with their parameters and remote tracebacks, a deadline that returns on time
and stops what ran on the cluster, a crash or a `task_timeout` that fails only its task while
the cluster's worker survives, no task run twice, `max_workers` across the cluster, tiny tasks
batched, progress and `as_completed`, nothing left behind."""

import gc
import ipaddress
import os
import signal
import subprocess
import sys
import threading
import time

import distributed
import pytest

import parallel
from parallel.exceptions import RemoteTraceback, TimeoutException, WorkerCrashedError

import helpers
import workload


def test_results_come_in_the_inputs_shape(cluster):
    executor, options = cluster
    assert parallel.map(workload.square, range(50), executor=executor, **options) == [x * x for x in range(50)]
    assert parallel.map(workload.square, {"a": 2, "b": 3}, executor=executor, **options) == {"a": 4, "b": 9}
    assert parallel.map(workload.add, [(1, 2), (3, 4)], executor=executor, **options) == [3, 7]
    assert parallel.map(workload.add, [1, 2], extras={"y": 10}, executor=executor, **options) == [11, 12]
    assert parallel.par({"sum": (workload.add, 1, 2), "sq": (workload.square, 5)}, executor=executor, **options) == {
        "sum": 3,
        "sq": 25,
    }
    assert parallel.map(workload.square, (x for x in range(5)), executor=executor, **options) == [0, 1, 4, 9, 16]


def test_the_attribute_forms_and_a_decorated_function(cluster):
    executor, options = cluster
    on = getattr(parallel, executor.value)
    assert on.map(workload.square, [1, 2, 3], **options) == [1, 4, 9]
    assert on.async_map(workload.square, [4], **options).results() == [16]
    assert on.par([(workload.add, 1, 1)], **options) == [2]
    decorated = parallel.decorate(executor=executor)(workload.square)
    assert decorated.map([5, 6], **options) == [25, 36]
    assert workload.decorated_square.map([7], executor=executor, **options) == [49]


def test_strict_raises_the_first_failure_in_input_order(cluster):
    executor, options = cluster
    with pytest.raises(ValueError, match="raised on purpose"):
        parallel.map(workload.misbehave, ["ok", "raise", "ok"], executor=executor, **options)
    with pytest.raises(KeyError, match="at the bottom") as info:
        parallel.map(workload.deep_raise, [0, 3], executor=executor, **options)
    assert isinstance(info.value.__cause__, RemoteTraceback)


def test_silent_failures_keep_the_remote_exception_its_traceback_and_the_parameters(cluster):
    executor, options = cluster
    results = parallel.map(workload.deep_raise, [3, 2], executor=executor, silent=True, **options)
    assert len(results.failed) == 2
    failed = results[0]
    assert isinstance(failed, parallel.FailedTask) and failed.params == (3,)
    assert isinstance(failed.ex, KeyError)
    assert isinstance(failed.ex.__cause__, RemoteTraceback) and "deep_raise" in str(failed.ex.__cause__)


def test_a_crash_fails_its_task_alone_and_the_cluster_worker_survives(cluster, tmp_path):
    executor, options = cluster
    runs = tmp_path / "runs"
    before = _cluster_pids(executor, options)
    params = [(str(runs), i, i == 2) for i in range(6)]
    results = parallel.map(workload.record_then, params, executor=executor, silent=True, **options)
    assert [r for i, r in enumerate(results) if i != 2] == [0, 1, 3, 4, 5]
    crashed = results[2]
    assert isinstance(crashed.ex, WorkerCrashedError) and crashed.ex.exitcode == 3
    # No task ran twice: the crashed one neither (no retry behind the caller's back).
    assert sorted(int(line) for line in runs.read_text().split()) == list(range(6))
    segv = parallel.map(workload.misbehave, ["segfault", "ok"], executor=executor, silent=True, **options)
    assert isinstance(segv[0].ex, WorkerCrashedError) and segv[1] == "ok"
    assert _cluster_pids(executor, options) == before, "the cluster's worker processes are the same"


def test_a_dask_worker_that_dies_does_not_run_its_batch_again(dask_client, tmp_path):
    runs = tmp_path / "runs"
    call = parallel.dask.async_map(workload.parent_then_sleep, [(str(runs), 30)], client=dask_client)
    deadline = time.monotonic() + 30
    while not runs.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    dask_worker = int(runs.read_text().split()[0])
    assert dask_worker in dask_client.run(os.getpid).values()
    os.kill(dask_worker, signal.SIGKILL)  # the scheduler then gives the batch to the other worker
    results = call.results(silent=True, timeout=60)
    # Crashed: the batch given out again says so, or the scheduler forgot it with its worker
    # (its future then fails as cancelled); either way it does not run a second time.
    assert isinstance(results[0].ex, WorkerCrashedError), results
    dask_client.wait_for_workers(2, timeout=60)  # the nanny restarts it
    time.sleep(0.5)
    assert len(runs.read_text().split()) == 1, "the task ran once"


def test_task_timeout_kills_the_task_and_the_rest_run(cluster):
    executor, options = cluster
    start = time.monotonic()
    results = parallel.map(workload.misbehave, ["hang", "ok"], executor=executor, silent=True, task_timeout=1, **options)
    assert time.monotonic() - start < 30
    assert isinstance(results[0].ex, TimeoutException) and results[1] == "ok"


def test_the_timeout_is_a_deadline_and_stops_the_tasks_running_on_the_cluster(cluster, tmp_path):
    executor, options = cluster
    path = tmp_path / "pid"
    # The task must have started when the deadline passes: the cluster is warmed first (a
    # cluster worker's first worker process takes ~1 s alone, many under load), and the timeout
    # leaves room on a loaded machine.
    parallel.map(workload.square, [1, 2], executor=executor, **options)
    start = time.monotonic()
    with pytest.raises(TimeoutException):
        parallel.map(workload.pid_then_sleep, [(str(path), 60)], executor=executor, timeout=5, **options)
    took = time.monotonic() - start
    assert 4.5 < took < 9, f"returned {took:.1f} s after a timeout of 5 s"
    # The worker process that ran the task on the cluster is killed, not left to sleep on.
    pid = _pid_in(path)
    assert helpers.wait_gone([pid], within=15) == [], "the task's worker process on the cluster was not stopped"
    # The cluster is free again: a quick call is quick.
    start = time.monotonic()
    assert parallel.map(workload.square, [1, 2], executor=executor, **options) == [1, 4]
    assert time.monotonic() - start < 10


def test_a_silent_deadline_keeps_what_finished(cluster):
    executor, options = cluster
    # Warmed, with room on a loaded machine, as above.
    parallel.map(workload.square, [1, 2], executor=executor, **options)
    results = parallel.map(workload.sleep_then, [(0.05, "a"), (60, "b")], executor=executor, silent=True, timeout=5, **options)
    assert results[0] == "a"
    assert isinstance(results[1].ex, TimeoutException) and results[1].params == (60, "b")


def test_cancel_stops_the_call_on_the_cluster(cluster, tmp_path):
    executor, options = cluster
    path = tmp_path / "pid"
    call = parallel.async_map(workload.pid_then_sleep, [(str(path), 60)], executor=executor, **options)
    pid = _pid_in(path)
    call.cancel()
    with pytest.raises(parallel.exceptions.CancelledError):
        call.results(timeout=10)
    assert helpers.wait_gone([pid], within=15) == []


def _caller(which, request, call):
    """`(code, env)` of a caller of its own, connected to the session's cluster `which`, that
    runs `call` — a statement with `{on}` where the call's cluster options go."""
    if which == "dask":
        client = request.getfixturevalue("dask_client")
        on, env = f"client={client.scheduler.address!r}", dict(os.environ)
    else:
        context = request.getfixturevalue("ray_cluster")
        on, env = "", dict(os.environ, RAY_ADDRESS=context.address_info["address"])
    tests = os.path.dirname(os.path.abspath(__file__))
    code = (
        "import os, time, parallel, workload\n"
        # A Ray job's workers see the job's runtime_env, not the driver's environment.
        + (f"import ray\nray.init(runtime_env={{'env_vars': {{'PYTHONPATH': {tests!r}}}}})\n" if which == "ray" else "")
        + call.format(on=on)
    )
    env["PYTHONPATH"] = tests
    return code, env


@pytest.mark.parametrize("which", ["dask", "ray"])
def test_ctrl_c_in_the_caller_stops_the_call_on_the_cluster(which, request, tmp_path):
    # A caller of its own (connected to the session's cluster), interrupted while its task runs.
    path = tmp_path / "pid"
    code, env = _caller(which, request, f"parallel.{which}.map(workload.pid_then_sleep, [({str(path)!r}, 60)], {{on}})\n")
    caller = subprocess.Popen([sys.executable, "-c", code], env=env, stderr=subprocess.PIPE, text=True)
    try:
        pid = _pid_in(path)
        caller.send_signal(signal.SIGINT)
        _, err = caller.communicate(timeout=30)
    finally:
        caller.kill()
    assert "KeyboardInterrupt" in err, err[-2000:]
    assert helpers.wait_gone([pid], within=15) == [], "the task still runs on the cluster"


@pytest.mark.parametrize("which", ["dask", "ray"])
def test_a_caller_that_exits_with_a_call_running_exits_cleanly(which, request, tmp_path):
    # An async call still waiting on its cluster when the interpreter exits: the thread that
    # waits is ended by the exit (it once stopped the process with SIGABRT), and the task on
    # the cluster stops once its caller is gone.
    path = tmp_path / "pid"
    call = (
        f"call = parallel.{which}.async_map(workload.pid_then_sleep, [({str(path)!r}, 60)] * 2, {{on}})\n"
        f"while not os.path.exists({str(path)!r}):\n    time.sleep(0.05)\n"
    )
    code, env = _caller(which, request, call)
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-3000:]
    assert helpers.wait_gone([_pid_in(path)], within=30) == [], "the task still runs on the cluster"


def test_max_workers_caps_the_tasks_running_at_once_across_the_cluster(cluster):
    executor, options = cluster
    spans = parallel.map(workload.while_running, [0.2] * 6, executor=executor, max_workers=1, **options)
    spans.sort()
    assert all(later[0] >= earlier[1] - 0.01 for earlier, later in zip(spans, spans[1:])), spans
    # Ray starts its worker processes as they are first needed (a second one takes about a
    # second): the second call has both.
    parallel.map(workload.while_running, [0.5] * 2, executor=executor, max_workers=2, **options)
    # Long enough that the second starts before the first ends, also on a loaded machine.
    both = parallel.map(workload.while_running, [2] * 2, executor=executor, max_workers=2, **options)
    assert both[0][0] < both[1][1] and both[1][0] < both[0][1], "two at once on two cluster workers"


def test_the_initializer_and_worker_state_on_the_cluster(cluster, tmp_path):
    # Each batch runs in a worker process of the cluster's machine: its initializer runs there
    # once, before its first task, and its state is what its tasks see.
    executor, options = cluster
    path = str(tmp_path / "inits")
    out = parallel.map(workload.with_model, range(40), executor=executor, initializer=workload.note_init,
                       initargs=(path, "the model"), **options)
    assert [model for _, _, model, _ in out] == ["the model"] * 40
    pids = {line.split(":")[0] for line in open(path).read().split()}
    assert {str(pid) for pid, *_ in out} <= pids
    results = parallel.map(workload.with_model, range(5), executor=executor, initializer=workload.failing_init,
                           silent=True, **options)
    assert all(isinstance(r.ex, parallel.exceptions.InitializerError) for r in results)


def test_retries_on_the_cluster_run_a_crashed_task_again_on_its_machine(cluster, tmp_path):
    executor, options = cluster
    paths = [str(tmp_path / str(i)) for i in range(3)]
    out = parallel.map(workload.fails_then_succeeds, [(p, 1, "exit") for p in paths], executor=executor,
                       retries=1, **options)
    assert out == [2, 2, 2]
    path = str(tmp_path / "always")
    (failed,) = parallel.map(workload.fails_then_succeeds, [(path, 9)], executor=executor, retries=2, silent=True,
                             **options)
    assert isinstance(failed.ex, ValueError) and failed.attempts == 3


def test_max_tasks_per_worker_on_the_cluster(cluster):
    executor, options = cluster
    pids = parallel.map(workload.pid, range(8), executor=executor, max_workers=1, max_tasks_per_worker=1, **options)
    assert len(set(pids)) == 8, "each task on a new worker process of the cluster's machine"


def test_tiny_tasks_are_batched(dask_client):
    with distributed.get_task_stream(dask_client) as stream:
        out = parallel.dask.map(workload.square, range(5_000), client=dask_client)
    assert out == [x * x for x in range(5_000)]
    ours = [t for t in stream.data if t["key"].startswith("parallel-")]
    assert 1 <= len(ours) <= 100, f"{len(ours)} cluster tasks for 5,000 tiny ones"


def test_progress_and_as_completed(cluster):
    executor, options = cluster
    seen = []
    parallel.map(workload.square, range(200), executor=executor, progress=lambda d, t: seen.append((d, t)), **options)
    assert seen[-1] == (200, 200) and [d for d, _ in seen] == sorted(d for d, _ in seen)
    call = parallel.async_map(workload.sleep_then, [(0.6, 0), (0.05, 1)], executor=executor, **options)
    assert [key for key, _ in call.as_completed()] == [1, 0]


def test_calls_at_once_never_collide(cluster):
    executor, options = cluster
    calls = [parallel.async_map(workload.square, range(100), executor=executor, **options) for _ in range(3)]
    assert all(call.results() == [x * x for x in range(100)] for call in calls)


def test_nothing_is_left_on_the_cluster_after_a_call_a_timeout_or_a_cancel(dask_client):
    def marks(dask_scheduler):
        # The batches' started marks (`_dask._started`): locks held on the scheduler. (A batch
        # whose Dask worker died keeps its own, by design: the test of that runs before.)
        held = dask_scheduler.extensions["multi_locks"].locks
        return [name for name, holders in held.items() if holders and name.startswith("parallel-")]

    before = set(dask_client.run_on_scheduler(marks))
    parallel.dask.map(workload.square, range(100), client=dask_client)
    parallel.dask.map(workload.sleep_then, [(30, 1)], timeout=1, silent=True, client=dask_client)
    call = parallel.dask.async_map(workload.sleep_then, [(30, 1)], client=dask_client)
    time.sleep(0.5)
    call.cancel()
    call.results(silent=True)
    del call
    gc.collect()

    def ours():
        return (
            [k for k in dask_client.who_has() if str(k).startswith("parallel-")]
            + [k for k in dask_client.futures if str(k).startswith("parallel-")]
            + sorted(set(dask_client.run_on_scheduler(marks)) - before)
        )

    deadline = time.monotonic() + 10
    while ours() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert ours() == []


def test_no_object_ref_is_left_after_a_call_a_timeout_or_a_cancel(ray_cluster):
    import ray

    def refs():
        # The driver's reference table (what `ray memory` reads): every object ref it holds.
        return ray._private.worker.global_worker.core_worker.get_all_reference_counts()

    parallel.ray.map(workload.square, range(100))
    parallel.ray.map(workload.sleep_then, [(30, 1)], timeout=1, silent=True)
    call = parallel.ray.async_map(workload.sleep_then, [(30, 1)])
    time.sleep(0.5)
    call.cancel()
    call.results(silent=True)
    del call
    gc.collect()
    deadline = time.monotonic() + 10
    while refs() and time.monotonic() < deadline:
        time.sleep(0.1)
    left = refs()
    assert left == {}, f"object refs left (each with its counts): {left}"


def test_a_dask_client_given_by_address_or_the_current_one(dask_client):
    address = dask_client.scheduler.address
    assert parallel.dask.map(workload.square, [3], client=address) == [9]
    with dask_client.as_current():
        assert parallel.dask.map(workload.square, [4]) == [16]


def test_without_a_dask_client_the_error_says_how_to_get_one():
    code = "import parallel\nparallel.dask.map(abs, [1])"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.returncode != 0
    assert "client=distributed.Client" in out.stderr and "client='tcp://" in out.stderr, out.stderr


def test_a_function_that_cannot_cross_is_a_pickling_error(cluster):
    executor, options = cluster
    lock = threading.Lock()

    def holds_a_lock(x):
        with lock:
            return x

    with pytest.raises(parallel.exceptions.PicklingError, match="cannot be sent to the (Dask|Ray) cluster"):
        parallel.map(holds_a_lock, [1, 2], executor=executor, **options)
    results = parallel.map(holds_a_lock, [1, 2], executor=executor, silent=True, **options)
    assert [type(r.ex) for r in results] == [parallel.exceptions.PicklingError] * 2


def test_an_empty_input(cluster):
    executor, options = cluster
    assert parallel.map(workload.square, [], executor=executor, **options) == []
    assert parallel.map(workload.square, {}, executor=executor, **options) == {}


def test_client_is_for_the_dask_executor_only():
    with pytest.raises(ValueError, match="Dask executor"):
        parallel.map(abs, [1], client="tcp://127.0.0.1:1")
    with pytest.raises(TypeError, match="client must be"):
        parallel.dask.map(abs, [1], client=42)


def test_ray_is_the_connected_one_or_ray_init(ray_cluster):
    # A fresh interpreter that never calls ray.init(): the executor's own ray.init() joins the
    # cluster RAY_ADDRESS names, as Ray's does at a first remote call.
    code = "import parallel\ndef square(x):\n    return x * x\nprint(parallel.ray.map(square, [5, 6]))"
    env = dict(os.environ, RAY_ADDRESS=ray_cluster.address_info["address"])
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, env=env)
    assert out.stdout.strip() == "[25, 36]", out.stderr[-2000:]


def test_the_clusters_listen_on_the_loopback_interface_only(dask_client, ray_cluster):
    children = helpers.descendants(os.getpid())
    exposed = [(pid, str(address)) for pid, address in _listening() if pid in children and not address.is_loopback]
    assert exposed == [], f"listening beyond the loopback interface: {exposed}"


# --- helpers ---------------------------------------------------------------------------------


def _pid_in(path, within=60):
    """The pid a task wrote to `path`, once it has (waiting up to `within` seconds)."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        text = path.read_text() if path.exists() else ""
        if text:
            return int(text)
        time.sleep(0.05)
    raise AssertionError(f"no task wrote its pid to {path} within {within} s")


def _cluster_pids(executor, options):
    if executor is parallel.DASK_EXECUTOR:
        return sorted(options["client"].run(os.getpid).values())
    import ray

    return sorted(node["NodeID"] for node in ray.nodes() if node["Alive"])


def _listening():
    """`(pid, address)` of every listening TCP socket (IPv4 and IPv6) on this machine, the
    address an `ipaddress` one (an IPv4-mapped IPv6 address as its IPv4 one)."""
    inodes = {}
    for name in ("/proc/net/tcp", "/proc/net/tcp6"):
        with open(name) as f:
            for line in f.readlines()[1:]:
                fields = line.split()
                if fields[3] != "0A":  # LISTEN
                    continue
                host = bytes.fromhex(fields[1].split(":")[0])
                # The kernel prints the address as 32-bit words in the machine's byte order.
                if sys.byteorder == "little":
                    host = b"".join(host[i : i + 4][::-1] for i in range(0, len(host), 4))
                raw = host
                address = ipaddress.ip_address(raw)
                if address.version == 6 and address.ipv4_mapped is not None:
                    address = address.ipv4_mapped
                inodes[fields[9]] = address
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            for fd in os.listdir(f"/proc/{entry}/fd"):
                target = os.readlink(f"/proc/{entry}/fd/{fd}")
                if target.startswith("socket:[") and target[8:-1] in inodes:
                    found.append((int(entry), inodes[target[8:-1]]))
        except OSError:
            continue
    return found
