"""The cluster executors' common part: a call's tasks sent to a cluster in batches.

The engine runs a cluster call as it runs any other (the binding's `run_cluster`): it sizes
the batches (toward 0.2–1 s each), hands them to at most `max_workers` pool threads, keeps the
deadline, counts the progress and assembles the results. Each pool thread gives its batch to a
*runner* (`_dask.DaskRunner`, `_ray.RayRunner`: the one thing that differs per cluster), which
submits it to the cluster as one task and waits for it, looking at the call's `stopped()` flag
meanwhile: a stop (a cancel, the deadline, a strict failure) cancels the cluster task.

On the cluster, a batch is `run_batch`: its tasks run in worker processes of that machine under
the engine's own supervisor (the process executor, one worker process per batch), so a task
that crashes or passes its `task_timeout` fails alone — with `WorkerCrashedError` or
`TimeoutException` — and the cluster's worker process survives. Each task's outcome comes back
as the process executor reports it: a failure with its kind, its message and its exception
pickled with its traceback.

The function and the extras cross once per call (Dask: `scatter`; Ray: `ray.put`); a batch
carries only its parameters. A generator given as input is read to its end first
(`Streamed.read_as_tasks`). Each cluster's module registers its executor with the engine
(`_engine.plug`), and `parallel/__init__.py` imports them: the engine names no cluster.
"""

import time

from . import _parallel
from ._engine import PROCESS_EXECUTOR, _start
from ._options import Options
from ._outcomes import ATTEMPTS, ERROR, EXITCODE, KIND, MESSAGE, SIGNAL, TASK
from ._results import ListResult
from ._tasks import EACH, SINGLE, SPREAD, Tasks

__all__ = ["run_batch", "Runner", "start", "cancelled_batch", "crashed_batch"]


# The options a batch runs its tasks with on the cluster's machine.
_LOCAL = ("task_timeout", "memory_limit", "retries", "retry_on", "max_tasks_per_worker", "max_worker_memory")


def start(runner, workers, keys, options, silent):
    """Starts the call of `runner`'s tasks on its cluster, which runs `workers` tasks at once
    when full, and returns the binding's running call."""
    into = ListResult if keys is None else None
    # Without `max_workers`, two batches per cluster thread are out at once: each thread has
    # its next batch queued while it runs one, so the cluster's round trip (~10-20 ms a batch
    # here) hides behind the work; the cluster's threads still bound what runs at once. With
    # it, exactly that many batches are out: no more tasks than it says run at once.
    max_workers = options.max_workers or 2 * workers
    n = len(runner.tasks)
    return _parallel.run_cluster(runner, n, max_workers=max_workers, timeout=options.timeout, silent=silent, into=into)


class Runner:
    """The parent's side of one cluster call: what a batch carries (`items`), and `run`, which
    the binding calls from a pool thread with the batch's task indices and the call's
    `stopped()` flag and which answers `(outcomes, seconds)`: one outcome per task,
    `(True, value)` or `(False, kind, message, signal, exitcode, error)`, and how long the
    batch ran on the cluster (None if it did not). A subclass submits and waits (`run`)."""

    def __init__(self, tasks, options):
        self.tasks = tasks
        # What every batch shares (sent once): how a task is made of an item, the function and
        # the extras; and what the machine running a batch needs of the call's options.
        if tasks.shape is EACH:
            self.common = (EACH, None, None)
        else:
            self.common = (tasks.shape, tasks.fn, dict(tasks.extras) if tasks.extras else None)
        self.local = {name: getattr(options, name) for name in _LOCAL}

    def sent(self, send, where):
        """`send(self.common)` (a scatter, a `ray.put`), or a `PicklingError` saying what could
        not cross to `where`."""
        try:
            return send(self.common)
        except Exception as exc:
            from ._pickling import describe
            from .exceptions import PicklingError

            raise PicklingError(
                f"the function or the extras cannot be sent to the {where} ({describe(exc)}); "
                "make what they capture picklable, or use the thread executor"
            ) from exc

    def items(self, indices):
        """The items of the tasks `indices` (their parameters, or `EACH`'s triples)."""
        items = self.tasks.items
        return [items[i] for i in indices]


def cancelled_batch(n):
    """The answer of a batch stopped before it answered."""
    return [(False, "cancelled", "the call stopped before the task's batch ended", None, None, None)] * n, None


def crashed_batch(n, exc):
    """The answer of a batch whose cluster task failed as a whole (its cluster worker died,
    or the cluster refused it): each task failed, as crashed, saying why."""
    message = f"the cluster task running its batch failed: {type(exc).__name__}: {exc}"
    return [(False, "crashed", message, None, None, None)] * n, None


# --- on the cluster --------------------------------------------------------------------------

_SHAPES = {shape: shape for shape in (SINGLE, SPREAD, EACH)}


def run_batch(common, items, local, cancelled=None):
    """Runs a batch of tasks on this machine, each in a worker process under the engine's
    supervisor, and answers `(outcomes, seconds)`: one outcome per task, and how long it ran. `common` is `(shape, fn, extras)`, `items`
    the tasks' parameters (or `EACH` triples), `local` the call's `task_timeout` and
    `memory_limit`; `cancelled()`, if given, says that the cluster cancelled this task (looked
    at while it waits); an exception raised meanwhile (Ray's cancel interrupts the waiting
    thread) stops the batch too. Either way the worker processes running its tasks are killed."""
    shape, fn, extras = common
    # The shapes are compared by identity: the module's own strings, not the unpickled copies.
    tasks = Tasks(_SHAPES[shape], items, fn, extras)
    # The call's options for its tasks on this machine: retries happen here, where a crashed
    # task gets a new worker process; the initializer came with the function.
    options = Options.checked(max_workers=1, extras=extras, **{name: local.get(name) for name in _LOCAL})
    began = time.perf_counter()
    running = _start(PROCESS_EXECUTOR, tasks, None, options, True)
    try:
        while (ended := running.wait(0.05)) is None:
            if cancelled is not None and cancelled():
                running.cancel()
    except BaseException:
        running.cancel()
        raise
    _, values, failures = ended
    took = time.perf_counter() - began
    outcomes = [(True, value) for value in values]
    for failure in failures:
        error = failure[ERROR]
        if isinstance(error, BaseException):  # the call could not start (`_FailedStart`)
            import traceback

            from ._pickling import exception_payload

            error = exception_payload(error, "".join(traceback.format_exception(type(error), error, error.__traceback__)))
        kind = getattr(failure[KIND], "value", failure[KIND])  # a `Kind`, or the binding's string
        outcomes[failure[TASK]] = (False, kind, failure[MESSAGE], failure[SIGNAL], failure[EXITCODE], error, failure[ATTEMPTS])
    return outcomes, took
