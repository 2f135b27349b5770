//! Property: whatever the input, the task behaviours and the options, a call gives what a
//! sequential run gives — the same value or failure kind at every index, and in strict mode
//! the first failure in input order.
//!
//! The process executor's counterpart is `process_properties.rs`. A long run:
//! `PROPTEST_CASES=5000 cargo test -p parallel --test properties` (the variable overrides every
//! case count below).

use std::collections::{BTreeMap, HashMap};
use std::sync::Once;
use std::time::Duration;

use parallel::{Error, FailedTask, FailureKind};
use proptest::prelude::*;

/// What one task does.
#[derive(Debug, Clone, Copy)]
enum Act {
    Value(u32),
    Fail(u32),
    Panic,
    Nap(u8),
}

fn act() -> impl Strategy<Value = Act> {
    prop_oneof![
        6 => any::<u32>().prop_map(Act::Value),
        1 => any::<u32>().prop_map(Act::Fail),
        1 => Just(Act::Panic),
        1 => (0u8..3).prop_map(Act::Nap),
    ]
}

fn run(act: Act) -> Result<u32, String> {
    match act {
        Act::Value(v) => Ok(v),
        Act::Fail(v) => Err(format!("failed with {v}")),
        Act::Panic => panic!("a task panics"),
        Act::Nap(ms) => {
            std::thread::sleep(Duration::from_millis(u64::from(ms)));
            Ok(u32::from(ms))
        }
    }
}

/// The outcome a sequential run gives: the value, or the failure kind.
fn reference(act: Act) -> Result<u32, FailureKind> {
    match act {
        Act::Value(v) => Ok(v),
        Act::Fail(_) => Err(FailureKind::Error),
        Act::Panic => Err(FailureKind::Panicked),
        Act::Nap(ms) => Ok(u32::from(ms)),
    }
}

/// Panics are expected here by the hundred: keep them quiet (and quick).
fn quiet_panics() {
    static QUIET: Once = Once::new();
    QUIET.call_once(|| std::panic::set_hook(Box::new(|_| {})));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn silent_calls_match_a_sequential_run(acts in prop::collection::vec(act(), 0..300), workers in 1usize..9, tracked in any::<bool>()) {
        quiet_panics();
        let mut executor = parallel::thread().max_workers(workers).silent();
        if tracked {
            executor = executor.timeout(Duration::from_secs(60));
        }
        let results = executor.try_map(run, acts.clone());
        prop_assert_eq!(results.len(), acts.len());
        for (i, (outcome, act)) in results.iter().zip(&acts).enumerate() {
            let got = outcome.as_ref().map(|v| *v).map_err(|f| f.kind().clone());
            prop_assert_eq!(got, reference(*act), "task {}", i);
            if let Err(failed) = outcome {
                prop_assert_eq!(failed.index(), i);
            }
        }
    }

    #[test]
    fn strict_calls_give_the_first_failure_in_input_order(acts in prop::collection::vec(act(), 0..300), workers in 1usize..9) {
        quiet_panics();
        let expected = acts.iter().position(|a| reference(*a).is_err());
        match (parallel::thread().max_workers(workers).try_map(run, acts.clone()), expected) {
            (Ok(values), None) => {
                let reference: Vec<u32> = acts.iter().map(|a| reference(*a).unwrap()).collect();
                prop_assert_eq!(values, reference);
            }
            (Err(Error::Task(failed)), Some(first)) => {
                prop_assert_eq!(failed.index(), first);
                prop_assert_eq!(Err(failed.kind().clone()), reference(acts[first]));
            }
            (other, expected) => prop_assert!(false, "got {:?}, expected the first failure at {:?}", other, expected),
        }
    }

    #[test]
    fn keyed_calls_keep_every_key(entries in prop::collection::btree_map(any::<u16>(), act(), 0..100), workers in 1usize..5) {
        quiet_panics();
        let results = parallel::thread().max_workers(workers).silent().try_map(run, entries.clone());
        prop_assert_eq!(results.len(), entries.len());
        for (key, act) in &entries {
            let got = results.get(key).unwrap().as_ref().map(|v| *v).map_err(|f| f.kind().clone());
            prop_assert_eq!(got, reference(*act));
        }
    }
}

