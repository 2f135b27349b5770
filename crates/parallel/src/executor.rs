//! An executor and its options, written once for every backend: [`Thread`](crate::Thread) is
//! an [`Executor`] on the [`Threads`](crate::plumbing::Threads) backend,
//! [`Process`](crate::Process) one on [`Processes`](crate::plumbing::Processes).
//!
//! The options (`max_workers`, `timeout`, `task_timeout`, `silent`, `extras`) and the calls
//! (`map`, `try_map`, their `async_` forms, `par`) live here, once. What differs between
//! backends — how a function's tasks run, which extras can reach them, how many workers by
//! default — is the [`Backend`] trait and the [`Maps`] and [`TryMaps`] traits a backend
//! implements. A new executor is a new backend: a folder of its own that implements them, and
//! no change here or in the engine.
//!
//! An executor can also hold the function it will call — `square.thread()` from the
//! [prelude](crate::prelude) — and then its `map` takes only the inputs: that is a
//! [`With`](crate::prelude::With).

use std::marker::PhantomData;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::call::TaskFn;
use crate::completed::AsCompleted;
use crate::engine::driver::{call, spawn_call, spawn_tapped, spawn_tapped_to, Plan};
use crate::engine::retry::{Retry, RetryIf};
use crate::engine::tap::{Arrivals, Ended};
use crate::engine::work::Work;
use crate::handle::Handle;
use crate::inputs::Inputs;
use crate::mode::{Mode, Silent, Strict};
use crate::par::{Par, Task};
use crate::plumbing::Fault;
use crate::progress::{Progress, Watch};

/// An executor with its options: made by [`thread()`](crate::thread()) or
/// [`process()`](crate::process()), configured fluently, then used for any number of calls.
///
/// `B` is the [`Backend`] (where tasks run), `E` the type of the call's
/// [extras](Self::extras), `M` its [mode](crate::traits::Mode), and `F` the function it holds, if any
/// (`()` for none; see [`With`](crate::prelude::With)).
///
/// ```
/// use std::time::Duration;
///
/// let pool = parallel::thread().max_workers(5).timeout(Duration::from_secs(10));
/// let squares = pool.map(|x: u64| x * x, 1..=4).unwrap();
/// assert_eq!(squares, vec![1, 4, 9, 16]);
/// ```
#[derive(Debug)]
pub struct Executor<B, E = (), M = Strict, F = ()> {
    backend: B,
    max_workers: Option<usize>,
    timeout: Option<Duration>,
    task_timeout: Option<Duration>,
    extras: Arc<E>,
    mode: PhantomData<M>,
    function: F,
    /// What watches each call: progress callbacks, a bar.
    watch: Watch,
    /// Which failed tasks run again.
    retry: Option<Retry>,
}

impl<B: Clone, E, M, F: Clone> Clone for Executor<B, E, M, F> {
    fn clone(&self) -> Self {
        Executor {
            backend: self.backend.clone(),
            extras: self.extras.clone(),
            function: self.function.clone(),
            watch: self.watch.clone(),
            retry: self.retry.clone(),
            mode: PhantomData,
            ..*self
        }
    }
}

/// Where an executor's tasks run: the pool's threads, worker processes, and later a cluster.
/// Implemented by each executor's backend type; [`Maps`] and [`TryMaps`] say which functions
/// it runs.
pub trait Backend: Sized {
    /// How many tasks of a call run at once when `max_workers` is not set.
    fn default_workers(&self) -> usize;

    /// The work of a `par` call: each task is its own closure.
    type ParWork<V: Send + 'static>: Work<Params = Task<V>, Out = V> + 'static;

    /// The work of a `par` call of values `V`.
    fn par_work<V: Send + 'static>(&self) -> Self::ParWork<V>;
}

