//! The process executor against the thread executor and procspawn's pool, on three workloads:
//!
//! * (a) 1,000,000 tiny tasks (`double(x) = x * 2` on `u64`, inputs `0..1_000_000`): ours
//!   (`parallel::process().map`) vs `parallel::map` (threads) vs a `procspawn::Pool` with one
//!   process per core. procspawn makes one round trip (two IPC channels) per task, so it runs
//!   10,000 of the tasks and its times are scaled ×100 in the table (labelled so); ours is also
//!   held to ≥ 5,000,000 tasks/s (issue 11; it was 1,000,000 before);
//! * (b) 1,000 CPU tasks of ~1 ms each (a spin loop calibrated at start-up): ours with one
//!   worker process per core (the default) vs ours with `max_workers(1)` (target: ≥ 1.8×
//!   faster, i.e. a time ratio ≤ 0.556) vs a plain loop on the calling thread (what one
//!   worker should cost, without the round trips) vs `parallel::map` vs procspawn's pool;
//! * (c) a call after the program idled: a call of 4 tiny tasks after 6 s idle vs the same call
//!   right after. Pool threads exit after 5 s idle, so the first call starts threads anew; the
//!   worker processes wait in the stash (kept 5 minutes), so it reuses them. procspawn's
//!   equivalent is `Pool::new` + 4 tasks. (Until issue 4, workers lived in the pool threads
//!   and died with them: this row measured a worker's start, ~2 ms.)
//!
//! (a) and (b) come from *paired* runs (see `common`): ours and a peer alternate, each pair gives
//! a ratio ours / peer, and the table reports the median of those ratios. See
//! docs/benchmarks.md.
//!
//! Run with `cargo bench --bench process` (`make bench`); about 2 minutes. Under `cargo test`
//! every contender runs once on small sizes, as a check, and the paired runs are skipped.
//! `BENCH_WORKLOAD=a cargo bench --bench process` runs workload (a) alone (its check and its
//! paired runs, about 30 s); `b` and `c` likewise run one workload.

mod common;

use std::collections::VecDeque;
use std::hint::black_box;
use std::thread;
use std::time::{Duration, Instant};

use serde::de::DeserializeOwned;
use serde::Serialize;

use common::{
    calibrate, format_duration, median_duration, median_spin, print_results, run_paired, spin, Contender, Pair, Paired,
    PeerSamples, Plan, Row, Target,
};

/// (a): how many tiny tasks, and how many of them procspawn runs (its time is scaled up).
const TINY_TASKS: u64 = 1_000_000;
const PROCSPAWN_TINY_TASKS: u64 = 10_000;
/// (a): the throughput target, tasks per second.
const TINY_TARGET_RATE: f64 = 5_000_000.0;
/// (b): how many CPU tasks, and how long each should take on one thread.
const CPU_TASKS: u64 = 1_000;
const CPU_TASK_TIME: Duration = Duration::from_millis(1);
/// (b): ours with every core against ours with one worker: at least 1.8× faster.
const SPEEDUP_TARGET: f64 = 1.8;
/// (c): how many tasks a start-up call runs, how many samples, and the pause before each: more
/// than the 5 s after which an idle pool thread exits.
const COLD_TASKS: u64 = 4;
const COLD_SAMPLES: usize = 5;
const IDLE: Duration = Duration::from_secs(6);
/// procspawn: at most this many tasks spawned and not yet joined (each holds IPC channels, that
/// is file descriptors, until joined).
const PROCSPAWN_IN_FLIGHT: usize = 256;

const TINY: &str = "(a) 1M tiny tasks (`x * 2`)";
const CPU: &str = "(b) 1000 CPU tasks × ~1 ms";
const COLD: &str = "(c) 4 tiny tasks, first call after 6 s idle (new threads, stashed workers)";
const WARM: &str = "(c) 4 tiny tasks, right after (warm)";

