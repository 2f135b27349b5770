//! The thread executor: the builder of a call's options and the calls themselves.
//!
//! Tasks run on the process-wide pool of reusable threads; each call bounds its own
//! concurrency with `max_workers`. A thread cannot be killed: a task past a timeout is
//! *abandoned* — the call stops waiting for it, reports it as timed out and never reports it
//! again — and it finishes in the background. That is why functions, parameters and extras
//! must be `Send + 'static`: they may outlive the call. The scoped calls
//! ([`scoped_map`](Thread::scoped_map)) lift that: they never leave a task behind, so they
//! may borrow.

use std::fmt::Display;
use std::ops::Range;
use std::sync::Arc;

use crate::call::TaskFn;
use crate::engine::scope::call_scoped;
use crate::engine::tap::{Arrivals, Ended};
use crate::engine::work::{MapWork, TryMapWork, Work};
use crate::executor::{Backend, Carries, Executor, Maps, TryMaps};
use crate::handle::Handle;
use crate::inputs::{Inputs, Sequential};
use crate::mode::{Mode, Strict};
use crate::par::ParWork;
use crate::report::Report;

/// The thread executor with its options: an [`Executor`] on the pool's threads, made by
/// [`thread()`]. Its methods are [`Executor`]'s, and those below.
///
/// `E` is the type of the call's [extras](Executor::extras) and `M` its [mode](crate::traits::Mode).
///
/// ```
/// use std::time::Duration;
///
/// let pool: parallel::Thread = parallel::thread().max_workers(5).timeout(Duration::from_secs(10));
/// let squares = pool.map(|x: u64| x * x, 1..=4).unwrap();
/// assert_eq!(squares, vec![1, 4, 9, 16]);
/// ```
pub type Thread<E = (), M = Strict> = Executor<Threads, E, M>;

/// The backend of the thread executor: tasks run on the process-wide pool of reusable
/// threads, at most `max_workers` of a call at once.
#[derive(Clone, Copy, Debug, Default)]
pub struct Threads {
    /// What each pool thread runs once before its first task of `map` or `try_map`.
    init: Option<fn()>,
}

/// The thread executor with default options: `max_workers` = min(32, cores + 4) — as
/// `concurrent.futures.ThreadPoolExecutor` — no timeouts, strict mode, no extras.
///
/// ```
/// let results = parallel::thread().max_workers(2).map(|s: &str| s.len(), ["a", "bc"]).unwrap();
/// assert_eq!(results, vec![1, 2]);
/// ```
pub fn thread() -> Thread {
    Executor::new(Threads::default())
}

/// The default number of worker threads of a call: min(32, cores + 4).
///
/// ```
/// assert!((5..=32).contains(&parallel::default_thread_workers()));
/// ```
pub fn default_thread_workers() -> usize {
    let cores = crate::engine::pool::cores();
    (cores + 4).min(32)
}

impl Backend for Threads {
    fn default_workers(&self) -> usize {
        default_thread_workers()
    }

    type ParWork<V: Send + 'static> = ParWork<V>;

    fn par_work<V: Send + 'static>(&self) -> ParWork<V> {
        ParWork::new()
    }
}

impl<X: Send + Sync + 'static> Carries<X> for Threads {}

impl<F, A, E, K, R> Maps<F, A, E, K, R> for Threads
where
    F: TaskFn<A, E, K> + 'static,
    F::Output: Send + 'static,
    K: Report<A, R> + 'static,
    R: 'static,
    A: Send + 'static,
    E: Send + Sync + 'static,
{
    type Work = MapWork<F, E, (K, R), A>;

    fn map_work(&self, f: F, extras: &Arc<E>, _silent: bool) -> Self::Work {
        MapWork::new(f, extras.clone()).init(self.init)
    }
}

