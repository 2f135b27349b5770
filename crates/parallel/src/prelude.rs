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

use std::fmt::Debug;

pub use crate::call::TaskFn;
use crate::error::Error;
pub use crate::executor::Holds;
use crate::executor::{Executor, Maps, TryMaps};
use crate::handle::Handle;
use crate::inputs::Inputs;
use crate::mode::Strict;
use crate::par::Task;
pub use crate::process::Processes;
use crate::process::{process, Owned, RemoteFn};
use crate::thread::thread;
pub use crate::thread::Threads;

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
        Threads: Maps<Self, Args, (), K, R>,
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
        Threads: TryMaps<Self, Args, (), K, R, T, X>,
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
        Threads: Maps<Self, Args, (), K, R>,
        I::Output<Self::Output>: Send + 'static,
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
    fn thread(self) -> With<Self> {
        thread().holding(self)
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
    fn process(self) -> With<Self, Processes> {
        process().holding(self)
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

/// A function held by an executor, from [`ParallelFn::thread`] or [`ParallelFn::process`]:
/// set options — those of the executor, in any order — then call `map`, `try_map` or
/// `async_map` with the inputs alone. It is an [`Executor`] that holds the function, so its
/// options are the executor's own.
///
/// ```
/// use parallel::prelude::*;
/// struct Table(&'static str);
/// fn store(url: &str, table: &Table) -> String { format!("{url} -> {}", table.0) }
///
/// let out = store.thread().extras(Table("webpages")).silent().map(vec!["python.org"]);
/// assert_eq!(out[0], Ok("python.org -> webpages".to_owned()));
///
/// fn inverse(x: i32) -> i32 { 100 / x }
/// let held: With<_, Processes> = inverse.process();
/// assert_eq!(held.max_workers(2).silent().map(vec![5, 0]).replace_failed(-1), vec![20, -1]);
/// ```
pub type With<F, B = Threads, E = (), M = Strict> = Executor<B, E, M, Holds<F>>;
