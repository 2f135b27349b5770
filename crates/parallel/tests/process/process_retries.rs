//! `retries` on the process executor: a task that crashes its worker process runs again on a
//! new one, a task past its `task_timeout` has its worker killed and runs again, and a task
//! that keeps failing reports every attempt it had. Each task counts its runs in a file of its
//! own, since every attempt may run in another process.

use std::path::PathBuf;
use std::time::Duration;

use parallel::FailureKind;

/// A fresh folder for one test's run counters.
fn folder(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("parallel-retries-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Counts one more run of the task whose counter is `path`; the number of this run.
fn count_run(path: &str) -> u32 {
    let runs = std::fs::read_to_string(path).ok().and_then(|s| s.trim().parse().ok()).unwrap_or(0) + 1;
    std::fs::write(path, runs.to_string()).unwrap();
    runs
}

/// Its first two runs abort the worker process; the third returns the run number.
fn crashes_twice(path: String) -> u32 {
    let run = count_run(&path);
    if run < 3 {
        std::process::abort();
    }
    run
}

/// Its first run hangs; later runs return the run number.
fn hangs_once(path: String) -> u32 {
    let run = count_run(&path);
    if run == 1 {
        std::thread::sleep(Duration::from_secs(60));
    }
    run
}

fn always_exits(path: String) -> u32 {
    count_run(&path);
    std::process::exit(7)
}

#[test]
fn a_task_that_crashes_its_worker_twice_succeeds_on_its_third_worker() {
    let dir = folder("crash");
    let paths: Vec<String> = (0..4).map(|i| dir.join(i.to_string()).display().to_string()).collect();
    let out = parallel::process().max_workers(2).retries(2).map(crashes_twice, paths).unwrap();
    assert_eq!(out, vec![3, 3, 3, 3]);
}

#[test]
fn a_task_past_its_task_timeout_is_killed_and_runs_again() {
    let dir = folder("timeout");
    let paths: Vec<String> = (0..2).map(|i| dir.join(i.to_string()).display().to_string()).collect();
    let out = parallel::process().retries(1).task_timeout(Duration::from_millis(500)).map(hangs_once, paths);
    assert_eq!(out.unwrap(), vec![2, 2]);
}

#[test]
fn a_task_that_always_crashes_fails_crashed_after_every_attempt() {
    let dir = folder("always");
    let path = dir.join("0").display().to_string();
    let results = parallel::process().silent().retries(2).map(always_exits, vec![path.clone()]);
    let failed = results[0].as_ref().unwrap_err();
    assert_eq!(*failed.kind(), FailureKind::Crashed { signal: None, code: Some(7) });
    assert_eq!(failed.attempts(), 3);
    assert_eq!(std::fs::read_to_string(path).unwrap(), "3", "it ran three times");
}
