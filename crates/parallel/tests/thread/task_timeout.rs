//! The per-task `task_timeout`: a task that runs too long fails `TimedOut` on its own, its
//! thread is abandoned and replaced, and the other tasks go on — even with a single worker.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread::sleep;
use std::time::{Duration, Instant};

use parallel::{Error, FailureKind};

/// How long a hung task sleeps: far past every limit below.
const HANG_MS: u64 = 3_000;
/// The task timeout: far above what a quick task takes, even on a loaded machine.
const LIMIT: Duration = Duration::from_millis(200);

/// Sleeps `ms` milliseconds and returns it.
fn nap(ms: u64) -> u64 {
    sleep(Duration::from_millis(ms));
    ms
}

/// Runs `f`, asserting it returns within half the time a hung task sleeps.
fn well_before_the_hung_tasks_end<T>(f: impl FnOnce() -> T) -> T {
    let start = Instant::now();
    let out = f();
    let took = start.elapsed();
    assert!(took < Duration::from_millis(HANG_MS / 2), "took {took:?}: waited for a hung task");
    out
}

#[test]
fn only_the_slow_task_fails() {
    let results = well_before_the_hung_tasks_end(|| {
        parallel::thread().silent().task_timeout(LIMIT).map(nap, vec![1, HANG_MS, 2])
    });
    assert_eq!(results.succeeded(), vec![&1, &2]);
    let failed = results[1].as_ref().unwrap_err();
    assert_eq!(failed.index(), 1);
    assert_eq!(failed.params(), HANG_MS.to_string());
    assert_eq!(*failed.kind(), FailureKind::TimedOut);
    assert!(failed.message().contains("task_timeout"), "{}", failed.message());
}

#[test]
fn a_lone_hung_task_times_out() {
    let out = well_before_the_hung_tasks_end(|| parallel::thread().task_timeout(LIMIT).map(nap, vec![HANG_MS]));
    assert!(matches!(&out, Err(Error::Task(f)) if *f.kind() == FailureKind::TimedOut), "{out:?}");
}

#[test]
fn one_worker_stuck_on_the_first_task_still_completes_the_rest() {
    let ran = Arc::new(AtomicUsize::new(0));
    let r = ran.clone();
    let task = move |x: u64| {
        r.fetch_add(1, Ordering::SeqCst);
        if x == HANG_MS {
            nap(HANG_MS);
        }
        x
    };
    let mut inputs = vec![HANG_MS];
    inputs.extend(1..=20);
    let results = well_before_the_hung_tasks_end(|| {
        parallel::thread().silent().max_workers(1).task_timeout(LIMIT).map(task, inputs)
    });
    assert_eq!(results.len(), 21);
    assert_eq!(*results[0].as_ref().unwrap_err().kind(), FailureKind::TimedOut);
    assert_eq!(results.succeeded(), (1..=20).collect::<Vec<_>>().iter().collect::<Vec<_>>());
    assert_eq!(ran.load(Ordering::SeqCst), 21);
}

#[test]
fn several_hung_tasks_each_fail_and_the_rest_complete() {
    let inputs: Vec<u64> = (0..30).map(|i| if i % 10 == 3 { HANG_MS } else { i % 4 }).collect();
    let results = well_before_the_hung_tasks_end(|| {
        parallel::thread().silent().max_workers(2).task_timeout(LIMIT).map(nap, inputs)
    });
    let failed: Vec<usize> = results.failed().iter().map(|f| f.index()).collect();
    assert_eq!(failed, vec![3, 13, 23]);
    assert!(results.failed().iter().all(|f| *f.kind() == FailureKind::TimedOut));
    assert_eq!(results.succeeded().len(), 27);
}

#[test]
fn strict_reports_the_timed_out_task() {
    let err = well_before_the_hung_tasks_end(|| {
        parallel::thread().task_timeout(LIMIT).map(nap, vec![0, HANG_MS, 0]).unwrap_err()
    });
    let Error::Task(failed) = &err else { panic!("expected a task failure, got {err:?}") };
    assert_eq!(failed.index(), 1);
    assert_eq!(failed.params(), HANG_MS.to_string());
    assert_eq!(*failed.kind(), FailureKind::TimedOut);
    let text = err.to_string();
    assert!(text.starts_with(&format!("task 1 with parameters {HANG_MS} timed out")), "{text}");
}

#[test]
fn strict_stops_at_the_first_timed_out_task() {
    // A quick task, then three that hang, one worker: once task 1 has timed out the strict
    // call has its error, and the tasks after it must not be started one after another.
    let started = Arc::new(AtomicUsize::new(0));
    let s = started.clone();
    let task = move |ms: u64| {
        s.fetch_add(1, Ordering::SeqCst);
        nap(ms)
    };
    let mut inputs = vec![0];
    inputs.extend([HANG_MS; 3]);
    let out =
        well_before_the_hung_tasks_end(|| parallel::thread().max_workers(1).task_timeout(LIMIT).map(task, inputs));
    assert!(matches!(&out, Err(Error::Task(f)) if f.index() == 1 && *f.kind() == FailureKind::TimedOut), "{out:?}");
    let started = started.load(Ordering::SeqCst);
    assert!(started <= 3, "{started} tasks started; the error was known after the second");
}

#[test]
fn tasks_under_the_limit_all_succeed() {
    let out = parallel::thread().max_workers(4).task_timeout(Duration::from_secs(10)).map(nap, vec![5; 20]).unwrap();
    assert_eq!(out, vec![5; 20]);
}

#[test]
fn quick_tasks_before_a_hung_one_are_not_held_hostage() {
    // Quick tasks, then one that hangs, then more quick ones, one worker: only the hung task
    // may fail.
    let f = |x: u64| if x == 300 { nap(HANG_MS) } else { x };
    let results = well_before_the_hung_tasks_end(|| {
        parallel::thread().silent().max_workers(1).task_timeout(LIMIT).map(f, 0..1_000)
    });
    let failed: Vec<usize> = results.failed().iter().map(|f| f.index()).collect();
    assert_eq!(failed, vec![300]);
    assert_eq!(results.succeeded().len(), 999);
}

#[test]
fn task_timeout_with_the_whole_call_timeout() {
    let results = well_before_the_hung_tasks_end(|| {
        parallel::thread()
            .silent()
            .max_workers(2)
            .task_timeout(LIMIT)
            .timeout(Duration::from_secs(20))
            .map(nap, vec![HANG_MS, 1, HANG_MS, 2])
    });
    assert_eq!(results.failed().iter().map(|f| f.index()).collect::<Vec<_>>(), vec![0, 2]);
    assert_eq!(results.succeeded(), vec![&1, &2]);
}

#[test]
fn task_timeout_applies_to_par_and_async_calls() {
    let tasks = HashMap::from([("quick", parallel::task(|| nap(1))), ("stuck", parallel::task(|| nap(HANG_MS)))]);
    let results = well_before_the_hung_tasks_end(|| parallel::thread().silent().task_timeout(LIMIT).par(tasks));
    assert_eq!(results.get(&"quick"), Some(&Ok(1)));
    let failed = results.get(&"stuck").unwrap().as_ref().unwrap_err();
    assert_eq!(failed.key(), Some("\"stuck\""));
    assert_eq!(*failed.kind(), FailureKind::TimedOut);

    let handle = parallel::thread().silent().task_timeout(LIMIT).async_map(nap, vec![HANG_MS, 3]);
    let results = well_before_the_hung_tasks_end(|| handle.wait());
    assert_eq!(*results[0].as_ref().unwrap_err().kind(), FailureKind::TimedOut);
    assert_eq!(results[1], Ok(3));
}
