//! The thread executor against its peers: `parallel::map` vs rayon (`into_par_iter().map()
//! .collect()`) vs hand-written `std::thread::scope`, on three workloads:
//!
//! * (a) 1,000,000 tiny tasks (`x * 2` on `u64`, collected in a `Vec<u64>`); the scope peer
//!   is the hand-written optimum — one scoped thread per core over contiguous chunks — since
//!   one thread per task would be absurd;
//! * (b) 1,000 CPU tasks of ~1 ms each (a spin loop calibrated at start-up);
//! * (c) 500 tasks that sleep 10 ms with 100 workers (ideal: 50 ms): ours with
//!   `max_workers(100)`, rayon on a 100-thread pool built once, scope with one thread per task.
//!
//! (a) and (b) use everyone's defaults. Criterion measures each contender on its own, then
//! the headline — robust to a machine whose speed drifts — comes from *paired* runs: ours and
//! a peer alternate, each pair gives a ratio ours / peer, and the table at the end reports the
//! median of those ratios against the targets. See docs/benchmarks.md.
//!
//! Run with `cargo bench --bench thread` (`make bench`). Under `cargo test` the workloads only
//! run once each, as a check.

mod common;

use std::hint::black_box;
use std::thread;
use std::time::{Duration, Instant};

use criterion::{BenchmarkGroup, Criterion, SamplingMode};
use rayon::prelude::*;

use common::{calibrate, median_spin, print_results, run_paired, spin, Contender, Plan, Row, Target};

/// (a): how many tiny tasks.
const TINY_TASKS: u64 = 1_000_000;
/// (b): how many CPU tasks, and how long each should take on one thread.
const CPU_TASKS: u64 = 1_000;
const CPU_TASK_TIME: Duration = Duration::from_millis(1);
/// (c): how many sleeping tasks, how long each sleeps, and with how many workers.
const SLEEP_TASKS: u64 = 500;
const SLEEP_TIME: Duration = Duration::from_millis(10);
const SLEEP_WORKERS: usize = 100;

const TINY: &str = "(a) 1M tiny tasks (`x * 2`)";
const TINY_SETTLED: &str = "(a) 1M tiny tasks, each run after a 5 ms pause";
const CPU: &str = "(b) 1000 CPU tasks × ~1 ms";
const SLEEP: &str = "(c) 500 × sleep 10 ms, 100 workers";

const OURS: &str = "ours: `parallel::map`";
const OURS_100: &str = "ours: `thread().max_workers(100)`";
const RAYON: &str = "rayon (global pool)";
const RAYON_100: &str = "rayon (100-thread pool)";
const SCOPE_CHUNKS: &str = "scope: 1 thread per core, contiguous chunks (hand-written optimum)";
const SCOPE_PER_TASK: &str = "scope: 1 thread per task";

// ---------------------------------------------------------------------------------------------
// The workloads, one function per contender.

fn tiny_ours() -> Vec<u64> {
    parallel::map(|x: u64| x * 2, 0..TINY_TASKS).expect("no tiny task fails")
}

fn tiny_rayon() -> Vec<u64> {
    (0..TINY_TASKS).into_par_iter().map(|x| x * 2).collect()
}

/// The hand-written optimum: the output allocated once and left uninitialised, one scoped
/// thread per core writing its contiguous chunk in place.
fn tiny_scope(cores: usize) -> Vec<u64> {
    let n = TINY_TASKS as usize;
    let mut out = Vec::with_capacity(n);
    let chunk = n.div_ceil(cores);
    thread::scope(|s| {
        for (i, part) in out.spare_capacity_mut()[..n].chunks_mut(chunk).enumerate() {
            s.spawn(move || {
                let base = (i * chunk) as u64;
                for (j, slot) in part.iter_mut().enumerate() {
                    slot.write((base + j as u64) * 2);
                }
            });
        }
    });
    // SAFETY: the scoped threads above have written all `n` elements, and joined.
    unsafe { out.set_len(n) };
    out
}

fn cpu_ours(iters: u64) -> Vec<u64> {
    parallel::map(move |seed: u64| spin(iters, seed), 0..CPU_TASKS).expect("no CPU task fails")
}

