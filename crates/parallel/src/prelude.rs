//! "Decorating" a function the Rust way: `use parallel::prelude::*;` and every function or
//! closure gets `.map(inputs)`, `.thread().max_workers(5).map(inputs)`,
//! `.process().task_timeout(d).map(inputs)` and `.future(args)` — and can still be called
//! normally.
//!
//! ```
//! use parallel::prelude::*;
//!
//! fn download_and_store(url: &str) -> usize { url.len() }
//!
//! let results = download_and_store.map(vec!["python.org", "rmotr.com"]).unwrap();
//! assert_eq!(results, vec![10, 9]);
//! assert_eq!(download_and_store("python.org"), 10); // still a plain function
//! ```

use std::fmt::{Debug, Display};

use serde::Serialize;
use std::time::Duration;

pub use crate::call::TaskFn;
use crate::error::Error;
use crate::handle::Handle;
use crate::inputs::Inputs;
use crate::mode::{Mode, Silent};
use crate::par::Task;
use crate::process::{process, Owned, Process, RemoteFn};
use crate::report::Report;
use crate::thread::{thread, Thread};

/// The methods every function gets from the prelude. Implemented for every [`TaskFn`]; you
/// never implement it.
pub trait ParallelFn<Args, K>: TaskFn<Args, (), K> + Sized + 'static {
    /// [`parallel::map`](crate::map) with this function.
    ///
    /// ```
    /// use parallel::prelude::*;
    /// fn add(x: i32, y: i32) -> i32 { x + y }
    /// assert_eq!(add.map(vec![(1, 2), (3, 4)]).unwrap(), vec![3, 7]);
    /// ```
    fn map<I, R>(self, inputs: I) -> Result<I::Output<Self::Output>, Error>
    where
        I: Inputs<Params = Args>,
        K: Report<Args, R>,
        Self::Output: Send + 'static,
        K: 'static,
        R: 'static,
    {
        thread().map(self, inputs)
    }

    /// [`parallel::try_map`](crate::try_map) with this function.
    ///
    /// ```
    /// use parallel::prelude::*;
    /// fn parse(s: &str) -> Result<u8, std::num::ParseIntError> { s.parse() }
    /// assert_eq!(parse.try_map(["4", "2"]).unwrap(), vec![4, 2]);
    /// ```
    fn try_map<I, R, T, X>(self, inputs: I) -> Result<I::Output<T>, Error>
    where
        Self: TaskFn<Args, (), K, Output = Result<T, X>>,
        I: Inputs<Params = Args>,
        K: Report<Args, R>,
        T: Send + 'static,
        X: Display + Send + Sync + 'static,
        K: 'static,
        R: 'static,
    {
        thread().try_map(self, inputs)
    }

    /// [`parallel::async_map`](crate::async_map) with this function.
    ///
    /// ```
    /// use parallel::prelude::*;
    /// let double = |x: u8| x * 2;
    /// assert_eq!(double.async_map(vec![1, 2]).wait().unwrap(), vec![2, 4]);
    /// ```
    fn async_map<I, R>(self, inputs: I) -> Handle<Result<I::Output<Self::Output>, Error>>
    where
        I: Inputs<Params = Args>,
        K: Report<Args, R>,
        I::Output<Self::Output>: Send + 'static,
        Self::Output: Send + 'static,
        K: 'static,
        R: 'static,
    {
        thread().async_map(self, inputs)
    }

    /// This function on the thread executor, to set options before `map`.
    ///
    /// ```
    /// use std::time::Duration;
    /// use parallel::prelude::*;
    /// fn square(x: u64) -> u64 { x * x }
    /// let out = square.thread().max_workers(5).timeout(Duration::from_secs(10)).map(1..4).unwrap();
    /// assert_eq!(out, vec![1, 4, 9]);
    /// ```
    fn thread(self) -> With<Self, Thread> {
        With { f: self, executor: thread() }
    }

    /// This function on the [process executor](crate::process()), to set options before
    /// `map`, `try_map` or `async_map`: each task runs in a worker process, so one that
    /// panics, aborts or hangs fails alone. The function must be a `fn` item or a closure that
    /// captures nothing, and its parameters and value serde types.
    ///
    /// ```
    /// use std::time::Duration;
    /// use parallel::prelude::*;
    /// fn square(x: u64) -> u64 { x * x }
    /// let out = square.process().max_workers(2).task_timeout(Duration::from_secs(10)).map(1..4).unwrap();
    /// assert_eq!(out, vec![1, 4, 9]);
    /// ```
    fn process(self) -> With<Self, Process> {
        With { f: self, executor: process() }
    }

    /// A [`Task`] calling this function with `args`, for [`par`](crate::par).
    ///
    /// ```
    /// use parallel::prelude::*;
    /// fn price(exchange: &str) -> u32 { exchange.len() as u32 }
    /// let (a, b) = parallel::par((price.future("bitstamp"), price.future("kraken"))).unwrap();
    /// assert_eq!((a, b), (8, 6));
    /// ```
    fn future(self, args: Args) -> Task<Self::Output>
    where
        Args: Debug + Send + 'static,
    {
        Task::with_params(args, move |args| self.call(args, &()))
    }

    /// A [`Task`] calling this function with `args` in a worker process, for
    /// [`process().par`](crate::Process::par): the function must be a `fn` item or a closure
    /// that captures nothing, and the arguments and value serde types. If the worker dies,
    /// the task fails as [`Crashed`](crate::FailureKind::Crashed).
    ///
    /// ```
    /// use parallel::prelude::*;
    /// fn add(x: i32, y: i32) -> i32 { x + y }
    /// let sums = parallel::process().par(vec![add.remote((1, 2)), add.remote((3, 4))]).unwrap();
    /// assert_eq!(sums, vec![3, 7]);
    /// ```
    fn remote(self, args: Args) -> Task<Self::Output>
    where
        Self: RemoteFn,
        Self::Output: for<'de> Owned<'de> + Send + 'static,
        Args: Debug + for<'de> Owned<'de> + Send + 'static,
        K: 'static,
    {
        let () = Self::CAPTURES_NOTHING; // fails the build for a closure that captures values
        let _ = self; // only its type crosses
        crate::process::remote::remote_task::<Self, K, Args>(args)
    }
}

