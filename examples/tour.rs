//! A guided tour of `parallel`, the first thing `make demo` runs: every feature in a line or
//! two, each one checked. The other examples go deeper, one README section each (`map`, `par`,
//! `executor`, `decorate`, `parameters`, `errors`, `async`).
//!
//! Run with `cargo run --release --example tour`.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use parallel::prelude::*;
use parallel::FailureKind;

/// Fake download: sleeps as long as the "site" is slow, then returns a made-up result.
fn download(url: &str) -> String {
    let ms = match url {
        "python.org" => 90,
        "rmotr.com" => 60,
        "crates.io" => 30,
        _ => 10,
    };
    std::thread::sleep(Duration::from_millis(ms));
    format!("{url}: 200 OK")
}

fn add(x: i32, y: i32) -> i32 {
    x + y
}

fn price(coin: &str) -> f64 {
    std::thread::sleep(Duration::from_millis(40));
    match coin {
        "btc" => 64_210.5,
        "eth" => 3_105.25,
        _ => 0.52,
    }
}

/// Shared settings every task receives by reference: the call's *extras*.
struct Db {
    table: &'static str,
}

fn store(url: &str, db: &Db) -> String {
    format!("{url} -> {}", db.table)
}

/// Prints a numbered heading.
fn step(n: u32, title: &str) {
    println!("{n:>2}. {title}");
}