const OURS: &str = "ours: `process().map` (1 worker process per core)";
const OURS_ONE: &str = "ours: `process().max_workers(1).map`";
const OURS_COLD: &str = "ours: `process().map`, cold";
const OURS_WARM_PEER: &str = "ours: the same call right after (warm)";
const OURS_WARM: &str = "ours: `process().map`, warm";
const THREADS: &str = "`parallel::map` (threads)";
const LOOP: &str = "a plain loop on the calling thread (no executor)";
const TARGET_RATE: &str = "target: 5,000,000 tasks/s (1M tasks in 200 ms)";

// ---------------------------------------------------------------------------------------------
// The workloads, one function per contender.

fn double(x: u64) -> u64 {
    x * 2
}

fn tiny_process(n: u64) -> Vec<u64> {
    parallel::process().map(double, 0..n).expect("no tiny task fails")
}

fn tiny_threads(n: u64) -> Vec<u64> {
    parallel::map(double, 0..n).expect("no tiny task fails")
}

/// Runs `f` on every input in `pool`, one `spawn` (one round trip) per task as procspawn's
/// pool is meant to be used, with at most [`PROCSPAWN_IN_FLIGHT`] tasks not yet joined;
/// results in input order.
fn procspawn_map<A, R>(pool: &procspawn::Pool, f: fn(A) -> R, inputs: impl IntoIterator<Item = A>) -> Vec<R>
where
    A: Serialize + DeserializeOwned,
    R: Serialize + DeserializeOwned + Send + 'static,
{
    let join = |handle: procspawn::JoinHandle<R>| handle.join().expect("no procspawn task fails");
    let mut in_flight = VecDeque::with_capacity(PROCSPAWN_IN_FLIGHT);
    let mut out = Vec::new();
    for input in inputs {
        if in_flight.len() == PROCSPAWN_IN_FLIGHT {
            out.push(join(in_flight.pop_front().expect("a full window")));
        }
        in_flight.push_back(pool.spawn(input, f));
    }
    out.extend(in_flight.into_iter().map(join));
    out
}

fn tiny_procspawn(pool: &procspawn::Pool, n: u64) -> Vec<u64> {
    procspawn_map(pool, double, 0..n)
}

/// A CPU task for the process executor: the iteration count comes as the call's extras.
fn spin_task(seed: u64, iters: &u64) -> u64 {
    spin(*iters, seed)
}

/// A CPU task for procspawn: seed and iteration count come as the task's argument.
fn spin_pair((seed, iters): (u64, u64)) -> u64 {
    spin(iters, seed)
}

fn cpu_process(iters: u64, n: u64, workers: Option<usize>) -> Vec<u64> {
    let executor = parallel::process();
    let executor = match workers {
        Some(w) => executor.max_workers(w),
        None => executor,
    };
    executor.extras(iters).map(spin_task, 0..n).expect("no CPU task fails")
}

/// The baseline without any executor: a plain loop on the calling thread.
fn cpu_loop(iters: u64, n: u64) -> Vec<u64> {
    (0..n).map(|seed| spin(iters, seed)).collect()
}

fn cpu_threads(iters: u64, n: u64) -> Vec<u64> {
    parallel::map(move |seed: u64| spin(iters, seed), 0..n).expect("no CPU task fails")
}

fn cpu_procspawn(pool: &procspawn::Pool, iters: u64, n: u64) -> Vec<u64> {
    procspawn_map(pool, spin_pair, (0..n).map(|seed| (seed, iters)))
}

fn new_procspawn_pool(cores: usize) -> procspawn::Pool {
    procspawn::Pool::new(cores).expect("a procspawn pool")
}

// ---------------------------------------------------------------------------------------------
// Set-up: calibration, a check that every contender computes the same thing, diagnostics.

/// Runs every contender of every workload once on `tiny` tiny tasks (procspawn on
/// `procspawn_tiny`) and `cpu` CPU tasks, and checks they agree.
fn check(pool: &procspawn::Pool, iters: u64, tiny: u64, procspawn_tiny: u64, cpu: u64) {
    let expected: Vec<u64> = (0..tiny).map(double).collect();
    assert!(tiny_process(tiny) == expected, "(a) process map differs");
    assert!(tiny_threads(tiny) == expected, "(a) thread map differs");
    assert!(tiny_procspawn(pool, procspawn_tiny)[..] == expected[..procspawn_tiny as usize], "(a) procspawn differs");
    let expected: Vec<u64> = (0..cpu).map(|seed| spin(iters, seed)).collect();
    assert!(cpu_process(iters, cpu, None) == expected, "(b) process map differs");
    assert!(cpu_process(iters, cpu, Some(1)) == expected, "(b) process map, one worker, differs");
    assert!(cpu_loop(iters, cpu) == expected, "(b) the plain loop differs");
    assert!(cpu_threads(iters, cpu) == expected, "(b) thread map differs");
    assert!(cpu_procspawn(pool, iters, cpu) == expected, "(b) procspawn differs");
}

