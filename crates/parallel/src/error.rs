//! The error of a call that is not silent.

use std::fmt;
use std::time::Duration;

use crate::results::FailedTask;

/// Why a call that is not [silent](crate::Thread::silent) gave no output.
///
/// ```
/// let err = parallel::map(|x: i32| if x == 2 { panic!("bad input") } else { x }, 0..4).unwrap_err();
/// assert_eq!(err.to_string(), "task 2 with parameters 2 panicked: bad input");
/// let parallel::Error::Task(failed) = err else { unreachable!() };
/// assert_eq!(failed.index(), 2);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error {
    /// A task failed: the first failure in input order.
    Task(FailedTask),
    /// The call's `timeout` passed before every task finished.
    Timeout {
        /// The call's timeout.
        timeout: Duration,
        /// How many tasks had finished.
        finished: usize,
    },
    /// The call was cancelled through its [`Handle`](crate::Handle).
    Cancelled,
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Task(failed) => failed.fmt(f),
            Error::Timeout { timeout, finished } => write!(
                f,
                "the call timed out after {timeout:?} with {finished} task{} finished; \
                 raise the timeout or use silent() to keep the finished results",
                if *finished == 1 { "" } else { "s" }
            ),
            Error::Cancelled => f.write_str("the call was cancelled"),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Task(failed) => Some(failed),
            _ => None,
        }
    }
}

impl From<FailedTask> for Error {
    fn from(failed: FailedTask) -> Self {
        Error::Task(failed)
    }
}
