//! A call in flight, as Python sees it: [`Call`] waits with the GIL released, answers Ctrl-C
//! within a slice of [`POLL`], and turns the engine's outcomes into Python values.

use std::ffi::{c_int, c_void};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use parallel::plumbing::{Backend, Payload, Program};
use parallel::{Error, Executor, FailedTask, FailureKind, Handle, Results};
use pyo3::exceptions::{PyRuntimeError, PyValueError};
use pyo3::ffi;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyList, PyTuple, PyType};

use crate::buffers;
use crate::pickles::Unpickler;

/// How often a waiting call looks for signals (Ctrl-C): well under the 0.5 s it promises.
const POLL: Duration = Duration::from_millis(50);

/// A call's options, checked.
pub(crate) struct Options {
    pub(crate) max_workers: Option<usize>,
    pub(crate) timeout: Option<Duration>,
    pub(crate) task_timeout: Option<Duration>,
}

impl Options {
    pub(crate) fn new(
        max_workers: Option<usize>,
        timeout: Option<f64>,
        task_timeout: Option<f64>,
        _silent: bool,
    ) -> PyResult<Self> {
        if max_workers == Some(0) {
            return Err(PyValueError::new_err("max_workers must be at least 1, got 0"));
        }
        Ok(Options {
            max_workers,
            timeout: deadline("timeout", timeout)?,
            task_timeout: seconds("task_timeout", task_timeout)?,
        })
    }

    /// `executor` with these options: one place for every executor the binding runs.
    pub(crate) fn apply<B: Backend>(&self, mut executor: Executor<B>) -> Executor<B> {
        if let Some(n) = self.max_workers {
            executor = executor.max_workers(n);
        }
        if let Some(t) = self.timeout {
            executor = executor.timeout(t);
        }
        if let Some(t) = self.task_timeout {
            executor = executor.task_timeout(t);
        }
        executor
    }
}

/// A limit of `value` seconds: positive and finite. (The Python layer checks a call's options
/// first, with the messages users see; this guards the binding itself.)
fn seconds(name: &str, value: Option<f64>) -> PyResult<Option<Duration>> {
    match value {
        None => Ok(None),
        Some(s) if s.is_finite() && s > 0.0 => Ok(Some(Duration::from_secs_f64(s))),
        Some(s) => Err(PyValueError::new_err(format!("{name} must be a positive number of seconds, got {s}"))),
    }
}

/// A deadline `value` seconds from now: 0 too, a deadline that has already passed.
fn deadline(name: &str, value: Option<f64>) -> PyResult<Option<Duration>> {
    match value {
        Some(0.0) => Ok(Some(Duration::ZERO)),
        other => seconds(name, other),
    }
}

/// How a call's values become Python values, once it has ended.
pub(crate) struct Values {
    /// The type of the list of values: `list`, or a subclass of it the caller returns as is
    /// (the values go straight into it: no second list of the same size).
    pub(crate) into: Option<Py<PyType>>,
    /// For pickled values (processes): `pickle.loads`, which reads what [`pickles::load`]
    /// does not. `None`: the values stay bytes.
    pub(crate) loads: Option<Py<PyAny>>,
}

impl Values {
    /// An empty list to put the values in.
    fn list<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        match &self.into {
            None => Ok(PyList::empty(py)),
            Some(into) => Ok(into.bind(py).call0()?.cast_into::<PyList>()?),
        }
    }

    /// How pickled values are read, if they are.
    fn loads<'py>(&self, py: Python<'py>) -> Option<Loads<'py>> {
        self.loads.as_ref().map(|loads| Loads { loads: loads.bind(py).clone(), plain: Unpickler::new(py) })
    }

    /// `values`, each as a Python value, in a new list.
    fn all<'py, V: IntoValue>(&self, py: Python<'py>, values: Vec<V>) -> PyResult<Bound<'py, PyList>> {
        let mut loads = self.loads(py);
        if self.into.is_none() && loads.is_none() {
            // Nothing can fail: the list is made at its size.
            return PyList::new(py, values.into_iter().map(|v| v.into_value(py, None).expect("no loads, no error")));
        }
        let list = self.list(py)?;
        for value in values {
            // Each value's bytes are freed as soon as it is read.
            list.append(value.into_value(py, loads.as_mut())?)?;
        }
        Ok(list)
    }
}

