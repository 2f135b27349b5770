"""The fixtures shared by the test modules."""

import os
import subprocess
import sys

import pytest

import parallel

import helpers
import workload


@pytest.fixture(
    params=[parallel.THREAD_EXECUTOR, parallel.PROCESS_EXECUTOR], ids=["thread", "process"]
)
def executor(request):
    return request.param


@pytest.fixture
def release():
    """Tasks that `workload.hold` holds on threads are let go once the test is over."""
    workload.RELEASE.clear()
    yield workload.RELEASE
    workload.RELEASE.set()


# --- clusters: each started once per test session, on the loopback interface only, and
# stopped when the tests that use them (all in test_cluster.py) are done, so that their
# sockets and threads are not counted by later tests (the leak checks of
# test_reliability.py). The Dask workers and Ray's processes are children of this one.

TESTS = os.path.dirname(os.path.abspath(__file__))


@pytest.fixture(scope="module")
def dask_client():
    """A `distributed.Client` of a `LocalCluster` (2 worker processes of 1 thread each), not
    made the current client: a test that wants one says `with dask_client.as_current():`."""
    import distributed

    # Its HTTP servers on the loopback too: distributed before 2024.12 (CPython 3.9's) starts
    # them on every interface even with `dashboard_address=None`.
    with distributed.LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=True,
        dashboard_address="127.0.0.1:0",
        worker_dashboard_address="127.0.0.1:0",
        host="127.0.0.1",
    ) as cluster, distributed.Client(cluster, set_as_default=False) as client:
        yield client


@pytest.fixture(scope="module")
def ray_cluster():
    """A local Ray of 2 CPUs, without a dashboard, listening on 127.0.0.1 only; its workers see
    this folder on their path, as the Dask workers and the process executor's do."""
    os.environ["RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"] = "0"  # with the node address: loopback only
    import ray

    before = helpers.descendants(os.getpid())
    context = ray.init(
        num_cpus=2,
        include_dashboard=False,
        _node_ip_address="127.0.0.1",
        log_to_driver=False,
        runtime_env={"env_vars": {"PYTHONPATH": TESTS}},
    )
    reaper = _reaper(helpers.descendants(os.getpid()) - before)
    yield context
    ray.shutdown()
    reaper.stdin.close()  # what ray.shutdown() left, if anything, is killed now
    reaper.wait(timeout=30)


# Kills the given processes once its stdin closes: at the fixture's end, or when this process
# dies however it dies (SIGKILL included), which Ray's agent processes would otherwise outlive.
# Each is `pid:start time` (field 22 of /proc/<pid>/stat): a pid reused since is left alone.
_REAPER = """
import os, signal, sys
def started(pid):
    with open(f"/proc/{pid}/stat") as f:
        return f.read().rsplit(")", 1)[1].split()[19]
sys.stdin.read()
for arg in sys.argv[1:]:
    pid, start = arg.split(":")
    try:
        if started(pid) == start:
            os.kill(int(pid), signal.SIGKILL)
    except (OSError, ProcessLookupError):
        pass
"""


def _started(pid):
    with open(f"/proc/{pid}/stat") as f:
        return f.read().rsplit(")", 1)[1].split()[19]


def _reaper(pids):
    marks = []
    for pid in sorted(pids):
        try:
            marks.append(f"{pid}:{_started(pid)}")
        except OSError:
            continue  # gone already
    return subprocess.Popen([sys.executable, "-c", _REAPER, *marks], stdin=subprocess.PIPE, start_new_session=True)


@pytest.fixture(params=["dask", "ray"])
def cluster(request):
    """`(executor, options)` for a call on each cluster: `parallel.map(..., executor=executor,
    **options)`."""
    if request.param == "dask":
        return parallel.DASK_EXECUTOR, {"client": request.getfixturevalue("dask_client")}
    request.getfixturevalue("ray_cluster")
    return parallel.RAY_EXECUTOR, {}
