//! The driver of one call: starts its pool threads, collects their chunks, enforces the
//! deadline and the per-task limit, and hands back exactly one outcome per task.
//!
//! It runs on the caller's thread for a blocking call and on a pool thread for a non-blocking
//! one. It never waits past the call's deadline: at the deadline it closes the source and
//! every batch in flight, so whatever a stuck pool thread still holds is accounted for at once.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, RecvTimeoutError};

use crate::engine::buffer::Buffer;
use crate::engine::chunks::{Chunks, Collected};
use crate::engine::pool;
use crate::engine::retry::Retry;
use crate::engine::state::{max_batch, CallState, Msg};
use crate::engine::tap::{Arrivals, Ended, Tap};
use crate::engine::tracked::Closing;
use crate::engine::tracked_batch::LOADING_LIMIT;
use crate::engine::work::Work;
use crate::failure::FailureKind;
use crate::handle::{Handle, Slot};
use crate::inputs::Inputs;
use crate::inputs::Tasks;
use crate::mode::Mode;
use crate::progress::{Counts, Over, Watch, Watching};

/// The options of one call, with its deadline fixed at its start.
#[derive(Clone, Debug)]
pub(crate) struct Plan {
    pub(crate) workers: usize,
    pub(crate) timeout: Option<Duration>,
    pub(crate) deadline: Option<Instant>,
    pub(crate) task_timeout: Option<Duration>,
    pub(crate) silent: bool,
    /// The call has a handle (`async_*`).
    pub(crate) cancellable: bool,
    /// What watches the call while it runs, if anything does.
    pub(crate) watch: Option<Watch>,
    /// Which failed tasks run again, if any do.
    pub(crate) retry: Option<Retry>,
}

/// How a call's pool threads get their work: the pool's work for one more thread of a call,
/// which runs its loop over the call's tasks.
pub(crate) trait Spawn<W: Work, It> {
    /// The work of one more pool thread of the call whose shared state is `state`.
    fn thread_work(&self, state: &Arc<CallState<W, It>>) -> pool::Work;
}

/// The pool threads of a call that owns all it runs (`'static`): they may outlive the call — a
/// task abandoned at a timeout finishes in the background.
pub(crate) struct Detached;

impl<W, It> Spawn<W, It> for Detached
where
    W: Work + 'static,
    It: Tasks<Params = W::Params> + 'static,
{
    fn thread_work(&self, state: &Arc<CallState<W, It>>) -> pool::Work {
        let state = state.clone();
        Box::new(move || state.work_loop())
    }
}

/// The driver of a call whose pool threads are running its tasks. Dropped, it stops the call:
/// no task starts after.
pub(crate) struct Driver<W: Work, It: Tasks<Params = W::Params>, S = Detached> {
    state: Arc<CallState<W, It>>,
    receiver: Receiver<Msg>,
    plan: Plan,
    size_hint: usize,
    buffer: Option<Arc<Buffer<W::Out>>>,
    /// Pool threads started at once, those not started yet, and when the call started.
    initial: usize,
    reserve: usize,
    started: Instant,
    spawn: S,
}

/// How often a call whose tasks are quick looks again whether they have become slow.
const RAMP_CHECK: Duration = Duration::from_micros(500);

/// Tasks that take longer than this on average (or that block) get a pool thread for each of
/// `max_workers`; quicker ones run on one pool thread per core.
const SLOW_TASK: Duration = Duration::from_micros(20);

/// How often the driver of a call with a `task_timeout` looks at its running tasks, at most.
const TASK_TIMEOUT_CHECK: Duration = Duration::from_millis(10);

impl<W, It> Driver<W, It>
where
    W: Work + 'static,
    It: Tasks<Params = W::Params> + 'static,
{
    /// Cancels the call: see [`Msg::Cancel`].
    pub(crate) fn canceller(&self) -> impl Fn(bool) + Send + Sync + 'static {
        let state = Arc::downgrade(&self.state);
        move |dropped| {
            if let Some(state) = state.upgrade() {
                // At once, before `cancel` returns: no task starts after it.
                state.stop();
                state.send(Msg::Cancel { dropped });
            }
        }
    }
}

