//! `parallel::map`: one function, many inputs — the README's first section, with a fake web
//! instead of the network.
//!
//! - a `Vec` (or array, range, iterator) gives a `Vec` of results in input order;
//! - tuples spread into the function's arguments: `(url, 204)` calls `download_and_store(url, 204)`;
//! - a `HashMap` (or `BTreeMap`) gives the same map back, one result per key.
//!
//! Run with `cargo run --release --example map`.

use std::collections::HashMap;
use std::time::{Duration, Instant};

/// The fake web: how long each URL takes to answer, and with which status code.
fn fake_get(url: &str) -> (u16, String) {
    let (ms, status) = match url {
        "https://python.org" => (150, 200),
        "https://rmotr.com" => (100, 200),
        "https://python.org/ping" => (40, 204),
        "https://rmotr.com/signup" => (80, 201),
        _ => (50, 200),
    };
    std::thread::sleep(Duration::from_millis(ms));
    (status, format!("{} results", url.trim_start_matches("https://")))
}

/// The README's function. Python raises `ValueError` on an unexpected status code; the Rust
/// equivalent of raising inside `map` is a panic, which fails that task (see `errors.rs` for
/// `try_map`, where returning `Err` does the same).
fn download_and_store(url: &str, expected_code: u16) -> String {
    let (status, body) = fake_get(url);
    assert_eq!(status, expected_code, "{url} answered {status}");
    body // "stored": the fake database returns what it stored
}

fn main() -> Result<(), parallel::Error> {
    // --- One parameter per task -------------------------------------------------------------
    // Rust has no default arguments: `expected_code=200` is filled in by a closure.
    let urls = vec!["https://python.org", "https://rmotr.com", "https://crates.io"];
    let started = Instant::now();
    let results = parallel::map(|url: &str| download_and_store(url, 200), urls)?;
    let took = started.elapsed();
    println!("map over 3 urls        -> {results:?} in {took:.0?}");
    // Input order, although python.org (first) answers last.
    let python_result = &results[0];
    assert_eq!(python_result, "python.org results");
    assert_eq!(results, ["python.org results", "rmotr.com results", "crates.io results"]);
    // In parallel: about the slowest answer (150 ms), not the sum (300 ms), as printed above.

    // --- Multiple parameters: a sequence of tuples ------------------------------------------
    let urls = vec![("https://python.org/ping", 204), ("https://rmotr.com/signup", 201)];
    let results = parallel::map(download_and_store, urls)?;
    println!("map over (url, code)   -> {results:?}");
    assert_eq!(results, ["python.org/ping results", "rmotr.com/signup results"]);

    // --- Named: a map in, the same map out --------------------------------------------------
    let urls =
        HashMap::from([("python", ("https://python.org/ping", 204)), ("rmotr", ("https://rmotr.com/signup", 201))]);
    let results: HashMap<&str, String> = parallel::map(download_and_store, urls)?;
    let python_result = &results["python"];
    println!("map over a HashMap     -> python: {python_result:?}, rmotr: {:?}", results["rmotr"]);
    assert_eq!(python_result, "python.org/ping results");
    assert_eq!(results["rmotr"], "rmotr.com/signup results");
    assert_eq!(results.len(), 2);

    // --- Any sequence works: arrays, ranges, iterator adapters ------------------------------
    let squares = parallel::map(|n: u64| n * n, 1..=5)?;
    let lengths = parallel::map(str::len, ["a", "bb", "ccc"])?;
    let evens = parallel::map(|n: u32| n / 2, (0..10).filter(|n| n % 2 == 0))?;
    println!("ranges, arrays, iters  -> {squares:?} {lengths:?} {evens:?}");
    assert_eq!(squares, [1, 4, 9, 16, 25]);
    assert_eq!(lengths, [1, 2, 3]);
    assert_eq!(evens, [0, 1, 2, 3, 4]);

    Ok(())
}