impl<F, A, E, K, R, T, X> TryMaps<F, A, E, K, R, T, X> for Threads
where
    F: TaskFn<A, E, K, Output = Result<T, X>> + 'static,
    T: Send + 'static,
    X: Display + Send + Sync + 'static,
    K: Report<A, R> + 'static,
    R: 'static,
    A: Send + 'static,
    E: Send + Sync + 'static,
{
    type Work = TryMapWork<F, E, (K, R), A, T, X>;

    fn try_map_work(&self, f: F, extras: &Arc<E>, _silent: bool) -> Self::Work {
        TryMapWork::new(f, extras.clone()).init(self.init)
    }
}

impl<E, M: Mode, F> Executor<Threads, E, M, F> {
    /// Runs `init` once in each pool thread before the first task of a `map` or `try_map` it
    /// runs: a thread that ran it (in this call or an earlier one) does not run it again. What
    /// it sets up goes in thread-locals, which the thread's later tasks see. An `init` that
    /// panics fails the task it was to run before (kind `Panicked`, "the initializer
    /// panicked: …"); the thread's next task tries it again.
    ///
    /// ```
    /// use std::cell::Cell;
    /// thread_local! { static READY: Cell<bool> = const { Cell::new(false) }; }
    /// fn load() { READY.with(|r| r.set(true)); }
    /// let ready = parallel::thread().init(load).map(|_: u32| READY.with(Cell::get), 0..100).unwrap();
    /// assert!(ready.iter().all(|&r| r));
    /// ```
    pub fn init(mut self, init: fn()) -> Self {
        self.backend_mut().init = Some(init);
        self
    }
}

/// What only threads do: calls over borrowed data, and a [`Work`] of one's own.
impl<E, M> Executor<Threads, E, M>
where
    E: Send + Sync + 'static,
    M: Mode,
{
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
        call_scoped::<M, _, _>(
            MapWork::new(f, self.extras_arc().clone()),
            Sequential::new(inputs.into_iter()),
            self.plan(),
        )
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
        let work = TryMapWork::new(f, self.extras_arc().clone());
        call_scoped::<M, _, _>(work, Sequential::new(inputs.into_iter()), self.plan())
    }

    /// Runs a [`Work`] of one's own over `inputs` with this executor's options: the entry
    /// point for bindings that run their own functions on the engine (see [`Work`]). The
    /// results come in the input's shape, as for [`map`](Self::map).
    pub fn run<W, I>(&self, work: W, inputs: I) -> M::Map<I, W::Out>
    where
        W: Work + 'static,
        I: Inputs<Params = W::Params>,
    {
        self.call(work, inputs)
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

    /// [`async_run`](Self::async_run), tapped: each task's outcome goes to the returned
    /// [`Arrivals`] as it arrives, by index, and the handle says how the call ended.
    ///
    /// ```
    /// use std::time::Duration;
    /// use parallel::plumbing::{Ended, Fault, Work};
    /// struct Double;
    /// impl Work for Double {
    ///     type Params = u32;
    ///     type Out = u32;
    ///     type Kept = u32;
    ///     fn keep(&self, x: &u32) -> u32 { *x }
    ///     fn describe(&self, x: &u32) -> String { x.to_string() }
    ///     fn run(&self, x: u32) -> Result<u32, Fault> { Ok(x * 2) }
    /// }
    /// let (handle, arrivals) = parallel::thread().async_run_tapped(Double, vec![1, 2, 3]);
    /// assert_eq!(handle.wait(), Ended::Done);
    /// let mut got = Vec::new();
    /// while let Some(arrived) = arrivals.next_timeout(Duration::ZERO) {
    ///     got.extend(arrived.into_outcomes().map(|(i, v)| (i, v.unwrap())));
    /// }
    /// got.sort();
    /// assert_eq!(got, vec![(0, 2), (1, 4), (2, 6)]);
    /// ```
    pub fn async_run_tapped<W, I>(&self, work: W, inputs: I) -> (Handle<Ended>, Arrivals<W::Out>)
    where
        W: Work + 'static,
        I: Inputs<Params = W::Params>,
    {
        self.spawn_tapped(work, inputs)
    }
}