/// How many of our worker processes are alive: children of this process that were started in
/// worker mode (`/proc/<pid>/environ` keeps the environment they started with).
fn live_workers() -> usize {
    let me = std::process::id().to_string();
    let Ok(entries) = std::fs::read_dir("/proc") else { return 0 };
    entries
        .filter_map(Result::ok)
        .filter(|e| e.file_name().to_str().is_some_and(|n| n.bytes().all(|b| b.is_ascii_digit())))
        .filter(|e| {
            let stat = std::fs::read_to_string(e.path().join("stat")).unwrap_or_default();
            // `pid (comm) state ppid …`; comm may hold spaces and parentheses.
            let ppid = stat.rsplit_once(')').and_then(|(_, rest)| rest.split_whitespace().nth(1).map(str::to_owned));
            ppid.as_deref() == Some(me.as_str())
        })
        .filter(|e| {
            std::fs::read(e.path().join("environ"))
                .is_ok_and(|env| env.split(|&b| b == 0).any(|var| var.starts_with(b"PARALLEL_WORKER=")))
        })
        .count()
}

/// How many pool threads this process has (named `parallel-worker`).
fn pool_threads() -> usize {
    let Ok(tasks) = std::fs::read_dir("/proc/self/task") else { return 0 };
    tasks
        .filter_map(Result::ok)
        .filter(|t| std::fs::read_to_string(t.path().join("comm")).is_ok_and(|c| c.trim() == "parallel-worker"))
        .count()
}

