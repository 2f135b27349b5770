//! `par`: different functions at once — a tuple of closures or tasks gives a tuple of results
//! of different types; a `HashMap`, `BTreeMap` or `Vec` of tasks gives the same shape back;
//! failures report their key or index.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread::sleep;
use std::time::{Duration, Instant};

use parallel::prelude::*;
use parallel::{FailureKind, Task};

fn price(exchange: &str) -> f64 {
    match exchange {
        "bitstamp" => 64_000.0,
        "bitfinex" => 3_100.0,
        other => panic!("unknown exchange {other}"),
    }
}

fn add(x: i32, y: i32) -> i32 {
    x + y
}

#[test]
fn positional_results_keep_their_types() {
    let (n, s, v, o, t) =
        parallel::par((|| 40 + 2, || "two", || vec![1.5, 2.5], || Some('x'), || ("a".to_owned(), 1u8))).unwrap();
    assert_eq!(n, 42);
    assert_eq!(s, "two");
    assert_eq!(v, vec![1.5, 2.5]);
    assert_eq!(o, Some('x'));
    assert_eq!(t, ("a".to_owned(), 1));
}

#[test]
fn one_to_eight_positional_tasks() {
    assert_eq!(parallel::par((|| 1,)).unwrap(), (1,));
    assert_eq!(parallel::par((|| 1, || 2u8)).unwrap(), (1, 2));
    assert_eq!(parallel::par((|| 1, || 2, || 3)).unwrap(), (1, 2, 3));
    assert_eq!(parallel::par((|| 1, || 2, || 3, || 4)).unwrap(), (1, 2, 3, 4));
    assert_eq!(parallel::par((|| 1, || 2, || 3, || 4, || 5)).unwrap(), (1, 2, 3, 4, 5));
    assert_eq!(parallel::par((|| 1, || 2, || 3, || 4, || 5, || 6)).unwrap(), (1, 2, 3, 4, 5, 6));
    assert_eq!(parallel::par((|| 1, || 2, || 3, || 4, || 5, || 6, || 7)).unwrap(), (1, 2, 3, 4, 5, 6, 7));
    let eight = parallel::par((|| 1, || '2', || "3", || 4u64, || 5.0, || [6], || (7,), || String::from("8"))).unwrap();
    assert_eq!(eight, (1, '2', "3", 4, 5.0, [6], (7,), "8".to_owned()));
}

#[test]
fn closures_tasks_and_futures_mix() {
    let owned = String::from("moved in");
    let (a, b, c, d) =
        parallel::par((move || owned.len(), parallel::task(|| "task"), price.future("bitstamp"), add.future((2, 3))))
            .unwrap();
    assert_eq!((a, b, c, d), (8, "task", 64_000.0, 5));
}

#[test]
fn the_tasks_run_at_the_same_time() {
    // Each task waits until all three have started: only possible if they run at once.
    let started = Arc::new(AtomicUsize::new(0));
    let meet = |started: Arc<AtomicUsize>| {
        move || {
            started.fetch_add(1, Ordering::SeqCst);
            let deadline = Instant::now() + Duration::from_secs(10);
            while started.load(Ordering::SeqCst) < 3 && Instant::now() < deadline {
                sleep(Duration::from_millis(1));
            }
            started.load(Ordering::SeqCst)
        }
    };
    let out = parallel::par((meet(started.clone()), meet(started.clone()), meet(started.clone()))).unwrap();
    assert_eq!(out, (3, 3, 3));
}

#[test]
fn named_hash_map_of_futures() {
    let prices =
        parallel::par(HashMap::from([("btc", price.future("bitstamp")), ("eth", price.future("bitfinex"))])).unwrap();
    assert_eq!(prices.len(), 2);
    assert_eq!(prices["btc"], 64_000.0);
    assert_eq!(prices["eth"], 3_100.0);
}

#[test]
fn named_btree_map_of_tasks() {
    let tasks: BTreeMap<&str, Task<String>> = BTreeMap::from([
        ("upper", parallel::task(|| "abc".to_uppercase())),
        ("repeat", parallel::task(|| "ab".repeat(3))),
    ]);
    let out = parallel::par(tasks).unwrap();
    assert_eq!(out, BTreeMap::from([("repeat", "ababab".to_owned()), ("upper", "ABC".to_owned())]));
}