impl<F, Args, K> ParallelFn<Args, K> for F where F: TaskFn<Args, (), K> + 'static {}

/// What `F` returns when called with `A` and extras `E`.
type Out<F, A, E, K> = <F as TaskFn<A, E, K>>::Output;

/// A function bound to an executor, from [`ParallelFn::thread`] or [`ParallelFn::process`]:
/// set options, then call. The options are those of the executor, in any order.
///
/// ```
/// use parallel::prelude::*;
/// struct Table(&'static str);
/// fn store(url: &str, table: &Table) -> String { format!("{url} -> {}", table.0) }
///
/// let out = store.thread().extras(Table("webpages")).silent().map(vec!["python.org"]);
/// assert_eq!(out[0], Ok("python.org -> webpages".to_owned()));
/// ```
#[derive(Debug, Clone)]
pub struct With<F, X> {
    f: F,
    executor: X,
}

/// The options every executor has, so that [`With`] sets them once for both.
mod options {
    use std::time::Duration;

    /// An executor whose options a [`With`](super::With) sets: [`Thread`](crate::Thread) or
    /// [`Process`](crate::Process). Sealed: implemented by the crate's executors only.
    pub trait Options: Sized {
        /// The same executor in silent mode.
        type Silent;
        /// At most `n` tasks at once.
        fn max_workers(self, n: usize) -> Self;
        /// A deadline for the whole call.
        fn timeout(self, timeout: Duration) -> Self;
        /// A limit for each task.
        fn task_timeout(self, timeout: Duration) -> Self;
        /// Silent mode.
        fn silent(self) -> Self::Silent;
    }

    /// An executor that can give its tasks extras of type `X`.
    #[diagnostic::on_unimplemented(
        message = "`{X}` cannot be the extras of `{Self}`",
        label = "not extras this executor can pass",
        note = "the thread executor's extras are `Send + Sync + 'static`; the process executor's are also `Serialize` (they cross to the worker processes)"
    )]
    pub trait Extras<X>: Options {
        /// The executor with these extras.
        type With;
        /// The executor with these extras.
        fn extras(self, extras: X) -> Self::With;
    }
}

use options::{Extras, Options};

/// Delegates the shared options of an executor to its own methods.
macro_rules! options {
    ($executor:ident where E: $($bound:tt)+) => {
        impl<E, M> Options for $executor<E, M>
        where
            E: $($bound)+,
            M: Mode,
        {
            type Silent = $executor<E, Silent>;
            fn max_workers(self, n: usize) -> Self {
                $executor::max_workers(self, n)
            }
            fn timeout(self, timeout: Duration) -> Self {
                $executor::timeout(self, timeout)
            }
            fn task_timeout(self, timeout: Duration) -> Self {
                $executor::task_timeout(self, timeout)
            }
            fn silent(self) -> Self::Silent {
                $executor::silent(self)
            }
        }

        impl<E, M, X> Extras<X> for $executor<E, M>
        where
            E: $($bound)+,
            X: $($bound)+,
            M: Mode,
        {
            type With = $executor<X, M>;
            fn extras(self, extras: X) -> Self::With {
                $executor::extras(self, extras)
            }
        }
    };
}

