//! Extras: a value every task receives by reference as its function's last argument — shared
//! by all tasks of all calls of a builder, never cloned (it need not be `Clone`), and dropped
//! exactly once.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::sleep;
use std::time::{Duration, Instant};

/// Not `Clone`: counts how many instances are dropped, and records what the tasks did.
struct Db {
    table: &'static str,
    drops: Arc<AtomicUsize>,
    rows: Mutex<Vec<String>>,
}

impl Db {
    fn new(table: &'static str) -> (Self, Arc<AtomicUsize>) {
        let drops = Arc::new(AtomicUsize::new(0));
        (Db { table, drops: drops.clone(), rows: Mutex::default() }, drops)
    }
}

impl Drop for Db {
    fn drop(&mut self) {
        self.drops.fetch_add(1, Ordering::SeqCst);
    }
}

fn store(url: &str, kind: &str, db: &Db) -> String {
    db.rows.lock().unwrap().push(url.to_owned());
    format!("{url} ({kind}) -> {}", db.table)
}

/// Where the extras a task received live.
fn address(db: &Db) -> usize {
    db as *const Db as usize
}

/// Waits (a few seconds at most) until `counter` reaches `value`; returns what it holds.
fn settle(counter: &AtomicUsize, value: usize) -> usize {
    let deadline = Instant::now() + Duration::from_secs(5);
    while counter.load(Ordering::SeqCst) < value && Instant::now() < deadline {
        sleep(Duration::from_millis(1));
    }
    // Give a second, wrong drop a chance to show up.
    sleep(Duration::from_millis(50));
    counter.load(Ordering::SeqCst)
}

#[test]
fn the_function_receives_the_extras_last() {
    let (db, _) = Db::new("temporary_webpages");
    let out = parallel::thread().extras(db).map(store, vec![("python.org", "json"), ("rmotr.com", "xml")]).unwrap();
    assert_eq!(out, vec!["python.org (json) -> temporary_webpages", "rmotr.com (xml) -> temporary_webpages"]);
}

#[test]
fn one_instance_is_shared_by_every_task_and_dropped_once() {
    let (db, drops) = Db::new("shared");
    let executor = parallel::thread().max_workers(8).extras(db);
    let first = executor.map(|i: u32, db: &Db| (i, address(db)), 0..200).unwrap();
    let second = executor.map(|_: u32, db: &Db| address(db), 0..50).unwrap();
    let one = first[0].1;
    assert!(first.iter().all(|&(_, a)| a == one), "every task of a call sees the same instance");
    assert!(second.iter().all(|&a| a == one), "every call of the builder sees the same instance");
    assert_eq!(drops.load(Ordering::SeqCst), 0, "the builder still holds the extras");

    drop(executor);
    assert_eq!(settle(&drops, 1), 1, "exactly one instance dropped");
}

#[test]
fn tasks_see_each_others_changes() {
    let (db, drops) = Db::new("log");
    let executor = parallel::thread().max_workers(4).extras(db);
    let urls: Vec<(String, &str)> = (0..100).map(|i| (format!("site{i}.org"), "html")).collect();
    let out = executor.map(|url: String, kind: &str, db: &Db| store(&url, kind, db), urls).unwrap();
    assert_eq!(out.len(), 100);
    // Every task wrote to the same table: the builder's one instance holds all rows.
    let rows = executor.map(|_: u8, db: &Db| db.rows.lock().unwrap().len(), vec![0]).unwrap();
    assert_eq!(rows, vec![100]);
    drop(executor);
    assert_eq!(settle(&drops, 1), 1);
}

#[test]
fn extras_with_a_one_argument_function_and_with_no_parameters() {
    struct Offset(i64);
    let executor = parallel::thread().extras(Offset(1_000));
    assert_eq!(executor.map(|x: i64, o: &Offset| x + o.0, vec![1, 2]).unwrap(), vec![1_001, 1_002]);
    assert_eq!(executor.map(|o: &Offset| o.0 * 2, vec![(), ()]).unwrap(), vec![2_000, 2_000]);
}

#[test]
fn extras_work_with_try_map_silent_and_async() {
    struct Limit(u32);
    fn check(x: u32, limit: &Limit) -> Result<u32, String> {
        if x <= limit.0 {
            Ok(x)
        } else {
            Err(format!("{x} is over {}", limit.0))
        }
    }
    let strict = parallel::thread().extras(Limit(5));
    assert_eq!(strict.try_map(check, vec![1, 5]).unwrap(), vec![1, 5]);
    let err = strict.try_map(check, vec![1, 9]).unwrap_err();
    assert_eq!(err.to_string(), "task 1 with parameters 9 returned an error: 9 is over 5");

    let silent = parallel::thread().silent().extras(Limit(5));
    let results = silent.try_map(check, vec![3, 7]);
    assert_eq!(results[0], Ok(3));
    assert_eq!(results[1].as_ref().unwrap_err().message(), "7 is over 5");

    let handle = parallel::thread().extras(Limit(2)).async_map(|x: u32, l: &Limit| x.min(l.0), vec![1, 2, 3]);
    assert_eq!(handle.wait().unwrap(), vec![1, 2, 2]);
    let handle = parallel::thread().extras(Limit(2)).async_try_map(check, vec![1, 2, 3]);
    assert!(handle.wait().is_err());
}

#[test]
fn extras_of_an_async_call_are_dropped_once_after_it() {
    let (db, drops) = Db::new("async");
    let handle = parallel::thread().extras(db).async_map(|i: u8, db: &Db| (i, address(db)), vec![1, 2, 3]);
    let out = handle.wait().unwrap();
    assert!(out.iter().all(|&(_, a)| a == out[0].1));
    assert_eq!(settle(&drops, 1), 1);
}

#[test]
fn setting_extras_after_other_options_keeps_them() {
    struct Tag;
    let in_flight = Arc::new(AtomicUsize::new(0));
    let max = Arc::new(AtomicUsize::new(0));
    let (i, m) = (in_flight.clone(), max.clone());
    let task = move |_: u32, _: &Tag| {
        let now = i.fetch_add(1, Ordering::SeqCst) + 1;
        m.fetch_max(now, Ordering::SeqCst);
        sleep(Duration::from_millis(5));
        i.fetch_sub(1, Ordering::SeqCst);
    };
    parallel::thread().max_workers(2).extras(Tag).map(task, 0..40).unwrap();
    assert!(max.load(Ordering::SeqCst) <= 2, "max_workers set before extras still applies");
}
