//! The whole-call `timeout`: the call returns soon after it passes although tasks hang for
//! seconds; strict gives `Error::Timeout` with how many tasks finished; silent keeps the
//! finished values and gives `TimedOut` failures (with their parameters) for the rest.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread::sleep;
use std::time::{Duration, Instant};

use parallel::{Error, FailureKind};

/// How long a hung task sleeps: far past every timeout below.
const HANG_MS: u64 = 5_000;
/// How soon after its timeout a call must have returned: generous, for a loaded machine.
const SLACK: Duration = Duration::from_secs(2);

/// Sleeps `ms` milliseconds and returns it.
fn nap(ms: u64) -> u64 {
    sleep(Duration::from_millis(ms));
    ms
}

/// Runs `f`, asserting it returns within `timeout + SLACK`.
fn on_time<T>(timeout: Duration, f: impl FnOnce() -> T) -> T {
    let start = Instant::now();
    let out = f();
    let took = start.elapsed();
    assert!(took < timeout + SLACK, "returned {took:?} after a timeout of {timeout:?}");
    out
}

#[test]
fn strict_returns_on_time_with_how_many_finished() {
    let timeout = Duration::from_millis(500);
    let inputs = vec![0, 1, 2, HANG_MS, HANG_MS];
    let err = on_time(timeout, || parallel::thread().max_workers(5).timeout(timeout).map(nap, inputs).unwrap_err());
    assert_eq!(err, Error::Timeout { timeout, finished: 3 });
    let text = err.to_string();
    assert!(text.contains("500ms") && text.contains("3 tasks finished"), "{text}");
}

#[test]
fn strict_counts_finished_tasks_among_many_quick_ones() {
    // 2000 quick tasks, then 2 that hang: `finished` is how many tasks really finished.
    // (Two rounds: where the batches of tasks happen to start must not matter.)
    for round in 0..2 {
        let completed = Arc::new(AtomicUsize::new(0));
        let c = completed.clone();
        let task = move |ms: u64| {
            nap(ms);
            c.fetch_add(1, Ordering::SeqCst);
        };
        let timeout = Duration::from_millis(400);
        let inputs: Vec<u64> = (0..2_000).map(|_| 0).chain([HANG_MS, HANG_MS]).collect();
        let out = on_time(timeout, || parallel::thread().max_workers(4).timeout(timeout).map(task, inputs));
        let completed = completed.load(Ordering::SeqCst);
        assert_eq!(completed, 2_000, "round {round}: every quick task finished");
        assert_eq!(out, Err(Error::Timeout { timeout, finished: completed }), "round {round}");
    }
}

#[test]
fn silent_keeps_finished_values_and_fails_the_rest_with_their_parameters() {
    let timeout = Duration::from_millis(500);
    let inputs = vec![1, HANG_MS, 2, HANG_MS + 1, 3];
    let results = on_time(timeout, || parallel::thread().silent().max_workers(5).timeout(timeout).map(nap, inputs));
    assert_eq!(results.len(), 5);
    assert_eq!(results.succeeded(), vec![&1, &2, &3]);
    let failed = results.failed();
    assert_eq!(failed.len(), 2);
    assert_eq!((failed[0].index(), failed[0].params()), (1, "5000"));
    assert_eq!((failed[1].index(), failed[1].params()), (3, "5001"));
    for f in failed {
        assert_eq!(*f.kind(), FailureKind::TimedOut);
        assert!(f.message().contains("timeout"), "{}", f.message());
    }
}

#[test]
fn silent_fails_the_tasks_that_never_started() {
    // One worker, stuck on the first task: the others never start and are reported too.
    let timeout = Duration::from_millis(200);
    let inputs = vec![HANG_MS, 1, 2, 3];
    let results = on_time(timeout, || parallel::thread().silent().max_workers(1).timeout(timeout).map(nap, inputs));
    assert_eq!(results.len(), 4);
    for (i, outcome) in results.iter().enumerate() {
        let failed = outcome.as_ref().expect_err("nothing finished");
        assert_eq!(failed.index(), i);
        assert_eq!(*failed.kind(), FailureKind::TimedOut);
    }
    assert_eq!(results.failed().iter().map(|f| f.params()).collect::<Vec<_>>(), vec!["5000", "1", "2", "3"]);
}

#[test]
fn silent_quick_tasks_next_to_hung_ones_all_finish() {
    // A few tasks in 3000 hang; the others are trivial and there are free workers: each of
    // them has a value when the call times out.
    let hung = [500, 1_100, 1_700, 2_300, 2_900];
    let timeout = Duration::from_millis(1_000);
    let f = move |x: u64| if hung.contains(&x) { nap(HANG_MS) } else { x };
    let results = on_time(timeout, || parallel::thread().silent().max_workers(8).timeout(timeout).map(f, 0..3_000));
    assert_eq!(results.len(), 3_000);
    let failed: Vec<u64> = results.failed().iter().map(|f| f.index() as u64).collect();
    assert_eq!(failed, hung, "only the hung tasks may time out");
    assert_eq!(results.succeeded().len(), 3_000 - hung.len());
}

#[test]
fn the_deadline_counts_from_the_start_of_the_call() {
    // Each task alone is shorter than the timeout, but not all of them one after another.
    let timeout = Duration::from_millis(300);
    let results = on_time(timeout, || {
        parallel::thread().silent().max_workers(1).timeout(timeout).map(nap, vec![100, 100, 100, 100, 100, 100, 100])
    });
    assert!(results.failures(), "seven 100 ms tasks in a row cannot finish in 300 ms");
    // What finished came first in input order: the failures are a tail.
    let first_failure = results.failed()[0].index();
    assert!(results.iter().skip(first_failure).all(Result::is_err));
    assert!(results.iter().take(first_failure).all(Result::is_ok));
}

