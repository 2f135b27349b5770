//! What one call runs per task, with the user's types erased down to parameters in, value out:
//! `map` (a value), `try_map` (`Err` is a failure) and `par` (a boxed closure).

use std::fmt::Display;
use std::marker::PhantomData;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Arc;

use crate::call::TaskFn;
use crate::failure::{FailureKind, Fault};
use crate::report::Report;

/// The per-task work of one call: what the engine runs for each task, with the user's types
/// erased down to parameters in, value out. The crate's own calls (`map`, `try_map`, `par`, the
/// process executor) are `Work`s; a binding to another language implements it to run its own
/// functions on the engine with [`Thread::run`](crate::Thread::run).
///
/// ```
/// use parallel::plumbing::{Fault, Work};
/// use parallel::FailureKind;
///
/// /// Parses text; keeps the text for a failure report.
/// struct Parse;
/// impl Work for Parse {
///     type Params = String;
///     type Out = i64;
///     type Kept = String;
///     fn keep(&self, params: &String) -> String { params.clone() }
///     fn describe(&self, kept: &String) -> String { format!("{kept:?}") }
///     fn run(&self, params: String) -> Result<i64, Fault> {
///         params.parse().map_err(|e| Fault::new(FailureKind::Error, format!("{e}")).with_error(e))
///     }
/// }
///
/// let results = parallel::thread().silent().run(Parse, vec!["1".to_owned(), "x".to_owned()]);
/// assert_eq!(results[0], Ok(1));
/// assert!(results[1].as_ref().unwrap_err().error::<std::num::ParseIntError>().is_some());
/// ```
pub trait Work: Send + Sync {
    /// One task's parameters.
    type Params: Send;
    /// One task's value.
    type Out: Send;
    /// What is kept of the parameters while they are moved into the call, for a failure report.
    type Kept: Send;

    /// What to keep of a task's parameters before they move into [`run`](Self::run).
    fn keep(&self, params: &Self::Params) -> Self::Kept;
    /// A failed task's parameters, for its report, from what was kept.
    fn describe(&self, kept: &Self::Kept) -> String;
    /// A task's parameters, for the report of a task that never ran.
    fn describe_params(&self, params: &Self::Params) -> String {
        self.describe(&self.keep(params))
    }
    /// Runs one task; `Err` says how it failed. A panic is caught and fails the task alone.
    fn run(&self, params: Self::Params) -> Result<Self::Out, Fault>;

    /// A failed task's parameters again, from what was kept of them, for a retry (see
    /// [`Executor::retries`](crate::Executor::retries)); `None` (the default) if they cannot
    /// be had again, and the task is not retried.
    fn again(&self, kept: &Self::Kept) -> Option<Self::Params> {
        let _ = kept;
        None
    }

    /// `true` if [`run_many`](Self::run_many) does better than one task at a time.
    fn batched(&self) -> bool {
        false
    }

    /// `true` if each batch is one round trip to another machine (a task of a cluster, which
    /// reports its tasks' outcomes together when it ends): its batches then aim at 0.2–1 s
    /// instead of milliseconds, and a call with a deadline still runs each batch whole
    /// through [`run_many`](Self::run_many) rather than one task at a time. At the deadline
    /// the tasks of a batch in flight fail as running when it passed, and
    /// [`stop_from`](Self::stop_from)`(0)` tells the work, which stops its batches there. Only
    /// looked at when [`batched`](Self::batched) is `true`.
    ///
    /// ```
    /// use parallel::plumbing::{Fault, Work};
    ///
    /// /// Each batch is "sent away" at once (here: run in place), answered as a whole.
    /// struct Away;
    /// impl Work for Away {
    ///     type Params = u64;
    ///     type Out = u64;
    ///     type Kept = u64;
    ///     fn keep(&self, x: &u64) -> u64 { *x }
    ///     fn describe(&self, x: &u64) -> String { x.to_string() }
    ///     fn run(&self, x: u64) -> Result<u64, Fault> { Ok(x * 2) }
    ///     fn batched(&self) -> bool { true }
    ///     fn remote_batches(&self) -> bool { true }
    ///     fn run_many(&self, _first: usize, xs: Vec<u64>, _stopped: &dyn Fn() -> bool) -> Vec<Result<u64, Fault>> {
    ///         xs.into_iter().map(|x| Ok(x * 2)).collect()
    ///     }
    /// }
    ///
    /// let doubled = parallel::thread().timeout(std::time::Duration::from_secs(60)).run(Away, 0..1_000u64).unwrap();
    /// assert_eq!(doubled[999], 1_998);
    /// ```
    fn remote_batches(&self) -> bool {
        false
    }

