//! The Python worker's hot loop, in Rust: [`PyWorker`] reads each batch's request and runs its
//! pickled tasks — unpickle, call, pickle, reply — with the stop checks and the reply log of
//! the engine's worker side ([`WorkerSide`]). Plain arguments and values (`None`, numbers,
//! strings, bytes, and tuples, lists and dicts of them) are read and written by the
//! hand-written pickles of [`pickles`](crate::pickles), anything else by `pickle`. Python
//! Large buffers — pickle 5's out-of-band buffers, large `bytes` — cross through shared memory
//! both ways (`parallel::plumbing::Payload`). Python
//! resolves each request's function and extras and builds the replies of failures
//! (`parallel/_worker.py`); what every task pays is here.

use std::os::fd::{FromRawFd, OwnedFd};

use parallel::plumbing::{Buffer, Request, WorkerSide};
use pyo3::exceptions::PyOSError;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict, PyTuple};

use crate::buffers::{self, OutOfBand};
use crate::pickles::{Pickler, Unpickler};

/// Arguments this large are unpickled by `pickle` from a view of the request rather than from
/// a copy of their bytes.
const VIEW_FROM: usize = buffers::VIEW_FROM;

/// This worker process's side of the protocol, made once by `_worker.main`.
#[pyclass(module = "parallel._parallel", name = "Worker", unsendable)]
pub(crate) struct PyWorker {
    side: WorkerSide,
    /// The current batch's request (`None` while none has arrived).
    request: Option<Request>,
    /// Writes the pickles of plain values.
    pickler: Pickler,
    /// Picks large buffers out of values' pickles (only if they can go through shared memory).
    out_of_band: Option<Py<OutOfBand>>,
    /// `pickle.loads`, `pickle.dumps`, the protocol.
    loads: Py<PyAny>,
    dumps: Py<PyAny>,
    protocol: Py<PyAny>,
    /// Called before a batch's last reply: what its tasks printed goes to the parent's pipes
    /// first, so the parent forwards it before the call returns.
    flush: Option<Py<PyAny>>,
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

/// What a plain task gave: its value, pickled here (in the pickler's buffer) or by `pickle`,
/// and the large buffers that go beside it through shared memory (with the value, pickled
/// in-band instead should those not cross that way).
enum Pickled<'py> {
    Plain(Vec<Buffer>, Bound<'py, PyAny>),
    Pickle(Bound<'py, PyBytes>, Vec<Buffer>, Bound<'py, PyAny>),
}

/// A request as Python sees it: its entry, its pickled extras, how many tasks it holds.
type Arrived<'py> = (Bound<'py, PyBytes>, Bound<'py, PyBytes>, usize);

/// `pickle` and the hand-written pickles, for one batch.
struct Codec<'a, 'py> {
    loads: &'a Bound<'py, PyAny>,
    dumps: &'a Bound<'py, PyAny>,
    protocol: &'a Bound<'py, PyAny>,
    plain: Unpickler<'py>,
    pickler: &'a mut Pickler,
    /// Picks the large buffers out of values, if they can go through shared memory.
    out_of_band: Option<&'a Bound<'py, OutOfBand>>,
}

impl<'py> Codec<'_, 'py> {
    /// The value the pickle `data` holds. A large pickle that is not plain is read by `pickle`
    /// from a view of `data`; `released` becomes `false` if that view could not be released
    /// (something kept it), so `data`'s buffer must then never be reused.
    fn load(&mut self, data: &[u8], buffers: Vec<Buffer>, released: &mut bool) -> PyResult<Bound<'py, PyAny>> {
        let py = self.loads.py();
        if !buffers.is_empty() {
            return buffers::load(&mut self.plain, self.loads, data, buffers);
        }
        if let Some(value) = self.plain.load(data) {
            return Ok(value);
        }
        if data.len() < VIEW_FROM {
            return self.loads.call1((PyBytes::new(py, data),));
        }
        // SAFETY: the view reads `data`, which lives in the request until the next request
        // replaces it; the view is released right after `pickle.loads` (which keeps no view
        // of its input), and if it cannot be, the caller never frees or reuses the buffer.
        let view = unsafe {
            let ptr = pyo3::ffi::PyMemoryView_FromMemory(data.as_ptr() as *mut _, data.len() as _, buffers::PYBUF_READ);
            Bound::from_owned_ptr_or_err(py, ptr)?
        };
        let value = self.loads.call1((&view,));
        if view.call_method0("release").is_err() {
            *released = false;
        }
        value
    }

    /// The value pickled by `pickle` with every buffer inside: for a value whose buffers could
    /// not go through shared memory.
    fn in_band(&self, value: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyBytes>> {
        Ok(self.dumps.call1((value, self.protocol))?.cast_into::<PyBytes>()?)
    }

    /// The value's pickle: into the pickler's buffer if it is plain, else by `pickle`; with
    /// its large buffers out of band if they can go through shared memory.
    fn dump(&mut self, value: Bound<'py, PyAny>) -> Result<Pickled<'py>, Bound<'py, PyAny>> {
        let py = value.py();
        self.pickler.start();
        if self.pickler.value(&value) {
            let lent = self.pickler.lent();
            if lent.is_empty() {
                return Ok(Pickled::Plain(Vec::new(), value)); // most values
            }
            return match buffers::lend(py, Vec::new(), lent) {
                Ok(buffers) => Ok(Pickled::Plain(buffers, value)),
                Err(_) => Err(value),
            };
        }
        let pickled = match self.out_of_band {
            Some(oob) => oob
                .get()
                .dumps(self.dumps, &value, self.protocol, oob)
                .and_then(|(data, views)| Ok((data, buffers::lend(py, views, Vec::new())?))),
            None => self
                .dumps
                .call1((&value, self.protocol))
                .and_then(|data| Ok((data.cast_into::<PyBytes>()?, Vec::new()))),
        };
        match pickled {
            Ok((data, buffers)) => Ok(Pickled::Pickle(data, buffers, value)),
            Err(_) => Err(value),
        }
    }
}