/// The shape of a call's input.
#[derive(Debug, Clone, Copy)]
enum Shape {
    /// A `Vec`: exact size, results in a `Vec`.
    Vec,
    /// A lazy iterator adapter of unknown length (`parallel::iter` of a `filter`).
    Lazy,
    HashMap,
    BTreeMap,
}

fn shape() -> impl Strategy<Value = Shape> {
    prop_oneof![Just(Shape::Vec), Just(Shape::Lazy), Just(Shape::HashMap), Just(Shape::BTreeMap)]
}

/// How a call is made: its options, and whether it blocks or goes through a `Handle`.
#[derive(Debug, Clone, Copy)]
struct How {
    workers: usize,
    /// A call `timeout` that never passes (the tracked path, with stealing).
    timeout: bool,
    /// A `task_timeout` that never passes.
    task_timeout: bool,
    /// `async_try_map(..).wait()` rather than `try_map`.
    handle: bool,
}

fn how() -> impl Strategy<Value = How> {
    (1usize..9, any::<bool>(), any::<bool>(), any::<bool>()).prop_map(|(workers, timeout, task_timeout, handle)| How {
        workers,
        timeout,
        task_timeout,
        handle,
    })
}

fn executor(how: How) -> parallel::Thread {
    let mut executor = parallel::thread().max_workers(how.workers);
    if how.timeout {
        executor = executor.timeout(Duration::from_secs(60));
    }
    if how.task_timeout {
        executor = executor.task_timeout(Duration::from_secs(60));
    }
    executor
}

/// What a failure says, all of it compared: position, key, parameters, kind, message.
#[derive(Debug, Clone, PartialEq)]
struct Failure {
    index: usize,
    key: Option<String>,
    params: String,
    kind: FailureKind,
    message: String,
}

impl From<&FailedTask> for Failure {
    fn from(failed: &FailedTask) -> Self {
        Failure {
            index: failed.index(),
            key: failed.key().map(str::to_owned),
            params: failed.params().to_owned(),
            kind: failed.kind().clone(),
            message: failed.message().to_owned(),
        }
    }
}

/// One task of the sequential reference: its key (`Debug`, for maps) and what it does.
type Task = (Option<String>, Act);

/// The reference outcome of the task at `index`, failure report included.
fn expected(index: usize, (key, act): &Task) -> Result<u32, Failure> {
    let failure =
        |kind, message: String| Failure { index, key: key.clone(), params: format!("{act:?}"), kind, message };
    match *act {
        Act::Value(v) => Ok(v),
        Act::Nap(ms) => Ok(u32::from(ms)),
        Act::Fail(v) => Err(failure(FailureKind::Error, format!("failed with {v}"))),
        Act::Panic => Err(failure(FailureKind::Panicked, "a task panics".to_owned())),
    }
}

fn outcome(got: &Result<u32, FailedTask>) -> Result<u32, Failure> {
    got.as_ref().map(|v| *v).map_err(Failure::from)
}

/// Checks a silent call's outcomes, in input order, against the reference.
fn check_silent<'a>(
    got: impl ExactSizeIterator<Item = &'a Result<u32, FailedTask>>,
    tasks: &[Task],
) -> Result<(), TestCaseError> {
    prop_assert_eq!(got.len(), tasks.len());
    for (i, (got, task)) in got.zip(tasks).enumerate() {
        prop_assert_eq!(outcome(got), expected(i, task), "task {}", i);
    }
    Ok(())
}

/// Checks a strict call's outcome against the reference: every value in the input's shape
/// (`values` in input order), or the first failure in input order.
fn check_strict<T>(
    got: Result<T, Error>,
    values: impl FnOnce(T) -> Vec<u32>,
    tasks: &[Task],
) -> Result<(), TestCaseError>
where
    T: std::fmt::Debug,
{
    let reference: Result<Vec<u32>, Failure> = tasks.iter().enumerate().map(|(i, task)| expected(i, task)).collect();
    match (got, reference) {
        (Ok(output), Ok(reference)) => prop_assert_eq!(values(output), reference),
        (Err(Error::Task(failed)), Err(first)) => prop_assert_eq!(Failure::from(&failed), first),
        (got, reference) => prop_assert!(false, "got {:?}, expected {:?}", got, reference),
    }
    Ok(())
}