/// A backend that runs `F` — called with parameters `A` and extras `E` — as the tasks of a
/// `map`; `K` is the function's [`TaskFn`] marker and `R` how a failure reports its
/// parameters ([`Report`](crate::traits::Report)).
#[diagnostic::on_unimplemented(
    message = "this function cannot be mapped on `{Self}`",
    label = "not a function of parameters `{A}` and extras `{E}` this backend runs",
    note = "threads run functions that are `Send + Sync + 'static` with `Clone + Debug` parameters (or `unreported(f)`); processes also need `fn` items or closures that capture nothing, and serde parameters, values and extras"
)]
pub trait Maps<F: TaskFn<A, E, K>, A, E, K, R>: Backend {
    /// The work of one call.
    type Work: Work<Params = A, Out = F::Output> + 'static;

    /// The work of a call of `f` with `extras`; `silent`: it goes on after a failure (the
    /// call is silent, or retries failed tasks), else it may stop at the first.
    fn map_work(&self, f: F, extras: &Arc<E>, silent: bool) -> Self::Work;
}

/// A backend that runs `F`, a function returning `Result<T, X>`, as the tasks of a
/// `try_map`: an `Err` fails its task with the error's `Display` as message.
#[diagnostic::on_unimplemented(
    message = "this function cannot be try-mapped on `{Self}`",
    label = "not a function of parameters `{A}` and extras `{E}` returning `Result<{T}, {X}>` this backend runs",
    note = "see `Maps`: the same holds, and the error type must be `Display`"
)]
pub trait TryMaps<F: TaskFn<A, E, K, Output = Result<T, X>>, A, E, K, R, T, X>: Backend {
    /// The work of one call.
    type Work: Work<Params = A, Out = T> + 'static;

    /// The work of a call of `f` with `extras`; `silent` as for [`Maps::map_work`].
    fn try_map_work(&self, f: F, extras: &Arc<E>, silent: bool) -> Self::Work;
}

/// A backend whose tasks can receive extras of type `X`.
#[diagnostic::on_unimplemented(
    message = "`{X}` cannot be the extras of `{Self}`",
    label = "not extras this executor can pass",
    note = "the thread executor's extras are `Send + Sync + 'static`; the process executor's are also `Serialize` (they cross to the worker processes)"
)]
pub trait Carries<X>: Backend {}

/// The function an executor holds: see [`With`](crate::prelude::With).
#[derive(Debug, Clone, Copy)]
pub struct Holds<F>(pub(crate) F);

/// What `F` returns when called with `A` and extras `E`.
type Out<F, A, E, K> = <F as TaskFn<A, E, K>>::Output;

impl<B: Backend> Executor<B> {
    /// An executor on `backend` with default options: strict, no timeouts, no extras.
    pub(crate) fn new(backend: B) -> Self {
        Executor {
            backend,
            max_workers: None,
            timeout: None,
            task_timeout: None,
            extras: Arc::new(()),
            mode: PhantomData,
            function: (),
            watch: Watch::default(),
            retry: None,
        }
    }
}

impl<B: Backend, E, M: Mode, F> Executor<B, E, M, F> {
    /// At most `n` tasks of a call run at once: one pool thread each, or one worker process
    /// each.
    ///
    /// # Panics
    /// If `n` is 0.
    ///
    /// ```
    /// let out = parallel::thread().max_workers(100).map(|x: u32| x + 1, 0..1000).unwrap();
    /// assert_eq!(out.len(), 1000);
    /// let out = parallel::process().max_workers(2).map(|x: u32| x + 1, 0..10).unwrap();
    /// assert_eq!(out[9], 10);
    /// ```
    pub fn max_workers(mut self, n: usize) -> Self {
        assert!(n > 0, "max_workers must be at least 1, got 0");
        self.max_workers = Some(n);
        self
    }

