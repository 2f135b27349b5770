//! A call's outcomes handed out while it runs. A tapped call sends each chunk's outcomes, as
//! it is delivered, to its [`Arrivals`] — in the order the chunks arrive — and the driver keeps
//! only what it needs to end the call (which tasks are in, and the failures); the call's handle
//! then says how it ended ([`Ended`]). A binding converts the values while the workers still
//! run (the Python package does), and results can be streamed in the order they complete.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::task::Waker;
use std::time::Duration;

use crossbeam_channel::{Receiver, RecvTimeoutError, Sender, TryRecvError};

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

/// How many tasks a paced call hands out, at least, beyond those whose outcomes its consumer
/// took: while that many wait unconsumed (or run), its pool threads take no new task and read
/// no more of its input. Eight of the largest batches: a consumer that keeps up rarely makes a
/// worker wait (with four, one about as fast as two workers made them wait, and itself wait
/// for them, at nearly every chunk: 10% slower), and one that lags holds only these outcomes
/// (and their inputs), plus the batch a pool thread took last — some tens of thousands, a few
/// MB. A call that runs more than two batches at once gets room for four per pool thread
/// ([`Pace::fit`]). (Written out, not computed from the batches' module, which depends on this
/// one; a test there checks it is eight of its `MAX_BATCH`.)
pub(crate) const AHEAD: usize = 32_768;

/// How far a call runs ahead of the consumer of its [`Arrivals`]: the tasks handed out to its
/// pool threads, those whose outcomes the consumer took, and, while the call is paced, the
/// most that may differ by (unpaced, the call runs as fast as its workers go).
#[derive(Debug)]
pub(crate) struct Pace {
    /// Tasks handed out so far (every task read from the input, failed ones too).
    handed: AtomicUsize,
    /// Tasks whose outcomes the consumer took.
    taken: AtomicUsize,
    paced: AtomicBool,
    /// The bound while paced: [`AHEAD`], or more for a call of many pool threads.
    ahead: AtomicUsize,
    /// Pool threads waiting for the consumer, woken under `lock` through `turn`.
    waiting: AtomicUsize,
    lock: Mutex<()>,
    turn: Condvar,
}

/// How long a pool thread waiting for the consumer sleeps before it looks again on its own
/// (every change that opens the way wakes it anyway: this only bounds a missed wake-up).
const PACE_RECHECK: Duration = Duration::from_millis(50);

impl Pace {
    fn new(paced: bool) -> Self {
        Pace {
            handed: AtomicUsize::new(0),
            taken: AtomicUsize::new(0),
            paced: AtomicBool::new(paced),
            ahead: AtomicUsize::new(AHEAD),
            waiting: AtomicUsize::new(0),
            lock: Mutex::new(()),
            turn: Condvar::new(),
        }
    }

    /// Room for a call that runs `threads` batches of up to `batch` tasks at once: four each,
    /// [`AHEAD`] at least. (Set before its pool threads start.)
    pub(crate) fn fit(&self, threads: usize, batch: usize) {
        self.ahead.store(AHEAD.max(threads.saturating_mul(batch).saturating_mul(4)), Ordering::SeqCst);
    }

    /// How many tasks were handed out and their outcomes not taken.
    fn ahead_of_consumer(&self) -> usize {
        self.handed.load(Ordering::SeqCst).saturating_sub(self.taken.load(Ordering::SeqCst))
    }

    /// `true` while the pool threads may take more tasks.
    pub(crate) fn open(&self) -> bool {
        !self.paced.load(Ordering::SeqCst) || self.ahead_of_consumer() < self.ahead.load(Ordering::Relaxed)
    }

    /// `true` once pool threads that had to wait may go on: the consumer took half the bound's
    /// worth of outcomes (so a wake-up lets them run a few batches, not one: a consumer about
    /// as fast as the workers would otherwise wake one for every chunk it takes).
    fn resumes(&self) -> bool {
        !self.paced.load(Ordering::SeqCst) || self.ahead_of_consumer() <= self.ahead.load(Ordering::Relaxed) / 2
    }

