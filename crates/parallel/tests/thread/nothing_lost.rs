//! Nothing is lost or counted twice: over many tasks with mixed outcomes (values, panics,
//! errors, timeouts), every slot is accounted for exactly once, in its place, and every task
//! runs at most once — in silent and in strict mode, on every path (plain, tracked by a
//! timeout, one task at a time under a task timeout).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread::sleep;
use std::time::Duration;

use parallel::{Error, FailureKind};

const N: usize = 3_000;

/// What task `i` does.
#[derive(Debug, PartialEq)]
enum Expect {
    Value,
    Panic,
    Error,
}

fn expect(i: usize) -> Expect {
    if i % 7 == 5 {
        Expect::Panic
    } else if i % 11 == 4 {
        Expect::Error
    } else {
        Expect::Value
    }
}

/// A task that counts its runs per index, panics or errs as `expect` says, and otherwise
/// gives `i * 3`; now and then it sleeps so that batches finish out of order.
fn counted(runs: &Arc<Vec<AtomicUsize>>) -> impl Fn(usize) -> Result<usize, String> + Send + Sync + 'static {
    let runs = runs.clone();
    move |i| {
        runs[i].fetch_add(1, Ordering::SeqCst);
        if i % 97 == 0 {
            sleep(Duration::from_millis(2));
        }
        match expect(i) {
            Expect::Panic => panic!("panic {i}"),
            Expect::Error => Err(format!("error {i}")),
            Expect::Value => Ok(i * 3),
        }
    }
}

fn new_runs(n: usize) -> Arc<Vec<AtomicUsize>> {
    Arc::new((0..n).map(|_| AtomicUsize::new(0)).collect())
}

/// Checks one silent call over `0..N`: one outcome per slot, each the expected one.
fn check_silent(results: &parallel::Results<std::ops::Range<usize>, usize>, runs: &[AtomicUsize]) {
    assert_eq!(results.len(), N);
    for (i, outcome) in results.iter().enumerate() {
        assert_eq!(runs[i].load(Ordering::SeqCst), 1, "task {i} ran a wrong number of times");
        match (expect(i), outcome) {
            (Expect::Value, Ok(v)) => assert_eq!(*v, i * 3),
            (Expect::Panic, Err(f)) => {
                assert_eq!(
                    (f.index(), f.kind(), f.message()),
                    (i, &FailureKind::Panicked, format!("panic {i}").as_str())
                );
                assert_eq!(f.params(), i.to_string());
            }
            (Expect::Error, Err(f)) => {
                assert_eq!((f.index(), f.kind(), f.message()), (i, &FailureKind::Error, format!("error {i}").as_str()));
                assert_eq!(f.params(), i.to_string());
            }
            (expected, got) => panic!("task {i}: expected {expected:?}, got {got:?}"),
        }
    }
    let expected_failures = (0..N).filter(|&i| expect(i) != Expect::Value).count();
    assert_eq!(results.failed().len(), expected_failures);
    assert_eq!(results.succeeded().len(), N - expected_failures);
}

#[test]
fn silent_plain() {
    let runs = new_runs(N);
    let results = parallel::thread().silent().try_map(counted(&runs), 0..N);
    check_silent(&results, &runs);
}

#[test]
fn silent_with_a_timeout_that_does_not_pass() {
    let runs = new_runs(N);
    let results = parallel::thread().silent().timeout(Duration::from_secs(60)).try_map(counted(&runs), 0..N);
    check_silent(&results, &runs);
}

#[test]
fn silent_with_a_task_timeout_that_does_not_pass() {
    let runs = new_runs(N);
    let results = parallel::thread().silent().task_timeout(Duration::from_secs(30)).try_map(counted(&runs), 0..N);
    check_silent(&results, &runs);
}

#[test]
fn silent_with_one_worker_and_with_many() {
    for workers in [1, 3, 64] {
        let runs = new_runs(N);
        let results = parallel::thread().silent().max_workers(workers).try_map(counted(&runs), 0..N);
        check_silent(&results, &runs);
    }
}

#[test]
fn silent_async() {
    let runs = new_runs(N);
    let results = parallel::thread().silent().async_try_map(counted(&runs), 0..N).wait();
    check_silent(&results, &runs);
}