#[pymethods]
impl PyWorker {
    /// The worker reading requests on descriptor `requests` and answering on `replies`, which
    /// it takes over, through the control page in `PARALLEL_CONTROL_FD` if its parent gave it
    /// one; `flush()` is called before each batch's last reply (its exceptions ignored).
    #[new]
    #[pyo3(signature = (requests, replies, flush=None))]
    fn new(py: Python<'_>, requests: i32, replies: i32, flush: Option<Py<PyAny>>) -> PyResult<Self> {
        if requests < 0 || replies < 0 {
            return Err(PyOSError::new_err(format!("not descriptors: {requests}, {replies}")));
        }
        // SAFETY: the caller hands over descriptors it owns and no longer uses (dups of the
        // worker's stdin and stdout, made for the protocol alone).
        let (requests, replies) = unsafe { (OwnedFd::from_raw_fd(requests), OwnedFd::from_raw_fd(replies)) };
        let pickle = py.import("pickle")?;
        let side = WorkerSide::from_env(requests, replies);
        // Large values go through shared memory if the parent can take them from there.
        let out_of_band = if side.shares() { Some(Bound::new(py, OutOfBand::new())?.unbind()) } else { None };
        Ok(PyWorker {
            pickler: if side.shares() { Pickler::lending() } else { Pickler::new() },
            side,
            out_of_band,
            request: None,
            loads: pickle.getattr("loads")?.unbind(),
            dumps: pickle.getattr("dumps")?.unbind(),
            protocol: pickle.getattr("HIGHEST_PROTOCOL")?.unbind(),
            flush,
        })
    }

    /// Waits for the next request and begins its batch: `(entry, extras, count)` — the
    /// request's entry and pickled extras, and how many tasks it holds — or `None` once the
    /// parent closed the requests. `OSError` if the bytes are not a request.
    fn next_request<'py>(&mut self, py: Python<'py>) -> PyResult<Option<Arrived<'py>>> {
        let buffers = self.request.take().unwrap_or_default();
        let side = &mut self.side;
        let Some(request) = py.detach(|| side.next_request(buffers)).map_err(os_error)? else { return Ok(None) };
        // Its function and extras are unpickled next, in Python: no part of its tasks' time.
        side.loading();
        let got = (PyBytes::new(py, request.entry()), PyBytes::new(py, request.extras()), request.len());
        self.request = Some(request);
        Ok(Some(got))
    }

    /// Runs the current batch. `function`: the call's function, or `None` for `par` (each task
    /// is a pickled `(fn, args, kwargs)`); `single`: each task is `function`'s one argument,
    /// else `(args, kwargs)`; `extras`: keyword arguments every task gets (or `None`);
    /// `unpicklable`: the type of the placeholder for arguments that did not pickle; `reply`:
    /// `reply(stage, obj, extra) -> (frame, failed)` makes the reply of a task that did not
    /// go the plain way (`stage`: "unpickle", "unpicklable", "raised" or "value").
    fn serve(
        &mut self,
        py: Python<'_>,
        function: Option<Bound<'_, PyAny>>,
        extras: Option<Bound<'_, PyDict>>,
        single: bool,
        unpicklable: Bound<'_, PyAny>,
        reply: Bound<'_, PyAny>,
    ) -> PyResult<()> {
        let request = self.request.take().ok_or_else(|| PyOSError::new_err("no request to serve"))?;
        self.side.began();
        let mut released = true;
        let outcome =
            self.run(py, &request, function.as_ref(), extras.as_ref(), single, &unpicklable, &reply, &mut released);
        if released {
            self.request = Some(request);
        } else {
            std::mem::forget(request); // a view of its bytes is still alive somewhere
        }
        let ended = self.side.end_batch().map_err(os_error);
        outcome.and(ended)
    }

    /// Replies made in Python (a request whose function does not unpickle): `count` tasks'
    /// frames, then the end of the batch.
    fn answer(&mut self, frames: &[u8], count: usize) -> PyResult<()> {
        self.side.frames(frames, count).map_err(os_error)?;
        self.side.end_batch().map_err(os_error)
    }
}