impl<W, It, S> Driver<W, It, S>
where
    W: Work,
    It: Tasks<Params = W::Params>,
    S: Spawn<W, It>,
{
    /// Starts the pool threads of a call; `spawn` makes their work for the pool.
    pub(crate) fn start(work: W, tasks: It, plan: Plan, spawn: S) -> Self {
        Self::start_tapped(work, tasks, plan, spawn, None)
    }

    /// The same, for a call whose outcomes go to `tap` as they are delivered (its values are
    /// then never collected here).
    pub(crate) fn start_tapped(work: W, tasks: It, plan: Plan, spawn: S, tap: Option<Tap<W::Out>>) -> Self {
        let (sender, receiver) = crossbeam_channel::unbounded();
        let (low, high) = tasks.size_hint();
        let workers = plan.workers.min(high.unwrap_or(usize::MAX)).max(1);
        let tracked = plan.deadline.is_some() || plan.task_timeout.is_some();
        // A work whose batches run elsewhere (a cluster's tasks) waits on them: its pool
        // threads do not compete for this machine's cores.
        let remote = work.batched() && work.remote_batches();
        let max_batch = max_batch(low, workers, plan.task_timeout.is_some());
        let exact = (Some(low) == high).then_some(low);
        let buffer = exact.filter(|_| !tracked && tap.is_none()).and_then(Buffer::new).map(Arc::new);
        let counts = Arc::new(Counts::new(exact));
        let state = Arc::new(
            CallState::new(
                work,
                tasks,
                sender,
                (tracked, !plan.silent, plan.cancellable),
                max_batch,
                buffer.clone(),
                (counts, tap),
            )
            .retrying(plan.retry.clone()),
        );
        // An input known to be empty needs no pool thread, and its call is over before any
        // deadline.
        let empty = high == Some(0);
        if empty {
            state.close_source(FailureKind::Panicked, "the input outgrew its size hint");
        }
        // One pool thread per core starts at once; the rest of `max_workers` join as soon as the
        // tasks turn out to be slow or blocking (see `ramp_up`). Tiny CPU-bound tasks thus
        // never run on more threads than cores, where they would only preempt each other. A
        // work of remote batches gets all of them at once.
        let cores = if remote { workers } else { pool::cores() };
        let initial = if empty { 0 } else { workers.min(cores) };
        if let Some(tap) = &state.tap {
            tap.pace.fit(initial, max_batch);
        }
        pool::spawn((0..initial).map(|_| spawn.thread_work(&state)));
        let reserve = if empty { 0 } else { workers - initial };
        Driver { state, receiver, plan, size_hint: low, buffer, initial, reserve, started: Instant::now(), spawn }
    }

    /// Collects the call's outcomes; a watched call reports its progress as it goes and at
    /// its end (a callback that panics unwinds from here, and dropping the driver stops the
    /// call).
    pub(crate) fn collect(mut self) -> Collected<W::Out> {
        let Some(watch) = self.plan.watch.take() else { return self.collect_watched(None) };
        let counts = self.state.counts();
        let mut watching = watch.start(counts.total());
        let collected = self.collect_watched(Some(&mut watching));
        let over = match collected {
            Collected::Values(_) | Collected::Outcomes { .. } => Over::Done,
            Collected::Failed(..) => Over::Failed,
            Collected::TimedOut { .. } => Over::TimedOut,
            Collected::Cancelled => Over::Cancelled,
        };
        watching.end(counts.progress(), over);
        collected
    }

    /// Collects the call's outcomes, ticking `watching` on the way.
    fn collect_watched(mut self, mut watching: Option<&mut Watching>) -> Collected<W::Out> {
        let mut chunks = Chunks::new(self.size_hint, self.buffer.clone());
        let mut next_check = self.plan.task_timeout.map(|limit| self.started + limit.min(TASK_TIMEOUT_CHECK));
        let mut ramp = (self.reserve > 0).then(|| self.started + RAMP_CHECK);
        loop {
            chunks.extend(self.state.delivered());
            if !self.plan.silent {
                if let Some((index, failure)) = chunks.first_failure() {
                    self.state.stop();
                    // A task cancelled before a failure was known: the call was cancelled.
                    if failure.kind == FailureKind::Cancelled {
                        return Collected::Cancelled;
                    }
                    return Collected::Failed(index, failure);
                }
            }
            if self.state.total() == Some(chunks.appended) {
                return chunks.assemble();
            }
            if let Some(watching) = watching.as_deref_mut() {
                watching.tick(Instant::now(), self.state.counts().progress());
            }
            let tick = watching.as_deref().map(Watching::next_tick);
            let wake = [self.plan.deadline, next_check, ramp, tick].into_iter().flatten().min();
            let msg = match wake {
                Some(at) => self.receiver.recv_deadline(at),
                None => self.receiver.recv().map_err(|_| RecvTimeoutError::Disconnected),
            };
            match msg {
                Ok(Msg::Wake | Msg::End) => {}
                Ok(Msg::Cancel { dropped }) => {
                    if dropped || !self.plan.silent {
                        self.state.stop();
                        return Collected::Cancelled;
                    }
                    self.state.close_source(FailureKind::Cancelled, "the call was cancelled before the task started");
                }
                Err(RecvTimeoutError::Timeout) if self.past_deadline() => return self.at_deadline(chunks),
                Err(RecvTimeoutError::Timeout) => {
                    if next_check.is_some_and(|at| Instant::now() >= at) {
                        next_check = self.check_task_timeouts();
                    }
                    ramp = self.ramp_up(chunks.finished);
                }
                // The call state holds a sender while this driver runs: never disconnected.
                Err(RecvTimeoutError::Disconnected) => return chunks.assemble(),
            }
        }
    }

    /// Starts the reserve pool threads if the tasks are slow or blocking; returns when to look
    /// again, if there is still a reserve.
    fn ramp_up(&mut self, finished: usize) -> Option<Instant> {
        if self.reserve == 0 || self.state.is_stopped() {
            return None;
        }
        let now = Instant::now();
        // Time per task across the running pool threads.
        let per_task = (now - self.started).as_nanos() * self.initial as u128 / finished.max(1) as u128;
        if finished == 0 || per_task > SLOW_TASK.as_nanos() {
            pool::spawn((0..self.reserve).map(|_| self.spawn.thread_work(&self.state)));
            self.reserve = 0;
            return None;
        }
        Some(now + RAMP_CHECK)
    }

    fn past_deadline(&self) -> bool {
        self.plan.deadline.is_some_and(|d| Instant::now() >= d)
    }

    /// The deadline passed: fail everything unfinished, now.
    fn at_deadline(&self, mut chunks: Chunks<W::Out>) -> Collected<W::Out> {
        self.state.stop_at_deadline();
        chunks.extend(self.state.delivered());
        let timeout = self.plan.timeout.unwrap_or_default();
        let not_started = format!("not started when the call's timeout of {timeout:?} passed");
        let running = format!("still running when the call's timeout of {timeout:?} passed");
        let closing = Closing { kind: FailureKind::TimedOut, running: &running, pending: &not_started };
        if !self.plan.silent {
            // Tasks that ran to their end: not those a pool thread found past the deadline and
            // failed as timed out before they started.
            let finished = chunks.ran() + self.state.ran_in_flight();
            // Closed only to stop what can be stopped (process workers are killed).
            self.state.close_in_flight(&closing);
            return Collected::TimedOut { finished };
        }
        self.state.close_source(FailureKind::TimedOut, &not_started);
        self.state.close_in_flight(&closing);
        // Every task is delivered now: by its pool thread before, or just now by us.
        chunks.extend(self.state.delivered());
        chunks.assemble()
    }

    /// Fails the tasks past their limit and starts a pool thread in place of each one abandoned;
    /// returns when to look again.
    fn check_task_timeouts(&self) -> Option<Instant> {
        let limit = self.plan.task_timeout?;
        let running = format!("ran longer than its task_timeout of {limit:?}");
        let closing = Closing { kind: FailureKind::TimedOut, running: &running, pending: "" };
        let load = limit.max(LOADING_LIMIT);
        let loading = format!(
            "its worker was still loading what it needs (its function and the call's extras, importing their modules, \
             and the call's initializer) after {load:?}, the longest a load may take (task_timeout or \
             {LOADING_LIMIT:?}, whichever is longer)"
        );
        let loading = Closing { kind: FailureKind::TimedOut, running: &loading, pending: "" };
        let (overdue, next) = self.state.close_overdue(limit, &closing, &loading);
        if !self.state.is_stopped() {
            pool::spawn((0..overdue).map(|_| self.spawn.thread_work(&self.state)));
        }
        let soon = Instant::now() + limit.min(TASK_TIMEOUT_CHECK);
        Some(next.map_or(soon, |n| n.min(soon)))
    }
}

