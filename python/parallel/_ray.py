"""The Ray executor: a call's batches as Ray tasks (`_cluster` says what is shared with Dask).

The cluster is the Ray this process is connected to; if Ray is not initialised, `ray.init()`
with Ray's own defaults, as Ray itself does at a first remote call.

Each batch is one call of a remote function declared with `max_retries=0` (Ray never runs a
batch twice behind the caller's back; a Ray worker that dies fails the batch's tasks as
crashed) and `num_cpus=1`; the function and the extras are put in the object store once per
call (`ray.put`). A batch the call no longer wants is cancelled with `ray.cancel`, which
interrupts the waiting batch on its Ray worker: it kills the worker processes running its
tasks. Object refs are dropped as each batch ends.
"""

import threading

from ._cluster import Runner, cancelled_batch, crashed_batch, run_batch, start
from ._engine import RAY_EXECUTOR, plug

__all__ = ["RayRunner", "ray_module", "default_workers"]

_POLL = 0.02  # seconds between looks at `stopped()` while a batch runs
_remote = None
_remote_lock = threading.Lock()


def ray_module():
    """`ray`, initialised."""
    try:
        import ray
    except ImportError:
        raise ImportError('the Ray executor needs ray: pip install "parallel-rs[ray]" (or pip install ray)') from None
    if not ray.is_initialized():
        ray.init()
    return ray


def default_workers(ray):
    """How many tasks the cluster runs at once: its CPUs."""
    return max(1, int(ray.cluster_resources().get("CPU", 1)))


def _batch():
    global _remote
    with _remote_lock:
        if _remote is None:
            import ray

            _remote = ray.remote(max_retries=0, num_cpus=1)(run_batch)
        return _remote


class RayRunner(Runner):
    """A call's batches on a Ray cluster."""

    def __init__(self, ray, tasks, options):
        super().__init__(tasks, options)
        self.ray = ray
        self.shared = self.sent(ray.put, "Ray cluster")

    def run(self, indices, stopped):
        ray = self.ray
        ref = _batch().remote(self.shared, self.items(indices), self.local)
        try:
            while True:
                ready, _ = ray.wait([ref], timeout=_POLL)
                if ready:
                    try:
                        return ray.get(ref)
                    except Exception as exc:  # noqa: BLE001 - the batch's Ray task failed as a whole
                        return crashed_batch(len(indices), exc)
                if stopped():
                    ray.cancel(ref)
                    return cancelled_batch(len(indices))
        finally:
            del ref


def _start(tasks, keys, options, silent):
    ray = ray_module()
    return start(RayRunner(ray, tasks, options), default_workers(ray), keys, options, silent)


plug(RAY_EXECUTOR, _start)
