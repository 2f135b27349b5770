//! The parameters of a call on another program, fed while the call runs: the caller encodes
//! them run after run (a Python caller pickles them, the GIL held) while the pool threads send
//! the runs already fed to the workers, so encoding the arguments and running the first tasks
//! overlap. A pool thread whose tasks are not fed yet waits for them.
//!
//! A feed made [`releasing`](Feed::releasing) lets go of each run once every one of its tasks
//! was sent: a call streamed from an iterator of unknown length holds only the parameters of
//! the tasks it has read and not yet sent.

use std::ops::Range;
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

use crate::engine::sync::lock;
use crate::process::encoded::Encoded;

/// Tasks' parameters, fed in runs ([`Encoded`] each) while their call runs.
///
/// ```
/// use parallel::plumbing::{Encoded, Feed};
///
/// let feed = Feed::new();
/// let mut first = Encoded::new();
/// first.push(b"a", Vec::new());
/// feed.push(first);
/// assert_eq!(feed.fed(), 1);
/// feed.fail("the caller stopped"); // the tasks not fed fail with this
/// ```
#[derive(Clone, Default)]
pub struct Feed(Arc<Inner>);

#[derive(Default)]
struct Inner {
    state: Mutex<State>,
    grew: Condvar,
}

#[derive(Default)]
struct State {
    /// Each run fed and still held: its first task, its parameters, and how many of its tasks
    /// were sent (found by [`Feed::find`]).
    runs: std::collections::VecDeque<(usize, Arc<Encoded>, usize)>,
    fed: usize,
    /// A run is let go of once its every task was sent.
    release: bool,
    /// Why the tasks not fed never will be.
    failed: Option<String>,
}

/// What a pool thread finds for a run of tasks.
pub(crate) struct Found {
    /// The runs fed that hold some of the tasks: `(first task of the run, its parameters)`.
    pub(crate) runs: Vec<(usize, Arc<Encoded>)>,
    /// How many of the tasks are fed (all, unless `failed` or the call stopped meanwhile).
    pub(crate) fed: usize,
    pub(crate) failed: Option<String>,
}

impl std::fmt::Debug for Feed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Feed").field("fed", &self.fed()).finish_non_exhaustive()
    }
}

impl Feed {
    /// Nothing fed yet.
    pub fn new() -> Self {
        Feed::default()
    }

    /// Nothing fed yet; each run is let go of once every one of its tasks was sent to a
    /// worker (each task is sent once: a worker that dies mid-batch hands the rest of the
    /// batch to the next with the parameters it already holds). For parameters fed from a
    /// stream, whose runs would otherwise all stay until the call ends.
    ///
    /// ```
    /// use parallel::plumbing::{Encoded, Feed};
    /// let feed = Feed::releasing();
    /// let mut run = Encoded::new();
    /// run.push(b"a", Vec::new());
    /// feed.push(run);
    /// assert_eq!(feed.fed(), 1);
    /// ```
    pub fn releasing() -> Self {
        let feed = Feed::new();
        lock(&feed.0.state).release = true;
        feed
    }

    /// Every task fed at once.
    pub fn of(params: Encoded) -> Self {
        let feed = Feed::new();
        feed.push(params);
        feed
    }

    /// The next run of tasks' parameters.
    pub fn push(&self, params: Encoded) {
        let mut state = lock(&self.0.state);
        let first = state.fed;
        state.fed += params.len();
        state.runs.push_back((first, Arc::new(params), 0));
        drop(state);
        self.0.grew.notify_all();
    }

    /// The tasks not fed yet never will be: they fail with `message`.
    pub fn fail(&self, message: impl Into<String>) {
        let mut state = lock(&self.0.state);
        state.failed.get_or_insert_with(|| message.into());
        drop(state);
        self.0.grew.notify_all();
    }

    /// How many tasks are fed so far.
    pub fn fed(&self) -> usize {
        lock(&self.0.state).fed
    }

    /// The runs that hold `tasks`, once they are fed — or as many as are when the feed fails
    /// or `stopped` says the call stopped (looked at every few milliseconds while waiting).
    pub(crate) fn find(&self, tasks: Range<usize>, stopped: &dyn Fn() -> bool) -> Found {
        let mut state = lock(&self.0.state);
        while state.fed < tasks.end && state.failed.is_none() && !stopped() {
            state =
                self.0.grew.wait_timeout(state, Duration::from_millis(5)).map_or_else(|e| e.into_inner().0, |r| r.0);
        }
        let fed = state.fed.min(tasks.end).saturating_sub(tasks.start);
        let first = state.runs.partition_point(|(start, p, _)| start + p.len() <= tasks.start);
        let release = state.release;
        let mut runs = Vec::new();
        // The tasks covered by the runs held, from `tasks.start` on: all that are fed, unless
        // a run was let go of (its tasks were sent before: then none are found here).
        let mut covered = 0;
        for (start, params, sent) in state.runs.range_mut(first..) {
            if *start >= tasks.end {
                break;
            }
            if *start > tasks.start + covered {
                break; // a gap: the runs before it were let go of
            }
            let end = (*start + params.len()).min(tasks.end).min(tasks.start + fed);
            covered = end.saturating_sub(tasks.start);
            *sent += end.saturating_sub((*start).max(tasks.start));
            runs.push((*start, Arc::clone(params)));
        }
        if release {
            // Runs whose every task was sent: no one needs their parameters again.
            state.runs.retain(|(_, params, sent)| *sent < params.len());
        }
        Found { runs, fed: fed.min(covered), failed: state.failed.clone() }
    }

    /// Task `task`'s size, if it is fed.
    pub(crate) fn size(&self, task: usize) -> Option<usize> {
        let state = lock(&self.0.state);
        let at = state.runs.partition_point(|(start, p, _)| start + p.len() <= task);
        state.runs.get(at).filter(|(start, _, _)| *start <= task).map(|(start, p, _)| p.size(task - start))
    }
}