#[test]
fn a_timeout_that_does_not_pass_changes_nothing() {
    let out = parallel::thread().timeout(Duration::from_secs(30)).map(|x: u32| x * 3, 0..1_000).unwrap();
    assert_eq!(out, (0..1_000).map(|x| x * 3).collect::<Vec<_>>());
}

#[test]
fn abandoned_tasks_never_show_up_later() {
    let finished = Arc::new(AtomicUsize::new(0));
    let fin = finished.clone();
    let task = move |ms: u64| {
        sleep(Duration::from_millis(ms));
        fin.fetch_add(1, Ordering::SeqCst);
        ms
    };
    let timeout = Duration::from_millis(300);
    let executor = parallel::thread().silent().max_workers(2).timeout(timeout);
    let results = on_time(timeout, || executor.map(task.clone(), vec![0, 1_200]));
    assert_eq!(results[0], Ok(0));
    assert_eq!(*results[1].as_ref().unwrap_err().kind(), FailureKind::TimedOut);
    // The abandoned task still runs to its end in the background...
    let deadline = Instant::now() + Duration::from_secs(5);
    while finished.load(Ordering::SeqCst) < 2 && Instant::now() < deadline {
        sleep(Duration::from_millis(5));
    }
    assert_eq!(finished.load(Ordering::SeqCst), 2);
    // ...and the next call of the same executor is not disturbed by it.
    let next = executor.map(task, vec![1, 2, 3]);
    assert_eq!(next.replace_failed(0), vec![1, 2, 3]);
}

#[test]
fn async_calls_and_par_time_out_too() {
    let timeout = Duration::from_millis(500);
    let handle = parallel::thread().timeout(timeout).async_map(nap, vec![0, HANG_MS]);
    let out = on_time(timeout, || handle.wait());
    assert_eq!(out, Err(Error::Timeout { timeout, finished: 1 }));

    let out = on_time(timeout, || parallel::thread().timeout(timeout).par((|| nap(0), || nap(HANG_MS))));
    assert_eq!(out, Err(Error::Timeout { timeout, finished: 1 }));

    let (quick, hung) =
        on_time(timeout, || parallel::thread().silent().timeout(timeout).par((|| 'q', || nap(HANG_MS))));
    assert_eq!(quick, Ok('q'));
    assert_eq!(*hung.unwrap_err().kind(), FailureKind::TimedOut);
}

#[test]
fn an_async_call_times_out_with_nobody_waiting() {
    // The deadline runs from the call's start, not from when someone waits on the handle.
    let timeout = Duration::from_millis(100);
    let handle = parallel::thread().timeout(timeout).async_map(nap, vec![HANG_MS]);
    let deadline = Instant::now() + SLACK;
    while !handle.is_finished() && Instant::now() < deadline {
        sleep(Duration::from_millis(5));
    }
    assert!(handle.is_finished(), "the call did not end at its timeout");
    assert_eq!(handle.wait(), Err(Error::Timeout { timeout, finished: 0 }));
}

#[test]
fn a_zero_timeout_returns_at_once() {
    let out = on_time(Duration::ZERO, || parallel::thread().timeout(Duration::ZERO).map(nap, vec![HANG_MS; 3]));
    assert!(matches!(out, Err(Error::Timeout { finished: 0, .. })), "{out:?}");
}

#[test]
fn a_zero_timeout_counts_no_task_as_finished() {
    // Pool threads that take a batch as the deadline passes fail its tasks as timed out before
    // they start; those are not finished tasks (one was counted so, under load). No task can end
    // in time: each naps far longer than the call lasts.
    for round in 0..100 {
        let out = parallel::thread().max_workers(4).timeout(Duration::ZERO).map(nap, vec![200; 64]);
        assert!(matches!(out, Err(Error::Timeout { finished: 0, .. })), "round {round}: {out:?}");
        let out = parallel::process().max_workers(2).timeout(Duration::ZERO).map(nap, vec![200; 64]);
        assert!(matches!(out, Err(Error::Timeout { finished: 0, .. })), "round {round} (processes): {out:?}");
    }
}

#[test]
fn tasks_a_deadline_stopped_before_they_started_are_timed_out_not_cancelled() {
    // A worker that took a batch just before the deadline finds the call stopped before its
    // next task: that task never started because of the deadline, so it is timed out (it was
    // reported as cancelled). Many short calls make the race likely.
    for round in 0..40 {
        let timeout = Duration::from_millis(round % 4);
        let quick = |x: u64| {
            let until = Instant::now() + Duration::from_micros(50);
            while Instant::now() < until {
                std::hint::spin_loop();
            }
            x
        };
        let results = parallel::thread().max_workers(2).silent().timeout(timeout).map(quick, 0..400u64);
        for failed in results.failed() {
            assert_eq!(*failed.kind(), FailureKind::TimedOut, "round {round}: {failed}");
        }
        let results = parallel::process().max_workers(2).silent().timeout(timeout).map(|x: u64| x, 0..2000u64);
        for failed in results.failed() {
            assert_eq!(*failed.kind(), FailureKind::TimedOut, "round {round} (processes): {failed}");
        }
    }
}
