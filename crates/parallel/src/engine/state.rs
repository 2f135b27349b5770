//! One call's shared state — the source its pool threads take tasks from, the outbox they
//! leave outcomes in — and the loop every one of them runs.
//!
//! Pool threads take tasks in batches whose size adapts to how long a batch took (tiny tasks travel
//! thousands at a time, slow ones one at a time) and deliver one [`Chunk`] of outcomes per
//! batch. Tasks are numbered as they are read, and a chunk says which tasks it covers, so the
//! driver can put every outcome in its place whoever delivered it. Calls with a timeout track
//! their batches in flight (see `tracked.rs`).

use std::mem::{self, MaybeUninit};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crossbeam_channel::Sender;

use crate::engine::buffer::Buffer;
use crate::engine::chunks::Chunk;
use crate::engine::retry::Retry;
use crate::engine::sync::lock;
use crate::engine::tap::{Arrived, Tap};
use crate::engine::tracked_batch::TrackedBatch;
use crate::engine::work::{describe, describe_params, panic_message, run_one, Work};
use crate::failure::{Failure, FailureKind, Fault};
use crate::inputs::Tasks;
use crate::progress::Counts;

/// What wakes the driver. Chunks themselves wait in the call state's outbox.
pub(crate) enum Msg {
    /// New chunks are in the outbox.
    Wake,
    /// The input is exhausted: the call's number of tasks is known.
    End,
    /// The handle cancelled the call; `dropped` if nobody will read the result.
    Cancel { dropped: bool },
}

/// Where tasks come from: the caller's iterator, numbered as it is read.
pub(crate) struct Source<It> {
    pub(crate) tasks: It,
    pub(crate) next_index: usize,
    pub(crate) done: bool,
}

/// What a pool thread took.
enum Batch<W: Work, B> {
    Plain { start: usize, tasks: B },
    Tracked(Arc<TrackedBatch<W>>),
}

/// One call's shared state.
pub(crate) struct CallState<W: Work, It> {
    pub(crate) work: W,
    pub(crate) source: Mutex<Source<It>>,
    sender: Sender<Msg>,
    /// Tasks from this index on never start: 0 once the call is cancelled or over, the index
    /// after the first failure of a strict call (no later task can change its outcome).
    stop_at: AtomicUsize,
    /// The call stopped because its deadline passed (not because it was cancelled): the tasks
    /// that then never start are timed out.
    deadline_passed: AtomicBool,
    pub(crate) tracked: bool,
    /// The call has a handle that can cancel it.
    cancellable: bool,
    max_batch: usize,
    /// The tracked batches in flight.
    pub(crate) in_flight: Mutex<Vec<Arc<TrackedBatch<W>>>>,
    buffer: Option<Arc<Buffer<W::Out>>>,
    /// Chunks waiting for the driver.
    outbox: Mutex<Vec<Chunk<W::Out>>>,
    /// Tasks delivered so far (failed among them), and how many the call has: shared with
    /// the call's handle, which reads its progress there.
    counts: Arc<Counts>,
    /// Where each chunk's outcomes go as it is delivered, if the call has a tap: the outbox
    /// then gets the chunk without its values.
    pub(crate) tap: Option<Tap<W::Out>>,
    /// Strict calls want every chunk at once after a failure.
    strict: bool,
    failed: AtomicBool,
    /// Which failed tasks run again (`retry.rs`).
    pub(crate) retry: Option<Retry>,
    /// Tracked batches whose running task was taken away to run again, not yet adopted by a
    /// pool thread.
    pub(crate) orphans: AtomicUsize,
}

/// The largest batch a pool thread takes: a quarter of an even share, so the work still balances,
/// and at most [`MAX_BATCH`] tasks.
pub(crate) fn max_batch(size_hint: usize, workers: usize, task_timeout: bool) -> usize {
    if task_timeout {
        return 1; // the driver can fail a stuck task only when it runs alone
    }
    match size_hint {
        0 => MAX_BATCH,
        n => (n / (workers * 4)).clamp(1, MAX_BATCH),
    }
}

/// Enough tiny tasks to make a batch's fixed cost (a lock, a delivery, two small allocations)
/// negligible, and few enough that a batch's buffers are recycled by the allocator instead
/// of being mapped fresh (page faults cost more than the tasks).
pub(crate) const MAX_BATCH: usize = 4096;

