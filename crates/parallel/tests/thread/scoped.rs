//! Scoped calls borrow — a slice, `v.iter()`, a closure over the caller's locals, values that
//! borrow the input — and never return while a task can still touch what they borrowed: after
//! a panic, a strict failure, a timeout or a task_timeout, every task that started has ended,
//! and none runs after the call.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread::sleep;
use std::time::{Duration, Instant};

use parallel::{Error, FailureKind};
use proptest::prelude::*;

use crate::common::quiet_panics; // panics are expected here
use crate::reference::{check_silent, check_strict, sequence, Behaviour};

/// Counters the tasks write into, borrowed by the call.
struct Marks {
    started: Vec<AtomicUsize>,
    ended: Vec<AtomicUsize>,
}

impl Marks {
    fn new(n: usize) -> Self {
        Marks {
            started: (0..n).map(|_| AtomicUsize::new(0)).collect(),
            ended: (0..n).map(|_| AtomicUsize::new(0)).collect(),
        }
    }
    /// Task `i`: marks itself started, naps `ms`, marks itself ended.
    fn nap(&self, i: usize, ms: u64) -> usize {
        self.started[i].fetch_add(1, Ordering::SeqCst);
        sleep(Duration::from_millis(ms));
        self.ended[i].fetch_add(1, Ordering::SeqCst);
        i
    }
    fn snapshot(&self) -> (Vec<usize>, Vec<usize>) {
        let load = |c: &Vec<AtomicUsize>| c.iter().map(|c| c.load(Ordering::SeqCst)).collect();
        (load(&self.started), load(&self.ended))
    }
    /// Every task that started has ended, and none runs any more: the counters stay put.
    fn settled(&self) -> (Vec<usize>, Vec<usize>) {
        let (started, ended) = self.snapshot();
        assert_eq!(started, ended, "the call returned while tasks ran");
        sleep(Duration::from_millis(300));
        let settled = (started, ended);
        assert_eq!(self.snapshot(), settled, "a task ran after the call returned");
        settled
    }
}

#[test]
fn a_borrowed_slice_and_a_closure_borrowing_a_local() {
    let v: Vec<u64> = (0..10_000).collect();
    let offset = 7u64;
    let expected: Vec<u64> = v.iter().map(|x| x * 2 + offset).collect();
    assert_eq!(parallel::scoped_map(|x: &u64| x * 2 + offset, &v).unwrap(), expected);
    assert_eq!(parallel::scoped_map(|x: &u64| x * 2 + offset, v.iter()).unwrap(), expected);
    assert_eq!(parallel::scoped_map(|x: &u64| x * 2 + offset, v.as_slice()).unwrap(), expected);
    assert_eq!(parallel::thread().max_workers(3).scoped_map(|x: &u64| x * 2 + offset, &v).unwrap(), expected);
    // Adapters over borrowed data, and chunks.
    let odd = parallel::scoped_map(|x: &u64| x + offset, v.iter().filter(|x| *x % 2 == 1)).unwrap();
    assert_eq!(odd, v.iter().filter(|x| *x % 2 == 1).map(|x| x + offset).collect::<Vec<_>>());
    let sums = parallel::scoped_map(|chunk: &[u64]| chunk.iter().sum::<u64>(), v.chunks(1_000)).unwrap();
    assert_eq!(sums.iter().sum::<u64>(), v.iter().sum::<u64>());
    // Owned inputs work too.
    assert_eq!(parallel::scoped_map(|x: u64| x + offset, 0..3u64).unwrap(), vec![7, 8, 9]);
}

#[test]
fn values_may_borrow_the_input() {
    let words: Vec<String> = ["alpha", "beta", "gamma"].map(String::from).to_vec();
    #[allow(clippy::ptr_arg)] // the items of `&Vec<String>` are `&String`
    fn first(word: &String) -> &str {
        &word[..1]
    }
    let firsts: Vec<&str> = parallel::scoped_map(first, &words).unwrap();
    assert_eq!(firsts, ["a", "b", "g"]);
}

#[test]
fn tuples_spread_maps_iterate_and_extras_apply() {
    let pairs = [(1, 2), (3, 4)];
    let sums = parallel::scoped_map(|a: i32, b: i32| a + b, pairs.iter().copied()).unwrap();
    assert_eq!(sums, [3, 7]);
    let prices = BTreeMap::from([("btc", 64_000u32), ("eth", 3_100)]);
    let lines = parallel::scoped_map(|coin: &&str, price: &u32| format!("{coin}: {price}"), &prices).unwrap();
    assert_eq!(lines, ["btc: 64000", "eth: 3100"]);
    let v = vec![1u64, 2];
    let shifted = parallel::thread().extras(100u64).scoped_map(|x: &u64, by: &u64| x + by, &v).unwrap();
    assert_eq!(shifted, [101, 102]);
}

#[test]
fn try_map_fails_on_err() {
    let words = vec!["1", "x", "3"];
    let err = parallel::scoped_try_map(|s: &&str| s.parse::<u8>(), &words).unwrap_err();
    let Error::Task(failed) = err else { panic!("expected a task failure") };
    assert_eq!((failed.index(), failed.params(), failed.kind()), (1, "\"x\"", &FailureKind::Error));
    let results = parallel::thread().silent().scoped_try_map(|s: &&str| s.parse::<u8>(), &words);
    assert_eq!(results.into_options(), vec![Some(1), None, Some(3)]);
}

