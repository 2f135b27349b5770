//! How far a call has got: [`Progress`], read from a running call's [`Handle`](crate::Handle)
//! at any time. The engine counts each task as its outcome is delivered, so the counts cost
//! the hot path two atomic additions per batch, not per task.

use std::sync::atomic::{AtomicUsize, Ordering};

/// How far a call has got: `done` tasks have an outcome (a value or a failure), `failed` of
/// them failed, of `total` — `None` while the input is an iterator not yet read to its end.
///
/// `done` only grows, and ends at `total` once the call has ended with every task's outcome
/// (strict calls stop at their first failure, with `done` below `total`).
///
/// ```
/// let handle = parallel::async_map(|x: u64| x + 1, vec![1, 2, 3]);
/// let early = handle.progress();
/// assert!(early.done <= 3 && early.total == Some(3));
/// let results = handle.wait();
/// assert_eq!(results.unwrap(), vec![2, 3, 4]);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Progress {
    /// Tasks with an outcome: succeeded or failed.
    pub done: usize,
    /// Tasks that failed (any [`FailureKind`](crate::FailureKind)), among `done`.
    pub failed: usize,
    /// How many tasks the call has, once known.
    pub total: Option<usize>,
}

/// A call's counts, shared by its state (which adds to them) and its handle (which reads them).
#[derive(Debug)]
pub(crate) struct Counts {
    done: AtomicUsize,
    failed: AtomicUsize,
    /// `usize::MAX` until known.
    total: AtomicUsize,
}

impl Counts {
    /// The counts of a call of `total` tasks, if known at its start.
    pub(crate) fn new(total: Option<usize>) -> Self {
        Counts {
            done: AtomicUsize::new(0),
            failed: AtomicUsize::new(0),
            total: AtomicUsize::new(total.unwrap_or(usize::MAX)),
        }
    }

    /// `len` more tasks have an outcome, `failed` of them a failure; returns how many have one.
    pub(crate) fn add(&self, len: usize, failed: usize) -> usize {
        if failed > 0 {
            // Before `done`: a reader never sees more failures than outcomes.
            self.failed.fetch_add(failed, Ordering::AcqRel);
        }
        self.done.fetch_add(len, Ordering::AcqRel) + len
    }

    /// The call has `total` tasks.
    pub(crate) fn set_total(&self, total: usize) {
        self.total.store(total, Ordering::Release);
    }

    /// How many tasks the call has, once known.
    pub(crate) fn total(&self) -> Option<usize> {
        Some(self.total.load(Ordering::Acquire)).filter(|&t| t != usize::MAX)
    }

    pub(crate) fn progress(&self) -> Progress {
        let done = self.done.load(Ordering::Acquire);
        let failed = self.failed.load(Ordering::Acquire).min(done);
        Progress { done, failed, total: self.total() }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_add_up_and_the_total_is_known_once_set() {
        let counts = Counts::new(None);
        assert_eq!(counts.progress(), Progress { done: 0, failed: 0, total: None });
        assert_eq!(counts.add(3, 1), 3);
        counts.set_total(5);
        assert_eq!(counts.add(2, 0), 5);
        assert_eq!(counts.progress(), Progress { done: 5, failed: 1, total: Some(5) });
    }
}
