//! Progress callbacks and the progress bar: monotonic, ending at the total — with failures,
//! timeouts, crashed worker processes, unknown sizes, scoped and streaming calls — a panicking
//! callback stops the call and goes on in the caller, and a bar with stderr not a terminal
//! changes nothing.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::sleep;
use std::time::Duration;

use parallel::{FailureKind, Progress};

type Seen = Arc<Mutex<Vec<Progress>>>;

/// A callback recording what it is called with, and what it records.
fn recorder() -> (impl Fn(Progress) + Send + Sync + 'static, Seen) {
    let seen: Seen = Arc::default();
    let record = seen.clone();
    (move |p| record.lock().unwrap().push(p), seen)
}

/// Checks the reports of a call: `done` monotonic, never more failed than done, and the last
/// one is `last`.
fn check(seen: &Seen, last: Progress) {
    let seen = seen.lock().unwrap();
    assert!(seen.windows(2).all(|w| w[0].done <= w[1].done && w[0].failed <= w[1].failed), "monotonic: {seen:?}");
    assert!(seen.iter().all(|p| p.failed <= p.done && p.total.is_none_or(|t| p.done <= t)), "{seen:?}");
    assert_eq!(seen.last(), Some(&last), "{seen:?}");
}

fn nap(ms: u64) -> u64 {
    sleep(Duration::from_millis(ms));
    ms
}

#[test]
fn progress_is_reported_while_the_call_runs_and_at_its_end() {
    let (callback, seen) = recorder();
    let out = parallel::thread().max_workers(4).on_progress(callback).map(|x: u64| nap(x % 2 * 3), 0..400).unwrap();
    assert_eq!(out.len(), 400);
    check(&seen, Progress { done: 400, failed: 0, total: Some(400) });
    assert!(seen.lock().unwrap().len() >= 2, "the call naps for 150 ms or more: reported while it runs too");

    // An iterator of unknown size: the total is known by the end.
    let (callback, seen) = recorder();
    let out = parallel::thread().on_progress(callback).map(|x: u64| x, (0..5_000u64).filter(|_| true)).unwrap();
    assert_eq!(out.len(), 5_000);
    check(&seen, Progress { done: 5_000, failed: 0, total: Some(5_000) });
}

#[test]
fn failures_are_counted_and_the_end_is_the_total() {
    crate::quiet_panics();
    let (callback, seen) = recorder();
    let results = parallel::thread().silent().on_progress(callback).map(crate::inverse, vec![1, 0, 2, 0, 3]);
    assert_eq!(results.failed().len(), 2);
    check(&seen, Progress { done: 5, failed: 2, total: Some(5) });

    // Strict: the call ends at its first failure, reported once more at the end.
    let (callback, seen) = recorder();
    assert!(parallel::thread().on_progress(callback).map(crate::inverse, vec![0, 1]).is_err());
    let last = *seen.lock().unwrap().last().unwrap();
    assert!(last.failed >= 1 && last.total == Some(2), "{last:?}");
}

#[test]
fn timeouts_end_at_the_total_in_silent_mode() {
    let (callback, seen) = recorder();
    let results = parallel::thread()
        .silent()
        .timeout(Duration::from_millis(200))
        .on_progress(callback)
        .map(nap, vec![0, 20_000, 1]);
    assert_eq!(*results[1].as_ref().unwrap_err().kind(), FailureKind::TimedOut);
    check(&seen, Progress { done: 3, failed: 1, total: Some(3) });

    let (callback, seen) = recorder();
    let results = parallel::thread()
        .silent()
        .task_timeout(Duration::from_millis(200))
        .on_progress(callback)
        .map(nap, vec![20_000, 0, 1, 2]);
    assert_eq!(results.failed().len(), 1);
    check(&seen, Progress { done: 4, failed: 1, total: Some(4) });

    // Strict: reported at the deadline, once more.
    let (callback, seen) = recorder();
    let err = parallel::thread().timeout(Duration::from_millis(200)).on_progress(callback).map(nap, vec![0, 20_000]);
    assert!(matches!(err, Err(parallel::Error::Timeout { .. })));
    let last = *seen.lock().unwrap().last().unwrap();
    assert!(last.done >= 1 && last.total == Some(2), "{last:?}");
}

#[test]
fn processes_report_crashes_and_timeouts() {
    let (callback, seen) = recorder();
    let results =
        parallel::process().max_workers(2).silent().on_progress(callback).map(crate::crash_on_one, vec![0, 1, 2, 3]);
    assert!(matches!(results[1].as_ref().unwrap_err().kind(), FailureKind::Crashed { .. }));
    check(&seen, Progress { done: 4, failed: 1, total: Some(4) });

    let (callback, seen) = recorder();
    let results = parallel::process()
        .silent()
        .timeout(Duration::from_millis(300))
        .on_progress(callback)
        .map(nap, vec![0, 20_000]);
    assert_eq!(results.failed().len(), 1);
    check(&seen, Progress { done: 2, failed: 1, total: Some(2) });

    // Streamed, the same counts.
    let (callback, seen) = recorder();
    let items = parallel::process().on_progress(callback).as_completed(crate::crash_on_one, vec![1, 2]).count();
    assert_eq!(items, 2);
    check(&seen, Progress { done: 2, failed: 1, total: Some(2) });
}

