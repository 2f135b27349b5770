//! The process executor: values come back in input order, and a task that panics, aborts,
//! segfaults or exits fails alone with a precise kind while the others complete — and the
//! next call works.
//!
//! Under libtest's harness, as every test of this binary: the worker processes are this binary
//! started again, and they serve before libtest's `main` runs. The tests that look at all of
//! this process's children — that none is a zombie, or still running after a kill — run alone in
//! a fresh process of this binary (`alone::run_alone`), where the only children are their own
//! workers; the others share the process with the rest of the binary.

use std::time::{Duration, Instant};

use parallel::FailureKind;

use crate::alone;

fn square(x: u64) -> u64 {
    x * x
}

fn add(x: u32, y: u32, offset: &u32) -> u32 {
    x + y + offset
}

/// 0 → value; 1 → panic; 2 → abort; 3 → segfault; 4 → exit(3); 5 → spin forever.
fn misbehave(what: u8) -> u8 {
    match what {
        1 => panic!("task asked to panic"),
        2 => std::process::abort(),
        // SAFETY: none: this writes through a null pointer on purpose, to die of SIGSEGV.
        3 => unsafe { std::ptr::null_mut::<u8>().write_volatile(1) },
        4 => std::process::exit(3),
        5 => loop {
            std::hint::spin_loop();
        },
        _ => {}
    }
    what
}

#[test]
fn values_come_back_in_input_order() {
    let out = parallel::process().map(square, 0..200u64).unwrap();
    assert_eq!(out, (0..200u64).map(|x| x * x).collect::<Vec<_>>());
    let out = parallel::process().max_workers(3).map(|s: String| s.len(), vec!["a".to_owned(), "bcd".to_owned()]);
    assert_eq!(out.unwrap(), vec![1, 3]);
}

#[test]
fn tuples_and_extras_cross() {
    let out = parallel::process().extras(100u32).map(add, vec![(1, 2), (3, 4)]).unwrap();
    assert_eq!(out, vec![103, 107]);
}

#[test]
fn each_failure_is_alone_and_precise() {
    let inputs = vec![0u8, 1, 0, 2, 0, 3, 0, 4, 0];
    let results = parallel::process().max_workers(2).silent().map(misbehave, inputs.clone());
    assert_eq!(results.len(), inputs.len());
    for (i, what) in inputs.iter().enumerate() {
        let outcome = &results[i];
        match what {
            0 => assert_eq!(outcome, &Ok(0), "task {i}"),
            1 => {
                let failed = outcome.as_ref().unwrap_err();
                assert_eq!(*failed.kind(), FailureKind::Panicked);
                assert_eq!(failed.message(), "task asked to panic");
            }
            2 => assert_eq!(
                *outcome.as_ref().unwrap_err().kind(),
                FailureKind::Crashed { signal: Some(libc_sigabrt()), code: None }
            ),
            3 => {
                assert_eq!(*outcome.as_ref().unwrap_err().kind(), FailureKind::Crashed { signal: Some(11), code: None })
            }
            4 => {
                let failed = outcome.as_ref().unwrap_err();
                assert_eq!(*failed.kind(), FailureKind::Crashed { signal: None, code: Some(3) });
                assert_eq!(failed.message(), "its worker process exited with code 3");
                assert_eq!(failed.params(), "4");
            }
            _ => unreachable!(),
        }
    }
    // The pool healed: the next call works.
    assert_eq!(parallel::process().max_workers(2).map(misbehave, vec![0, 0, 0]).unwrap(), vec![0, 0, 0]);
}

fn libc_sigabrt() -> i32 {
    6
}

#[test]
fn strict_mode_reports_the_crash() {
    let err = parallel::process().max_workers(1).map(misbehave, vec![0, 4, 0]).unwrap_err();
    assert_eq!(
        err.to_string(),
        "task 1 with parameters 4 crashed its worker process: its worker process exited with code 3"
    );
}

/// The states of this process's children, from `/proc` (`Z` is a zombie).
fn children() -> Vec<(u32, char)> {
    let me = std::process::id();
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else { continue };
        // pid (comm) state ppid ...: the comm may hold spaces, so split after its `)`.
        let Some((head, rest)) = stat.rsplit_once(')') else { continue };
        let fields: Vec<&str> = rest.split_whitespace().collect();
        if fields.get(1).and_then(|p| p.parse::<u32>().ok()) == Some(me) {
            let pid = head.split_whitespace().next().unwrap().parse().unwrap();
            found.push((pid, fields[0].chars().next().unwrap()));
        }
    }
    found
}

