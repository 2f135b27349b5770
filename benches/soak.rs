//! The long reliability checks (issue 5, items 2–4); their short versions are the tests
//! `soak_short`, `no_leaks` and `bounded_memory`, which share this code
//! (`crates/parallel/tests/soak_support`).
//!
//! 1. **Chaos soak**: 1,000,000 tasks in silent mode through `parallel::process()` while a
//!    thread SIGKILLs a random worker process of ours about every 50 ms — once with tiny tasks
//!    (thousands per batch), once with tasks that nap 20 µs (so that the call lasts and the
//!    kills are many). Every task is accounted for (its value, or `Crashed { signal: Some(9) }`
//!    for the task its killed worker was running), none starts twice (shared counters the
//!    workers bump), the failed ones give their values when run again, the next call works.
//! 2. **No leaks**: each executor (thread `map`, thread `async_map`, process `map`, process
//!    calls whose `timeout` or `task_timeout` kills a worker) 100 then 1,000 times: descriptors,
//!    threads, live and zombie children and resident memory after each.
//! 3. **Bounded memory**: 10,000,000 tiny tasks from a lazy iterator through the thread
//!    executor, each input kind in a fresh process (this executable again): peak resident
//!    memory over the baseline, per task.
//!
//! Run with `cargo bench --bench soak` (`make soak`), a few minutes; `-- --only soak|leaks|memory`
//! runs one part. Exits non-zero if a check fails. Under `cargo test` it does nothing: the
//! short versions are the tests.

#[path = "../crates/parallel/tests/soak_support/mod.rs"]
mod soak_support;

use std::process::Command;
use std::time::{Duration, Instant};

use soak_support::{executors, leak_check, peak_per_task, soak, Counters, Lazy, Tolerance};

/// Tasks of each soak, and how often a worker is killed.
const SOAK_TASKS: usize = 1_000_000;
const KILL_EVERY: Duration = Duration::from_millis(50);
/// The nap of each task of the second soak.
const SLOW_NAP: Duration = Duration::from_micros(20);

/// The leak check: calls before the two measures.
const LEAK_CALLS: (usize, usize) = (100, 1_000);

/// Tasks of the memory measure.
const MEMORY_TASKS: u64 = 10_000_000;

/// Set in the fresh process that measures one input's peak memory.
const ROLE: &str = "PARALLEL_SOAK_MEMORY";

fn main() {
    parallel::init();
    if let Ok(input) = std::env::var(ROLE) {
        let input = match input.as_str() {
            "ExactSize" => Lazy::ExactSize,
            "UnknownSize" => Lazy::UnknownSize,
            _ => Lazy::ExactSizeSilent,
        };
        println!("{}", peak_per_task(input, MEMORY_TASKS));
        return;
    }
    let args: Vec<String> = std::env::args().collect();
    if !args.iter().any(|a| a == "--bench") {
        println!("soak: `cargo bench --bench soak` runs the long versions; the short ones are tests");
        return;
    }
    let only = args.iter().position(|a| a == "--only").and_then(|i| args.get(i + 1)).cloned();
    let runs = |part: &str| only.as_deref().is_none_or(|o| o == part);
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    println!("machine: {cores} cores; process executor: default options ({cores} worker processes)\n");

    let started = Instant::now();
    let mut failed = Vec::new();
    if runs("soak") {
        println!("== chaos soak: {SOAK_TASKS} tasks, silent, a random worker SIGKILLed every ~{KILL_EVERY:?}");
        let counters = Counters::create(SOAK_TASKS);
        // Warm: the first call starts the workers.
        let _ = parallel::process().map(soak_support::value, 0..1_000u64);
        for nap in [Duration::ZERO, SLOW_NAP] {
            let report = soak(&counters, SOAK_TASKS, nap, KILL_EVERY);
            println!("{report}");
            if !report.ok() || report.lost > 0 || report.ran_twice > 0 {
                failed.push(format!("soak with nap {nap:?}"));
            }
        }
        println!();
    }
    if runs("leaks") {
        println!("== no leaks: each executor {} then {} calls", LEAK_CALLS.0, LEAK_CALLS.1);
        let tolerance = Tolerance::default();
        for row in leak_check(&executors(), 10, LEAK_CALLS.0, LEAK_CALLS.1) {
            println!("{row}");
            let mut problems = row.problems(tolerance);
            if row.stray_kills > 0 {
                // Not a leak, but a defect: tasks failed as killed though nothing killed them.
                problems.push(format!("{}: {} stray kills", row.name, row.stray_kills));
            }
            for problem in problems {
                println!("  PROBLEM: {problem}");
                failed.push(problem);
            }
        }
        println!();
    }
    if runs("memory") {
        println!("== bounded memory: {MEMORY_TASKS} tiny tasks (`x * 3` on u64) from a lazy iterator, thread executor, each in a fresh process");
        for input in ["ExactSize", "UnknownSize", "ExactSizeSilent"] {
            let exe = std::env::current_exe().expect("this executable");
            match Command::new(exe).env(ROLE, input).output() {
                Ok(out) if out.status.success() => print!("{}", String::from_utf8_lossy(&out.stdout)),
                Ok(out) => {
                    println!("{input}: {}\n{}", out.status, String::from_utf8_lossy(&out.stderr));
                    failed.push(format!("memory {input}"));
                }
                Err(e) => {
                    println!("{input}: could not start: {e}");
                    failed.push(format!("memory {input}"));
                }
            }
        }
        println!();
    }
    println!("soak: {:.0} s in all", started.elapsed().as_secs_f64());
    if !failed.is_empty() {
        println!("soak: FAILED: {}", failed.join("; "));
        std::process::exit(1);
    }
    println!("soak: every check passed");
}
