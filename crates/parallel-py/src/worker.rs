//! The Python worker's hot loop, in Rust: [`PyWorker::serve`] runs a batch of pickled tasks —
//! unpickle, call, pickle, reply — with the stop checks and the reply log of the engine's
//! worker side ([`WorkerSide`]). Python still reads the requests and builds the replies of
//! failures (`parallel/_worker.py`); what every task pays is here.

use std::os::fd::{FromRawFd, OwnedFd};

use parallel::plumbing::WorkerSide;
use pyo3::exceptions::PyOSError;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict, PyTuple};

/// This worker process's side of the protocol, made once by `_worker.main`.
#[pyclass(module = "parallel._parallel", name = "Worker", unsendable)]
pub(crate) struct PyWorker {
    side: WorkerSide,
    /// `pickle.loads`, `pickle.dumps`, the protocol.
    loads: Py<PyAny>,
    dumps: Py<PyAny>,
    protocol: Py<PyAny>,
}

fn os_error(e: std::io::Error) -> PyErr {
    PyOSError::new_err(e.to_string())
}

/// What went wrong with a task, for the Python helper that makes its reply.
enum Stage<'py> {
    /// Its arguments did not unpickle.
    Unpickle(PyErr),
    /// Its arguments are the placeholder of arguments that did not pickle.
    Unpicklable(Bound<'py, PyAny>),
    /// It raised.
    Raised(PyErr),
    /// Its value did not pickle: the helper tries harder, or fails the task.
    Value(Bound<'py, PyAny>, Bound<'py, PyAny>),
}

#[pymethods]
impl PyWorker {
    /// The worker answering on descriptor `replies`, which it takes over, through the control
    /// page in `PARALLEL_CONTROL_FD` if its parent gave it one.
    #[new]
    fn new(py: Python<'_>, replies: i32) -> PyResult<Self> {
        if replies < 0 {
            return Err(PyOSError::new_err(format!("not a descriptor: {replies}")));
        }
        // SAFETY: the caller hands over a descriptor it owns and no longer uses (a dup of the
        // worker's stdout, made for the protocol alone).
        let fd = unsafe { OwnedFd::from_raw_fd(replies) };
        let pickle = py.import("pickle")?;
        Ok(PyWorker {
            side: WorkerSide::from_env(fd),
            loads: pickle.getattr("loads")?.unbind(),
            dumps: pickle.getattr("dumps")?.unbind(),
            protocol: pickle.getattr("HIGHEST_PROTOCOL")?.unbind(),
        })
    }

    /// Runs one batch. `function`: the call's function, or `None` for `par` (each task is a
    /// pickled `(fn, args, kwargs)`); `single`: each task is `function`'s one argument, else
    /// `(args, kwargs)`; `extras`: keyword arguments every task gets (or `None`);
    /// each task's pickled arguments are bytes or a memoryview; `unpicklable`: the type of the placeholder for arguments that did not pickle; `reply`:
    /// `reply(stage, obj, extra) -> (frame, failed)` makes the reply of a task that did not
    /// go the plain way (`stage`: "unpickle", "unpicklable", "raised" or "value").
    #[allow(clippy::too_many_arguments)] // the parts of one request, as Python holds them
    fn serve(
        &mut self,
        py: Python<'_>,
        function: Option<Bound<'_, PyAny>>,
        params: Vec<Bound<'_, PyAny>>,
        extras: Option<Bound<'_, PyDict>>,
        single: bool,
        unpicklable: Bound<'_, PyAny>,
        reply: Bound<'_, PyAny>,
    ) -> PyResult<()> {
        let outcome = self.run(py, function.as_ref(), &params, extras.as_ref(), single, &unpicklable, &reply);
        let ended = self.side.end_batch().map_err(os_error);
        outcome.and(ended)
    }

    /// Replies made in Python (a request whose function does not unpickle): `count` tasks'
    /// frames, then the end of the batch.
    fn answer(&mut self, frames: &[u8], count: usize) -> PyResult<()> {
        self.side.frames(frames, count).map_err(os_error)?;
        self.side.end_batch().map_err(os_error)
    }