/// How many tasks a call without a handle runs between looks at whether it stopped.
const STOP_CHECK: usize = 16;

/// The failure of a task a batch said it had but did not yield (its `ExactSizeIterator::len`
/// was wrong): the task is accounted for, never read as a value.
fn short_batch(len: usize, yielded: usize) -> Failure {
    let message =
        format!("the input's batch said it had {len} tasks but gave {yielded} (a wrong `ExactSizeIterator::len`)");
    Failure::new(FailureKind::Error, message, "<not read>".to_owned())
}

impl<W, It> CallState<W, It>
where
    W: Work,
    It: Tasks<Params = W::Params>,
{
    pub(crate) fn new(
        work: W,
        tasks: It,
        sender: Sender<Msg>,
        (tracked, strict, cancellable): (bool, bool, bool),
        max_batch: usize,
        buffer: Option<Arc<Buffer<W::Out>>>,
        (counts, tap): (Arc<Counts>, Option<Tap<W::Out>>),
    ) -> Self {
        CallState {
            work,
            source: Mutex::new(Source { tasks, next_index: 0, done: false }),
            sender,
            stop_at: AtomicUsize::new(usize::MAX),
            deadline_passed: AtomicBool::new(false),
            tracked,
            cancellable,
            max_batch,
            in_flight: Mutex::new(Vec::new()),
            buffer,
            outbox: Mutex::new(Vec::new()),
            counts,
            tap,
            strict,
            failed: AtomicBool::new(false),
            retry: None,
            orphans: AtomicUsize::new(0),
        }
    }

    /// The same, running failed tasks again as `retry` says.
    pub(crate) fn retrying(mut self, retry: Option<Retry>) -> Self {
        self.retry = retry;
        self
    }

    /// The parameters of task `index`, which failed with `fault`, if it runs again: the call
    /// retries such failures, has attempts left, has not stopped, and the work can give the
    /// parameters again from `kept`.
    pub(crate) fn again(&self, index: usize, fault: &Fault, kept: &W::Kept) -> Option<W::Params> {
        let retry = self.retry.as_ref()?;
        if self.stops(index) || !retry.wants(fault) {
            return None;
        }
        catch_unwind(AssertUnwindSafe(|| self.work.again(kept))).ok().flatten()
    }

    /// The outcome of task `index`, which failed with `fault`, after its retries, each run by
    /// `run` here and now (an untracked call's task).
    #[cold]
    pub(crate) fn retried(
        &self,
        index: usize,
        mut fault: Fault,
        kept: &W::Kept,
        run: impl Fn(W::Params) -> Result<W::Out, Fault>,
    ) -> Result<W::Out, Fault> {
        while let Some(params) = self.again(index, &fault, kept) {
            let attempts = fault.attempts + 1;
            match run(params) {
                Ok(value) => return Ok(value),
                Err(next) => fault = Fault { attempts, ..next },
            }
        }
        Err(fault)
    }

    /// Stops handing out tasks; tasks already running finish in the background.
    pub(crate) fn stop(&self) {
        self.stop_at.store(0, Ordering::Release);
        self.work.stop_from(0);
        self.wake_paced();
    }

    /// Pool threads waiting for the consumer of a paced call look again: the call stopped.
    fn wake_paced(&self) {
        if let Some(tap) = &self.tap {
            tap.pace.wake();
        }
    }

    /// Stops handing out tasks because the deadline passed: those that never start are
    /// [`TimedOut`](FailureKind::TimedOut), not cancelled.
    pub(crate) fn stop_at_deadline(&self) {
        self.deadline_passed.store(true, Ordering::Release);
        self.stop();
    }

    pub(crate) fn is_stopped(&self) -> bool {
        self.stop_at.load(Ordering::Acquire) == 0
    }

    /// `true` if the task at `index` must not start.
    pub(crate) fn stops(&self, index: usize) -> bool {
        index >= self.stop_at.load(Ordering::Relaxed)
    }

    /// A task failed: in a strict call, the tasks after it need not run.
    pub(crate) fn failed_at(&self, index: usize) {
        if self.strict && self.stop_at.fetch_min(index + 1, Ordering::AcqRel) > index + 1 {
            self.work.stop_from(index + 1);
            self.wake_paced();
        }
    }

    /// The call's number of tasks, once the input is exhausted.
    /// The call's counts, which its handle reads.
    pub(crate) fn counts(&self) -> Arc<Counts> {
        self.counts.clone()
    }

    pub(crate) fn total(&self) -> Option<usize> {
        self.counts.total()
    }

    pub(crate) fn send(&self, msg: Msg) {
        // The driver may have returned already (deadline, first failure): nobody listens.
        let _ = self.sender.send(msg);
    }

    /// A pool thread's loop: take a batch, run it, deliver its outcomes, until the source is
    /// empty (then help with tracked batches still in flight), the call stops, or the driver
    /// abandons this thread to a task past its timeout.
    pub(crate) fn work_loop(self: Arc<Self>) {
        let mut size = 1;
        loop {
            // A batch whose task is to run again (past its `task_timeout`) goes first.
            let adopted = (self.orphans.load(Ordering::Acquire) > 0).then(|| self.steal()).flatten();
            let batch = match adopted.map(Batch::Tracked).or_else(|| self.take(size)) {
                Some(batch) => batch,
                None => match self.steal() {
                    Some(stolen) => Batch::Tracked(stolen),
                    None => return,
                },
            };
            let began = Instant::now();
            match batch {
                Batch::Plain { start, tasks } => self.run_plain(start, tasks),
                Batch::Tracked(batch) => {
                    if !self.run_tracked(&batch) {
                        return;
                    }
                }
            }
            let took = self.work.batch_took().unwrap_or_else(|| began.elapsed());
            size = adapt(size, took, self.max_batch, Aim::of(&self.work));
        }
    }

    /// Takes up to `size` tasks from the source.
    ///
    /// A call paced by the consumer of its outcomes first waits for its turn (see
    /// [`Pace`](crate::engine::tap::Pace)): the consumer to take some, or the call to stop.
    fn take(&self, size: usize) -> Option<Batch<W, It::Batch>> {
        let pace = self.tap.as_ref().map(|tap| &*tap.pace);
        let mut source = loop {
            if let Some(pace) = pace {
                pace.wait_turn(|| self.stop_at.load(Ordering::Acquire) != usize::MAX);
            }
            let source = lock(&self.source);
            // Looked at again with the source held: another pool thread may have taken the turn.
            match pace {
                Some(pace) if !pace.open() && self.stop_at.load(Ordering::Acquire) == usize::MAX => drop(source),
                _ => break source,
            }
        };
        if source.done || self.stops(source.next_index) {
            return None;
        }
        let read = catch_unwind(AssertUnwindSafe(|| source.tasks.take(size)));
        let start = source.next_index;
        let (tasks, exhausted, panicked) = match read {
            Ok(tasks) => {
                let exhausted = tasks.len() < size;
                (tasks, exhausted, None)
            }
            Err(payload) => (source.tasks.recover(), true, Some(payload)),
        };
        source.next_index += tasks.len();
        if let Some(payload) = panicked {
            // The input iterator itself panicked: that slot fails and the input ends there.
            let mut chunk = Chunk::new(source.next_index, 0);
            let message = format!("the input iterator panicked: {}", panic_message(payload));
            chunk.push(Err(Failure::new(FailureKind::Panicked, message, "<not read>".to_owned())));
            source.next_index += 1;
            self.deliver(chunk);
        }
        if let Some(pace) = pace {
            pace.handed_up_to(source.next_index);
        }
        if exhausted {
            self.end(&mut source);
        }
        if tasks.len() == 0 {
            return None;
        }
        if !self.tracked {
            return Some(Batch::Plain { start, tasks });
        }
        // Registered before the source is unlocked: the driver, which closes the source
        // before the batches, sees every task either in the source or in flight.
        let claimed = tasks.len();
        let tasks: std::collections::VecDeque<It::Params> = tasks.take(claimed).collect();
        if tasks.len() < claimed {
            // A wrong `ExactSizeIterator::len`: the tasks it did not yield fail in their place.
            let mut chunk = Chunk::new(start + tasks.len(), 0);
            (tasks.len()..claimed).for_each(|_| chunk.push(Err(short_batch(claimed, tasks.len()))));
            self.deliver(chunk);
            if tasks.is_empty() {
                return None;
            }
        }
        let batch = TrackedBatch::new(start, tasks);
        lock(&self.in_flight).push(batch.clone());
        Some(Batch::Tracked(batch))
    }

    /// Marks the input exhausted: the number of tasks is known.
    fn end(&self, source: &mut Source<It>) {
        source.done = true;
        self.counts.set_total(source.next_index);
        self.send(Msg::End);
    }

    /// Runs a batch nobody else looks at, writing the values to the call's buffer when it
    /// has one, else to the chunk.
    fn run_plain(&self, start: usize, tasks: It::Batch) {
        if self.work.batched() {
            return self.run_many(start, tasks);
        }
        let len = tasks.len();
        let mut values = Vec::new();
        // A batch that yields fewer tasks than its `len` said (a wrong `ExactSizeIterator`)
        // must not leave slots unwritten that are then read as values: the tasks it did not
        // yield fail in place. (Counted without an adapter: the loop into the buffer stays as
        // tight as a plain `map`.)
        let (mut failures, direct, yielded) = match self.buffer.as_deref().filter(|b| b.fits(start, len)) {
            Some(buffer) => {
                // SAFETY: the batch fits the buffer, and this thread took its tasks from the
                // source: no one else touches these slots until its chunk is delivered.
                let slots = unsafe { buffer.slots(start, len) };
                let (failures, yielded) = self.run_into(start, tasks, slots);
                (failures, true, yielded)
            }
            None => {
                values.reserve_exact(len);
                let failures = self.run_batch(start, tasks.take(len), |_, value| values.push(value));
                // Every task yielded gave a value or a failure.
                let yielded = values.len() + failures.len();
                (failures, false, yielded)
            }
        };
        failures.extend((start + yielded..start + len).map(|index| (index, short_batch(len, yielded))));
        self.deliver(Chunk { start, len, values, failures, direct });
    }

    /// Runs a batch with [`Work::run_many`], which looks whether the call stopped (it was
    /// cancelled, or a strict call failed before this batch) before each task it starts.
    fn run_many(&self, start: usize, tasks: It::Batch) {
        let len = tasks.len();
        let tasks: Vec<W::Params> = tasks.take(len).collect();
        let yielded = tasks.len();
        let kept: Vec<W::Kept> = tasks.iter().map(|params| self.work.keep(params)).collect();
        let mut chunk = Chunk::new(start, len);
        let stopped = || self.stops(start);
        let outcomes = self.work.run_many(start, tasks, &stopped);
        for (outcome, kept) in outcomes.into_iter().zip(kept) {
            let index = start + chunk.len;
            let outcome = outcome.or_else(|fault| self.retried(index, fault, &kept, |p| self.rerun(index, p)));
            chunk.push(outcome.map_err(|fault| {
                self.failed_at(index);
                self.failure(fault, describe(&self.work, &kept))
            }));
        }
        for _ in yielded..len {
            chunk.push(Err(short_batch(len, yielded))); // as in `run_plain`
        }
        self.deliver(chunk);
    }

    /// Task `index` of a batched work run again, alone, as a batch of one (a process call's
    /// retry goes to a worker process, a new one if its last one died).
    pub(crate) fn rerun(&self, index: usize, params: W::Params) -> Result<W::Out, Fault> {
        let stopped = || self.stops(index);
        let outcome = catch_unwind(AssertUnwindSafe(|| self.work.run_many(index, vec![params], &stopped).pop()));
        match outcome {
            Ok(Some(outcome)) => outcome,
            Ok(None) => Err(Fault::new(FailureKind::Panicked, "the work's run_many gave no outcome for a retry")),
            Err(payload) => Err(Fault::new(FailureKind::Panicked, panic_message(payload))),
        }
    }

    /// The loop over one batch's tasks: `emit` receives each value with its offset in the
    /// batch; the failures are returned. Everything the loop updates is local, so when the
    /// task is inlined and cannot unwind, `catch_unwind` compiles away and the loop is as
    /// tight as a plain `map`.
    ///
    /// Whether the call stopped is checked before every task of a call that can be cancelled
    /// (it has a handle), so that no task starts once `cancel` returned; other calls stop only
    /// after a strict failure, and check every [`STOP_CHECK`] tasks (the pool thread that failed
    /// stops at once).
    #[inline(always)]
    fn run_batch(
        &self,
        start: usize,
        tasks: impl Iterator<Item = W::Params>,
        mut emit: impl FnMut(usize, W::Out),
    ) -> Vec<(usize, Failure)> {
        let mut failures = Vec::new();
        let every = if self.cancellable { 1 } else { STOP_CHECK };
        let mut tasks = tasks.enumerate().peekable();
        while let Some(&(offset, _)) = tasks.peek() {
            if self.stops(start + offset) {
                // Stopped mid-batch: the tasks not started never run.
                failures.extend(tasks.map(|(offset, params)| (start + offset, self.cancelled(&params))));
                break;
            }
            for (offset, params) in tasks.by_ref().take(every) {
                let kept = self.work.keep(&params);
                let outcome = run_one(&self.work, params);
                let outcome =
                    outcome.or_else(|fault| self.retried(start + offset, fault, &kept, |p| run_one(&self.work, p)));
                if let Err(fault) = outcome.map(|value| emit(offset, value)) {
                    let index = start + offset;
                    self.failed_at(index);
                    failures.push((index, self.failure(fault, describe(&self.work, &kept))));
                    if self.strict {
                        break; // the tasks after a strict failure need not run: stop checks next
                    }
                }
            }
        }
        failures
    }

    /// [`run_batch`](Self::run_batch) writing each value into its slot of `slots`, one per
    /// task: the same looks at the stop, in a loop over the slots a block of tasks at a time,
    /// with no bounds check per task.
    #[inline(always)]
    fn run_into(
        &self,
        start: usize,
        mut tasks: impl Iterator<Item = W::Params>,
        slots: &mut [MaybeUninit<W::Out>],
    ) -> (Vec<(usize, Failure)>, usize) {
        let mut failures = Vec::new();
        let every = if self.cancellable { 1 } else { STOP_CHECK };
        let len = slots.len();
        // The tasks taken from `tasks` so far: the count returned, which a batch shorter than
        // it said leaves below `len`.
        let mut done = 0;
        for block in slots.chunks_mut(every) {
            if self.stops(start + done) {
                // Stopped mid-batch: the tasks not started never run.
                let before = failures.len();
                let rest = tasks.take(len - done).enumerate();
                failures.extend(rest.map(|(i, params)| (start + done + i, self.cancelled(&params))));
                done += failures.len() - before;
                break;
            }
            let mut ran = 0;
            for (slot, params) in block.iter_mut().zip(tasks.by_ref()) {
                let kept = self.work.keep(&params);
                ran += 1;
                let outcome = run_one(&self.work, params);
                let outcome = outcome
                    .or_else(|fault| self.retried(start + done + ran - 1, fault, &kept, |p| run_one(&self.work, p)));
                match outcome {
                    Ok(value) => _ = slot.write(value),
                    Err(fault) => {
                        let index = start + done + ran - 1;
                        self.failed_at(index);
                        failures.push((index, self.failure(fault, describe(&self.work, &kept))));
                        if self.strict {
                            // The tasks after a strict failure need not run.
                            let taken = done + ran;
                            let before = failures.len();
                            let rest = tasks.take(len - taken).enumerate();
                            failures.extend(rest.map(|(i, params)| (index + 1 + i, self.cancelled(&params))));
                            let yielded = taken + failures.len() - before;
                            return (failures, yielded);
                        }
                    }
                }
            }
            done += ran;
            if ran < block.len() {
                break; // the batch had fewer tasks than it said
            }
        }
        (failures, done)
    }

    /// The failure of a task that never ran because the call stopped.
    pub(crate) fn cancelled(&self, params: &W::Params) -> Failure {
        self.not_started(describe_params(&self.work, params))
    }

    /// The failure a work reported for a task with parameters `params`; a task the work did
    /// not start because the call stopped (a process worker skipped it) is
    /// [`not_started`](Self::not_started).
    pub(crate) fn failure(&self, fault: Fault, params: String) -> Failure {
        match fault.kind {
            FailureKind::Cancelled => self.not_started(params),
            _ => Failure::of(fault, params),
        }
    }

    /// The failure of a task with parameters `params` that never ran because the call
    /// stopped: timed out if its deadline stopped it, else cancelled (a cancel, or a strict
    /// call's failure, which then reports that failure, not this one).
    fn not_started(&self, params: String) -> Failure {
        if self.deadline_passed.load(Ordering::Acquire) {
            let message = "not started when the call's timeout passed".to_owned();
            return Failure::new(FailureKind::TimedOut, message, params);
        }
        Failure::new(FailureKind::Cancelled, "the call was cancelled before the task started".to_owned(), params)
    }

    /// Hands a chunk to the driver, and wakes it only when it has something to do: a failure
    /// to report (strict calls) or the call's last tasks. A call of a million tiny tasks thus
    /// wakes its driver a few times, not once per batch.
    pub(crate) fn deliver(&self, mut chunk: Chunk<W::Out>) {
        let (len, failed) = (chunk.len, chunk.failures.len());
        if failed > 0 {
            self.failed.store(true, Ordering::Release);
        }
        if let Some(tap) = &self.tap {
            // Before the outbox: whoever learns that the call ended finds every outcome tapped.
            // A silent call's driver needs no failure: they go to the tap, not kept twice.
            tap.send(Arrived::of(&mut chunk, self.strict));
        }
        lock(&self.outbox).push(chunk);
        // Counted once in the outbox: whoever counts the last task finds every chunk there.
        let delivered = self.counts.add(len, failed);
        if Some(delivered) == self.counts.total() || (self.strict && self.failed.load(Ordering::Acquire)) {
            self.send(Msg::Wake);
        }
    }

    /// The chunks delivered since the last call.
    pub(crate) fn delivered(&self) -> Vec<Chunk<W::Out>> {
        mem::take(&mut *lock(&self.outbox))
    }

    /// Ends the input: every task not yet taken fails with `kind`, delivered as one chunk.
    pub(crate) fn close_source(&self, kind: FailureKind, message: &str) {
        let mut source = lock(&self.source);
        if source.done {
            return;
        }
        if !source.tasks.read_rest_on_stop() {
            // The tasks not read are not part of the call: it has those it read.
            self.end(&mut source);
            return;
        }
        let mut chunk = Chunk::new(source.next_index, 0);
        let mut fail = |params: &W::Params| {
            let params = describe_params(&self.work, params);
            chunk.push(Err(Failure::new(kind.clone(), message.to_owned(), params)));
        };
        let drained = catch_unwind(AssertUnwindSafe(|| source.tasks.take(usize::MAX)));
        let (rest, panicked) = match drained {
            Ok(rest) => (rest, None),
            Err(payload) => (source.tasks.recover(), Some(payload)),
        };
        rest.for_each(|params| fail(&params));
        if let Some(payload) = panicked {
            let message = format!("the input iterator panicked: {}", panic_message(payload));
            let params = "<not read>".to_owned();
            chunk.push(Err(Failure::new(FailureKind::Panicked, message, params)));
        }
        source.next_index += chunk.len;
        self.end(&mut source);
        if chunk.len > 0 {
            self.deliver(chunk);
        }
    }
}

