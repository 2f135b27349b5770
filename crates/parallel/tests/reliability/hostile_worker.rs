//! Hostile worker output: a worker program that writes garbage, a frame of another version, an
//! oversized, truncated or undecodable frame, more replies than it was asked for, or that closes
//! its stdout and stays alive. Each time the task whose reply was due fails with a message
//! naming the problem, the worker is killed and reaped, the other tasks of the call succeed on a
//! fresh worker, and the call returns promptly — it never hangs or panics.
//!
//! The worker is `tests/fixtures/hostile_worker.py`: each task's parameters say how it
//! misbehaves. Each test uses a program of its own, so no worker is shared between tests.

use std::path::Path;
use std::process::Command;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use parallel::plumbing::{Payload, Program};
use parallel::{FailedTask, FailureKind};

/// Every call must return well within this, whatever the worker does.
const PROMPT: Duration = Duration::from_secs(10);

fn hostile() -> Program {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/hostile_worker.py");
    Program::new(move || {
        let mut command = Command::new("python3");
        command.arg(script);
        command
    })
}

/// Runs `f` on another thread; fails the test if it takes longer than [`PROMPT`] (rather than
/// hanging the suite).
fn promptly<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    let (done, result) = mpsc::channel();
    let start = Instant::now();
    std::thread::spawn(move || done.send(f()));
    match result.recv_timeout(PROMPT) {
        Ok(value) => value,
        Err(_) => panic!("the call did not return within {PROMPT:?} ({:?} so far)", start.elapsed()),
    }
}

/// The outcomes of one silent call of `program` on one worker at a time.
fn run(program: &Program, params: &[&str]) -> Vec<Result<Payload, FailedTask>> {
    let program = program.clone();
    let params: Vec<Vec<u8>> = params.iter().map(|p| p.as_bytes().to_vec()).collect();
    promptly(move || {
        let results = parallel::process().max_workers(1).silent().run_program(&program, b"f", b"", params);
        results.into_iter().collect()
    })
}

/// The process id and the parameters of a good reply `<pid>:<parameters>`.
fn answer(outcome: &Result<Payload, FailedTask>) -> (u32, String) {
    let payload = outcome.as_ref().unwrap_or_else(|failed| panic!("a good task failed: {failed}"));
    let text = String::from_utf8(payload.bytes().to_vec()).unwrap();
    let (pid, params) = text.split_once(':').unwrap();
    (pid.parse().unwrap(), params.to_owned())
}

/// `true` while `pid` exists, a zombie too: once reaped, it is gone from /proc.
fn exists(pid: u32) -> bool {
    Path::new(&format!("/proc/{pid}")).exists()
}

/// Runs a good task, then `behaviour`, then two good tasks, on one worker at a time: the good
/// tasks succeed — the last two on a fresh worker —, the hostile one fails as crashed with a
/// message containing `expected`, and its worker is gone (killed if need be, and reaped).
/// Returns the hostile task's failure.
fn hostile_task_fails_alone(behaviour: &str, expected: &str) -> FailedTask {
    let program = hostile();
    let outcomes = run(&program, &["ok-0", behaviour, "ok-2", "ok-3"]);
    let (first, params) = answer(&outcomes[0]);
    assert_eq!(params, "ok-0");
    let failed = outcomes[1].as_ref().expect_err("the hostile task succeeded");
    assert!(matches!(failed.kind(), FailureKind::Crashed { .. }), "{behaviour}: {failed}");
    assert!(failed.message().contains(expected), "{behaviour}: the message is {:?}", failed.message());
    for (outcome, expected_params) in outcomes[2..].iter().zip(["ok-2", "ok-3"]) {
        let (pid, params) = answer(outcome);
        assert_eq!(params, expected_params);
        assert_ne!(pid, first, "{behaviour}: a task ran on the worker that broke the protocol");
    }
    assert!(!exists(first), "{behaviour}: the worker {first} is still there (alive or a zombie)");
    assert_eq!(program.kill_workers(), 1, "{behaviour}: one fresh worker, and only it, should be left");
    failed.clone()
}

#[test]
fn garbage_fails_the_task_and_names_the_bytes() {
    let failed = hostile_task_fails_alone("garbage", "broke the protocol: not a frame of the parallel wire");
    assert!(failed.message().contains("it was killed and replaced"), "{failed}");
    assert_eq!(*failed.kind(), FailureKind::Crashed { signal: Some(9), code: None });
}

#[test]
fn a_wrong_magic_fails_the_task() {
    hostile_task_fails_alone("magic", "starts with [88, 88], not \"PW\"");
}

#[test]
fn another_wire_version_fails_the_task() {
    hostile_task_fails_alone("version", "a frame of wire version 2, but this side speaks version 1");
}

#[test]
fn a_header_announcing_4_gib_fails_the_task_before_any_payload() {
    hostile_task_fails_alone("huge", "broke the protocol: a frame of 4294967295 bytes, more than the");
}

#[test]
fn a_payload_that_is_not_a_reply_fails_the_task() {
    hostile_task_fails_alone("undecodable", "broke the protocol: a malformed message");
    hostile_task_fails_alone("trailing", "broke the protocol: a malformed message: 4 bytes after the message");
}

