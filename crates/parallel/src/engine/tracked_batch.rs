//! A tracked batch in flight: the tasks `start ..` of a call with a deadline or a task
//! timeout — first those finished, then the running one (or, for a work of remote batches, the
//! running ones), then those pending — which its pool
//! thread runs and the driver can close (`tracked.rs`).

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::engine::chunks::Chunk;
use crate::engine::work::{Interrupt, Start, StartProbe, Work};

/// How long a worker may take to load what a task needs (its function, the call's extras and
/// initializer) when that is longer than the task's `task_timeout`: a Python worker imports their modules,
/// which the caller's process has imported already, so a load that takes longer is stuck.
pub(crate) const LOADING_LIMIT: Duration = Duration::from_secs(60);

/// A tracked batch in flight.
pub(crate) struct TrackedBatch<W: Work> {
    pub(crate) start: usize,
    pub(crate) state: Mutex<TrackedBatchState<W>>,
}

pub(crate) struct TrackedBatchState<W: Work> {
    pub(crate) finished: Chunk<W::Out>,
    /// The running task.
    pub(crate) running: Option<Running<W::Kept>>,
    /// The tasks running with it in one [`Work::run_many`] (a work of remote batches runs a
    /// batch whole): what is kept of their parameters.
    pub(crate) running_with: Vec<W::Kept>,
    pub(crate) pending: VecDeque<W::Params>,
    /// Set once, by whoever delivers the chunk.
    pub(crate) closed: bool,
    /// The attempt the running task is (1 for its first run).
    pub(crate) attempt: u32,
    /// The attempts the first pending task has had: it failed and runs again (`retry.rs`).
    pub(crate) retried: u32,
    /// Bumped when the driver takes the running task away from its pool thread to run it
    /// again (it passed its `task_timeout`): that thread's outcome is then no longer wanted.
    pub(crate) generation: u64,
    /// The batch lost its pool thread that way, and waits for another to adopt it.
    pub(crate) orphaned: bool,
}

/// The running task of a tracked batch.
pub(crate) struct Running<K> {
    /// What is kept of its parameters.
    pub(crate) kept: K,
    /// When its pool thread handed it over.
    pub(crate) at: Instant,
    /// How to stop it (worker processes can be killed; threads cannot).
    pub(crate) interrupt: Option<Interrupt>,
    /// How to learn when its worker began to run it ([`Work::start_probe`]).
    pub(crate) probe: Option<StartProbe>,
}

impl<K> Running<K> {
    /// A task handed over now.
    pub(crate) fn new(kept: K, interrupt: Option<Interrupt>, probe: Option<StartProbe>) -> Self {
        Running { kept, at: Instant::now(), interrupt, probe }
    }

    /// When the task passes its `limit`, and whether its worker is still loading what it needs
    /// (then the limit is that of the load: `limit` or [`LOADING_LIMIT`], whichever is
    /// longer, from when it was handed over).
    pub(crate) fn due(&self, limit: Duration) -> (Instant, bool) {
        match self.probe.as_ref().and_then(|probe| probe()) {
            None => (self.at + limit, false),
            Some(Start::Loading) => (self.at + limit.max(LOADING_LIMIT), true),
            Some(Start::Began(at)) => (at.max(self.at) + limit, false),
        }
    }
}

impl<W: Work> TrackedBatchState<W> {
    /// The index of the next task to start.
    pub(crate) fn next_index(&self) -> usize {
        self.finished.start + self.finished.len + usize::from(self.running.is_some()) + self.running_with.len()
    }
}

impl<W: Work> TrackedBatch<W> {
    pub(crate) fn new(start: usize, pending: VecDeque<W::Params>) -> Arc<Self> {
        let finished = Chunk::new(start, pending.len());
        Arc::new(TrackedBatch {
            start,
            state: Mutex::new(TrackedBatchState {
                finished,
                running: None,
                running_with: Vec::new(),
                pending,
                closed: false,
                attempt: 1,
                retried: 0,
                generation: 0,
                orphaned: false,
            }),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicU8, Ordering};

    #[test]
    fn a_tasks_limit_counts_from_when_its_worker_began_it() {
        let limit = Duration::from_secs(1);
        // A worker that never says: from when the task was handed over.
        let silent = Running::new((), None, None);
        assert_eq!(silent.due(limit), (silent.at + limit, false));
        // A worker that says: loading, then began.
        let said = Arc::new(AtomicU8::new(0));
        let began = Instant::now() + Duration::from_millis(500);
        let probe: StartProbe = {
            let said = Arc::clone(&said);
            Box::new(move || match said.load(Ordering::SeqCst) {
                0 => None,
                1 => Some(Start::Loading),
                _ => Some(Start::Began(began)),
            })
        };
        let running = Running::new((), None, Some(probe));
        assert_eq!(running.due(limit), (running.at + limit, false), "not yet read by the worker");
        said.store(1, Ordering::SeqCst);
        assert_eq!(running.due(limit), (running.at + LOADING_LIMIT, true), "a load may take 60s");
        assert_eq!(running.due(Duration::from_secs(90)), (running.at + Duration::from_secs(90), true), "or the limit");
        said.store(2, Ordering::SeqCst);
        assert_eq!(running.due(limit), (began + limit, false));
    }
}
