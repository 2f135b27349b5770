//! Cancelling a non-blocking call: tasks not yet started never run; a strict call gives
//! `Error::Cancelled`, a silent one a `Cancelled` failure for each task that never ran while
//! the running ones finish; dropping the handle cancels; a finished call keeps its output.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread::sleep;
use std::time::{Duration, Instant};

use parallel::FailureKind;

use crate::common::Gate;

/// Counts the tasks that started; every task waits at the gate.
#[derive(Clone, Default)]
struct Tasks {
    started: Arc<AtomicUsize>,
    gate: Gate,
}

impl Tasks {
    fn task(&self) -> impl Fn(u32) -> u32 + Send + Sync + 'static {
        let this = self.clone();
        move |x| {
            this.started.fetch_add(1, Ordering::SeqCst);
            this.gate.pass();
            x * 10
        }
    }
    fn started(&self) -> usize {
        self.started.load(Ordering::SeqCst)
    }
    /// Waits until `n` tasks started (a few seconds at most).
    fn wait_started(&self, n: usize) {
        let deadline = Instant::now() + Duration::from_secs(5);
        while self.started() < n && Instant::now() < deadline {
            sleep(Duration::from_millis(1));
        }
        assert_eq!(self.started(), n, "expected exactly {n} tasks running");
    }
}

#[test]
fn strict_cancel_gives_cancelled_and_the_rest_never_run() {
    let tasks = Tasks::default();
    let handle = parallel::thread().max_workers(2).async_map(tasks.task(), 0..20);
    tasks.wait_started(2);
    handle.cancel();
    // The running tasks are let go once the call returned, or after a while should the call
    // wait for them.
    let gate = tasks.gate.clone();
    std::thread::spawn(move || {
        sleep(Duration::from_secs(2));
        gate.open();
    });
    assert_eq!(handle.wait(), Err(parallel::Error::Cancelled));
    tasks.gate.open();
    sleep(Duration::from_millis(100));
    assert_eq!(tasks.started(), 2, "tasks not started at the cancel must never run");
}

#[test]
fn no_task_starts_once_cancel_returned() {
    // The running tasks are let go right after `cancel()` returns: no other task may start.
    // (Repeated: a cancel that takes effect later than it returns loses this race often.)
    for round in 0..20 {
        let tasks = Tasks::default();
        let handle = parallel::thread().max_workers(4).async_map(tasks.task(), 0..40);
        tasks.wait_started(4);
        handle.cancel();
        tasks.gate.open();
        let _ = handle.wait();
        sleep(Duration::from_millis(20));
        assert_eq!(tasks.started(), 4, "round {round}: a task started after cancel() returned");
    }
}

#[test]
fn silent_cancel_fails_only_the_tasks_that_never_ran() {
    let tasks = Tasks::default();
    let handle = parallel::thread().silent().max_workers(2).async_map(tasks.task(), 0..10);
    tasks.wait_started(2);
    handle.cancel();
    sleep(Duration::from_millis(300));
    tasks.gate.open();
    let results = handle.wait();
    assert_eq!(tasks.started(), 2);
    assert_eq!(results.len(), 10);
    // The two running tasks finished.
    assert_eq!(results[0], Ok(0));
    assert_eq!(results[1], Ok(10));
    for (i, outcome) in results.iter().enumerate().skip(2) {
        let failed = outcome.as_ref().expect_err("never ran");
        assert_eq!(*failed.kind(), FailureKind::Cancelled);
        assert_eq!(failed.index(), i);
        assert_eq!(failed.params(), i.to_string());
    }
    assert_eq!(results.succeeded(), vec![&0, &10]);
}

#[test]
fn cancel_stops_the_tasks_queued_behind_a_running_one() {
    // Quick tasks first, then one that waits at the gate: the ones after it have not started
    // when the call is cancelled, and must never run.
    let started = Arc::new(AtomicUsize::new(0));
    let gate = Gate::default();
    let (s, g) = (started.clone(), gate.clone());
    let task = move |x: u32| {
        s.fetch_add(1, Ordering::SeqCst);
        if x == 500 {
            g.pass();
        }
        x
    };
    let handle = parallel::thread().max_workers(1).silent().async_map(task, 0..2_000);
    let deadline = Instant::now() + Duration::from_secs(5);
    while started.load(Ordering::SeqCst) < 501 && Instant::now() < deadline {
        sleep(Duration::from_millis(1));
    }
    assert_eq!(started.load(Ordering::SeqCst), 501, "task 500 holds the only worker");
    handle.cancel();
    sleep(Duration::from_millis(300));
    gate.open();
    let results = handle.wait();
    let ran = started.load(Ordering::SeqCst);
    assert_eq!(ran, 501, "{} tasks not started at the cancel ran anyway", ran - 501);
    assert_eq!(results.succeeded().len(), 501);
    assert!(results.failed().iter().all(|f| *f.kind() == FailureKind::Cancelled && f.index() > 500));
}

