//! Property, for the process executor: whatever the input, the task behaviours — crashing the
//! worker process included — and the options, a call gives what a sequential run gives: the
//! same value or failure at every index or key, and in strict mode the first failure in input
//! order (a crash being an `Error::Task` of kind `Crashed`).
//!
//! Under libtest's harness: the worker processes are this test binary started again, and they
//! serve before `main` (libtest's) runs. Nothing here counts child processes or kills workers
//! from outside, so the tests may share the process with each other and with libtest's threads.
//! What workers print goes to the test's stderr, uncaptured: the panicking task silences its
//! worker's panic hook first.
//!
//! A long run: `PROPTEST_CASES=5000 cargo test -p parallel --test process_properties` (the
//! variable overrides every case count below).

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use parallel::{Error, FailedTask, FailureKind};
use proptest::prelude::*;
use serde::{Deserialize, Serialize};

/// What one task does. It crosses to the worker as the task's parameter: the function is a
/// `fn` item, so the behaviour travels in the data.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
enum Act {
    Value(u32),
    Fail(u32),
    Panic,
    Nap(u8),
    /// `std::process::abort()`: the worker dies of SIGABRT.
    Abort,
    /// `std::process::exit(code)`, 0 included: the worker is gone mid-task all the same.
    Exit(u8),
}

fn act() -> impl Strategy<Value = Act> {
    prop_oneof![
        8 => any::<u32>().prop_map(Act::Value),
        1 => any::<u32>().prop_map(Act::Fail),
        1 => Just(Act::Panic),
        1 => (0u8..3).prop_map(Act::Nap),
        1 => Just(Act::Abort),
        1 => prop::sample::select(vec![0u8, 1, 3, 101, 255]).prop_map(Act::Exit),
    ]
}

/// The task, run in a worker process.
fn run(act: Act) -> Result<u32, String> {
    match act {
        Act::Value(v) => Ok(v),
        Act::Fail(v) => Err(format!("failed with {v}")),
        Act::Panic => {
            // Quiet: the worker's stderr is the test's.
            std::panic::set_hook(Box::new(|_| {}));
            panic!("a task panics")
        }
        Act::Nap(ms) => {
            std::thread::sleep(Duration::from_millis(u64::from(ms)));
            Ok(u32::from(ms))
        }
        Act::Abort => std::process::abort(),
        Act::Exit(code) => std::process::exit(i32::from(code)),
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
    /// A call `timeout` that never passes (the tracked path, with killers for the workers).
    timeout: bool,
    /// A `task_timeout` that never passes.
    task_timeout: bool,
    /// `async_try_map(..).wait()` rather than `try_map`.
    handle: bool,
}

fn how() -> impl Strategy<Value = How> {
    (1usize..5, any::<bool>(), any::<bool>(), any::<bool>()).prop_map(|(workers, timeout, task_timeout, handle)| How {
        workers,
        timeout,
        task_timeout,
        handle,
    })
}

fn executor(how: How) -> parallel::Process {
    let mut executor = parallel::process().max_workers(how.workers);
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
        Act::Abort => Err(failure(
            FailureKind::Crashed { signal: Some(libc::SIGABRT), code: None },
            format!("its worker process was killed by signal {}", libc::SIGABRT),
        )),
        Act::Exit(code) => Err(failure(
            FailureKind::Crashed { signal: None, code: Some(i32::from(code)) },
            format!("its worker process exited with code {code}"),
        )),
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

/// The inputs as a sequence, and its tasks.
fn sequence(entries: &[(u16, Act)]) -> (Vec<Act>, Vec<Task>) {
    let acts: Vec<Act> = entries.iter().map(|(_, act)| *act).collect();
    let tasks = acts.iter().map(|act| (None, *act)).collect();
    (acts, tasks)
}

/// A map's tasks, in the map's own order (its input order).
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
    // Process cases are slower (a crash costs a new worker, ~2 ms): fewer cases, small inputs.
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Every shape, both modes, every combination of options: the sequential reference.
    #[test]
    fn every_shape_mode_and_option_matches_a_sequential_run(
        entries in prop::collection::vec((any::<u16>(), act()), 0..48),
        shape in shape(),
        silent in any::<bool>(),
        how in how(),
    ) {
        if silent {
            silent_call(shape, &entries, how)?;
        } else {
            strict_call(shape, &entries, how)?;
        }
    }

    /// Many tiny tasks travel in batches: crashes inside a batch fail only their own tasks,
    /// and the rest of the batch runs again on a new worker.
    #[test]
    fn crashes_inside_batches_fail_alone(
        crashes in prop::collection::btree_map(0usize..600, prop_oneof![Just(Act::Abort), Just(Act::Exit(3)), Just(Act::Panic)], 0..6),
        len in 1usize..600,
        workers in 1usize..4,
    ) {
        let acts: Vec<Act> = (0..len).map(|i| crashes.get(&i).copied().unwrap_or(Act::Value(i as u32))).collect();
        let results = parallel::process().max_workers(workers).silent().try_map(run, acts.clone());
        let tasks: Vec<Task> = acts.iter().map(|act| (None, *act)).collect();
        check_silent(results.iter(), &tasks)?;
    }
}
