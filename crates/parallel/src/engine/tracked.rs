//! Tracked batches: when a call has a timeout, every batch in flight is registered as a
//! [`TrackedBatch`] the driver can close. At the deadline it takes what the batch finished and
//! fails the rest, so the call returns at once and nothing a stuck pool thread still holds is
//! lost or reported twice. Idle pool threads steal the pending tasks of a batch whose thread is
//! busy, so a hung task holds no batch-mate hostage.
//!
//! A batch covers tasks `start ..`: first those finished, then the running one, then those
//! pending. Its chunk is delivered exactly once, under its lock: by its pool thread when the
//! batch is done, or by the driver when it closes the batch.

use std::mem;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::engine::chunks::Chunk;
use crate::engine::state::CallState;
use crate::engine::sync::lock;
use crate::engine::tracked_batch::{Running, TrackedBatch};
use crate::engine::work::{describe, describe_params, panic_message, run_one, Work};
use crate::failure::{Failure, FailureKind, Fault};
use crate::inputs::Tasks;

/// The failure of a task a work's [`Work::run_many`] gave no outcome for.
fn short_reply(ran: usize) -> crate::plumbing::Fault {
    let message = format!("the work's run_many gave fewer outcomes than the {ran} tasks it was given");
    crate::plumbing::Fault::new(FailureKind::Panicked, message)
}

/// Why the driver closes a batch, and what its running and pending tasks fail with.
pub(crate) struct Closing<'a> {
    pub(crate) kind: FailureKind,
    pub(crate) running: &'a str,
    pub(crate) pending: &'a str,
}

