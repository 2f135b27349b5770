//! Choosing an executor and its options — the README's "Choosing an executor".
//!
//! Python picks the executor by attribute (`parallel.thread.map`) or by parameter
//! (`executor=parallel.THREAD_EXECUTOR`) and passes options as keyword arguments. In Rust both
//! are one thing: `parallel::thread()` *is* the executor, a value configured fluently
//! (`.max_workers(5).timeout(..)`) and then called — directly, or stored and passed around.
//!
//! Only the thread executor exists today. A process executor (`parallel::process()`, crash-proof:
//! a task that aborts or segfaults kills only its worker) arrives in a later issue, with the
//! same builder methods, so switching will be a one-word change.
//!
//! Run with `cargo run --release --example executor`.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Fake work: 50 ms of "network", then a made-up result.
fn download_and_store(url: &str) -> String {
    std::thread::sleep(Duration::from_millis(50));
    format!("{url} stored")
}

/// Any code can take the executor as a parameter — the Rust form of `executor=...`.
fn store_all(executor: &parallel::Thread, urls: Vec<&'static str>) -> Result<Vec<String>, parallel::Error> {
    executor.map(download_and_store, urls)
}

fn main() -> Result<(), parallel::Error> {
    let urls: Vec<&'static str> = vec!["python.org", "rmotr.com", "crates.io", "docs.rs", "rust-lang.org"];

    // --- The plain function uses the thread executor with default options --------------------
    let plain = parallel::map(download_and_store, urls.clone())?;
    // ... the same as asking for the thread executor explicitly (the "attribute" form):
    let explicit = parallel::thread().map(download_and_store, urls.clone())?;
    assert_eq!(plain, explicit);
    println!(
        "default options        -> max_workers = min(32, cores + 4) = {}, no timeout, strict",
        parallel::default_thread_workers()
    );
    assert!((5..=32).contains(&parallel::default_thread_workers()));

    // --- Options, like concurrent.futures: timeout=10, max_workers=5 ------------------------
    let executor = parallel::thread().max_workers(5).timeout(Duration::from_secs(10));
    let ten_urls: Vec<&'static str> = urls.iter().chain(&urls).copied().collect();
    let started = Instant::now();
    let results = store_all(&executor, ten_urls)?; // "parameter" form: the executor is passed in
    let took = started.elapsed();
    println!("max_workers(5), 10x50ms -> {} results in {took:.0?} (two waves of five)", results.len());
    assert_eq!(results.len(), 10);
    assert_eq!(results[6], "rmotr.com stored");
    assert!(took >= Duration::from_millis(100), "more than 5 tasks ran at once: {took:?}");

    // An executor is reusable (and `Clone`): the options stay, each call gets its own workers.
    let again = store_all(&executor, urls.clone())?;
    assert_eq!(again, plain);

    // --- max_workers bounds how many tasks run at once ---------------------------------------
    let running = Arc::new(AtomicUsize::new(0));
    let peak = Arc::new(AtomicUsize::new(0));
    let (r, p) = (running.clone(), peak.clone());
    let track = move |_: u32| {
        let now = r.fetch_add(1, Ordering::SeqCst) + 1;
        p.fetch_max(now, Ordering::SeqCst);
        std::thread::sleep(Duration::from_millis(10));
        r.fetch_sub(1, Ordering::SeqCst);
    };
    parallel::thread().max_workers(3).map(track, 0..24)?;
    println!("max_workers(3)         -> at most {} tasks ran at once", peak.load(Ordering::SeqCst));
    assert!(peak.load(Ordering::SeqCst) <= 3);

    // --- timeout: a deadline for the whole call ----------------------------------------------
    let slow = |ms: u64| std::thread::sleep(Duration::from_millis(ms));
    let started = Instant::now();
    let err = parallel::thread().timeout(Duration::from_millis(100)).map(slow, vec![10, 3_000]).unwrap_err();
    let took = started.elapsed();
    println!("timeout(100ms)         -> after {took:.0?}: {err}");
    assert!(matches!(err, parallel::Error::Timeout { finished: 1, .. }));
    assert!(took < Duration::from_secs(2), "the call did not return at its deadline: {took:?}");

    // --- task_timeout: a limit per task; the others go on ------------------------------------
    let results = parallel::thread().task_timeout(Duration::from_millis(100)).silent().map(slow, vec![10, 3_000, 20]);
    let failed = results.failed();
    println!(
        "task_timeout(100ms)    -> {} ok, task {} {}",
        results.succeeded().len(),
        failed[0].index(),
        failed[0].kind()
    );
    assert_eq!(results.succeeded().len(), 2);
    assert_eq!(failed.len(), 1);
    assert_eq!(*failed[0].kind(), parallel::FailureKind::TimedOut);
    Ok(())
}
