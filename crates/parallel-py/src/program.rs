//! Python interpreters as worker processes: [`PyProgram`] says how to start one,
//! [`pickle_params`] pickles a call's parameters, and [`run_program`] runs pickled tasks in
//! them on the engine's process executor.

use std::ops::Range;
use std::process::Command;

use parallel::plumbing::{Encoded, Feed, FromTasks, Program, Tasks};
use pyo3::exceptions::{PyRuntimeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PySequence, PyTuple, PyType};

use crate::buffers::{lend, OutOfBand};
use crate::call::{Call, Options, Values};
use crate::guard::call_guarded;
use crate::items::Items;
use crate::pickles::Pickler;
use crate::stream::{Reader, Shapes, Streamed};

/// A program that serves as a worker: `argv`, with `env` added to the environment and `cwd`
/// as working directory. Its live workers can be killed at once (Ctrl-C, interpreter exit).
/// With `logs`, each worker gets a pipe for lines (`PARALLEL_LOG_FD`), and `logs(line)` is
/// called with each line it writes there (bytes, without the newline), on the thread of this
/// process that reads that worker's pipe; an exception it raises is reported as unraisable.
#[pyclass(module = "parallel._parallel", name = "Program", frozen)]
pub(crate) struct PyProgram(Program);

#[pymethods]
impl PyProgram {
    #[new]
    #[pyo3(signature = (argv, env, cwd=None, logs=None))]
    fn new(
        argv: Vec<String>,
        env: Vec<(String, String)>,
        cwd: Option<String>,
        logs: Option<Py<PyAny>>,
    ) -> PyResult<Self> {
        if argv.is_empty() {
            return Err(pyo3::exceptions::PyValueError::new_err("a worker program needs at least its executable"));
        }
        let program = Program::new(move || {
            let mut command = Command::new(&argv[0]);
            command.args(&argv[1..]).envs(env.iter().map(|(k, v)| (k, v)));
            if let Some(dir) = &cwd {
                command.current_dir(dir);
            }
            command
        });
        Ok(PyProgram(match logs {
            Some(logs) => program.with_lines(move |line| handle_line(&logs, line)),
            None => program,
        }))
    }

    /// Kills every live worker of this program; returns how many.
    fn kill_workers(&self) -> usize {
        self.0.kill_workers()
    }
}

/// `logs(line)`, from the thread that reads a worker's pipe of lines: the GIL taken only for the
/// call (never while the pipe is read), and the call guarded against the interpreter's exit,
/// which may end this thread inside it.
fn handle_line(logs: &Py<PyAny>, line: &[u8]) {
    Python::attach(|py| {
        let logs = logs.bind(py);
        let called = PyTuple::new(py, [PyBytes::new(py, line)]).and_then(|args| call_guarded(logs, &args, None));
        if let Err(err) = called {
            err.write_unraisable(py, Some(logs));
        }
    });
}

/// A call's pickled parameters, made by [`pickle_params`] — Rust's bytes, which
/// [`run_program`] takes over without a copy (once) — or, made `lazy`, what to pickle,
/// which [`run_program`] pickles run after run while the call's first tasks already run.
#[pyclass(module = "parallel._parallel", name = "Params")]
pub(crate) struct Params(Option<Source>);

enum Source {
    Pickled(Encoded),
    Lazy(Pickling),
}

#[pymethods]
impl Params {
    fn __len__(&self) -> usize {
        match &self.0 {
            Some(Source::Pickled(params)) => params.len(),
            Some(Source::Lazy(pickling)) => pickling.len,
            None => 0,
        }
    }
}

/// What each parameter stands for, as `pickle_params` pickles it.
#[derive(Clone, Copy)]
enum Wrap {
    /// The parameter itself.
    Item,
    /// `((param,), None)`: the one positional argument, no keyword arguments of its own.
    One,
    /// `(tuple(param), None)`: the parameter spread into positional arguments.
    Spread,
}

