//! Tasks run on a cluster (Dask, Ray): a [`Work`] of remote batches. The engine sizes the
//! batches (toward 0.2–1 s each), hands them out to at most `max_workers` pool threads, keeps
//! the deadline, counts progress and assembles the results; each pool thread hands its batch
//! to the Python *runner* (`parallel._cluster`), which sends it to the cluster as one task and
//! answers with one outcome per task. A stop (a cancel, the deadline, a strict failure) is
//! recorded here without the GIL; the runner, waiting on its cluster task, sees it through the
//! [`Stopped`] flag it was given and cancels that task on the cluster.

use std::cell::Cell;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use parallel::plumbing::{Fault, Work};
use parallel::FailureKind;
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyList, PyTuple, PyType};

use crate::call::{Call, Options, Values};
use crate::guard::call_guarded;
use crate::threads::fault;

/// Whether the batch whose first task is `first` must stop: the call was cancelled, its
/// deadline passed, or (strict) a task before it failed. Called by the runner while it waits.
#[pyclass(module = "parallel._parallel", name = "Stopped", frozen)]
pub(crate) struct Stopped {
    stop_at: Arc<AtomicUsize>,
    first: usize,
}

#[pymethods]
impl Stopped {
    fn __call__(&self) -> bool {
        self.first >= self.stop_at.load(Ordering::Acquire)
    }
}

thread_local! {
    /// How long the last batch this pool thread sent ran on the cluster (the runner says).
    static BATCH_TOOK: Cell<Option<Duration>> = const { Cell::new(None) };
}

/// The work of a cluster call: task `i` is the runner's task `i`.
struct ClusterWork {
    runner: Py<PyAny>,
    stop_at: Arc<AtomicUsize>,
}

impl ClusterWork {
    /// The runner's `run(indices, stopped)` for one batch: `(outcomes, seconds)`, the seconds
    /// the batch ran on the cluster (or None) and a list of one outcome per task, `(True,
    /// value)` or `(False, kind, message, signal, code, error[, attempts])`, `error` the pickled exception
    /// with its traceback (as a process worker sends it), the exception itself, or None. If the
    /// runner itself raises, every task of the batch fails with that exception.
    fn batch(&self, py: Python<'_>, indices: Vec<usize>) -> Vec<Result<Py<PyAny>, Fault>> {
        let n = indices.len();
        let stopped = Stopped { stop_at: self.stop_at.clone(), first: indices.first().copied().unwrap_or(0) };
        let answer = self
            .runner
            .bind(py)
            .getattr("run")
            .and_then(|run| Ok((run, (indices, stopped).into_pyobject(py)?)))
            .and_then(|(run, args)| call_guarded(&run, &args, None))
            .and_then(|answer| {
                let (list, took): (Bound<'_, PyAny>, Option<f64>) = answer.extract()?;
                BATCH_TOOK
                    .with(|cell| cell.set(took.filter(|s| s.is_finite() && *s >= 0.0).map(Duration::from_secs_f64)));
                list.cast_into::<PyList>().map_err(PyErr::from)
            })
            .and_then(|list| {
                if list.len() != n {
                    return Err(PyTypeError::new_err(format!(
                        "the cluster runner answered {} outcomes for a batch of {n} tasks",
                        list.len()
                    )));
                }
                list.iter().map(|outcome| outcome_of(&outcome)).collect::<PyResult<Vec<_>>>()
            });
        match answer {
            Ok(outcomes) => outcomes,
            Err(err) => (0..n).map(|_| Err(fault(py, err.clone_ref(py)))).collect(),
        }
    }
}

/// One task's outcome from the runner's answer.
fn outcome_of(outcome: &Bound<'_, PyAny>) -> PyResult<Result<Py<PyAny>, Fault>> {
    let tuple = outcome.cast::<PyTuple>()?;
    if tuple.get_item(0)?.is_truthy()? {
        return Ok(Ok(tuple.get_item(1)?.unbind()));
    }
    let (kind, message, signal, code, error): (String, String, Option<i32>, Option<i32>, Bound<'_, PyAny>) =
        tuple.get_slice(1, 6).extract()?;
    // How many times it ran on the cluster's machine (its retries are that machine's engine's).
    let attempts: u32 = if tuple.len() > 6 { tuple.get_item(6)?.extract()? } else { 1 };
    let kind = match kind.as_str() {
        "error" => FailureKind::Error,
        "panicked" => FailureKind::Panicked,
        "timed_out" => FailureKind::TimedOut,
        "cancelled" => FailureKind::Cancelled,
        "crashed" => FailureKind::Crashed { signal, code },
        other => {
            return Err(PyTypeError::new_err(format!("the cluster runner gave an unknown failure kind {other:?}")))
        }
    };
    let fault = Fault { attempts, ..Fault::new(kind, message) };
    Ok(Err(if let Ok(bytes) = error.cast::<PyBytes>() {
        fault.with_error(bytes.as_bytes().to_vec())
    } else if error.is_instance_of::<pyo3::exceptions::PyBaseException>() {
        fault.with_error(PyErr::from_value(error))
    } else {
        fault
    }))
}

impl Work for ClusterWork {
    type Params = usize;
    type Out = Py<PyAny>;
    type Kept = usize;

    fn keep(&self, index: &usize) -> usize {
        *index
    }
    fn describe(&self, index: &usize) -> String {
        format!("task {index}")
    }
    fn run(&self, index: usize) -> Result<Py<PyAny>, Fault> {
        Python::attach(|py| self.batch(py, vec![index])).pop().unwrap_or_else(|| Err(Fault::cancelled()))
    }
    fn batched(&self) -> bool {
        true
    }
    fn remote_batches(&self) -> bool {
        true
    }
    fn run_many(
        &self,
        _first: usize,
        indices: Vec<usize>,
        stopped: &dyn Fn() -> bool,
    ) -> Vec<Result<Py<PyAny>, Fault>> {
        if stopped() {
            return indices.iter().map(|_| Err(Fault::cancelled())).collect();
        }
        Python::attach(|py| self.batch(py, indices))
    }
    fn stop_from(&self, index: usize) {
        self.stop_at.fetch_min(index, Ordering::AcqRel);
    }
    /// The time the batch ran on the cluster, not counting its wait in the cluster's queue
    /// (a call without a `max_workers` has a batch queued per cluster thread, see `_engine`).
    fn batch_took(&self) -> Option<Duration> {
        BATCH_TOOK.with(Cell::take)
    }
}

/// Starts a call of `tasks` tasks on a cluster through `runner` (an object whose
/// `run(indices, stopped)` runs a batch there and answers its outcomes), at most `max_workers`
/// batches at once, and returns it running. The values come in a list of type `into` if given.
#[pyfunction]
#[pyo3(signature = (runner, tasks, max_workers=None, timeout=None, silent=false, *, into=None))]
pub(crate) fn run_cluster(
    runner: Py<PyAny>,
    tasks: usize,
    max_workers: Option<usize>,
    timeout: Option<f64>,
    silent: bool,
    into: Option<Py<PyType>>,
) -> PyResult<Call> {
    let options = Options::new(max_workers, timeout, None, silent)?;
    let work = ClusterWork { runner, stop_at: Arc::new(AtomicUsize::new(usize::MAX)) };
    let executor = options.apply(parallel::thread());
    let values = Values { into, loads: None };
    Ok(if silent {
        Call::new(executor.silent().async_run_tapped(work, 0..tasks), tasks, None, values)
    } else {
        Call::new(executor.async_run_tapped(work, 0..tasks), tasks, None, values)
    })
}