    /// A deadline for the whole call, counted from its start. When it passes the call returns
    /// at once: [`Error::Timeout`](crate::Error::Timeout), or in silent mode a failure of kind
    /// [`TimedOut`](crate::FailureKind::TimedOut) for every unfinished task. Tasks still
    /// running on threads are abandoned: they finish in the background and are never
    /// reported; worker processes still running tasks are killed.
    ///
    /// ```
    /// use std::time::Duration;
    /// let slow = |ms: u64| std::thread::sleep(Duration::from_millis(ms));
    /// let err = parallel::thread().timeout(Duration::from_millis(50)).map(slow, vec![0, 5_000]).unwrap_err();
    /// assert!(matches!(err, parallel::Error::Timeout { finished: 1, .. }));
    /// ```
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// A failed task runs again, up to `n` more times, until it succeeds: a retry is a new
    /// attempt after a reported failure — a panic, an `Err` of `try_map`, a crash of its worker
    /// process (it runs again on a new one), a `task_timeout` (its worker process is killed;
    /// on threads the late task is abandoned) — so a task that succeeds runs once. A task that
    /// still fails reports its last failure, and how many [`attempts`](crate::FailedTask::attempts)
    /// it had. Not retried: a task a cancel or the call's `timeout` stopped, and the tasks of
    /// `par` (each is a closure that runs once). See [`retry_if`](Self::retry_if) to
    /// retry only some failures.
    ///
    /// ```
    /// use std::sync::atomic::{AtomicU32, Ordering};
    /// static CALLS: AtomicU32 = AtomicU32::new(0);
    /// // Fails twice, then succeeds.
    /// let flaky = |x: u32| if CALLS.fetch_add(1, Ordering::SeqCst) < 2 { panic!("not yet") } else { x };
    /// assert_eq!(parallel::thread().retries(2).map(flaky, vec![7]).unwrap(), vec![7]);
    /// ```
    pub fn retries(mut self, n: u32) -> Self {
        let when = self.retry.take().and_then(|retry| retry.when);
        self.retry = Some(Retry { times: n, when });
        self
    }

    /// With [`retries`](Self::retries): only the failures for which `when` is `true` run
    /// again (a `when` that panics retries nothing).
    ///
    /// ```
    /// use parallel::FailureKind;
    /// let results = parallel::thread().silent().retries(3).retry_if(|fault| fault.kind != FailureKind::Panicked)
    ///     .map(|x: u32| if x == 0 { panic!("never retried") } else { x }, 0..2);
    /// assert_eq!(results[0].as_ref().unwrap_err().attempts(), 1);
    /// ```
    pub fn retry_if(mut self, when: impl Fn(&Fault) -> bool + Send + Sync + 'static) -> Self {
        let when: RetryIf = Arc::new(when);
        let times = self.retry.as_ref().map_or(0, |retry| retry.times);
        self.retry = Some(Retry { times, when: Some(when) });
        self
    }

    /// A limit for each task: a task that runs longer fails with kind
    /// [`TimedOut`](crate::FailureKind::TimedOut) and the other tasks go on. On threads, the
    /// late task's thread is abandoned and replaced, and tasks are handed out one at a time
    /// under this option; on processes, the late task's worker process is killed (and replaced
    /// for the next task).
    ///
    /// ```
    /// use std::time::Duration;
    /// let slow = |ms: u64| { std::thread::sleep(Duration::from_millis(ms)); ms };
    /// let results = parallel::thread().silent().task_timeout(Duration::from_millis(100)).map(slow, vec![1, 5_000, 2]);
    /// assert_eq!(results.succeeded(), vec![&1, &2]);
    /// assert_eq!(*results[1].as_ref().unwrap_err().kind(), parallel::FailureKind::TimedOut);
    /// ```
    pub fn task_timeout(mut self, timeout: Duration) -> Self {
        self.task_timeout = Some(timeout);
        self
    }

    /// Silent mode: the call returns [`Results`](crate::Results), a value or a
    /// [`FailedTask`](crate::FailedTask) per task, instead of stopping at the first failure.
    ///
    /// ```
    /// let results = parallel::thread().silent().map(|x: i32| 10 / x, vec![1, 0, 5]);
    /// assert_eq!(results.replace_failed(-1), vec![10, -1, 2]);
    /// ```
    pub fn silent(self) -> Executor<B, E, Silent, F> {
        let Executor { backend, max_workers, timeout, task_timeout, extras, function, watch, retry, .. } = self;
        Executor { backend, max_workers, timeout, task_timeout, extras, mode: PhantomData, function, watch, retry }
    }