impl PyWorker {
    #[allow(clippy::too_many_arguments)] // the parts of one request, as Python holds them
    fn run<'py>(
        &mut self,
        py: Python<'py>,
        request: &Request,
        function: Option<&Bound<'py, PyAny>>,
        extras: Option<&Bound<'py, PyDict>>,
        single: bool,
        unpicklable: &Bound<'py, PyAny>,
        reply: &Bound<'py, PyAny>,
        released: &mut bool,
    ) -> PyResult<()> {
        let mut codec = Codec {
            loads: self.loads.bind(py),
            dumps: self.dumps.bind(py),
            protocol: self.protocol.bind(py),
            plain: Unpickler::new(py),
            pickler: &mut self.pickler,
            out_of_band: self.out_of_band.as_ref().map(|o| o.bind(py)),
        };
        let side = &mut self.side;
        let flush = self.flush.as_ref();
        let strict = side.stop_on_failure();
        let count = request.len();
        for offset in 0..count {
            if side.stops(offset) {
                flush_output(py, flush);
                return side.skipped(count - offset).map_err(os_error);
            }
            let params = request.params(offset);
            let buffers = if request.has_buffers(offset) { request.buffers(offset) } else { Ok(Vec::new()) };
            let ran = task(&mut codec, function, params, buffers, extras, single, unpicklable, released);
            if offset + 1 == count {
                flush_output(py, flush);
            }
            let done = match ran {
                Ok(Pickled::Plain(buffers, _)) if buffers.is_empty() => {
                    side.value(codec.pickler.finished()).map_err(os_error)?;
                    continue;
                }
                Ok(Pickled::Pickle(data, buffers, _)) if buffers.is_empty() => {
                    side.value(data.as_bytes()).map_err(os_error)?;
                    continue;
                }
                Ok(Pickled::Plain(buffers, value)) => {
                    let views: Vec<&[u8]> = buffers.iter().map(|b| &**b).collect();
                    if !side.shared_value(codec.pickler.finished(), &views).map_err(os_error)? {
                        side.value(codec.in_band(&value)?.as_bytes()).map_err(os_error)?;
                    }
                    continue;
                }
                Ok(Pickled::Pickle(data, buffers, value)) => {
                    let views: Vec<&[u8]> = buffers.iter().map(|b| &**b).collect();
                    if !side.shared_value(data.as_bytes(), &views).map_err(os_error)? {
                        side.value(codec.in_band(&value)?.as_bytes()).map_err(os_error)?;
                    }
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
            side.frames(frame.as_bytes(), 1).map_err(os_error)?;
            if failed && strict {
                // The tasks after a strict call's failure never run.
                flush_output(py, flush);
                return side.skipped(count - offset - 1).map_err(os_error);
            }
        }
        Ok(())
    }
}

/// Before a batch's last reply: the worker's `flush()`, if it has one (out of the tasks' loop:
/// called once a batch).
#[cold]
#[inline(never)]
fn flush_output(py: Python<'_>, flush: Option<&Py<PyAny>>) {
    if let Some(flush) = flush {
        let _ = flush.call0(py);
    }
}

/// One task the plain way: its pickled value, or where it went another way.
#[allow(clippy::too_many_arguments)]
fn task<'py>(
    codec: &mut Codec<'_, 'py>,
    function: Option<&Bound<'py, PyAny>>,
    params: &[u8],
    buffers: std::io::Result<Vec<Buffer>>,
    extras: Option<&Bound<'py, PyDict>>,
    single: bool,
    unpicklable: &Bound<'py, PyAny>,
    released: &mut bool,
) -> Result<Pickled<'py>, Stage<'py>> {
    let buffers = buffers.map_err(|e| Stage::Unpickle(os_error(e)))?;
    let task = codec.load(params, buffers, released).map_err(Stage::Unpickle)?;
    // The type's pointer, not a reference to it (which the limited API counts by calls).
    if task.get_type_ptr() == unpicklable.as_ptr().cast() {
        return Err(Stage::Unpicklable(task));
    }
    let (value, f) = match function {
        Some(f) if single => (crate::guard::call1(f, &task), None),
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
            (f.call(args, kwargs.as_ref()), Some(f))
        }
    };
    let value = value.map_err(Stage::Raised)?;
    // The function, for the helper that tries harder to pickle the value, only then.
    codec.dump(value).map_err(|value| {
        let f = f.or_else(|| function.cloned()).expect("a single call has its function");
        Stage::Value(value, f)
    })
}