/// Our worker processes and pool threads alive now.
fn census() -> String {
    format!("{} of our worker processes alive, {} pool threads", live_workers(), pool_threads())
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

fn rate(tasks: u64, took: Duration) -> String {
    let per_second = tasks as f64 / took.as_secs_f64();
    if per_second >= 1e6 {
        format!("{:.2}M tasks/s", per_second / 1e6)
    } else {
        format!("{:.0}k tasks/s", per_second / 1e3)
    }
}

// ---------------------------------------------------------------------------------------------
// The measurements.

/// The environment variable that picks one workload (`a`, `b` or `c`); all run without it.
const WORKLOAD_ENV: &str = "BENCH_WORKLOAD";

/// `true` if workload `name` runs: no workload was picked, or this one was.
fn runs(name: &str) -> bool {
    std::env::var(WORKLOAD_ENV).map_or(true, |picked| picked == name)
}

/// (a) and (b), paired.
fn paired_benches(cores: usize, iters: u64, pool: &procspawn::Pool) -> Vec<Row> {
    let mut rows = Vec::new();
    if runs("a") {
        rows.extend(paired_tiny(pool));
    }
    if runs("b") {
        rows.extend(paired_cpu(cores, iters, pool));
    }
    rows
}

/// (a), paired.
fn paired_tiny(pool: &procspawn::Pool) -> Vec<Row> {
    let mut rows = Vec::new();
    let cores = thread::available_parallelism().map_or(1, |n| n.get());
    let scale = (TINY_TASKS / PROCSPAWN_TINY_TASKS) as u32;
    let procspawn_tiny = format!(
        "procspawn `Pool` ({cores} processes): {PROCSPAWN_TINY_TASKS} tasks, time ×{scale} (one round trip per task)"
    );

    // A run of ours takes about half a second, procspawn's 10,000 tasks about as much.
    let mut tiny = run_paired(
        TINY,
        Contender::new(OURS, || drop(black_box(tiny_process(TINY_TASKS)))),
        vec![
            Contender::new(THREADS, || drop(black_box(tiny_threads(TINY_TASKS)))),
            Contender::new(procspawn_tiny.clone(), || drop(black_box(tiny_procspawn(pool, PROCSPAWN_TINY_TASKS)))),
        ],
        Plan { warmup: 1, pairs: 15, settle: Duration::ZERO },
    );
    for peer in tiny.peers.iter_mut().filter(|p| p.name == procspawn_tiny) {
        for pair in &mut peer.pairs {
            pair.theirs *= scale;
        }
    }
    let tiny_rows = tiny.rows(&[]);
    let target_row = tiny.ideal_row(
        TARGET_RATE,
        Duration::from_secs_f64(TINY_TASKS as f64 / TINY_TARGET_RATE),
        Some(Target { max: 1.0 }),
    );
    println!(
        "(a) throughput (medians): ours {}, `parallel::map` {}, procspawn {} (measured on {PROCSPAWN_TINY_TASKS} tasks)",
        rate(TINY_TASKS, target_row.ours),
        rate(TINY_TASKS, tiny_rows[0].theirs),
        rate(TINY_TASKS, tiny_rows[1].theirs),
    );
    println!(
        "(a) procspawn takes {:.0}× ours' time per task (median of pairs; the table's ratio rounds it)",
        1.0 / tiny_rows[1].ratio
    );
    println!("(a) after the runs: {}", census());
    rows.extend(tiny_rows);
    rows.push(target_row);
    rows
}

/// (b), paired.
fn paired_cpu(cores: usize, iters: u64, pool: &procspawn::Pool) -> Vec<Row> {
    let mut rows = Vec::new();
    // A run takes 0.5–1 s (one worker: twice that).
    let cpu = run_paired(
        CPU,
        Contender::new(OURS, || drop(black_box(cpu_process(iters, CPU_TASKS, None)))),
        vec![
            Contender::new(OURS_ONE, || drop(black_box(cpu_process(iters, CPU_TASKS, Some(1))))),
            Contender::new(LOOP, || drop(black_box(cpu_loop(iters, CPU_TASKS)))),
            Contender::new(THREADS, || drop(black_box(cpu_threads(iters, CPU_TASKS)))),
            Contender::new(format!("procspawn `Pool` ({cores} processes)"), || {
                drop(black_box(cpu_procspawn(pool, iters, CPU_TASKS)))
            }),
        ],
        Plan { warmup: 1, pairs: 11, settle: Duration::ZERO },
    );
    let cpu_rows = cpu.rows(&[(OURS_ONE, Target { max: 1.0 / SPEEDUP_TARGET })]);
    println!(
        "(b) speed-up of ours (median of pairs): {:.2}× ours with one worker, {:.2}× a plain loop (target: ≥ {SPEEDUP_TARGET}× one worker)",
        1.0 / cpu_rows[0].ratio,
        1.0 / cpu_rows[1].ratio,
    );
    rows.extend(cpu_rows);
    println!("(b) after the runs: {}", census());
    rows
}

/// (c): `samples` rounds, each after `idle`: ours cold then warm, and procspawn's `Pool::new`
/// plus the same call, then the same call again — ours first in even rounds, procspawn first
/// in odd ones.
fn cold_starts(cores: usize, samples: usize, idle: Duration) -> Vec<Row> {
    let name_cold = format!("procspawn: `Pool::new({cores})` + the call");
    let name_warm = "procspawn: the same call right after, same pool".to_owned();
    let expected: Vec<u64> = (0..COLD_TASKS).map(double).collect();
    let timed = |run: &mut dyn FnMut() -> Vec<u64>| {
        let start = Instant::now();
        let out = run();
        let took = start.elapsed();
        assert!(out == expected, "(c) results differ");
        took
    };
    let mut cold = Paired {
        workload: COLD.to_owned(),
        baseline: OURS_COLD.to_owned(),
        peers: vec![
            PeerSamples { name: OURS_WARM_PEER.to_owned(), pairs: Vec::new() },
            PeerSamples { name: name_cold.clone(), pairs: Vec::new() },
        ],
    };
    let mut warm = Paired {
        workload: WARM.to_owned(),
        baseline: OURS_WARM.to_owned(),
        peers: vec![PeerSamples { name: name_warm, pairs: Vec::new() }],
    };
    let mut alive_before = Vec::new();
    for round in 0..samples {
        thread::sleep(idle);
        alive_before.push(live_workers());
        let ours = || {
            let cold = timed(&mut || tiny_process(COLD_TASKS));
            (cold, timed(&mut || tiny_process(COLD_TASKS)))
        };
        let theirs = || {
            let mut pool = None;
            let cold = timed(&mut || tiny_procspawn(pool.insert(new_procspawn_pool(cores)), COLD_TASKS));
            let pool = pool.expect("made by the cold call");
            let warm = timed(&mut || tiny_procspawn(&pool, COLD_TASKS));
            pool.kill();
            (cold, warm)
        };
        let ours_first = round % 2 == 0;
        let ((ours_cold, ours_warm), (theirs_cold, theirs_warm)) = if ours_first {
            let ours = ours();
            (ours, theirs())
        } else {
            let theirs = theirs();
            (ours(), theirs)
        };
        cold.peers[0].pairs.push(Pair { ours: ours_cold, theirs: ours_warm, ours_first: true });
        cold.peers[1].pairs.push(Pair { ours: ours_cold, theirs: theirs_cold, ours_first });
        warm.peers[0].pairs.push(Pair { ours: ours_warm, theirs: theirs_warm, ours_first });
    }
    println!("(c) our worker processes alive before each cold call: {alive_before:?} (0 = cold)");
    let mut rows = cold.rows(&[]);
    rows[0].by_order = None; // the cold call always runs first: no order to check
    let start_up: Vec<Duration> =
        cold.peers[0].pairs.iter().map(|p| p.ours.saturating_sub(p.theirs)).collect::<Vec<_>>();
    println!(
        "(c) start-up cost (cold − warm, median of {samples}): ours {}; procspawn {}",
        format_duration(median_duration(&start_up)),
        format_duration(median_duration(
            &cold.peers[1]
                .pairs
                .iter()
                .zip(&warm.peers[0].pairs)
                .map(|(c, w)| c.theirs.saturating_sub(w.theirs))
                .collect::<Vec<_>>()
        )),
    );
    rows.extend(warm.rows(&[]));
    rows
}

fn main() {
    // Worker processes of either kind serve here and never return: ours (which also serve
    // before `main`), then procspawn's (whose children re-run `main` with the same arguments).
    parallel::init();
    procspawn::init();

    let args: Vec<String> = std::env::args().collect();
    // `cargo bench` passes `--bench`; `cargo test` does not (then every contender runs once on
    // small sizes, and the timed runs are skipped).
    let benchmarking = args.iter().any(|a| a == "--bench")
        && !args.iter().any(|a| a == "--test" || a == "--list" || a.starts_with("--profile-time"));

    let cores = thread::available_parallelism().map_or(1, |n| n.get());
    println!(
        "machine: {cores} cores ({}); ours: default max_workers = {cores} worker processes; `parallel::map`: {} threads; \
         procspawn: a pool of {cores} processes",
        cpu_model(),
        parallel::default_thread_workers(),
    );
    let (iters, took) = calibrate(CPU_TASK_TIME);
    println!("calibration: one CPU task = {iters} spin iterations ≈ {took:?} on one thread (median of 15)");

    let pool = new_procspawn_pool(cores);
    if !benchmarking {
        check(&pool, iters, 10_000, 1_000, 50);
        cold_starts(cores, 1, Duration::ZERO);
        println!("process bench: every contender ran once (small sizes) and agreed; `cargo bench` times them");
        return;
    }
    check(&pool, iters, TINY_TASKS, PROCSPAWN_TINY_TASKS, CPU_TASKS);

    let started = Instant::now();
    let mut rows = paired_benches(cores, iters, &pool);
    drop(pool);
    if runs("c") {
        rows.extend(cold_starts(cores, COLD_SAMPLES, IDLE));
    }
    let now = median_spin(iters);
    println!();
    println!(
        "timed runs took {:.0?}; the calibrated CPU task now takes {now:?} (it took {took:?} at start: the drift)",
        started.elapsed()
    );
    print_results(&rows);
}
