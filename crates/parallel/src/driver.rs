//! The driver of one call: starts its workers, collects their chunks, enforces the deadline
//! and the per-task limit, and hands back exactly one outcome per task.
//!
//! It runs on the caller's thread for a blocking call and on a pool thread for a non-blocking
//! one. It never waits past the call's deadline: at the deadline it closes the source and
//! every batch in flight, so whatever a stuck worker still holds is accounted for at once.

use std::sync::Arc;
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, RecvTimeoutError};

use crate::buffer::Buffer;
use crate::job::{max_batch, Chunk, Failure, Job, Msg};
use crate::pool;
use crate::results::FailureKind;
use crate::work::Work;

/// The options of one call, with its deadline fixed at its start.
#[derive(Clone, Debug)]
pub(crate) struct Plan {
    pub(crate) workers: usize,
    pub(crate) timeout: Option<Duration>,
    pub(crate) deadline: Option<Instant>,
    pub(crate) task_timeout: Option<Duration>,
    pub(crate) silent: bool,
}

/// How a call ended, with the outcomes it has.
pub enum Collected<T> {
    /// Every task succeeded: the values in input order.
    Values(Vec<T>),
    /// One outcome per task in input order (some failed; silent calls only).
    Outcomes(Vec<Result<T, Failure>>),
    /// The first failure in input order, with its index (calls that are not silent).
    Failed(usize, Failure),
    /// The deadline passed with `finished` tasks done (calls that are not silent).
    TimedOut { finished: usize },
    /// The call was cancelled (calls that are not silent).
    Cancelled,
}

/// A call whose workers are running.
pub(crate) struct Running<W: Work, It> {
    job: Arc<Job<W, It>>,
    receiver: Receiver<Msg>,
    plan: Plan,
    size_hint: usize,
    buffer: Option<Arc<Buffer<W::Out>>>,
    /// The number of batches, once known.
    batches: Option<usize>,
}

