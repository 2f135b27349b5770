//! The sequential reference the property tests compare calls with: what each task gives run
//! alone, the failure report it makes, and the checks of a silent or strict call's output —
//! shared by `thread/properties.rs` (threads) and `process/process_properties.rs` (processes),
//! whose tasks differ only in what they can do (each test binary includes this file by path).
#![allow(dead_code, unused_macros, unused_imports)] // each property test uses its part

use std::fmt::Debug;

use parallel::{Error, FailedTask, FailureKind};
use proptest::prelude::*;

/// What a task does, as the reference sees it: its value, or how it fails and with what
/// message, when run alone.
pub trait Behaviour: Copy + Debug {
    fn alone(self) -> Result<u32, (FailureKind, String)>;
}

/// The shape of a call's input.
#[derive(Debug, Clone, Copy)]
pub enum Shape {
    /// A `Vec`: exact size, results in a `Vec`.
    Vec,
    /// A lazy iterator adapter of unknown length (`parallel::iter` of a `filter`).
    Lazy,
    HashMap,
    BTreeMap,
}

pub fn shape() -> impl Strategy<Value = Shape> {
    prop_oneof![Just(Shape::Vec), Just(Shape::Lazy), Just(Shape::HashMap), Just(Shape::BTreeMap)]
}

/// What a failure says, all of it compared: position, key, parameters, kind, message.
#[derive(Debug, Clone, PartialEq)]
pub struct Failure {
    pub index: usize,
    pub key: Option<String>,
    pub params: String,
    pub kind: FailureKind,
    pub message: String,
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
pub type Task<A> = (Option<String>, A);

/// The reference outcome of the task at `index`, failure report included.
pub fn expected<A: Behaviour>(index: usize, (key, act): &Task<A>) -> Result<u32, Failure> {
    act.alone().map_err(|(kind, message)| Failure {
        index,
        key: key.clone(),
        params: format!("{act:?}"),
        kind,
        message,
    })
}

pub fn outcome(got: &Result<u32, FailedTask>) -> Result<u32, Failure> {
    got.as_ref().map(|v| *v).map_err(Failure::from)
}

/// Checks a silent call's outcomes, in input order, against the reference.
pub fn check_silent<'a, A: Behaviour>(
    got: impl ExactSizeIterator<Item = &'a Result<u32, FailedTask>>,
    tasks: &[Task<A>],
) -> Result<(), TestCaseError> {
    prop_assert_eq!(got.len(), tasks.len());
    for (i, (got, task)) in got.zip(tasks).enumerate() {
        prop_assert_eq!(outcome(got), expected(i, task), "task {}", i);
    }
    Ok(())
}

/// Checks a strict call's outcome against the reference: every value in the input's shape
/// (`values` in input order), or the first failure in input order.
pub fn check_strict<A: Behaviour, T>(
    got: Result<T, Error>,
    values: impl FnOnce(T) -> Vec<u32>,
    tasks: &[Task<A>],
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
pub fn sequence<A: Copy>(entries: &[(u16, A)]) -> (Vec<A>, Vec<Task<A>>) {
    let acts: Vec<A> = entries.iter().map(|(_, act)| *act).collect();
    let tasks = acts.iter().map(|act| (None, *act)).collect();
    (acts, tasks)
}

pub fn keyed<'a, A: Copy + 'a>(entries: impl IntoIterator<Item = (&'a u16, &'a A)>) -> Vec<Task<A>> {
    entries.into_iter().map(|(key, act)| (Some(format!("{key:?}")), *act)).collect()
}

/// A lazy input of unknown length.
pub fn lazy<A: Send + 'static>(acts: Vec<A>) -> parallel::traits::Iter<impl Iterator<Item = A> + Send + 'static> {
    parallel::iter(acts.into_iter().filter(|_| true))
}

/// Defines `silent_call` and `strict_call` in the calling test: run the test's `run` over
/// `entries` in `shape` with the test's `executor(how)` — silently or strictly, blocking or
/// through a handle — and check the output against the reference. (A macro: the executors
/// differ in type and bounds, and the test's `run`, `Act`, `How` and `executor` are its own.)
macro_rules! shape_calls {
    () => {
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
    };
}
pub(crate) use shape_calls;
