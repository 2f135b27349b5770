//! The plain functions: each call uses the thread executor with default options — see
//! [`thread()`] to choose `max_workers`, timeouts, silent mode or extras.

use std::fmt::Display;

use crate::call::TaskFn;
use crate::completed::AsCompleted;
use crate::error::Error;
use crate::executor::{Maps, TryMaps};
use crate::handle::Handle;
use crate::inputs::Inputs;
use crate::par::Par;
use crate::report::Report;
use crate::thread::{thread, Threads};

/// Calls `f` once per input, in parallel, and returns the results in the input's shape: a
/// `Vec` in input order for sequences and iterators, the same kind of map for a `HashMap` or
/// `BTreeMap`. Tuples spread into arguments. The first failure (a panic) in input order is the
/// error.
///
/// ```
/// use std::collections::HashMap;
///
/// fn download_and_store(url: &str, expected_code: u16) -> String { format!("{url}: {expected_code}") }
///
/// let results = parallel::map(download_and_store, vec![("python.org", 204), ("rmotr.com", 201)]).unwrap();
/// assert_eq!(results[0], "python.org: 204");
///
/// let named = parallel::map(download_and_store, HashMap::from([("python", ("python.org", 204))])).unwrap();
/// assert_eq!(named["python"], "python.org: 204");
/// ```
pub fn map<I, F, K, R>(f: F, inputs: I) -> Result<I::Output<F::Output>, Error>
where
    I: Inputs,
    F: TaskFn<I::Params, (), K>,
    Threads: Maps<F, I::Params, (), K, R>,
{
    thread().map(f, inputs)
}

/// [`map`] for a function that returns `Result`: an `Err` fails its task.
///
/// ```
/// let n = parallel::try_map(|s: &str| s.parse::<i32>(), ["1", "-2"]).unwrap();
/// assert_eq!(n, vec![1, -2]);
/// ```
pub fn try_map<I, F, K, R, T, X>(f: F, inputs: I) -> Result<I::Output<T>, Error>
where
    I: Inputs,
    F: TaskFn<I::Params, (), K, Output = Result<T, X>>,
    Threads: TryMaps<F, I::Params, (), K, R, T, X>,
{
    thread().try_map(f, inputs)
}

/// Calls `f` once per input, in parallel, and hands out each task's outcome as it completes:
/// an [`AsCompleted`] of `(key, Result<value, FailedTask>)`, an iterator and a `Stream`. See
/// [`Executor::as_completed`](crate::Executor::as_completed).
///
/// ```
/// let mut squares: Vec<(usize, u64)> = parallel::as_completed(|x: u64| x * x, 0..5)
///     .map(|(index, outcome)| (index, outcome.unwrap()))
///     .collect();
/// squares.sort();
/// assert_eq!(squares, vec![(0, 0), (1, 1), (2, 4), (3, 9), (4, 16)]);
/// ```
pub fn as_completed<I, F, K, R>(f: F, inputs: I) -> AsCompleted<I::Key, F::Output>
where
    I: Inputs,
    F: TaskFn<I::Params, (), K>,
    Threads: Maps<F, I::Params, (), K, R>,
{
    thread().as_completed(f, inputs)
}

/// [`map`] without blocking: returns a [`Handle`] at once.
///
/// ```
/// let handle = parallel::async_map(|x: u32| x.pow(2), 1..4);
/// assert_eq!(handle.wait().unwrap(), vec![1, 4, 9]);
/// ```
pub fn async_map<I, F, K, R>(f: F, inputs: I) -> Handle<Result<I::Output<F::Output>, Error>>
where
    I: Inputs,
    F: TaskFn<I::Params, (), K>,
    Threads: Maps<F, I::Params, (), K, R>,
    I::Output<F::Output>: Send + 'static,
{
    thread().async_map(f, inputs)
}

