//! Property: whatever the input, the task behaviours and the options, a call gives what a
//! sequential run gives — the same value or failure kind at every index, and in strict mode
//! the first failure in input order.
//!
//! The process executor's counterpart is `process_properties` (in the `process` test binary).
//! A long run: `PROPTEST_CASES=5000 cargo test -p parallel --test thread properties::` (the
//! variable overrides every case count below).

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use parallel::{Error, FailureKind};
use proptest::prelude::*;

use crate::common::quiet_panics; // panics are expected here by the hundred
use crate::reference::{check_silent, check_strict, expected, keyed, lazy, outcome, sequence, shape, Behaviour, Shape};

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

impl Behaviour for Act {
    fn alone(self) -> Result<u32, (FailureKind, String)> {
        match self {
            Act::Value(v) => Ok(v),
            Act::Nap(ms) => Ok(u32::from(ms)),
            Act::Fail(v) => Err((FailureKind::Error, format!("failed with {v}"))),
            Act::Panic => Err((FailureKind::Panicked, "a task panics".to_owned())),
        }
    }
}

crate::reference::shape_calls!();

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