#[test]
fn a_truncated_frame_then_exit_fails_the_task() {
    let failed =
        hostile_task_fails_alone("truncated", "broke the protocol: the stream ended inside a frame: 17 of 107");
    assert!(failed.message().ends_with("it exited with code 0"), "{failed}");
    assert_eq!(*failed.kind(), FailureKind::Crashed { signal: None, code: Some(0) });
    hostile_task_fails_alone("short", "broke the protocol: the stream ended inside a frame: 3 of 7 bytes came");
}

#[test]
fn a_worker_that_closes_its_stdout_and_stays_alive_is_killed() {
    let failed = hostile_task_fails_alone("close", "closed its replies (its stdout) but did not exit");
    assert_eq!(*failed.kind(), FailureKind::Crashed { signal: Some(9), code: None });
}

#[test]
fn a_plain_death_still_reports_its_exit_code() {
    let failed = hostile_task_fails_alone("exit", "its worker process exited with code 3");
    assert_eq!(*failed.kind(), FailureKind::Crashed { signal: None, code: Some(3) });
}

#[test]
fn a_strict_call_returns_the_protocol_error() {
    let program = hostile();
    let err = promptly(move || {
        let params = vec![b"ok".to_vec(), b"garbage".to_vec(), b"ok".to_vec()];
        parallel::process().max_workers(1).run_program(&program, b"f", b"", params).unwrap_err()
    });
    let text = err.to_string();
    assert!(text.contains("task 1") && text.contains("broke the protocol"), "{text}");
}

#[test]
fn a_reply_nobody_asked_for_never_reaches_the_next_call() {
    let program = hostile();
    let first = run(&program, &["twice"]);
    let (pid, params) = answer(&first[0]);
    assert_eq!(params, "twice");
    // The extra reply lands while the worker is idle in the stash ...
    std::thread::sleep(Duration::from_millis(200));
    // ... and the next call must not take it for its own task's reply: the worker is dropped.
    let second = run(&program, &["ok-a", "ok-b"]);
    for (outcome, expected) in second.iter().zip(["ok-a", "ok-b"]) {
        let (next, params) = answer(outcome);
        assert_eq!(params, expected, "a task got another task's reply");
        assert_ne!(next, pid);
    }
    assert!(!exists(pid), "the worker that answered twice is still there");
}

#[test]
fn a_stalled_frame_is_ended_by_the_task_timeout() {
    // A header, part of its payload, and silence: only a timeout can tell this from a slow
    // worker. The task fails as timed out; the others run on a fresh worker. (The limit leaves
    // a Python worker's start-up, which a loaded box can stretch past half a second, room.)
    let program = hostile();
    let outcomes = promptly(move || {
        let params = vec![b"ok-0".to_vec(), b"stall".to_vec(), b"ok-2".to_vec()];
        let process = parallel::process().max_workers(1).task_timeout(Duration::from_secs(3)).silent();
        process.run_program(&program, b"f", b"", params).into_iter().collect::<Vec<_>>()
    });
    let (first, _) = answer(&outcomes[0]);
    assert_eq!(*outcomes[1].as_ref().unwrap_err().kind(), FailureKind::TimedOut);
    let (other, params) = answer(&outcomes[2]);
    assert_eq!(params, "ok-2");
    assert_ne!(other, first);
}

/// Spawns `sleep 30` — which inherits every descriptor not marked close-on-exec — writes its
/// pid to `path`, and aborts the worker.
fn start_a_program_and_abort(path: String) -> u32 {
    let child = Command::new("sleep").arg("30").spawn().unwrap();
    std::fs::write(path, child.id().to_string()).unwrap();
    std::process::abort();
}

#[test]
fn a_program_a_task_started_does_not_hold_the_workers_pipes() {
    // If it did, the worker's death would not end its reply pipe, and the caller would wait
    // for the program (30 s) to learn of it.
    let path = std::env::temp_dir().join(format!("parallel-hostile-{}", std::process::id()));
    let arg = path.to_string_lossy().into_owned();
    let start = Instant::now();
    let results = promptly(move || parallel::process().silent().map(start_a_program_and_abort, vec![arg]));
    let elapsed = start.elapsed();
    if let Ok(pid) = std::fs::read_to_string(&path) {
        let _ = Command::new("kill").arg(pid.trim()).status();
        let _ = std::fs::remove_file(&path);
    }
    assert_eq!(*results[0].as_ref().unwrap_err().kind(), FailureKind::Crashed { signal: Some(6), code: None });
    assert!(elapsed < Duration::from_secs(5), "the call took {elapsed:?}");
}

/// The targets of the calling process's open descriptors.
fn descriptors(_: u8) -> Vec<String> {
    std::fs::read_dir("/proc/self/fd")
        .unwrap()
        .filter_map(|entry| std::fs::read_link(entry.ok()?.path()).ok())
        .map(|target| target.to_string_lossy().into_owned())
        .collect()
}

#[test]
fn a_worker_listens_on_nothing_but_its_pipes() {
    let open = parallel::process().map(descriptors, vec![0u8]).unwrap().remove(0);
    assert!(open.iter().all(|target| !target.starts_with("socket:")), "a worker holds a socket: {open:?}");
    assert!(open.iter().any(|target| target.starts_with("pipe:")), "{open:?}");
}
