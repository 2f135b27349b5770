//! Parameters for ease of mind — the README's "Parameters" section, in Rust.
//!
//! - sequences give sequences, maps give maps;
//! - a tuple spreads into the function's arguments;
//! - Rust has no keyword or optional arguments: the README's `db_table='websites',
//!   log_level='info', options=None` become a struct with a `Default`, passed like any other
//!   argument (per task, as the tuple's last item) or once for the whole call as *extras*;
//! - extras: `parallel::thread().extras(value)` hands `&value` to every task as the function's
//!   last argument — the README's `extras={'db_table': ...}`;
//! - `parallel.arg` is not needed: types say what a parameter is, so a map passed as an
//!   argument is never mistaken for named parameters.
//!
//! Run with `cargo run --release --example parameters`.

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use parallel::prelude::*;

/// The README's named and optional parameters, as one struct with defaults.
/// (`Clone + Debug`: parameters are kept to describe a task that fails.)
#[derive(Clone, Debug)]
struct StoreOptions {
    db_table: &'static str,
    log_level: &'static str,
    options: Option<HashMap<&'static str, &'static str>>,
}

impl Default for StoreOptions {
    fn default() -> Self {
        StoreOptions { db_table: "websites", log_level: "info", options: None }
    }
}

/// `download_and_store(url, content_type, db_table='websites', log_level='info', options=None)`
/// with the optional part by reference last — the shape extras need.
fn download_and_store(url: &str, content_type: &str, opts: &StoreOptions) -> String {
    std::thread::sleep(Duration::from_millis(20)); // the fake download
    let host = url.trim_start_matches("https://");
    let header = opts.options.as_ref().and_then(|o| o.get("Content-Type")).map_or(String::new(), |h| format!(" {h}"));
    format!("{host} ({content_type}{header}) -> {} [{}]", opts.db_table, opts.log_level)
}

/// The simplest one: one URL in, one result out.
fn download(url: &str) -> String {
    std::thread::sleep(Duration::from_millis(20));
    format!("{} results", url.trim_start_matches("https://"))
}

fn get_price_ether(exchange: &str, opts: StoreOptions) -> String {
    format!("eth on {exchange} as {}", opts.options.and_then(|o| o.get("Content-Type").copied()).unwrap_or("text"))
}

fn main() -> Result<(), parallel::Error> {
    // --- Sequences or maps ---------------------------------------------------------------------
    let results = parallel::map(download, vec!["https://python.org", "https://rmotr.com"])?;
    println!("sequential  -> {results:?}");
    assert_eq!(results, ["python.org results", "rmotr.com results"]);

    let results =
        parallel::map(download, HashMap::from([("python", "https://python.org"), ("rmotr", "https://rmotr.com")]))?;
    println!("named       -> python: {:?}, rmotr: {:?}", results["python"], results["rmotr"]);
    assert_eq!(
        results,
        HashMap::from([("python", "python.org results".into()), ("rmotr", "rmotr.com results".into())])
    );

    // --- Passing multiple arguments: a tuple per task ------------------------------------------
    // download_and_store('https://python.org', 'json') — the defaults come from the closure.
    let results = parallel::map(
        |url: &str, content_type: &str| download_and_store(url, content_type, &StoreOptions::default()),
        vec![("https://python.org", "json"), ("https://rmotr.com", "xml")],
    )?;
    println!("positional  -> {results:?}");
    assert_eq!(results, ["python.org (json) -> websites [info]", "rmotr.com (xml) -> websites [info]"]);

    // --- Passing "named" parameters: a struct as the tuple's last item -------------------------
    // download_and_store('https://python.org', 'json', db_table='webpages')
    // download_and_store('https://rmotr.com', 'xml', log_level='debug')
    let results = parallel::map(
        |url: &str, content_type: &str, opts: StoreOptions| download_and_store(url, content_type, &opts),
        vec![
            ("https://python.org", "json", StoreOptions { db_table: "webpages", ..Default::default() }),
            ("https://rmotr.com", "xml", StoreOptions { log_level: "debug", ..Default::default() }),
        ],
    )?;
    println!("per task    -> {results:?}");
    assert_eq!(results, ["python.org (json) -> webpages [info]", "rmotr.com (xml) -> websites [debug]"]);

    // --- Extras, to avoid repeating yourself ---------------------------------------------------
    // extras={'db_table': 'temporary_webpages'}: one value for the whole call, which every task
    // receives by reference as the function's last argument. No closure needed: the function
    // already ends with `&StoreOptions`.
    let results = parallel::thread()
        .extras(StoreOptions { db_table: "temporary_webpages", ..Default::default() })
        .map(download_and_store, vec![("https://python.org", "json"), ("https://rmotr.com", "xml")])?;
    println!("extras      -> {results:?}");
    assert!(results.iter().all(|r| r.ends_with("-> temporary_webpages [info]")));

    // Per-task values and extras combine: the tuple's items first, then `&extras`.
    let results =
        parallel::thread().extras(StoreOptions { db_table: "temporary_webpages", ..Default::default() }).map(
            |url: &str, log_level: &'static str, shared: &StoreOptions| {
                download_and_store(url, "json", &StoreOptions { log_level, ..shared.clone() })
            },
            vec![("https://python.org", "warning"), ("https://rmotr.com", "debug")],
        )?;
    println!("both        -> {results:?}");
    assert_eq!(results[1], "rmotr.com (json) -> temporary_webpages [debug]");

    // The prelude form: `f.thread().extras(..)`.
    let results = download_and_store
        .thread()
        .extras(StoreOptions { log_level: "error", ..Default::default() })
        .map(BTreeMap::from([("docs", ("https://docs.rs", "html"))]))?;
    assert_eq!(results["docs"], "docs.rs (html) -> websites [error]");

    // --- Advanced use cases: a map as an argument ----------------------------------------------
    // Python needs `parallel.arg(...)` so that a dict argument is not read as named parameters.
    // In Rust a parameter's type says what it is: this HashMap is just an argument.
    let json =
        StoreOptions { options: Some(HashMap::from([("Content-Type", "application/json")])), ..Default::default() };
    let results = parallel::map(
        |url: &str, opts: StoreOptions| download_and_store(url, "api", &opts),
        HashMap::from([
            ("python", ("https://python.org", json.clone())),
            ("rmotr", ("https://rmotr.com", StoreOptions::default())),
        ]),
    )?;
    println!("map as arg  -> python: {:?}", results["python"]);
    assert_eq!(results["python"], "python.org (api application/json) -> websites [info]");
    assert_eq!(results["rmotr"], "rmotr.com (api) -> websites [info]");

    // For par: `parallel.future(get_price_ether, 'bitfinex', options={...})` is `.future((args))`.
    let prices = parallel::par(HashMap::from([
        ("eth", get_price_ether.future(("bitfinex", json))),
        ("eth-plain", get_price_ether.future(("kraken", StoreOptions::default()))),
    ]))?;
    println!("par futures -> {:?}", prices["eth"]);
    assert_eq!(prices["eth"], "eth on bitfinex as application/json");
    assert_eq!(prices["eth-plain"], "eth on kraken as text");
    Ok(())
}
