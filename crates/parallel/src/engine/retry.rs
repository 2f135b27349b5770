//! Retries: a call's policy for running a failed task again ([`Retry`]).
//!
//! A retry is a new attempt after a reported failure: the engine runs the task again with
//! parameters the work gives back from what it kept ([`Work::again`](crate::plumbing::Work::again)),
//! on the same pool thread for a plain batch, and as the next task of its tracked batch (so
//! a `task_timeout` still applies) when the call tracks its batches. A task that succeeds ran
//! once; a task that crashed its worker process runs again on a new one.

use std::fmt;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Arc;

use crate::failure::{FailureKind, Fault};

/// Which failures a call retries: see [`Executor::retry_if`](crate::Executor::retry_if).
pub type RetryIf = Arc<dyn Fn(&Fault) -> bool + Send + Sync>;

/// How many more times a failed task runs, and which failures count.
#[derive(Clone)]
pub(crate) struct Retry {
    /// Attempts after the first, at most.
    pub(crate) times: u32,
    /// The failures retried; `None`: every one (but a cancel, which is not the task's).
    pub(crate) when: Option<RetryIf>,
}

impl Retry {
    /// `true` if a task that failed with `fault` — after `fault.attempts` attempts — runs
    /// again. A predicate that panics retries nothing.
    pub(crate) fn wants(&self, fault: &Fault) -> bool {
        if fault.attempts > self.times || fault.kind == FailureKind::Cancelled {
            return false;
        }
        match &self.when {
            None => true,
            Some(when) => catch_unwind(AssertUnwindSafe(|| when(fault))).unwrap_or(false),
        }
    }
}

// An executor stays unwind safe, as it is with progress callbacks: `when` is only called by a
// call's pool threads, where a panic in it is caught and retries nothing; nothing observes its
// state half-updated through the executor.
impl std::panic::UnwindSafe for Retry {}
impl std::panic::RefUnwindSafe for Retry {}

impl fmt::Debug for Retry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Retry").field("times", &self.times).field("when", &self.when.is_some()).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failure_is_retried_while_attempts_are_left_and_never_a_cancel() {
        let retry = Retry { times: 2, when: None };
        let mut fault = Fault::new(FailureKind::Error, "boom");
        assert!(retry.wants(&fault));
        fault.attempts = 3;
        assert!(!retry.wants(&fault), "three attempts: two retries used");
        assert!(!retry.wants(&Fault::cancelled()));
    }

    #[test]
    fn a_predicate_chooses_and_one_that_panics_retries_nothing() {
        let crashes =
            Retry { times: 1, when: Some(Arc::new(|f: &Fault| matches!(f.kind, FailureKind::Crashed { .. }))) };
        assert!(!crashes.wants(&Fault::new(FailureKind::Error, "boom")));
        assert!(crashes.wants(&Fault::new(FailureKind::Crashed { signal: Some(9), code: None }, "killed")));
        let panics = Retry { times: 1, when: Some(Arc::new(|_: &Fault| panic!("predicate"))) };
        assert!(!panics.wants(&Fault::new(FailureKind::Error, "boom")));
    }
}
