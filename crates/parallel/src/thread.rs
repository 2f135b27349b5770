//! The thread executor: the builder of a call's options and the calls themselves.
//!
//! Tasks run on the process-wide pool of reusable threads; each call bounds its own
//! concurrency with `max_workers`. A thread cannot be killed: a task past a timeout is
//! *abandoned* — the call stops waiting for it, reports it as timed out and never reports it
//! again — and it finishes in the background. That is why functions, parameters and extras
//! must be `Send + 'static`: they may outlive the call. The scoped calls
//! ([`scoped_map`](Thread::scoped_map)) lift that: they never leave a task behind, so they
//! may borrow.

use std::fmt::{Debug, Display};
use std::marker::PhantomData;
use std::ops::Range;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::call::TaskFn;
use crate::engine::driver::{call, spawn_call, Plan};
use crate::engine::scope::call_scoped;
use crate::engine::work::{MapWork, TryMapWork, Work};
use crate::handle::Handle;
use crate::inputs::{Inputs, Sequential};
use crate::mode::{Mode, Silent, Strict};
use crate::par::{Par, ParWork};
use crate::report::Report;

/// The thread executor with its options; made by [`thread()`], configured fluently, then used
/// for any number of calls.
///
/// `E` is the type of the call's [extras](Self::extras) and `M` its [mode](crate::Mode).
///
/// ```
/// use std::time::Duration;
///
/// let pool = parallel::thread().max_workers(5).timeout(Duration::from_secs(10));
/// let squares = pool.map(|x: u64| x * x, 1..=4).unwrap();
/// assert_eq!(squares, vec![1, 4, 9, 16]);
/// ```
#[derive(Debug)]
pub struct Thread<E = (), M = Strict> {
    max_workers: Option<usize>,
    timeout: Option<Duration>,
    task_timeout: Option<Duration>,
    extras: Arc<E>,
    mode: PhantomData<M>,
}

impl<E, M> Clone for Thread<E, M> {
    fn clone(&self) -> Self {
        Thread { extras: self.extras.clone(), mode: PhantomData, ..*self }
    }
}

/// The thread executor with default options: `max_workers` = min(32, cores + 4) — as
/// `concurrent.futures.ThreadPoolExecutor` — no timeouts, strict mode, no extras.
///
/// ```
/// let results = parallel::thread().max_workers(2).map(|s: &str| s.len(), ["a", "bc"]).unwrap();
/// assert_eq!(results, vec![1, 2]);
/// ```
pub fn thread() -> Thread {
    Thread { max_workers: None, timeout: None, task_timeout: None, extras: Arc::new(()), mode: PhantomData }
}

/// The default number of worker threads of a call: min(32, cores + 4).
///
/// ```
/// assert!((5..=32).contains(&parallel::default_thread_workers()));
/// ```
pub fn default_thread_workers() -> usize {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    (cores + 4).min(32)
}

