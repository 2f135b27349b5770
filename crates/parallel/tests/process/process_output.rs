//! What tasks print in worker processes reaches the parent: `println!` on the parent's stdout,
//! `eprintln!` on its stderr, each line whole — never two workers' lines mixed — in order per
//! worker, and all of it before the call returns; a worker that crashes right after printing
//! loses nothing; with `PARALLEL_WORKER_OUTPUT=inherit` the prints still arrive.
//!
//! Each test runs this test binary again as a child that makes the calls (the `child` test
//! alone, which does nothing unless `OUTPUT_CHILD` is set) and reads the child's stdout and
//! stderr: what a user of the program sees.

use std::collections::HashMap;

use crate::alone;

/// Set in the child: which calls it makes.
const CHILD: &str = "OUTPUT_CHILD";
/// Printed by the child once its calls returned.
const MARKER: &str = "the calls returned";
/// Lines each task prints, and how long each is.
const LINES: usize = 200;
const WIDTH: usize = 3000;

/// Prints `LINES` long lines on stdout, each `out <pid> <task> <seq> <x…>`, and one line on
/// stderr; task 0 ends with a partial line.
fn chatty(task: u32) -> u32 {
    let pid = std::process::id();
    let payload = "x".repeat(WIDTH);
    for seq in 0..LINES {
        println!("out {pid} {task} {seq} {payload}");
    }
    eprintln!("err {pid} {task}");
    if task == 0 {
        print!("a partial line, no newline");
    }
    task
}

/// Prints a line, then dies without flushing anything else.
fn print_then_abort(task: u32) -> u32 {
    println!("before the crash {task}");
    eprintln!("on stderr before the crash {task}");
    std::process::abort();
}

/// What the worker's stdout and stderr are open on.
fn streams(_: u32) -> (String, String) {
    let link = |fd: u32| std::fs::read_link(format!("/proc/self/fd/{fd}")).unwrap().display().to_string();
    (link(1), link(2))
}

#[test]
fn child() {
    let Some(what) = std::env::var_os(CHILD) else {
        return; // run by the other tests only
    };
    if what == "foreign" {
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/echo_worker.py");
        let echo = parallel::plumbing::Program::new(move || {
            let mut command = std::process::Command::new("python3");
            command.arg(script);
            command
        });
        let params = (0..3).map(|i| format!("foreign line {i}").into_bytes()).collect::<Vec<_>>();
        parallel::process().max_workers(1).run_program(&echo, b"stderr", b"", params).unwrap();
        eprintln!("\n{MARKER}");
    } else if what == "streams" {
        let theirs = parallel::process().map(streams, vec![0]).unwrap().remove(0);
        let ours = streams(0);
        let inherit = std::env::var_os("PARALLEL_WORKER_OUTPUT").is_some_and(|v| v == "inherit");
        assert_eq!(theirs == ours, inherit, "the workers' (stdout, stderr) {theirs:?}, the parent's {ours:?}");
    } else if what == "crash" {
        let results = parallel::process().max_workers(2).silent().map(print_then_abort, 0..3);
        assert_eq!(results.failed().len(), 3);
    } else {
        let out = parallel::process().max_workers(4).map(chatty, 0..8).unwrap();
        assert_eq!(out, (0..8).collect::<Vec<_>>());
    }
    println!("\n{MARKER}");
}

/// The child's stdout and stderr, with `inherit` as `PARALLEL_WORKER_OUTPUT` or none.
fn child_output(what: &str, inherit: bool) -> (String, String) {
    let mut command = alone::command(module_path!(), "child");
    command.env(CHILD, what).env_remove("PARALLEL_WORKER_OUTPUT");
    if inherit {
        command.env("PARALLEL_WORKER_OUTPUT", "inherit");
    }
    let out = command.output().unwrap();
    let stdout = String::from_utf8(out.stdout).unwrap();
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(out.status.success() && alone::passed_one(&stdout), "the child failed: {stdout}\n{stderr}");
    (stdout, stderr)
}

/// The `out` lines of `stdout` before the marker, checked whole and in order per worker; how
/// many there are.
fn whole_lines_in_order(stdout: &str) -> usize {
    let (before, _) = stdout.split_once(MARKER).expect("the marker");
    let mut next: HashMap<(&str, &str), usize> = HashMap::new();
    let mut count = 0;
    for line in before.lines().filter(|l| l.contains("out ")) {
        // After libtest's partial `test … ` line, or task 0's partial line.
        let line = &line[line.find("out ").unwrap()..];
        let fields: Vec<&str> = line.split(' ').collect();
        assert!(
            fields.len() == 5 && fields[0] == "out" && fields[4].len() == WIDTH && fields[4].bytes().all(|b| b == b'x'),
            "a line mixed or cut: {:?}…",
            &line[..line.len().min(200)]
        );
        let seq: usize = fields[3].parse().unwrap();
        let expected = next.entry((fields[1], fields[2])).or_default();
        assert_eq!(seq, *expected, "task {} of worker {}: lines out of order", fields[2], fields[1]);
        *expected += 1;
        count += 1;
    }
    count
}

#[test]
fn prints_reach_the_parents_streams_whole_in_order_and_before_the_call_returns() {
    let (stdout, stderr) = child_output("chatty", false);
    assert_eq!(whole_lines_in_order(&stdout), 8 * LINES, "every line before the marker");
    let (before, _) = stdout.split_once(MARKER).unwrap();
    assert!(before.contains("a partial line, no newline"), "a partial line is out before the call returns");
    assert!(!stdout.contains("err "), "stderr's lines are not on stdout");
    let errs = stderr.lines().filter(|l| l.starts_with("err ")).count();
    assert_eq!(errs, 8, "one stderr line per task:\n{stderr}");
    assert!(!stderr.contains("out "), "stdout's lines are not on stderr");
}

#[test]
fn a_worker_that_crashes_after_printing_loses_nothing() {
    let (stdout, stderr) = child_output("crash", false);
    let (before, _) = stdout.split_once(MARKER).unwrap();
    for task in 0..3 {
        assert!(before.contains(&format!("before the crash {task}\n")), "{stdout}");
        assert!(stderr.contains(&format!("on stderr before the crash {task}\n")), "{stderr}");
    }
}

#[test]
fn a_program_that_knows_nothing_of_it_has_its_stderr_forwarded_before_the_call_returns() {
    let (_, stderr) = child_output("foreign", false);
    let (before, _) = stderr.split_once(MARKER).expect("the marker");
    let lines: Vec<&str> = before.lines().filter(|l| l.starts_with("foreign line ")).collect();
    assert_eq!(lines, ["foreign line 0", "foreign line 1", "foreign line 2"], "{stderr}");
}

#[test]
fn forwarded_streams_are_pipes_and_inherited_ones_the_parents() {
    child_output("streams", false);
    child_output("streams", true);
}

#[test]
fn inherited_output_still_arrives() {
    let (stdout, stderr) = child_output("chatty", true);
    // Written by the workers themselves, on the right streams; not assembled, so long lines
    // of several workers may mix.
    assert!(stdout.matches("out ").count() > 0, "the workers' stdout is the parent's");
    assert!(!stdout.contains("err "));
    assert_eq!(stderr.lines().filter(|l| l.starts_with("err ")).count(), 8, "{stderr}");
}
