//! A call's outcomes handed out as its tasks complete: [`AsCompleted`], an iterator over
//! `(key, Result<value, FailedTask>)`, and [`AsCompletedStream`], the same as a [`Stream`].

use std::fmt;
use std::pin::Pin;
use std::task::{Context, Poll};

use futures_core::Stream;

use crate::engine::tap::{Arrivals, Arrived, Ended};
use crate::handle::{Handle, Observer};
use crate::inputs::KeyByIndex;
use crate::progress::Progress;
use crate::results::FailedTask;

/// A call whose outcomes are handed out as its tasks complete, made by
/// [`Executor::as_completed`](crate::Executor::as_completed) (and
/// [`try_as_completed`](crate::Executor::try_as_completed), [`as_completed`](crate::as_completed())).
///
/// Each item is a task's key — its index for a sequence or an iterator, its key for a
/// `HashMap` or `BTreeMap` — and its outcome, in the order outcomes arrive. Every task gets its
/// item, whatever the executor's mode: a failure (a panic, a timeout, a cancel) is an item, not
/// the end. The call keeps nothing it handed out — no results are assembled — and reads a lazy
/// input only as workers take its tasks, so its memory stays bounded however many tasks it has
/// and however slow its consumer: the call goes at the consumer's pace. While 32,768 tasks
/// (eight of the largest batches; four per pool thread on a machine of more than two cores)
/// have started and their outcomes are not yet taken, no task starts and the input is not read
/// further — a pool thread that took its turn takes at most one batch more (4096 tasks) — and
/// the workers resume as outcomes are taken. A deadline, a cancel, a crashed worker or a task
/// timeout still end the call on time.
///
/// - As an [`Iterator`], `next` blocks until the next outcome arrives;
/// - [`into_stream`](Self::into_stream) makes it a [`Stream`] (`futures_core`), polled from
///   async code in any runtime without blocking;
/// - [`progress`](Self::progress), [`cancel`](Self::cancel) and [`observer`](Self::observer)
///   work as a [`Handle`]'s. Dropping it cancels the call: tasks not yet started never run.
///
/// ```
/// use std::time::Duration;
///
/// let nap = |ms: u64| { std::thread::sleep(Duration::from_millis(ms)); ms };
/// let order: Vec<usize> = parallel::thread()
///     .as_completed(nap, vec![300, 10, 150])
///     .map(|(index, outcome)| { assert!(outcome.is_ok()); index })
///     .collect();
/// assert_eq!(order, vec![1, 2, 0]);
/// ```
#[must_use = "dropping AsCompleted cancels its call"]
pub struct AsCompleted<K, T> {
    /// The outcomes of the chunk being handed out.
    current: Outcomes<T>,
    handle: Handle<Ended>,
    arrivals: Arrivals<T>,
    keys: KeyByIndex<K>,
}

impl<K, T> AsCompleted<K, T> {
    pub(crate) fn new(handle: Handle<Ended>, arrivals: Arrivals<T>, keys: KeyByIndex<K>) -> Self {
        AsCompleted { current: Outcomes::default(), handle, arrivals, keys }
    }

    /// How far the call has got: see [`Handle::progress`]. `done` counts outcomes that
    /// arrived, some of which may not have been handed out yet.
    ///
    /// ```
    /// let mut outcomes = parallel::thread().as_completed(|x: u32| x, vec![1, 2, 3]);
    /// assert_eq!(outcomes.progress().total, Some(3));
    /// assert_eq!(outcomes.by_ref().count(), 3);
    /// assert_eq!(outcomes.progress().done, 3);
    /// ```
    pub fn progress(&self) -> Progress {
        self.handle.progress()
    }

    /// Cancels the call: tasks not yet started never run, and each of them is handed out as
    /// a failure of kind [`Cancelled`](crate::FailureKind::Cancelled) (the tasks already
    /// running finish first and are handed out as usual).
    ///
    /// ```
    /// use std::time::Duration;
    /// let mut outcomes = parallel::thread().max_workers(1)
    ///     .as_completed(|ms: u64| std::thread::sleep(Duration::from_millis(ms)), vec![50; 20]);
    /// outcomes.cancel();
    /// let cancelled = outcomes.filter(|(_, outcome)| outcome.is_err()).count();
    /// assert!(cancelled >= 18);
    /// ```
    pub fn cancel(&self) {
        self.handle.cancel();
    }

    /// `true` once every outcome has arrived (some may not have been handed out yet), or the
    /// call was cancelled.
    ///
    /// ```
    /// let mut outcomes = parallel::thread().as_completed(|x: u8| x, vec![1, 2]);
    /// assert_eq!(outcomes.by_ref().count(), 2);
    /// assert!(outcomes.is_finished());
    /// ```
    pub fn is_finished(&self) -> bool {
        self.handle.is_finished()
    }

    /// A view of the call for other threads, as [`Handle::observer`].
    ///
    /// ```
    /// let outcomes = parallel::thread().as_completed(|x: u8| x, vec![1, 2]);
    /// let observer = outcomes.observer();
    /// assert_eq!(outcomes.count(), 2);
    /// assert!(observer.is_finished());
    /// ```
    pub fn observer(&self) -> Observer {
        self.handle.observer()
    }