options!(Thread where E: Send + Sync + 'static);
options!(Process where E: Serialize + Send + Sync + 'static);

impl<F, X: Options> With<F, X> {
    /// At most `n` tasks at once: see [`Thread::max_workers`], [`Process::max_workers`].
    ///
    /// # Panics
    /// If `n` is 0.
    ///
    /// ```
    /// use parallel::prelude::*;
    /// fn square(x: u64) -> u64 { x * x }
    /// assert_eq!(square.thread().max_workers(2).map(1..4).unwrap(), vec![1, 4, 9]);
    /// assert_eq!(square.process().max_workers(2).map(1..4).unwrap(), vec![1, 4, 9]);
    /// ```
    pub fn max_workers(self, n: usize) -> Self {
        With { f: self.f, executor: self.executor.max_workers(n) }
    }
    /// A deadline for the whole call: see [`Thread::timeout`], [`Process::timeout`].
    ///
    /// ```
    /// use std::time::Duration;
    /// use parallel::prelude::*;
    /// fn nap(ms: u64) -> u64 { std::thread::sleep(Duration::from_millis(ms)); ms }
    /// let err = nap.process().timeout(Duration::from_millis(200)).map(vec![0, 60_000]).unwrap_err();
    /// assert!(matches!(err, parallel::Error::Timeout { finished: 1, .. }));
    /// ```
    pub fn timeout(self, timeout: Duration) -> Self {
        With { f: self.f, executor: self.executor.timeout(timeout) }
    }
    /// A limit for each task: see [`Thread::task_timeout`], [`Process::task_timeout`].
    ///
    /// ```
    /// use std::time::Duration;
    /// use parallel::prelude::*;
    /// fn nap(ms: u64) -> u64 { std::thread::sleep(Duration::from_millis(ms)); ms }
    /// let results = nap.process().task_timeout(Duration::from_millis(200)).silent().map(vec![1, 60_000]);
    /// assert_eq!(results.succeeded(), vec![&1]);
    /// ```
    pub fn task_timeout(self, timeout: Duration) -> Self {
        With { f: self.f, executor: self.executor.task_timeout(timeout) }
    }
    /// Silent mode: see [`Thread::silent`], [`Process::silent`].
    ///
    /// ```
    /// use parallel::prelude::*;
    /// fn inverse(x: i32) -> i32 { 100 / x }
    /// assert_eq!(inverse.thread().silent().map(vec![5, 0]).replace_failed(-1), vec![20, -1]);
    /// assert_eq!(inverse.process().silent().map(vec![5, 0]).replace_failed(-1), vec![20, -1]);
    /// ```
    pub fn silent(self) -> With<F, X::Silent> {
        With { f: self.f, executor: self.executor.silent() }
    }
    /// A value every task receives by reference as the function's last argument: see
    /// [`Thread::extras`], [`Process::extras`].
    ///
    /// ```
    /// use parallel::prelude::*;
    /// fn shift(x: u32, by: &u32) -> u32 { x + by }
    /// assert_eq!(shift.thread().extras(10).map(vec![1, 2]).unwrap(), vec![11, 12]);
    /// assert_eq!(shift.process().extras(10).map(vec![1, 2]).unwrap(), vec![11, 12]);
    /// ```
    pub fn extras<Y>(self, extras: Y) -> With<F, X::With>
    where
        X: Extras<Y>,
    {
        With { f: self.f, executor: self.executor.extras(extras) }
    }
}

impl<F, E, M> With<F, Thread<E, M>>
where
    F: Send + Sync + 'static,
    E: Send + Sync + 'static,
    M: Mode,
{
    /// See [`Thread::map`].
    pub fn map<I, K, R>(self, inputs: I) -> M::Map<I, Out<F, I::Params, E, K>>
    where
        I: Inputs,
        K: Report<I::Params, R>,
        F: TaskFn<I::Params, E, K>,
        F::Output: Send + 'static,
        K: 'static,
        R: 'static,
    {
        self.executor.map(self.f, inputs)
    }

    /// See [`Thread::try_map`].
    pub fn try_map<I, K, R, T, X>(self, inputs: I) -> M::Map<I, T>
    where
        I: Inputs,
        K: Report<I::Params, R>,
        F: TaskFn<I::Params, E, K, Output = Result<T, X>>,
        T: Send + 'static,
        X: Display + Send + Sync + 'static,
        K: 'static,
        R: 'static,
    {
        self.executor.try_map(self.f, inputs)
    }

    /// See [`Thread::async_map`].
    #[allow(clippy::type_complexity)]
    pub fn async_map<I, K, R>(self, inputs: I) -> Handle<M::Map<I, Out<F, I::Params, E, K>>>
    where
        I: Inputs,
        K: Report<I::Params, R>,
        F: TaskFn<I::Params, E, K>,
        F::Output: Send + 'static,
        K: 'static,
        R: 'static,
        M::Map<I, F::Output>: Send + 'static,
    {
        self.executor.async_map(self.f, inputs)
    }
}

impl<F, E, M> With<F, Process<E, M>>
where
    E: Serialize + Send + Sync + 'static,
    M: Mode,
{
    /// Caps each worker process's memory: see [`Process::memory_limit`].
    ///
    /// ```
    /// use parallel::prelude::*;
    /// fn hog(mb: usize) -> usize { std::hint::black_box(vec![1u8; mb << 20]).len() >> 20 }
    /// let results = hog.process().memory_limit(512 << 20).silent().map(vec![1, 4_000]);
    /// assert_eq!(results[0], Ok(1));
    /// assert!(matches!(results[1].as_ref().unwrap_err().kind(), parallel::FailureKind::Crashed { .. }));
    /// ```
    pub fn memory_limit(self, bytes: u64) -> Self {
        With { f: self.f, executor: self.executor.memory_limit(bytes) }
    }

    /// See [`Process::map`].
    ///
    /// ```
    /// use parallel::prelude::*;
    /// fn shout(s: String) -> String { s.to_uppercase() }
    /// let out = shout.process().silent().map(vec!["a".to_owned(), "b".to_owned()]);
    /// assert_eq!(out.replace_failed(String::new()), vec!["A", "B"]);
    /// ```
    pub fn map<I, K>(self, inputs: I) -> M::Map<I, Out<F, I::Params, E, K>>
    where
        I: Inputs,
        I::Params: Clone + Debug + for<'de> Owned<'de>,
        F: TaskFn<I::Params, E, K> + RemoteFn,
        F::Output: for<'de> Owned<'de> + Send + 'static,
        E: for<'de> Owned<'de>,
        K: 'static,
    {
        let () = F::CAPTURES_NOTHING; // fails the build for a closure that captures values
        self.executor.map(self.f, inputs)
    }

    /// See [`Process::try_map`].
    ///
    /// ```
    /// use parallel::prelude::*;
    /// fn parse(s: String) -> Result<u8, std::num::ParseIntError> { s.parse() }
    /// let out = parse.process().silent().try_map(vec!["7".to_owned(), "x".to_owned()]);
    /// assert_eq!(out[0], Ok(7));
    /// assert_eq!(out[1].as_ref().unwrap_err().message(), "invalid digit found in string");
    /// ```
    pub fn try_map<I, K, T, X>(self, inputs: I) -> M::Map<I, T>
    where
        I: Inputs,
        I::Params: Clone + Debug + for<'de> Owned<'de>,
        F: TaskFn<I::Params, E, K, Output = Result<T, X>> + RemoteFn,
        T: for<'de> Owned<'de> + Send + 'static,
        X: Display,
        E: for<'de> Owned<'de>,
        K: 'static,
    {
        let () = F::CAPTURES_NOTHING; // fails the build for a closure that captures values
        self.executor.try_map(self.f, inputs)
    }

    /// See [`Process::async_map`].
    ///
    /// ```
    /// use parallel::prelude::*;
    /// fn add(x: u32, y: u32, offset: &u32) -> u32 { x + y + offset }
    /// let handle = add.process().extras(100u32).async_map(vec![(1, 2), (3, 4)]);
    /// assert_eq!(handle.wait().unwrap(), vec![103, 107]);
    /// ```
    #[allow(clippy::type_complexity)]
    pub fn async_map<I, K>(self, inputs: I) -> Handle<M::Map<I, Out<F, I::Params, E, K>>>
    where
        I: Inputs,
        I::Params: Clone + Debug + for<'de> Owned<'de>,
        F: TaskFn<I::Params, E, K> + RemoteFn,
        F::Output: for<'de> Owned<'de> + Send + 'static,
        E: for<'de> Owned<'de>,
        K: 'static,
        M::Map<I, F::Output>: Send + 'static,
    {
        let () = F::CAPTURES_NOTHING; // fails the build for a closure that captures values
        self.executor.async_map(self.f, inputs)
    }
}
