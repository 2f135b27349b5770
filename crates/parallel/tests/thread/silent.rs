//! Silent mode: every task's value or `FailedTask` in its slot — the whole `Results` API
//! (`failures`, `failed`, `succeeded`, `replace_failed`, `into_result`, `get`, `iter`, indexing,
//! `len`, iteration) and the whole `FailedTask` API (`index`, `key`, `params`, `kind`, `message`,
//! `Display`).

use parallel::{Error, FailureKind};

/// The seed's example: `add` works on two numbers or two strings, and fails on a mix.
#[derive(Debug, Clone, PartialEq)]
enum Value {
    Num(i64),
    Text(String),
}

fn add(a: Value, b: Value) -> Value {
    match (a, b) {
        (Value::Num(x), Value::Num(y)) => Value::Num(x + y),
        (Value::Text(x), Value::Text(y)) => Value::Text(x + &y),
        (a, b) => panic!("cannot add {a:?} and {b:?}"),
    }
}

fn text(s: &str) -> Value {
    Value::Text(s.to_owned())
}

fn seed_inputs() -> Vec<(Value, Value)> {
    vec![(Value::Num(2), Value::Num(3)), (Value::Num(1), text("x")), (text("hello "), text("world"))]
}

#[test]
fn the_seed_example() {
    let results = parallel::thread().silent().map(add, seed_inputs());
    assert_eq!(results.len(), 3);
    assert!(!results.is_empty());
    assert!(results.failures());

    assert_eq!(results[0], Ok(Value::Num(5)));
    assert_eq!(results[2], Ok(text("hello world")));
    let failed = results[1].as_ref().unwrap_err();
    assert_eq!(failed.index(), 1);
    assert_eq!(failed.key(), None);
    assert_eq!(failed.params(), "(Num(1), Text(\"x\"))");
    assert_eq!(*failed.kind(), FailureKind::Panicked);
    assert_eq!(failed.message(), "cannot add Num(1) and Text(\"x\")");
    assert_eq!(
        failed.to_string(),
        "task 1 with parameters (Num(1), Text(\"x\")) panicked: cannot add Num(1) and Text(\"x\")"
    );

    assert_eq!(results.succeeded(), vec![&Value::Num(5), &text("hello world")]);
    assert_eq!(results.failed().len(), 1);
    assert_eq!(results.failed()[0], failed);

    assert_eq!(results.replace_failed(Value::Num(0)), vec![Value::Num(5), Value::Num(0), text("hello world")]);
}

#[test]
fn without_failures() {
    let results = parallel::thread().silent().map(|x: u8| x * 2, vec![1, 2, 3]);
    assert!(!results.failures());
    assert!(results.failed().is_empty());
    assert_eq!(results.succeeded(), vec![&2, &4, &6]);
    assert_eq!(results.into_result().unwrap(), vec![2, 4, 6]);
}

#[test]
fn into_result_gives_the_first_failure_in_input_order() {
    let results = parallel::thread().silent().map(|x: i32| 60 / x, vec![1, 0, 2, 0]);
    assert_eq!(results.failed().iter().map(|f| f.index()).collect::<Vec<_>>(), vec![1, 3]);
    let err = results.into_result().unwrap_err();
    let Error::Task(failed) = err else { panic!("expected a task failure, got {err:?}") };
    assert_eq!(failed.index(), 1);
}

#[test]
fn get_looks_up_by_index_for_sequences() {
    let results = parallel::thread().silent().map(|x: i32| 10 / x, vec![5, 0]);
    assert_eq!(results.get(&0), Some(&Ok(2)));
    assert!(results.get(&1).unwrap().is_err());
    assert_eq!(results.get(&2), None);
}

#[test]
fn iteration_in_input_order() {
    let results = parallel::thread().silent().map(|x: i32| 10 / x, vec![1, 0, 5]);
    let by_ref: Vec<bool> = results.iter().map(Result::is_ok).collect();
    assert_eq!(by_ref, vec![true, false, true]);
    let mut count = 0;
    for outcome in &results {
        count += usize::from(outcome.is_ok());
    }
    assert_eq!(count, 2);
    let owned: Vec<Result<i32, parallel::FailedTask>> = results.into_iter().collect();
    assert_eq!(owned[0], Ok(10));
    assert_eq!(owned[2], Ok(2));
    assert_eq!(owned[1].as_ref().unwrap_err().params(), "0");
}

#[test]
fn try_map_errors_are_kept_with_their_message() {
    fn parse(s: &str) -> Result<i32, std::num::ParseIntError> {
        s.parse()
    }
    let results = parallel::thread().silent().try_map(parse, ["1", "two", "3", ""]);
    assert_eq!(results.succeeded(), vec![&1, &3]);
    let failed = results.failed();
    assert_eq!(failed.len(), 2);
    assert_eq!(failed[0].index(), 1);
    assert_eq!(failed[0].params(), "\"two\"");
    assert_eq!(*failed[0].kind(), FailureKind::Error);
    assert_eq!(failed[0].message(), "invalid digit found in string");
    assert_eq!(
        failed[0].to_string(),
        "task 1 with parameters \"two\" returned an error: invalid digit found in string"
    );
    assert_eq!(failed[1].index(), 3);
    assert_eq!(failed[1].message(), "cannot parse integer from empty string");
    assert_eq!(results.replace_failed(-1), vec![1, -1, 3, -1]);
}

#[test]
fn every_task_fails() {
    let results = parallel::thread().silent().map(|x: u8| -> u8 { panic!("no {x}") }, 0..5);
    assert_eq!(results.len(), 5);
    assert!(results.succeeded().is_empty());
    let failed = results.failed();
    assert_eq!(failed.iter().map(|f| f.index()).collect::<Vec<_>>(), vec![0, 1, 2, 3, 4]);
    assert_eq!(
        failed.iter().map(|f| f.message().to_owned()).collect::<Vec<_>>(),
        vec!["no 0", "no 1", "no 2", "no 3", "no 4"]
    );
    assert_eq!(results.replace_failed(9), vec![9; 5]);
}

#[test]
fn failed_tasks_compare_clone_and_work_as_errors() {
    let results = parallel::thread().silent().map(|x: i32| 1 / x, vec![0]);
    let failed = results[0].clone().unwrap_err();
    assert_eq!(failed.clone(), failed);
    let as_error: Box<dyn std::error::Error> = Box::new(failed.clone());
    assert_eq!(as_error.to_string(), failed.to_string());
    let err: Error = failed.clone().into();
    assert_eq!(err, Error::Task(failed));
}

#[test]
fn debug_lists_the_outcomes() {
    let results = parallel::thread().silent().map(|x: i32| 4 / x, vec![2, 0]);
    let debug = format!("{results:?}");
    assert!(debug.starts_with("[Ok(2), Err("), "{debug}");
    assert!(debug.contains("Panicked"), "{debug}");
}

#[test]
fn failure_kinds_display() {
    assert_eq!(FailureKind::Error.to_string(), "returned an error");
    assert_eq!(FailureKind::Panicked.to_string(), "panicked");
    assert_eq!(FailureKind::TimedOut.to_string(), "timed out");
    assert_eq!(FailureKind::Cancelled.to_string(), "was cancelled");
}

#[test]
fn a_silent_builder_is_reusable() {
    let executor = parallel::thread().max_workers(3).silent();
    let first = executor.map(|x: i32| 10 / x, vec![0, 1]);
    let second = executor.map(|x: i32| x + 1, vec![1, 2]);
    assert_eq!(first.failed().len(), 1);
    assert_eq!(second.replace_failed(0), vec![2, 3]);
}
