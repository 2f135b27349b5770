//! How far a call has got: [`Progress`], read from a running call's [`Handle`](crate::Handle)
//! at any time. The engine counts each task as its outcome is delivered, so the counts cost
//! the hot path two atomic additions per batch, not per task.
//!
//! A call can also be watched while it runs ([`Watch`]): the callbacks of
//! [`on_progress`](crate::Executor::on_progress) and the bar of
//! [`progress`](crate::Executor::progress) are called by the call's driver, which reads the
//! counts every [`PROGRESS_EVERY`] while it waits and once at the end. A call nobody watches
//! pays nothing for it.

use std::fmt;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

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

/// How often a watched call's callbacks are called while it runs, at most.
pub(crate) const PROGRESS_EVERY: Duration = Duration::from_millis(100);

/// A progress callback, as [`on_progress`](crate::Executor::on_progress) takes it.
type Callback = Arc<dyn Fn(Progress) + Send + Sync>;

/// What watches an executor's calls: its progress callbacks, and whether it draws a bar.
#[derive(Clone, Default)]
pub(crate) struct Watch {
    callbacks: Vec<Callback>,
    bar: bool,
}

// An executor stays unwind safe, as before it could hold callbacks: a callback is only ever
// called by a call's driver, and a panic in it stops that call and goes on in its caller —
// nothing observes the callback's state half-updated through the executor.
impl std::panic::UnwindSafe for Watch {}
impl std::panic::RefUnwindSafe for Watch {}

impl fmt::Debug for Watch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Watch").field("callbacks", &self.callbacks.len()).field("bar", &self.bar).finish()
    }
}

impl Watch {
    /// This watch, also calling `callback`.
    pub(crate) fn with_callback(mut self, callback: Callback) -> Self {
        self.callbacks.push(callback);
        self
    }

    /// This watch, also drawing a bar.
    #[cfg(feature = "progress")]
    pub(crate) fn with_bar(mut self) -> Self {
        self.bar = true;
        self
    }

    /// `true` if nothing watches: the call needs no [`Watching`].
    pub(crate) fn is_empty(&self) -> bool {
        self.callbacks.is_empty() && !self.bar
    }

    /// The watching of one call, starting now, of `total` tasks if known.
    pub(crate) fn start(&self, total: Option<usize>) -> Watching {
        Watching {
            callbacks: self.callbacks.clone(),
            bar: self.bar.then(|| Bar::new(total)),
            next: Instant::now() + PROGRESS_EVERY,
        }
    }
}

/// How a watched call ended, for its bar's last message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Over {
    Done,
    Failed,
    TimedOut,
    Cancelled,
}

/// The watching of one running call, by its driver. Dropped without [`end`](Self::end) — the
/// driver unwinds — its bar is left as it was, and no callback is called.
pub(crate) struct Watching {
    callbacks: Vec<Callback>,
    bar: Option<Bar>,
    next: Instant,
}

impl Watching {
    /// When the next tick is due.
    pub(crate) fn next_tick(&self) -> Instant {
        self.next
    }

    /// Reports `progress` if a tick is due `now`.
    pub(crate) fn tick(&mut self, now: Instant, progress: Progress) {
        if now < self.next {
            return;
        }
        self.next = now + PROGRESS_EVERY;
        if let Some(bar) = &mut self.bar {
            bar.update(progress);
        }
        self.callbacks.iter().for_each(|callback| callback(progress));
    }

    /// The call is over: its final counts, to the bar (finished) and every callback.
    pub(crate) fn end(mut self, progress: Progress, over: Over) {
        if let Some(bar) = self.bar.take() {
            bar.finish(progress, over);
        }
        self.callbacks.iter().for_each(|callback| callback(progress));
    }
}

/// The bar of a call on stderr, drawn only if stderr is a terminal (`indicatif` looks).
#[cfg(feature = "progress")]
struct Bar {
    bar: indicatif::ProgressBar,
    /// The bar has its length (else it is a spinner until the total is known).
    sized: bool,
}

#[cfg(feature = "progress")]
impl Bar {
    fn new(total: Option<usize>) -> Self {
        let bar = match total {
            Some(total) => indicatif::ProgressBar::new(total as u64).with_style(Self::sized_style()),
            None => indicatif::ProgressBar::new_spinner().with_style(Self::spinner_style()),
        };
        Bar { bar, sized: total.is_some() }
    }

    fn sized_style() -> indicatif::ProgressStyle {
        indicatif::ProgressStyle::with_template("{elapsed_precise} [{wide_bar}] {pos}/{len} ({eta}) {msg}")
            .map_or_else(|_| indicatif::ProgressStyle::default_bar(), |style| style.progress_chars("=> "))
    }