    /// A value every task receives by reference as its function's last argument, shared by
    /// all tasks (never cloned). On processes it is encoded once per call and decoded by the
    /// worker for each task, so it must also be `Serialize`.
    ///
    /// ```
    /// struct Db { table: &'static str }
    /// fn store(url: &str, kind: &str, db: &Db) -> String { format!("{url} ({kind}) -> {}", db.table) }
    ///
    /// let out = parallel::thread().extras(Db { table: "temporary_webpages" })
    ///     .map(store, vec![("python.org", "json"), ("rmotr.com", "xml")]).unwrap();
    /// assert_eq!(out[1], "rmotr.com (xml) -> temporary_webpages");
    /// ```
    pub fn extras<X>(self, extras: X) -> Executor<B, X, M, F>
    where
        B: Carries<X>,
    {
        let Executor { backend, max_workers, timeout, task_timeout, function, watch, retry, .. } = self;
        let extras = Arc::new(extras);
        Executor { backend, max_workers, timeout, task_timeout, extras, mode: PhantomData, function, watch, retry }
    }

    /// Calls `f` with the call's [`Progress`] while each call runs — at most every 100 ms — and
    /// always once when it ends, with its final counts: `done` only grows, and ends at `total`
    /// when every task has an outcome (a strict call that fails or times out may end below it).
    /// Several callbacks can be set; each is called in turn.
    ///
    /// `f` runs on the call's *driver*, the thread that collects its outcomes: the caller's
    /// thread for a blocking call (`map`, `par`, `scoped_map`), a pool thread for a
    /// non-blocking one (`async_*`, [`as_completed`](Self::as_completed)). Keep it short — the
    /// driver also enforces the call's timeouts — and do not wait in it for the call itself.
    ///
    /// **A panic in `f`** stops the call as if it were cancelled — tasks not yet started never
    /// run, running ones finish in the background — and goes on in the caller, as a panic in
    /// a rayon closure does: a blocking call unwinds with it, a [`Handle`]'s
    /// [`wait`](Handle::wait) or `.await` resumes it, an `as_completed` iterator or stream
    /// resumes it when it gets to the end of what arrived. No thread is left behind.
    ///
    /// ```
    /// use std::sync::{Arc, Mutex};
    /// use parallel::Progress;
    ///
    /// let seen = Arc::new(Mutex::new(Vec::new()));
    /// let record = seen.clone();
    /// let out = parallel::thread()
    ///     .on_progress(move |p: Progress| record.lock().unwrap().push(p))
    ///     .map(|x: u64| x + 1, 0..1_000)
    ///     .unwrap();
    /// assert_eq!(out.len(), 1_000);
    /// // Called at least once, at the end, with every task done.
    /// let last = *seen.lock().unwrap().last().unwrap();
    /// assert_eq!(last, Progress { done: 1_000, failed: 0, total: Some(1_000) });
    /// ```
    pub fn on_progress(mut self, f: impl Fn(Progress) + Send + Sync + 'static) -> Self {
        self.watch = self.watch.with_callback(Arc::new(f));
        self
    }

    /// Draws a progress bar of each call on stderr while it runs, with
    /// [`indicatif`](https://docs.rs/indicatif): its length is the number of tasks (a spinner
    /// until an iterator's end is known), it advances as tasks finish, shows how many failed,
    /// and is finished when the call ends, however it ends. Drawn only if stderr is a
    /// terminal: elsewhere (a log file, a test harness) nothing is written. The bar is updated
    /// by the same driver as [`on_progress`](Self::on_progress)'s callbacks, at the same pace.
    /// (Feature `progress`, on by default.)
    ///
    /// ```
    /// let out = parallel::thread().progress().map(|x: u64| x * 2, 0..100).unwrap();
    /// assert_eq!(out[99], 198);
    /// ```
    #[cfg(feature = "progress")]
    #[cfg_attr(docsrs, doc(cfg(feature = "progress")))]
    pub fn progress(mut self) -> Self {
        self.watch = self.watch.with_bar();
        self
    }

    /// The backend, for its own options (`memory_limit` of processes).
    pub(crate) fn backend_mut(&mut self) -> &mut B {
        &mut self.backend
    }

    pub(crate) fn backend(&self) -> &B {
        &self.backend
    }