/// Pickled values read back: plain ones here ([`Unpickler`]), any other by `loads`.
pub(crate) struct Loads<'py> {
    loads: Bound<'py, PyAny>,
    plain: Unpickler<'py>,
}

/// A task's value as the engine hands it back: a Python object (threads) or pickled bytes
/// (processes).
pub(crate) trait IntoValue: Send + 'static {
    /// The value for Python; with `loads`, bytes are unpickled (an error is `loads`' own).
    fn into_value<'py>(self, py: Python<'py>, loads: Option<&mut Loads<'py>>) -> PyResult<Bound<'py, PyAny>>;
}

impl IntoValue for Py<PyAny> {
    fn into_value<'py>(self, py: Python<'py>, _loads: Option<&mut Loads<'py>>) -> PyResult<Bound<'py, PyAny>> {
        Ok(self.into_bound(py))
    }
}

impl IntoValue for Payload {
    fn into_value<'py>(self, py: Python<'py>, loads: Option<&mut Loads<'py>>) -> PyResult<Bound<'py, PyAny>> {
        if self.buffers().is_empty() {
            return match loads {
                None => Ok(PyBytes::new(py, self.bytes()).into_any()),
                Some(loads) => match loads.plain.load(self.bytes()) {
                    Some(value) => Ok(value),
                    // Lent, not copied: a large value's pickle (an array) is not doubled.
                    None => loads.loads.call1((Bound::new(py, Pickled(self.into_parts().0))?,)),
                },
            };
        }
        let Some(loads) = loads else {
            return Err(PyRuntimeError::new_err("a value with out-of-band buffers read without pickle"));
        };
        let (bytes, buffers) = self.into_parts();
        buffers::load(&mut loads.plain, &loads.loads, &bytes, buffers)
    }
}

/// A value's pickle as the engine handed it over, lent to `loads` through the buffer protocol
/// (read-only), without a copy; freed when the last view of it is released.
#[pyclass(frozen, module = "parallel._parallel", name = "Pickled")]
pub(crate) struct Pickled(Vec<u8>);

#[pymethods]
impl Pickled {
    /// # Safety
    /// Called by Python with a `view` to fill.
    unsafe fn __getbuffer__(slf: Bound<'_, Self>, view: *mut ffi::Py_buffer, flags: c_int) -> PyResult<()> {
        let data = &slf.get().0;
        // SAFETY: `view` is the buffer Python asks to fill. The bytes live as long as `slf`,
        // of which the view takes a reference (`view.obj`), and nothing writes them: the view
        // is read-only (a request for a writable one fails here, with Python's BufferError).
        let filled = unsafe {
            ffi::PyBuffer_FillInfo(
                view,
                slf.as_ptr(),
                data.as_ptr() as *mut c_void,
                data.len() as ffi::Py_ssize_t,
                1,
                flags,
            )
        };
        if filled == -1 {
            return Err(PyErr::fetch(slf.py()));
        }
        Ok(())
    }
}

/// How a call ended, in Python values: `(status, values, failures)` — see [`Call::wait`].
type Ended = Py<PyTuple>;

/// A running call of either mode, whatever its value type.
trait Pending: Send {
    /// Waits up to `timeout`; gives the call back if it has not ended.
    fn wait_for(self: Box<Self>, timeout: Duration) -> Result<Box<dyn Ending>, Box<dyn Pending>>;
    fn cancel(&self);
    fn is_finished(&self) -> bool;
}

