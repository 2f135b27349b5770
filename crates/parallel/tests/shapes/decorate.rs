//! The prelude "decorates" every function and closure: `.map`, `.try_map`, `.async_map`,
//! `.thread()` with every option then a call, and `.future(args)` for `par` — while the
//! function stays callable as before.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread::sleep;
use std::time::Duration;

use parallel::prelude::*;
use parallel::{Error, FailureKind};

fn download_and_store(url: &str) -> usize {
    url.len()
}

fn add(x: i32, y: i32) -> i32 {
    x + y
}

fn parse(s: &str) -> Result<u8, std::num::ParseIntError> {
    s.parse()
}

#[test]
fn map_on_a_function_and_it_stays_a_function() {
    assert_eq!(download_and_store.map(vec!["python.org", "rmotr.com"]).unwrap(), vec![10, 9]);
    assert_eq!(download_and_store("python.org"), 10);
    assert_eq!(add.map(vec![(1, 2), (3, 4)]).unwrap(), vec![3, 7]);
    assert_eq!(add(1, 2), 3);
}

#[test]
fn map_on_closures_and_keyed_inputs() {
    let double = |x: u8| x * 2;
    assert_eq!(double.map(1..4).unwrap(), vec![2, 4, 6]);
    assert_eq!(double(21), 42);
    let named = download_and_store.map(HashMap::from([("py", "python.org")])).unwrap();
    assert_eq!(named["py"], 10);
}

#[test]
fn try_map_and_async_map() {
    assert_eq!(parse.try_map(["4", "2"]).unwrap(), vec![4, 2]);
    let err = parse.try_map(["4", "x"]).unwrap_err();
    assert!(matches!(&err, Error::Task(f) if f.index() == 1 && *f.kind() == FailureKind::Error), "{err:?}");
    assert_eq!(add.async_map(vec![(5, 5)]).wait().unwrap(), vec![10]);
}

#[test]
fn every_option_through_thread() {
    let in_flight = Arc::new(AtomicUsize::new(0));
    let max = Arc::new(AtomicUsize::new(0));
    let (i, m) = (in_flight.clone(), max.clone());
    let square = move |x: u64| {
        let now = i.fetch_add(1, Ordering::SeqCst) + 1;
        m.fetch_max(now, Ordering::SeqCst);
        sleep(Duration::from_millis(2));
        i.fetch_sub(1, Ordering::SeqCst);
        x * x
    };
    let out = square
        .clone()
        .thread()
        .max_workers(3)
        .timeout(Duration::from_secs(30))
        .task_timeout(Duration::from_secs(20))
        .map(1..=30)
        .unwrap();
    assert_eq!(out, (1..=30).map(|x| x * x).collect::<Vec<_>>());
    assert!(max.load(Ordering::SeqCst) <= 3, "max_workers(3) through the prelude");
    assert_eq!(square(9), 81, "the closure is still callable");
}