    /// The options of one call, its deadline fixed now.
    pub(crate) fn plan(&self) -> Plan {
        Plan {
            workers: self.max_workers.unwrap_or_else(|| self.backend.default_workers()),
            timeout: self.timeout,
            deadline: self.timeout.map(|t| Instant::now() + t),
            task_timeout: self.task_timeout,
            silent: M::SILENT,
            cancellable: false,
            watch: (!self.watch.is_empty()).then(|| self.watch.clone()),
            retry: self.retry.clone().filter(|retry| retry.times > 0),
        }
    }

    /// `true` if a failed task does not stop the call's other tasks where they run: the call
    /// is silent, or the failure may be retried (the engine stops a strict call once a
    /// failure is final).
    pub(crate) fn keeps_going(&self) -> bool {
        M::SILENT || self.retry.as_ref().is_some_and(|retry| retry.times > 0)
    }

    pub(crate) fn extras_arc(&self) -> &Arc<E> {
        &self.extras
    }

    /// Runs `work` over `inputs` with these options and hands back the results in the
    /// input's shape.
    pub(crate) fn call<W, I>(&self, work: W, inputs: I) -> M::Map<I, W::Out>
    where
        W: Work + 'static,
        I: Inputs<Params = W::Params>,
    {
        call::<M, W, I>(work, inputs, self.plan())
    }

    /// [`call`](Self::call) without blocking: a [`Handle`] to what `finish` makes of the
    /// results.
    pub(crate) fn spawn<W, I, U>(&self, work: W, inputs: I, finish: fn(M::Map<I, W::Out>) -> U) -> Handle<U>
    where
        W: Work + 'static,
        I: Inputs<Params = W::Params>,
        U: Send + 'static,
        M::Map<I, W::Out>: 'static,
    {
        spawn_call::<M, W, I, U>(work, inputs, self.plan(), finish)
    }

    /// [`spawn`](Self::spawn), tapped: the outcomes go to the returned [`Arrivals`] as they
    /// arrive, by index (the input's keys are the caller's to keep).
    pub(crate) fn spawn_tapped<W, I>(&self, work: W, inputs: I) -> (Handle<Ended>, Arrivals<W::Out>)
    where
        W: Work + 'static,
        I: Inputs<Params = W::Params>,
    {
        spawn_tapped(work, inputs.into_tasks().1, self.plan())
    }
}

impl<B: Backend, E, M: Mode> Executor<B, E, M> {
    /// Calls `f` once per input, in parallel; the results come in the input's shape.
    ///
    /// A task fails when `f` panics — or, on processes, when its worker process dies
    /// ([`Crashed`](crate::FailureKind::Crashed)); the other tasks go on. Parameters are cloned
    /// before each call so that a failure can report them (`Debug`); on threads, wrap large
    /// parameters in an `Arc`, or the function in [`unreported`](crate::unreported) to report
    /// only a failed task's index — then the parameters need not be `Clone + Debug`.
    ///
    /// ```
    /// fn add(x: i32, y: i32) -> i32 { x + y }
    /// assert_eq!(parallel::thread().map(add, vec![(2, 3), (4, 5)]).unwrap(), vec![5, 9]);
    /// assert_eq!(parallel::process().map(add, vec![(2, 3), (4, 5)]).unwrap(), vec![5, 9]);
    /// ```
    pub fn map<I, F, K, R>(&self, f: F, inputs: I) -> M::Map<I, F::Output>
    where
        I: Inputs,
        F: TaskFn<I::Params, E, K>,
        B: Maps<F, I::Params, E, K, R>,
    {
        self.call(self.backend.map_work(f, &self.extras, self.keeps_going()), inputs)
    }

