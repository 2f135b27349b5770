//! A tracked batch in flight: the tasks `start ..` of a call with a deadline or a task
//! timeout — first those finished, then the running one (or, for a work of remote batches, the
//! running ones), then those pending — which its pool
//! thread runs and the driver can close (`tracked.rs`).

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use crate::engine::chunks::Chunk;
use crate::engine::work::{Interrupt, Work};

/// A tracked batch in flight.
pub(crate) struct TrackedBatch<W: Work> {
    pub(crate) start: usize,
    pub(crate) state: Mutex<TrackedBatchState<W>>,
}

pub(crate) struct TrackedBatchState<W: Work> {
    pub(crate) finished: Chunk<W::Out>,
    /// The running task: what is kept of its parameters, when it started, and how to stop it
    /// (worker processes can be killed; threads cannot).
    pub(crate) running: Option<(W::Kept, Instant, Option<Interrupt>)>,
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
