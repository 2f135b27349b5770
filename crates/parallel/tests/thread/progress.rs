//! A running call's progress and its outcomes as they arrive (a tapped call).

use std::time::Duration;

use parallel::plumbing::{Ended, Fault, Work};
use parallel::{FailureKind, Progress};

#[test]
fn progress_counts_every_outcome_failures_too_and_ends_at_the_total() {
    let handle = parallel::thread().silent().max_workers(2).async_map(
        |x: u64| {
            std::thread::sleep(Duration::from_millis(5));
            assert!(x % 3 != 0, "a multiple of three");
            x
        },
        1..=30u64,
    );
    let observer = handle.observer();
    let mut last = 0;
    while !observer.is_finished() {
        let p = observer.progress();
        assert!(p.done >= last && p.failed <= p.done && p.total == Some(30));
        last = p.done;
    }
    let results = handle.wait();
    assert_eq!(results.failed().len(), 10);
    assert_eq!(observer.progress(), Progress { done: 30, failed: 10, total: Some(30) });
}

/// Doubles, fails on 0, and takes `x` milliseconds.
struct Slow;

impl Work for Slow {
    type Params = u64;
    type Out = u64;
    type Kept = u64;
    fn keep(&self, x: &u64) -> u64 {
        *x
    }
    fn describe(&self, x: &u64) -> String {
        x.to_string()
    }
    fn run(&self, x: u64) -> Result<u64, Fault> {
        std::thread::sleep(Duration::from_millis(x * 10));
        if x == 0 {
            return Err(Fault::new(FailureKind::Error, "zero"));
        }
        Ok(x * 2)
    }
}

#[test]
fn a_tapped_call_hands_out_each_outcome_once_in_the_order_they_complete() {
    let (handle, arrivals) = parallel::thread().silent().max_workers(4).async_run_tapped(Slow, vec![30, 1, 15, 0]);
    let mut got = Vec::new();
    while let Some(arrived) = arrivals.next_timeout(Duration::from_secs(10)) {
        got.extend(arrived.into_outcomes().map(|(i, o)| (i, o.map_err(|f| f.message().to_owned()))));
    }
    assert_eq!(handle.wait(), Ended::Done);
    let order: Vec<usize> = got.iter().map(|(i, _)| *i).collect();
    assert_eq!(order, vec![3, 1, 2, 0], "completion order");
    assert_eq!(got[0].1, Err("zero".to_owned()));
    assert_eq!(got[3].1, Ok(60));
}

#[test]
fn a_strict_tapped_call_ends_at_its_first_failure() {
    let (handle, _arrivals) = parallel::thread().max_workers(1).async_run_tapped(Slow, vec![1, 0, 1]);
    match handle.wait() {
        Ended::Failed(failed) => assert_eq!((failed.index(), failed.message()), (1, "zero")),
        other => panic!("a failure expected, got {other:?}"),
    }
}
