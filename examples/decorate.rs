//! "Decorating" functions — the README's `@parallel.decorate`, the Rust way.
//!
//! Rust has no decorators, and needs none: `use parallel::prelude::*;` gives *every* function
//! and closure the methods `.map(inputs)`, `.try_map(inputs)`, `.async_map(inputs)`,
//! `.thread()` and `.process()` (to set options first), `.future(args)` (a task for `par`) and
//! `.remote(args)` (a task for `par` on processes) — and the function stays an ordinary
//! function.
//!
//! Run with `cargo run --release --example decorate`.

use std::collections::HashMap;
use std::time::Duration;

use parallel::prelude::*;

/// Fake work: 20 ms of "network".
fn download_and_store(url: &str) -> String {
    std::thread::sleep(Duration::from_millis(20));
    format!("{} results", url.trim_start_matches("https://"))
}

/// `download_and_store` for the process executor, whose parameters are owned values.
fn fetch_owned(url: String) -> String {
    download_and_store(&url)
}

/// Prices from a fixed table.
fn get_price_bitcoin(exchange: &str) -> f64 {
    std::thread::sleep(Duration::from_millis(20));
    if exchange == "bitstamp" {
        64_210.5
    } else {
        64_198.0
    }
}

fn get_price_ether(exchange: &str) -> f64 {
    std::thread::sleep(Duration::from_millis(20));
    if exchange == "bitfinex" {
        3_105.25
    } else {
        3_101.0
    }
}

/// Two parameters: `.future` takes them as one tuple.
fn convert(amount: f64, rate: f64) -> f64 {
    amount * rate
}

fn main() -> Result<(), parallel::Error> {
    let urls = vec!["https://python.org", "https://rmotr.com", "https://crates.io"];

    // --- The function as a handler -----------------------------------------------------------
    let results = download_and_store.map(urls.clone())?;
    println!("download_and_store.map(urls)     -> {results:?}");
    assert_eq!(results, ["python.org results", "rmotr.com results", "crates.io results"]);

    // --- Executors and options work the same way ---------------------------------------------
    // Python: download_and_store.thread.map(urls, timeout=10, max_workers=5)
    let results = download_and_store.thread().timeout(Duration::from_secs(10)).max_workers(5).map(urls.clone())?;
    println!(".thread().timeout(10s).max_workers(5).map(urls) -> {} results", results.len());
    assert_eq!(results[1], "rmotr.com results");
    // Python: download_and_store.process.map(urls, timeout=10, max_workers=5) — the same
    // options, each task in a worker process. What crosses to a worker is a serde value, so
    // the process executor's parameters are owned: `String`, not `&str`.
    let owned: Vec<String> = urls.iter().map(|url| url.to_string()).collect();
    let results = fetch_owned.process().timeout(Duration::from_secs(10)).max_workers(5).map(owned)?;
    println!(".process().timeout(10s).max_workers(5).map(urls) -> {results:?}");
    assert_eq!(results[2], "crates.io results");

    // Silent mode and extras too: a function taking `&Extras` last gets the extras value.
    #[derive(Debug)]
    struct Table(&'static str);
    let store_in = |url: &str, table: &Table| format!("{url} -> {}", table.0);
    let results = store_in.thread().extras(Table("webpages")).silent().map(urls.clone());
    assert!(!results.failures());
    let stored = results.replace_failed(String::new());
    println!(".thread().extras(..).silent().map -> {:?}, ...", stored[0]);
    assert_eq!(stored[0], "https://python.org -> webpages");

    // try_map and async_map as well.
    let parsed = (|s: &str| s.parse::<u16>()).try_map(["80", "443"])?;
    let handle = download_and_store.async_map(urls.clone());
    assert_eq!(parsed, [80, 443]);
    assert_eq!(handle.wait()?.len(), 3);

    // --- par: `.future(args)` passes parameters easily ----------------------------------------
    // Python: get_price_ether.future(exchange='bitfinex') — Rust has no keyword arguments;
    // the arguments go in order (see parameters.rs for struct parameters).
    let prices = parallel::par(HashMap::from([
        ("btc", get_price_bitcoin.future("bitstamp")),
        ("eth", get_price_ether.future("bitfinex")),
    ]))?;
    println!("par(btc: .future, eth: .future)  -> btc={} eth={}", prices["btc"], prices["eth"]);
    assert_eq!((prices["btc"], prices["eth"]), (64_210.5, 3_105.25));

    // Several parameters: one tuple. Results of different types: a tuple of futures.
    let (eur, name) = parallel::par((convert.future((100.0, 0.92)), str::to_uppercase.future("btc")))?;
    println!("par((convert.future((100, 0.92)), to_uppercase.future(\"btc\"))) -> ({eur}, {name})");
    assert_eq!((eur, name.as_str()), (92.0, "BTC"));
    // On processes a task is `.remote(args)`: a fn item and its arguments cross to a worker.
    let (eur, usd) = parallel::process().par((convert.remote((100.0, 0.92)), convert.remote((100.0, 1.08))))?;
    println!("process().par((convert.remote(..), convert.remote(..))) -> ({eur}, {usd})");
    assert_eq!((eur, usd), (92.0, 108.0));

    // --- Still plain functions ----------------------------------------------------------------
    let result = download_and_store("https://python.org");
    let btc = get_price_bitcoin("bitstamp");
    println!("called normally                  -> {result:?}, {btc}");
    assert_eq!((result.as_str(), btc), ("python.org results", 64_210.5));
    Ok(())
}