#[test]
fn strict_without_failures_gives_every_value_once() {
    let runs = new_runs(N);
    let r = runs.clone();
    let f = move |i: usize| {
        r[i].fetch_add(1, Ordering::SeqCst);
        i * 3
    };
    for executor in [
        parallel::thread(),
        parallel::thread().timeout(Duration::from_secs(60)),
        parallel::thread().task_timeout(Duration::from_secs(30)),
    ] {
        runs.iter().for_each(|r| r.store(0, Ordering::SeqCst));
        let out = executor.map(f.clone(), 0..N).unwrap();
        assert_eq!(out, (0..N).map(|i| i * 3).collect::<Vec<_>>());
        assert!(runs.iter().all(|r| r.load(Ordering::SeqCst) == 1), "every task runs exactly once");
    }
}

#[test]
fn strict_with_failures_gives_the_first_and_runs_nothing_twice() {
    let runs = new_runs(N);
    let err = parallel::thread().try_map(counted(&runs), 0..N).unwrap_err();
    let Error::Task(failed) = err else { panic!("expected a task failure") };
    let first = (0..N).find(|&i| expect(i) != Expect::Value).unwrap();
    assert_eq!(failed.index(), first);
    assert!(runs.iter().all(|r| r.load(Ordering::SeqCst) <= 1), "no task runs twice");
    assert!(runs[..=first].iter().all(|r| r.load(Ordering::SeqCst) == 1), "every task up to the failure ran");
}

#[test]
fn silent_with_timeouts_passing_accounts_for_every_slot() {
    // A third of the tasks hang past the call's timeout; the rest are values, panics or errors.
    let n = 60;
    let runs = new_runs(n);
    let r = runs.clone();
    let f = move |i: usize| -> Result<usize, String> {
        r[i].fetch_add(1, Ordering::SeqCst);
        match i % 6 {
            0 | 3 => {
                sleep(Duration::from_secs(3));
                Ok(i)
            }
            1 => panic!("panic {i}"),
            2 => Err(format!("error {i}")),
            _ => Ok(i * 3),
        }
    };
    let timeout = Duration::from_millis(1_500);
    let results = parallel::thread().silent().max_workers(n).timeout(timeout).try_map(f, 0..n);
    assert_eq!(results.len(), n);
    for (i, outcome) in results.iter().enumerate() {
        assert_eq!(runs[i].load(Ordering::SeqCst), 1, "task {i} ran a wrong number of times");
        match (i % 6, outcome) {
            (0 | 3, Err(f)) => assert_eq!((f.index(), f.kind()), (i, &FailureKind::TimedOut)),
            (1, Err(f)) => assert_eq!((f.index(), f.kind()), (i, &FailureKind::Panicked)),
            (2, Err(f)) => assert_eq!((f.index(), f.kind()), (i, &FailureKind::Error)),
            (4 | 5, Ok(v)) => assert_eq!(*v, i * 3),
            (_, got) => panic!("task {i}: unexpected {got:?}"),
        }
    }
}

#[test]
fn silent_with_task_timeouts_passing_accounts_for_every_slot() {
    let n = 40;
    let runs = new_runs(n);
    let r = runs.clone();
    let f = move |i: usize| {
        r[i].fetch_add(1, Ordering::SeqCst);
        if i % 10 == 9 {
            sleep(Duration::from_secs(3));
        }
        if i % 10 == 4 {
            panic!("panic {i}");
        }
        i
    };
    let results = parallel::thread().silent().max_workers(4).task_timeout(Duration::from_millis(300)).map(f, 0..n);
    assert_eq!(results.len(), n);
    for (i, outcome) in results.iter().enumerate() {
        assert_eq!(runs[i].load(Ordering::SeqCst), 1, "task {i} ran a wrong number of times");
        match (i % 10, outcome) {
            (9, Err(f)) => assert_eq!((f.index(), f.kind()), (i, &FailureKind::TimedOut)),
            (4, Err(f)) => assert_eq!((f.index(), f.kind()), (i, &FailureKind::Panicked)),
            (0..=3 | 5..=8, Ok(v)) => assert_eq!(*v, i),
            (_, got) => panic!("task {i}: unexpected {got:?}"),
        }
    }
}
