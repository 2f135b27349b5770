"""The fixtures shared by the test modules."""

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