#[test]
fn streaming_and_scoped_calls_report_too() {
    let (callback, seen) = recorder();
    let n = parallel::thread().on_progress(callback).as_completed(|x: u64| x, (0..10_000u64).filter(|_| true)).count();
    assert_eq!(n, 10_000);
    check(&seen, Progress { done: 10_000, failed: 0, total: Some(10_000) });

    let (callback, seen) = recorder();
    let v: Vec<u64> = (0..1_000).collect();
    let out = parallel::thread().on_progress(callback).scoped_map(|x: &u64| x + 1, &v).unwrap();
    assert_eq!(out[999], 1_000);
    check(&seen, Progress { done: 1_000, failed: 0, total: Some(1_000) });
}

#[test]
fn a_panicking_callback_stops_the_call_and_goes_on_in_the_caller() {
    crate::quiet_panics();
    let started = Arc::new(AtomicUsize::new(0));
    let task = |started: &Arc<AtomicUsize>| {
        let counter = started.clone();
        move |ms: u64| {
            counter.fetch_add(1, Ordering::SeqCst);
            nap(ms)
        }
    };
    let panicky = |_: Progress| panic!("on purpose: a callback that panics");

    // Blocking: the call unwinds with the callback's panic.
    let executor = parallel::thread().max_workers(1).on_progress(panicky);
    let caught = catch_unwind(AssertUnwindSafe(|| executor.map(task(&started), vec![20; 200])));
    let payload = caught.expect_err("the panic goes on in the caller");
    assert_eq!(payload.downcast_ref::<&str>(), Some(&"on purpose: a callback that panics"));
    let now = started.load(Ordering::SeqCst);
    sleep(Duration::from_millis(200));
    // The one worker, past its look at the stop when the panic came, may still start its task.
    assert!(started.load(Ordering::SeqCst) <= now + 1, "the call stopped: no task starts after");
    assert!(now < 200);

    // A handle: its wait resumes the panic.
    started.store(0, Ordering::SeqCst);
    let handle = parallel::thread().max_workers(1).on_progress(panicky).async_map(task(&started), vec![20; 200]);
    assert!(catch_unwind(AssertUnwindSafe(|| handle.wait())).is_err());
    assert!(started.load(Ordering::SeqCst) < 200);

    // A stream: every outcome that arrived is handed out, then the panic.
    started.store(0, Ordering::SeqCst);
    let outcomes = parallel::thread().max_workers(1).on_progress(panicky).as_completed(task(&started), vec![20; 200]);
    let mut handed = 0;
    let caught = catch_unwind(AssertUnwindSafe(|| outcomes.for_each(|_| handed += 1)));
    assert!(caught.is_err());
    assert!(handed < 200 && started.load(Ordering::SeqCst) < 200);

    // The panic at the very end (every task done) is the caller's too, scoped calls included.
    let v = vec![1u64, 2, 3];
    let caught =
        catch_unwind(AssertUnwindSafe(|| parallel::thread().on_progress(panicky).scoped_map(|x: &u64| x + 1, &v)));
    assert!(caught.is_err());
}

#[cfg(feature = "progress")]
#[test]
fn a_bar_with_stderr_not_a_terminal_changes_nothing() {
    crate::quiet_panics();
    // Under libtest stderr is captured or piped: the bar is hidden, and the calls as before.
    assert_eq!(parallel::thread().progress().map(|x: u64| x * 2, 0..1_000).unwrap()[999], 1_998);
    let results = parallel::thread().progress().silent().map(crate::inverse, vec![1, 0]);
    assert_eq!(results.replace_failed(-1), vec![100, -1]);
    let n = parallel::thread().progress().as_completed(|x: u64| x, (0..1_000u64).filter(|_| true)).count();
    assert_eq!(n, 1_000);
    let (callback, seen) = recorder();
    let out = parallel::process().progress().on_progress(callback).map(|x: u32| x + 1, vec![1, 2]).unwrap();
    assert_eq!(out, vec![2, 3]);
    check(&seen, Progress { done: 2, failed: 0, total: Some(2) });
    let err = parallel::thread().progress().timeout(Duration::from_millis(100)).map(nap, vec![20_000]);
    assert!(matches!(err, Err(parallel::Error::Timeout { .. })));
}

#[test]
fn an_executor_with_callbacks_is_still_unwind_safe() {
    fn unwind_safe<T: std::panic::UnwindSafe + std::panic::RefUnwindSafe>(_: &T) {}
    let executor = parallel::thread().on_progress(|_| {});
    unwind_safe(&executor);
    // So a call can run under `catch_unwind` as before.
    let out = catch_unwind(|| executor.map(|x: u8| x + 1, vec![1]).unwrap());
    assert_eq!(out.ok(), Some(vec![2]));
}
