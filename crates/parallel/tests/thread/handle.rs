//! The `Handle` of a non-blocking call: `wait`, `wait_timeout` (the handle comes back when the
//! output is not ready), `is_finished`, and every `async_*` form — the same output as the
//! blocking call.

use std::collections::HashMap;
use std::thread::sleep;
use std::time::{Duration, Instant};

use parallel::{FailureKind, Handle};

use crate::common::Gate;

/// Polls `is_finished` for a few seconds.
fn finishes<T>(handle: &Handle<T>) -> bool {
    let deadline = Instant::now() + Duration::from_secs(5);
    while !handle.is_finished() {
        if Instant::now() >= deadline {
            return false;
        }
        sleep(Duration::from_millis(1));
    }
    true
}

#[test]
fn wait_gives_the_output() {
    let handle = parallel::async_map(|x: u32| x.pow(2), 1..4);
    assert_eq!(handle.wait().unwrap(), vec![1, 4, 9]);
}

#[test]
fn async_map_returns_before_the_tasks_finish() {
    let gate = Gate::default();
    let g = gate.clone();
    let handle = parallel::async_map(move |x: u8| (g.pass(), x), vec![1, 2]);
    // The call came back although no task can finish yet.
    assert!(!handle.is_finished());
    gate.open();
    assert_eq!(handle.wait().unwrap(), vec![(true, 1), (true, 2)]);
}

#[test]
fn wait_timeout_gives_the_handle_back_until_the_output_is_ready() {
    let gate = Gate::default();
    let g = gate.clone();
    let handle = parallel::async_map(move |x: u8| (g.pass(), x * 2), vec![1, 2, 3]);

    let handle = handle.wait_timeout(Duration::from_millis(30)).expect_err("the tasks are held at the gate");
    assert!(!handle.is_finished());
    let handle = handle.wait_timeout(Duration::ZERO).expect_err("still held");
    gate.open();
    let output = handle.wait_timeout(Duration::from_secs(10)).expect("ready once the gate is open");
    assert_eq!(output.unwrap(), vec![(true, 2), (true, 4), (true, 6)]);
}

#[test]
fn is_finished_turns_true_and_the_output_stays_available() {
    let gate = Gate::default();
    let g = gate.clone();
    let handle = parallel::async_map(move |x: i32| (g.pass(), -x), vec![5]);
    assert!(!handle.is_finished());
    gate.open();
    assert!(finishes(&handle));
    assert!(handle.is_finished(), "stays finished");
    assert_eq!(handle.wait_timeout(Duration::ZERO).map_err(|_| ()).unwrap().unwrap(), vec![(true, -5)]);
}

#[test]
fn async_try_map_reports_an_error() {
    let handle = parallel::async_try_map(|s: &str| s.parse::<u8>(), ["1", "300"]);
    let err = handle.wait().unwrap_err();
    assert_eq!(
        err.to_string(),
        "task 1 with parameters \"300\" returned an error: number too large to fit in target type"
    );
    let handle = parallel::async_try_map(|s: &str| s.parse::<u8>(), ["7", "8"]);
    assert_eq!(handle.wait().unwrap(), vec![7, 8]);
}

#[test]
fn async_par_positional_and_named() {
    let handle = parallel::async_par((|| 1 + 1, || "two", || vec![3]));
    assert_eq!(handle.wait().unwrap(), (2, "two", vec![3]));

    let handle = parallel::async_par(HashMap::from([("a", parallel::task(|| 1)), ("b", parallel::task(|| 2))]));
    assert_eq!(handle.wait().unwrap(), HashMap::from([("a", 1), ("b", 2)]));

    let handle = parallel::thread().silent().async_par((|| 1, || -> u8 { panic!("boom") }));
    let (a, b) = handle.wait();
    assert_eq!(a, Ok(1));
    assert_eq!(b.unwrap_err().message(), "boom");
}

#[test]
fn a_silent_async_call_gives_results() {
    let handle = parallel::thread().silent().async_map(|x: i32| 10 / x, vec![5, 0, 2]);
    let results = handle.wait();
    assert_eq!(results.replace_failed(-1), vec![2, -1, 5]);

    let handle = parallel::thread().silent().async_try_map(|s: &str| s.parse::<i8>(), ["1", "x"]);
    let results = handle.wait();
    assert_eq!(results[0], Ok(1));
    assert_eq!(*results[1].as_ref().unwrap_err().kind(), FailureKind::Error);
}

#[test]
fn a_handle_can_be_waited_on_from_another_thread() {
    let handle = parallel::async_map(|x: u64| x + 1, vec![1, 2, 3]);
    let joined = std::thread::spawn(move || handle.wait()).join().unwrap();
    assert_eq!(joined.unwrap(), vec![2, 3, 4]);
}

#[test]
fn several_calls_run_side_by_side() {
    let gate = Gate::default();
    let handles: Vec<_> = (0..4)
        .map(|i| {
            let g = gate.clone();
            parallel::async_map(move |x: u32| (g.pass(), x * i), vec![1, 2])
        })
        .collect();
    assert!(handles.iter().all(|h| !h.is_finished()));
    gate.open();
    for (i, handle) in handles.into_iter().enumerate() {
        let i = i as u32;
        assert_eq!(handle.wait().unwrap(), vec![(true, i), (true, 2 * i)]);
    }
}

#[test]
fn debug_shows_whether_it_finished() {
    let gate = Gate::default();
    let g = gate.clone();
    let handle = parallel::async_map(move |_: u8| g.pass(), vec![0]);
    assert!(format!("{handle:?}").contains("finished: false"), "{handle:?}");
    gate.open();
    assert!(finishes(&handle));
    assert!(format!("{handle:?}").contains("finished: true"), "{handle:?}");
    assert_eq!(handle.wait().unwrap(), vec![true]);
}