    /// The next outcome of the chunk being handed out, with its key.
    fn next_ready(&mut self) -> Option<(K, Result<T, FailedTask>)> {
        let (index, outcome) = self.current.next()?;
        match outcome {
            Ok(value) => Some(((self.keys)(index, false).0, Ok(value))),
            Err(mut failed) => {
                let (key, described) = (self.keys)(index, true);
                failed.0.key = described;
                Some((key, Err(failed)))
            }
        }
    }

    /// Every outcome was handed out: if the call's driver panicked (a progress callback did),
    /// the panic goes on here.
    fn end(&mut self) {
        if let Some(payload) = self.handle.take_panic() {
            std::panic::resume_unwind(payload);
        }
    }
}

impl<K, T> Iterator for AsCompleted<K, T> {
    type Item = (K, Result<T, FailedTask>);

    /// The next outcome to arrive, waiting for it; `None` once every task's was handed out.
    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if let Some(item) = self.next_ready() {
                return Some(item);
            }
            match self.arrivals.next_blocking() {
                Some(arrived) => self.current = Outcomes::of(arrived),
                None => {
                    self.end();
                    return None;
                }
            }
        }
    }
}

/// [`AsCompleted`] as a [`Stream`], for async code: made by
/// [`AsCompleted::into_stream`]. Polled, it never blocks: a task waiting on it is woken as
/// outcomes arrive. Its items, its [`progress`](Self::progress), [`cancel`](Self::cancel) and
/// drop are those of the `AsCompleted` it was made from.
///
/// ```
/// use futures_util::StreamExt;
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// let mut stream = parallel::thread().as_completed(|x: u32| x * 2, vec![1, 2, 3]).into_stream();
/// let mut sum = 0;
/// while let Some((_index, outcome)) = stream.next().await {
///     sum += outcome.unwrap();
/// }
/// assert_eq!(sum, 12);
/// # });
/// ```
#[must_use = "streams do nothing unless polled, and dropping one cancels its call"]
pub struct AsCompletedStream<K, T>(AsCompleted<K, T>);

impl<K, T> AsCompleted<K, T> {
    /// This call's outcomes as a [`Stream`] (`futures_core`): see [`AsCompletedStream`].
    /// (Not a `Stream` itself: `next` would then mean both a blocking and an async call.)
    ///
    /// ```
    /// let stream = parallel::thread().as_completed(|x: u8| x, vec![1]).into_stream();
    /// assert_eq!(stream.progress().total, Some(1));
    /// ```
    pub fn into_stream(self) -> AsCompletedStream<K, T> {
        AsCompletedStream(self)
    }
}

impl<K, T> AsCompletedStream<K, T> {
    /// As [`AsCompleted::progress`].
    pub fn progress(&self) -> Progress {
        self.0.progress()
    }
    /// As [`AsCompleted::cancel`].
    pub fn cancel(&self) {
        self.0.cancel();
    }
    /// As [`AsCompleted::is_finished`].
    pub fn is_finished(&self) -> bool {
        self.0.is_finished()
    }
    /// As [`AsCompleted::observer`].
    pub fn observer(&self) -> Observer {
        self.0.observer()
    }
}

/// Nothing in it is pinned: the values it holds are only moved out.
impl<K, T> Unpin for AsCompletedStream<K, T> {}

impl<K, T> Stream for AsCompletedStream<K, T> {
    type Item = (K, Result<T, FailedTask>);

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut self.get_mut().0;
        let mut registered = false;
        loop {
            if let Some(item) = this.next_ready() {
                return Poll::Ready(Some(item));
            }
            if let Some(arrived) = this.arrivals.try_next() {
                this.current = Outcomes::of(arrived);
                continue;
            }
            if this.arrivals.is_over() {
                this.end();
                return Poll::Ready(None);
            }
            if registered {
                return Poll::Pending;
            }
            // Looked at once more after the waker is in place: nothing sent in between is missed.
            this.arrivals.wake_next(cx.waker());
            registered = true;
        }
    }
}

impl<K, T> fmt::Debug for AsCompletedStream<K, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("AsCompletedStream").field(&self.0).finish()
    }
}

impl<K, T> fmt::Debug for AsCompleted<K, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AsCompleted").field("progress", &self.progress()).finish()
    }
}

/// The outcomes of one chunk, with their index, in input order.
struct Outcomes<T> {
    next: usize,
    end: usize,
    values: std::vec::IntoIter<T>,
    failures: std::iter::Peekable<std::vec::IntoIter<FailedTask>>,
}

impl<T> Default for Outcomes<T> {
    fn default() -> Self {
        Outcomes { next: 0, end: 0, values: Vec::new().into_iter(), failures: Vec::new().into_iter().peekable() }
    }
}

impl<T> Outcomes<T> {
    fn of(arrived: Arrived<T>) -> Self {
        Outcomes {
            next: arrived.start,
            end: arrived.start + arrived.len,
            values: arrived.values.into_iter(),
            failures: arrived.failures.into_iter().peekable(),
        }
    }
}

impl<T> Iterator for Outcomes<T> {
    type Item = (usize, Result<T, FailedTask>);

    fn next(&mut self) -> Option<Self::Item> {
        while self.next < self.end {
            let index = self.next;
            self.next += 1;
            if let Some(failed) = self.failures.next_if(|f| f.index() == index) {
                return Some((index, Err(failed)));
            }
            if let Some(value) = self.values.next() {
                return Some((index, Ok(value)));
            }
        }
        None
    }
}
