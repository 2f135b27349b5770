//! Panics are caught per task: `&str`, `String` and non-string payloads give a `Panicked`
//! failure with a message, the other tasks' results stay intact, the executor stays usable,
//! and a panicking input iterator fails the slot it could not read.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use parallel::{Error, FailureKind};

#[test]
fn str_string_and_other_payloads() {
    let f = |x: u8| -> u8 {
        match x {
            1 => panic!("a str payload"),
            2 => panic!("a String payload: {}", x * 10),
            3 => std::panic::panic_any(42_u32),
            4 => std::panic::panic_any(String::from("a String given to panic_any")),
            _ => x,
        }
    };
    let results = parallel::thread().silent().map(f, 0..6);
    assert_eq!(results[0], Ok(0));
    assert_eq!(results[5], Ok(5));
    let message = |i: usize| results[i].as_ref().unwrap_err().message().to_owned();
    assert_eq!(message(1), "a str payload");
    assert_eq!(message(2), "a String payload: 20");
    assert!(!message(3).is_empty(), "a non-string payload still gets a message");
    assert_eq!(message(4), "a String given to panic_any");
    for failed in results.failed() {
        assert_eq!(*failed.kind(), FailureKind::Panicked);
        assert_eq!(failed.params(), failed.index().to_string());
    }
}

#[test]
fn other_results_stay_intact() {
    // Every seventh task panics, among many quick tasks that share batches.
    let f = |x: u64| if x % 7 == 3 { panic!("bad {x}") } else { x * x };
    let results = parallel::thread().silent().map(f, 0..10_000);
    assert_eq!(results.len(), 10_000);
    for (i, outcome) in results.iter().enumerate() {
        let x = i as u64;
        match outcome {
            Ok(v) => {
                assert_ne!(x % 7, 3, "task {i} should have failed");
                assert_eq!(*v, x * x);
            }
            Err(failed) => {
                assert_eq!(x % 7, 3, "task {i} should have succeeded");
                assert_eq!(failed.index(), i);
                assert_eq!(failed.params(), i.to_string());
                assert_eq!(failed.message(), format!("bad {i}"));
            }
        }
    }
}

#[test]
fn a_panic_in_strict_mode_is_the_error() {
    let err = parallel::map(|s: &str| s.parse::<i32>().unwrap(), ["1", "oops"]).unwrap_err();
    let Error::Task(failed) = &err else { panic!("expected a task failure, got {err:?}") };
    assert_eq!(failed.index(), 1);
    assert_eq!(*failed.kind(), FailureKind::Panicked);
    assert!(failed.message().contains("InvalidDigit"), "{}", failed.message());
    assert!(err.to_string().starts_with("task 1 with parameters \"oops\" panicked: "), "{err}");
}

#[test]
fn panics_in_par_tasks_are_caught() {
    let (a, b) = parallel::thread().silent().par((|| -> i32 { panic!("left") }, || "right"));
    assert_eq!(a.unwrap_err().message(), "left");
    assert_eq!(b, Ok("right"));
}

#[test]
fn the_executor_survives_panics() {
    let executor = parallel::thread().max_workers(2);
    for round in 0..20 {
        assert!(executor.map(|x: i32| if x == 1 { panic!("round") } else { x }, 0..8).is_err());
        assert_eq!(executor.map(move |x: i32| x + round, 0..8).unwrap(), (round..round + 8).collect::<Vec<_>>());
    }
}

#[test]
fn panics_with_timeouts_set_are_caught_too() {
    // Timeouts make the call track each batch: panics are caught on that path as well.
    let results = parallel::thread()
        .silent()
        .timeout(std::time::Duration::from_secs(30))
        .map(|x: u32| if x % 5 == 0 { panic!("five {x}") } else { x }, 0..100);
    assert_eq!(results.failed().len(), 20);
    assert_eq!(results.succeeded().len(), 80);
    let results = parallel::thread()
        .silent()
        .task_timeout(std::time::Duration::from_secs(30))
        .map(|x: u32| if x == 3 { panic!("three") } else { x }, 0..10);
    assert_eq!(results.failed()[0].message(), "three");
    assert_eq!(results.succeeded().len(), 9);
}

#[test]
fn a_panicking_payload_drop_is_survived() {
    /// A panic payload whose drop panics too.
    struct Nasty;
    impl Drop for Nasty {
        fn drop(&mut self) {
            if !std::thread::panicking() {
                panic!("dropping the payload panics");
            }
        }
    }
    let results = parallel::thread().silent().map(|x: u8| if x == 1 { std::panic::panic_any(Nasty) } else { x }, 0..3);
    assert_eq!(results.len(), 3);
    assert_eq!(*results[1].as_ref().unwrap_err().kind(), FailureKind::Panicked);
    assert_eq!(results[0], Ok(0));
    assert_eq!(results[2], Ok(2));
}

/// Yields `0..` and panics when asked for item `at`.
fn panicking_iterator(at: u32) -> parallel::traits::Iter<impl Iterator<Item = u32> + Send + 'static> {
    let mut next = 0;
    parallel::iter(std::iter::from_fn(move || {
        if next == at {
            panic!("the input broke at {at}");
        }
        next += 1;
        Some(next - 1)
    }))
}

#[test]
fn a_panicking_input_iterator_fails_its_slot() {
    let results = parallel::thread().silent().map(|x: u32| x * 2, panicking_iterator(5));
    assert_eq!(results.len(), 6, "five items read, then the slot that could not be read");
    assert_eq!(results.succeeded(), vec![&0, &2, &4, &6, &8]);
    let failed = results[5].as_ref().unwrap_err();
    assert_eq!(failed.index(), 5);
    assert_eq!(*failed.kind(), FailureKind::Panicked);
    assert!(failed.message().contains("the input broke at 5"), "{}", failed.message());

    let err = parallel::map(|x: u32| x * 2, panicking_iterator(3)).unwrap_err();
    let Error::Task(failed) = err else { panic!("expected a task failure") };
    assert_eq!(failed.index(), 3);
    assert!(failed.message().contains("the input broke at 3"), "{}", failed.message());
}

#[test]
fn a_panicking_input_iterator_at_the_start_or_deep_in() {
    let results = parallel::thread().silent().map(|x: u32| x, panicking_iterator(0));
    assert_eq!(results.len(), 1);
    assert!(results[0].is_err());

    let ran = Arc::new(AtomicUsize::new(0));
    let r = ran.clone();
    let results = parallel::thread().silent().timeout(std::time::Duration::from_secs(30)).map(
        move |x: u32| {
            r.fetch_add(1, Ordering::SeqCst);
            x
        },
        panicking_iterator(10_000),
    );
    assert_eq!(results.len(), 10_001);
    assert_eq!(results.succeeded().len(), 10_000);
    assert_eq!(results.failed()[0].index(), 10_000);
    assert_eq!(ran.load(Ordering::SeqCst), 10_000);
}
