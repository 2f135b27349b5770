//! One call's shared state — the source workers take tasks from, the channel they send
//! outcomes on — and the loop every worker thread runs.
//!
//! Workers pull tasks in batches whose size adapts to how long a batch took (tiny tasks travel
//! thousands at a time, slow ones one at a time) and send one [`Chunk`] of outcomes per batch.
//! When the call has a timeout, every batch in flight is also *tracked* in a [`Cell`] the
//! driver can close: at the deadline it takes what the batch finished and fails the rest, so
//! the call returns at once and nothing a stuck worker still holds is lost or reported twice.

use std::collections::VecDeque;
use std::mem;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use crossbeam_channel::Sender;

use crate::buffer::Buffer;
use crate::results::FailureKind;
use crate::work::{describe, describe_params, panic_message, run_one, Work};

/// Why a task produced no value.
pub struct Failure {
    pub(crate) kind: FailureKind,
    pub(crate) message: String,
    pub(crate) params: String,
}

/// The outcomes of one batch: tasks `start .. start + len`, the values of those that
/// succeeded in order, and the failures with their index.
pub(crate) struct Chunk<T> {
    pub(crate) batch: usize,
    pub(crate) start: usize,
    pub(crate) len: usize,
    pub(crate) values: Vec<T>,
    pub(crate) failures: Vec<(usize, Failure)>,
    /// The values of the successful tasks were written to the call's [`Buffer`] instead.
    pub(crate) direct: bool,
}

impl<T> Chunk<T> {
    fn new(batch: usize, start: usize, capacity: usize) -> Self {
        Chunk { batch, start, len: 0, values: Vec::with_capacity(capacity), failures: Vec::new(), direct: false }
    }

    fn push(&mut self, outcome: Result<T, Failure>) {
        match outcome {
            Ok(value) => self.values.push(value),
            Err(failure) => self.failures.push((self.start + self.len, failure)),
        }
        self.len += 1;
    }
}

/// What the driver hears from workers and from the call's handle. Chunks themselves wait in
/// the job's outbox.
pub(crate) enum Msg {
    /// New chunks are in the outbox.
    Wake,
    /// The input is exhausted after `batches` batches.
    End { batches: usize },
    /// The handle cancelled the call; `dropped` if nobody will read the result.
    Cancel { dropped: bool },
}

/// Where tasks come from: the caller's iterator, numbered as it is read.
struct Source<It> {
    tasks: It,
    next_index: usize,
    batches: usize,
    done: bool,
}

/// A tracked batch in flight.
pub(crate) struct Cell<W: Work> {
    batch: usize,
    start: usize,
    state: Mutex<CellState<W>>,
}

struct CellState<W: Work> {
    pending: VecDeque<W::Params>,
    finished: Chunk<W::Out>,
    /// The running task: what is kept of its parameters and when it started.
    running: Option<(W::Kept, Instant)>,
    /// Set once, by the worker that sent the chunk or by the driver that took it.
    closed: bool,
}

/// What a worker took from the source.
enum Batch<W: Work> {
    Plain { batch: usize, start: usize, tasks: Vec<W::Params> },
    Tracked(Arc<Cell<W>>),
}

/// One call's shared state.
pub(crate) struct Job<W: Work, It> {
    pub(crate) work: W,
    source: Mutex<Source<It>>,
    sender: Sender<Msg>,
    /// Tasks from this index on never start: 0 once the call is cancelled or over, the index
    /// after the first failure of a strict call (no later task can change its outcome).
    stop_at: AtomicUsize,
    tracked: bool,
    max_batch: usize,
    in_flight: Mutex<Vec<Arc<Cell<W>>>>,
    buffer: Option<Arc<Buffer<W::Out>>>,
    /// Chunks waiting for the driver.
    outbox: Mutex<Vec<Chunk<W::Out>>>,
    /// Chunks delivered so far, and how many batches the call has (`usize::MAX` until known).
    delivered: AtomicUsize,
    batches: AtomicUsize,
    /// The driver wants every chunk at once after a failure (strict calls).
    strict: bool,
    failed: AtomicBool,
}

/// Locks a mutex, ignoring poisoning: no code panics while holding these locks except user
/// iterators, and those are caught.
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The largest batch a worker takes: a quarter of an even share, so the work still balances,
/// and at most [`MAX_BATCH`] tasks.
pub(crate) fn max_batch(size_hint: usize, workers: usize, task_timeout: bool) -> usize {
    if task_timeout {
        return 1; // a stuck task must not hold batch-mates hostage
    }
    match size_hint {
        0 => MAX_BATCH,
        n => (n / (workers * 4)).clamp(1, MAX_BATCH),
    }
}