    /// Like [`map`](Self::map) for a function that returns `Result`: an `Err` fails its task
    /// (with the error's `Display` as message) and the values come unwrapped.
    ///
    /// ```
    /// let out = parallel::thread().try_map(|s: &str| s.parse::<u8>(), ["1", "x"]);
    /// assert_eq!(out.unwrap_err().to_string(), "task 1 with parameters \"x\" returned an error: invalid digit found in string");
    ///
    /// let out = parallel::process().silent().try_map(|s: String| s.parse::<u8>(), vec!["7".to_owned(), "x".to_owned()]);
    /// assert_eq!(out[0], Ok(7));
    /// assert_eq!(out[1].as_ref().unwrap_err().message(), "invalid digit found in string");
    /// ```
    pub fn try_map<I, F, K, R, T, X>(&self, f: F, inputs: I) -> M::Map<I, T>
    where
        I: Inputs,
        F: TaskFn<I::Params, E, K, Output = Result<T, X>>,
        B: TryMaps<F, I::Params, E, K, R, T, X>,
    {
        self.call(self.backend.try_map_work(f, &self.extras, self.keeps_going()), inputs)
    }

    /// [`map`](Self::map) without blocking: returns a [`Handle`] at once.
    ///
    /// ```
    /// let handle = parallel::thread().max_workers(2).async_map(|x: u8| x + 1, vec![1, 2]);
    /// assert_eq!(handle.wait().unwrap(), vec![2, 3]);
    /// let handle = parallel::process().async_map(|x: u32| x + 1, vec![1, 2]);
    /// assert_eq!(handle.wait().unwrap(), vec![2, 3]);
    /// ```
    pub fn async_map<I, F, K, R>(&self, f: F, inputs: I) -> Handle<M::Map<I, F::Output>>
    where
        I: Inputs,
        F: TaskFn<I::Params, E, K>,
        B: Maps<F, I::Params, E, K, R>,
        M::Map<I, F::Output>: Send + 'static,
    {
        self.spawn(self.backend.map_work(f, &self.extras, self.keeps_going()), inputs, |output| output)
    }

    /// [`try_map`](Self::try_map) without blocking: returns a [`Handle`] at once.
    ///
    /// ```
    /// let handle = parallel::thread().async_try_map(|s: &str| s.parse::<u8>(), ["7"]);
    /// assert_eq!(handle.wait().unwrap(), vec![7]);
    /// let handle = parallel::process().async_try_map(|s: String| s.parse::<i8>(), vec!["-4".to_owned()]);
    /// assert_eq!(handle.wait().unwrap(), vec![-4]);
    /// ```
    pub fn async_try_map<I, F, K, R, T, X>(&self, f: F, inputs: I) -> Handle<M::Map<I, T>>
    where
        I: Inputs,
        F: TaskFn<I::Params, E, K, Output = Result<T, X>>,
        B: TryMaps<F, I::Params, E, K, R, T, X>,
        M::Map<I, T>: Send + 'static,
    {
        self.spawn(self.backend.try_map_work(f, &self.extras, self.keeps_going()), inputs, |output| output)
    }

