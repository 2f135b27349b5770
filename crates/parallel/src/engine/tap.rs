//! A call's outcomes handed out while it runs. A tapped call sends each chunk's outcomes, as
//! it is delivered, to its [`Arrivals`] — in the order the chunks arrive — and the driver keeps
//! only what it needs to end the call (which tasks are in, and the failures); the call's handle
//! then says how it ended ([`Ended`]). A binding converts the values while the workers still
//! run (the Python package does), and results can be streamed in the order they complete.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::task::Waker;
use std::time::Duration;

use crossbeam_channel::{Receiver, RecvTimeoutError, Sender};

use crate::engine::chunks::{Chunk, Collected};
use crate::engine::sync::lock;
use crate::mode::failed_task_keyed;
use crate::results::FailedTask;

/// The outcomes of tasks `start .. start + len`, as they arrived together: the values of
/// those that succeeded, in order, and the failures (each with its [`index`](FailedTask::index)).
#[derive(Debug)]
pub struct Arrived<T> {
    /// The first task's index.
    pub start: usize,
    /// How many tasks.
    pub len: usize,
    /// The values of the tasks that succeeded, in input order.
    pub values: Vec<T>,
    /// The tasks that failed, in input order.
    pub failures: Vec<FailedTask>,
}

impl<T> Arrived<T> {
    /// The outcomes of `chunk`, its values taken; its failures are copied if the driver needs
    /// them (`keep_failures`: strict calls end at the first), else taken too.
    pub(crate) fn of(chunk: &mut Chunk<T>, keep_failures: bool) -> Self {
        let failures = if keep_failures {
            chunk.failures.iter().map(|(i, f)| failed_task_keyed(*i, None, f.clone())).collect()
        } else {
            std::mem::take(&mut chunk.failures).into_iter().map(|(i, f)| failed_task_keyed(i, None, f)).collect()
        };
        Arrived { start: chunk.start, len: chunk.len, values: std::mem::take(&mut chunk.values), failures }
    }

    /// Each task's index and outcome, in input order.
    ///
    /// ```
    /// use parallel::plumbing::Arrived;
    /// let arrived = Arrived { start: 4, len: 2, values: vec!["a", "b"], failures: Vec::new() };
    /// let outcomes: Vec<_> = arrived.into_outcomes().map(|(i, o)| (i, o.unwrap())).collect();
    /// assert_eq!(outcomes, vec![(4, "a"), (5, "b")]);
    /// ```
    pub fn into_outcomes(self) -> impl Iterator<Item = (usize, Result<T, FailedTask>)> {
        let mut values = self.values.into_iter();
        let mut failures = self.failures.into_iter().peekable();
        (self.start..self.start + self.len).filter_map(move |index| match failures.next_if(|f| f.index() == index) {
            Some(failed) => Some((index, Err(failed))),
            None => values.next().map(|v| (index, Ok(v))),
        })
    }
}

/// Where the engine sends a call's outcomes, to its [`Arrivals`]: chunks of outcomes, then
/// `None` once the call's handle has its end. Each send wakes the async task that waits on
/// the arrivals, if one does.
pub(crate) struct Tap<T> {
    sender: Sender<Option<Arrived<T>>>,
    waker: Arc<Mutex<Option<Waker>>>,
}

impl<T> Clone for Tap<T> {
    fn clone(&self) -> Self {
        Tap { sender: self.sender.clone(), waker: self.waker.clone() }
    }
}

impl<T> Tap<T> {
    /// Sends a chunk's outcomes; waits while a bounded tap is full. Nobody listening any more
    /// is no error: the consumer went away.
    pub(crate) fn send(&self, arrived: Arrived<T>) {
        let _ = self.sender.send(Some(arrived));
        self.wake();
    }

    /// The call's handle has its end.
    pub(crate) fn end(&self) {
        let _ = self.sender.send(None);
        self.wake();
    }

    fn wake(&self) {
        if let Some(waker) = lock(&self.waker).take() {
            waker.wake();
        }
    }
}