    /// Waits while the call is too far ahead of its consumer — once it had to, until the
    /// consumer has caught up by half the bound — or until `stopped` says the call stopped
    /// (cancelled, past its deadline, failed, its consumer gone).
    pub(crate) fn wait_turn(&self, stopped: impl Fn() -> bool) {
        if self.open() {
            return;
        }
        let mut guard = self.lock.lock().unwrap_or_else(PoisonError::into_inner);
        self.waiting.fetch_add(1, Ordering::SeqCst);
        while !self.resumes() && !stopped() {
            guard = self.turn.wait_timeout(guard, PACE_RECHECK).unwrap_or_else(PoisonError::into_inner).0;
        }
        self.waiting.fetch_sub(1, Ordering::SeqCst);
    }

    /// The pool threads have taken the tasks before `next` from the input.
    pub(crate) fn handed_up_to(&self, next: usize) {
        self.handed.fetch_max(next, Ordering::SeqCst);
    }

    /// The consumer took the outcomes of `tasks` tasks.
    fn took(&self, tasks: usize) {
        self.taken.fetch_add(tasks, Ordering::SeqCst);
        if self.waiting.load(Ordering::SeqCst) > 0 && self.resumes() {
            self.wake();
        }
    }

    fn set(&self, paced: bool) {
        self.paced.store(paced, Ordering::SeqCst);
        self.wake();
    }

    /// Wakes every pool thread waiting for its turn (to look again: at a stop, too).
    pub(crate) fn wake(&self) {
        let _guard = self.lock.lock().unwrap_or_else(PoisonError::into_inner);
        self.turn.notify_all();
    }
}

/// Where the engine sends a call's outcomes, to its [`Arrivals`]: chunks of outcomes, then
/// `None` once the call's handle has its end. Each send wakes the async task that waits on
/// the arrivals, if one does. Sending never waits: a call paced by its consumer is held back
/// where its pool threads take tasks ([`Pace`]).
pub(crate) struct Tap<T> {
    sender: Sender<Option<Arrived<T>>>,
    waker: Arc<Mutex<Option<Waker>>>,
    pub(crate) pace: Arc<Pace>,
}

impl<T> Clone for Tap<T> {
    fn clone(&self) -> Self {
        Tap { sender: self.sender.clone(), waker: self.waker.clone(), pace: self.pace.clone() }
    }
}

impl<T> Tap<T> {
    /// Sends a chunk's outcomes. Nobody listening any more is no error: the consumer went
    /// away.
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
///
/// Arrivals keep whatever arrived until it is taken, however much that is, unless they
/// [`pace`](Self::pace) the call: then it hands out no new task while a bounded number of
/// outcomes wait here (or run), and resumes as they are taken.
#[derive(Debug)]
pub struct Arrivals<T> {
    /// Chunks of outcomes, then `None` once the call's handle has its end.
    receiver: Receiver<Option<Arrived<T>>>,
    over: AtomicBool,
    /// The async task to wake when outcomes arrive.
    waker: Arc<Mutex<Option<Waker>>>,
    pace: Arc<Pace>,
}

impl<T> Arrivals<T> {
    /// Arrivals that keep every chunk until it is taken, however many wait (unless paced
    /// later, with [`pace`](Self::pace)).
    pub(crate) fn new() -> (Tap<T>, Self) {
        Self::with_pace(false)
    }

    /// Arrivals that pace their call from its start (a stream: see [`pace`](Self::pace)).
    pub(crate) fn paced() -> (Tap<T>, Self) {
        Self::with_pace(true)
    }

    fn with_pace(paced: bool) -> (Tap<T>, Self) {
        let (sender, receiver) = crossbeam_channel::unbounded();
        let waker = Arc::new(Mutex::new(None));
        let pace = Arc::new(Pace::new(paced));
        let tap = Tap { sender, waker: waker.clone(), pace: pace.clone() };
        (tap, Arrivals { receiver, over: AtomicBool::new(false), waker, pace })
    }