/// How a call's parameters are pickled: see [`pickle_params`].
struct Pickling {
    items: Items,
    len: usize,
    wrap: Wrap,
    dumps: Py<PyAny>,
    protocol: Py<PyAny>,
    fallback: Py<PyAny>,
    /// Large `bytes`, arrays and other pickle-5 buffers go out of band: lent, not copied.
    pickle: Pickler,
    out_of_band: Py<OutOfBand>,
    main: Py<PyBytes>,
}

impl Pickling {
    fn new(
        py: Python<'_>,
        items: &Bound<'_, PyAny>,
        wrap: u8,
        dumps: &Bound<'_, PyAny>,
        protocol: u8,
        fallback: &Bound<'_, PyAny>,
    ) -> PyResult<Self> {
        let wrap = match wrap {
            0 => Wrap::Item,
            1 => Wrap::One,
            2 => Wrap::Spread,
            other => return Err(PyValueError::new_err(format!("wrap must be 0, 1 or 2, got {other}"))),
        };
        let items = Items::new(items)?;
        Ok(Pickling {
            len: items.len(py)?,
            items,
            wrap,
            dumps: dumps.clone().unbind(),
            protocol: protocol.into_pyobject(py)?.into_any().unbind(),
            fallback: fallback.clone().unbind(),
            pickle: Pickler::lending(),
            out_of_band: Py::new(py, OutOfBand::new())?,
            // `__main__`, or `__mp_main__` (the script in a child of multiprocessing's spawn, a
            // Dask worker too): one search finds both (`_pickling._MAIN`).
            main: PyBytes::new(py, b"_main__").unbind(),
        })
    }

    /// The pickles of items `range`, into `params`.
    fn pickle(&mut self, py: Python<'_>, range: Range<usize>, params: &mut Encoded) -> PyResult<()> {
        // The sequence is the caller's own list or a range: it does not change meanwhile.
        for index in range {
            let item = self.items.get(py, index)?;
            self.pickle_one(py, index, item, self.wrap, params)?;
        }
        Ok(())
    }

    /// The pickle of task `index`'s parameter `item`, wrapped as `wrap` says, into `params`.
    fn pickle_one<'py>(
        &mut self,
        py: Python<'py>,
        index: usize,
        item: Bound<'py, PyAny>,
        wrap: Wrap,
        params: &mut Encoded,
    ) -> PyResult<()> {
        let pickle = &mut self.pickle;
        let (dumps, protocol, fallback) = (self.dumps.bind(py), self.protocol.bind(py), self.fallback.bind(py));
        let (out_of_band, main) = (self.out_of_band.bind(py), self.main.bind(py));
        let args = match wrap {
            Wrap::Spread => Some(spread(&item)?),
            _ => None,
        };
        pickle.start();
        let plain = match (&args, wrap) {
            (None, Wrap::Item) => pickle.value(&item),
            (None, _) => {
                pickle.value(&item) && {
                    pickle.tuple_of(1);
                    true
                }
            }
            (Some(args), _) => pickle.value(args.as_any()),
        };
        if plain {
            if !matches!(wrap, Wrap::Item) {
                pickle.none();
                pickle.tuple_of(2);
            }
            let lent = lend(py, Vec::new(), pickle.lent())?;
            params.push(pickle.finished(), lent);
            return Ok(());
        }
        let obj = match (args, wrap) {
            (None, Wrap::Item) => item,
            (None, _) => PyTuple::new(py, [PyTuple::new(py, [item])?.into_any(), py.None().into_bound(py)])?.into_any(),
            (Some(args), _) => PyTuple::new(py, [args.into_any(), py.None().into_bound(py)])?.into_any(),
        };
        let pickled = match out_of_band.get().dumps(dumps, &obj, protocol, out_of_band) {
            Ok((data, views)) => (!data.as_any().contains(main)?).then_some((data, views)),
            Err(err) if err.is_instance_of::<pyo3::exceptions::PyException>(py) => None,
            Err(err) => return Err(err),
        };
        match pickled {
            Some((data, views)) => params.push(data.as_bytes(), lend(py, views, Vec::new())?),
            None => params.push(fallback.call1((index, obj))?.cast_into::<PyBytes>()?.as_bytes(), Vec::new()),
        };
        Ok(())
    }
}