impl<W: Work, It: Tasks<Params = W::Params>, S> Drop for Driver<W, It, S> {
    fn drop(&mut self) {
        // Over — collected, or its driver unwinding: the tasks not started never run.
        self.state.stop();
    }
}

/// Runs a call to the end on this thread and gives its output in mode `M`.
pub(crate) fn call<M, W, I>(work: W, inputs: I, plan: Plan) -> M::Map<I, W::Out>
where
    M: Mode,
    W: Work + 'static,
    I: Inputs<Params = W::Params>,
{
    let timeout = plan.timeout;
    let (keys, tasks) = inputs.into_tasks();
    let collected = Driver::start(work, tasks, plan, Detached).collect();
    M::map::<I, W::Out>(collected, keys, timeout)
}

/// Starts a call whose driver runs on a pool thread; its output, passed through `finish`,
/// fills the returned handle.
pub(crate) fn spawn_call<M, W, I, U>(work: W, inputs: I, plan: Plan, finish: fn(M::Map<I, W::Out>) -> U) -> Handle<U>
where
    M: Mode,
    W: Work + 'static,
    I: Inputs<Params = W::Params>,
    U: Send + 'static,
    M::Map<I, W::Out>: 'static,
{
    let timeout = plan.timeout;
    let (keys, tasks) = inputs.into_tasks();
    let driver = Driver::start(work, tasks, Plan { cancellable: true, ..plan }, Detached);
    let (cancel, counts) = (Arc::new(driver.canceller()), driver.state.counts());
    let slot = Slot::new();
    let filled = slot.clone();
    let drive = move || match catch_unwind(AssertUnwindSafe(|| driver.collect())) {
        Ok(collected) => filled.fill(finish(M::map::<I, W::Out>(collected, keys, timeout))),
        // A progress callback panicked: the call stopped, and the panic goes to the caller.
        Err(payload) => filled.fill_panic(payload),
    };
    pool::spawn([Box::new(drive) as pool::Work]);
    Handle::new(slot, cancel, counts)
}