/// An ended call whose outcomes are not yet Python values (that needs the GIL).
pub(crate) trait Ending: Send {
    fn into_python(self: Box<Self>, py: Python<'_>, values: &Values) -> PyResult<Ended>;
}

impl<T: Send + 'static> Pending for Handle<T>
where
    T: Ending,
{
    fn wait_for(self: Box<Self>, timeout: Duration) -> Result<Box<dyn Ending>, Box<dyn Pending>> {
        match (*self).wait_timeout(timeout) {
            Ok(output) => Ok(Box::new(output)),
            Err(handle) => Err(Box::new(handle)),
        }
    }
    fn cancel(&self) {
        Handle::cancel(self);
    }
    fn is_finished(&self) -> bool {
        Handle::is_finished(self)
    }
}

/// A strict call's output.
impl<V: IntoValue> Ending for Result<Vec<V>, Error> {
    fn into_python(self: Box<Self>, py: Python<'_>, values: &Values) -> PyResult<Ended> {
        let none = py.None();
        match *self {
            Ok(all) => {
                let list = values.all(py, all)?;
                ended(py, "done", list.into_any().unbind(), PyList::empty(py))
            }
            Err(Error::Task(failed)) => ended(py, "failed", none, PyList::new(py, [failure(py, &failed)?])?),
            Err(Error::Timeout { finished, .. }) => {
                ended(py, "timeout", finished.into_pyobject(py)?.into_any().unbind(), PyList::empty(py))
            }
            Err(Error::Cancelled) => ended(py, "cancelled", none, PyList::empty(py)),
            Err(other) => Err(PyRuntimeError::new_err(other.to_string())),
        }
    }
}

/// A silent call's output.
impl<V: IntoValue> Ending for Results<std::ops::Range<usize>, V> {
    fn into_python(self: Box<Self>, py: Python<'_>, values: &Values) -> PyResult<Ended> {
        outcomes(py, values, (*self).into_iter())
    }
}

fn outcomes<V: IntoValue>(
    py: Python<'_>,
    values: &Values,
    all: impl Iterator<Item = Result<V, FailedTask>>,
) -> PyResult<Ended> {
    let list = values.list(py)?;
    let failures = PyList::empty(py);
    let mut loads = values.loads(py);
    for outcome in all {
        match outcome {
            Ok(value) => list.append(value.into_value(py, loads.as_mut())?)?,
            Err(failed) => {
                list.append(py.None())?;
                failures.append(failure(py, &failed)?)?;
            }
        }
    }
    ended(py, "done", list.into_any().unbind(), failures)
}

fn ended(py: Python<'_>, status: &str, values: Py<PyAny>, failures: Bound<'_, PyList>) -> PyResult<Ended> {
    Ok(PyTuple::new(py, [status.into_pyobject(py)?.into_any().unbind(), values, failures.into_any().unbind()])?
        .unbind())
}

/// A failed task for Python: `(index, kind, message, signal, code, error)`, where `error` is
/// the exception (threads), its pickled bytes (processes) or `None`.
fn failure<'py>(py: Python<'py>, failed: &FailedTask) -> PyResult<Bound<'py, PyTuple>> {
    let (kind, signal, code) = match failed.kind() {
        FailureKind::Error => ("error", None, None),
        FailureKind::Panicked => ("panicked", None, None),
        FailureKind::TimedOut => ("timed_out", None, None),
        FailureKind::Cancelled => ("cancelled", None, None),
        FailureKind::Crashed { signal, code } => ("crashed", *signal, *code),
        _ => ("error", None, None),
    };
    let error: Py<PyAny> = if let Some(err) = failed.error::<PyErr>() {
        err.clone_ref(py).into_value(py).into_any()
    } else if let Some(bytes) = failed.error::<Vec<u8>>() {
        PyBytes::new(py, bytes).into_any().unbind()
    } else {
        py.None()
    };
    (failed.index(), kind, failed.message(), signal, code, error).into_pyobject(py)
}