/// The pickles of `items` (a list, a range or another sequence), one per task: each item as
/// `wrap` says (0: itself, 1: its one argument `((item,), None)`, 2: spread into arguments
/// `(tuple(item), None)`). Plain values are pickled here ([`crate::pickles`]); any other
/// object is `dumps(obj, protocol)`, unless that raises or its pickle names `__main__` (or
/// `__mp_main__`): then
/// `fallback(index, obj)`, which returns the bytes to send (the caller's rules: cloudpickle,
/// or a stand-in that fails the task). With `lazy`, they are pickled later, by
/// [`run_program`], while the call runs: the workers start on the first tasks while the caller
/// pickles the rest.
#[pyfunction]
#[pyo3(signature = (items, wrap, dumps, protocol, fallback, *, lazy=false))]
pub(crate) fn pickle_params(
    py: Python<'_>,
    items: &Bound<'_, PyAny>,
    wrap: u8,
    dumps: &Bound<'_, PyAny>,
    protocol: u8,
    fallback: &Bound<'_, PyAny>,
    lazy: bool,
) -> PyResult<Params> {
    let mut pickling = Pickling::new(py, items, wrap, dumps, protocol, fallback)?;
    if lazy {
        return Ok(Params(Some(Source::Lazy(pickling))));
    }
    let mut params = Encoded::with_capacity(pickling.len, pickling.len * 8);
    pickling.pickle(py, 0..pickling.len, &mut params)?;
    Ok(Params(Some(Source::Pickled(params))))
}

/// `tuple(param)`: a tuple is itself, a list or a subclass is read into one.
fn spread<'py>(param: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyTuple>> {
    match param.cast_exact::<PyTuple>() {
        Ok(t) => Ok(t.clone()),
        Err(_) => param.cast::<PySequence>()?.to_tuple(),
    }
}

/// Starts a call on the process executor: one task per element of `params` (each task's
/// pickled arguments: a list of bytes, or the `Params` of [`pickle_params`]), all calling the
/// pickled `function` with the pickled `extras`, in workers of `program`. The values come
/// back as bytes, or unpickled (plain values here, others by `loads`) if `loads` is given, in
/// a list of type `into` (a subclass of `list`) if given.
#[pyfunction]
#[pyo3(signature = (program, function, extras, params, max_workers=None, timeout=None, task_timeout=None, silent=false, memory_limit=None, *, loads=None, into=None, retries=0, retry_on=None, max_tasks_per_worker=None, max_worker_memory=None))]
#[allow(clippy::too_many_arguments)] // the keyword arguments of one Python call
pub(crate) fn run_program(
    program: &PyProgram,
    function: Vec<u8>,
    extras: Vec<u8>,
    params: &Bound<'_, PyAny>,
    max_workers: Option<usize>,
    timeout: Option<f64>,
    task_timeout: Option<f64>,
    silent: bool,
    memory_limit: Option<u64>,
    loads: Option<Py<PyAny>>,
    into: Option<Py<PyType>>,
    retries: u32,
    retry_on: Option<Py<PyAny>>,
    max_tasks_per_worker: Option<u64>,
    max_worker_memory: Option<u64>,
) -> PyResult<Call> {
    let py = params.py();
    let params = match params.cast::<Params>() {
        Ok(pickled) => pickled
            .borrow_mut()
            .0
            .take()
            .ok_or_else(|| PyRuntimeError::new_err("these parameters were already given to a call"))?,
        Err(_) => Source::Pickled(Encoded::from(params.extract::<Vec<Vec<u8>>>()?)),
    };
    let values = Values { into, loads };
    let executor = process_executor(
        Options::new(max_workers, timeout, task_timeout, silent)?.retrying(retries, retry_on),
        (memory_limit, max_tasks_per_worker, max_worker_memory),
    );
    let program = program.0.clone();
    let tasks = match &params {
        Source::Pickled(params) => params.len(),
        Source::Lazy(pickling) => pickling.len,
    };
    let (feed, call) = if silent {
        let (feed, handle, arrivals) = executor.silent().async_run_program_tapped(&program, &function, &extras, tasks);
        (feed, Call::new((handle, arrivals), tasks, Some(program), values))
    } else {
        let (feed, handle, arrivals) = executor.async_run_program_tapped(&program, &function, &extras, tasks);
        (feed, Call::new((handle, arrivals), tasks, Some(program), values))
    };
    let mut pickling = match params {
        Source::Pickled(params) => {
            feed.push(params);
            return Ok(call);
        }
        Source::Lazy(pickling) => pickling,
    };
    // Run after run, each fed as soon as it is pickled: small at first, so the workers start
    // at once, then larger. Should this stop early in any way (an unwinding panic too), the
    // tasks not fed fail rather than wait.
    let feeding = Feeding(feed);
    let (mut at, mut run) = (0, FIRST_RUN);
    while at < tasks {
        let end = (at + run).min(tasks);
        let mut params = Encoded::with_capacity(end - at, (end - at) * 8);
        if let Err(err) = pickling.pickle(py, at..end, &mut params) {
            feeding.0.fail(format!("the caller stopped pickling the call's parameters: {err}"));
            call.stop();
            return Err(err);
        }
        feeding.0.push(params);
        (at, run) = (end, (run * 4).min(MAX_RUN));
    }
    Ok(call)
}

