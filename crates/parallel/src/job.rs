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
use std::sync::atomic::{AtomicBool, Ordering};
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

/// What the driver hears from workers and from the call's handle.
pub(crate) enum Msg<T> {
    Chunk(Chunk<T>),
    /// The input is exhausted after `batches` batches.
    End {
        batches: usize,
    },
    /// The handle cancelled the call; `dropped` if nobody will read the result.
    Cancel {
        dropped: bool,
    },
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
    sender: Sender<Msg<W::Out>>,
    stop: AtomicBool,
    tracked: bool,
    max_batch: usize,
    in_flight: Mutex<Vec<Arc<Cell<W>>>>,
    buffer: Option<Arc<Buffer<W::Out>>>,
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
        sender: Sender<Msg<W::Out>>,
        tracked: bool,
        max_batch: usize,
        buffer: Option<Arc<Buffer<W::Out>>>,
    ) -> Self {
        Job {
            buffer,
            work,
            source: Mutex::new(Source { tasks, next_index: 0, batches: 0, done: false }),
            sender,
            stop: AtomicBool::new(false),
            tracked,
            max_batch,
            in_flight: Mutex::new(Vec::new()),
        }
    }

    /// Stops handing out tasks; tasks already running finish in the background.
    pub(crate) fn stop(&self) {
        self.stop.store(true, Ordering::Release);
    }

    pub(crate) fn is_stopped(&self) -> bool {
        self.stop.load(Ordering::Acquire)
    }

    pub(crate) fn send(&self, msg: Msg<W::Out>) {
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
        if source.done || self.is_stopped() {
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
            self.send(Msg::Chunk(chunk));
        }
        if tasks.len() < size || read_failed {
            source.done = true;
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

    /// Runs a batch nobody else looks at; one `catch_unwind` covers many tiny tasks.
    fn run_plain(&self, batch: usize, start: usize, tasks: Vec<W::Params>) {
        let buffer = self.buffer.as_deref().filter(|b| b.fits(start, tasks.len()));
        let mut chunk = Chunk::new(batch, start, if buffer.is_some() { 0 } else { tasks.len() });
        chunk.direct = buffer.is_some();
        let mut tasks = tasks.into_iter();
        let mut kept = None;
        loop {
            let ran = catch_unwind(AssertUnwindSafe(|| {
                for params in tasks.by_ref() {
                    kept = Some(self.work.keep(&params));
                    let outcome = self.work.run(params);
                    let kept = kept.take().expect("kept before the call");
                    match (outcome, buffer) {
                        (Ok(value), Some(buffer)) => {
                            // SAFETY: the batch fits the buffer, and this worker took its tasks
                            // from the source: no one else writes this slot.
                            unsafe { buffer.write(chunk.start + chunk.len, value) };
                            chunk.len += 1;
                        }
                        (outcome, _) => chunk.push(outcome.map_err(|message| Failure {
                            kind: FailureKind::Error,
                            message,
                            params: describe(&self.work, &kept),
                        })),
                    }
                }
            }));
            match ran {
                Ok(()) => break,
                Err(payload) => {
                    let params = kept.take().map_or_else(String::new, |k| describe(&self.work, &k));
                    let message = panic_message(payload);
                    chunk.push(Err(Failure { kind: FailureKind::Panicked, message, params }));
                }
            }
        }
        self.send(Msg::Chunk(chunk));
    }

    /// Runs a tracked batch; `false` if the driver closed it (this worker is abandoned).
    fn run_tracked(&self, cell: &Arc<Cell<W>>) -> bool {
        loop {
            let params = {
                let mut state = lock(&cell.state);
                if state.closed {
                    return false;
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
        // Sent under the cell's lock: once the driver sees the cell closed, the chunk is queued.
        self.send(Msg::Chunk(chunk));
        drop(state);
        lock(&self.in_flight).retain(|c| !Arc::ptr_eq(c, cell));
        true
    }

    /// Ends the input: every task not yet taken fails with `kind`. Returns the chunk of those
    /// failures (if any) and the number of batches the call now has in all.
    pub(crate) fn close_source(&self, kind: FailureKind, message: &str) -> (Option<Chunk<W::Out>>, usize) {
        let mut source = lock(&self.source);
        if source.done {
            return (None, source.batches);
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
        if chunk.len == 0 {
            return (None, source.batches);
        }
        source.batches += 1;
        (Some(chunk), source.batches)
    }

    /// Closes every tracked batch in flight: what finished is kept, the running task and the
    /// pending ones fail with `kind`. Call after [`close_source`](Self::close_source).
    pub(crate) fn close_in_flight(&self, kind: FailureKind, message: &str) -> Vec<Chunk<W::Out>> {
        let cells = mem::take(&mut *lock(&self.in_flight));
        cells.iter().filter_map(|cell| self.close_cell(cell, &kind, message)).collect()
    }

    /// Closes the tracked batches whose running task has run for `limit` or longer, and
    /// returns their chunks and when the next running task reaches the limit.
    pub(crate) fn close_overdue(&self, limit: Duration, message: &str) -> (Vec<Chunk<W::Out>>, Option<Instant>) {
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
        let chunks = overdue.iter().filter_map(|cell| self.close_cell(cell, &FailureKind::TimedOut, message));
        (chunks.collect(), next)
    }

    /// Closes one tracked batch unless its worker already sent it.
    fn close_cell(&self, cell: &Cell<W>, kind: &FailureKind, message: &str) -> Option<Chunk<W::Out>> {
        let mut state = lock(&cell.state);
        if state.closed {
            return None;
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
        Some(chunk)
    }
}

/// Doubles the batch while batches are quick, halves it when they are slow.
fn adapt(size: usize, took: Duration, max: usize) -> usize {
    if took < Duration::from_micros(50) {
        (size * 2).min(max)
    } else if took > Duration::from_micros(500) {
        (size / 2).max(1)
    } else {
        size
    }
}
