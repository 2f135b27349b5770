//! Strict mode (the default): the call's error is the first failure in *input* order — even when
//! a later task failed earlier in time — it names the task's index, parameters and message, it
//! comes without waiting for the tasks after it, and tasks not started once it is known never run.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread::sleep;
use std::time::{Duration, Instant};

use parallel::{Error, FailureKind};

#[test]
fn the_first_failure_in_input_order_wins_over_an_earlier_one_in_time() {
    // Task 1 fails late; task 6 fails at once.
    let f = |x: u64| -> u64 {
        match x {
            1 => {
                sleep(Duration::from_millis(200));
                panic!("late failure of {x}")
            }
            6 => panic!("early failure of {x}"),
            _ => x,
        }
    };
    let err = parallel::thread().max_workers(8).map(f, 0..8).unwrap_err();
    let Error::Task(failed) = &err else { panic!("expected a task failure, got {err:?}") };
    assert_eq!(failed.index(), 1);
    assert_eq!(failed.message(), "late failure of 1");
}

#[test]
fn the_first_failure_in_input_order_with_try_map() {
    let f = |x: u32| -> Result<u32, String> {
        match x {
            3 => {
                sleep(Duration::from_millis(150));
                Err("slow error".to_owned())
            }
            x if x >= 10 => Err(format!("fast error {x}")),
            x => Ok(x),
        }
    };
    let err = parallel::thread().max_workers(16).try_map(f, 0..16).unwrap_err();
    let Error::Task(failed) = err else { panic!("expected a task failure") };
    assert_eq!(failed.index(), 3);
    assert_eq!(*failed.kind(), FailureKind::Error);
    assert_eq!(failed.message(), "slow error");
}

#[test]
fn the_error_names_index_parameters_and_message() {
    let err = parallel::map(|x: i32| if x == 2 { panic!("bad input") } else { x }, 0..4).unwrap_err();
    assert_eq!(err.to_string(), "task 2 with parameters 2 panicked: bad input");

    fn add(x: i32, y: i32) -> i32 {
        x.checked_add(y).expect("overflow")
    }
    let err = parallel::map(add, vec![(1, 1), (i32::MAX, 1)]).unwrap_err();
    let text = err.to_string();
    assert!(text.contains("task 1"), "{text}");
    assert!(text.contains("(2147483647, 1)"), "{text}");
    assert!(text.contains("overflow"), "{text}");
    let Error::Task(failed) = &err else { panic!("expected a task failure") };
    assert_eq!(failed.params(), "(2147483647, 1)");
    // The failed task is the error's source.
    let source = std::error::Error::source(&err).expect("a task failure has a source");
    assert_eq!(source.to_string(), text);
}

#[test]
fn try_map_err_fails_its_task() {
    let err = parallel::try_map(|s: &str| s.parse::<u8>(), ["1", "x", "2"]).unwrap_err();
    assert_eq!(err.to_string(), "task 1 with parameters \"x\" returned an error: invalid digit found in string");
    let Error::Task(failed) = err else { panic!("expected a task failure") };
    assert_eq!(failed.index(), 1);
    assert_eq!(failed.key(), None);
    assert_eq!(*failed.kind(), FailureKind::Error);

    assert_eq!(parallel::try_map(|s: &str| s.parse::<u8>(), ["1", "2"]).unwrap(), vec![1, 2]);
}

#[test]
fn the_error_comes_without_waiting_for_later_tasks() {
    let f = |x: u64| {
        if x == 0 {
            return Err("first task fails");
        }
        sleep(Duration::from_secs(5));
        Ok(x)
    };
    let started = Instant::now();
    let err = parallel::thread().max_workers(4).try_map(f, 0..4).unwrap_err();
    let took = started.elapsed();
    assert!(matches!(&err, Error::Task(failed) if failed.index() == 0), "{err:?}");
    assert!(took < Duration::from_secs(2), "waited {took:?} for tasks after the failure");
}

#[test]
fn tasks_not_started_after_a_failure_never_run() {
    let started = Arc::new(AtomicUsize::new(0));
    let s = started.clone();
    let f = move |x: u32| {
        s.fetch_add(1, Ordering::SeqCst);
        sleep(Duration::from_millis(50));
        if x == 2 {
            panic!("task 2 fails");
        }
        x
    };
    let err = parallel::thread().max_workers(1).map(f, 0..100).unwrap_err();
    assert!(matches!(&err, Error::Task(failed) if failed.index() == 2), "{err:?}");
    // Let anything that would still start show up.
    sleep(Duration::from_millis(200));
    let ran = started.load(Ordering::SeqCst);
    // Tasks 0..=2 ran; at most one more may have been taken while the failure was reported.
    assert!(ran <= 4, "{ran} tasks ran although task 2 failed");
}

#[test]
fn tasks_after_a_failure_never_start_even_after_quick_tasks() {
    // Quick tasks make a worker take its tasks in bigger and bigger batches. Once task 1000
    // has failed, no task after it can matter to a strict call: they must stop starting
    // promptly (a few may start while the failure is being reported, not hundreds).
    let started = Arc::new(AtomicUsize::new(0));
    let s = started.clone();
    // (An `Err`, not a panic: how long the panic hook takes, e.g. to print a backtrace, is
    // not the library's doing.)
    let f = move |x: u32| {
        s.fetch_add(1, Ordering::SeqCst);
        if x == 1_000 {
            return Err("task 1000 fails");
        }
        if x > 1_000 {
            sleep(Duration::from_millis(2));
        }
        Ok(x)
    };
    let err = parallel::thread().max_workers(2).try_map(f, 0..100_000).unwrap_err();
    assert!(matches!(&err, Error::Task(failed) if failed.index() == 1_000), "{err:?}");
    sleep(Duration::from_millis(200));
    let ran = started.load(Ordering::SeqCst);
    let after = ran.saturating_sub(1_001);
    assert!(after <= 25, "{after} tasks after the failed task 1000 started anyway");
}

#[test]
fn a_strict_builder_is_reusable_after_a_failure() {
    let executor = parallel::thread().max_workers(2);
    assert!(executor.map(|x: i32| 1 / x, vec![1, 0]).is_err());
    assert_eq!(executor.map(|x: i32| 2 / x, vec![1, 2]).unwrap(), vec![2, 1]);
}
