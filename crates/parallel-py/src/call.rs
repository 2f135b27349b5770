//! A call in flight, as Python sees it: [`Call`] waits with the GIL released, answers Ctrl-C
//! within a slice of [`POLL`], and turns the engine's outcomes into Python values.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use parallel::plumbing::{Arrivals, Arrived, Backend, Payload, Program};
use parallel::{Executor, FailedTask, FailureKind, Handle, Observer};
use pyo3::exceptions::{PyRuntimeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyList, PyTuple, PyType};

use crate::buffers;
use crate::pickles::Unpickler;
use crate::stream::Streamed;

/// How often a waiting call looks for signals (Ctrl-C): well under the 0.5 s it promises.
const POLL: Duration = Duration::from_millis(50);

/// How many outcomes, about, one `next_outcomes` hands out at most (whole chunks), paced or
/// not: the rest wait in the engine's form, a few words each, rather than all at once as
/// Python objects in one list — which, for a consumer slower than the workers (a loaded
/// machine), grew to millions of outcomes, and its next one larger still.
const MOST_A_LOOK: usize = 1 << 16;

/// A call's options, checked.
pub(crate) struct Options {
    pub(crate) max_workers: Option<usize>,
    pub(crate) timeout: Option<Duration>,
    pub(crate) task_timeout: Option<Duration>,
    /// How many more times a failed task runs, and the exception types retried (None: any).
    pub(crate) retries: u32,
    pub(crate) retry_on: Option<Py<PyAny>>,
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
            retries: 0,
            retry_on: None,
        })
    }

    /// The same, retrying a failed task up to `retries` more times if its exception is an
    /// instance of `retry_on` (a tuple of types; None: any failure).
    pub(crate) fn retrying(mut self, retries: u32, retry_on: Option<Py<PyAny>>) -> Self {
        self.retries = retries;
        self.retry_on = retry_on;
        self
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
        if self.retries > 0 {
            executor = executor.retries(self.retries);
            if let Some(types) = Python::attach(|py| self.retry_on.as_ref().map(|t| t.clone_ref(py))) {
                executor = executor.retry_if(move |fault| Python::attach(|py| retried(py, fault, &types)));
            }
        }
        executor
    }
}

/// `true` if the exception a task failed with (`fault`, as the engine reports it) is an
/// instance of `types`: Python says (`_outcomes.retried`), with the exception the caller would
/// see. An error there retries nothing.
fn retried(py: Python<'_>, fault: &parallel::plumbing::Fault, types: &Py<PyAny>) -> bool {
    let (kind, signal, code) = kind_of(&fault.kind);
    let error = fault.error.as_deref();
    let error = error_of(py, error.and_then(|e| e.downcast_ref()), error.and_then(|e| e.downcast_ref()));
    let asked = py.import("parallel._outcomes").and_then(|outcomes| {
        outcomes.getattr("retried")?.call1((kind, fault.message.as_str(), signal, code, error, types))?.is_truthy()
    });
    asked.unwrap_or(false)
}

/// A failure kind as Python names it, with the signal and exit code of a crash.
fn kind_of(kind: &FailureKind) -> (&'static str, Option<i32>, Option<i32>) {
    match kind {
        FailureKind::Error => ("error", None, None),
        FailureKind::Panicked => ("panicked", None, None),
        FailureKind::TimedOut => ("timed_out", None, None),
        FailureKind::Cancelled => ("cancelled", None, None),
        FailureKind::Crashed { signal, code } => ("crashed", *signal, *code),
        _ => ("error", None, None),
    }
}

