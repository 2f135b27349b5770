//! The MPI executor's checks, one scenario per job: `mpirun -n 3 mpi_check <scenario>`, run by
//! the `mpi` integration test (crates/parallel/tests/mpi). Rank 0 prints `ok <scenario>` once
//! every check of it held; a check that fails panics, and a panic on rank 0 ends the job.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use parallel::prelude::*;
use parallel::FailureKind;

fn square(x: u64) -> u64 {
    x * x
}

/// The rank whose worker process ran the task (the worker inherits its rank's environment).
fn rank_of(_: u32) -> String {
    std::thread::sleep(Duration::from_millis(20));
    std::env::var("OMPI_COMM_WORLD_RANK").unwrap_or_default()
}

fn inverse(x: i64) -> i64 {
    100 / x
}

fn add(x: u64, offset: &u64) -> u64 {
    x + offset
}

fn parse(s: String) -> Result<u32, std::num::ParseIntError> {
    s.parse()
}

fn shout(s: String) -> String {
    s.to_uppercase()
}

/// Aborts its worker process for 13, segfaults it for 17.
fn crash(x: u32) -> u32 {
    if x == 13 {
        std::process::abort();
    }
    if x == 17 {
        // SAFETY: raising a signal has no precondition; SIGSEGV kills this worker process,
        // which is the point.
        unsafe { libc::raise(libc::SIGSEGV) };
    }
    x
}

fn nap(ms: u64) -> u64 {
    std::thread::sleep(Duration::from_millis(ms));
    ms
}

fn main() {
    parallel::mpi::init();
    let scenario = std::env::args().nth(1).unwrap_or_default();
    match scenario.as_str() {
        "map" => map(),
        "try_map" => try_map(),
        "par" => par(),
        "crash" => crashes(),
        "timeout" => timeouts(),
        "panic" => {
            assert_eq!(parallel::mpi().map(square, 0..10).unwrap()[3], 9);
            panic!("rank 0 gives up");
        }
        "other" => {
            let _ = parallel::mpi().map(square, 0..10);
        }
        other => panic!("no scenario {other:?}"),
    }
    println!("ok {scenario}");
}

fn map() {
    let squares = parallel::mpi().map(square, 0..1_000).unwrap();
    assert_eq!(squares, (0..1_000).map(|x| x * x).collect::<Vec<u64>>());
    // 100,000 tiny tasks, in order.
    let many = parallel::mpi().map(square, 0..100_000).unwrap();
    assert!(many.iter().enumerate().all(|(i, v)| *v == (i * i) as u64));
    // The tasks ran on every rank.
    let ranks: BTreeSet<String> = parallel::mpi().map(rank_of, 0..60).unwrap().into_iter().collect();
    assert_eq!(ranks, ["0", "1", "2"].map(String::from).into(), "the ranks that ran tasks");
    // Extras cross; so do max_workers and closures that capture nothing.
    assert_eq!(parallel::mpi().extras(10u64).map(add, 0..3).unwrap(), vec![10, 11, 12]);
    assert_eq!(parallel::mpi().max_workers(1).map(|x: u32| x + 1, 0..5).unwrap(), vec![1, 2, 3, 4, 5]);
    // Strict: the first failure in input order.
    let inputs: Vec<i64> = (0..5_000).map(|i| if i == 700 || i == 4_000 { 0 } else { i + 1 }).collect();
    let err = parallel::mpi().map(inverse, inputs).unwrap_err();
    let parallel::Error::Task(failed) = &err else { panic!("not a task's failure: {err}") };
    assert_eq!((failed.index(), failed.kind()), (700, &FailureKind::Panicked), "{err}");
    assert_eq!(failed.params(), "0");
    // Silent: every outcome in its place.
    let out = parallel::mpi().silent().map(inverse, vec![5, 0, 4]);
    assert_eq!(out.replace_failed(-1), vec![20, -1, 25]);
}

fn try_map() {
    let words: Vec<String> = ["7", "x", "12", "-1"].map(String::from).to_vec();
    let out = parallel::mpi().silent().try_map(parse, words.clone());
    assert_eq!(out[0], Ok(7));
    assert_eq!(out[2], Ok(12));
    for (index, param) in [(1, "\"x\""), (3, "\"-1\"")] {
        let failed = out[index].as_ref().unwrap_err();
        assert_eq!((failed.index(), failed.kind(), failed.params()), (index, &FailureKind::Error, param));
        assert_eq!(failed.message(), "invalid digit found in string");
    }
    let err = parallel::mpi().try_map(parse, words).unwrap_err();
    assert_eq!(err.to_string(), "task 1 with parameters \"x\" returned an error: invalid digit found in string");
}

fn par() {
    let (n, s) = parallel::mpi().par((square.remote(7), shout.remote("hi".to_owned()))).unwrap();
    assert_eq!((n, s.as_str()), (49, "HI"));
    let squares = parallel::mpi().par((0..20).map(|x| square.remote(x)).collect::<Vec<_>>()).unwrap();
    assert_eq!(squares, (0..20).map(|x| x * x).collect::<Vec<u64>>());
    let (a, b) = parallel::mpi().silent().par((inverse.remote(0), inverse.remote(50)));
    assert_eq!(*a.unwrap_err().kind(), FailureKind::Panicked);
    assert_eq!(b.unwrap(), 2);
}

fn crashes() {
    let out = parallel::mpi().silent().map(crash, 0..40);
    let kind = |i: usize| out[i].as_ref().unwrap_err().kind().clone();
    assert_eq!(kind(13), FailureKind::Crashed { signal: Some(6), code: None });
    assert_eq!(kind(17), FailureKind::Crashed { signal: Some(11), code: None });
    assert_eq!(out[17].as_ref().unwrap_err().params(), "17");
    for (i, outcome) in out.iter().enumerate().filter(|(i, _)| *i != 13 && *i != 17) {
        assert_eq!(outcome.as_ref().ok(), Some(&(i as u32)), "task {i}");
    }
    // A strict call stops at the crash.
    let err = parallel::mpi().map(crash, 0..40).unwrap_err();
    let parallel::Error::Task(failed) = &err else { panic!("not a task's failure: {err}") };
    assert_eq!(failed.index(), 13);
}

fn timeouts() {
    let mut naps = vec![10; 12];
    naps[5] = 60_000;
    let began = Instant::now();
    let err = parallel::mpi().timeout(Duration::from_secs(1)).map(nap, naps.clone()).unwrap_err();
    let took = began.elapsed();
    assert!(matches!(err, parallel::Error::Timeout { .. }), "{err}");
    assert!(took < Duration::from_secs(3), "the call returned after {took:?}");
    // Per task: the late task fails alone, its worker killed on its rank.
    let began = Instant::now();
    let out = parallel::mpi().silent().task_timeout(Duration::from_millis(500)).map(nap, vec![10, 60_000, 20]);
    let took = began.elapsed();
    assert_eq!(*out[1].as_ref().unwrap_err().kind(), FailureKind::TimedOut);
    assert_eq!((out[0].as_ref().ok(), out[2].as_ref().ok()), (Some(&10), Some(&20)));
    assert!(took < Duration::from_secs(4), "the call returned after {took:?}");
    // The ranks are free again: the killed tasks' slots take new tasks.
    assert_eq!(parallel::mpi().map(square, 0..100).unwrap()[9], 81);
}
