//! The handle of a non-blocking call: wait on it, poll it, await it, or cancel it.

use std::any::Any;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Condvar, Mutex};
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use crate::engine::sync::lock;
use crate::progress::{Counts, Progress};

/// Where the driver of a non-blocking call leaves its output.
pub(crate) struct Slot<T> {
    state: Mutex<SlotState<T>>,
    ready: Condvar,
}

struct SlotState<T> {
    output: Option<T>,
    /// The driver panicked instead (a progress callback did): resumed in whoever waits.
    panic: Option<Box<dyn Any + Send>>,
    finished: bool,
    waker: Option<Waker>,
}

impl<T> SlotState<T> {
    /// The output, or the driver's panic resumed here.
    fn take(&mut self) -> T {
        match (self.output.take(), self.panic.take()) {
            (Some(output), _) => output,
            (None, Some(payload)) => std::panic::resume_unwind(payload),
            (None, None) => panic!("a Handle's output is taken once"),
        }
    }
}

impl<T> Slot<T> {
    pub(crate) fn new() -> Arc<Self> {
        Arc::new(Slot {
            state: Mutex::new(SlotState { output: None, panic: None, finished: false, waker: None }),
            ready: Condvar::new(),
        })
    }

    /// Fills the slot and wakes whoever waits: a blocked thread or an async task.
    pub(crate) fn fill(&self, output: T) {
        self.finish(|state| state.output = Some(output));
    }

    /// The driver panicked: whoever waits resumes the panic.
    pub(crate) fn fill_panic(&self, payload: Box<dyn Any + Send>) {
        self.finish(|state| state.panic = Some(payload));
    }

    fn finish(&self, fill: impl FnOnce(&mut SlotState<T>)) {
        let waker = {
            let mut state = lock(&self.state);
            fill(&mut state);
            state.finished = true;
            state.waker.take()
        };
        self.ready.notify_all();
        if let Some(waker) = waker {
            waker.wake();
        }
    }
}

/// A call running in the background, returned by `async_map`, `async_try_map` and
/// `async_par`. Its output is the same as the blocking call's.
///
/// - [`wait`](Self::wait) blocks until the output is ready; [`wait_timeout`](Self::wait_timeout)
///   gives up after a while and hands the handle back;
/// - [`is_finished`](Self::is_finished) polls;
/// - `.await` works in any async runtime: `Handle` is a [`Future`];
/// - [`cancel`](Self::cancel) stops the call: tasks not yet started never run. Dropping the
///   handle cancels too — keep it alive while the call should run.
///
/// ```
/// use std::time::Duration;
///
/// let handle = parallel::async_map(|x: u64| x * 10, vec![1, 2, 3]);
/// // ... do other work while the tasks run ...
/// let handle = match handle.wait_timeout(Duration::from_secs(5)) {
///     Ok(output) => { assert_eq!(output.unwrap(), vec![10, 20, 30]); return; }
///     Err(still_running) => still_running,
/// };
/// assert_eq!(handle.wait().unwrap(), vec![10, 20, 30]);
/// ```
#[must_use = "dropping a Handle cancels its call"]
pub struct Handle<T> {
    slot: Arc<Slot<T>>,
    cancel: Arc<dyn Fn(bool) + Send + Sync>,
    counts: Arc<Counts>,
    taken: bool,
}

impl<T> Handle<T> {
    pub(crate) fn new(slot: Arc<Slot<T>>, cancel: Arc<dyn Fn(bool) + Send + Sync>, counts: Arc<Counts>) -> Self {
        Handle { slot, cancel, counts, taken: false }
    }

    /// How far the call has got: how many tasks have an outcome, how many failed, of how
    /// many. Cheap (three atomic loads): poll it as often as a progress display needs.
    ///
    /// ```
    /// use std::time::Duration;
    /// let handle = parallel::thread().max_workers(2)
    ///     .async_map(|ms: u64| std::thread::sleep(Duration::from_millis(ms)), vec![1, 1, 1, 1]);
    /// while !handle.is_finished() {
    ///     let p = handle.progress();
    ///     assert!(p.done <= 4 && p.failed == 0 && p.total == Some(4));
    /// }
    /// assert_eq!(handle.progress().done, 4);
    /// handle.wait().unwrap();
    /// ```
    pub fn progress(&self) -> Progress {
        self.counts.progress()
    }

    /// The panic of the call's driver, once it ended with one (a progress callback panicked).
    pub(crate) fn take_panic(&mut self) -> Option<Box<dyn Any + Send>> {
        let mut state = lock(&self.slot.state);
        if state.finished {
            self.taken = true;
        }
        state.panic.take()
    }

    /// Blocks until the call's output is ready and returns it.
    ///
    /// ```
    /// let handle = parallel::async_par((|| 1 + 1, || "two"));
    /// assert_eq!(handle.wait().unwrap(), (2, "two"));
    /// ```
    pub fn wait(mut self) -> T {
        let mut state = lock(&self.slot.state);
        while !state.finished {
            state = self.slot.ready.wait(state).unwrap_or_else(std::sync::PoisonError::into_inner);
        }
        self.taken = true;
        state.take()
    }