    /// How long the batch this thread's last [`run_many`](Self::run_many) ran took where it
    /// ran, if the work knows it better than the engine's clock around the call: a cluster's
    /// task, whose wait in the cluster's queue behind another batch is no part of its size.
    /// The next batch is sized from it. `None` (the default): the time the call took.
    fn batch_took(&self) -> Option<std::time::Duration> {
        None
    }

    /// Runs a batch of tasks, the call's tasks from index `first` on; one outcome per task, in
    /// order. A task must not start once `stopped()` says `true` (the call was cancelled or
    /// failed): it is then [`Fault::cancelled`]. A work that sends a whole batch elsewhere at
    /// once (to a worker process) looks before sending it, and passes on later stops with
    /// [`stop_from`](Self::stop_from).
    fn run_many(
        &self,
        first: usize,
        params: Vec<Self::Params>,
        stopped: &dyn Fn() -> bool,
    ) -> Vec<Result<Self::Out, Fault>>
    where
        Self: Sized,
    {
        let _ = first;
        params.into_iter().map(|p| if stopped() { Err(Fault::cancelled()) } else { run_one(self, p) }).collect()
    }

    /// The call's tasks from index `index` on must not start: it was cancelled (`0`) or a
    /// strict call's task `index - 1` failed. Called on the thread that stops the call, before
    /// `cancel` returns. A work whose batches already went elsewhere (to a worker process) tells
    /// them here, so their tasks not yet started never start; others need do nothing, as the
    /// engine looks at the stop before each task it hands out.
    fn stop_from(&self, index: usize) {
        let _ = index;
    }

    /// Called by the thread about to run a task: how another thread can stop that task, if
    /// it can be stopped (a process worker can be killed; a thread cannot).
    fn interrupt(&self) -> Option<Interrupt> {
        None
    }

    /// Called by the thread about to run a task, after [`interrupt`](Self::interrupt): how the
    /// driver learns when the task really begins, if its worker says so. A Python worker first
    /// loads what the task needs — its function and the call's extras, importing their modules
    /// — which is no part of the task: its `task_timeout` counts from when the worker began to
    /// run it. `None` (the default): the task begins when its thread hands it over.
    fn start_probe(&self) -> Option<StartProbe> {
        None
    }
}

/// Stops a running task from another thread (kills the process running it).
pub type Interrupt = Box<dyn FnOnce() + Send>;

/// Where a task handed to a worker stands, as the worker says: see [`Work::start_probe`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Start {
    /// The worker is loading what the task needs (its function, the call's extras): the
    /// task's `task_timeout` does not count yet.
    Loading,
    /// The task began to run at this instant: its `task_timeout` counts from here.
    Began(std::time::Instant),
}

/// Asks the worker of one task where the task stands; `None` while the worker has not said
/// (the task's `task_timeout` then counts from when it was handed over).
pub type StartProbe = Box<dyn Fn() -> Option<Start> + Send>;

/// The parameter-related items of a `Work` whose parameters `A` are kept by cloning them and
/// described by their `Debug`.
macro_rules! cloned_params {
    ($out:ty) => {
        type Params = A;
        type Out = $out;
        type Kept = A;

        fn keep(&self, params: &A) -> A {
            params.clone()
        }
        fn describe(&self, kept: &A) -> String {
            format!("{kept:?}")
        }
        fn describe_params(&self, params: &A) -> String {
            format!("{params:?}")
        }
        fn again(&self, kept: &A) -> Option<A> {
            Some(kept.clone())
        }
    };
}
pub(crate) use cloned_params;

/// The parameter-related items of a `Work` whose parameters `A` are kept and described as the
/// function's marker `K` says ([`Report`]).
macro_rules! reported_params {
    ($out:ty) => {
        type Params = A;
        type Out = $out;
        type Kept = <K as Report<A, R>>::Kept;

        fn keep(&self, params: &A) -> Self::Kept {
            K::keep(params)
        }
        fn describe(&self, kept: &Self::Kept) -> String {
            K::describe(kept)
        }
        fn describe_params(&self, params: &A) -> String {
            K::describe_params(params)
        }
        fn again(&self, kept: &Self::Kept) -> Option<A> {
            K::again(kept)
        }
    };
}

/// `map`: the function's value is the task's value. `M` is the function's [`TaskFn`] marker
/// and its [`Report`] marker.
pub struct MapWork<F, E, M, A> {
    f: F,
    extras: Arc<E>,
    /// What each thread runs once before its first task (`Thread::init`).
    init: Option<fn()>,
    marker: PhantomData<fn(A) -> M>,
}

