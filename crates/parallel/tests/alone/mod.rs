//! Runs a test alone, in a fresh process of its test binary.
//!
//! The tests of one binary share its process and run beside each other on libtest's threads. A
//! test that looks at or acts on the whole process — counts its children, threads, descriptors
//! or resident memory, kills its children, forks it — would see the other tests' work or spoil
//! it. Such a test starts its binary again to run only itself there (`--exact <name>`), and
//! passes or fails with that run: `if !alone::run_alone(module_path!(), "<test>") { return; }`
//! first thing in it.
//!
//! Shared by the test binaries `process` and `reliability` (each includes this file by path).

use std::fs::File;
use std::process::Command;

/// Set, in the fresh process, to the name of the test it runs.
const ALONE: &str = "PARALLEL_TEST_ALONE";

/// libtest's name of the test `test` of the module `module` (its `module_path!()`): the path
/// without the crate's name, as `--exact` takes it.
pub fn name(module: &str, test: &str) -> String {
    match module.split_once("::") {
        Some((_crate, path)) => format!("{path}::{test}"),
        None => test.to_owned(),
    }
}

/// This test binary, set to run only the test `test` of `module` — on one thread, its output
/// not captured — with `PARALLEL_TEST_ALONE` set to the test's name.
pub fn command(module: &str, test: &str) -> Command {
    let name = name(module, test);
    let mut command = Command::new(std::env::current_exe().expect("the test binary's path"));
    command.args(["--exact", &name, "--nocapture", "--test-threads=1"]).env(ALONE, &name);
    command
}

/// Whether `stdout`, libtest's output, says it ran one test and the test passed. (A name that
/// matches no test runs none, and that run passes.)
pub fn passed_one(stdout: &str) -> bool {
    stdout.contains("test result: ok. 1 passed;")
}

/// First thing in a test that must run alone. In the fresh process: `true`, and the test's body
/// runs. Otherwise: runs the test in a fresh process, waits for it, prints what it printed (shown
/// if the test fails, or with `--nocapture`; once it passed, without libtest's summary), fails
/// unless it ran and passed, and returns `false` — the test returns.
pub fn run_alone(module: &str, test: &str) -> bool {
    let name = name(module, test);
    if std::env::var_os(ALONE).is_some_and(|running| running == *name) {
        return true;
    }
    // To files, not pipes: the worker processes it leaves share its output for a moment after
    // it exits, and reading a pipe to its end would wait for them too.
    let file = |stream: &str| {
        let tag = name.replace("::", "-");
        std::env::temp_dir().join(format!("parallel-alone-{}-{tag}.{stream}", std::process::id()))
    };
    let (out, err) = (file("stdout"), file("stderr"));
    let status = command(module, test)
        .stdout(File::create(&out).expect("a file for the test's stdout"))
        .stderr(File::create(&err).expect("a file for the test's stderr"))
        .status()
        .expect("the test binary starts");
    let stdout = std::fs::read_to_string(&out).unwrap_or_default();
    let stderr = std::fs::read_to_string(&err).unwrap_or_default();
    let _ = std::fs::remove_file(&out);
    let _ = std::fs::remove_file(&err);
    let passed = status.success() && passed_one(&stdout);
    for line in stdout.lines() {
        // Once it passed, not libtest's lines about the run: one `test result` per binary.
        if !(passed && (line == "running 1 test" || line.starts_with("test result: "))) {
            println!("{line}");
        }
    }
    eprint!("{stderr}");
    assert!(passed, "{name}, alone in a fresh process: {status} (its output is above)");
    false
}