fn cpu_rayon(iters: u64) -> Vec<u64> {
    (0..CPU_TASKS).into_par_iter().map(|seed| spin(iters, seed)).collect()
}

fn cpu_scope(iters: u64) -> Vec<u64> {
    thread::scope(|s| {
        let handles: Vec<_> = (0..CPU_TASKS).map(|seed| s.spawn(move || spin(iters, seed))).collect();
        handles.into_iter().map(|h| h.join().expect("no CPU task panics")).collect()
    })
}

fn nap(x: u64) -> u64 {
    thread::sleep(SLEEP_TIME);
    x
}

fn sleep_ours() -> Vec<u64> {
    parallel::thread().max_workers(SLEEP_WORKERS).map(nap, 0..SLEEP_TASKS).expect("no sleeping task fails")
}

fn sleep_rayon(pool: &rayon::ThreadPool) -> Vec<u64> {
    pool.install(|| (0..SLEEP_TASKS).into_par_iter().map(nap).collect())
}

fn sleep_scope() -> Vec<u64> {
    thread::scope(|s| {
        let handles: Vec<_> = (0..SLEEP_TASKS).map(|x| s.spawn(move || nap(x))).collect();
        handles.into_iter().map(|h| h.join().expect("no sleeping task panics")).collect()
    })
}

// ---------------------------------------------------------------------------------------------
// Set-up: calibration and a check that every contender computes the same thing.

fn check(cores: usize, iters: u64, pool: &rayon::ThreadPool) {
    let tiny: Vec<u64> = (0..TINY_TASKS).map(|x| x * 2).collect();
    assert!(tiny_ours() == tiny && tiny_rayon() == tiny && tiny_scope(cores) == tiny, "(a) results differ");
    let cpu = cpu_ours(iters);
    assert_eq!(cpu.len(), CPU_TASKS as usize);
    assert!(cpu_rayon(iters) == cpu && cpu_scope(iters) == cpu, "(b) results differ");
    let slept: Vec<u64> = (0..SLEEP_TASKS).collect();
    assert!(sleep_ours() == slept && sleep_rayon(pool) == slept && sleep_scope() == slept, "(c) results differ");
}

fn cpu_model() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|info| {
            info.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|m| m.trim().to_owned())
        })
        .unwrap_or_else(|| "unknown".to_owned())
}

// ---------------------------------------------------------------------------------------------
// Criterion: each contender on its own.

fn bench_group<M: criterion::measurement::Measurement>(
    group: &mut BenchmarkGroup<'_, M>,
    contenders: &mut [(&str, &mut dyn FnMut())],
) {
    for (id, run) in contenders.iter_mut() {
        group.bench_function(*id, |b| b.iter(&mut *run));
    }
}

fn criterion_benches(c: &mut Criterion, cores: usize, iters: u64, pool: &rayon::ThreadPool) {
    let mut group = c.benchmark_group("a_tiny_1M");
    group.sample_size(20).warm_up_time(Duration::from_millis(500)).measurement_time(Duration::from_secs(2));
    bench_group(
        &mut group,
        &mut [
            ("ours", &mut || drop(black_box(tiny_ours()))),
            ("rayon", &mut || drop(black_box(tiny_rayon()))),
            ("scope_chunk_per_core", &mut || drop(black_box(tiny_scope(cores)))),
        ],
    );
    group.finish();

    // Half a second per run: one run per sample.
    let mut group = c.benchmark_group("b_cpu_1000x1ms");
    group
        .sampling_mode(SamplingMode::Flat)
        .sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(5));
    bench_group(
        &mut group,
        &mut [
            ("ours", &mut || drop(black_box(cpu_ours(iters)))),
            ("rayon", &mut || drop(black_box(cpu_rayon(iters)))),
            ("scope_thread_per_task", &mut || drop(black_box(cpu_scope(iters)))),
        ],
    );
    group.finish();

    let mut group = c.benchmark_group("c_sleep_500x10ms_100w");
    group
        .sampling_mode(SamplingMode::Flat)
        .sample_size(10)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2));
    bench_group(
        &mut group,
        &mut [
            ("ours", &mut || drop(black_box(sleep_ours()))),
            ("rayon_100", &mut || drop(black_box(sleep_rayon(pool)))),
            ("scope_thread_per_task", &mut || drop(black_box(sleep_scope()))),
        ],
    );
    group.finish();
}