    /// A request has arrived: the next batch begins.
    fn begin_batch(&mut self) -> u32 {
        self.side.begin_batch()
    }
}

impl PyWorker {
    #[allow(clippy::too_many_arguments)]
    fn run<'py>(
        &mut self,
        py: Python<'py>,
        function: Option<&Bound<'py, PyAny>>,
        params: &[Bound<'py, PyAny>],
        extras: Option<&Bound<'py, PyDict>>,
        single: bool,
        unpicklable: &Bound<'py, PyAny>,
        reply: &Bound<'py, PyAny>,
    ) -> PyResult<()> {
        let (loads, dumps, protocol) = (self.loads.bind(py), self.dumps.bind(py), self.protocol.bind(py));
        let strict = self.side.stop_on_failure();
        for (offset, p) in params.iter().enumerate() {
            if self.side.stops(offset) {
                return self.side.skipped(params.len() - offset).map_err(os_error);
            }
            let done = match Self::task(loads, dumps, protocol, function, p, extras, single, unpicklable) {
                Ok(data) => {
                    self.side.value(data.as_bytes()).map_err(os_error)?;
                    continue;
                }
                Err(stage) => stage,
            };
            let (kind, obj, extra): (&str, Bound<'py, PyAny>, Bound<'py, PyAny>) = match done {
                Stage::Unpickle(err) => {
                    ("unpickle", err.into_value(py).into_bound(py).into_any(), py.None().into_bound(py))
                }
                Stage::Unpicklable(task) => ("unpicklable", task, py.None().into_bound(py)),
                Stage::Raised(err) => {
                    ("raised", err.into_value(py).into_bound(py).into_any(), py.None().into_bound(py))
                }
                Stage::Value(value, f) => ("value", value, f),
            };
            let (frame, failed): (Bound<'py, PyBytes>, bool) = reply.call1((kind, obj, extra))?.extract()?;
            self.side.frames(frame.as_bytes(), 1).map_err(os_error)?;
            if failed && strict {
                // The tasks after a strict call's failure never run.
                return self.side.skipped(params.len() - offset - 1).map_err(os_error);
            }
        }
        Ok(())
    }

    /// One task the plain way: its pickled value, or where it went another way.
    #[allow(clippy::too_many_arguments)]
    fn task<'py>(
        loads: &Bound<'py, PyAny>,
        dumps: &Bound<'py, PyAny>,
        protocol: &Bound<'py, PyAny>,
        function: Option<&Bound<'py, PyAny>>,
        p: &Bound<'py, PyAny>,
        extras: Option<&Bound<'py, PyDict>>,
        single: bool,
        unpicklable: &Bound<'py, PyAny>,
    ) -> Result<Bound<'py, PyBytes>, Stage<'py>> {
        let task = loads.call1((p,)).map_err(Stage::Unpickle)?;
        if task.get_type().is(unpicklable) {
            return Err(Stage::Unpicklable(task));
        }
        let (value, f) = match function {
            Some(f) if single => (f.call1((&task,)), f.clone()),
            _ => {
                let (f, args, kwargs) = match function {
                    Some(f) => {
                        let (args, kwargs): (Bound<'py, PyTuple>, Option<Bound<'py, PyDict>>) =
                            task.extract().map_err(Stage::Raised)?;
                        (f.clone(), args, kwargs)
                    }
                    None => task.extract().map_err(Stage::Raised)?,
                };
                let kwargs = match (extras, kwargs) {
                    (Some(extras), Some(own)) if !own.is_empty() => {
                        let merged = extras.copy().map_err(Stage::Raised)?;
                        merged.update(own.as_mapping()).map_err(Stage::Raised)?;
                        Some(merged)
                    }
                    (Some(extras), _) if !extras.is_empty() => Some(extras.clone()),
                    (_, own) => own.filter(|own| !own.is_empty()),
                };
                (f.call(args, kwargs.as_ref()), f)
            }
        };
        let value = value.map_err(Stage::Raised)?;
        match dumps.call1((&value, protocol)) {
            Ok(data) => data.cast_into::<PyBytes>().map_err(|_| Stage::Value(value.clone(), f.clone())),
            Err(_) => Err(Stage::Value(value, f)),
        }
    }
}
