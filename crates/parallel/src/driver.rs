//! The driver of one call: starts its workers, collects their chunks, enforces the deadline
//! and the per-task limit, and hands back exactly one outcome per task.
//!
//! It runs on the caller's thread for a blocking call and on a pool thread for a non-blocking
//! one. It never waits past the call's deadline: at the deadline it closes the source and
//! every batch in flight, so whatever a stuck worker still holds is accounted for at once.

use std::sync::Arc;
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, RecvTimeoutError};

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
    receiver: Receiver<Msg<W::Out>>,
    plan: Plan,
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
        let job = Arc::new(Job::new(work, tasks, sender, tracked, max_batch));
        pool::spawn((0..workers).map(|_| worker(&job)));
        Running { job, receiver, plan }
    }

    /// Cancels the call: see [`Msg::Cancel`].
    pub(crate) fn canceller(&self) -> impl Fn(bool) + Send + Sync + 'static {
        let job = Arc::downgrade(&self.job);
        move |dropped| {
            if let Some(job) = job.upgrade() {
                if dropped {
                    job.stop();
                }
                job.send(Msg::Cancel { dropped });
            }
        }
    }

    /// Collects the call's outcomes.
    pub(crate) fn collect(self) -> Collected<W::Out> {
        let mut chunks = Chunks::default();
        let mut batches = None::<usize>;
        let mut next_check = None::<Instant>;
        loop {
            if batches == Some(chunks.received) {
                return chunks.assemble();
            }
            let wake = [self.plan.deadline, next_check].into_iter().flatten().min();
            let msg = match wake {
                Some(at) => self.receiver.recv_deadline(at),
                None => self.receiver.recv().map_err(|_| RecvTimeoutError::Disconnected),
            };
            match msg {
                Ok(Msg::Chunk(chunk)) => {
                    chunks.insert(chunk);
                    if !self.plan.silent {
                        if let Some((index, failure)) = chunks.first_failure() {
                            self.job.stop();
                            return Collected::Failed(index, failure);
                        }
                    }
                }
                Ok(Msg::End { batches: total }) => batches = Some(total),
                Ok(Msg::Cancel { dropped }) => {
                    if dropped || !self.plan.silent {
                        self.job.stop();
                        return Collected::Cancelled;
                    }
                    let (chunk, total) =
                        self.job.close_source(FailureKind::Cancelled, "the call was cancelled before the task started");
                    chunks.extend(chunk);
                    batches = Some(total);
                }
                Err(RecvTimeoutError::Timeout) if self.past_deadline() => return self.at_deadline(chunks),
                Err(RecvTimeoutError::Timeout) => next_check = self.check_task_timeouts(&mut chunks),
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
            return Collected::TimedOut { finished: chunks.finished };
        }
        let timeout = self.plan.timeout.unwrap_or_default();
        let (chunk, _) = self
            .job
            .close_source(FailureKind::TimedOut, &format!("not started when the call's timeout of {timeout:?} passed"));
        chunks.extend(chunk);
        let message = format!("still running when the call's timeout of {timeout:?} passed");
        chunks.extend(self.job.close_in_flight(FailureKind::TimedOut, &message));
        // Batches their workers closed before us are in the channel already.
        while let Ok(msg) = self.receiver.try_recv() {
            if let Msg::Chunk(chunk) = msg {
                chunks.insert(chunk);
            }
        }
        chunks.assemble()
    }

    /// Fails the tasks past their limit and starts a worker in place of each one abandoned.
    fn check_task_timeouts(&self, chunks: &mut Chunks<W::Out>) -> Option<Instant> {
        let limit = self.plan.task_timeout?;
        let message = format!("ran longer than its task_timeout of {limit:?}");
        let (overdue, next) = self.job.close_overdue(limit, &message);
        if !overdue.is_empty() && !self.job.is_stopped() {
            pool::spawn(overdue.iter().map(|_| worker(&self.job)));
        }
        chunks.extend(overdue);
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

/// The chunks received so far, by batch number.
struct Chunks<T> {
    slots: Vec<Option<Chunk<T>>>,
    received: usize,
    finished: usize,
    /// Batches before this one have arrived and have no failure.
    frontier: usize,
}

impl<T> Default for Chunks<T> {
    fn default() -> Self {
        Chunks { slots: Vec::new(), received: 0, finished: 0, frontier: 0 }
    }
}

impl<T> Chunks<T> {
    fn insert(&mut self, chunk: Chunk<T>) {
        let batch = chunk.batch;
        if batch >= self.slots.len() {
            self.slots.resize_with(batch + 1, || None);
        }
        if self.slots[batch].is_none() {
            self.received += 1;
            self.finished += chunk.len;
            self.slots[batch] = Some(chunk);
        }
    }

    fn extend(&mut self, chunks: impl IntoIterator<Item = Chunk<T>>) {
        chunks.into_iter().for_each(|c| self.insert(c));
    }

    /// The first failure in input order, once every task before it has succeeded.
    fn first_failure(&mut self) -> Option<(usize, Failure)> {
        while let Some(Some(chunk)) = self.slots.get_mut(self.frontier) {
            if !chunk.failures.is_empty() {
                return Some(chunk.failures.remove(0));
            }
            self.frontier += 1;
        }
        None
    }

    /// One outcome per task, in input order.
    fn assemble(self) -> Collected<T> {
        let mut chunks: Vec<Chunk<T>> = self.slots.into_iter().flatten().collect();
        if chunks.iter().all(|c| c.failures.is_empty()) {
            if chunks.len() == 1 {
                return Collected::Values(chunks.pop().map(|c| c.values).unwrap_or_default());
            }
            let mut values = Vec::with_capacity(chunks.iter().map(|c| c.len).sum());
            chunks.into_iter().for_each(|c| values.extend(c.values));
            return Collected::Values(values);
        }
        let mut outcomes = Vec::with_capacity(chunks.iter().map(|c| c.len).sum());
        for chunk in chunks {
            let mut values = chunk.values.into_iter();
            let mut failures = chunk.failures.into_iter().peekable();
            for index in chunk.start..chunk.start + chunk.len {
                match failures.next_if(|(i, _)| *i == index) {
                    Some((_, failure)) => outcomes.push(Err(failure)),
                    None => outcomes.extend(values.next().map(Ok)),
                }
            }
        }
        Collected::Outcomes(outcomes)
    }
}
