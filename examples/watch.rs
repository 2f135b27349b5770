//! Watching a call while it runs, and taking its results as they complete.
//!
//! - `.progress()`: a progress bar on stderr (drawn only when stderr is a terminal);
//! - `.on_progress(f)`: a callback of your own, at most every 100 ms and once at the end;
//! - `as_completed`: `(key, Result<value, FailedTask>)` in completion order, as an iterator —
//!   millions of them from a lazy input, in bounded memory — or, with `into_stream`, as a
//!   `futures` `Stream` in async code.
//!
//! Run with `cargo run --release --example watch`.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::StreamExt;
use parallel::{FailureKind, Progress};

fn nap(ms: u64) -> u64 {
    std::thread::sleep(Duration::from_millis(ms));
    ms
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // One task below panics on purpose: quiet the panics of the pool's threads.
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        if std::thread::current().name() != Some("parallel-worker") {
            default(info);
        }
    }));

    // --- a bar: 40 naps of 10 ms on 4 threads, about 100 ms ------------------------------------
    let naps = parallel::thread().max_workers(4).progress().map(nap, vec![10; 40])?;
    println!("progress()             -> {} tasks, a bar on stderr if it is a terminal", naps.len());

    // --- a callback: monotonic, and once at the end with the final counts ---------------------
    let seen = Arc::new(Mutex::new(Vec::new()));
    let record = seen.clone();
    let results = parallel::thread()
        .max_workers(4)
        .silent()
        .on_progress(move |p: Progress| record.lock().unwrap().push(p))
        .map(|x: u64| if x == 13 { panic!("unlucky") } else { nap(x % 5) }, 0..200);
    let seen = seen.lock().unwrap();
    let last = seen.last().copied().unwrap_or_default();
    println!("on_progress            -> {} reports, the last {last:?}", seen.len());
    assert_eq!(last, Progress { done: 200, failed: 1, total: Some(200) });
    assert_eq!(results.failed().len(), 1);

    // --- as_completed: in completion order, with the keys of a map ----------------------------
    let waits = BTreeMap::from([("slow", 150), ("quick", 10), ("medium", 60)]);
    let order: Vec<&str> = parallel::thread().as_completed(nap, waits).map(|(key, _)| key).collect();
    println!("as_completed           -> {order:?}");
    assert_eq!(order, ["quick", "medium", "slow"]);

    // A million lazy tasks, counted as they come: nothing is kept, the input read as needed.
    let lazy = (0..1_000_000u64).filter(|x| x % 2 == 0);
    let (mut count, mut sum) = (0u64, 0u64);
    for (_, outcome) in parallel::thread().as_completed(|x: u64| x / 2, lazy) {
        count += 1;
        sum += outcome?;
    }
    println!("a million, streamed    -> {count} outcomes, sum {sum}");
    assert_eq!((count, sum), (500_000, 499_999 * 500_000 / 2));

    // A timeout fails the unfinished tasks as items; nothing waits for them.
    let late = parallel::thread().timeout(Duration::from_millis(100)).as_completed(nap, vec![5, 5_000]);
    let kinds: Vec<_> = late.map(|(i, o)| (i, o.map_err(|f| f.kind().clone()))).collect();
    println!("as_completed + timeout -> {kinds:?}");
    assert!(kinds.contains(&(1, Err(FailureKind::TimedOut))));

    // --- the same as a Stream, under tokio ----------------------------------------------------
    let runtime = tokio::runtime::Builder::new_current_thread().enable_time().build()?;
    runtime.block_on(async {
        let mut stream = parallel::process().max_workers(3).as_completed(nap, vec![300, 100, 200]).into_stream();
        let mut order = Vec::new();
        while let Some((index, outcome)) = stream.next().await {
            order.push((index, outcome.expect("a nap")));
        }
        println!("stream on processes    -> {order:?}");
        assert_eq!(order, [(1, 100), (2, 200), (0, 300)]);
    });
    Ok(())
}