impl<W, It> Running<W, It>
where
    W: Work,
    It: Iterator<Item = W::Params> + Send + 'static,
{
    /// Starts the workers of a call.
    pub(crate) fn start(work: W, tasks: It, plan: Plan) -> Self {
        let (sender, receiver) = crossbeam_channel::unbounded();
        let (low, high) = tasks.size_hint();
        let workers = plan.workers.min(high.unwrap_or(usize::MAX)).max(1);
        let tracked = plan.deadline.is_some() || plan.task_timeout.is_some();
        let max_batch = max_batch(low, workers, plan.task_timeout.is_some());
        let exact = (Some(low) == high).then_some(low);
        let buffer = exact.filter(|_| !tracked).and_then(Buffer::new).map(Arc::new);
        let job = Arc::new(Job::new(work, tasks, sender, tracked, max_batch, buffer.clone(), !plan.silent));
        // An input known to be empty needs no worker, and its call is over before any deadline.
        let batches =
            (high == Some(0)).then(|| job.close_source(FailureKind::Panicked, "the input outgrew its size hint"));
        if batches.is_none() {
            pool::spawn((0..workers).map(|_| worker(&job)));
        }
        Running { job, receiver, plan, size_hint: low, buffer, batches }
    }

    /// Cancels the call: see [`Msg::Cancel`].
    pub(crate) fn canceller(&self) -> impl Fn(bool) + Send + Sync + 'static {
        let job = Arc::downgrade(&self.job);
        move |dropped| {
            if let Some(job) = job.upgrade() {
                // At once, before `cancel` returns: no task starts after it.
                job.stop();
                job.send(Msg::Cancel { dropped });
            }
        }
    }

    /// Collects the call's outcomes.
    pub(crate) fn collect(self) -> Collected<W::Out> {
        let mut chunks = Chunks::new(self.size_hint, self.buffer.clone());
        let mut batches = self.batches;
        let mut next_check = None::<Instant>;
        loop {
            chunks.extend(self.job.delivered());
            if !self.plan.silent {
                if let Some((index, failure)) = chunks.first_failure() {
                    self.job.stop();
                    return Collected::Failed(index, failure);
                }
            }
            if batches == Some(chunks.received) {
                return chunks.assemble();
            }
            let wake = [self.plan.deadline, next_check].into_iter().flatten().min();
            let msg = match wake {
                Some(at) => self.receiver.recv_deadline(at),
                None => self.receiver.recv().map_err(|_| RecvTimeoutError::Disconnected),
            };
            match msg {
                Ok(Msg::Wake) => {}
                Ok(Msg::End { batches: total }) => batches = Some(total),
                Ok(Msg::Cancel { dropped }) => {
                    if dropped || !self.plan.silent {
                        self.job.stop();
                        return Collected::Cancelled;
                    }
                    let message = "the call was cancelled before the task started";
                    batches = Some(self.job.close_source(FailureKind::Cancelled, message));
                }
                Err(RecvTimeoutError::Timeout) if self.past_deadline() => return self.at_deadline(chunks),
                Err(RecvTimeoutError::Timeout) => next_check = self.check_task_timeouts(),
                // The job holds a sender while this driver runs: never disconnected.
                Err(RecvTimeoutError::Disconnected) => return chunks.assemble(),
            }
            if self.plan.task_timeout.is_some() && next_check.is_none() {
                next_check = Some(Instant::now() + Duration::from_millis(10));
            }
        }
    }

    fn past_deadline(&self) -> bool {
        self.plan.deadline.is_some_and(|d| Instant::now() >= d)
    }

    /// The deadline passed: fail everything unfinished, now.
    fn at_deadline(&self, mut chunks: Chunks<W::Out>) -> Collected<W::Out> {
        self.job.stop();
        if !self.plan.silent {
            chunks.extend(self.job.delivered());
            return Collected::TimedOut { finished: chunks.finished };
        }
        let timeout = self.plan.timeout.unwrap_or_default();
        let not_started = format!("not started when the call's timeout of {timeout:?} passed");
        self.job.close_source(FailureKind::TimedOut, &not_started);
        let running = format!("still running when the call's timeout of {timeout:?} passed");
        self.job.close_in_flight(FailureKind::TimedOut, &running);
        // Every batch is delivered now: by its worker before, or just now by us.
        chunks.extend(self.job.delivered());
        chunks.assemble()
    }

    /// Fails the tasks past their limit and starts a worker in place of each one abandoned.
    fn check_task_timeouts(&self) -> Option<Instant> {
        let limit = self.plan.task_timeout?;
        let message = format!("ran longer than its task_timeout of {limit:?}");
        let (overdue, next) = self.job.close_overdue(limit, &message);
        if !self.job.is_stopped() {
            pool::spawn((0..overdue).map(|_| worker(&self.job)));
        }
        next
    }
}

fn worker<W, It>(job: &Arc<Job<W, It>>) -> pool::Work
where
    W: Work,
    It: Iterator<Item = W::Params> + Send + 'static,
{
    let job = job.clone();
    Box::new(move || job.work_loop())
}

/// The outcomes received so far. Chunks are appended in batch order as soon as every batch
/// before them has arrived, so the output is built while the tasks run — with memory the
/// workers' next chunks reuse — and only out-of-order chunks wait. Values the workers wrote
/// to the call's [`Buffer`] stay there, and the buffer becomes the output.
struct Chunks<T> {
    /// Chunks that arrived before an earlier batch, by batch number.
    waiting: Vec<Option<Chunk<T>>>,
    /// The next batch to append.
    frontier: usize,
    buffer: Option<Arc<Buffer<T>>>,
    /// Every value appended so far is in the buffer (else all are in `values`).
    in_buffer: bool,
    /// The values appended so far that are not in the buffer, in input order.
    values: Vec<T>,
    /// The failures among the tasks appended so far, in input order.
    failures: Vec<(usize, Failure)>,
    /// Tasks appended so far.
    appended: usize,
    received: usize,
    finished: usize,
}