/// Enough tiny tasks to make a batch's fixed cost (a lock, a send, two small allocations)
/// negligible, and few enough that a batch's buffers are recycled by the allocator instead
/// of being mapped fresh (page faults cost more than the tasks).
const MAX_BATCH: usize = 4096;

impl<W, It> Job<W, It>
where
    W: Work,
    It: Iterator<Item = W::Params> + Send + 'static,
{
    pub(crate) fn new(
        work: W,
        tasks: It,
        sender: Sender<Msg>,
        tracked: bool,
        max_batch: usize,
        buffer: Option<Arc<Buffer<W::Out>>>,
        strict: bool,
    ) -> Self {
        Job {
            buffer,
            outbox: Mutex::new(Vec::new()),
            delivered: AtomicUsize::new(0),
            batches: AtomicUsize::new(usize::MAX),
            strict,
            failed: AtomicBool::new(false),
            work,
            source: Mutex::new(Source { tasks, next_index: 0, batches: 0, done: false }),
            sender,
            stop_at: AtomicUsize::new(usize::MAX),
            tracked,
            max_batch,
            in_flight: Mutex::new(Vec::new()),
        }
    }

    /// Stops handing out tasks; tasks already running finish in the background.
    pub(crate) fn stop(&self) {
        self.stop_at.store(0, Ordering::Release);
    }

    pub(crate) fn is_stopped(&self) -> bool {
        self.stop_at.load(Ordering::Acquire) == 0
    }

    /// `true` if the task at `index` must not start.
    fn stops(&self, index: usize) -> bool {
        index >= self.stop_at.load(Ordering::Relaxed)
    }

    /// A task failed: in a strict call, the tasks after it need not run.
    fn failed_at(&self, index: usize) {
        if self.strict {
            self.stop_at.fetch_min(index + 1, Ordering::AcqRel);
        }
    }

    pub(crate) fn send(&self, msg: Msg) {
        // The driver may have returned already (deadline, first failure): nobody listens.
        let _ = self.sender.send(msg);
    }

    /// A worker's loop: take a batch, run it, send its outcomes, until the source is empty,
    /// the call stops, or the driver abandons this worker to a task past its timeout.
    pub(crate) fn work_loop(self: Arc<Self>) {
        let mut size = 1;
        while !self.is_stopped() {
            let Some(batch) = self.take(size) else { return };
            let began = Instant::now();
            match batch {
                Batch::Plain { batch, start, tasks } => self.run_plain(batch, start, tasks),
                Batch::Tracked(cell) => {
                    if !self.run_tracked(&cell) {
                        return;
                    }
                }
            }
            size = adapt(size, began.elapsed(), self.max_batch);
        }
    }

    /// Takes up to `size` tasks from the source.
    fn take(&self, size: usize) -> Option<Batch<W>> {
        let mut source = lock(&self.source);
        if source.done || self.stops(source.next_index) {
            return None;
        }
        let mut tasks = Vec::with_capacity(size);
        let read = catch_unwind(AssertUnwindSafe(|| {
            tasks.extend(source.tasks.by_ref().take(size));
        }));
        let start = source.next_index;
        let batch = source.batches;
        source.next_index += tasks.len();
        source.batches += usize::from(!tasks.is_empty());
        let read_failed = read.is_err();
        if let Err(payload) = read {
            // The input iterator itself panicked: that slot fails and the input ends there.
            let mut chunk = Chunk::new(source.batches, source.next_index, 0);
            chunk.push(Err(Failure {
                kind: FailureKind::Panicked,
                message: format!("the input iterator panicked: {}", panic_message(payload)),
                params: "<not read>".to_owned(),
            }));
            source.next_index += 1;
            source.batches += 1;
            self.deliver(chunk);
        }
        if tasks.len() < size || read_failed {
            source.done = true;
            self.batches.store(source.batches, Ordering::Release);
            self.send(Msg::End { batches: source.batches });
        }
        if tasks.is_empty() {
            return None;
        }
        if !self.tracked {
            return Some(Batch::Plain { batch, start, tasks });
        }
        let cell = Arc::new(Cell {
            batch,
            start,
            state: Mutex::new(CellState {
                finished: Chunk::new(batch, start, tasks.len()),
                pending: tasks.into(),
                running: None,
                closed: false,
            }),
        });
        // Registered before the source is unlocked: the driver, which closes the source
        // before the cells, sees every batch either in the source or in flight.
        lock(&self.in_flight).push(cell.clone());
        Some(Batch::Tracked(cell))
    }

    /// Runs a batch nobody else looks at. Everything the loop updates is a local: when the
    /// function is inlined and cannot unwind, `catch_unwind` compiles away and the loop is as
    /// tight as a plain `map`.
    fn run_plain(&self, batch: usize, start: usize, tasks: Vec<W::Params>) {
        let buffer = self.buffer.as_deref().filter(|b| b.fits(start, tasks.len()));
        let mut values = Vec::with_capacity(if buffer.is_some() { 0 } else { tasks.len() });
        let mut failures = Vec::new();
        let mut index = start;
        let mut tasks = tasks.into_iter();
        while let Some(params) = tasks.next() {
            if self.stops(index) {
                // Cancelled mid-batch: the tasks not started never run.
                for params in std::iter::once(params).chain(tasks.by_ref()) {
                    failures.push((index, self.cancelled(&params)));
                    index += 1;
                }
                break;
            }
            let kept = self.work.keep(&params);
            match (run_one(&self.work, params), buffer) {
                // SAFETY: the batch fits the buffer, and this worker took its tasks from the
                // source: no one else writes this slot.
                (Ok(value), Some(buffer)) => unsafe { buffer.write(index, value) },
                (Ok(value), None) => values.push(value),
                (Err((kind, message)), _) => {
                    self.failed_at(index);
                    failures.push((index, Failure { kind, message, params: describe(&self.work, &kept) }))
                }
            }
            index += 1;
        }
        let len = index - start;
        self.deliver(Chunk { batch, start, len, values, failures, direct: buffer.is_some() });
    }

    /// The failure of a task that never ran because the call stopped.
    fn cancelled(&self, params: &W::Params) -> Failure {
        Failure {
            kind: FailureKind::Cancelled,
            message: "the call was cancelled before the task started".to_owned(),
            params: describe_params(&self.work, params),
        }
    }

    /// Hands a chunk to the driver, and wakes it only when it has something to do: a failure
    /// to report (strict calls) or the last chunk of the call. A call of a million tiny tasks
    /// thus wakes its driver a few times, not once per batch.
    fn deliver(&self, chunk: Chunk<W::Out>) {
        let failed = !chunk.failures.is_empty();
        if failed {
            self.failed.store(true, Ordering::Release);
        }
        lock(&self.outbox).push(chunk);
        let delivered = self.delivered.fetch_add(1, Ordering::AcqRel) + 1;
        let last = delivered == self.batches.load(Ordering::Acquire);
        if last || (self.strict && self.failed.load(Ordering::Acquire)) {
            self.send(Msg::Wake);
        }
    }

    /// The chunks delivered since the last call.
    pub(crate) fn delivered(&self) -> Vec<Chunk<W::Out>> {
        std::mem::take(&mut *lock(&self.outbox))
    }

    /// Runs a tracked batch; `false` if the driver closed it (this worker is abandoned).
    fn run_tracked(&self, cell: &Arc<Cell<W>>) -> bool {
        loop {
            let params = {
                let mut state = lock(&cell.state);
                if state.closed {
                    return false;
                }
                if self.stops(state.finished.start + state.finished.len) {
                    // Cancelled: the tasks not started never run.
                    let pending = mem::take(&mut state.pending);
                    pending.iter().for_each(|params| state.finished.push(Err(self.cancelled(params))));
                    break;
                }
                let Some(params) = state.pending.pop_front() else { break };
                match catch_unwind(AssertUnwindSafe(|| self.work.keep(&params))) {
                    Ok(kept) => state.running = Some((kept, Instant::now())),
                    Err(payload) => {
                        let message = format!("cloning its parameters panicked: {}", panic_message(payload));
                        let params = describe_params(&self.work, &params);
                        state.finished.push(Err(Failure { kind: FailureKind::Panicked, message, params }));
                        continue;
                    }
                }
                params
            };
            let outcome = run_one(&self.work, params);
            let mut state = lock(&cell.state);
            if state.closed {
                return false;
            }
            let (kept, _) = state.running.take().expect("running task recorded");
            if outcome.is_err() {
                self.failed_at(state.finished.start + state.finished.len);
            }
            let outcome =
                outcome.map_err(|(kind, message)| Failure { kind, message, params: describe(&self.work, &kept) });
            state.finished.push(outcome);
        }
        let mut state = lock(&cell.state);
        if state.closed {
            return false;
        }
        state.closed = true;
        let chunk = mem::replace(&mut state.finished, Chunk::new(0, 0, 0));
        // Delivered under the cell's lock: once the driver sees the cell closed, the chunk is
        // in the outbox.
        self.deliver(chunk);
        drop(state);
        lock(&self.in_flight).retain(|c| !Arc::ptr_eq(c, cell));
        true
    }

    /// Ends the input: every task not yet taken fails with `kind`, delivered as one chunk.
    /// Returns the number of batches the call now has in all.
    pub(crate) fn close_source(&self, kind: FailureKind, message: &str) -> usize {
        let mut source = lock(&self.source);
        if source.done {
            return source.batches;
        }
        source.done = true;
        let mut chunk = Chunk::new(source.batches, source.next_index, 0);
        let drained = catch_unwind(AssertUnwindSafe(|| {
            for params in source.tasks.by_ref() {
                let params = describe_params(&self.work, &params);
                chunk.push(Err(Failure { kind: kind.clone(), message: message.to_owned(), params }));
            }
        }));
        if let Err(payload) = drained {
            let message = format!("the input iterator panicked: {}", panic_message(payload));
            let params = "<not read>".to_owned();
            chunk.push(Err(Failure { kind: FailureKind::Panicked, message, params }));
        }
        source.next_index += chunk.len;
        source.batches += usize::from(chunk.len > 0);
        self.batches.store(source.batches, Ordering::Release);
        if chunk.len > 0 {
            self.deliver(chunk);
        }
        source.batches
    }

    /// Closes every tracked batch in flight: what finished is kept, the running task and the
    /// pending ones fail with `kind`. Call after [`close_source`](Self::close_source).
    pub(crate) fn close_in_flight(&self, kind: FailureKind, message: &str) {
        let cells = mem::take(&mut *lock(&self.in_flight));
        cells.iter().for_each(|cell| self.close_cell(cell, &kind, message));
    }

    /// Closes the tracked batches whose running task has run for `limit` or longer. Returns
    /// how many it closed and when the next running task reaches the limit.
    pub(crate) fn close_overdue(&self, limit: Duration, message: &str) -> (usize, Option<Instant>) {
        let now = Instant::now();
        let mut next = None::<Instant>;
        let mut overdue = Vec::new();
        lock(&self.in_flight).retain(|cell| {
            let started = lock(&cell.state).running.as_ref().map(|(_, at)| *at);
            match started {
                Some(at) if now.duration_since(at) >= limit => {
                    overdue.push(cell.clone());
                    false
                }
                Some(at) => {
                    next = Some(next.map_or(at + limit, |n| n.min(at + limit)));
                    true
                }
                None => true,
            }
        });
        overdue.iter().for_each(|cell| self.close_cell(cell, &FailureKind::TimedOut, message));
        (overdue.len(), next)
    }

    /// Closes one tracked batch and delivers its chunk, unless its worker already did.
    fn close_cell(&self, cell: &Cell<W>, kind: &FailureKind, message: &str) {
        let mut state = lock(&cell.state);
        if state.closed {
            return;
        }
        state.closed = true;
        let mut chunk = mem::replace(&mut state.finished, Chunk::new(0, 0, 0));
        debug_assert_eq!((chunk.batch, chunk.start), (cell.batch, cell.start));
        if let Some((kept, _)) = state.running.take() {
            let params = describe(&self.work, &kept);
            chunk.push(Err(Failure { kind: kind.clone(), message: message.to_owned(), params }));
        }
        for params in state.pending.drain(..) {
            let params = describe_params(&self.work, &params);
            chunk.push(Err(Failure { kind: kind.clone(), message: message.to_owned(), params }));
        }
        self.deliver(chunk);
    }
}

/// Grows the batch while batches are quick (eightfold while they are very quick), halves it
/// when they are slow.
fn adapt(size: usize, took: Duration, max: usize) -> usize {
    if took < Duration::from_micros(10) {
        (size * 8).min(max)
    } else if took < Duration::from_micros(50) {
        (size * 2).min(max)
    } else if took > Duration::from_micros(500) {
        (size / 2).max(1)
    } else {
        size
    }
}