#[test]
fn silent_and_extras_through_thread() {
    struct Table(&'static str);
    fn store(url: &str, table: &Table) -> String {
        format!("{url} -> {}", table.0)
    }
    let out = store.thread().extras(Table("webpages")).silent().map(vec!["python.org"]);
    assert_eq!(out[0], Ok("python.org -> webpages".to_owned()));
    // Either order.
    let out = store.thread().silent().max_workers(5).extras(Table("t")).map(vec!["a", "b"]);
    assert_eq!(out.replace_failed(String::new()), vec!["a -> t", "b -> t"]);

    let results = (|x: i32| 10 / x).thread().silent().map(vec![2, 0]);
    assert_eq!(results[0], Ok(5));
    assert_eq!(*results[1].as_ref().unwrap_err().kind(), FailureKind::Panicked);
}

#[test]
fn try_map_and_async_map_through_thread() {
    let results = parse.thread().silent().try_map(["1", "300"]);
    assert_eq!(results[0], Ok(1));
    assert_eq!(results[1].as_ref().unwrap_err().message(), "number too large to fit in target type");

    let handle = add.thread().max_workers(2).async_map(vec![(1, 1), (2, 2)]);
    assert_eq!(handle.wait().unwrap(), vec![2, 4]);

    let handle = download_and_store.thread().silent().timeout(Duration::from_secs(30)).async_map(vec!["x"]);
    assert_eq!(handle.wait().replace_failed(0), vec![1]);
}

#[test]
fn timeouts_through_thread() {
    let slow = |ms: u64| {
        sleep(Duration::from_millis(ms));
        ms
    };
    let err = slow.thread().timeout(Duration::from_millis(500)).map(vec![0, 5_000]).unwrap_err();
    assert!(matches!(err, Error::Timeout { finished: 1, .. }), "{err:?}");
    let results = slow.thread().silent().task_timeout(Duration::from_millis(300)).map(vec![1, 5_000, 2]);
    assert_eq!(results.succeeded(), vec![&1, &2]);
}

#[test]
fn future_makes_tasks_for_par() {
    fn price(exchange: &str) -> u32 {
        exchange.len() as u32
    }
    let (a, b) = parallel::par((price.future("bitstamp"), price.future("kraken"))).unwrap();
    assert_eq!((a, b), (8, 6));
    let sums = parallel::par(vec![add.future((1, 2)), add.future((3, 4))]).unwrap();
    assert_eq!(sums, vec![3, 7]);
    let none = (|| "no arguments").future(());
    assert_eq!(parallel::par((none,)).unwrap(), ("no arguments",));
    assert_eq!(price("x"), 1, "still a function");
}

#[test]
fn a_future_reports_its_arguments_when_it_fails() {
    fn divide(a: i32, b: i32) -> i32 {
        a / b
    }
    let err =
        parallel::par(HashMap::from([("ok", divide.future((4, 2))), ("bad", divide.future((1, 0)))])).unwrap_err();
    let Error::Task(failed) = err else { panic!("expected a task failure") };
    assert_eq!(failed.key(), Some("\"bad\""));
    assert_eq!(failed.params(), "(1, 0)");
}

fn square(x: u64) -> u64 {
    x * x
}

fn risky(x: i32) -> i32 {
    match x {
        0 => panic!("zero"),
        1 => std::process::abort(),
        _ => x,
    }
}

#[test]
fn process_runs_the_function_in_worker_processes() {
    assert_eq!(square.process().map(0..5).unwrap(), vec![0, 1, 4, 9, 16]);
    // A task that aborts its worker fails alone: the tasks ran in other processes.
    let results = risky.process().max_workers(2).silent().map(vec![2, 0, 1, 3]);
    assert_eq!(results[0], Ok(2));
    assert_eq!(*results[1].as_ref().unwrap_err().kind(), FailureKind::Panicked);
    assert!(matches!(results[2].as_ref().unwrap_err().kind(), FailureKind::Crashed { signal: Some(6), .. }));
    assert_eq!(results[3], Ok(3));
    assert_eq!(square(3), 9, "still a function");
}

#[test]
fn every_option_through_process() {
    fn add(x: u32, y: u32, offset: &u32) -> u32 {
        x + y + offset
    }
    // Options in any order, extras before or after the others.
    let out = add
        .process()
        .max_workers(2)
        .extras(100u32)
        .timeout(Duration::from_secs(30))
        .task_timeout(Duration::from_secs(20))
        .memory_limit(1 << 30)
        .map(vec![(1, 2), (3, 4)])
        .unwrap();
    assert_eq!(out, vec![103, 107]);
    let out = add.process().extras(1u32).silent().max_workers(1).map(vec![(1, 1)]);
    assert_eq!(out.replace_failed(0), vec![3]);

    let hang = |ms: u64| {
        sleep(Duration::from_millis(ms));
        ms
    };
    let results = hang.process().silent().task_timeout(Duration::from_millis(300)).map(vec![1, 60_000, 2]);
    assert_eq!(results.succeeded(), vec![&1, &2]);
    assert_eq!(*results[1].as_ref().unwrap_err().kind(), FailureKind::TimedOut);
}

#[test]
fn try_map_and_async_map_through_process() {
    let parse = |s: String| s.parse::<u8>();
    let results = parse.process().silent().try_map(vec!["1".to_owned(), "300".to_owned()]);
    assert_eq!(results[0], Ok(1));
    assert_eq!(results[1].as_ref().unwrap_err().message(), "number too large to fit in target type");
    let err = parse.process().try_map(vec!["x".to_owned()]).unwrap_err();
    assert!(matches!(&err, Error::Task(f) if *f.kind() == FailureKind::Error), "{err:?}");

    let handle = square.process().max_workers(2).async_map(vec![2, 3]);
    assert_eq!(handle.wait().unwrap(), vec![4, 9]);
    let handle = risky.process().silent().async_map(vec![0, 5]);
    assert_eq!(handle.wait().replace_failed(-1), vec![-1, 5]);
}