    fn spinner_style() -> indicatif::ProgressStyle {
        indicatif::ProgressStyle::with_template("{spinner} {elapsed_precise} {pos} tasks {msg}")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_spinner())
    }

    fn update(&mut self, progress: Progress) {
        if !self.sized {
            match progress.total {
                Some(total) => {
                    self.bar.set_length(total as u64);
                    self.bar.set_style(Self::sized_style());
                    self.sized = true;
                }
                None => self.bar.tick(),
            }
        }
        self.bar.set_position(progress.done as u64);
        if progress.failed > 0 {
            self.bar.set_message(format!("{} failed", progress.failed));
        }
    }

    fn finish(mut self, progress: Progress, over: Over) {
        self.update(progress);
        let failed = (progress.failed > 0).then(|| format!("{} failed", progress.failed));
        let message = match over {
            Over::Done => failed.unwrap_or_default(),
            Over::Failed => "failed".to_owned(),
            Over::TimedOut => failed.map_or("timed out".to_owned(), |f| format!("{f}, timed out")),
            Over::Cancelled => "cancelled".to_owned(),
        };
        match over {
            Over::Done => self.bar.finish_with_message(message),
            _ => self.bar.abandon_with_message(message),
        }
        // The finished bar stays on its line, the cursor at its end: what is printed next goes
        // below it.
        if !self.bar.is_hidden() {
            eprintln!();
        }
    }
}

#[cfg(feature = "progress")]
impl Drop for Bar {
    fn drop(&mut self) {
        // Unwinding (a callback panicked): the bar stops where it was; finished bars ignore it.
        if !self.bar.is_finished() {
            self.bar.abandon();
        }
    }
}

/// Without the `progress` feature no bar is ever made.
#[cfg(not(feature = "progress"))]
enum Bar {}

#[cfg(not(feature = "progress"))]
impl Bar {
    fn new(_: Option<usize>) -> Self {
        unreachable!("no bar without the `progress` feature")
    }
    fn update(&mut self, _: Progress) {
        match *self {}
    }
    fn finish(self, _: Progress, _: Over) {
        match self {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    #[test]
    fn a_watching_ticks_only_when_due_and_always_ends() {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let record = seen.clone();
        let watch = Watch::default().with_callback(Arc::new(move |p| record.lock().unwrap().push(p)));
        assert!(!watch.is_empty() && Watch::default().is_empty());
        let mut watching = watch.start(Some(3));
        let start = watching.next_tick() - PROGRESS_EVERY;
        watching.tick(start, Progress { done: 1, failed: 0, total: Some(3) });
        assert!(seen.lock().unwrap().is_empty(), "not due yet");
        watching.tick(start + PROGRESS_EVERY, Progress { done: 2, failed: 0, total: Some(3) });
        watching.tick(start + PROGRESS_EVERY, Progress { done: 2, failed: 0, total: Some(3) });
        watching.end(Progress { done: 3, failed: 1, total: Some(3) }, Over::Done);
        let seen = seen.lock().unwrap();
        assert_eq!(seen.iter().map(|p| p.done).collect::<Vec<_>>(), vec![2, 3]);
        assert_eq!(seen[1].failed, 1);
    }

    #[cfg(feature = "progress")]
    #[test]
    fn a_bar_gets_its_length_once_known_and_ends_however_the_call_ends() {
        let watch = Watch::default().with_bar();
        let mut watching = watch.start(None);
        let due = watching.next_tick();
        watching.tick(due, Progress { done: 5, failed: 0, total: None });
        let bar = watching.bar.as_ref().map(|b| (b.sized, b.bar.position()));
        assert_eq!(bar, Some((false, 5)));
        watching.tick(due + PROGRESS_EVERY, Progress { done: 7, failed: 2, total: Some(9) });
        let bar = watching.bar.as_ref().map(|b| (b.sized, b.bar.length(), b.bar.message()));
        assert_eq!(bar, Some((true, Some(9), "2 failed".to_owned())));
        let inner = watching.bar.as_ref().map(|b| b.bar.clone()).unwrap();
        watching.end(Progress { done: 8, failed: 2, total: Some(9) }, Over::TimedOut);
        assert!(inner.is_finished());
        assert_eq!(inner.message(), "2 failed, timed out");

        let dropped = Watch::default().with_bar().start(Some(4));
        let inner = dropped.bar.as_ref().map(|b| b.bar.clone()).unwrap();
        drop(dropped);
        assert!(inner.is_finished(), "a bar dropped while unwinding is left, not running");
    }

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
