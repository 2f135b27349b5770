//! `as_completed` as an iterator: completion order, keys, every task's outcome whatever the
//! mode (failures, timeouts, cancels, crashes), a lazy input read only as workers take it,
//! and a drop that cancels.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread::sleep;
use std::time::{Duration, Instant};

use parallel::FailureKind;

fn nap(ms: u64) -> u64 {
    sleep(Duration::from_millis(ms));
    ms
}

#[test]
fn outcomes_come_in_completion_order_with_their_index() {
    let order: Vec<(usize, u64)> = parallel::thread()
        .max_workers(3)
        .as_completed(nap, vec![300, 100, 200])
        .map(|(i, o)| (i, o.unwrap()))
        .collect();
    assert_eq!(order, vec![(1, 100), (2, 200), (0, 300)]);
    let order: Vec<usize> =
        parallel::process().max_workers(3).as_completed(nap, vec![300, 100, 200]).map(|(i, _)| i).collect();
    assert_eq!(order, vec![1, 2, 0]);
}

#[test]
fn a_map_input_gives_its_keys_and_failures_name_them() {
    crate::quiet_panics();
    let input = BTreeMap::from([("a", 1), ("b", 0), ("c", 4)]);
    let mut got: Vec<(&str, Result<i32, String>)> = parallel::thread()
        .as_completed(crate::inverse, input)
        .map(|(key, o)| (key, o.map_err(|f| f.key().unwrap_or("none").to_owned())))
        .collect();
    got.sort();
    assert_eq!(got, vec![("a", Ok(100)), ("b", Err("\"b\"".to_owned())), ("c", Ok(25))]);
}

#[test]
fn every_task_gets_an_item_in_strict_mode_too() {
    crate::quiet_panics();
    let strict = parallel::thread().max_workers(2);
    let mut failed: Vec<(usize, FailureKind)> = Vec::new();
    let mut ok = 0;
    for (index, outcome) in strict.as_completed(crate::inverse, (-50..50).collect::<Vec<i32>>()) {
        match outcome {
            Ok(_) => ok += 1,
            Err(f) => failed.push((index, f.kind().clone())),
        }
    }
    assert_eq!((ok, failed), (99, vec![(50, FailureKind::Panicked)]));
    let parsed: Vec<_> = parallel::thread().try_as_completed(|s: &str| s.parse::<u8>(), ["1", "x"]).collect();
    assert_eq!(parsed.len(), 2);
    assert_eq!(parsed.iter().filter(|(_, o)| o.is_err()).count(), 1);
}

#[test]
fn a_timeout_fails_the_unfinished_tasks_as_items() {
    for executor in [
        parallel::thread().timeout(Duration::from_millis(200)),
        parallel::thread().task_timeout(Duration::from_millis(200)),
    ] {
        let mut items: Vec<(usize, Result<u64, FailureKind>)> =
            executor.as_completed(nap, vec![0, 20_000, 1]).map(|(i, o)| (i, o.map_err(|f| f.kind().clone()))).collect();
        items.sort_by_key(|(i, _)| *i);
        assert_eq!(items, vec![(0, Ok(0)), (1, Err(FailureKind::TimedOut)), (2, Ok(1))]);
    }
    let started = Instant::now();
    let items: Vec<_> =
        parallel::process().timeout(Duration::from_millis(300)).as_completed(nap, vec![20_000, 0]).collect();
    assert_eq!(items.len(), 2);
    assert!(started.elapsed() < Duration::from_secs(15), "hang guard: the worker past the deadline is killed");
}

#[test]
fn a_crashing_task_is_an_item_of_its_own() {
    let mut items: Vec<(usize, Result<u32, String>)> = parallel::process()
        .max_workers(2)
        .as_completed(crate::crash_on_one, vec![0, 1, 2, 3])
        .map(|(i, o)| (i, o.map_err(|f| format!("{:?}", f.kind()))))
        .collect();
    items.sort();
    assert_eq!(items.len(), 4);
    assert!(items[1].1.as_ref().is_err_and(|kind| kind.starts_with("Crashed")), "{items:?}");
    assert_eq!([&items[0].1, &items[2].1, &items[3].1], [&Ok(0), &Ok(2), &Ok(3)]);
}

#[test]
fn cancel_hands_out_the_tasks_not_started_as_cancelled() {
    let outcomes = parallel::thread().max_workers(1).as_completed(nap, vec![30; 40]);
    outcomes.cancel();
    let items: Vec<_> = outcomes.collect();
    assert_eq!(items.len(), 40, "every task gets its item");
    let cancelled =
        items.iter().filter(|(_, o)| o.as_ref().is_err_and(|f| *f.kind() == FailureKind::Cancelled)).count();
    assert!(cancelled >= 38, "at most the running task finishes: {cancelled} cancelled");
}

#[test]
fn dropping_it_midway_cancels_the_call() {
    let started = Arc::new(AtomicUsize::new(0));
    let counter = started.clone();
    let mut outcomes = parallel::thread().max_workers(2).as_completed(
        move |ms: u64| {
            counter.fetch_add(1, Ordering::SeqCst);
            nap(ms)
        },
        vec![20; 200],
    );
    assert!(outcomes.next().is_some() && outcomes.next().is_some());
    drop(outcomes);
    let now = started.load(Ordering::SeqCst);
    sleep(Duration::from_millis(300));
    let later = started.load(Ordering::SeqCst);
    // A worker past its look at the stop when the drop came may still start its task: one each.
    assert!(later <= now + 2, "no task starts after the drop: {now}, then {later}");
    assert!(later < 200, "{later} tasks started");
}

#[test]
fn a_lazy_input_is_read_as_workers_take_its_tasks() {
    let pulled = Arc::new(AtomicUsize::new(0));
    let counter = pulled.clone();
    let mut n = 0u64;
    let lazy = std::iter::from_fn(move || {
        counter.fetch_add(1, Ordering::SeqCst);
        n += 1;
        (n <= 10_000).then_some(n)
    });
    let mut outcomes = parallel::thread().max_workers(2).as_completed(|x: u64| nap(x % 2 + 5), lazy);
    for _ in 0..5 {
        assert!(outcomes.next().is_some_and(|(_, o)| o.is_ok()));
    }
    let read = pulled.load(Ordering::SeqCst);
    assert!(read < 1_000, "{read} of 10,000 inputs read for 5 outcomes");
    drop(outcomes);
}

#[test]
fn an_empty_input_ends_at_once() {
    assert_eq!(parallel::as_completed(|x: u8| x, Vec::new()).count(), 0);
    assert_eq!(parallel::process().as_completed(crate::crash_on_one, Vec::<u32>::new()).count(), 0);
}