/// Starts a call whose outcomes go to the returned [`Arrivals`] as they are delivered; its
/// handle says how it ended. The call is strict or silent as `plan` says.
pub(crate) fn spawn_tapped<W, It>(work: W, tasks: It, plan: Plan) -> (Handle<Ended>, Arrivals<W::Out>)
where
    W: Work + 'static,
    It: Tasks<Params = W::Params> + 'static,
{
    spawn_tapped_to(work, tasks, plan, Arrivals::new())
}

/// [`spawn_tapped`] to these arrivals (bounded ones, for a stream).
pub(crate) fn spawn_tapped_to<W, It>(
    work: W,
    tasks: It,
    plan: Plan,
    (tap, arrivals): (Tap<W::Out>, Arrivals<W::Out>),
) -> (Handle<Ended>, Arrivals<W::Out>)
where
    W: Work + 'static,
    It: Tasks<Params = W::Params> + 'static,
{
    let end = tap.clone();
    let driver = Driver::start_tapped(work, tasks, Plan { cancellable: true, ..plan }, Detached, Some(tap));
    let (cancel, counts) = (Arc::new(driver.canceller()), driver.state.counts());
    let slot = Slot::new();
    let filled = slot.clone();
    let drive = move || {
        match catch_unwind(AssertUnwindSafe(|| driver.collect())) {
            Ok(collected) => filled.fill(Ended::of(collected)),
            Err(payload) => filled.fill_panic(payload),
        }
        // Wakes whoever waits for outcomes: the handle has its end now.
        end.end();
    };
    pool::spawn([Box::new(drive) as pool::Work]);
    (Handle::new(slot, cancel, counts), arrivals)
}
