//! Python callables on the thread executor: a [`Work`] whose tasks are `fn(*args, **kwargs)`
//! calls, run on the engine's pool threads with the GIL taken once per batch.

use parallel::plumbing::{Fault, Work};
use parallel::FailureKind;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PySequence, PyTuple, PyType};

use crate::call::{Call, Options, Values};
use crate::items::Items;

/// A task as Python hands it over: `(callable, args, kwargs or None)`.
type TaskTuple = (Py<PyAny>, Py<PyTuple>, Option<Py<PyDict>>);

/// One task: the callable and its arguments.
struct PyTask {
    function: Py<PyAny>,
    args: Py<PyTuple>,
    kwargs: Option<Py<PyDict>>,
}

/// The tasks of one call, by index.
enum PythonWork {
    /// Each task its own callable and arguments.
    Each(Vec<PyTask>),
    /// One callable for every task, each parameter of `params` its one argument (or, `spread`,
    /// its positional arguments), and the same keyword arguments for all: no per-task objects.
    Map { function: Py<PyAny>, params: Items, spread: bool, kwargs: Option<Py<PyDict>> },
}

impl PythonWork {
    fn call(&self, py: Python<'_>, index: usize) -> Result<Py<PyAny>, Fault> {
        let hang = HangIfKilled;
        // Called through a pointer the optimiser cannot see through: the call may unwind as far
        // as it knows, so `hang`'s drop stays on the unwinding path even when every function
        // below is known not to unwind (with LTO, the CPython functions are `nounwind`) — the
        // forced unwinding of `pthread_exit` still goes through it.
        let invoke: for<'py> fn(&Self, Python<'py>, usize) -> PyResult<Bound<'py, PyAny>> = Self::invoke;
        let called = std::hint::black_box(invoke)(self, py, index);
        std::mem::forget(hang);
        match called {
            Ok(value) => Ok(value.unbind()),
            Err(err) => Err(fault(py, err)),
        }
    }

    /// Task `index`'s call.
    fn invoke<'py>(&self, py: Python<'py>, index: usize) -> PyResult<Bound<'py, PyAny>> {
        match self {
            PythonWork::Each(tasks) => {
                let task = &tasks[index];
                let kwargs = task.kwargs.as_ref().map(|k| k.bind(py));
                task.function.bind(py).call(task.args.bind(py), kwargs)
            }
            PythonWork::Map { function, params, spread, kwargs } => {
                let function = function.bind(py);
                let kwargs = kwargs.as_ref().map(|k| k.bind(py));
                params.get(py, index).and_then(|param| match (spread, kwargs) {
                    (false, None) => function.call1((param,)),
                    (false, Some(kwargs)) => function.call((param,), Some(kwargs)),
                    (true, kwargs) => {
                        let args = match param.cast_exact::<PyTuple>() {
                            Ok(args) => args.clone(),
                            Err(_) => param.cast::<PySequence>()?.to_tuple()?,
                        };
                        function.call(args, kwargs)
                    }
                })
            }
        }
    }
}

/// Parks the thread forever if dropped while the stack unwinds without a Rust panic.
///
/// A task abandoned at its timeout may still run when the interpreter exits. CPython 3.11
/// then ends a thread that wants the GIL back with `pthread_exit`, whose forced unwinding
/// would run PyO3's guard and release a thread state the finalizing interpreter has freed —
/// a fatal error at exit. Parked instead, without the GIL, the thread ends with the process.
/// (PyO3 does the same inside `PyGILState_Ensure`; Python 3.14 hangs such threads itself.)
struct HangIfKilled;

impl Drop for HangIfKilled {
    fn drop(&mut self) {
        if !std::thread::panicking() {
            loop {
                std::thread::park();
            }
        }
    }
}

/// The failure of a task that raised `err`; the exception itself travels as its error value.
pub(crate) fn fault(py: Python<'_>, err: PyErr) -> Fault {
    let message = err.value(py).str().map_or_else(|_| "<unprintable exception>".to_owned(), |s| s.to_string());
    let name = err.get_type(py).name().map_or_else(|_| "Exception".to_owned(), |n| n.to_string());
    Fault::new(FailureKind::Error, format!("{name}: {message}")).with_error(err)
}

impl Work for PythonWork {
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
        Python::attach(|py| self.call(py, index))
    }
    fn batched(&self) -> bool {
        true
    }
    /// The whole batch under one hold of the GIL: Python still switches threads inside it
    /// (every 5 ms), but quick tasks do not hand the GIL back and forth between pool threads.
    fn run_many(
        &self,
        _first: usize,
        indices: Vec<usize>,
        stopped: &dyn Fn() -> bool,
    ) -> Vec<Result<Py<PyAny>, Fault>> {
        Python::attach(|py| {
            indices.into_iter().map(|i| if stopped() { Err(Fault::cancelled()) } else { self.call(py, i) }).collect()
        })
    }
}

/// Starts a call on the thread executor, and returns it running. Its tasks are `tasks`:
/// `(callable, args, kwargs or None)` triples; or, given `function`, a sequence of parameters,
/// each task `function(param, **kwargs)` (`spread`: `function(*param, **kwargs)`). The values
/// come in a list of type `into` (a subclass of `list`) if given.
#[pyfunction]
#[pyo3(signature = (tasks, max_workers=None, timeout=None, task_timeout=None, silent=false, *, function=None, spread=false, kwargs=None, into=None))]
#[allow(clippy::too_many_arguments)] // the keyword arguments of one Python call
pub(crate) fn run_threads(
    py: Python<'_>,
    tasks: &Bound<'_, PyAny>,
    max_workers: Option<usize>,
    timeout: Option<f64>,
    task_timeout: Option<f64>,
    silent: bool,
    function: Option<Py<PyAny>>,
    spread: bool,
    kwargs: Option<Py<PyDict>>,
    into: Option<Py<PyType>>,
) -> PyResult<Call> {
    let options = Options::new(max_workers, timeout, task_timeout, silent)?;
    let (work, n) = match function {
        Some(function) => {
            let params = Items::new(tasks)?;
            let n = params.len(py)?;
            (PythonWork::Map { function, params, spread, kwargs }, n)
        }
        None => {
            let each: Vec<PyTask> = tasks
                .extract::<Vec<TaskTuple>>()?
                .into_iter()
                .map(|(function, args, kwargs)| PyTask { function, args, kwargs })
                .collect();
            let n = each.len();
            (PythonWork::Each(each), n)
        }
    };
    let executor = options.apply(parallel::thread());
    let values = Values { into, loads: None };
    Ok(if silent {
        Call::new(executor.silent().async_run_tapped(work, 0..n), n, None, values)
    } else {
        Call::new(executor.async_run_tapped(work, 0..n), n, None, values)
    })
}