/// [`try_map`] without blocking: returns a [`Handle`] at once.
///
/// ```
/// let handle = parallel::async_try_map(|s: &str| s.parse::<u8>(), ["300"]);
/// assert!(handle.wait().is_err());
/// ```
pub fn async_try_map<I, F, K, R, T, X>(f: F, inputs: I) -> Handle<Result<I::Output<T>, Error>>
where
    I: Inputs,
    F: TaskFn<I::Params, (), K, Output = Result<T, X>>,
    Threads: TryMaps<F, I::Params, (), K, R, T, X>,
    I::Output<T>: Send + 'static,
{
    thread().async_try_map(f, inputs)
}

/// [`map`] over borrowed data, with a function that may borrow the caller's locals: `&v`,
/// `v.iter()`, `&mut v` or anything else iterable, in the thread executor's default options.
/// The call returns only once every task it started has ended; see
/// [`Thread::scoped_map`](crate::Thread::scoped_map) for how it treats timeouts.
///
/// ```
/// let v = vec![1u64, 2, 3];
/// let factor = 10;
/// assert_eq!(parallel::scoped_map(|x: &u64| x * factor, &v).unwrap(), vec![10, 20, 30]);
/// assert_eq!(parallel::scoped_map(|x: &u64| x + 1, v.iter().rev()).unwrap(), vec![4, 3, 2]);
/// ```
pub fn scoped_map<I, F, K, R>(f: F, inputs: I) -> Result<Vec<F::Output>, Error>
where
    I: IntoIterator,
    I::IntoIter: Send,
    I::Item: Send,
    K: Report<I::Item, R>,
    F: TaskFn<I::Item, (), K>,
    F::Output: Send,
{
    thread().scoped_map(f, inputs)
}

/// [`scoped_map`] for a function that returns `Result`: an `Err` fails its task.
///
/// ```
/// let lines = vec!["4", "x"];
/// let err = parallel::scoped_try_map(|s: &&str| s.parse::<u8>(), &lines).unwrap_err();
/// assert_eq!(err.to_string(), "task 1 with parameters \"x\" returned an error: invalid digit found in string");
/// ```
pub fn scoped_try_map<I, F, K, R, T, X>(f: F, inputs: I) -> Result<Vec<T>, Error>
where
    I: IntoIterator,
    I::IntoIter: Send,
    I::Item: Send,
    K: Report<I::Item, R>,
    F: TaskFn<I::Item, (), K, Output = Result<T, X>>,
    T: Send,
    X: Display + Send + Sync + 'static,
{
    thread().scoped_try_map(f, inputs)
}

/// Runs different functions concurrently: a tuple of closures gives a tuple of results (each
/// of its own type); a `HashMap`, `BTreeMap` or `Vec` of [`Task`](crate::Task)s gives the same
/// shape back.
///
/// ```
/// use std::collections::HashMap;
/// use parallel::prelude::*;
///
/// fn price(exchange: &str) -> f64 { if exchange == "bitstamp" { 64_000.0 } else { 3_100.0 } }
///
/// let (btc, eth) = parallel::par((|| price("bitstamp"), || price("bitfinex"))).unwrap();
/// assert!(btc > eth);
///
/// let prices = parallel::par(HashMap::from([
///     ("btc", price.future("bitstamp")),
///     ("eth", price.future("bitfinex")),
/// ])).unwrap();
/// assert_eq!(prices["eth"], 3_100.0);
/// ```
pub fn par<P: Par>(tasks: P) -> Result<P::Output, Error> {
    thread().par(tasks)
}

/// [`par`] without blocking: returns a [`Handle`] at once.
///
/// ```
/// let handle = parallel::async_par((|| 1, || "one"));
/// assert_eq!(handle.wait().unwrap(), (1, "one"));
/// ```
pub fn async_par<P>(tasks: P) -> Handle<Result<P::Output, Error>>
where
    P: Par,
    <P::Tasks as Inputs>::Output<P::Value>: Send + 'static,
    P::Output: Send + 'static,
{
    thread().async_par(tasks)
}