#[test]
fn a_panicking_task_in_strict_mode_waits_for_the_running_ones() {
    quiet_panics();
    let marks = Marks::new(8);
    let tasks: Vec<usize> = (0..8).collect();
    let err = parallel::thread()
        .max_workers(4)
        .scoped_map(
            |i: &usize| {
                if *i == 0 {
                    // Fails once another task runs (bounded: a loaded box may be slow to start it).
                    let give_up = Instant::now() + Duration::from_secs(5);
                    while marks.snapshot().0.iter().sum::<usize>() == 0 && Instant::now() < give_up {
                        sleep(Duration::from_millis(1));
                    }
                    panic!("task zero panics");
                }
                marks.nap(*i, 100)
            },
            &tasks,
        )
        .unwrap_err();
    let Error::Task(failed) = err else { panic!("expected a task failure") };
    assert_eq!((failed.index(), failed.params(), failed.kind()), (0, "0", &FailureKind::Panicked));
    assert_eq!(failed.message(), "task zero panics");
    let (started, _) = marks.settled();
    assert!(started.iter().sum::<usize>() > 0, "no task ran beside the failing one");
}

#[test]
fn a_panicking_task_in_silent_mode_fails_alone() {
    quiet_panics();
    let marks = Marks::new(6);
    let tasks: Vec<usize> = (0..6).collect();
    let results = parallel::thread().max_workers(3).silent().scoped_map(
        |i: &usize| {
            if *i % 3 == 1 {
                panic!("task {i} panics");
            }
            marks.nap(*i, 20)
        },
        &tasks,
    );
    assert_eq!(results.into_options(), vec![Some(0), None, Some(2), Some(3), None, Some(5)]);
    let (started, _) = marks.settled();
    assert_eq!(started, [1, 0, 1, 1, 0, 1]);
}

#[test]
fn a_timeout_returns_only_after_the_running_tasks_end() {
    let marks = Marks::new(8);
    let tasks: Vec<usize> = (0..8).collect();
    let err = parallel::thread()
        .max_workers(2)
        .timeout(Duration::from_millis(100))
        .scoped_map(|i: &usize| marks.nap(*i, 400), &tasks)
        .unwrap_err();
    assert!(matches!(err, Error::Timeout { .. }), "{err:?}");
    let (started, ended) = marks.settled();
    assert!(started.iter().sum::<usize>() < 8, "every task started: the deadline did not stop the call");
    assert_eq!(started, ended);
}

#[test]
fn a_silent_timeout_keeps_the_tasks_finished_in_time() {
    let marks = Marks::new(6);
    let naps = [0u64, 0, 600, 600, 600, 600];
    let results = parallel::thread()
        .max_workers(3)
        .timeout(Duration::from_millis(150))
        .silent()
        .scoped_map(|i: usize, ms: u64| marks.nap(i, ms), naps.iter().copied().enumerate());
    assert_eq!((results[0].clone(), results[1].clone()), (Ok(0), Ok(1)));
    for failed in results.failed() {
        assert_eq!(*failed.kind(), FailureKind::TimedOut, "{failed}");
    }
    assert_eq!(results.failed().len(), 4);
    marks.settled();
}

#[test]
fn a_task_timeout_reports_the_late_task_and_waits_for_it() {
    let marks = Marks::new(4);
    let naps = [0u64, 500, 0, 0];
    let results = parallel::thread()
        .task_timeout(Duration::from_millis(100))
        .silent()
        .scoped_map(|i: usize, ms: u64| marks.nap(i, ms), naps.iter().copied().enumerate());
    assert_eq!(results.succeeded(), [&0, &2, &3]);
    assert_eq!(*results[1].as_ref().unwrap_err().kind(), FailureKind::TimedOut);
    // The late task ran to its end before the call returned.
    let (started, ended) = marks.settled();
    assert_eq!((started, ended), (vec![1; 4], vec![1; 4]));
}

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

/// Runs a borrowed act; counts the run in `ran`.
fn run(act: &Act, ran: &AtomicUsize) -> Result<u32, String> {
    ran.fetch_add(1, Ordering::SeqCst);
    match *act {
        Act::Value(v) => Ok(v),
        Act::Fail(v) => Err(format!("failed with {v}")),
        Act::Panic => panic!("a task panics"),
        Act::Nap(ms) => {
            sleep(Duration::from_millis(u64::from(ms)));
            Ok(u32::from(ms))
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Both modes, with and without (never-passing) timeouts: the sequential reference.
    #[test]
    fn results_match_a_sequential_run(
        entries in prop::collection::vec((any::<u16>(), act()), 0..200),
        workers in 1usize..9,
        silent in any::<bool>(),
        tracked in any::<bool>(),
    ) {
        quiet_panics();
        let (acts, tasks) = sequence(&entries);
        let ran = AtomicUsize::new(0);
        let mut executor = parallel::thread().max_workers(workers);
        if tracked {
            executor = executor.timeout(Duration::from_secs(60)).task_timeout(Duration::from_secs(60));
        }
        if silent {
            let results = executor.silent().scoped_try_map(|a: &Act| run(a, &ran), &acts);
            check_silent(results.iter(), &tasks)?;
            prop_assert_eq!(ran.load(Ordering::SeqCst), acts.len());
        } else {
            check_strict(executor.scoped_try_map(|a: &Act| run(a, &ran), &acts), |values| values, &tasks)?;
        }
    }
}

#[test]
fn mutable_slices_change_in_place() {
    let mut v: Vec<u64> = (0..1_000).collect();
    let step = 3;
    let old = parallel::scoped_map(|x: &mut u64| std::mem::replace(x, *x * step), &mut v).unwrap();
    assert_eq!(old, (0..1_000).collect::<Vec<_>>());
    assert_eq!(v, (0..1_000).map(|x| x * step).collect::<Vec<_>>());
    parallel::scoped_map(|chunk: &mut [u64]| chunk.fill(1), v.chunks_mut(100)).unwrap();
    assert!(v.iter().all(|x| *x == 1));
}
