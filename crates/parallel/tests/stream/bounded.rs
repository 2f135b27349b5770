//! Bounded memory: ten million lazy tasks (an iterator without an exact size) streamed
//! through `as_completed` on threads — four million on processes — keep the process's peak
//! resident memory (`VmHWM`) far below what keeping their outcomes would take: the stream
//! keeps nothing it handed out and reads the input as workers take it. Each runs alone in a
//! fresh process of this binary, since it measures the whole process.

use std::time::Duration;

use crate::alone;

/// A field of `/proc/self/status` in bytes (given there in kB).
fn status_bytes(field: &str) -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status");
    let line = status.lines().find(|l| l.starts_with(field)).unwrap_or_else(|| panic!("no {field}"));
    let kb: u64 = line.split_whitespace().nth(1).and_then(|n| n.parse().ok()).expect("a number of kB");
    kb * 1024
}

/// Ends the process if the test hangs (a guard, not a measure of speed).
fn watchdog(limit: Duration) {
    std::thread::spawn(move || {
        std::thread::sleep(limit);
        eprintln!("bounded: still running after {limit:?}: a hang");
        std::process::exit(3);
    });
}

const MB: u64 = 1 << 20;

/// Keeping 10,000,000 `(usize, Result<u64, FailedTask>)` outcomes takes 240 MB (24 bytes
/// each), and even 10,000,000 `(usize, u64)` 160 MB: the bound is far below both (the stream
/// measured 8 MB, from 4 MB before the call).
const THREAD_BOUND: u64 = 64 * MB;

#[test]
fn ten_million_lazy_tasks_stream_in_bounded_memory() {
    if !alone::run_alone(module_path!(), "ten_million_lazy_tasks_stream_in_bounded_memory") {
        return;
    }
    watchdog(Duration::from_secs(600));
    const TASKS: u64 = 10_000_000;
    let before = status_bytes("VmHWM:");
    let mut n = 0u64;
    let lazy = std::iter::from_fn(move || {
        n += 1;
        (n <= TASKS).then_some(n - 1)
    });
    let (mut count, mut sum, mut indices) = (0u64, 0u64, 0u64);
    for (index, outcome) in parallel::thread().as_completed(|x: u64| x.wrapping_mul(3), lazy) {
        count += 1;
        sum = sum.wrapping_add(outcome.expect("every task succeeds"));
        indices += index as u64;
    }
    let peak = status_bytes("VmHWM:");
    println!("threads: {TASKS} tasks, VmHWM {} MB before, {} MB after", before / MB, peak / MB);
    assert_eq!(count, TASKS);
    assert_eq!(indices, (TASKS - 1) * TASKS / 2);
    assert_eq!(sum, ((TASKS - 1) * TASKS / 2).wrapping_mul(3));
    assert!(peak < THREAD_BOUND, "peak resident memory {} MB, bound {} MB", peak / MB, THREAD_BOUND / MB);
}

/// Keeping 4,000,000 outcomes on processes takes 96 MB (24 bytes each), more with their
/// encoded replies: the bound leaves room for the workers' pipes and buffers only (the stream
/// measured 9 MB for 1,000,000 tasks, from 4 MB before the call).
const PROCESS_BOUND: u64 = 48 * MB;

fn triple(x: u64) -> u64 {
    x.wrapping_mul(3)
}

#[test]
fn millions_of_lazy_tasks_stream_in_bounded_memory_on_processes() {
    if !alone::run_alone(module_path!(), "millions_of_lazy_tasks_stream_in_bounded_memory_on_processes") {
        return;
    }
    watchdog(Duration::from_secs(600));
    const TASKS: u64 = 4_000_000;
    let before = status_bytes("VmHWM:");
    let lazy = (0..TASKS).filter(|_| true);
    let (mut count, mut sum) = (0u64, 0u64);
    for (index, outcome) in parallel::process().max_workers(2).as_completed(triple, lazy) {
        count += 1;
        assert_eq!(outcome.expect("every task succeeds"), index as u64 * 3);
        sum += index as u64;
    }
    let peak = status_bytes("VmHWM:");
    println!("processes: {TASKS} tasks, VmHWM {} MB before, {} MB after", before / MB, peak / MB);
    assert_eq!((count, sum), (TASKS, (TASKS - 1) * TASKS / 2));
    assert!(peak < PROCESS_BOUND, "peak resident memory {} MB, bound {} MB", peak / MB, PROCESS_BOUND / MB);
}

/// The threads of this process.
fn threads() -> usize {
    std::fs::read_dir("/proc/self/task").expect("/proc/self/task").count()
}

/// One round of every way a watched or streamed call can end: to its end, dropped midway,
/// cancelled, timed out, with a callback that panics, with a bar.
fn round() {
    let nap = |ms: u64| std::thread::sleep(Duration::from_millis(ms));
    assert_eq!(parallel::thread().max_workers(2).on_progress(|_| {}).as_completed(|x: u64| x, 0..1_000).count(), 1_000);
    let mut midway = parallel::thread().max_workers(2).as_completed(nap, vec![5; 50]);
    assert!(midway.next().is_some());
    drop(midway);
    let cancelled = parallel::thread().max_workers(2).as_completed(nap, vec![5; 50]);
    cancelled.cancel();
    assert_eq!(cancelled.count(), 50);
    let late = parallel::thread().max_workers(2).timeout(Duration::from_millis(20)).as_completed(nap, vec![1, 200]);
    assert_eq!(late.count(), 2);
    let panicky = parallel::thread().max_workers(2).on_progress(|_| panic!("on purpose: a callback that panics"));
    let caught = std::panic::catch_unwind(|| panicky.map(nap, vec![30; 10]));
    assert!(caught.is_err());
    let bar = parallel::thread().max_workers(2).progress().silent().map(|x: u64| x, 0..100);
    assert_eq!(bar.len(), 100);
}

#[test]
fn watched_and_streamed_calls_leave_no_thread_behind() {
    if !alone::run_alone(module_path!(), "watched_and_streamed_calls_leave_no_thread_behind") {
        return;
    }
    watchdog(Duration::from_secs(300));
    crate::quiet_panics();
    // Pool threads are reused and idle out after seconds: warm up, then compare 10 rounds with
    // 50 more, once the tasks abandoned by each round had time to end.
    let settled = || {
        std::thread::sleep(Duration::from_millis(400));
        threads()
    };
    (0..10).for_each(|_| round());
    let after_10 = settled();
    (0..50).for_each(|_| round());
    let after_60 = settled();
    println!("threads: {after_10} after 10 rounds, {after_60} after 60");
    assert!(after_60 <= after_10 + 2, "threads grew with the calls: {after_10} -> {after_60}");
}
