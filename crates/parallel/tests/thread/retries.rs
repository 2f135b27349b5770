//! `retries`: a failed task runs again until it succeeds or its attempts are used up; a task
//! that succeeds runs once; `retry_if` chooses the failures; a `task_timeout` is retried too. And
//! `init`, once per pool thread.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use parallel::FailureKind;

use crate::common::quiet_panics;

/// Counts each task's runs, by its input.
#[derive(Clone, Default)]
struct Runs(Arc<Mutex<HashMap<u32, u32>>>);

impl Runs {
    /// Counts one more run of `x`; the number of this run.
    fn run(&self, x: u32) -> u32 {
        let mut runs = self.0.lock().unwrap();
        let n = runs.entry(x).or_insert(0);
        *n += 1;
        *n
    }
    fn of(&self, x: u32) -> u32 {
        self.0.lock().unwrap().get(&x).copied().unwrap_or(0)
    }
}

#[test]
fn a_task_that_fails_twice_then_succeeds_succeeds_with_two_retries() {
    quiet_panics();
    let runs = Runs::default();
    let counted = runs.clone();
    // Odd inputs fail their first two runs.
    let flaky = move |x: u32| {
        let run = counted.run(x);
        if x % 2 == 1 && run < 3 {
            panic!("run {run} of {x} fails");
        }
        x * 10
    };
    let out = parallel::thread().retries(2).map(flaky.clone(), 0..20u32).unwrap();
    assert_eq!(out, (0..20u32).map(|x| x * 10).collect::<Vec<_>>());
    for x in 0..20 {
        assert_eq!(runs.of(x), if x % 2 == 1 { 3 } else { 1 }, "task {x}: a task that succeeds runs once");
    }
}

#[test]
fn a_task_out_of_attempts_reports_its_last_failure_and_how_many_it_had() {
    quiet_panics();
    let runs = Runs::default();
    let counted = runs.clone();
    let always = move |x: u32| -> u32 { panic!("run {} of {x} fails", counted.run(x)) };
    let results = parallel::thread().silent().retries(3).map(always, vec![5u32]);
    let failed = results[0].as_ref().unwrap_err();
    assert_eq!(failed.attempts(), 4);
    assert_eq!(failed.message(), "run 4 of 5 fails", "the last attempt's failure");
    assert_eq!(runs.of(5), 4);
    // Without retries: one attempt.
    let results = parallel::thread().silent().map(|x: u32| -> u32 { panic!("{x}") }, vec![1u32]);
    assert_eq!(results[0].as_ref().unwrap_err().attempts(), 1);
}

#[test]
fn retry_if_retries_only_the_failures_it_chooses() {
    let runs = Runs::default();
    let counted = runs.clone();
    let fails = move |x: u32| -> Result<u32, String> {
        counted.run(x);
        Err(if x == 0 { "transient".to_owned() } else { "permanent".to_owned() })
    };
    let results = parallel::thread()
        .silent()
        .retries(2)
        .retry_if(|fault| fault.message.contains("transient"))
        .try_map(fails, vec![0u32, 1]);
    assert_eq!((runs.of(0), runs.of(1)), (3, 1));
    assert_eq!(results[0].as_ref().unwrap_err().attempts(), 3);
    assert_eq!(results[1].as_ref().unwrap_err().attempts(), 1);
}

#[test]
fn a_task_past_its_task_timeout_runs_again_and_can_succeed() {
    static RUNS: AtomicU32 = AtomicU32::new(0);
    // The first run hangs past the limit; the second is quick.
    let slow_once = |x: u32| {
        if RUNS.fetch_add(1, Ordering::SeqCst) == 0 {
            std::thread::sleep(Duration::from_secs(3));
        }
        x + 1
    };
    let out = parallel::thread().retries(1).task_timeout(Duration::from_millis(200)).map(slow_once, vec![41u32]);
    assert_eq!(out.unwrap(), vec![42]);
    assert_eq!(RUNS.load(Ordering::SeqCst), 2);
}

#[test]
fn a_task_that_times_out_every_time_fails_timed_out_after_its_attempts() {
    let hang = |x: u32| {
        std::thread::sleep(Duration::from_secs(3));
        x
    };
    let results =
        parallel::thread().silent().retries(1).task_timeout(Duration::from_millis(100)).map(hang, vec![1u32, 2]);
    for failed in results.iter().map(|r| r.as_ref().unwrap_err()) {
        assert_eq!(*failed.kind(), FailureKind::TimedOut);
        assert_eq!(failed.attempts(), 2);
    }
}

#[test]
fn a_retried_task_with_a_task_timeout_counts_its_failures_of_its_own_too() {
    quiet_panics();
    let runs = Runs::default();
    let counted = runs.clone();
    let flaky = move |x: u32| if counted.run(x) < 3 { panic!("not yet") } else { x };
    let out = parallel::thread().retries(2).task_timeout(Duration::from_secs(30)).map(flaky, 0..4u32).unwrap();
    assert_eq!(out, vec![0, 1, 2, 3]);
    assert!((0..4).all(|x| runs.of(x) == 3));
}

// `init` on threads: once per pool thread, before its first task.

thread_local! {
    static LOADED: std::cell::Cell<u32> = const { std::cell::Cell::new(0) };
}

fn load() {
    LOADED.with(|n| n.set(n.get() + 1));
}

#[test]
fn init_runs_once_per_thread_before_its_first_task() {
    let pool = parallel::thread().max_workers(4).init(load);
    for _ in 0..2 {
        let seen = pool.map(|_: u32| LOADED.with(std::cell::Cell::get), 0..1_000u32).unwrap();
        assert!(seen.iter().all(|&n| n == 1), "a thread ran its initializer once, and before its tasks");
    }
}

fn fails_to_load() {
    panic!("no model");
}

#[test]
fn an_init_that_panics_fails_the_task_it_was_to_run_before() {
    quiet_panics();
    let results = parallel::thread().silent().init(fails_to_load).map(|x: u32| x, 0..3u32);
    for failed in results.iter().map(|r| r.as_ref().unwrap_err()) {
        assert_eq!(*failed.kind(), FailureKind::Panicked);
        assert!(failed.message().contains("the initializer panicked: no model"));
    }
}
