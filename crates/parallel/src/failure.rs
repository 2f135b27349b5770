//! Failures, through the stages a failed task goes through, each stage's type here or named
//! here:
//!
//! 1. **[`Fault`]**: how a task failed, as its [`Work`](crate::plumbing::Work) reports it — a
//!    [`FailureKind`], a message, and the error value when there is one ([`ErrorValue`]: the
//!    `Err` of `try_map`, a Python exception). A worker process that dies is first a `Death`
//!    (the supervisor's: its signal or exit code), which becomes a `Fault` of kind `Crashed`.
//! 2. **[`Failure`]**: the engine's record of it — the fault plus the task's parameters,
//!    described — kept in the chunk of outcomes that carried it.
//! 3. **[`FailedTask`](crate::FailedTask)** (`results.rs`): what the user sees — the failure
//!    with the task's index (and key), in the results of a silent call or inside
//!    [`Error::Task`](crate::Error::Task).

use std::any::Any;
use std::fmt;
use std::fmt::Debug;
use std::sync::Arc;

/// How a task failed.
///
/// ```
/// let results = parallel::thread().silent().map(|x: i32| if x == 1 { panic!("one") } else { x }, 0..3);
/// assert_eq!(*results[1].as_ref().unwrap_err().kind(), parallel::FailureKind::Panicked);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum FailureKind {
    /// The function returned `Err` (through `try_map`).
    Error,
    /// The function panicked; the message is the panic's.
    Panicked,
    /// The task passed its `task_timeout`, or was unfinished when the call's `timeout` passed.
    TimedOut,
    /// The call was cancelled before the task started.
    Cancelled,
    /// The worker process running the task died: killed by `signal`, or exited with `code`
    /// (process executor).
    Crashed {
        /// The signal that killed the worker (11 is SIGSEGV, 6 SIGABRT, 9 SIGKILL).
        signal: Option<i32>,
        /// The worker's exit code, if it exited.
        code: Option<i32>,
    },
}

impl fmt::Display for FailureKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            FailureKind::Error => "returned an error",
            FailureKind::Panicked => "panicked",
            FailureKind::TimedOut => "timed out",
            FailureKind::Cancelled => "was cancelled",
            FailureKind::Crashed { .. } => "crashed its worker process",
        })
    }
}

/// How a task failed, as its [`Work`](crate::plumbing::Work) reports it: the kind, a message, and the error value
/// itself when there is one (the `Err` of `try_map`; what a binding needs to raise again).
///
/// ```
/// use parallel::plumbing::Fault;
/// use parallel::FailureKind;
/// let fault = Fault::new(FailureKind::Error, "no such file").with_error(std::io::ErrorKind::NotFound);
/// assert_eq!(fault.message, "no such file");
/// assert!(fault.error.is_some());
/// ```
#[derive(Clone)]
pub struct Fault {
    /// How the task failed.
    pub kind: FailureKind,
    /// What the failure says.
    pub message: String,
    /// The error value, if the task failed with one; see [`FailedTask::error`](crate::FailedTask::error).
    pub error: Option<ErrorValue>,
    /// How many times the task ran: 1, or more after [`retries`](crate::Executor::retries).
    pub attempts: u32,
}

/// The error value a failed task keeps: any `Send + Sync` value, shared.
pub type ErrorValue = Arc<dyn Any + Send + Sync>;

impl Fault {
    /// A failure of `kind` saying `message`, without an error value.
    pub fn new(kind: FailureKind, message: impl Into<String>) -> Self {
        Fault { kind, message: message.into(), error: None, attempts: 1 }
    }

    /// The failure of a task that never started because its call stopped.
    pub fn cancelled() -> Self {
        Fault::new(FailureKind::Cancelled, "the call was cancelled before the task started")
    }

    /// The same failure, keeping `error` as its error value.
    pub fn with_error<X: Any + Send + Sync>(mut self, error: X) -> Self {
        self.error = Some(Arc::new(error));
        self
    }
}

impl Debug for Fault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Fault").field("kind", &self.kind).field("message", &self.message).finish_non_exhaustive()
    }
}

/// Why a task produced no value.
#[derive(Clone)]
pub struct Failure {
    pub(crate) kind: FailureKind,
    pub(crate) message: String,
    pub(crate) params: String,
    pub(crate) error: Option<ErrorValue>,
    pub(crate) attempts: u32,
}

impl Failure {
    /// A failure without an error value.
    pub(crate) fn new(kind: FailureKind, message: String, params: String) -> Self {
        Failure { kind, message, params, error: None, attempts: 1 }
    }

    /// The failure a task's work reported, with its parameters described.
    pub(crate) fn of(fault: Fault, params: String) -> Self {
        Failure { kind: fault.kind, message: fault.message, params, error: fault.error, attempts: fault.attempts }
    }
}