    /// Calls `f` once per input, in parallel, and hands out each task's outcome as it
    /// completes: an [`AsCompleted`] of `(key, Result<value, FailedTask>)` in completion
    /// order — an [`Iterator`], and a [`Stream`](futures_core::Stream) through
    /// [`into_stream`](AsCompleted::into_stream) — where the key is the
    /// task's index for a sequence or an iterator, its key for a map.
    ///
    /// Every task gets its item, whatever the mode: failures, timeouts (`timeout`,
    /// `task_timeout`) and a cancel are items of kind `Panicked`, `TimedOut`, `Cancelled`…, as
    /// in silent mode. Nothing handed out is kept by the call, and a lazy input is read as the
    /// workers take its tasks: stream millions of outcomes in bounded memory. The call goes
    /// at its consumer's pace: while a few batches' worth of tasks — eight of the largest
    /// (8 × 4096), or four per pool thread on more cores — have started and their outcomes are
    /// not yet taken, no task starts and the input is not read further; the workers resume as
    /// the consumer takes outcomes. A deadline, a cancel or a crashed worker
    /// still end the call on time. Dropping the `AsCompleted` cancels the call.
    ///
    /// ```
    /// use std::collections::HashMap;
    /// use std::time::Duration;
    ///
    /// let nap = |ms: u64| { std::thread::sleep(Duration::from_millis(ms)); ms };
    /// let mut order = Vec::new();
    /// for (key, outcome) in parallel::thread().as_completed(nap, HashMap::from([("slow", 300), ("quick", 10)])) {
    ///     order.push((key, outcome.unwrap()));
    /// }
    /// assert_eq!(order, vec![("quick", 10), ("slow", 300)]);
    ///
    /// // On processes too; a panic is an item.
    /// fn inverse(x: i32) -> i32 { 100 / x }
    /// let failed = parallel::process().as_completed(inverse, vec![1, 0, 4]).filter(|(_, o)| o.is_err());
    /// assert_eq!(failed.map(|(index, _)| index).collect::<Vec<_>>(), vec![1]);
    /// ```
    ///
    /// In async code, poll it as a `Stream` (with `futures::StreamExt::next`, for instance):
    ///
    /// ```
    /// # use futures_util::StreamExt;
    /// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
    /// let mut outcomes = parallel::thread().as_completed(|x: u32| x + 1, vec![1, 2, 3]).into_stream();
    /// let mut sum = 0;
    /// while let Some((_index, outcome)) = outcomes.next().await {
    ///     sum += outcome.unwrap();
    /// }
    /// assert_eq!(sum, 9);
    /// # });
    /// ```
    pub fn as_completed<I, F, K, R>(&self, f: F, inputs: I) -> AsCompleted<I::Key, F::Output>
    where
        I: Inputs,
        F: TaskFn<I::Params, E, K>,
        B: Maps<F, I::Params, E, K, R>,
    {
        self.stream(self.backend.map_work(f, &self.extras, true), inputs)
    }

    /// [`as_completed`](Self::as_completed) for a function that returns `Result`: an `Err`
    /// is a failed item (with the error's `Display` as message), as with
    /// [`try_map`](Self::try_map).
    ///
    /// ```
    /// let outcomes = parallel::thread().try_as_completed(|s: &str| s.parse::<u8>(), ["1", "x"]);
    /// let mut failed: Vec<String> = outcomes.filter_map(|(_, o)| o.err()).map(|f| f.message().to_owned()).collect();
    /// assert_eq!(failed, vec!["invalid digit found in string"]);
    /// ```
    pub fn try_as_completed<I, F, K, R, T, X>(&self, f: F, inputs: I) -> AsCompleted<I::Key, T>
    where
        I: Inputs,
        F: TaskFn<I::Params, E, K, Output = Result<T, X>>,
        B: TryMaps<F, I::Params, E, K, R, T, X>,
    {
        self.stream(self.backend.try_map_work(f, &self.extras, true), inputs)
    }

    /// Runs `work` over `inputs` as a silent call whose outcomes go, as they arrive, to the
    /// returned [`AsCompleted`], paced by it: a slow consumer holds the workers back.
    fn stream<W, I>(&self, work: W, inputs: I) -> AsCompleted<I::Key, W::Out>
    where
        W: Work + 'static,
        I: Inputs<Params = W::Params>,
    {
        let (keys, tasks) = inputs.into_tasks();
        let plan = Plan { silent: true, ..self.plan() };
        let (handle, arrivals) = spawn_tapped_to(work, tasks, plan, Arrivals::paced());
        AsCompleted::new(handle, arrivals, I::key_by_index(keys))
    }

    /// Runs different functions at once: see [`Par`]. Extras do not apply. On processes the
    /// tasks are [`remote`](crate::prelude::ParallelFn::remote) ones, made from `fn` items and
    /// their arguments, and a task past a timeout gets its worker process killed.
    ///
    /// ```
    /// use parallel::prelude::*;
    /// fn square(x: u64) -> u64 { x * x }
    /// fn shout(s: String) -> String { s.to_uppercase() }
    ///
    /// let (n, s) = parallel::thread().max_workers(2).par((|| 40 + 2, || "answer")).unwrap();
    /// assert_eq!((n, s), (42, "answer"));
    /// let (n, s) = parallel::process().par((square.remote(7), shout.remote("hi".to_owned()))).unwrap();
    /// assert_eq!((n, s.as_str()), (49, "HI"));
    /// ```
    pub fn par<P: Par>(&self, tasks: P) -> M::Par<P> {
        M::par::<P>(self.call(self.backend.par_work(), tasks.into_tasks()))
    }

