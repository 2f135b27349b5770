//! The MPI executor, end to end (feature `mpi`): each test runs a scenario of the
//! `mpi_check` example under `mpirun -n 3` — built by this test with the same profile and
//! features — and reads how the job ended: its exit status, what rank 0 printed, and whether
//! any process of it is left. One job at a time (they share two cores and time their calls).

#![cfg(feature = "mpi")]

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

/// One job at a time.
static ONE_JOB: Mutex<()> = Mutex::new(());

/// The longest a job may take before the test fails (and kills it).
const JOB_LIMIT: Duration = Duration::from_secs(60);

/// The `mpi_check` example, built once for this run of the tests.
fn example() -> &'static Path {
    static BUILT: OnceLock<PathBuf> = OnceLock::new();
    BUILT.get_or_init(|| {
        // This test binary is <target>/<profile>/deps/mpi-<hash>.
        let exe = std::env::current_exe().expect("the test's executable");
        let profile_dir = exe.parent().and_then(Path::parent).expect("the profile's folder");
        let target_dir = profile_dir.parent().expect("the target folder");
        let release = profile_dir.file_name().is_some_and(|p| p == "release");
        let mut build = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
        build.args(["build", "--quiet", "--example", "mpi_check", "--features", "mpi", "--manifest-path"]);
        build.arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("Cargo.toml")).arg("--target-dir").arg(target_dir);
        if release {
            build.arg("--release");
        }
        let status = build.status().expect("cargo runs");
        assert!(status.success(), "building the mpi_check example failed");
        profile_dir.join("examples").join("mpi_check")
    })
}

/// `mpirun` with the settings of a root user on a small machine.
fn mpirun() -> Command {
    let mut command = Command::new("mpirun");
    command
        .env("OMPI_ALLOW_RUN_AS_ROOT", "1")
        .env("OMPI_ALLOW_RUN_AS_ROOT_CONFIRM", "1")
        .env("OMPI_MCA_rmaps_base_oversubscribe", "1")
        .env("RUST_BACKTRACE", "0");
    command
}

/// How a job ended, and how long it took.
struct Job {
    output: Output,
    took: Duration,
}

impl Job {
    fn stdout(&self) -> String {
        String::from_utf8_lossy(&self.output.stdout).into_owned()
    }
    fn stderr(&self) -> String {
        String::from_utf8_lossy(&self.output.stderr).into_owned()
    }
    fn succeeded(&self) -> bool {
        self.output.status.success()
    }
}

/// Runs `command` as one job, killed (and the test failed) past [`JOB_LIMIT`].
fn run(mut command: Command) -> Job {
    let _one = ONE_JOB.lock().unwrap_or_else(|e| e.into_inner());
    let began = Instant::now();
    let mut child = command.stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().expect("mpirun starts");
    let (stdout, stderr) = (child.stdout.take().unwrap(), child.stderr.take().unwrap());
    let read = |mut pipe: Box<dyn std::io::Read + Send>| {
        std::thread::spawn(move || {
            let mut bytes = Vec::new();
            let _ = pipe.read_to_end(&mut bytes);
            bytes
        })
    };
    let (out, err) = (read(Box::new(stdout)), read(Box::new(stderr)));
    let status = loop {
        if let Some(status) = child.try_wait().expect("mpirun is waited for") {
            break status;
        }
        if began.elapsed() > JOB_LIMIT {
            let _ = child.kill();
            panic!("the job ran past {JOB_LIMIT:?}: {command:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let took = began.elapsed();
    let output = Output { status, stdout: out.join().unwrap(), stderr: err.join().unwrap() };
    Job { output, took }
}

/// Runs scenario `scenario` on 3 ranks.
fn scenario(scenario: &str) -> Job {
    let mut command = mpirun();
    command.args(["-n", "3"]).arg(example()).arg(scenario);
    run(command)
}

/// Asserts that scenario `name` held on every check.
fn holds(name: &str) -> Job {
    let job = scenario(name);
    assert!(
        job.succeeded(),
        "scenario {name}: {:?}\nstdout: {}\nstderr: {}",
        job.output.status,
        job.stdout(),
        job.stderr()
    );
    assert!(job.stdout().contains(&format!("ok {name}")), "scenario {name} did not finish: {}", job.stdout());
    assert_no_process_of(example());
    job
}

/// Asserts that no live process runs `exe` (a rank or one of its worker processes), within
/// a few seconds (a job's processes are reaped as it ends).
fn assert_no_process_of(exe: &Path) {
    let exe = exe.canonicalize().expect("the executable's path");
    let began = Instant::now();
    loop {
        let left: Vec<u32> = std::fs::read_dir("/proc")
            .expect("/proc")
            .filter_map(|entry| entry.ok()?.file_name().to_str()?.parse::<u32>().ok())
            .filter(|pid| std::fs::read_link(format!("/proc/{pid}/exe")).is_ok_and(|path| path == exe))
            .collect();
        if left.is_empty() {
            return;
        }
        assert!(began.elapsed() < Duration::from_secs(5), "processes of {} left behind: {left:?}", exe.display());
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn map_gives_every_result_in_order_from_every_rank() {
    holds("map");
}

#[test]
fn try_map_failures_carry_their_parameters() {
    holds("try_map");
}

#[test]
fn par_runs_remote_tasks_on_the_ranks() {
    holds("par");
}

#[test]
fn a_crashing_task_fails_alone_with_its_kind() {
    holds("crash");
}

#[test]
fn timeouts_return_on_time_and_free_the_ranks() {
    let job = holds("timeout");
    // The hung tasks were killed: the job did not wait for them (60 s each).
    assert!(job.took < Duration::from_secs(20), "the job took {:?}", job.took);
}

#[test]
fn a_panic_on_rank_0_ends_the_whole_job() {
    let job = scenario("panic");
    assert!(!job.succeeded(), "the job succeeded: {}", job.stderr());
    assert!(job.stderr().contains("rank 0 gives up"), "{}", job.stderr());
    assert!(job.stderr().contains("parallel::mpi: rank 0 panicked: the job ends"), "{}", job.stderr());
    assert!(!job.stdout().contains("ok panic"));
    assert!(job.took < Duration::from_secs(20), "the job took {:?}", job.took);
    assert_no_process_of(example());
}

#[test]
fn a_rank_running_another_executable_refuses() {
    // The same program with one more byte: another executable, which runs as well.
    let dir = std::env::temp_dir().join(format!("parallel-mpi-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let other = dir.join("other_check");
    std::fs::copy(example(), &other).unwrap();
    std::fs::OpenOptions::new()
        .append(true)
        .open(&other)
        .and_then(|mut f| std::io::Write::write_all(&mut f, b"\0"))
        .unwrap();
    let mut command = mpirun();
    command.args(["-n", "1"]).arg(example()).arg("other").args([":", "-n", "2"]).arg(&other).arg("other");
    let job = run(command);
    assert!(!job.succeeded(), "the job succeeded: {}", job.stderr());
    // Ranks 1 and 2 both refuse; the first to end the job may be either.
    let refusal = format!(
        "refuses to serve: its executable ({}) is not rank 0's; every rank of the job must run the same binary",
        other.display()
    );
    assert!(job.stderr().contains("parallel::mpi: rank "), "{}", job.stderr());
    assert!(job.stderr().contains(&refusal), "{}", job.stderr());
    assert!(!job.stdout().contains("ok other"));
    assert_no_process_of(example());
    assert_no_process_of(&other);
    let _ = std::fs::remove_dir_all(&dir);
}
