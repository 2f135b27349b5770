"""The Dask executor: a call's batches as tasks of a `distributed` cluster (`_cluster` says
what is shared with Ray).

Where the cluster comes from: `client=` — a `distributed.Client`, or a scheduler's address
(a client to it is made once per address and kept) — or else the current client
(`distributed.get_client()`); with neither, a `ValueError` says both ways to get one.

Each batch is one Dask task, `pure=False` with a key of its own (`parallel-<call>-<first task>`),
submitted with `retries=0`; the function and the extras are scattered to every worker once per call (so that a batch goes
to any idle worker: a task that needs data only one worker holds waits for that one). A batch
the call no longer wants (cancel, deadline, strict failure) is cancelled: the Dask worker
running it sees that in its own state of the task and kills the worker processes running its
tasks. Futures are released as each batch ends (and the scattered data with the call).

A Dask worker that dies while it runs a batch makes the scheduler give that batch to another
(its `allowed-failures`, a setting of the scheduler, not of a task): each batch marks itself
started on the scheduler, and a batch started before fails its tasks as crashed instead of
running them again. The mark is a `distributed.MultiLock` named after the batch, taken without
waiting: one round trip to the scheduler that both asks and marks (~2 ms here; the
`distributed.Event` it replaced took two, ~9 ms, between every two batches on a worker). The
parent releases it when the batch's answer arrives, and the Dask worker when the cluster
cancelled the batch (no answer comes); a batch whose Dask worker died keeps its mark on the
scheduler — a few bytes, so that the batch is never run again. (A task that crashes only its
own worker process — what the supervisor guards — never kills the Dask worker.)
"""

import itertools
import os
import threading
import time

from ._cluster import Runner, cancelled_batch, crashed_batch, run_batch, start
from ._engine import DASK_EXECUTOR, plug

__all__ = ["DaskRunner", "client_of", "default_workers"]

_clients = {}  # a client per scheduler address given as a string
_clients_lock = threading.Lock()
_calls = itertools.count()
_POLL = 0.02  # seconds between looks at `stopped()` while a batch runs


def _distributed():
    try:
        import distributed
    except ImportError:
        raise ImportError(
            'the Dask executor needs dask.distributed: pip install "parallel-rs[dask]" (or pip install distributed)'
        ) from None
    return distributed


def client_of(client):
    """The `distributed.Client` a call runs on (see the module's documentation)."""
    distributed = _distributed()
    if client is None:
        try:
            return distributed.get_client()
        except ValueError:
            raise ValueError(
                "the Dask executor found no Dask client: pass client=distributed.Client(...) (or a scheduler's "
                "address, client='tcp://host:8786'), or make a distributed.Client(...) first — it becomes the "
                "current client"
            ) from None
    if isinstance(client, str):
        with _clients_lock:
            made = _clients.get(client)
            if made is None or made.status in ("closed", "closing"):
                made = _clients[client] = distributed.Client(client, set_as_default=False)
            return made
    if isinstance(client, distributed.Client):
        return client
    raise TypeError(
        f"client must be a distributed.Client or a scheduler's address (a str), got {type(client).__name__}: {client!r:.80}"
    )


def default_workers(client):
    """How many tasks the cluster runs at once: its workers' threads."""
    return max(1, sum(client.nthreads().values()))


def _cancelled():
    """On a Dask worker, in a task: a callable saying whether the cluster cancelled the task
    (the worker's own state of it, read without a round trip to the scheduler)."""
    try:
        import distributed

        worker = distributed.get_worker()
        key = worker.get_current_task()
        tasks = worker.state.tasks
    except Exception:  # noqa: BLE001 - an older or newer distributed: the batch just runs on
        return None

    def cancelled():
        ts = tasks.get(key)
        return ts is None or ts.state in ("cancelled", "released", "forgotten")

    return cancelled


def _started(key):
    """On a Dask worker, as a batch starts: marks it started, and answers the mark (a held
    `distributed.MultiLock`) — or `None` if it was marked before: a Dask worker died while it
    ran the batch, and the scheduler gave it to another (`allowed-failures`): its tasks must not
    run a second time. Asking and marking are one step on the scheduler (a lock taken without
    waiting)."""
    import distributed

    mark = distributed.MultiLock([f"{key}-started"])
    return mark if mark.acquire(blocking=False) else None


def _unmark(client, holder):
    """Releases (from the parent) the started mark held by `holder` (`_started`'s `id`),
    without a wait for the answer."""
    client.loop.add_callback(client.scheduler.multi_lock_release, id=holder)


class _Items:
    """A batch's items as one opaque argument of its Dask task: dask before 2024.12 (the last
    release for CPython 3.9 is 2024.8) runs, as a task of its own, any tuple in a task's
    arguments whose first item is callable — what a batch's `(function, args, kwargs)` items are."""

    __slots__ = ("items",)

    def __init__(self, items):
        self.items = items


def dask_batch(common, items, local, key):
    """A batch, run on a Dask worker (`key`: the batch's own; `items` in `_Items`). Answers
    `(outcomes, seconds, mark)`: `run_batch`'s answer and the holder of its started mark, which
    the parent releases."""
    items = items.items
    mark = _started(key)
    if mark is None:
        message = "the Dask worker running the task's batch died; it is not run again"
        return [(False, "crashed", message, None, None, None)] * len(items), None, None
    cancelled = _cancelled()
    try:
        outcomes, took = run_batch(common, items, local, cancelled)
    except BaseException:
        mark.release()  # the batch fails as a whole, and Dask does not run it again (retries=0)
        raise
    if cancelled is not None and cancelled():
        mark.release()  # the cluster forgot the batch: no answer reaches the parent
    return outcomes, took, mark.id


class DaskRunner(Runner):
    """A call's batches on a Dask cluster."""

    def __init__(self, client, tasks, options):
        super().__init__(tasks, options)
        self.client = client
        self.call = f"parallel-{os.getpid()}-{next(_calls)}-{time.time_ns()}"
        # On every worker: a batch then goes to any idle one (a task needing data held by one
        # worker alone is queued there, however busy it is).
        [self.shared] = self.sent(lambda common: client.scatter([common], hash=False, broadcast=True), "Dask cluster")

    def run(self, indices, stopped):
        key = f"{self.call}-{indices[0]}"
        future = self.client.submit(
            dask_batch, self.shared, _Items(self.items(indices)), self.local, key, key=key, pure=False, retries=0
        )
        done = threading.Event()
        future.add_done_callback(lambda _: done.set())
        try:
            while not done.wait(_POLL):
                if stopped():
                    future.cancel()
                    return cancelled_batch(len(indices))
            try:
                outcomes, took, holder = future.result()
            except Exception as exc:  # noqa: BLE001 - the batch's cluster task failed as a whole
                return cancelled_batch(len(indices)) if stopped() else crashed_batch(len(indices), exc)
            if holder is not None:
                _unmark(self.client, holder)
            return outcomes, took
        finally:
            future.release()


def _start(tasks, keys, options, silent):
    client = client_of(options.client)
    return start(DaskRunner(client, tasks, options), default_workers(client), keys, options, silent)


plug(DASK_EXECUTOR, _start)