/// How long a work's batches aim to take: grown fourfold (eightfold for a plain work) while
/// quicker than `quick` — or, up to `most_growth`-fold, by as much as brings the batch to `short`
/// — doubled while quicker than `short`, halved when longer than `long`.
/// A batched work (a round trip to a worker process, a hold of Python's GIL) has a fixed cost
/// per batch of tens of microseconds, so its batches aim at a few milliseconds; a work of
/// remote batches (a task of a cluster, ~1–10 ms of scheduling each) at 0.2–1 s, as joblib's
/// Dask backend does.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Aim {
    quick: Duration,
    short: Duration,
    long: Duration,
    growth: usize,
    most_growth: usize,
}

impl Aim {
    const PLAIN: Aim = Aim {
        quick: Duration::from_micros(10),
        short: Duration::from_micros(50),
        long: Duration::from_micros(500),
        growth: 8,
        most_growth: 8,
    };
    const BATCHED: Aim = Aim {
        quick: Duration::from_millis(1),
        short: Duration::from_millis(4),
        long: Duration::from_millis(40),
        growth: 4,
        most_growth: 4,
    };
    const REMOTE: Aim = Aim {
        quick: Duration::from_millis(100),
        short: Duration::from_millis(200),
        long: Duration::from_secs(1),
        growth: 4,
        // Each step of growth costs a cluster's round trip (~50 ms here) with the cluster's
        // threads idle: a first batch of one 10 ms task goes straight to sixteen tasks.
        most_growth: 16,
    };