impl<E, M> Thread<E, M>
where
    E: Send + Sync + 'static,
    M: Mode,
{
    /// At most `n` tasks of a call run at once (one thread each).
    ///
    /// # Panics
    /// If `n` is 0.
    ///
    /// ```
    /// let out = parallel::thread().max_workers(100).map(|x: u32| x + 1, 0..1000).unwrap();
    /// assert_eq!(out.len(), 1000);
    /// ```
    pub fn max_workers(mut self, n: usize) -> Self {
        assert!(n > 0, "max_workers must be at least 1, got 0");
        self.max_workers = Some(n);
        self
    }

    /// A deadline for the whole call, counted from its start. When it passes the call returns
    /// at once: [`Error::Timeout`](crate::Error::Timeout), or in silent mode a failure of kind
    /// [`TimedOut`](crate::FailureKind::TimedOut) for every unfinished task. Tasks still
    /// running are abandoned: they finish in the background and are never reported.
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

    /// A limit for each task: a task that runs longer fails with kind
    /// [`TimedOut`](crate::FailureKind::TimedOut), its thread is abandoned and replaced, and
    /// the other tasks go on. Tasks are handed out one at a time under this option.
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
    pub fn silent(self) -> Thread<E, Silent> {
        Thread {
            max_workers: self.max_workers,
            timeout: self.timeout,
            task_timeout: self.task_timeout,
            extras: self.extras,
            mode: PhantomData,
        }
    }

    /// A value every task receives by reference as its function's last argument, shared by
    /// all tasks (never cloned).
    ///
    /// ```
    /// struct Db { table: &'static str }
    /// fn store(url: &str, kind: &str, db: &Db) -> String { format!("{url} ({kind}) -> {}", db.table) }
    ///
    /// let out = parallel::thread().extras(Db { table: "temporary_webpages" })
    ///     .map(store, vec![("python.org", "json"), ("rmotr.com", "xml")]).unwrap();
    /// assert_eq!(out[1], "rmotr.com (xml) -> temporary_webpages");
    /// ```
    pub fn extras<X: Send + Sync + 'static>(self, extras: X) -> Thread<X, M> {
        Thread {
            max_workers: self.max_workers,
            timeout: self.timeout,
            task_timeout: self.task_timeout,
            extras: Arc::new(extras),
            mode: PhantomData,
        }
    }

    /// Calls `f` once per input, in parallel; the results come in the input's shape.
    ///
    /// A task fails when `f` panics. Parameters are cloned before each call so that a failure
    /// can report them (`Debug`); wrap large parameters in an `Arc`, or the function in
    /// [`unreported`](crate::unreported) to report only a failed task's index — then the
    /// parameters need not be `Clone + Debug`.
    ///
    /// ```
    /// fn add(x: i32, y: i32) -> i32 { x + y }
    /// assert_eq!(parallel::thread().map(add, vec![(2, 3), (4, 5)]).unwrap(), vec![5, 9]);
    /// ```
    pub fn map<I, F, K, R>(&self, f: F, inputs: I) -> M::Map<I, F::Output>
    where
        I: Inputs,
        K: Report<I::Params, R>,
        F: TaskFn<I::Params, E, K> + 'static,
        F::Output: Send + 'static,
        K: 'static,
        R: 'static,
        R: 'static,
    {
        self.run(MapWork::new(f, self.extras.clone()), inputs)
    }

    /// Like [`map`](Self::map) for a function that returns `Result`: an `Err` fails its task
    /// (with the error's `Display` as message) and the values come unwrapped.
    ///
    /// ```
    /// let out = parallel::thread().try_map(|s: &str| s.parse::<u8>(), ["1", "x"]);
    /// assert_eq!(out.unwrap_err().to_string(), "task 1 with parameters \"x\" returned an error: invalid digit found in string");
    /// ```
    pub fn try_map<I, F, K, R, T, X>(&self, f: F, inputs: I) -> M::Map<I, T>
    where
        I: Inputs,
        K: Report<I::Params, R>,
        F: TaskFn<I::Params, E, K, Output = Result<T, X>> + 'static,
        T: Send + 'static,
        X: Display + Send + Sync + 'static,
        K: 'static,
        R: 'static,
        R: 'static,
    {
        self.run(TryMapWork::new(f, self.extras.clone()), inputs)
    }

    /// [`map`](Self::map) without blocking: returns a [`Handle`] at once.
    ///
    /// ```
    /// let handle = parallel::thread().max_workers(2).async_map(|x: u8| x + 1, vec![1, 2]);
    /// assert_eq!(handle.wait().unwrap(), vec![2, 3]);
    /// ```
    pub fn async_map<I, F, K, R>(&self, f: F, inputs: I) -> Handle<M::Map<I, F::Output>>
    where
        I: Inputs,
        K: Report<I::Params, R>,
        F: TaskFn<I::Params, E, K> + 'static,
        F::Output: Send + 'static,
        K: 'static,
        R: 'static,
        R: 'static,
        M::Map<I, F::Output>: Send + 'static,
    {
        self.spawn(MapWork::new(f, self.extras.clone()), inputs, |output| output)
    }

    /// [`try_map`](Self::try_map) without blocking: returns a [`Handle`] at once.
    ///
    /// ```
    /// let handle = parallel::thread().async_try_map(|s: &str| s.parse::<u8>(), ["7"]);
    /// assert_eq!(handle.wait().unwrap(), vec![7]);
    /// ```
    pub fn async_try_map<I, F, K, R, T, X>(&self, f: F, inputs: I) -> Handle<M::Map<I, T>>
    where
        I: Inputs,
        K: Report<I::Params, R>,
        F: TaskFn<I::Params, E, K, Output = Result<T, X>> + 'static,
        T: Send + 'static,
        X: Display + Send + Sync + 'static,
        K: 'static,
        R: 'static,
        R: 'static,
        M::Map<I, T>: Send + 'static,
    {
        self.spawn(TryMapWork::new(f, self.extras.clone()), inputs, |output| output)
    }

    /// [`map`](Self::map) over borrowed data: `inputs` is anything iterable — `&v`,
    /// `v.iter()`, `&mut v`, `v.chunks(n)`, `&map` — and `f` may borrow the caller's locals,
    /// as with `std::thread::scope` or rayon's `par_iter()`. The results come in a `Vec` in
    /// iteration order (silent mode: [`Results`](crate::Results), indexed by position);
    /// tuples spread into arguments as for `map`.
    ///
    /// ```
    /// let v: Vec<u64> = (1..=100).collect();
    /// let offset = 1_000;
    /// let shifted = parallel::thread().scoped_map(|x: &u64| x + offset, &v).unwrap();
    /// assert_eq!(shifted[0], 1_001);
    ///
    /// let mut counts = vec![0u32; 4];
    /// parallel::thread().scoped_map(|c: &mut u32| *c += 1, &mut counts).unwrap();
    /// assert_eq!(counts, [1, 1, 1, 1]);
    /// ```
    ///
    /// **The call never returns — nor unwinds — while one of its tasks runs**: that is what
    /// makes borrowing sound. A thread task cannot be abandoned while it borrows the caller's
    /// stack, so the options that abandon tasks work this way here:
    ///
    /// - `timeout`: at the deadline no new task starts, and the call returns once the running
    ///   ones have ended — with [`Error::Timeout`](crate::Error::Timeout), or in silent mode a
    ///   [`TimedOut`](crate::FailureKind::TimedOut) failure for every task that had not
    ///   finished at the deadline (what the running ones return after it is dropped). The call
    ///   can therefore return later than its timeout, by as long as a running task takes.
    /// - `task_timeout`: a task past its limit fails as `TimedOut` and the other tasks go on,
    ///   on a new thread, as with `map`; the call returns once the late task has ended too.
    /// - A strict call's first failure, likewise: no task starts after it, and the call
    ///   returns when the running ones have ended.
    ///
    /// ```
    /// use std::time::Duration;
    /// let naps = [0u64, 300, 300];
    /// let results = parallel::thread().max_workers(1).timeout(Duration::from_millis(100)).silent()
    ///     .scoped_map(|ms: &u64| std::thread::sleep(Duration::from_millis(*ms)), &naps);
    /// assert!(results.failures()); // and no task runs any more: `naps` can go
    /// ```
    ///
    /// A task fails when `f` panics; its failure reports its parameters (`Debug` of the item)
    /// as `map`'s do — but a mutable borrow reports only its index, and so does every task of
    /// an [`unreported`](crate::unreported) function. Use [`map`](Self::map) for owned inputs: it
    /// never waits for a task past a timeout.
    pub fn scoped_map<I, F, K, R>(&self, f: F, inputs: I) -> M::Map<Range<usize>, F::Output>
    where
        I: IntoIterator,
        I::IntoIter: Send,
        I::Item: Send,
        K: Report<I::Item, R>,
        F: TaskFn<I::Item, E, K>,
        F::Output: Send,
    {
        call_scoped::<M, _, _>(MapWork::new(f, self.extras.clone()), Sequential::new(inputs.into_iter()), self.plan())
    }

    /// [`scoped_map`](Self::scoped_map) for a function that returns `Result`: an `Err` fails
    /// its task, as with [`try_map`](Self::try_map).
    ///
    /// ```
    /// let words = vec!["1".to_owned(), "two".to_owned(), "3".to_owned()];
    /// let results = parallel::thread().silent().scoped_try_map(|s: &String| s.parse::<u8>(), &words);
    /// assert_eq!(results.into_options(), vec![Some(1), None, Some(3)]);
    /// ```
    pub fn scoped_try_map<I, F, K, R, T, X>(&self, f: F, inputs: I) -> M::Map<Range<usize>, T>
    where
        I: IntoIterator,
        I::IntoIter: Send,
        I::Item: Send,
        K: Report<I::Item, R>,
        F: TaskFn<I::Item, E, K, Output = Result<T, X>>,
        T: Send,
        X: Display + Send + Sync + 'static,
    {
        let work = TryMapWork::new(f, self.extras.clone());
        call_scoped::<M, _, _>(work, Sequential::new(inputs.into_iter()), self.plan())
    }

    /// Runs different functions concurrently: see [`Par`]. Extras do not apply.
    ///
    /// ```
    /// let (n, s) = parallel::thread().max_workers(2).par((|| 40 + 2, || "answer")).unwrap();
    /// assert_eq!((n, s), (42, "answer"));
    /// ```
    pub fn par<P: Par>(&self, tasks: P) -> M::Par<P> {
        M::par::<P>(self.run(ParWork::new(), tasks.into_tasks()))
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
        self.spawn(ParWork::new(), tasks.into_tasks(), M::par::<P>)
    }

    fn plan(&self) -> Plan {
        Plan {
            workers: self.max_workers.unwrap_or_else(default_thread_workers),
            timeout: self.timeout,
            deadline: self.timeout.map(|t| Instant::now() + t),
            task_timeout: self.task_timeout,
            silent: M::SILENT,
            cancellable: false,
        }
    }

    /// Runs a [`Work`] of one's own over `inputs` with this executor's options: the entry
    /// point for bindings that run their own functions on the engine (see [`Work`]). The
    /// results come in the input's shape, as for [`map`](Self::map).
    pub fn run<W, I>(&self, work: W, inputs: I) -> M::Map<I, W::Out>
    where
        W: Work + 'static,
        I: Inputs<Params = W::Params>,
    {
        call::<M, W, I>(work, inputs, self.plan())
    }

    /// [`run`](Self::run) without blocking: returns a [`Handle`] at once.
    ///
    /// ```
    /// use parallel::plumbing::{Fault, Work};
    /// use parallel::FailureKind;
    /// struct Double;
    /// impl Work for Double {
    ///     type Params = u32;
    ///     type Out = u32;
    ///     type Kept = u32;
    ///     fn keep(&self, x: &u32) -> u32 { *x }
    ///     fn describe(&self, x: &u32) -> String { x.to_string() }
    ///     fn run(&self, x: u32) -> Result<u32, Fault> { Ok(x * 2) }
    /// }
    /// assert_eq!(parallel::thread().async_run(Double, vec![1, 2]).wait().unwrap(), vec![2, 4]);
    /// ```
    pub fn async_run<W, I>(&self, work: W, inputs: I) -> Handle<M::Map<I, W::Out>>
    where
        W: Work + 'static,
        I: Inputs<Params = W::Params>,
        M::Map<I, W::Out>: Send + 'static,
    {
        self.spawn(work, inputs, |output| output)
    }

    fn spawn<W, I, U>(&self, work: W, inputs: I, finish: fn(M::Map<I, W::Out>) -> U) -> Handle<U>
    where
        W: Work + 'static,
        I: Inputs<Params = W::Params>,
        U: Send + 'static,
        M::Map<I, W::Out>: 'static,
    {
        spawn_call::<M, W, I, U>(work, inputs, self.plan(), finish)
    }
}