#[test]
fn crashed_workers_leave_no_zombie() {
    if !alone::run_alone(module_path!(), "crashed_workers_leave_no_zombie") {
        return; // it ran in a process of its own: it counts the process's children
    }
    let _ = parallel::process().max_workers(2).silent().map(misbehave, vec![2, 3, 4, 2, 3, 4]);
    let zombies: Vec<_> = children().into_iter().filter(|(_, state)| *state == 'Z').collect();
    assert!(zombies.is_empty(), "zombie workers: {zombies:?}");
    // Live workers wait for the next task: at most one per pool thread.
    assert!(children().len() <= 2 + std::thread::available_parallelism().map_or(1, |n| n.get()));
}

/// Waits up to 2 s for no child to be running (a spinning worker shows as `R`).
fn no_child_runs() -> bool {
    let deadline = Instant::now() + Duration::from_secs(2);
    while Instant::now() < deadline {
        if children().iter().all(|(_, state)| *state != 'R') {
            return true;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    false
}

#[test]
fn a_task_past_its_task_timeout_is_killed_and_the_rest_complete() {
    if !alone::run_alone(module_path!(), "a_task_past_its_task_timeout_is_killed_and_the_rest_complete") {
        return; // it ran in a process of its own: it counts the process's children
    }
    let started = Instant::now();
    let results = parallel::process()
        .max_workers(2)
        .task_timeout(Duration::from_millis(300))
        .silent()
        .map(misbehave, vec![0, 5, 0, 0, 5, 0]);
    assert!(started.elapsed() < Duration::from_secs(10), "took {:?}", started.elapsed());
    for i in [1, 4] {
        let failed = results[i].as_ref().unwrap_err();
        assert_eq!(*failed.kind(), FailureKind::TimedOut);
        assert_eq!(failed.message(), "ran longer than its task_timeout of 300ms");
    }
    assert_eq!(results.succeeded(), vec![&0, &0, &0, &0]);
    assert!(no_child_runs(), "a spinning worker was not killed: {:?}", children());
}

#[test]
fn the_call_timeout_returns_and_kills_its_workers() {
    if !alone::run_alone(module_path!(), "the_call_timeout_returns_and_kills_its_workers") {
        return; // it ran in a process of its own: it counts the process's children
    }
    let started = Instant::now();
    let err = parallel::process().max_workers(2).timeout(Duration::from_millis(300)).map(misbehave, vec![0, 5, 5]);
    assert!(started.elapsed() < Duration::from_secs(5), "took {:?}", started.elapsed());
    assert!(matches!(err, Err(parallel::Error::Timeout { finished: 1, .. })), "{err:?}");
    assert!(no_child_runs(), "a spinning worker was not killed: {:?}", children());
    assert_eq!(parallel::process().map(misbehave, vec![0, 0]).unwrap(), vec![0, 0]);
}

/// The state of process `pid`, if it still exists.
fn state_of(pid: u32) -> Option<char> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    stat.rsplit_once(')')?.1.split_whitespace().next()?.chars().next()
}

/// Set in the parent that the next tests make die: what it plays (see [`play`]).
const ROLE: &str = "PARALLEL_TEST_ROLE";

#[test]
fn workers_die_with_their_parent() {
    workers_die_when("workers_die_with_their_parent", "parent-to-kill");
}

#[test]
fn workers_die_when_the_caller_panics() {
    workers_die_when("workers_die_when_the_caller_panics", "caller-panics");
}

/// Starts this binary again to run only the test `test`, as the parent in `role` (a parent
/// whose two workers spin); makes it die — SIGKILL, or its own panic — and checks its workers
/// die within 1 s. In that parent, plays `role` instead.
fn workers_die_when(test: &str, role: &str) {
    if let Ok(role) = std::env::var(ROLE) {
        play(&role);
    }
    let mut parent = alone::command(module_path!(), test)
        .env(ROLE, role)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let pid = parent.id();
    // Wait for its two workers to spin.
    let deadline = Instant::now() + Duration::from_secs(20);
    let workers = loop {
        let workers: Vec<u32> = std::fs::read_dir("/proc")
            .unwrap()
            .flatten()
            .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
            .filter(|&p| {
                let stat = std::fs::read_to_string(format!("/proc/{p}/stat")).unwrap_or_default();
                let ppid = stat.rsplit_once(')').and_then(|(_, rest)| rest.split_whitespace().nth(1)?.parse().ok());
                ppid == Some(pid)
            })
            .collect();
        if workers.len() == 2 && workers.iter().all(|&w| state_of(w) == Some('R')) {
            break workers;
        }
        assert!(Instant::now() < deadline, "the parent's workers never started: {workers:?}");
        std::thread::sleep(Duration::from_millis(20));
    };
    if role == "parent-to-kill" {
        parent.kill().unwrap(); // SIGKILL: the parent gets no chance to clean up
    } else {
        std::fs::write(std::env::temp_dir().join(format!("parallel-panic-{pid}")), "").unwrap();
    }
    let status = parent.wait().unwrap();
    assert!(!status.success(), "{status:?}");
    let deadline = Instant::now() + Duration::from_secs(1);
    while workers.iter().any(|&w| matches!(state_of(w), Some(s) if s != 'Z')) {
        assert!(Instant::now() < deadline, "orphaned workers still run 1 s after their parent died: {workers:?}");
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Allocates `mb` MiB and touches every page.
fn hog(mb: usize) -> usize {
    let block = vec![1u8; mb << 20];
    block.iter().step_by(4096).map(|&b| b as usize).sum()
}

#[test]
fn a_runaway_allocation_under_a_memory_cap_fails_alone() {
    let results = parallel::process().max_workers(2).memory_limit(256 << 20).silent().map(hog, vec![1, 100_000, 2]);
    assert_eq!(results.succeeded(), vec![&256, &512]);
    let failed = results[1].as_ref().unwrap_err();
    assert_eq!(*failed.kind(), FailureKind::Crashed { signal: Some(6), code: None }, "{failed}");
    // The next call, without a cap, gets workers without one.
    assert_eq!(parallel::process().max_workers(2).map(hog, vec![300]).unwrap(), vec![300 * 256]);
}

#[test]
fn a_crash_inside_a_batch_fails_alone() {
    // Tiny tasks travel in batches of many; the crashing ones take their worker down with
    // the rest of their batch, which runs again on a new worker.
    let mut inputs = vec![0u8; 4_000];
    for i in [7, 1_500, 1_501, 3_999] {
        inputs[i] = if i % 2 == 0 { 3 } else { 4 };
    }
    let results = parallel::process().max_workers(2).silent().map(misbehave, inputs.clone());
    assert_eq!(results.len(), inputs.len());
    for (i, outcome) in results.iter().enumerate() {
        match inputs[i] {
            0 => assert_eq!(outcome, &Ok(0), "task {i}"),
            _ => assert!(
                matches!(outcome.as_ref().unwrap_err().kind(), FailureKind::Crashed { .. }),
                "task {i}: {outcome:?}"
            ),
        }
    }
}

fn sum3(x: u32, y: u32, z: u32) -> u32 {
    x + y + z
}

#[test]
fn par_runs_remote_tasks_each_failing_alone() {
    if !alone::run_alone(module_path!(), "par_runs_remote_tasks_each_failing_alone") {
        return; // it ran in a process of its own: it counts the process's children
    }
    use parallel::prelude::*;
    let (a, b, c) = parallel::process().par((square.remote(9), misbehave.remote(0), sum3.remote((1, 2, 3)))).unwrap();
    assert_eq!((a, b, c), (81, 0, 6));

    let (ok, crashed, spun) = parallel::process().task_timeout(Duration::from_millis(300)).silent().par((
        misbehave.remote(0),
        misbehave.remote(3),
        misbehave.remote(5),
    ));
    assert_eq!(ok, Ok(0));
    assert_eq!(*crashed.unwrap_err().kind(), FailureKind::Crashed { signal: Some(11), code: None });
    assert_eq!(*spun.unwrap_err().kind(), FailureKind::TimedOut);
    assert!(no_child_runs(), "a spinning worker was not killed: {:?}", children());

    let named = std::collections::BTreeMap::from([("sq", square.remote(4)), ("sq2", square.remote(5))]);
    let out = parallel::process().async_par(named).wait().unwrap();
    assert_eq!(out["sq2"], 25);
}

/// Plays the parent that a test makes die, `role`: its two workers spin forever; with
/// `caller-panics`, it panics once the test says so (its workers are spinning by then).
fn play(role: &str) -> ! {
    match role {
        "parent-to-kill" => {
            let _ = parallel::process().max_workers(2).map(misbehave, vec![5, 5]);
            unreachable!("the tasks spin forever");
        }
        "caller-panics" => {
            let _running = parallel::process().max_workers(2).async_map(misbehave, vec![5, 5]);
            let signal = std::env::temp_dir().join(format!("parallel-panic-{}", std::process::id()));
            while !signal.exists() {
                std::thread::sleep(Duration::from_millis(10));
            }
            let _ = std::fs::remove_file(signal);
            panic!("the caller panics");
        }
        other => unreachable!("no such role: {other}"),
    }
}
