//! Strict or silent: what a call gives back when tasks fail.
//!
//! A [`Strict`] call (the default) returns `Result<output, Error>`: the output in the input's
//! shape, or the first failure in input order — as soon as every task before it has
//! succeeded, without waiting for the rest. A [`Silent`] call returns [`Results`]: every
//! task's value or [`FailedTask`] in its place.

use std::time::Duration;

use crate::engine::chunks::Collected;
use crate::error::Error;
use crate::failure::Failure;
use crate::inputs::Inputs;
use crate::par::Par;
use crate::results::{Details, FailedTask, Results};

/// Strict or silent; chosen with [`Thread::silent`](crate::Thread::silent).
pub trait Mode: sealed::Finish + Send + Sync + 'static {}

/// The default mode: the first failure in input order is the call's error.
///
/// ```
/// let strict: parallel::Thread<(), parallel::Strict> = parallel::thread();
/// assert!(strict.map(|x: u8| x.checked_sub(1).unwrap(), vec![1, 0]).is_err());
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct Strict;

/// Silent mode: failures are kept in place, and the call returns [`Results`].
///
/// ```
/// let silent: parallel::Thread<(), parallel::Silent> = parallel::thread().silent();
/// let results = silent.map(|x: u8| x.checked_sub(1).unwrap(), vec![1, 0]);
/// assert_eq!(results.failed().len(), 1);
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct Silent;

impl Mode for Strict {}
impl Mode for Silent {}

pub(crate) mod sealed {
    use super::*;

    /// How a mode turns a call's collected outcomes into its output.
    pub trait Finish {
        /// The output of `map` over `I` with values `T`.
        type Map<I: Inputs, T>;
        /// The output of `par` over `P`.
        type Par<P: Par>;
        /// `true` for silent calls.
        const SILENT: bool;
        /// The output of `map`.
        fn map<I: Inputs, T>(collected: Collected<T>, keys: I::Keys, timeout: Option<Duration>) -> Self::Map<I, T>;
        /// The output of `par`, from that of the `map` it ran as.
        fn par<P: Par>(output: Self::Map<P::Tasks, P::Value>) -> Self::Par<P>;
    }
}

fn failed_task<I: Inputs>(keys: &I::Keys, index: usize, failure: Failure) -> FailedTask {
    failed_task_keyed(index, I::describe_key(keys, index), failure)
}

/// Task `index`'s failure as the caller sees it, with the key it is known by (maps).
pub(crate) fn failed_task_keyed(index: usize, key: Option<String>, failure: Failure) -> FailedTask {
    FailedTask(Box::new(Details {
        index,
        key,
        params: failure.params,
        kind: failure.kind,
        message: failure.message,
        error: failure.error,
        attempts: failure.attempts,
    }))
}

impl sealed::Finish for Strict {
    type Map<I: Inputs, T> = Result<I::Output<T>, Error>;
    type Par<P: Par> = Result<P::Output, Error>;
    const SILENT: bool = false;

    fn map<I: Inputs, T>(collected: Collected<T>, keys: I::Keys, timeout: Option<Duration>) -> Self::Map<I, T> {
        match collected {
            Collected::Values(values) => Ok(I::assemble(keys, values)),
            Collected::Failed(index, failure) => Err(Error::Task(failed_task::<I>(&keys, index, failure))),
            Collected::TimedOut { finished } => Err(Error::Timeout { timeout: timeout.unwrap_or_default(), finished }),
            Collected::Cancelled => Err(Error::Cancelled),
            Collected::Outcomes { values, failures } => {
                Silent::map::<I, T>(Collected::Outcomes { values, failures }, keys, timeout).into_result()
            }
        }
    }

    fn par<P: Par>(output: Self::Map<P::Tasks, P::Value>) -> Self::Par<P> {
        output.map(P::output)
    }
}

impl sealed::Finish for Silent {
    type Map<I: Inputs, T> = Results<I, T>;
    type Par<P: Par> = P::Silent;
    const SILENT: bool = true;

    fn map<I: Inputs, T>(collected: Collected<T>, keys: I::Keys, _: Option<Duration>) -> Self::Map<I, T> {
        let outcomes = match collected {
            Collected::Values(values) => values.into_iter().map(Ok).collect(),
            Collected::Outcomes { values, failures } => {
                let total = values.len() + failures.len();
                let mut values = values.into_iter();
                let mut failures = failures.into_iter().peekable();
                (0..total)
                    .filter_map(|index| match failures.next_if(|(i, _)| *i == index) {
                        Some((_, failure)) => Some(Err(failed_task::<I>(&keys, index, failure))),
                        None => values.next().map(Ok),
                    })
                    .collect()
            }
            // A silent call ends these ways only when its handle was dropped: nobody reads this.
            Collected::Failed(..) | Collected::TimedOut { .. } | Collected::Cancelled => Vec::new(),
        };
        Results::new(keys, outcomes)
    }

    fn par<P: Par>(output: Self::Map<P::Tasks, P::Value>) -> Self::Par<P> {
        P::silent(output)
    }
}