/// A call in flight: `wait(timeout)` returns `(status, values, failures)` once it has ended
/// (or `None` past `timeout`), where `status` is `"done"` (values in order, `None` where a
/// task failed: see failures), `"failed"` (strict: the first failure), `"timeout"` (strict:
/// `values` is how many finished) or `"cancelled"`.
#[pyclass(module = "parallel._parallel", name = "Call")]
pub(crate) struct Call {
    pending: Mutex<Option<Box<dyn Pending>>>,
    /// How the call ended, once a `wait` saw it: its Python values, or the error of making
    /// them (a value `loads` could not read), raised again by every later `wait`.
    ended: Mutex<Option<PyResult<Ended>>>,
    program: Option<Program>,
    values: Values,
}

impl Call {
    /// Cancels the call (as `cancel` from Python).
    pub(crate) fn stop(&self) {
        if let Some(pending) = lock(&self.pending).as_ref() {
            pending.cancel();
        }
    }

    pub(crate) fn strict<V: IntoValue>(
        handle: Handle<Result<Vec<V>, Error>>,
        program: Option<Program>,
        values: Values,
    ) -> Self {
        Self::new(Box::new(handle), program, values)
    }

    pub(crate) fn silent<R: Ending + 'static>(handle: Handle<R>, program: Option<Program>, values: Values) -> Self {
        Self::new(Box::new(handle), program, values)
    }

    fn new(pending: Box<dyn Pending>, program: Option<Program>, values: Values) -> Self {
        Call { pending: Mutex::new(Some(pending)), ended: Mutex::new(None), program, values }
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

#[pymethods]
impl Call {
    /// Waits for the call to end, at most `timeout` seconds if given (0: only looks), with the
    /// GIL released;
    /// Ctrl-C (any exception a signal handler raises) cancels the call and kills its worker
    /// processes.
    #[pyo3(signature = (timeout=None))]
    fn wait(&self, py: Python<'_>, timeout: Option<f64>) -> PyResult<Option<Ended>> {
        let until = deadline("timeout", timeout)?.map(|t| Instant::now() + t);
        loop {
            if let Some(ended) = lock(&self.ended).as_ref() {
                return match ended {
                    Ok(ended) => Ok(Some(ended.clone_ref(py))),
                    Err(err) => Err(err.clone_ref(py)),
                };
            }
            let slice = until.map_or(POLL, |u| u.saturating_duration_since(Instant::now()).min(POLL));
            let taken = lock(&self.pending).take();
            match taken {
                Some(pending) => match py.detach(move || pending.wait_for(slice)) {
                    Ok(ending) => {
                        let ended = ending.into_python(py, &self.values);
                        let kept = match &ended {
                            Ok(ended) => Ok(ended.clone_ref(py)),
                            Err(err) => Err(err.clone_ref(py)),
                        };
                        *lock(&self.ended) = Some(kept);
                        return ended.map(Some);
                    }
                    Err(pending) => *lock(&self.pending) = Some(pending),
                },
                // Another Python thread is waiting on this call: wait beside it.
                None => py.detach(|| std::thread::sleep(slice.min(Duration::from_millis(5)))),
            }
            if let Err(interrupted) = py.check_signals() {
                self.cancel();
                return Err(interrupted);
            }
            if until.is_some_and(|u| Instant::now() >= u) {
                return Ok(None);
            }
        }
    }

    /// Cancels the call: tasks not started never run; with processes, the workers running
    /// its tasks are killed.
    fn cancel(&self) {
        if let Some(pending) = lock(&self.pending).as_ref() {
            pending.cancel();
        }
        if let Some(program) = &self.program {
            program.kill_workers();
        }
    }

    /// `True` once the call has ended.
    fn done(&self) -> bool {
        lock(&self.ended).is_some() || lock(&self.pending).as_ref().is_some_and(|p| p.is_finished())
    }
}