impl<T> Chunks<T> {
    fn new(tasks: usize, buffer: Option<Arc<Buffer<T>>>) -> Self {
        let values = if buffer.is_some() { Vec::new() } else { Vec::with_capacity(tasks) };
        Chunks {
            waiting: Vec::new(),
            frontier: 0,
            in_buffer: buffer.is_some(),
            buffer,
            values,
            failures: Vec::new(),
            appended: 0,
            received: 0,
            finished: 0,
        }
    }

    fn insert(&mut self, chunk: Chunk<T>) {
        let batch = chunk.batch;
        if batch < self.frontier || self.waiting.get(batch - self.frontier).is_some_and(Option::is_some) {
            return; // already have it
        }
        self.received += 1;
        self.finished += chunk.len;
        let slot = batch - self.frontier;
        if slot >= self.waiting.len() {
            self.waiting.resize_with(slot + 1, || None);
        }
        self.waiting[slot] = Some(chunk);
        let ready = self.waiting.iter().take_while(|c| c.is_some()).count();
        let ready: Vec<Chunk<T>> = self.waiting.drain(..ready).flatten().collect();
        self.frontier += ready.len();
        ready.into_iter().for_each(|chunk| self.append(chunk));
    }

    /// Appends the next chunk in input order.
    fn append(&mut self, chunk: Chunk<T>) {
        let no_values = chunk.values.is_empty() && chunk.failures.len() == chunk.len;
        if self.in_buffer && !(chunk.direct || no_values) {
            // A batch beyond the buffer (the input outgrew its size hint): from here on, values
            // are copied out of the buffer.
            self.in_buffer = false;
            self.copy_from_buffer(0, self.appended);
        }
        let start = self.appended;
        self.appended += chunk.len;
        self.failures.extend(chunk.failures);
        if chunk.direct && !self.in_buffer {
            self.copy_from_buffer(start, self.appended);
        }
        self.values.extend(chunk.values);
    }

    /// Copies the values of the successful tasks in `from .. to` out of the buffer.
    fn copy_from_buffer(&mut self, from: usize, to: usize) {
        let Some(buffer) = &self.buffer else { return };
        let mut failed = self.failures.iter().map(|(i, _)| *i).skip_while(|i| *i < from).peekable();
        for index in from..to {
            if failed.next_if_eq(&index).is_none() {
                // SAFETY: the task succeeded in a chunk marked direct that was received.
                self.values.push(unsafe { buffer.read(index) });
            }
        }
    }

    fn extend(&mut self, chunks: impl IntoIterator<Item = Chunk<T>>) {
        chunks.into_iter().for_each(|c| self.insert(c));
    }

    /// The first failure in input order, once every task before it has succeeded.
    fn first_failure(&mut self) -> Option<(usize, Failure)> {
        (!self.failures.is_empty()).then(|| self.failures.swap_remove(0))
    }

    /// One outcome per task, in input order.
    fn assemble(mut self) -> Collected<T> {
        debug_assert!(self.waiting.iter().all(Option::is_none), "a batch is missing");
        if self.in_buffer && self.failures.is_empty() {
            let taken = match &self.buffer {
                // SAFETY: every task succeeded, its chunk was direct and was received, and every
                // task of the call is accounted for: no worker writes again.
                Some(buffer) if self.appended > 0 => unsafe { buffer.take(self.appended) },
                _ => None,
            };
            return Collected::Values(taken.unwrap_or_default());
        }
        if self.in_buffer {
            self.copy_from_buffer(0, self.appended);
        }
        if self.failures.is_empty() {
            return Collected::Values(self.values);
        }
        let mut values = self.values.into_iter();
        let mut failures = self.failures.into_iter().peekable();
        let outcomes = (0..self.appended).filter_map(|index| match failures.next_if(|(i, _)| *i == index) {
            Some((_, failure)) => Some(Err(failure)),
            None => values.next().map(Ok),
        });
        Collected::Outcomes(outcomes.collect())
    }
}