    /// Waits at most `timeout` for the output; gives the handle back if it is not ready.
    ///
    /// ```
    /// use std::time::Duration;
    /// let handle = parallel::async_map(|ms: u64| std::thread::sleep(Duration::from_millis(ms)), vec![300]);
    /// let handle = handle.wait_timeout(Duration::from_millis(1)).unwrap_err();
    /// assert!(handle.wait().is_ok());
    /// ```
    pub fn wait_timeout(mut self, timeout: Duration) -> Result<T, Self> {
        let deadline = Instant::now() + timeout;
        let mut state = lock(&self.slot.state);
        while !state.finished {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                drop(state);
                return Err(self);
            }
            state = self.slot.ready.wait_timeout(state, left).unwrap_or_else(std::sync::PoisonError::into_inner).0;
        }
        self.taken = true;
        Ok(state.take())
    }

    /// `true` once the output is ready (every task finished, the call failed, timed out or was
    /// cancelled).
    ///
    /// ```
    /// let handle = parallel::async_map(|x: u8| x, vec![1]);
    /// while !handle.is_finished() { std::thread::yield_now(); }
    /// assert_eq!(handle.wait().unwrap(), vec![1]);
    /// ```
    pub fn is_finished(&self) -> bool {
        lock(&self.slot.state).finished
    }

    /// Cancels the call: tasks not yet started never run, and the output says so — an
    /// [`Error::Cancelled`](crate::Error::Cancelled), or in silent mode a failure of kind
    /// [`Cancelled`](crate::FailureKind::Cancelled) for each task that did not run (the tasks
    /// already running finish first; of an input that may be endless — no upper bound in its
    /// `size_hint` — only the tasks it read are the call's, see
    /// [`Tasks::read_rest_on_stop`](crate::plumbing::Tasks::read_rest_on_stop)). A call that
    /// already finished keeps its output.
    ///
    /// ```
    /// use std::time::Duration;
    /// let handle = parallel::thread().max_workers(1)
    ///     .async_map(|ms: u64| std::thread::sleep(Duration::from_millis(ms)), vec![100; 50]);
    /// handle.cancel();
    /// assert_eq!(handle.wait(), Err(parallel::Error::Cancelled));
    /// ```
    pub fn cancel(&self) {
        (self.cancel)(false);
    }
}

impl<T: Send + 'static> Handle<T> {
    /// A view of the call for other threads: its progress, whether it is over, and a way to
    /// cancel it — while this handle waits somewhere else.
    ///
    /// ```
    /// let handle = parallel::async_map(|x: u32| x * 2, vec![1, 2]);
    /// let observer = handle.observer();
    /// let watching = std::thread::spawn(move || observer.progress().total);
    /// assert_eq!(watching.join().unwrap(), Some(2));
    /// assert_eq!(handle.wait().unwrap(), vec![2, 4]);
    /// ```
    pub fn observer(&self) -> Observer {
        let slot = self.slot.clone();
        Observer {
            finished: Arc::new(move || lock(&slot.state).finished),
            cancel: self.cancel.clone(),
            counts: self.counts.clone(),
        }
    }
}

/// A view of a running call for other threads ([`Handle::observer`]): its
/// [`progress`](Self::progress), whether it [is finished](Self::is_finished), and
/// [`cancel`](Self::cancel). It does not keep the call running: dropping the handle still
/// cancels it.
#[derive(Clone)]
pub struct Observer {
    finished: Arc<dyn Fn() -> bool + Send + Sync>,
    cancel: Arc<dyn Fn(bool) + Send + Sync>,
    counts: Arc<Counts>,
}

impl Observer {
    /// As [`Handle::progress`].
    pub fn progress(&self) -> Progress {
        self.counts.progress()
    }
    /// As [`Handle::is_finished`].
    pub fn is_finished(&self) -> bool {
        (self.finished)()
    }
    /// As [`Handle::cancel`].
    pub fn cancel(&self) {
        (self.cancel)(false);
    }
}

impl fmt::Debug for Observer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Observer").field("progress", &self.progress()).finish()
    }
}

impl<T> Future for Handle<T> {
    type Output = T;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<T> {
        let this = &mut *self;
        let mut state = lock(&this.slot.state);
        if state.finished {
            this.taken = true;
            return Poll::Ready(state.take());
        }
        state.waker = Some(cx.waker().clone());
        Poll::Pending
    }
}

impl<T> Drop for Handle<T> {
    fn drop(&mut self) {
        if !self.taken && !self.is_finished() {
            (self.cancel)(true);
        }
    }
}

impl<T> fmt::Debug for Handle<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Handle").field("finished", &self.is_finished()).finish()
    }
}
