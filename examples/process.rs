//! The process executor: the same calls as the thread executor, with tasks in worker
//! processes — so a task that panics, aborts, segfaults, exits, hangs or eats all memory
//! fails alone, and the next call works.
//!
//! Run with `cargo run --release --example process`.

use std::time::{Duration, Instant};

use parallel::FailureKind;

fn square(x: u64) -> u64 {
    x * x
}

/// A task that misbehaves on purpose.
fn risky(what: String) -> String {
    match what.as_str() {
        "panic" => panic!("this task panics"),
        "abort" => std::process::abort(),
        "exit" => std::process::exit(3),
        "hang" => loop {
            std::thread::sleep(Duration::from_secs(1));
        },
        "hog" => format!("{} bytes", std::hint::black_box(vec![1u8; 8 << 30]).len()),
        ok => ok.to_uppercase(),
    }
}

fn main() -> Result<(), parallel::Error> {
    // Optional on Linux (a worker serves before `main` runs); here to be explicit.
    parallel::init();

    let started = Instant::now();
    let squares = parallel::process().map(square, 0..100_000)?;
    println!("100,000 squares in worker processes -> last = {} in {:.0?}", squares[99_999], started.elapsed());
    assert_eq!(squares[99_999], 99_999 * 99_999);

    // Parameters and values cross as serde values: owned `String`s, not `&str`s.
    let inputs: Vec<String> =
        ["a", "panic", "b", "abort", "c", "exit", "d", "hang", "e", "hog", "f"].map(String::from).to_vec();
    let started = Instant::now();
    let results = parallel::process()
        .max_workers(4)
        .task_timeout(Duration::from_millis(500))
        .memory_limit(1 << 30)
        .silent()
        .map(risky, inputs.clone());
    println!("\nmisbehaving tasks, in {:.0?}:", started.elapsed());
    for (input, outcome) in inputs.iter().zip(results.iter()) {
        match outcome {
            Ok(value) => println!("  {input:>5} -> {value}"),
            Err(failed) => println!("  {input:>5} -> {:?}: {}", failed.kind(), failed.message()),
        }
    }
    assert_eq!(results.succeeded().len(), 6);
    assert_eq!(*results[1].as_ref().unwrap_err().kind(), FailureKind::Panicked);
    assert_eq!(*results[3].as_ref().unwrap_err().kind(), FailureKind::Crashed { signal: Some(6), code: None });
    assert_eq!(*results[5].as_ref().unwrap_err().kind(), FailureKind::Crashed { signal: None, code: Some(3) });
    assert_eq!(*results[7].as_ref().unwrap_err().kind(), FailureKind::TimedOut);
    assert!(matches!(results[9].as_ref().unwrap_err().kind(), FailureKind::Crashed { .. }));

    let again = parallel::process().map(risky, ["the", "pool", "healed"].map(String::from))?;
    println!("\nthe next call -> {again:?}");
    Ok(())
}
