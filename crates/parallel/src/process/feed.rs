//! The parameters of a call on another program, fed while the call runs: the caller encodes
//! them run after run (a Python caller pickles them, the GIL held) while the pool threads send
//! the runs already fed to the workers, so encoding the arguments and running the first tasks
//! overlap. A pool thread whose tasks are not fed yet waits for them.

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
    /// Each run fed: its first task, and its parameters.
    runs: Vec<(usize, Arc<Encoded>)>,
    fed: usize,
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
        state.runs.push((first, Arc::new(params)));
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
        let first = state.runs.partition_point(|(start, p)| start + p.len() <= tasks.start);
        let runs = (state.runs[first..].iter())
            .take_while(|(start, _)| *start < tasks.end)
            .map(|(start, p)| (*start, Arc::clone(p)))
            .collect();
        Found { runs, fed, failed: state.failed.clone() }
    }

    /// Task `task`'s size, if it is fed.
    pub(crate) fn size(&self, task: usize) -> Option<usize> {
        let state = lock(&self.0.state);
        let at = state.runs.partition_point(|(start, p)| start + p.len() <= task);
        state.runs.get(at).filter(|(start, _)| *start <= task).map(|(start, p)| p.size(task - start))
    }
}
