//! "Decorating" a function the Rust way: `use parallel::prelude::*;` and every function or
//! closure gets `.map(inputs)`, `.thread().max_workers(5).map(inputs)` and `.future(args)` —
//! and can still be called normally.
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

use serde::de::DeserializeOwned;
use serde::Serialize;
use std::time::Duration;

pub use crate::call::TaskFn;
use crate::error::Error;
use crate::handle::Handle;
use crate::inputs::Inputs;
use crate::mode::{Mode, Silent};
use crate::par::Task;
use crate::thread::{thread, Thread};

/// The methods every function gets from the prelude. Implemented for every [`TaskFn`]; you
/// never implement it.
pub trait ParallelFn<Args, K>: TaskFn<Args, (), K> + Sized {
    /// [`parallel::map`](crate::map) with this function.
    ///
    /// ```
    /// use parallel::prelude::*;
    /// fn add(x: i32, y: i32) -> i32 { x + y }
    /// assert_eq!(add.map(vec![(1, 2), (3, 4)]).unwrap(), vec![3, 7]);
    /// ```
    fn map<I>(self, inputs: I) -> Result<I::Output<Self::Output>, Error>
    where
        I: Inputs<Params = Args>,
        Args: Clone + Debug,
        Self::Output: Send + 'static,
        K: 'static,
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
    fn try_map<I, T, X>(self, inputs: I) -> Result<I::Output<T>, Error>
    where
        Self: TaskFn<Args, (), K, Output = Result<T, X>>,
        I: Inputs<Params = Args>,
        Args: Clone + Debug,
        T: Send + 'static,
        X: Display + Send + Sync + 'static,
        K: 'static,
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
    fn async_map<I>(self, inputs: I) -> Handle<Result<I::Output<Self::Output>, Error>>
    where
        I: Inputs<Params = Args>,
        I::Output<Self::Output>: Send + 'static,
        Args: Clone + Debug,
        Self::Output: Send + 'static,
        K: 'static,
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
        Self: Copy,
        Self::Output: Serialize + DeserializeOwned + Send + 'static,
        Args: Debug + Serialize + DeserializeOwned + Send + 'static,
        K: 'static,
    {
        let _ = self; // only its type crosses
        crate::remote::remote_task::<Self, K, Args>(args)
    }
}

impl<F, Args, K> ParallelFn<Args, K> for F where F: TaskFn<Args, (), K> {}

/// What `F` returns when called with `A` and extras `E`.
type Out<F, A, E, K> = <F as TaskFn<A, E, K>>::Output;

/// A function bound to an executor, from [`ParallelFn::thread`]: set options, then call.
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

impl<F, E, M> With<F, Thread<E, M>>
where
    F: Send + Sync + 'static,
    E: Send + Sync + 'static,
    M: Mode,
{
    /// See [`Thread::max_workers`].
    pub fn max_workers(self, n: usize) -> Self {
        With { f: self.f, executor: self.executor.max_workers(n) }
    }
    /// See [`Thread::timeout`].
    pub fn timeout(self, timeout: Duration) -> Self {
        With { f: self.f, executor: self.executor.timeout(timeout) }
    }
    /// See [`Thread::task_timeout`].
    pub fn task_timeout(self, timeout: Duration) -> Self {
        With { f: self.f, executor: self.executor.task_timeout(timeout) }
    }
    /// See [`Thread::silent`].
    pub fn silent(self) -> With<F, Thread<E, Silent>> {
        With { f: self.f, executor: self.executor.silent() }
    }
    /// See [`Thread::extras`].
    pub fn extras<X: Send + Sync + 'static>(self, extras: X) -> With<F, Thread<X, M>> {
        With { f: self.f, executor: self.executor.extras(extras) }
    }

    /// See [`Thread::map`].
    pub fn map<I, K>(self, inputs: I) -> M::Map<I, Out<F, I::Params, E, K>>
    where
        I: Inputs,
        I::Params: Clone + Debug,
        F: TaskFn<I::Params, E, K>,
        F::Output: Send + 'static,
        K: 'static,
    {
        self.executor.map(self.f, inputs)
    }

    /// See [`Thread::try_map`].
    pub fn try_map<I, K, T, X>(self, inputs: I) -> M::Map<I, T>
    where
        I: Inputs,
        I::Params: Clone + Debug,
        F: TaskFn<I::Params, E, K, Output = Result<T, X>>,
        T: Send + 'static,
        X: Display + Send + Sync + 'static,
        K: 'static,
    {
        self.executor.try_map(self.f, inputs)
    }

    /// See [`Thread::async_map`].
    #[allow(clippy::type_complexity)]
    pub fn async_map<I, K>(self, inputs: I) -> Handle<M::Map<I, Out<F, I::Params, E, K>>>
    where
        I: Inputs,
        I::Params: Clone + Debug,
        F: TaskFn<I::Params, E, K>,
        F::Output: Send + 'static,
        K: 'static,
        M::Map<I, F::Output>: Send + 'static,
    {
        self.executor.async_map(self.f, inputs)
    }
}