/// The inputs in each shape; for maps, the tasks in the map's own order (its input order).
fn sequence(entries: &[(u16, Act)]) -> (Vec<Act>, Vec<Task>) {
    let acts: Vec<Act> = entries.iter().map(|(_, act)| *act).collect();
    let tasks = acts.iter().map(|act| (None, *act)).collect();
    (acts, tasks)
}

fn keyed<'a>(entries: impl IntoIterator<Item = (&'a u16, &'a Act)>) -> Vec<Task> {
    entries.into_iter().map(|(key, act)| (Some(format!("{key:?}")), *act)).collect()
}

/// A lazy input of unknown length.
fn lazy(acts: Vec<Act>) -> parallel::Iter<impl Iterator<Item = Act> + Send + 'static> {
    parallel::iter(acts.into_iter().filter(|_| true))
}

/// Runs `run` over `entries` in `shape`, silently, and checks it against the reference.
fn silent_call(shape: Shape, entries: &[(u16, Act)], how: How) -> Result<(), TestCaseError> {
    let executor = executor(how).silent();
    macro_rules! call {
        ($inputs:expr) => {
            if how.handle {
                executor.async_try_map(run, $inputs).wait()
            } else {
                executor.try_map(run, $inputs)
            }
        };
    }
    match shape {
        Shape::Vec => {
            let (acts, tasks) = sequence(entries);
            check_silent(call!(acts).iter(), &tasks)
        }
        Shape::Lazy => {
            let (acts, tasks) = sequence(entries);
            check_silent(call!(lazy(acts)).iter(), &tasks)
        }
        Shape::HashMap => {
            let map: HashMap<u16, Act> = entries.iter().copied().collect();
            let tasks = keyed(&map);
            let results = call!(map.clone());
            check_silent(results.iter(), &tasks)?;
            for (i, (key, _)) in map.iter().enumerate() {
                prop_assert_eq!(results.get(key).map(outcome), Some(expected(i, &tasks[i])));
            }
            Ok(())
        }
        Shape::BTreeMap => {
            let map: BTreeMap<u16, Act> = entries.iter().copied().collect();
            let tasks = keyed(&map);
            let results = call!(map.clone());
            check_silent(results.iter(), &tasks)?;
            for (i, (key, _)) in map.iter().enumerate() {
                prop_assert_eq!(results.get(key).map(outcome), Some(expected(i, &tasks[i])));
            }
            Ok(())
        }
    }
}

/// Runs `run` over `entries` in `shape`, strictly, and checks it against the reference.
fn strict_call(shape: Shape, entries: &[(u16, Act)], how: How) -> Result<(), TestCaseError> {
    let executor = executor(how);
    macro_rules! call {
        ($inputs:expr) => {
            if how.handle {
                executor.async_try_map(run, $inputs).wait()
            } else {
                executor.try_map(run, $inputs)
            }
        };
    }
    match shape {
        Shape::Vec => {
            let (acts, tasks) = sequence(entries);
            check_strict(call!(acts), |values| values, &tasks)
        }
        Shape::Lazy => {
            let (acts, tasks) = sequence(entries);
            check_strict(call!(lazy(acts)), |values| values, &tasks)
        }
        Shape::HashMap => {
            let map: HashMap<u16, Act> = entries.iter().copied().collect();
            let tasks = keyed(&map);
            let keys: Vec<u16> = map.keys().copied().collect();
            check_strict(call!(map), |values| keys.iter().map(|k| values[k]).collect(), &tasks)
        }
        Shape::BTreeMap => {
            let map: BTreeMap<u16, Act> = entries.iter().copied().collect();
            let tasks = keyed(&map);
            check_strict(call!(map), |values| values.into_values().collect(), &tasks)
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    /// Every shape, both modes, every combination of options: the sequential reference.
    #[test]
    fn every_shape_mode_and_option_matches_a_sequential_run(
        entries in prop::collection::vec((any::<u16>(), act()), 0..200),
        shape in shape(),
        silent in any::<bool>(),
        how in how(),
    ) {
        quiet_panics();
        if silent {
            silent_call(shape, &entries, how)?;
        } else {
            strict_call(shape, &entries, how)?;
        }
    }
}
