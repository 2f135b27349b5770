//! One workload of `benches/compare.py`, timed inside the process: the same source is built
//! against two checkouts of the crate (before and after a change), and the script alternates
//! them. It uses only API that every version since issue 8 has, so any two can be compared.
//!
//! `driver <workload>` prints the workload's seconds on stdout.

use std::time::{Duration, Instant};

fn tiny(x: u64) -> u64 {
    x.wrapping_mul(2)
}

/// About `micros` of CPU work.
fn spin(micros: u64) -> u64 {
    let end = Instant::now() + Duration::from_micros(micros);
    let mut n = 0u64;
    while Instant::now() < end {
        n = n.wrapping_add(1);
    }
    n
}

fn nap(ms: u64) -> u64 {
    std::thread::sleep(Duration::from_millis(ms));
    ms
}

fn fails(x: u64) -> u64 {
    assert!(x % 10 != 0, "a tenth of the tasks fail");
    x
}

fn main() {
    parallel::init();
    let workload = std::env::args().nth(1).expect("usage: driver <workload>");
    let start = Instant::now();
    match workload.as_str() {
        "thread-tiny" => assert_eq!(parallel::map(tiny, 0..20_000_000u64).unwrap().len(), 20_000_000),
        "thread-cpu" => assert_eq!(parallel::map(spin, vec![1_000u64; 1_000]).unwrap().len(), 1_000),
        "thread-sleep" => {
            let out = parallel::thread().max_workers(100).map(nap, vec![10u64; 500]).unwrap();
            assert_eq!(out.len(), 500);
        }
        "thread-silent" => {
            let quiet = std::panic::take_hook();
            std::panic::set_hook(Box::new(|_| {}));
            let out = parallel::thread().silent().map(fails, 0..1_000_000u64);
            std::panic::set_hook(quiet);
            assert_eq!(out.succeeded().len(), 900_000);
        }
        "process-tiny" => assert_eq!(parallel::process().map(tiny, 0..1_000_000u64).unwrap().len(), 1_000_000),
        "process-cpu" => assert_eq!(parallel::process().map(spin, vec![10_000u64; 100]).unwrap().len(), 100),
        // A lazy input streamed through `as_completed` by a consumer that keeps up.
        "thread-stream" => {
            let lazy = (0..10_000_000u64).filter(|_| true);
            let sum: u64 = parallel::thread().as_completed(tiny, lazy).map(|(_, o)| o.unwrap()).sum();
            assert_eq!(sum, 10_000_000 * 9_999_999);
        }
        "process-stream" => {
            let lazy = (0..1_000_000u64).filter(|_| true);
            let sum: u64 = parallel::process().as_completed(tiny, lazy).map(|(_, o)| o.unwrap()).sum();
            assert_eq!(sum, 1_000_000 * 999_999);
        }
        other => panic!("no workload {other:?}"),
    }
    println!("{:.6}", start.elapsed().as_secs_f64());
}
