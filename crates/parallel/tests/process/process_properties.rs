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
//! A long run: `PROPTEST_CASES=5000 cargo test -p parallel --test process process_properties::`
//! (the variable overrides every case count below).

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use parallel::FailureKind;
use proptest::prelude::*;
use serde::{Deserialize, Serialize};

use crate::reference::{
    check_silent, check_strict, expected, keyed, lazy, outcome, sequence, shape, Behaviour, Shape, Task,
};

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

impl Behaviour for Act {
    fn alone(self) -> Result<u32, (FailureKind, String)> {
        match self {
            Act::Value(v) => Ok(v),
            Act::Nap(ms) => Ok(u32::from(ms)),
            Act::Fail(v) => Err((FailureKind::Error, format!("failed with {v}"))),
            Act::Panic => Err((FailureKind::Panicked, "a task panics".to_owned())),
            Act::Abort => Err((
                FailureKind::Crashed { signal: Some(libc::SIGABRT), code: None },
                format!("its worker process was killed by signal {}", libc::SIGABRT),
            )),
            Act::Exit(code) => Err((
                FailureKind::Crashed { signal: None, code: Some(i32::from(code)) },
                format!("its worker process exited with code {code}"),
            )),
        }
    }
}

crate::reference::shape_calls!();

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
        let tasks: Vec<Task<Act>> = acts.iter().map(|act| (None, *act)).collect();
        check_silent(results.iter(), &tasks)?;
    }
}
