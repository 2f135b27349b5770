//! Python callables on the thread executor: a [`Work`] whose tasks are `fn(*args, **kwargs)`
//! calls, run on the engine's pool threads with the GIL taken once per batch.

use parallel::plumbing::{Fault, FromTasks, Tasks, Work};
use parallel::FailureKind;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PySequence, PyTuple, PyType};

use crate::call::{Call, Options, Values};
use crate::guard::{self, guarded};
use crate::items::Items;
use crate::stream::{Reader, Shapes, Streamed};

/// A task as Python hands it over: `(callable, args, kwargs or None)`.
type TaskTuple = (Py<PyAny>, Py<PyTuple>, Option<Py<PyDict>>);

/// One task: the callable and its arguments.
pub(crate) struct PyTask {
    function: Py<PyAny>,
    args: Py<PyTuple>,
    kwargs: Option<Py<PyDict>>,
}

impl PyTask {
    /// The task of a `(callable, args, kwargs or None)` triple.
    pub(crate) fn of(item: &Bound<'_, PyAny>) -> PyResult<Self> {
        let (function, args, kwargs) = item.extract::<TaskTuple>()?;
        Ok(PyTask { function, args, kwargs })
    }

    fn invoke<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let kwargs = self.kwargs.as_ref().map(|k| k.bind(py));
        guard::call(self.function.bind(py), self.args.bind(py), kwargs)
    }

    /// The call, guarded against the interpreter's exit; a raised exception is the task's fault.
    fn call(&self, py: Python<'_>) -> Result<Py<PyAny>, Fault> {
        guarded(py, &mut |py| self.invoke(py)).map(Bound::unbind).map_err(|err| fault(py, err))
    }
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
        guarded(py, &mut |py| self.invoke(py, index)).map(Bound::unbind).map_err(|err| fault(py, err))
    }

    /// Task `index`'s call.
    fn invoke<'py>(&self, py: Python<'py>, index: usize) -> PyResult<Bound<'py, PyAny>> {
        match self {
            PythonWork::Each(tasks) => tasks[index].invoke(py),
            PythonWork::Map { function, params, spread, kwargs } => {
                let function = function.bind(py);
                let kwargs = kwargs.as_ref().map(|k| k.bind(py));
                params.get(py, index).and_then(|param| match (spread, kwargs) {
                    (false, None) => guard::call1(function, &param),
                    (false, Some(kwargs)) => guard::call(function, &PyTuple::new(py, [param])?, Some(kwargs)),
                    (true, kwargs) => {
                        let args = match param.cast_exact::<PyTuple>() {
                            Ok(args) => args.clone(),
                            Err(_) => param.cast::<PySequence>()?.to_tuple()?,
                        };
                        guard::call(function, &args, kwargs)
                    }
                })
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
    fn again(&self, index: &usize) -> Option<usize> {
        Some(*index)
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
#[pyo3(signature = (tasks, max_workers=None, timeout=None, task_timeout=None, silent=false, *, function=None, spread=false, kwargs=None, into=None, retries=0, retry_on=None))]
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
    retries: u32,
    retry_on: Option<Py<PyAny>>,
) -> PyResult<Call> {
    let options = Options::new(max_workers, timeout, task_timeout, silent)?.retrying(retries, retry_on);
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

/// One task of a streamed call on the thread executor.
enum StreamTask {
    /// The one argument of the call's function.
    Plain(Py<PyAny>),
    /// A callable with its arguments (`convert`'s `(callable, args, kwargs or None)`).
    Task(PyTask),
}

/// A streamed call's tasks on the thread executor.
struct ThreadStream {
    reader: Reader,
    shapes: Shapes,
}

impl ThreadStream {
    pub(crate) fn new(iter: &Bound<'_, PyAny>, shared: Streamed, shapes: Shapes) -> PyResult<Self> {
        Ok(ThreadStream { reader: Reader::new(iter, shared)?, shapes })
    }
}

impl Tasks for ThreadStream {
    type Params = StreamTask;
    type Batch = std::vec::IntoIter<StreamTask>;

    fn take(&mut self, n: usize) -> Self::Batch {
        let mut tasks = Vec::with_capacity(n.min(4096));
        let shapes = &self.shapes;
        self.reader.read_attached(
            n,
            &mut |_, _, item| match shapes.of(item)? {
                Some(task) => {
                    tasks.push(StreamTask::Task(PyTask::of(task.as_any())?));
                    Ok(task.into_any())
                }
                None => {
                    tasks.push(StreamTask::Plain(item.clone().unbind()));
                    Ok(item.clone())
                }
            },
            |_, _| (),
        );
        tasks.into_iter()
    }
    fn recover(&mut self) -> Self::Batch {
        Vec::new().into_iter()
    }
    fn size_hint(&self) -> (usize, Option<usize>) {
        (0, None)
    }
    /// A generator may be endless: a call that stops early ends with the tasks it read.
    fn read_rest_on_stop(&self) -> bool {
        false
    }
}

/// The tasks of a call streamed from a Python iterator ([`ThreadStream`]), read as the pool
/// threads take them: each the one argument of `function` (called with `kwargs`), or a
/// callable with its own arguments. A failed task's parameters are the call's to report (it
/// keeps the items in flight).
struct StreamWork {
    function: Py<PyAny>,
    kwargs: Option<Py<PyDict>>,
    /// The call retries failed tasks: each task's objects are kept to run it again.
    retrying: bool,
}

impl StreamTask {
    fn clone_ref(&self, py: Python<'_>) -> StreamTask {
        match self {
            StreamTask::Plain(param) => StreamTask::Plain(param.clone_ref(py)),
            StreamTask::Task(PyTask { function, args, kwargs }) => StreamTask::Task(PyTask {
                function: function.clone_ref(py),
                args: args.clone_ref(py),
                kwargs: kwargs.as_ref().map(|k| k.clone_ref(py)),
            }),
        }
    }
}

impl StreamWork {
    fn call(&self, py: Python<'_>, task: &StreamTask) -> Result<Py<PyAny>, Fault> {
        match task {
            StreamTask::Task(task) => task.call(py),
            StreamTask::Plain(param) => {
                let (function, kwargs) = (self.function.bind(py), self.kwargs.as_ref().map(|k| k.bind(py)));
                guarded(py, &mut |_| match kwargs {
                    None => guard::call1(function, param.bind(py)),
                    Some(kwargs) => guard::call(function, &PyTuple::new(py, [param.bind(py)])?, Some(kwargs)),
                })
                .map(Bound::unbind)
                .map_err(|err| fault(py, err))
            }
        }
    }
}

impl Work for StreamWork {
    type Params = StreamTask;
    type Out = Py<PyAny>;
    /// Nothing, unless the call retries: its objects, to run it again.
    type Kept = Option<StreamTask>;

    fn keep(&self, task: &StreamTask) -> Option<StreamTask> {
        self.retrying.then(|| Python::attach(|py| task.clone_ref(py)))
    }
    fn describe(&self, _: &Option<StreamTask>) -> String {
        "<a streamed task>".to_owned()
    }
    fn again(&self, kept: &Option<StreamTask>) -> Option<StreamTask> {
        kept.as_ref().map(|task| Python::attach(|py| task.clone_ref(py)))
    }
    fn run(&self, task: StreamTask) -> Result<Py<PyAny>, Fault> {
        Python::attach(|py| self.call(py, &task))
    }
    fn batched(&self) -> bool {
        true
    }
    /// The whole batch under one hold of the GIL, as [`PythonWork`]'s.
    fn run_many(
        &self,
        _first: usize,
        tasks: Vec<StreamTask>,
        stopped: &dyn Fn() -> bool,
    ) -> Vec<Result<Py<PyAny>, Fault>> {
        Python::attach(|py| {
            tasks.iter().map(|t| if stopped() { Err(Fault::cancelled()) } else { self.call(py, t) }).collect()
        })
    }
}

/// Starts a call on the thread executor of `function` over the parameters read from `params`,
/// an iterator, as the pool threads take them (see [`crate::stream`]): each item is the one
/// argument of `function(item, **kwargs)`, unless it is of the `special` types — then
/// `convert(item)` gives the task's `(callable, args, kwargs or None)`. The values come in a
/// list of type `into` if given.
#[pyfunction]
#[pyo3(signature = (params, function, kwargs, special, convert, max_workers=None, timeout=None, task_timeout=None, silent=false, *, into=None, retries=0, retry_on=None))]
#[allow(clippy::too_many_arguments)] // the keyword arguments of one Python call
pub(crate) fn run_threads_streamed(
    params: &Bound<'_, PyAny>,
    function: Py<PyAny>,
    kwargs: Option<Py<PyDict>>,
    special: Py<PyTuple>,
    convert: Py<PyAny>,
    max_workers: Option<usize>,
    timeout: Option<f64>,
    task_timeout: Option<f64>,
    silent: bool,
    into: Option<Py<PyType>>,
    retries: u32,
    retry_on: Option<Py<PyAny>>,
) -> PyResult<Call> {
    let options = Options::new(max_workers, timeout, task_timeout, silent)?.retrying(retries, retry_on);
    let shared = Streamed::default();
    let inputs = FromTasks(ThreadStream::new(params, shared.clone(), Shapes::new(special, convert))?);
    let work = StreamWork { function, kwargs, retrying: retries > 0 };
    let executor = options.apply(parallel::thread());
    let values = Values { into, loads: None };
    Ok(if silent {
        Call::streamed(executor.silent().async_run_tapped(work, inputs), None, values, shared)
    } else {
        Call::streamed(executor.async_run_tapped(work, inputs), None, values, shared)
    })
}