/// The process executor with a call's options, and its workers' `memory_limit` (bytes),
/// `max_tasks_per_worker` and `max_worker_memory` (bytes).
fn process_executor(options: Options, (memory_limit, tasks, resident): Limits) -> parallel::Process {
    let mut executor = options.apply(parallel::process());
    if let Some(bytes) = memory_limit {
        executor = executor.memory_limit(bytes);
    }
    if let Some(n) = tasks.filter(|&n| n > 0) {
        executor = executor.max_tasks_per_worker(n);
    }
    if let Some(bytes) = resident {
        executor = executor.max_worker_memory(bytes);
    }
    executor
}

/// A call's limits on its worker processes: `memory_limit`, `max_tasks_per_worker`,
/// `max_worker_memory`.
type Limits = (Option<u64>, Option<u64>, Option<u64>);

/// A feed being fed: once dropped, the tasks it was not given fail (a no-op once all are).
struct Feeding(Feed);

impl Drop for Feeding {
    fn drop(&mut self) {
        self.0.fail("the caller stopped feeding the call's parameters");
    }
}

/// The first run of parameters a call pickles while it runs, and the largest.
const FIRST_RUN: usize = 256;
const MAX_RUN: usize = 16_384;

/// A streamed call's tasks on the process executor: a plain item is pickled as the one
/// argument, a special one's `(callable, args, kwargs, own kwargs)` as `(args, own kwargs)`;
/// each batch is fed to the call, and a task is its index in the feed.
struct ProgramStream {
    reader: Reader,
    shapes: Shapes,
    pickling: Pickling,
    feed: Feed,
}

impl ProgramStream {
    fn new(
        iter: &Bound<'_, PyAny>,
        shared: Streamed,
        shapes: Shapes,
        pickling: Pickling,
        feed: Feed,
    ) -> PyResult<Self> {
        Ok(ProgramStream { reader: Reader::new(iter, shared)?, shapes, pickling, feed })
    }
}

impl Tasks for ProgramStream {
    type Params = usize;
    type Batch = std::ops::Range<usize>;