#[test]
fn vec_of_tasks_in_order() {
    let tasks: Vec<Task<i32>> = (0..20)
        .map(|i| {
            parallel::task(move || {
                // Earlier tasks finish later.
                sleep(Duration::from_millis(40 - 2 * i as u64));
                i * i
            })
        })
        .collect();
    assert_eq!(parallel::par(tasks).unwrap(), (0..20).map(|i| i * i).collect::<Vec<_>>());
}

#[test]
fn a_failed_named_task_reports_its_key_and_parameters() {
    let err = parallel::par(HashMap::from([("btc", price.future("bitstamp")), ("doge", price.future("nowhere"))]))
        .unwrap_err();
    let parallel::Error::Task(failed) = &err else { panic!("expected a task failure, got {err:?}") };
    assert_eq!(failed.key(), Some("\"doge\""));
    assert_eq!(failed.params(), "\"nowhere\"");
    assert_eq!(*failed.kind(), FailureKind::Panicked);
    assert_eq!(failed.message(), "unknown exchange nowhere");
    assert_eq!(err.to_string(), "task \"doge\" with parameters \"nowhere\" panicked: unknown exchange nowhere");
}

#[test]
fn a_failed_positional_or_vec_task_reports_its_index() {
    let err = parallel::par((|| 1, || -> i32 { panic!("second") }, || 3)).unwrap_err();
    let parallel::Error::Task(failed) = err else { panic!("expected a task failure") };
    assert_eq!(failed.index(), 1);
    assert_eq!(failed.key(), None);
    assert_eq!(failed.message(), "second");

    let tasks = vec![add.future((1, 2)), add.future((i32::MAX, 1)), add.future((3, 4))];
    let err = parallel::par(tasks).unwrap_err();
    let parallel::Error::Task(failed) = err else { panic!("expected a task failure") };
    assert_eq!(failed.index(), 1);
    assert_eq!(failed.params(), "(2147483647, 1)");
}

#[test]
fn silent_positional_par_gives_a_tuple_of_results() {
    let (a, b, c) = parallel::thread().silent().par((|| 1u8, || -> &str { panic!("middle failed") }, || vec!['c']));
    assert_eq!(a, Ok(1));
    let failed = b.unwrap_err();
    assert_eq!(failed.index(), 1);
    assert_eq!(*failed.kind(), FailureKind::Panicked);
    assert_eq!(failed.message(), "middle failed");
    assert_eq!(c, Ok(vec!['c']));
}

#[test]
fn silent_named_par_gives_results_by_key() {
    let results = parallel::thread()
        .silent()
        .par(HashMap::from([("btc", price.future("bitstamp")), ("doge", price.future("nowhere"))]));
    assert_eq!(results.get(&"btc"), Some(&Ok(64_000.0)));
    let failed = results.get(&"doge").unwrap().as_ref().unwrap_err();
    assert_eq!(failed.key(), Some("\"doge\""));
    assert_eq!(failed.params(), "\"nowhere\"");
    assert_eq!(results.replace_failed(0.0), HashMap::from([("btc", 64_000.0), ("doge", 0.0)]));
}

#[test]
fn par_with_one_worker_still_runs_everything() {
    let ran = Arc::new(AtomicUsize::new(0));
    let tasks: Vec<Task<usize>> = (0..10)
        .map(|i| {
            let ran = ran.clone();
            parallel::task(move || {
                ran.fetch_add(1, Ordering::SeqCst);
                i
            })
        })
        .collect();
    assert_eq!(parallel::thread().max_workers(1).par(tasks).unwrap(), (0..10).collect::<Vec<_>>());
    assert_eq!(ran.load(Ordering::SeqCst), 10);
}

#[test]
fn a_task_runs_once_and_can_run_inline() {
    assert_eq!(parallel::task(|| 2 + 2).run(), 4);
    assert_eq!(add.future((20, 22)).run(), 42);
}