/// Where a tapped call's outcomes arrive, chunk by chunk, in the order they are delivered.
/// Every task's outcome arrives here before the call's handle says the call is over (a strict
/// call ends at its first failure: the outcomes of tasks still running then may arrive later,
/// or never).
#[derive(Debug)]
pub struct Arrivals<T> {
    /// Chunks of outcomes, then `None` once the call's handle has its end.
    receiver: Receiver<Option<Arrived<T>>>,
    over: AtomicBool,
    /// The async task to wake when outcomes arrive.
    waker: Arc<Mutex<Option<Waker>>>,
}

impl<T> Arrivals<T> {
    /// Arrivals that take every chunk at once, however many wait.
    pub(crate) fn new() -> (Tap<T>, Self) {
        Self::of(crossbeam_channel::unbounded())
    }

    /// Arrivals that hold at most `chunks` chunks: a pool thread delivering more waits until
    /// the consumer takes one (so a slow consumer bounds the memory of a streaming call).
    pub(crate) fn bounded(chunks: usize) -> (Tap<T>, Self) {
        Self::of(crossbeam_channel::bounded(chunks))
    }

    #[allow(clippy::type_complexity)]
    fn of((sender, receiver): (Sender<Option<Arrived<T>>>, Receiver<Option<Arrived<T>>>)) -> (Tap<T>, Self) {
        let waker = Arc::new(Mutex::new(None));
        let tap = Tap { sender, waker: waker.clone() };
        (tap, Arrivals { receiver, over: AtomicBool::new(false), waker })
    }

    /// The next chunk of outcomes, waiting as long as it takes; `None` once none will come
    /// before the call's handle has its end.
    pub(crate) fn next_blocking(&self) -> Option<Arrived<T>> {
        if self.over.load(Ordering::Acquire) {
            return self.receiver.try_recv().ok().flatten();
        }
        match self.receiver.recv() {
            Ok(Some(arrived)) => Some(arrived),
            Ok(None) | Err(_) => {
                self.over.store(true, Ordering::Release);
                None
            }
        }
    }

    /// `true` once the call's handle had its end and that was seen here.
    pub(crate) fn is_over(&self) -> bool {
        self.over.load(Ordering::Acquire)
    }

    /// Wakes `waker` at the next send to these arrivals.
    pub(crate) fn wake_next(&self, waker: &Waker) {
        let mut slot = lock(&self.waker);
        if !slot.as_ref().is_some_and(|w| w.will_wake(waker)) {
            *slot = Some(waker.clone());
        }
    }

    /// The next chunk of outcomes if one is there, without waiting.
    pub fn try_next(&self) -> Option<Arrived<T>> {
        self.next_timeout(Duration::ZERO)
    }

    /// The next chunk of outcomes, waiting at most `timeout`; `None` at once if none will come
    /// before the call's handle has its end (or ever: every one was taken).
    pub fn next_timeout(&self, timeout: Duration) -> Option<Arrived<T>> {
        if self.over.load(Ordering::Acquire) {
            return self.receiver.try_recv().ok().flatten(); // late outcomes of a strict call
        }
        match self.receiver.recv_timeout(timeout) {
            Ok(Some(arrived)) => Some(arrived),
            Ok(None) | Err(RecvTimeoutError::Disconnected) => {
                self.over.store(true, Ordering::Release);
                None
            }
            Err(RecvTimeoutError::Timeout) => None,
        }
    }
}

/// How a tapped call ended; its outcomes went to its [`Arrivals`].
#[derive(Debug, Clone, PartialEq)]
pub enum Ended {
    /// Every task has its outcome (silent calls: some may be failures).
    Done,
    /// A strict call's first failure in input order.
    Failed(FailedTask),
    /// The call's deadline passed with `finished` tasks done (strict calls).
    TimedOut {
        /// How many tasks had finished.
        finished: usize,
    },
    /// The call was cancelled (strict calls).
    Cancelled,
}

impl Ended {
    pub(crate) fn of<T>(collected: Collected<T>) -> Self {
        match collected {
            Collected::Values(_) | Collected::Outcomes { .. } => Ended::Done,
            Collected::Failed(index, failure) => Ended::Failed(failed_task_keyed(index, None, failure)),
            Collected::TimedOut { finished } => Ended::TimedOut { finished },
            Collected::Cancelled => Ended::Cancelled,
        }
    }
}