    pub(crate) fn of<W: Work>(work: &W) -> Aim {
        match (work.batched(), work.remote_batches()) {
            (false, _) => Aim::PLAIN,
            (true, false) => Aim::BATCHED,
            (true, true) => Aim::REMOTE,
        }
    }
}

/// The next batch's size after one of `size` tasks took `took`.
fn adapt(size: usize, took: Duration, max: usize, aim: Aim) -> usize {
    if took < aim.quick {
        let to_short = (aim.short.as_nanos() / took.as_nanos().max(1)) as usize;
        (size * to_short.clamp(aim.growth, aim.most_growth)).min(max)
    } else if took < aim.short {
        (size * 2).min(max)
    } else if took > aim.long {
        (size / 2).max(1)
    } else {
        size
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_paced_call_has_room_for_eight_of_the_largest_batches() {
        assert_eq!(crate::engine::tap::AHEAD, 8 * MAX_BATCH);
    }

    #[test]
    fn thread_batches_grow_eightfold_while_very_quick_and_halve_when_slow() {
        let us = Duration::from_micros;
        assert_eq!(adapt(1, us(5), MAX_BATCH, Aim::PLAIN), 8);
        assert_eq!(adapt(8, us(20), MAX_BATCH, Aim::PLAIN), 16);
        assert_eq!(adapt(16, us(200), MAX_BATCH, Aim::PLAIN), 16, "between 50 and 500 µs: kept");
        assert_eq!(adapt(16, us(900), MAX_BATCH, Aim::PLAIN), 8);
        assert_eq!(adapt(1, us(900), MAX_BATCH, Aim::PLAIN), 1, "never below one");
        assert_eq!(adapt(4000, us(1), MAX_BATCH, Aim::PLAIN), MAX_BATCH, "never above the cap");
    }

    #[test]
    fn batched_works_aim_at_milliseconds() {
        let ms = Duration::from_millis;
        assert_eq!(adapt(1, Duration::from_micros(200), 4096, Aim::BATCHED), 4);
        assert_eq!(adapt(4, ms(2), 4096, Aim::BATCHED), 8);
        assert_eq!(adapt(8, ms(10), 4096, Aim::BATCHED), 8);
        assert_eq!(adapt(8, ms(50), 4096, Aim::BATCHED), 4);
    }

    #[test]
    fn remote_batches_aim_at_a_fraction_of_a_second() {
        let ms = Duration::from_millis;
        assert_eq!(adapt(1, ms(10), 4096, Aim::REMOTE), 16, "to reach 0.2 s: twentyfold, at most sixteen");
        assert_eq!(adapt(1, ms(25), 4096, Aim::REMOTE), 8, "to reach 0.2 s: eightfold");
        assert_eq!(adapt(1, ms(80), 4096, Aim::REMOTE), 4, "at least fourfold while under 0.1 s");
        assert_eq!(adapt(4, ms(100), 4096, Aim::REMOTE), 8);
        assert_eq!(adapt(8, ms(500), 4096, Aim::REMOTE), 8, "between 0.2 and 1 s: kept");
        assert_eq!(adapt(8, ms(1500), 4096, Aim::REMOTE), 4);
    }

    #[test]
    fn the_largest_batch_is_a_quarter_of_an_even_share() {
        assert_eq!(max_batch(8_000, 2, false), 1_000);
        assert_eq!(max_batch(1_000_000, 2, false), MAX_BATCH);
        assert_eq!(max_batch(3, 4, false), 1);
        assert_eq!(max_batch(0, 2, false), MAX_BATCH, "unknown size");
        assert_eq!(max_batch(1_000_000, 2, true), 1, "a task timeout: one task at a time");
    }
}
