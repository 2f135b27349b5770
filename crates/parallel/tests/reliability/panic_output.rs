//! A panic that fails a task in a worker process prints one line on stderr, not Rust's report
//! and a backtrace — even with `RUST_BACKTRACE=1`; `PARALLEL_PANIC_OUTPUT=full` brings the
//! report back, `=none` silences it.
//!
//! Each test runs this test binary again as a child that makes the calls (the `child` test
//! alone, which does nothing unless `PANIC_OUTPUT_CHILD` is set) and reads the child's stderr,
//! which its worker processes share.

use crate::alone;

/// Set in the child: what it runs.
const CHILD: &str = "PANIC_OUTPUT_CHILD";
/// Tasks that panic in the child's call, each in its own message.
const PANICS: usize = 6;

fn task(i: u32) -> u32 {
    if i % 2 == 1 {
        panic!("task {i} panics\nwith a second line");
    }
    i
}

#[test]
fn child() {
    if std::env::var_os(CHILD).is_none() {
        return; // run by the other tests only
    }
    let results = parallel::process().max_workers(3).silent().map(task, 0..(2 * PANICS as u32));
    assert_eq!(results.failed().len(), PANICS);
    let results = parallel::process()
        .silent()
        .par(vec![parallel::prelude::ParallelFn::remote(task, 1), parallel::prelude::ParallelFn::remote(task, 2)]);
    assert_eq!(results.failed().len(), 1);
}

/// The child's stderr, with `output` as `PARALLEL_PANIC_OUTPUT` (unset if `None`) and
/// `RUST_BACKTRACE=1`, as many a developer's shell has it.
fn child_stderr(output: Option<&str>) -> String {
    let mut command = alone::command(module_path!(), "child");
    command.env(CHILD, "1").env("RUST_BACKTRACE", "1").env_remove("PARALLEL_PANIC_OUTPUT");
    if let Some(output) = output {
        command.env("PARALLEL_PANIC_OUTPUT", output);
    }
    let out = command.output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    // A `child` the name does not find would run nothing, print nothing, and pass.
    assert!(out.status.success() && alone::passed_one(&stdout), "the child failed: {stdout}");
    String::from_utf8(out.stderr).unwrap()
}

#[test]
fn one_line_per_panicking_task() {
    let stderr = child_stderr(None);
    let lines: Vec<&str> = stderr.lines().collect();
    let panicking = PANICS + 1; // and one in the `par` call
    assert!(lines.len() <= panicking, "more than one line per panicking task:\n{stderr}");
    for line in &lines {
        assert!(line.contains("a task panicked at ") && line.contains(" panics"), "{line:?}");
        assert!(!line.contains("with a second line"), "a message's later lines are not printed: {line:?}");
    }
    assert!(!stderr.contains("stack backtrace"), "{stderr}");
}

#[test]
fn full_output_is_rusts_report() {
    let stderr = child_stderr(Some("full"));
    assert!(stderr.contains("with a second line"), "{stderr}");
    assert!(stderr.contains("stack backtrace"), "RUST_BACKTRACE=1 is honoured: {stderr}");
}

#[test]
fn no_output() {
    assert_eq!(child_stderr(Some("none")), "");
}