impl<F, E, M, A> MapWork<F, E, M, A> {
    pub(crate) fn new(f: F, extras: Arc<E>) -> Self {
        MapWork { f, extras, init: None, marker: PhantomData }
    }

    /// The same, running `init` once per thread first.
    pub(crate) fn init(mut self, init: Option<fn()>) -> Self {
        self.init = init;
        self
    }

    /// Runs the initializer on this thread if it has not run it yet.
    #[inline]
    fn initialized(&self) -> Result<(), Fault> {
        match self.init {
            None => Ok(()),
            Some(init) => run_init(init),
        }
    }
}

thread_local! {
    /// The initializers this thread has run (`Thread::init`), by address.
    static INITIALIZED: std::cell::RefCell<Vec<usize>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// Runs `init` unless this thread ran it already; a panic in it is the task's failure.
#[cold]
fn run_init(init: fn()) -> Result<(), Fault> {
    let id = init as usize;
    if INITIALIZED.with(|done| done.borrow().contains(&id)) {
        return Ok(());
    }
    catch_unwind(init).map_err(|payload| {
        Fault::new(FailureKind::Panicked, format!("the initializer panicked: {}", panic_message(payload)))
    })?;
    INITIALIZED.with(|done| done.borrow_mut().push(id));
    Ok(())
}

impl<F, E, K, R, A> Work for MapWork<F, E, (K, R), A>
where
    F: TaskFn<A, E, K>,
    F::Output: Send,
    K: Report<A, R>,
    A: Send,
    E: Send + Sync,
{
    reported_params!(F::Output);

    fn run(&self, params: A) -> Result<F::Output, Fault> {
        self.initialized()?;
        Ok(self.f.call(params, &self.extras))
    }
}

/// `try_map`: `Ok(value)` is the task's value, `Err(e)` a failure with `e`'s message.
pub struct TryMapWork<F, E, M, A, T, X>(MapWork<F, E, M, A>, PhantomData<fn() -> (T, X)>);

impl<F, E, M, A, T, X> TryMapWork<F, E, M, A, T, X> {
    pub(crate) fn new(f: F, extras: Arc<E>) -> Self {
        TryMapWork(MapWork::new(f, extras), PhantomData)
    }

    /// The same, running `init` once per thread first.
    pub(crate) fn init(self, init: Option<fn()>) -> Self {
        TryMapWork(self.0.init(init), PhantomData)
    }
}

impl<F, E, K, R, A, T, X> Work for TryMapWork<F, E, (K, R), A, T, X>
where
    F: TaskFn<A, E, K, Output = Result<T, X>>,
    T: Send,
    X: Display + Send + Sync + 'static,
    K: Report<A, R>,
    A: Send,
    E: Send + Sync,
{
    reported_params!(T);

    fn run(&self, params: A) -> Result<T, Fault> {
        self.0.initialized()?;
        let value = self.0.f.call(params, &self.0.extras);
        value.map_err(|e| Fault::new(FailureKind::Error, e.to_string()).with_error(e))
    }
}

/// Runs one task, catching a panic.
pub(crate) fn run_one<W: Work>(work: &W, params: W::Params) -> Result<W::Out, Fault> {
    match catch_unwind(AssertUnwindSafe(|| work.run(params))) {
        Ok(outcome) => outcome,
        Err(payload) => Err(Fault::new(FailureKind::Panicked, panic_message(payload))),
    }
}

/// `Debug` of what was kept of a task's parameters; a `Debug` that panics gives a placeholder.
pub(crate) fn describe<W: Work>(work: &W, kept: &W::Kept) -> String {
    catch_unwind(AssertUnwindSafe(|| work.describe(kept))).unwrap_or_else(unprintable)
}

/// `Debug` of a task's parameters; a `Debug` that panics gives a placeholder.
pub(crate) fn describe_params<W: Work>(work: &W, params: &W::Params) -> String {
    catch_unwind(AssertUnwindSafe(|| work.describe_params(params))).unwrap_or_else(unprintable)
}

fn unprintable(payload: Box<dyn std::any::Any + Send>) -> String {
    format!("<parameters whose Debug panicked: {}>", panic_message(payload))
}

/// The message a panic was raised with.
pub(crate) fn panic_message(payload: Box<dyn std::any::Any + Send>) -> String {
    let message = if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_owned()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "a panic with a payload that is not a string".to_owned()
    };
    // Dropping a payload can itself panic: drop it where that is caught, and forget only a
    // second payload raised that way.
    if let Err(second) = catch_unwind(AssertUnwindSafe(move || drop(payload))) {
        std::mem::forget(second);
    }
    message
}
