"""The fixtures shared by the test modules."""

import os

import pytest

import parallel

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
# stopped at its end (the Dask workers and Ray's processes are children of this one).

TESTS = os.path.dirname(os.path.abspath(__file__))


@pytest.fixture(scope="session")
def dask_client():
    """A `distributed.Client` of a `LocalCluster` (2 worker processes of 1 thread each), not
    made the current client: a test that wants one says `with dask_client.as_current():`."""
    import distributed

    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None, host="127.0.0.1"
    ) as cluster, distributed.Client(cluster, set_as_default=False) as client:
        yield client


@pytest.fixture(scope="session")
def ray_cluster():
    """A local Ray of 2 CPUs, without a dashboard, listening on 127.0.0.1 only; its workers see
    this folder on their path, as the Dask workers and the process executor's do."""
    os.environ["RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"] = "0"  # with the node address: loopback only
    import ray

    context = ray.init(
        num_cpus=2,
        include_dashboard=False,
        _node_ip_address="127.0.0.1",
        log_to_driver=False,
        runtime_env={"env_vars": {"PYTHONPATH": TESTS}},
    )
    yield context
    ray.shutdown()


@pytest.fixture(params=["dask", "ray"])
def cluster(request):
    """`(executor, options)` for a call on each cluster: `parallel.map(..., executor=executor,
    **options)`."""
    if request.param == "dask":
        return parallel.DASK_EXECUTOR, {"client": request.getfixturevalue("dask_client")}
    request.getfixturevalue("ray_cluster")
    return parallel.RAY_EXECUTOR, {}
