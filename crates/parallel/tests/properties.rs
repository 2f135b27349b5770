//! Property: whatever the input, the task behaviours and the options, a call gives what a
//! sequential run gives — the same value or failure kind at every index, and in strict mode
//! the first failure in input order.

use std::sync::Once;
use std::time::Duration;

use parallel::{Error, FailureKind};
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