    fn take(&mut self, n: usize) -> Self::Batch {
        let start = self.reader.next;
        let mut params = Encoded::with_capacity(n.min(4096), n.min(4096) * 16);
        let (shapes, pickling) = (&self.shapes, &mut self.pickling);
        let read = self.reader.read_attached(
            n,
            &mut |py, index, item| match shapes.of(item)? {
                Some(task) => {
                    let param = PyTuple::new(py, [task.get_item(1)?, task.get_item(3)?])?;
                    pickling.pickle_one(py, index, param.into_any(), Wrap::Item, &mut params)?;
                    Ok(task.into_any())
                }
                None => {
                    pickling.pickle_one(py, index, item.clone(), Wrap::One, &mut params)?;
                    Ok(item.clone())
                }
            },
            |_, read| read,
        );
        if read > 0 {
            self.feed.push(params);
        }
        start..start + read
    }
    fn recover(&mut self) -> Self::Batch {
        0..0
    }
    fn size_hint(&self) -> (usize, Option<usize>) {
        (0, None)
    }
    /// A generator may be endless: a call that stops early ends with the tasks it read.
    fn read_rest_on_stop(&self) -> bool {
        false
    }
}

/// Starts a call on the process executor whose parameters are read from `params`, an
/// iterator, as the workers take them (see [`crate::stream`]): an item of the `special` types
/// is given to `convert`, which returns `(callable, args, kwargs, own kwargs)`, and its
/// `(args, own kwargs)` is pickled; any other item is pickled as the one argument. Pickled as
/// [`pickle_params`] does (with `dumps`, `protocol` and `fallback`), each task is sent to a
/// worker of `program` calling the pickled `function` with the pickled `extras`; the parameters
/// sent are let go of. The values come back as [`run_program`]'s do.
#[pyfunction]
#[pyo3(signature = (program, function, extras, params, special, convert, dumps, protocol, fallback, max_workers=None, timeout=None, task_timeout=None, silent=false, memory_limit=None, *, loads=None, into=None, retries=0, retry_on=None, max_tasks_per_worker=None, max_worker_memory=None))]
#[allow(clippy::too_many_arguments)] // the keyword arguments of one Python call
pub(crate) fn run_program_streamed(
    program: &PyProgram,
    function: Vec<u8>,
    extras: Vec<u8>,
    params: &Bound<'_, PyAny>,
    special: Py<PyTuple>,
    convert: Py<PyAny>,
    dumps: &Bound<'_, PyAny>,
    protocol: u8,
    fallback: &Bound<'_, PyAny>,
    max_workers: Option<usize>,
    timeout: Option<f64>,
    task_timeout: Option<f64>,
    silent: bool,
    memory_limit: Option<u64>,
    loads: Option<Py<PyAny>>,
    into: Option<Py<PyType>>,
    retries: u32,
    retry_on: Option<Py<PyAny>>,
    max_tasks_per_worker: Option<u64>,
    max_worker_memory: Option<u64>,
) -> PyResult<Call> {
    let py = params.py();
    let pickling = Pickling::new(py, pyo3::types::PyList::empty(py).as_any(), 0, dumps, protocol, fallback)?;
    let shared = Streamed::default();
    // A retried task is sent again: the parameters sent are then kept until the call ends.
    let feed = if retries > 0 { Feed::new() } else { Feed::releasing() };
    let shapes = Shapes::new(special, convert);
    let inputs = FromTasks(ProgramStream::new(params, shared.clone(), shapes, pickling, feed.clone())?);
    let values = Values { into, loads };
    let executor = process_executor(
        Options::new(max_workers, timeout, task_timeout, silent)?.retrying(retries, retry_on),
        (memory_limit, max_tasks_per_worker, max_worker_memory),
    );
    let program = program.0.clone();
    let parts = if silent {
        executor.silent().async_run_program_streamed(&program, &function, &extras, feed, inputs)
    } else {
        executor.async_run_program_streamed(&program, &function, &extras, feed, inputs)
    };
    Ok(Call::streamed(parts, Some(program), values, shared))
}
