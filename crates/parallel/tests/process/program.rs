//! Worker processes of another program: a Python script speaking the frames runs the tasks,
//! its encoded errors come back as the failures' error values, and its workers are shared by
//! later calls and can be killed at once.

use std::collections::HashSet;
use std::process::Command;

use parallel::plumbing::{Payload, Program};
use parallel::FailureKind;

fn echo() -> Program {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/echo_worker.py");
    Program::new(move || {
        let mut command = Command::new("python3");
        command.arg(script);
        command
    })
}

fn bytes(items: &[&str]) -> Vec<Vec<u8>> {
    items.iter().map(|s| s.as_bytes().to_vec()).collect()
}

fn payloads(items: &[&str]) -> Vec<Payload> {
    bytes(items).into_iter().map(Payload::from).collect()
}

#[test]
fn values_come_back_in_input_order() {
    let out = parallel::process().max_workers(2).run_program(&echo(), b"upper", b"", payloads(&["a", "bc", "d"]));
    assert_eq!(out.unwrap().into_iter().map(|p| p.bytes().to_vec()).collect::<Vec<_>>(), bytes(&["A", "BC", "D"]));
}

#[test]
fn an_encoded_error_is_the_failures_error_value() {
    let results = parallel::process().silent().run_program(&echo(), b"raise", b"", payloads(&["abc"]));
    let failed = results[0].as_ref().unwrap_err();
    assert_eq!(*failed.kind(), FailureKind::Error);
    assert_eq!(failed.message(), "raised on purpose");
    assert_eq!(failed.error::<Vec<u8>>().unwrap(), b"cba");
}

#[test]
fn a_worker_that_exits_fails_its_tasks_as_crashed() {
    let results = parallel::process().max_workers(1).silent().run_program(&echo(), b"exit", b"", payloads(&["x", "y"]));
    for outcome in &results {
        assert_eq!(*outcome.as_ref().unwrap_err().kind(), FailureKind::Crashed { signal: None, code: Some(7) });
    }
}

#[test]
fn later_calls_reuse_the_workers_and_kill_workers_ends_them() {
    let program = echo();
    let pids = |n: usize| -> HashSet<Vec<u8>> {
        let params = vec![Vec::new(); n];
        let out = parallel::process().max_workers(2).run_program(&program, b"pid", b"", params).unwrap();
        out.into_iter().map(|p| p.bytes().to_vec()).collect()
    };
    let first = pids(50);
    let second = pids(50);
    assert!(!first.is_disjoint(&second), "a later call started new workers: {first:?} then {second:?}");
    assert!(program.kill_workers() >= 1);
    // Killed while idle: the next call notices and starts new ones.
    let third = pids(10);
    assert!(third.is_disjoint(&first));
}