// ---------------------------------------------------------------------------------------------
// The paired runs: the headline.

fn paired_benches(cores: usize, iters: u64, pool: &rayon::ThreadPool) -> Vec<Row> {
    let mut rows = Vec::new();

    // A run of (a) takes about a millisecond: many pairs are cheap and tame the noise.
    let tiny = run_paired(
        TINY,
        Contender::new(OURS, || drop(black_box(tiny_ours()))),
        vec![
            Contender::new(RAYON, || drop(black_box(tiny_rayon()))),
            Contender::new(SCOPE_CHUNKS, || drop(black_box(tiny_scope(cores)))),
        ],
        Plan { warmup: 5, pairs: 101, settle: Duration::ZERO },
    );
    rows.extend(tiny.rows(&[(RAYON, Target { max: 2.0 })]));

    // The same, each run starting from quiet threads (see `Plan::settle`): what one call of a
    // program that does other things in between costs.
    let tiny_settled = run_paired(
        TINY_SETTLED,
        Contender::new(OURS, || drop(black_box(tiny_ours()))),
        vec![Contender::new(RAYON, || drop(black_box(tiny_rayon())))],
        Plan { warmup: 5, pairs: 101, settle: Duration::from_millis(5) },
    );
    rows.extend(tiny_settled.rows(&[(RAYON, Target { max: 2.0 })]));

    let cpu = run_paired(
        CPU,
        Contender::new(OURS, || drop(black_box(cpu_ours(iters)))),
        vec![
            Contender::new(RAYON, || drop(black_box(cpu_rayon(iters)))),
            Contender::new(SCOPE_PER_TASK, || drop(black_box(cpu_scope(iters)))),
        ],
        Plan { warmup: 1, pairs: 15, settle: Duration::ZERO },
    );
    rows.extend(cpu.rows(&[(RAYON, Target { max: 1.05 })]));

    let sleep = run_paired(
        SLEEP,
        Contender::new(OURS_100, || drop(black_box(sleep_ours()))),
        vec![
            Contender::new(RAYON_100, || drop(black_box(sleep_rayon(pool)))),
            Contender::new(format!("{SCOPE_PER_TASK} (500 threads)"), || drop(black_box(sleep_scope()))),
        ],
        Plan { warmup: 3, pairs: 31, settle: Duration::ZERO },
    );
    rows.extend(sleep.rows(&[]));
    let ideal = SLEEP_TIME * (SLEEP_TASKS as u32).div_ceil(SLEEP_WORKERS as u32);
    rows.push(sleep.ideal_row("ideal: 500 × 10 ms / 100 workers", ideal, Some(Target { max: 1.10 })));

    rows
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    // `cargo bench` passes `--bench`; `cargo test` does not (then criterion runs each
    // benchmark once as a test, and the paired runs are skipped).
    let benchmarking = args.iter().any(|a| a == "--bench")
        && !args.iter().any(|a| a == "--test" || a == "--list" || a.starts_with("--profile-time"));

    let cores = thread::available_parallelism().map_or(1, |n| n.get());
    println!(
        "machine: {cores} cores ({}); ours: default max_workers = {}; rayon: {} threads in its global pool",
        cpu_model(),
        parallel::default_thread_workers(),
        rayon::current_num_threads()
    );
    let (iters, took) = calibrate(CPU_TASK_TIME);
    println!("calibration: one CPU task = {iters} spin iterations ≈ {took:?} on one thread (median of 15)");

    let pool = rayon::ThreadPoolBuilder::new().num_threads(SLEEP_WORKERS).build().expect("a 100-thread rayon pool");
    check(cores, iters, &pool);

    let mut c = Criterion::default().configure_from_args();
    criterion_benches(&mut c, cores, iters, &pool);
    c.final_summary();
    if !benchmarking {
        return;
    }

    let started = Instant::now();
    let rows = paired_benches(cores, iters, &pool);
    let now = median_spin(iters);
    println!();
    println!(
        "paired runs took {:.0?}; the calibrated CPU task now takes {now:?} (it took {took:?} at start: the drift)",
        started.elapsed()
    );
    print_results(&rows);
}
