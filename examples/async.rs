//! The non-blocking versions: `async_map`, `async_try_map` and `async_par` return a `Handle`
//! at once, while the tasks run on the thread pool.
//!
//! A `Handle` can be waited on (`wait`, `wait_timeout`), polled (`is_finished`), cancelled
//! (`cancel`, or simply dropped) — and awaited: it is a `Future`, usable from any async
//! runtime. The last part runs under tokio.
//!
//! Run with `cargo run --release --example async`.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use parallel::FailureKind;

/// Fake work: 100 ms of "network", then a made-up result.
fn download_and_store(url: &str) -> String {
    std::thread::sleep(Duration::from_millis(100));
    format!("{url} stored")
}

fn get_price(coin: &str) -> f64 {
    std::thread::sleep(Duration::from_millis(50));
    match coin {
        "btc" => 64_210.5,
        "eth" => 3_105.25,
        _ => 0.52,
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let urls = vec!["python.org", "rmotr.com", "crates.io"];

    // --- async_map: a Handle at once; wait for the output later --------------------------------
    let started = Instant::now();
    let handle = parallel::async_map(download_and_store, urls.clone());
    let returned_after = started.elapsed();
    assert!(returned_after < Duration::from_millis(50), "async_map blocked for {returned_after:?}");
    assert!(!handle.is_finished());

    // wait_timeout gives up after a while and hands the handle back.
    let handle = match handle.wait_timeout(Duration::from_millis(10)) {
        Ok(_) => panic!("three 100 ms downloads cannot be done in 10 ms"),
        Err(still_running) => still_running,
    };
    println!("async_map              -> returned in {returned_after:.0?}; not done after wait_timeout(10ms)");

    // ... other work here ... then poll, or block.
    while !handle.is_finished() {
        std::thread::sleep(Duration::from_millis(5));
    }
    let results = handle.wait()?; // the same output as the blocking call
    println!("is_finished, then wait -> {results:?} after {:.0?}", started.elapsed());
    assert_eq!(results, ["python.org stored", "rmotr.com stored", "crates.io stored"]);

    // async_try_map and async_par too.
    let parsed = parallel::async_try_map(|s: &str| s.parse::<u16>(), ["8080", "eighty"]);
    let prices = parallel::async_par((|| get_price("btc"), || get_price("eth")));
    assert_eq!(prices.wait()?, (64_210.5, 3_105.25));
    let err = parsed.wait().unwrap_err();
    println!("async_try_map          -> Err: {err}");
    assert_eq!(err.to_string(), r#"task 1 with parameters "eighty" returned an error: invalid digit found in string"#);

    // --- cancel: tasks not yet started never run ----------------------------------------------
    let ran = Arc::new(AtomicUsize::new(0));
    let counter = ran.clone();
    let slow = move |_: u32| {
        counter.fetch_add(1, Ordering::SeqCst);
        std::thread::sleep(Duration::from_millis(20));
    };
    let handle = parallel::thread().max_workers(2).async_map(slow.clone(), 0..100);
    std::thread::sleep(Duration::from_millis(30));
    handle.cancel();
    let outcome = handle.wait();
    let n = ran.load(Ordering::SeqCst);
    println!("cancel after 30 ms     -> {outcome:?}; {n} of 100 tasks ran");
    assert_eq!(outcome, Err(parallel::Error::Cancelled));
    assert!(n < 20, "{n} tasks ran after cancel");

    // In silent mode a cancelled call keeps what finished; the rest fail as Cancelled.
    let handle = parallel::thread()
        .max_workers(2)
        .silent()
        .async_map(|ms: u64| std::thread::sleep(Duration::from_millis(ms)), vec![5; 100]);
    std::thread::sleep(Duration::from_millis(30));
    handle.cancel();
    let results = handle.wait();
    let cancelled = results.failed().iter().filter(|f| *f.kind() == FailureKind::Cancelled).count();
    println!("silent cancel          -> {} finished, {cancelled} cancelled", results.succeeded().len());
    assert_eq!(results.len(), 100);
    assert!(cancelled > 50 && results.succeeded().len() + cancelled == 100);

    // Dropping a handle cancels too: keep it alive while the call should run.
    ran.store(0, Ordering::SeqCst);
    drop(parallel::thread().max_workers(2).async_map(slow, 0..100));
    std::thread::sleep(Duration::from_millis(60));
    let n = ran.load(Ordering::SeqCst);
    println!("dropped handle         -> {n} of 100 tasks ran");
    assert!(n <= 4, "{n} tasks ran after the handle was dropped");

    // --- await: a Handle is a Future ---------------------------------------------------------
    let runtime = tokio::runtime::Builder::new_current_thread().enable_time().build()?;
    runtime.block_on(async {
        // Several calls at once, awaited together: about 100 ms, not 150.
        let started = Instant::now();
        let (stored, prices) = tokio::join!(
            parallel::async_map(download_and_store, vec!["docs.rs"]),
            parallel::async_par((|| get_price("btc"), || get_price("eth"))),
        );
        let took = started.elapsed();
        let (btc, eth) = prices?;
        println!("tokio::join! of two    -> {:?}, btc={btc}, eth={eth} in {took:.0?}", stored?);
        assert_eq!((btc, eth), (64_210.5, 3_105.25));

        // tokio's timeout drops the handle when time is up, which cancels the call.
        let handle = parallel::thread().max_workers(1).async_map(download_and_store, vec!["a", "b", "c", "d"]);
        let late = tokio::time::timeout(Duration::from_millis(50), handle).await;
        println!(
            "tokio::time::timeout   -> {}",
            if late.is_err() { "elapsed; the call was cancelled" } else { "done" }
        );
        assert!(late.is_err());

        // The runtime's thread stays free while the tasks run: a timer ticks meanwhile.
        let ticks = async {
            let mut n = 0;
            for _ in 0..5 {
                tokio::time::sleep(Duration::from_millis(10)).await;
                n += 1;
            }
            n
        };
        let (results, ticks) = tokio::join!(parallel::async_map(get_price, ["btc", "xrp"]), ticks);
        println!("await + timer          -> {:?} while the timer ticked {ticks} times", results.as_ref().unwrap());
        assert_eq!(results?, [64_210.5, 0.52]);
        assert_eq!(ticks, 5);
        Ok::<_, parallel::Error>(())
    })?;
    Ok(())
}
