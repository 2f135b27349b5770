//! The MPI executor on 3 ranks against the process executor, on this one machine, in the same
//! run: `parallel::mpi()` with every rank's worker slots vs `parallel::process()` with one
//! worker process per core, on two workloads:
//!
//! * (a) 200,000 tiny tasks (`x * 2` on `u64`): what a task costs when it does nothing — the
//!   batches crossing to the ranks (MPI messages) and to the worker processes (pipes);
//! * (b) 600 CPU tasks of ~1 ms each (a spin loop calibrated at start-up).
//!
//! Runs are paired (see `common`): the two executors alternate — A B, B A, … — each pair gives
//! a ratio mpi / process, and the table reports the median of those ratios. On one machine the
//! ranks share its cores with rank 0, so a ratio near 1 is the best this can show; the MPI
//! executor is for more machines than one.
//!
//! `cargo bench --features mpi --bench mpi` (`make bench-mpi`): the bench starts itself again
//! under `mpirun -n 3` (`MPI_BENCH_RANKS` for another count, `MPI_BENCH_PAIRS` for the pairs,
//! default 7); about 10 s on 2 cores, after its release build.

mod common;

use std::hint::black_box;
use std::process::Command;
use std::time::Duration;

use common::{calibrate, format_duration, print_results, run_paired, spin, Contender, Plan};

const TINY_TASKS: u64 = 200_000;
const CPU_TASKS: u64 = 600;
const CPU_TASK_TIME: Duration = Duration::from_millis(1);

fn double(x: u64) -> u64 {
    x * 2
}

fn cpu(iters: u64, seed: u64) -> u64 {
    spin(iters, seed)
}

fn main() {
    if std::env::var_os("OMPI_COMM_WORLD_SIZE").is_none() {
        std::process::exit(under_mpirun());
    }
    parallel::mpi::init();
    // Under `cargo test` (no `--bench`): each side once, on a twentieth of the tasks, as a check.
    let quick = !std::env::args().any(|a| a == "--bench");
    let pairs = std::env::var("MPI_BENCH_PAIRS").ok().and_then(|p| p.parse().ok()).unwrap_or(7);
    let plan = if quick {
        Plan { warmup: 0, pairs: 1, settle: Duration::ZERO }
    } else {
        Plan { warmup: 1, pairs, settle: Duration::from_millis(50) }
    };
    let scale = if quick { 20 } else { 1 };
    let (tiny_tasks, cpu_tasks) = (TINY_TASKS / scale, CPU_TASKS / scale);

    let tiny = run_paired(
        "(a) 200k tiny tasks (`x * 2`)",
        Contender::new("mpi (3 ranks)", || {
            black_box(parallel::mpi().map(double, 0..tiny_tasks).unwrap());
        }),
        vec![Contender::new("process", || {
            black_box(parallel::process().map(double, 0..tiny_tasks).unwrap());
        })],
        plan,
    );
    let (iters, took) = calibrate(CPU_TASK_TIME);
    eprintln!("a CPU task: {iters} spins, {}", format_duration(took));
    let params: Vec<(u64, u64)> = (0..cpu_tasks).map(|seed| (iters, seed)).collect();
    let cpu_params = params.clone();
    let cpu_work = run_paired(
        "(b) 600 CPU tasks × ~1 ms",
        Contender::new("mpi (3 ranks)", move || {
            black_box(parallel::mpi().map(cpu, params.clone()).unwrap());
        }),
        vec![Contender::new("process", move || {
            black_box(parallel::process().map(cpu, cpu_params.clone()).unwrap());
        })],
        plan,
    );
    let rows: Vec<_> = [tiny, cpu_work].iter().flat_map(|paired| paired.rows(&[])).collect();
    print_results(&rows);
    for row in &rows {
        let (tasks, name) = if row.workload.starts_with("(a)") { (tiny_tasks, "tiny") } else { (cpu_tasks, "cpu") };
        let rate = |d: Duration| tasks as f64 / d.as_secs_f64();
        println!(
            "- {name}: mpi {:.0} tasks/s ({:.2} µs a task), process {:.0} tasks/s ({:.2} µs a task)",
            rate(row.ours),
            row.ours.as_secs_f64() * 1e6 / tasks as f64,
            rate(row.theirs),
            row.theirs.as_secs_f64() * 1e6 / tasks as f64,
        );
    }
}

/// Runs this bench again as the ranks of an MPI job; its exit code.
fn under_mpirun() -> i32 {
    let ranks = std::env::var("MPI_BENCH_RANKS").unwrap_or_else(|_| "3".into());
    let exe = std::env::current_exe().expect("the bench's executable");
    let args: Vec<String> = std::env::args().skip(1).collect();
    let status = Command::new("mpirun")
        .args(["-n", &ranks])
        .arg(exe)
        .args(args)
        .env("OMPI_ALLOW_RUN_AS_ROOT", "1")
        .env("OMPI_ALLOW_RUN_AS_ROOT_CONFIRM", "1")
        .env("OMPI_MCA_rmaps_base_oversubscribe", "1")
        .status()
        .expect("mpirun starts (install Open MPI: apt-get install libopenmpi-dev openmpi-bin libclang-dev)");
    status.code().unwrap_or(1)
}