/// A failure's error value for Python: the exception (threads), its pickled bytes
/// (processes), or None.
fn error_of(py: Python<'_>, exception: Option<&PyErr>, pickled: Option<&Vec<u8>>) -> Py<PyAny> {
    match (exception, pickled) {
        (Some(err), _) => err.clone_ref(py).into_value(py).into_any(),
        (None, Some(bytes)) => PyBytes::new(py, bytes).into_any().unbind(),
        (None, None) => py.None(),
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
                    None => buffers::loads_pickled(&loads.loads, self.into_parts().0),
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

/// How a call ended, in Python values: `(status, values, failures)` — see [`Call::wait`].
type Ended = Py<PyTuple>;

/// A running call's outcomes as they arrive, whatever its value type: the engine's
/// [`Arrivals`] and [`Handle`], read by [`Call`].
trait Tapped: Send {
    /// Waits up to `timeout` (without the GIL) for outcomes to arrive, keeping them; `true` if
    /// some did.
    fn wait_arrival(&mut self, timeout: Duration) -> bool;
    /// The outcomes kept, taken, chunk by chunk until at least `most` are (the rest stay kept):
    /// `sink` gets each task's index and its Python value, or its failure; returns how many.
    fn take<'py>(
        &mut self,
        py: Python<'py>,
        values: &Values,
        most: usize,
        sink: &mut dyn FnMut(usize, Outcome<'py>) -> PyResult<()>,
    ) -> PyResult<usize>;
    /// How the call ended, once it has (every outcome of a call that is `Done` is in).
    fn ended(&mut self) -> Option<parallel::plumbing::Ended>;
    /// The call runs at the pace its outcomes are taken (`paced`: see [`Arrivals::pace`]),
    /// each look taking at most [`HAND_OUT`] of them; or as fast as its workers go, each look
    /// taking all that arrived.
    fn pace(&mut self, paced: bool);
}

/// How many outcomes a look at a paced call takes at most (the chunks that arrived, up to the
/// first that reaches it): the rest wait in the engine, which holds the workers back, instead
/// of in one ever longer list of Python values while the workers keep pace with the look.
const HAND_OUT: usize = 4096;

/// A task's outcome for Python: its value, or its failure's tuple (see [`failure`]).
pub(crate) enum Outcome<'py> {
    Value(Bound<'py, PyAny>),
    Failed(Bound<'py, PyTuple>),
}

struct Tap<V> {
    handle: Option<Handle<parallel::plumbing::Ended>>,
    ended: Option<parallel::plumbing::Ended>,
    arrivals: Arrivals<V>,
    kept: std::collections::VecDeque<Arrived<V>>,
    /// How many outcomes `kept` holds.
    kept_tasks: usize,
    /// At most this many outcomes are kept at once (`usize::MAX`: unpaced, all that arrived).
    keep: usize,
}

impl<V> Tap<V> {
    fn keep(&mut self, arrived: Arrived<V>) {
        self.kept_tasks += arrived.len;
        self.kept.push_back(arrived);
    }

    /// Keeps what else arrived, up to `keep`.
    fn keep_arrived(&mut self) {
        while self.kept_tasks < self.keep {
            match self.arrivals.try_next() {
                Some(more) => self.keep(more),
                None => break,
            }
        }
    }
}

impl<V: IntoValue> Tapped for Tap<V> {
    fn wait_arrival(&mut self, timeout: Duration) -> bool {
        match self.arrivals.next_timeout(timeout) {
            Some(arrived) => {
                self.keep(arrived);
                self.keep_arrived();
                true
            }
            None => false,
        }
    }

    fn take<'py>(
        &mut self,
        py: Python<'py>,
        values: &Values,
        most: usize,
        sink: &mut dyn FnMut(usize, Outcome<'py>) -> PyResult<()>,
    ) -> PyResult<usize> {
        self.keep_arrived();
        let mut loads = values.loads(py);
        let mut taken = 0;
        while taken < most {
            let Some(arrived) = self.kept.pop_front() else { break };
            self.kept_tasks -= arrived.len;
            taken += arrived.len;
            for (index, outcome) in arrived.into_outcomes() {
                match outcome {
                    // Each value's bytes are freed as soon as it is read.
                    Ok(value) => sink(index, Outcome::Value(value.into_value(py, loads.as_mut())?))?,
                    Err(failed) => sink(index, Outcome::Failed(failure(py, &failed)?))?,
                }
            }
        }
        Ok(taken)
    }

    fn ended(&mut self) -> Option<parallel::plumbing::Ended> {
        if self.ended.is_none() && self.handle.as_ref().is_some_and(Handle::is_finished) {
            self.ended = self.handle.take().map(Handle::wait);
        }
        self.ended.clone()
    }

    fn pace(&mut self, paced: bool) {
        if paced {
            self.keep = HAND_OUT;
            self.arrivals.pace();
        } else {
            self.keep = usize::MAX;
            self.arrivals.unpace();
        }
    }
}

fn ended(py: Python<'_>, status: &str, values: Py<PyAny>, failures: Bound<'_, PyList>) -> PyResult<Ended> {
    Ok(PyTuple::new(py, [status.into_pyobject(py)?.into_any().unbind(), values, failures.into_any().unbind()])?
        .unbind())
}

/// A failed task for Python: `(index, kind, message, signal, code, error, attempts)`, where `error` is
/// the exception (threads), its pickled bytes (processes) or `None`.
fn failure<'py>(py: Python<'py>, failed: &FailedTask) -> PyResult<Bound<'py, PyTuple>> {
    let (kind, signal, code) = kind_of(failed.kind());
    let error = error_of(py, failed.error::<PyErr>(), failed.error::<Vec<u8>>());
    (failed.index(), kind, failed.message(), signal, code, error, failed.attempts()).into_pyobject(py)
}

/// The values of a call as they arrive, in place: a list of `tasks` slots, each filled when
/// its task's value arrives (a failed task's stays `None`), and the failures.
struct Assembly {
    list: Py<PyList>,
    failures: Py<PyList>,
}

/// A call in flight: `wait(timeout)` returns `(status, values, failures)` once it has ended
/// (or `None` past `timeout`), where `status` is `"done"` (values in order, `None` where a
/// task failed: see failures), `"failed"` (strict: the first failure), `"timeout"` (strict:
/// `values` is how many finished) or `"cancelled"`. While it waits, the values that arrived
/// are made Python values and put in their place: most of that work is done by the time the
/// last task ends.
#[pyclass(module = "parallel._parallel", name = "Call")]
pub(crate) struct Call {
    /// The outcomes arriving: held by the thread that waits (or streams) only. Progress,
    /// cancel and `done` go through `observer`, never waiting for it.
    tap: Mutex<Box<dyn Tapped>>,
    observer: Observer,
    /// How many tasks the call has, if known at its start (not for a streamed input).
    tasks: Option<usize>,
    /// A call streamed from an iterator: the items in flight, and the iterator's exception.
    stream: Option<Streamed>,
    /// The values put in place so far (made at the first `wait`), until the call has ended.
    assembly: Mutex<Option<Assembly>>,
    /// How the call ended, once a `wait` saw it: its Python values, or the error of making
    /// them (a value `loads` could not read), raised again by every later `wait`.
    ended: Mutex<Option<PyResult<Ended>>>,
    /// Outcomes were handed out by `next_outcomes`: `wait` has no values to give.
    streamed: std::sync::atomic::AtomicBool,
    /// The call runs at the pace `next_outcomes` takes its outcomes (see [`Tapped::pace`]).
    paced: std::sync::atomic::AtomicBool,
    program: Option<Program>,
    values: Values,
}

impl Call {
    /// Cancels the call (as `cancel` from Python).
    pub(crate) fn stop(&self) {
        self.observer.cancel();
    }

    /// The call on `handle`, whose `tasks` outcomes arrive at `arrivals`.
    pub(crate) fn new<V: IntoValue>(
        parts: (Handle<parallel::plumbing::Ended>, Arrivals<V>),
        tasks: usize,
        program: Option<Program>,
        values: Values,
    ) -> Self {
        Call::make(parts, Some(tasks), None, program, values)
    }

    /// The call on `handle` of tasks streamed from an iterator (see [`crate::stream`]): a
    /// failed task's parameters come from `stream`, and the iterator's exception, if it raised
    /// one, is raised once every task read before it has its outcome.
    pub(crate) fn streamed<V: IntoValue>(
        parts: (Handle<parallel::plumbing::Ended>, Arrivals<V>),
        program: Option<Program>,
        values: Values,
        stream: Streamed,
    ) -> Self {
        Call::make(parts, None, Some(stream), program, values)
    }

    fn make<V: IntoValue>(
        (handle, arrivals): (Handle<parallel::plumbing::Ended>, Arrivals<V>),
        tasks: Option<usize>,
        stream: Option<Streamed>,
        program: Option<Program>,
        values: Values,
    ) -> Self {
        let observer = handle.observer();
        let tap = Tap {
            handle: Some(handle),
            ended: None,
            arrivals,
            kept: std::collections::VecDeque::new(),
            kept_tasks: 0,
            keep: usize::MAX,
        };
        Call {
            tap: Mutex::new(Box::new(tap)),
            observer,
            tasks,
            stream,
            assembly: Mutex::new(None),
            ended: Mutex::new(None),
            streamed: std::sync::atomic::AtomicBool::new(false),
            paced: std::sync::atomic::AtomicBool::new(false),
            program,
            values,
        }
    }

    /// The tap, once no other thread holds it — waiting without the GIL, which the holder may
    /// need to let go of it.
    fn hold_tap(&self, py: Python<'_>) -> std::sync::MutexGuard<'_, Box<dyn Tapped>> {
        loop {
            match self.tap.try_lock() {
                Ok(tap) => return tap,
                Err(std::sync::TryLockError::Poisoned(poisoned)) => return poisoned.into_inner(),
                Err(std::sync::TryLockError::WouldBlock) => {}
            }
            py.detach(|| std::thread::sleep(Duration::from_millis(1)));
        }
    }

    /// Puts the outcomes that arrived in their place.
    fn absorb(&self, py: Python<'_>, tap: &mut dyn Tapped) -> PyResult<()> {
        let mut assembly = lock(&self.assembly);
        if assembly.is_none() {
            let list = self.values.list(py)?;
            if let Some(tasks) = self.tasks {
                list.call_method1("extend", (py.import("itertools")?.getattr("repeat")?.call1((py.None(), tasks))?,))?;
            }
            *assembly = Some(Assembly { list: list.unbind(), failures: PyList::empty(py).unbind() });
        }
        let assembly = assembly.as_ref().expect("made above");
        let (list, failures) = (assembly.list.bind(py), assembly.failures.bind(py));
        // Its length, kept here rather than asked of the list for each outcome (a call, under
        // the limited API); nothing else changes the list meanwhile.
        let mut len = list.len();
        self.take(py, tap, usize::MAX, &mut |index, outcome| {
            // A streamed call's list grows as its tasks arrive (in about their order).
            while len <= index {
                list.append(py.None())?;
                len += 1;
            }
            match outcome {
                Outcome::Value(value) => list.set_item(index, value),
                Outcome::Failed(failed) => failures.append(failed),
            }
        })?;
        Ok(())
    }

    /// The outcomes kept, taken (as [`Tapped::take`]); a streamed call's failures carry their
    /// task's item as a seventh field, and the items of the tasks that succeeded are let go of.
    fn take<'py>(
        &self,
        py: Python<'py>,
        tap: &mut dyn Tapped,
        most: usize,
        sink: &mut dyn FnMut(usize, Outcome<'py>) -> PyResult<()>,
    ) -> PyResult<usize> {
        let Some(stream) = &self.stream else {
            return tap.take(py, &self.values, most, sink);
        };
        let mut outcomes = Vec::new();
        let taken = tap.take(py, &self.values, most, &mut |index, outcome| {
            outcomes.push((index, outcome));
            Ok(())
        })?;
        let items = stream.claim(outcomes.iter().map(|(index, o)| (*index, matches!(o, Outcome::Failed(_)))));
        for ((index, outcome), item) in outcomes.into_iter().zip(items) {
            match outcome {
                Outcome::Value(value) => sink(index, Outcome::Value(value))?,
                Outcome::Failed(failed) => {
                    let item = item.map_or_else(|| py.None().into_bound(py), |item| item.into_bound(py));
                    let fields: Vec<_> = failed.iter().chain(std::iter::once(item)).collect();
                    sink(index, Outcome::Failed(PyTuple::new(py, fields)?))?
                }
            }
        }
        Ok(taken)
    }

    /// The streamed input's exception, if it raised one (taken: raised once).
    fn input_error(&self) -> Option<PyErr> {
        self.stream.as_ref().and_then(Streamed::take_error)
    }

    /// How the call ended, in Python values, once its every outcome is in place.
    fn finish(&self, py: Python<'_>, how: parallel::plumbing::Ended) -> PyResult<Ended> {
        let none = py.None();
        let assembly = lock(&self.assembly).take();
        match how {
            parallel::plumbing::Ended::Done => {
                let (list, failures) = match assembly {
                    Some(Assembly { list, failures }) => (list.into_any(), failures.into_bound(py)),
                    None => (self.values.list(py)?.into_any().unbind(), PyList::empty(py)),
                };
                if failures.len() > 1 {
                    failures.call_method0("sort")?; // in input order (tuples start with the index)
                }
                ended(py, "done", list, failures)
            }
            parallel::plumbing::Ended::Failed(failed) => {
                let mut first = failure(py, &failed)?;
                if let Some(stream) = &self.stream {
                    // Its item: with its failure if that arrived (and was put in place), else
                    // still in flight.
                    let arrived = assembly.and_then(|a| {
                        let failures = a.failures.into_bound(py);
                        failures
                            .iter()
                            .find(|f| f.get_item(0).and_then(|i| i.extract::<usize>()).ok() == Some(failed.index()))
                    });
                    first = match arrived {
                        Some(arrived) => arrived.cast_into::<PyTuple>()?,
                        None => {
                            let item = stream.claim(std::iter::once((failed.index(), true))).pop().flatten();
                            let item = item.map_or_else(|| py.None().into_bound(py), |item| item.into_bound(py));
                            let fields: Vec<_> = first.iter().chain(std::iter::once(item)).collect();
                            PyTuple::new(py, fields)?
                        }
                    };
                }
                ended(py, "failed", none, PyList::new(py, [first])?)
            }
            parallel::plumbing::Ended::TimedOut { finished } => {
                ended(py, "timeout", finished.into_pyobject(py)?.into_any().unbind(), PyList::empty(py))
            }
            parallel::plumbing::Ended::Cancelled => ended(py, "cancelled", none, PyList::empty(py)),
        }
    }
}

fn lock<T: ?Sized>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

#[pymethods]
impl Call {
    /// Waits for the call to end, at most `timeout` seconds if given (0: only looks), with the
    /// GIL released but while values arrive, which are then put in place; Ctrl-C (any
    /// exception a signal handler raises) cancels the call and kills its worker processes.
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
            if self.streamed.load(std::sync::atomic::Ordering::Acquire) {
                return Err(PyRuntimeError::new_err(
                    "this call's results were handed out by as_completed(): they are not kept for results()",
                ));
            }
            let slice = until.map_or(POLL, |u| u.saturating_duration_since(Instant::now()).min(POLL));
            // Another Python thread may hold the tap: this one waits its turn.
            let mut tap = self.hold_tap(py);
            let how = tap.ended();
            // Done: every outcome has arrived. Else, whatever arrived is put in place.
            if let Err(err) = self.absorb(py, &mut **tap) {
                self.observer.cancel();
                *lock(&self.ended) = Some(Err(err.clone_ref(py)));
                return Err(err);
            }
            if let Some(how) = how {
                drop(tap);
                // The input raised: the call raises that, once the tasks read before it ended.
                let ended = match self.input_error() {
                    Some(err) => Err(err),
                    None => self.finish(py, how),
                };
                let kept = match &ended {
                    Ok(ended) => Ok(ended.clone_ref(py)),
                    Err(err) => Err(err.clone_ref(py)),
                };
                *lock(&self.ended) = Some(kept);
                return ended.map(Some);
            }
            let waiting = &mut **tap;
            py.detach(|| waiting.wait_arrival(slice));
            drop(tap);
            let finished = self.observer.is_finished();
            if let Err(interrupted) = py.check_signals() {
                self.cancel();
                return Err(interrupted);
            }
            if until.is_some_and(|u| Instant::now() >= u) && !finished {
                return Ok(None);
            }
        }
    }

    /// Waits for the call to end, at most `timeout` seconds if given, as `wait` does, but
    /// without needing its values: for a call whose outcomes were handed out by
    /// `next_outcomes` too (which then no longer hold it back: see `unpace`). `True` once it
    /// has ended.
    #[pyo3(signature = (timeout=None))]
    fn join(&self, py: Python<'_>, timeout: Option<f64>) -> PyResult<bool> {
        if !self.streamed.load(std::sync::atomic::Ordering::Acquire) {
            return Ok(self.wait(py, timeout)?.is_some());
        }
        self.unpace(py);
        let until = deadline("timeout", timeout)?.map(|t| Instant::now() + t);
        loop {
            if self.observer.is_finished() {
                return Ok(true);
            }
            if until.is_some_and(|u| Instant::now() >= u) {
                return Ok(false);
            }
            let slice = until.map_or(POLL, |u| u.saturating_duration_since(Instant::now()).min(POLL));
            py.detach(|| std::thread::sleep(slice.min(Duration::from_millis(5))));
            if let Err(interrupted) = py.check_signals() {
                self.cancel();
                return Err(interrupted);
            }
        }
    }

    /// The outcomes that arrived since the last look, waiting up to `timeout` seconds for the
    /// first (without the GIL): a list of `(index, ok, value)`, `value` the task's value if
    /// `ok`, else its failure's tuple; `None` once the call has ended and every outcome was
    /// handed out. The outcomes handed out are not kept: `wait` then has no values to give.
    ///
    /// From the first look on, the call runs at the pace its outcomes are taken here (a few
    /// thousand at a look): while a few batches' worth of them wait (the engine's bound: see
    /// `Arrivals::pace`), no task starts and a streamed input is not read further, until
    /// `unpace` or `join`.
    #[pyo3(signature = (timeout=None))]
    fn next_outcomes<'py>(&self, py: Python<'py>, timeout: Option<f64>) -> PyResult<Option<Bound<'py, PyList>>> {
        self.streamed.store(true, std::sync::atomic::Ordering::Release);
        let wait = deadline("timeout", timeout)?.unwrap_or(POLL).min(POLL);
        let mut tap = self.hold_tap(py);
        if !self.paced.swap(true, std::sync::atomic::Ordering::AcqRel) {
            tap.pace(true);
        }
        let over = tap.ended().is_some();
        let list = PyList::empty(py);
        let mut hand_out = |index: usize, outcome: Outcome<'py>| match outcome {
            Outcome::Value(value) => list.append((index, true, value)),
            Outcome::Failed(failed) => list.append((index, false, failed)),
        };
        let mut taken = self.take(py, &mut **tap, MOST_A_LOOK, &mut hand_out)?;
        if taken == 0 && !over {
            let waiting = &mut **tap;
            py.detach(|| waiting.wait_arrival(wait));
            taken = self.take(py, &mut **tap, MOST_A_LOOK, &mut hand_out)?;
        }
        if taken == 0 && over {
            // Every outcome was handed out: the input's exception, if it raised one, is next.
            return match self.input_error() {
                Some(err) => Err(err),
                None => Ok(None),
            };
        }
        Ok(Some(list))
    }

    /// The call no longer waits for `next_outcomes` to take its outcomes (its consumer left):
    /// it runs as fast as its workers go, its outcomes kept until taken, as before it was
    /// streamed. The next `next_outcomes` paces it again.
    fn unpace(&self, py: Python<'_>) {
        if self.paced.swap(false, std::sync::atomic::Ordering::AcqRel) {
            self.hold_tap(py).pace(false);
        }
    }

    /// `(done, failed, total)`: how many tasks have an outcome, how many of them failed, of
    /// how many (`None` while a streamed input is not exhausted).
    fn progress(&self) -> (usize, usize, Option<usize>) {
        let p = self.observer.progress();
        (p.done, p.failed, p.total.or(self.tasks))
    }

    /// Cancels the call: tasks not started never run; with processes, the workers running
    /// its tasks are killed.
    fn cancel(&self) {
        self.observer.cancel();
        if let Some(program) = &self.program {
            program.kill_workers();
        }
    }

    /// `True` once the call has ended.
    fn done(&self) -> bool {
        lock(&self.ended).is_some() || self.observer.is_finished()
    }
}