    /// From now on the call runs at the pace of whoever takes its outcomes from here: while
    /// a few batches' worth of its tasks are handed out and their outcomes not yet taken —
    /// 32,768 (eight of the largest batches), or four batches per pool thread that runs at
    /// once if that is more — its pool threads take no new task (a lazy input is not read
    /// further), and they resume once the consumer took half of those. A pool thread that
    /// took its turn takes one batch (at most 4096 tasks), so the call is never further ahead
    /// than that bound and one batch. Its deadline, a cancel or a dropped consumer still end
    /// it on time.
    /// [`unpace`](Self::unpace) lets it run freely again.
    ///
    /// ```
    /// use std::time::Duration;
    /// use parallel::plumbing::{Ended, Fault, Work};
    /// struct Double;
    /// impl Work for Double {
    ///     type Params = u32;
    ///     type Out = u32;
    ///     type Kept = u32;
    ///     fn keep(&self, x: &u32) -> u32 { *x }
    ///     fn describe(&self, x: &u32) -> String { x.to_string() }
    ///     fn run(&self, x: u32) -> Result<u32, Fault> { Ok(x * 2) }
    /// }
    /// let (handle, arrivals) = parallel::thread().async_run_tapped(Double, parallel::iter(0..100_000));
    /// arrivals.pace(); // a slow consumer holds the workers back from here on
    /// let mut taken = 0;
    /// while taken < 100_000 {
    ///     taken += arrivals.next_timeout(Duration::from_secs(1)).map_or(0, |arrived| arrived.len);
    /// }
    /// assert_eq!(handle.wait(), Ended::Done);
    /// ```
    pub fn pace(&self) {
        self.pace.set(true);
    }

    /// The call runs as fast as its workers go again, whoever takes its outcomes (they wait
    /// here until taken, however many).
    pub fn unpace(&self) {
        self.pace.set(false);
    }

    /// `arrived` was taken: a paced call may hand out as many more tasks.
    fn taken(&self, arrived: Option<Arrived<T>>) -> Option<Arrived<T>> {
        if let Some(arrived) = &arrived {
            self.pace.took(arrived.len);
        }
        arrived
    }

    /// The next chunk of outcomes, waiting as long as it takes; `None` once none will come
    /// before the call's handle has its end.
    pub(crate) fn next_blocking(&self) -> Option<Arrived<T>> {
        if self.over.load(Ordering::Acquire) {
            return self.taken(self.receiver.try_recv().ok().flatten());
        }
        match self.receiver.recv() {
            Ok(Some(arrived)) => self.taken(Some(arrived)),
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

    /// The next chunk of outcomes if one is there, without waiting (not even a spin, nor a
    /// yield of the thread: on a loaded machine that could last as long as a chunk takes to
    /// come, and a loop taking what is there would never end).
    pub fn try_next(&self) -> Option<Arrived<T>> {
        if self.over.load(Ordering::Acquire) {
            return self.taken(self.receiver.try_recv().ok().flatten());
        }
        match self.receiver.try_recv() {
            Ok(Some(arrived)) => self.taken(Some(arrived)),
            Ok(None) | Err(TryRecvError::Disconnected) => {
                self.over.store(true, Ordering::Release);
                None
            }
            Err(TryRecvError::Empty) => None,
        }
    }

    /// The next chunk of outcomes, waiting at most `timeout`; `None` at once if none will come
    /// before the call's handle has its end (or ever: every one was taken).
    pub fn next_timeout(&self, timeout: Duration) -> Option<Arrived<T>> {
        if timeout.is_zero() {
            return self.try_next();
        }
        if self.over.load(Ordering::Acquire) {
            return self.taken(self.receiver.try_recv().ok().flatten()); // late outcomes of a strict call
        }
        match self.receiver.recv_timeout(timeout) {
            Ok(Some(arrived)) => self.taken(Some(arrived)),
            Ok(None) | Err(RecvTimeoutError::Disconnected) => {
                self.over.store(true, Ordering::Release);
                None
            }
            Err(RecvTimeoutError::Timeout) => None,
        }
    }
}

impl<T> Drop for Arrivals<T> {
    /// Nobody takes the outcomes any more: the call is not held back by them.
    fn drop(&mut self) {
        self.unpace();
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