    /// [`par`](Self::par) without blocking: returns a [`Handle`] at once.
    ///
    /// ```
    /// let handle = parallel::thread().async_par((|| 1, || 2));
    /// assert_eq!(handle.wait().unwrap(), (1, 2));
    /// ```
    pub fn async_par<P>(&self, tasks: P) -> Handle<M::Par<P>>
    where
        P: Par,
        M::Map<P::Tasks, P::Value>: Send + 'static,
        M::Par<P>: Send + 'static,
    {
        self.spawn(self.backend.par_work(), tasks.into_tasks(), M::par::<P>)
    }

    /// This executor holding `f`: then `map` takes only the inputs (see
    /// [`With`](crate::prelude::With)).
    pub(crate) fn holding<G>(self, f: G) -> Executor<B, E, M, Holds<G>> {
        let Executor { backend, max_workers, timeout, task_timeout, extras, mode, watch, retry, .. } = self;
        Executor { backend, max_workers, timeout, task_timeout, extras, mode, function: Holds(f), watch, retry }
    }
}

impl<B: Backend, E, M: Mode, G> Executor<B, E, M, Holds<G>> {
    /// The executor without its function, and the function.
    fn release(self) -> (Executor<B, E, M>, G) {
        let Executor { backend, max_workers, timeout, task_timeout, extras, mode, function, watch, retry } = self;
        (Executor { backend, max_workers, timeout, task_timeout, extras, mode, function: (), watch, retry }, function.0)
    }

    /// [`Executor::map`] with the function this executor holds.
    ///
    /// ```
    /// use parallel::prelude::*;
    /// fn shout(s: String) -> String { s.to_uppercase() }
    /// let out = shout.process().silent().map(vec!["a".to_owned(), "b".to_owned()]);
    /// assert_eq!(out.replace_failed(String::new()), vec!["A", "B"]);
    /// ```
    pub fn map<I, K, R>(self, inputs: I) -> M::Map<I, Out<G, I::Params, E, K>>
    where
        I: Inputs,
        G: TaskFn<I::Params, E, K>,
        B: Maps<G, I::Params, E, K, R>,
    {
        let (executor, f) = self.release();
        executor.map(f, inputs)
    }

    /// [`Executor::try_map`] with the function this executor holds.
    ///
    /// ```
    /// use parallel::prelude::*;
    /// fn parse(s: String) -> Result<u8, std::num::ParseIntError> { s.parse() }
    /// let out = parse.process().silent().try_map(vec!["7".to_owned(), "x".to_owned()]);
    /// assert_eq!(out[0], Ok(7));
    /// assert_eq!(out[1].as_ref().unwrap_err().message(), "invalid digit found in string");
    /// ```
    pub fn try_map<I, K, R, T, X>(self, inputs: I) -> M::Map<I, T>
    where
        I: Inputs,
        G: TaskFn<I::Params, E, K, Output = Result<T, X>>,
        B: TryMaps<G, I::Params, E, K, R, T, X>,
    {
        let (executor, f) = self.release();
        executor.try_map(f, inputs)
    }

    /// [`Executor::async_map`] with the function this executor holds.
    ///
    /// ```
    /// use parallel::prelude::*;
    /// fn add(x: u32, y: u32, offset: &u32) -> u32 { x + y + offset }
    /// let handle = add.process().extras(100u32).async_map(vec![(1, 2), (3, 4)]);
    /// assert_eq!(handle.wait().unwrap(), vec![103, 107]);
    /// ```
    #[allow(clippy::type_complexity)]
    pub fn async_map<I, K, R>(self, inputs: I) -> Handle<M::Map<I, Out<G, I::Params, E, K>>>
    where
        I: Inputs,
        G: TaskFn<I::Params, E, K>,
        B: Maps<G, I::Params, E, K, R>,
        M::Map<I, G::Output>: Send + 'static,
    {
        let (executor, f) = self.release();
        executor.async_map(f, inputs)
    }
}
