//! `init` on the process executor: it runs once in each worker process before its first task,
//! not again in a worker a later call reuses, and one that panics fails the tasks it came with
//! while the next call's tasks run.

use std::sync::atomic::{AtomicU32, Ordering};

static INITS: AtomicU32 = AtomicU32::new(0);

fn count_init() {
    INITS.fetch_add(1, Ordering::SeqCst);
}

fn inits_and_pid(_: u32) -> (u32, u32) {
    (INITS.load(Ordering::SeqCst), std::process::id())
}

fn panicking_init() {
    panic!("no model here");
}

#[test]
fn init_runs_once_per_worker_process_across_calls() {
    let pool = parallel::process().max_workers(2).init(count_init);
    let first = pool.map(inits_and_pid, 0..200).unwrap();
    let second = pool.map(inits_and_pid, 0..200).unwrap();
    assert!(first.iter().chain(&second).all(|&(inits, _)| inits == 1), "each worker ran it exactly once");
}

#[test]
fn an_init_that_panics_fails_its_tasks_and_the_workers_serve_the_next_call() {
    let results = parallel::process().max_workers(1).silent().init(panicking_init).map(inits_and_pid, 0..5);
    for failed in results.iter().map(|r| r.as_ref().unwrap_err()) {
        assert_eq!(*failed.kind(), parallel::FailureKind::Panicked);
        assert!(failed.message().contains("the initializer panicked: no model here"), "{}", failed.message());
    }
    assert_eq!(parallel::process().max_workers(1).map(inits_and_pid, 0..3).unwrap().len(), 3);
}