/// Prints a result line under a heading.
fn show(line: impl AsRef<str>) {
    println!("      {}", line.as_ref());
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let tour = Instant::now();
    println!("A tour of parallel: run code in parallel, transparently.\n");

    step(1, "map: one function over many inputs, results in input order");
    let started = Instant::now();
    let pages = parallel::map(download, vec!["python.org", "rmotr.com", "crates.io"])?;
    let took = started.elapsed();
    show(format!("{pages:?}"));
    show(format!(
        "{took:.0?} — the slowest site (90 ms), not the sum (180 ms); python.org finished last but comes first"
    ));
    assert_eq!(pages, ["python.org: 200 OK", "rmotr.com: 200 OK", "crates.io: 200 OK"]);

    step(2, "keyed: a map in, the same map out");
    let sites = HashMap::from([("python", "python.org"), ("rust", "crates.io")]);
    let named = parallel::map(download, sites)?;
    show(format!("named[\"rust\"] = {:?}", named["rust"]));
    assert_eq!(named["python"], "python.org: 200 OK");
    assert_eq!(named["rust"], "crates.io: 200 OK");

    step(3, "tuples spread into arguments: (2, 3) calls add(2, 3)");
    let sums = parallel::map(add, vec![(2, 3), (40, 2), (-1, 1)])?;
    show(format!("{sums:?}"));
    assert_eq!(sums, [5, 42, 0]);

    step(4, "extras: one value for the whole call, passed by reference as the last argument");
    let stored =
        parallel::thread().extras(Db { table: "temporary_webpages" }).map(store, ["python.org", "rmotr.com"])?;
    show(format!("{stored:?}"));
    assert_eq!(stored, ["python.org -> temporary_webpages", "rmotr.com -> temporary_webpages"]);

    step(5, "par: different functions at once — positional (a tuple) or named (a map)");
    let (btc, sum, page) = parallel::par((|| price("btc"), || add(1, 2), || download("crates.io")))?;
    show(format!("({btc}, {sum}, {page:?}) — three types, one call"));
    assert_eq!((btc, sum, page.as_str()), (64_210.5, 3, "crates.io: 200 OK"));
    let prices = parallel::par(BTreeMap::from([
        ("btc", price.future("btc")), // `.future(args)` comes with the prelude
        ("eth", parallel::task(|| price("eth"))),
    ]))?;
    show(format!("{prices:?}"));
    assert_eq!(prices["eth"], 3_105.25);

    step(6, "the prelude: every function gets .map, .thread()..., .future — and stays a function");
    let lens = str::len.thread().max_workers(2).map(["a", "bb", "ccc"])?;
    show(format!("str::len.thread().max_workers(2).map([..]) = {lens:?}; add(2, 2) = {}", add(2, 2)));
    assert_eq!(lens, [1, 2, 3]);

    step(7, "async: a Handle at once — wait, poll, await, or cancel");
    let handle = parallel::async_map(download, vec!["python.org", "rmotr.com"]);
    assert!(!handle.is_finished());
    let pages = handle.wait()?;
    show(format!("async_map(..).wait() = {pages:?}"));
    assert_eq!(pages.len(), 2);
    let ran = Arc::new(AtomicUsize::new(0));
    let counter = ran.clone();
    let count = move |_: u32| {
        counter.fetch_add(1, Ordering::SeqCst);
        std::thread::sleep(Duration::from_millis(20));
    };
    let handle = parallel::thread().max_workers(2).async_map(count, 0..1_000);
    std::thread::sleep(Duration::from_millis(30));
    handle.cancel();
    let outcome = handle.wait();
    let n = ran.load(Ordering::SeqCst);
    show(format!("cancelled after 30 ms: {outcome:?}, {n} of 1000 tasks ran"));
    assert_eq!(outcome, Err(parallel::Error::Cancelled));
    assert!(n < 50, "{n} tasks ran");

    step(8, "silent mode: failures stay in place, the rest are kept");
    let results = parallel::thread().silent().try_map(|s: &str| s.parse::<i32>(), ["5", "five", "7"]);
    let failed = results.failed()[0];
    show(format!("failures() = {}, succeeded() = {:?}", results.failures(), results.succeeded()));
    show(format!("failed()[0]: {failed}"));
    assert!(results.failures());
    assert_eq!((failed.index(), failed.params(), failed.kind()), (1, "\"five\"", &FailureKind::Error));
    let values = results.replace_failed(0);
    show(format!("replace_failed(0) = {values:?}"));
    assert_eq!(values, [5, 0, 7]);
    let err = parallel::try_map(|s: &str| s.parse::<i32>(), ["5", "five"]).unwrap_err();
    show(format!("strict (the default): Err({err})"));

    step(9, "timeout: the call returns on time, even while a task hangs");
    let hang = |ms: u64| {
        std::thread::sleep(Duration::from_millis(ms));
        ms
    };
    let hour = 3_600_000;
    let started = Instant::now();
    let results = parallel::thread().timeout(Duration::from_millis(150)).silent().map(hang, vec![10, hour, 20]);
    let took = started.elapsed();
    show(format!(
        "returned after {took:.0?} with {:?} done; the hung task: {}",
        results.succeeded(),
        results[1].as_ref().unwrap_err().kind()
    ));
    assert!(took < Duration::from_secs(2), "the call did not return at its deadline: {took:?}");
    assert_eq!(results.succeeded(), [&10, &20]);
    assert_eq!(*results[1].as_ref().unwrap_err().kind(), FailureKind::TimedOut);
    let err = parallel::thread().timeout(Duration::from_millis(50)).map(hang, vec![hour]).unwrap_err();
    show(format!("strict: Err({err})"));
    assert!(matches!(err, parallel::Error::Timeout { finished: 0, .. }));

    step(10, "task_timeout: a limit per task; the stuck one fails, the others go on");
    let started = Instant::now();
    let results = parallel::thread().task_timeout(Duration::from_millis(80)).silent().map(hang, vec![hour, 10, 20, 30]);
    let took = started.elapsed();
    show(format!(
        "{:?} succeeded, task 0 {}, in {took:.0?}",
        results.succeeded(),
        results[0].as_ref().unwrap_err().kind()
    ));
    assert_eq!(results.succeeded(), [&10, &20, &30]);
    assert_eq!(*results[0].as_ref().unwrap_err().kind(), FailureKind::TimedOut);

    step(11, "max_workers: at most n tasks at once");
    let running = Arc::new(AtomicUsize::new(0));
    let peak = Arc::new(AtomicUsize::new(0));
    let (r, p) = (running.clone(), peak.clone());
    let track = move |_: u32| {
        p.fetch_max(r.fetch_add(1, Ordering::SeqCst) + 1, Ordering::SeqCst);
        std::thread::sleep(Duration::from_millis(10));
        r.fetch_sub(1, Ordering::SeqCst);
    };
    let started = Instant::now();
    parallel::thread().max_workers(3).map(track, 0..12)?;
    let took = started.elapsed();
    show(format!("12 tasks of 10 ms, max_workers(3): peak {} at once, {took:.0?}", peak.load(Ordering::SeqCst)));
    assert!(peak.load(Ordering::SeqCst) <= 3);
    assert!(took >= Duration::from_millis(40), "more than 3 tasks ran at once: {took:?}");

    println!("\nTour done in {:.0?}; every line above was checked.", tour.elapsed());
    Ok(())
}
