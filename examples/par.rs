//! `parallel::par`: different functions at once — the README's crypto prices, from a fixed
//! table instead of exchanges.
//!
//! - positional: a tuple of closures gives a tuple of results, each of its own type;
//! - named: a `HashMap` (or `BTreeMap`, `Vec`) of tasks gives the same map of results;
//! - a task is a closure wrapped by `parallel::task(..)`, or `f.future(args)` from the
//!   prelude — the Rust spelling of `parallel.future(f, args)`.
//!
//! Run with `cargo run --release --example par`.

use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, Instant};

use parallel::prelude::*;

/// The fake exchanges: every quote takes 80 ms and comes from this table.
fn quote(coin: &str, exchange: &str) -> f64 {
    std::thread::sleep(Duration::from_millis(80));
    match (coin, exchange) {
        ("btc", "bitstamp") => 64_210.5,
        ("btc", _) => 64_198.0,
        ("eth", "bitfinex") => 3_105.25,
        ("eth", _) => 3_101.0,
        ("xrp", _) => 0.52,
        _ => panic!("no market for {coin} on {exchange}"),
    }
}

fn get_price_bitcoin(exchange: &str) -> f64 {
    quote("btc", exchange)
}

fn get_price_ether(exchange: &str) -> f64 {
    quote("eth", exchange)
}

fn get_price_ripple(exchange: &str) -> f64 {
    quote("xrp", exchange)
}

/// Another function with another return type, for the positional form.
fn get_volume(coin: &str) -> u64 {
    std::thread::sleep(Duration::from_millis(80));
    if coin == "btc" {
        31_337
    } else {
        0
    }
}

/// The README's `index` view: three prices fetched at once, then a (fake) template.
fn index() -> Result<String, parallel::Error> {
    // Python's `'btc': (get_price_bitcoin, 'bitstamp')` has no Rust twin — a tuple of a
    // function and its arguments is not a task — so every entry is a `Task`: a closure through
    // `parallel::task`, or `.future(args)` on a function (the prelude's "decorated" form).
    let prices = parallel::par(HashMap::from([
        ("btc", parallel::task(|| get_price_bitcoin("bitstamp"))),
        ("eth", get_price_ether.future("bitfinex")),
        ("xrp", get_price_ripple.future("bitstamp")),
    ]))?;
    // The template: keys sorted, since a HashMap has no order.
    let sorted: BTreeMap<_, _> = prices.into_iter().collect();
    Ok(sorted.iter().map(|(coin, price)| format!("{coin}={price}")).collect::<Vec<_>>().join(" "))
}

fn main() -> Result<(), parallel::Error> {
    // --- Named -------------------------------------------------------------------------------
    let started = Instant::now();
    let page = index()?;
    let took = started.elapsed();
    println!("index.html             -> {page} ({took:.0?} for three 80 ms quotes)");
    assert_eq!(page, "btc=64210.5 eth=3105.25 xrp=0.52");

    // --- Positional: a tuple of closures, each result of its own type -----------------------
    let (btc, volume, label) =
        parallel::par((|| get_price_bitcoin("kraken"), || get_volume("btc"), || "BTC/USD".to_lowercase()))?;
    println!("positional par         -> ({btc}, {volume}, {label:?})");
    assert_eq!((btc, volume, label.as_str()), (64_198.0, 31_337, "btc/usd"));

    // Closures and `.future` tasks mix in a tuple; closures must own what they capture
    // (`move`), since a task may outlive the call that started it (see timeouts in tour.rs).
    let exchange = String::from("bitfinex");
    let (eth, xrp) = parallel::par((move || get_price_ether(&exchange), get_price_ripple.future("bitstamp")))?;
    println!("closure + future       -> eth={eth} xrp={xrp}");
    assert_eq!((eth, xrp), (3_105.25, 0.52));

    // --- A Vec of tasks gives a Vec; a BTreeMap a BTreeMap -----------------------------------
    let exchanges = ["bitstamp", "bitfinex", "kraken"];
    let btc_everywhere = parallel::par(exchanges.iter().map(|e| get_price_bitcoin.future(e)).collect::<Vec<_>>())?;
    println!("Vec of futures         -> {btc_everywhere:?}");
    assert_eq!(btc_everywhere, [64_210.5, 64_198.0, 64_198.0]);

    let by_exchange =
        parallel::par(BTreeMap::from(exchanges.map(|e| (e, parallel::task(move || get_price_ether(e))))))?;
    println!("BTreeMap of tasks      -> {by_exchange:?}");
    assert_eq!(by_exchange.keys().copied().collect::<Vec<_>>(), ["bitfinex", "bitstamp", "kraken"]);
    assert_eq!(by_exchange["bitfinex"], 3_105.25);

    // A decorated function is still a function.
    assert_eq!(get_price_ripple("bitstamp"), 0.52);
    Ok(())
}