#[test]
fn dropping_the_handle_cancels() {
    let tasks = Tasks::default();
    let handle = parallel::thread().max_workers(1).async_map(tasks.task(), 0..20);
    tasks.wait_started(1);
    drop(handle);
    tasks.gate.open();
    sleep(Duration::from_millis(200));
    assert_eq!(tasks.started(), 1, "tasks kept starting after the handle was dropped");
}

#[test]
fn dropping_a_silent_handle_cancels() {
    let started = Arc::new(AtomicUsize::new(0));
    let s = started.clone();
    let slow = move |_: u32| {
        s.fetch_add(1, Ordering::SeqCst);
        sleep(Duration::from_millis(10));
    };
    let handle = parallel::thread().silent().max_workers(2).async_map(slow, 0..500);
    let deadline = Instant::now() + Duration::from_secs(5);
    while started.load(Ordering::SeqCst) < 4 && Instant::now() < deadline {
        sleep(Duration::from_millis(1));
    }
    drop(handle);
    let at_drop = started.load(Ordering::SeqCst);
    sleep(Duration::from_millis(200));
    let later = started.load(Ordering::SeqCst);
    // A worker may have been taking a task at the very moment of the drop.
    assert!(later <= at_drop + 2, "the started-counter kept growing: {at_drop} -> {later}");
}

#[test]
fn cancelling_a_finished_call_keeps_its_output() {
    let handle = parallel::async_map(|x: u8| x + 1, vec![1, 2, 3]);
    let deadline = Instant::now() + Duration::from_secs(5);
    while !handle.is_finished() && Instant::now() < deadline {
        sleep(Duration::from_millis(1));
    }
    handle.cancel();
    assert_eq!(handle.wait().unwrap(), vec![2, 3, 4]);
}

#[test]
fn cancel_works_for_par_and_try_map() {
    let gate = Gate::default();
    let g = gate.clone();
    let handle = parallel::thread().max_workers(1).async_par((move || g.pass(), || 2));
    handle.cancel();
    gate.open();
    assert_eq!(handle.wait(), Err(parallel::Error::Cancelled));

    let tasks = Tasks::default();
    let task = tasks.task();
    let handle = parallel::thread().max_workers(1).async_try_map(move |x: u32| Ok::<_, String>(task(x)), 0..5);
    tasks.wait_started(1);
    handle.cancel();
    assert_eq!(handle.wait(), Err(parallel::Error::Cancelled));
    tasks.gate.open();
}

#[test]
fn cancel_twice_is_harmless() {
    let tasks = Tasks::default();
    let handle = parallel::thread().max_workers(1).silent().async_map(tasks.task(), 0..3);
    tasks.wait_started(1);
    handle.cancel();
    handle.cancel();
    sleep(Duration::from_millis(300));
    tasks.gate.open();
    let results = handle.wait();
    assert_eq!(results.len(), 3);
    assert_eq!(results[0], Ok(0));
    assert_eq!(results.failed().len(), 2);
}

#[test]
fn cancelling_a_call_over_an_endless_input_ends_it_with_the_tasks_it_read() {
    let read = Arc::new(AtomicUsize::new(0));
    let counter = read.clone();
    let endless = std::iter::from_fn(move || Some(counter.fetch_add(1, Ordering::SeqCst) as u64));
    let handle = parallel::thread()
        .max_workers(2)
        .silent()
        .async_map(|ms: u64| sleep(Duration::from_millis(ms % 3)), parallel::iter(endless));
    sleep(Duration::from_millis(50));
    handle.cancel();
    // Never read to its end (it has none): the call ends, one outcome per task it read.
    let results = handle.wait();
    let read = read.load(Ordering::SeqCst);
    assert!(!results.is_empty() && results.len() == read, "{} results, {read} read", results.len());
}

#[test]
fn a_silent_call_over_an_endless_input_returns_at_its_deadline() {
    let start = Instant::now();
    let results = parallel::thread()
        .max_workers(2)
        .timeout(Duration::from_millis(100))
        .silent()
        .map(|ms: u64| sleep(Duration::from_millis(ms)), parallel::iter(std::iter::repeat(2)));
    assert!(start.elapsed() < Duration::from_secs(30), "it returned (a hang guard, not a timing)");
    // The tasks it read: each done, or timed out if it still ran at the deadline.
    assert!(results.iter().any(Result::is_ok));
    assert!(results
        .iter()
        .all(|r| r.as_ref().is_ok() || r.as_ref().is_err_and(|f| *f.kind() == FailureKind::TimedOut)));
}