impl<W, It> CallState<W, It>
where
    W: Work,
    It: Tasks<Params = W::Params>,
{
    /// Runs a tracked batch; `false` if the driver closed it (this pool thread is abandoned).
    pub(crate) fn run_tracked(&self, batch: &Arc<TrackedBatch<W>>) -> bool {
        if self.work.batched() && self.work.remote_batches() {
            return self.run_tracked_whole(batch);
        }
        loop {
            // The task's killer — for a process call, its worker process, started now if need
            // be — is made before the task's clock starts and outside the batch's lock: a
            // worker process's start does not count against the task's `task_timeout`, nor
            // block the driver.
            let next = { lock(&batch.state).pending.front().is_some() };
            let mut interrupt = next.then(|| self.work.interrupt());
            let mut probe = next.then(|| self.work.start_probe());
            let params = {
                let mut state = lock(&batch.state);
                if state.closed {
                    return false;
                }
                let index = state.next_index();
                if self.stops(index) {
                    // Cancelled: the tasks not started never run.
                    let pending = mem::take(&mut state.pending);
                    pending.iter().for_each(|params| state.finished.push(Err(self.cancelled(params))));
                    break;
                }
                let Some(params) = state.pending.pop_front() else { break };
                state.attempt = mem::take(&mut state.retried) + 1;
                match catch_unwind(AssertUnwindSafe(|| self.work.keep(&params))) {
                    Ok(kept) => {
                        let interrupt = interrupt.take().flatten().or_else(|| self.work.interrupt());
                        let probe = probe.take().flatten().or_else(|| self.work.start_probe());
                        state.running = Some(Running::new(kept, interrupt, probe));
                    }
                    Err(payload) => {
                        let message = format!("cloning its parameters panicked: {}", panic_message(payload));
                        let params = describe_params(&self.work, &params);
                        self.failed_at(index);
                        state.finished.push(Err(Failure::new(FailureKind::Panicked, message, params)));
                        continue;
                    }
                }
                (params, state.generation)
            };
            let (params, generation) = params;
            let outcome = run_one(&self.work, params);
            let mut state = lock(&batch.state);
            if state.closed || state.generation != generation {
                return false; // closed, or its task taken away to run again
            }
            let index = state.next_index() - 1;
            let kept = state.running.take().expect("running task recorded").kept;
            let outcome = match outcome {
                Ok(value) => Ok(value),
                Err(fault) => {
                    let fault = Fault { attempts: state.attempt, ..fault };
                    if let Some(params) = self.again(index, &fault, &kept) {
                        // The next task of this batch: tracked, so its `task_timeout` holds.
                        state.pending.push_front(params);
                        state.retried = state.attempt;
                        continue;
                    }
                    self.failed_at(index);
                    Err(self.failure(fault, describe(&self.work, &kept)))
                }
            };
            state.finished.push(outcome);
        }
        let mut state = lock(&batch.state);
        if state.closed {
            return false;
        }
        state.closed = true;
        // Delivered under the batch's lock: once the driver sees the batch closed, the chunk is
        // in the outbox.
        self.deliver(mem::replace(&mut state.finished, Chunk::new(0, 0)));
        drop(state);
        lock(&self.in_flight).retain(|c| !Arc::ptr_eq(c, batch));
        true
    }

    /// Runs a tracked batch of a work of remote batches whole, through [`Work::run_many`]: its
    /// tasks are all running until it returns; `false` if the driver closed it meanwhile.
    fn run_tracked_whole(&self, batch: &Arc<TrackedBatch<W>>) -> bool {
        // What a retry runs again from (kept twice: the batch's own copy is for the driver).
        let mut retry_kept: Vec<W::Kept> = Vec::new();
        let (first, params) = {
            let mut state = lock(&batch.state);
            if state.closed {
                return false;
            }
            let first = state.next_index();
            let params: Vec<W::Params> = state.pending.drain(..).collect();
            if self.stops(first) {
                // Cancelled: the tasks not started never run.
                params.iter().for_each(|params| state.finished.push(Err(self.cancelled(params))));
            } else if !params.is_empty() {
                if self.retry.is_some() {
                    retry_kept = params.iter().map(|params| self.work.keep(params)).collect();
                }
                let mut kept: Vec<W::Kept> = params.iter().map(|params| self.work.keep(params)).collect();
                state.running_with = kept.split_off(1);
                state.running = kept.pop().map(|kept| Running::new(kept, None, None));
            }
            (first, params)
        };
        let outcomes = match self.stops(first) || params.is_empty() {
            true => Vec::new(),
            false => {
                let stopped = || self.stops(first);
                let len = params.len();
                let outcomes = catch_unwind(AssertUnwindSafe(|| self.work.run_many(first, params, &stopped)));
                let outcomes: Vec<_> = outcomes.unwrap_or_else(|payload| {
                    let message = panic_message(payload);
                    (0..len).map(|_| Err(crate::plumbing::Fault::new(FailureKind::Panicked, message.clone()))).collect()
                });
                if retry_kept.is_empty() {
                    outcomes
                } else {
                    // Still running as far as the driver knows: a deadline closes it meanwhile.
                    (outcomes.into_iter().zip(&retry_kept).enumerate())
                        .map(|(i, (outcome, kept))| {
                            outcome.or_else(|fault| self.retried(first + i, fault, kept, |p| self.rerun(first + i, p)))
                        })
                        .collect()
                }
            }
        };
        let mut state = lock(&batch.state);
        if state.closed {
            return false;
        }
        if let Some(Running { kept, .. }) = state.running.take() {
            let kept: Vec<W::Kept> = std::iter::once(kept).chain(state.running_with.drain(..)).collect();
            let ran = kept.len();
            let mut outcomes = outcomes.into_iter();
            for kept in kept {
                let index = state.finished.start + state.finished.len;
                let outcome = outcomes.next().unwrap_or_else(|| Err(short_reply(ran)));
                let outcome = outcome.map_err(|fault| {
                    self.failed_at(index);
                    self.failure(fault, describe(&self.work, &kept))
                });
                state.finished.push(outcome);
            }
        }
        state.closed = true;
        self.deliver(mem::replace(&mut state.finished, Chunk::new(0, 0)));
        drop(state);
        lock(&self.in_flight).retain(|c| !Arc::ptr_eq(c, batch));
        true
    }

    /// Takes the back half of the pending tasks of the batch in flight with the most of them
    /// behind a running task, as a batch of its own.
    pub(crate) fn steal(&self) -> Option<Arc<TrackedBatch<W>>> {
        if !self.tracked || self.is_stopped() {
            return None;
        }
        let mut batches = lock(&self.in_flight);
        if self.orphans.load(Ordering::Acquire) > 0 {
            if let Some(orphan) = batches.iter().find(|batch| {
                let mut state = lock(&batch.state);
                std::mem::take(&mut state.orphaned)
            }) {
                self.orphans.fetch_sub(1, Ordering::AcqRel);
                return Some(orphan.clone());
            }
        }
        let busy = |c: &&Arc<TrackedBatch<W>>| {
            let state = lock(&c.state);
            if state.running.is_some() {
                state.pending.len()
            } else {
                0
            }
        };
        let victim = batches.iter().max_by_key(busy)?.clone();
        let mut state = lock(&victim.state);
        let count = state.pending.len().div_ceil(2);
        if state.closed || state.running.is_none() || count == 0 {
            return None;
        }
        let keep = state.pending.len() - count;
        let stolen = state.pending.split_off(keep);
        let batch = TrackedBatch::new(state.next_index() + state.pending.len(), stolen);
        drop(state);
        // Registered under the in-flight lock, with the tasks' removal from their old batch:
        // the driver closing the batches in flight sees them exactly once.
        batches.push(batch.clone());
        Some(batch)
    }

    /// Closes every batch in flight. Call after [`close_source`](Self::close_source).
    pub(crate) fn close_in_flight(&self, closing: &Closing<'_>) {
        let batches = mem::take(&mut *lock(&self.in_flight));
        batches.iter().for_each(|batch| self.close_batch(batch, closing));
    }

    /// Closes the batches whose running task has run for `limit` or longer — from when its
    /// worker began to run it, if the worker says ([`Running::due`]) — with `closing`, and
    /// those whose worker is still loading what the task needs past the limit of a load with
    /// `loading`. Returns how many it closed and when the next running task reaches its limit.
    pub(crate) fn close_overdue(
        &self,
        limit: Duration,
        closing: &Closing<'_>,
        loading: &Closing<'_>,
    ) -> (usize, Option<Instant>) {
        let now = Instant::now();
        let mut next = None::<Instant>;
        let mut overdue = Vec::new();
        lock(&self.in_flight).retain(|batch| match lock(&batch.state).running.as_ref().map(|r| r.due(limit)) {
            Some((due, still_loading)) if now >= due => {
                overdue.push((batch.clone(), still_loading));
                false
            }
            // While its worker loads, the task's own limit is not known yet: the driver looks
            // again within its check interval anyway.
            Some((due, _)) => {
                next = Some(next.map_or(due, |n: Instant| n.min(due)));
                true
            }
            None => true,
        });
        for (batch, still_loading) in &overdue {
            let closing = if *still_loading { loading } else { closing };
            if self.requeue_overdue(batch, closing) {
                lock(&self.in_flight).push(batch.clone()); // adopted by the pool thread started for it
            } else {
                self.close_batch(batch, closing);
            }
        }
        (overdue.len(), next)
    }

    /// The running task of `batch` passed its `task_timeout`: if the call retries it, its
    /// worker process is killed (a thread cannot be: it is abandoned, and finishes in the
    /// background), and the task goes back to the front of the batch, whose next pool thread
    /// runs it again. `false` if it is not retried.
    fn requeue_overdue(&self, batch: &TrackedBatch<W>, closing: &Closing<'_>) -> bool {
        if self.retry.is_none() {
            return false;
        }
        let mut state = lock(&batch.state);
        let index = state.finished.start + state.finished.len;
        let (Some(running), false) = (state.running.as_ref(), state.closed) else { return false };
        let fault = Fault { attempts: state.attempt, ..Fault::new(closing.kind.clone(), closing.running) };
        let Some(params) = self.again(index, &fault, &running.kept) else { return false };
        let interrupt = state.running.take().expect("looked at above").interrupt;
        if let Some(interrupt) = interrupt {
            interrupt();
        }
        state.pending.push_front(params);
        state.retried = state.attempt;
        state.generation += 1;
        state.orphaned = true;
        self.orphans.fetch_add(1, Ordering::AcqRel);
        true
    }

    /// The tasks that ran to their end ([`Chunk::ran`]) in batches still in flight.
    pub(crate) fn ran_in_flight(&self) -> usize {
        lock(&self.in_flight)
            .iter()
            .map(|batch| lock(&batch.state))
            .filter(|state| !state.closed)
            .map(|state| state.finished.ran())
            .sum()
    }

    /// Closes one batch and delivers its chunk, unless its pool thread already did.
    fn close_batch(&self, batch: &TrackedBatch<W>, closing: &Closing<'_>) {
        let mut state = lock(&batch.state);
        if state.closed {
            return;
        }
        state.closed = true;
        let mut chunk = mem::replace(&mut state.finished, Chunk::new(0, 0));
        debug_assert_eq!(chunk.start, batch.start);
        let fail = |message: &str, params| Failure::new(closing.kind.clone(), message.to_owned(), params);
        if let Some(Running { kept, interrupt, .. }) = state.running.take() {
            if let Some(interrupt) = interrupt {
                interrupt(); // kills the worker process running it
            }
            self.failed_at(chunk.start + chunk.len);
            let failure = Failure { attempts: state.attempt, ..fail(closing.running, describe(&self.work, &kept)) };
            chunk.push(Err(failure));
        }
        for kept in state.running_with.drain(..) {
            chunk.push(Err(fail(closing.running, describe(&self.work, &kept))));
        }
        for params in state.pending.drain(..) {
            chunk.push(Err(fail(closing.pending, describe_params(&self.work, &params))));
        }
        self.deliver(chunk);
    }
}
