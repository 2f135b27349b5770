//! On the process executor, as on threads: no task starts once `cancel()` returned, the tasks
//! after a strict call's failure never run — also those of a batch already sent to a worker —
//! and `par` keeps the memory limit.

use std::io::Write;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use parallel::prelude::*;
use parallel::FailureKind;

/// Records that task `index` started (one line in the file at `log`), then spins ~20 µs;
/// task `fail_at` panics.
fn logged((log, index, fail_at): (String, u32, u32)) -> u32 {
    let mut file = std::fs::OpenOptions::new().append(true).create(true).open(&log).unwrap();
    file.write_all(format!("{index}\n").as_bytes()).unwrap(); // one write: lines never interleave
    drop(file);
    assert_ne!(index, fail_at, "task {index} asked to fail");
    let until = Instant::now() + Duration::from_micros(20);
    while Instant::now() < until {
        std::hint::spin_loop();
    }
    index
}

fn started(log: &PathBuf) -> Vec<u32> {
    std::fs::read_to_string(log).unwrap_or_default().lines().map(|l| l.parse().unwrap()).collect()
}

fn log_file(name: &str) -> PathBuf {
    let path = std::env::temp_dir().join(format!("parallel-{name}-{}.log", std::process::id()));
    let _ = std::fs::remove_file(&path);
    path
}

#[test]
fn no_task_starts_once_cancel_returned() {
    let log = log_file("cancel");
    let params: Vec<_> = (0..20_000).map(|i| (log.display().to_string(), i, u32::MAX)).collect();
    let handle = parallel::process().max_workers(1).silent().async_map(logged, params);
    let deadline = Instant::now() + Duration::from_secs(30);
    while started(&log).len() < 200 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(1));
    }
    handle.cancel();
    let at_cancel = started(&log).len();
    let results = handle.wait();
    std::thread::sleep(Duration::from_millis(100));
    let ran = started(&log).len();
    // The one task that had passed its check when `cancel` ran may record itself just after.
    assert!(ran <= at_cancel + 1, "{} tasks started after cancel() returned", ran - at_cancel);
    assert!(ran < 20_000, "the call was not cancelled");
    assert_eq!(results.succeeded().len(), ran);
    assert!(results.failed().iter().all(|f| *f.kind() == FailureKind::Cancelled));
    let _ = std::fs::remove_file(&log);
}

#[test]
fn a_strict_call_runs_no_task_after_its_failure() {
    let log = log_file("strict");
    let params: Vec<_> = (0..5_000).map(|i| (log.display().to_string(), i, 100)).collect();
    let error = parallel::process().max_workers(1).map(logged, params).unwrap_err();
    let parallel::Error::Task(failed) = error else { panic!("{error}") };
    assert_eq!(failed.index(), 100);
    std::thread::sleep(Duration::from_millis(200)); // anything still running would log by now
    let ran = started(&log);
    let late: Vec<_> = ran.iter().filter(|&&i| i > 100).collect();
    assert!(late.is_empty(), "{} tasks after the failed one ran (up to {:?})", late.len(), late.last());
    let _ = std::fs::remove_file(&log);
}

/// Waits (at most 30 s) until the file `{log}.go` exists, then does what [`logged`] does.
fn gated((log, index, fail_at): (String, u32, u32)) -> u32 {
    let deadline = Instant::now() + Duration::from_secs(30);
    while index > fail_at && !std::path::Path::new(&format!("{log}.go")).exists() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(1));
    }
    logged((log, index, fail_at))
}

#[test]
fn a_strict_call_stops_the_batches_other_workers_hold() {
    // Tasks after 300 wait at a gate: whichever worker gets there first holds a batch of
    // them, its first task waiting. Task 300 fails on the other worker; only then does the
    // gate open. The waiting task had started; the rest of its batch must never run.
    let log = log_file("strict-many");
    let params: Vec<_> = (0..20_000).map(|i| (log.display().to_string(), i, 300)).collect();
    let error = parallel::process().max_workers(2).try_map(
        |p: (String, u32, u32)| if p.1 == p.2 { Err(format!("task {} asked to fail", p.1)) } else { Ok(gated(p)) },
        params,
    );
    let parallel::Error::Task(failed) = error.unwrap_err() else { panic!("not a task failure") };
    assert_eq!(failed.index(), 300);
    std::fs::write(format!("{}.go", log.display()), b"").unwrap();
    std::thread::sleep(Duration::from_millis(300)); // anything still let run would log by now
    let late: Vec<u32> = started(&log).into_iter().filter(|&i| i > 300).collect();
    assert!(late.len() <= 1, "{} tasks after the failed one ran: {:?}…", late.len(), &late[..late.len().min(5)]);
    let _ = std::fs::remove_file(&log);
    let _ = std::fs::remove_file(format!("{}.go", log.display()));
}

fn hog(mib: usize) -> usize {
    let v = vec![1u8; mib << 20];
    v.iter().step_by(4096).map(|&b| b as usize).sum::<usize>()
}

#[test]
fn par_keeps_the_memory_limit() {
    let results = parallel::process().memory_limit(256 << 20).silent().par(vec![hog.remote(1), hog.remote(1024)]);
    assert_eq!(results[0], Ok(256));
    let failed = results[1].as_ref().unwrap_err();
    assert!(matches!(failed.kind(), FailureKind::Crashed { .. }), "{failed:?}");
    // And a call without a limit, on the same pool threads, has none.
    let results = parallel::process().silent().par(vec![hog.remote(1024)]);
    assert_eq!(results[0], Ok(256 << 10));
}
