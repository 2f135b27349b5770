//! How a worker process starts: a [`Program`] — this executable again in worker mode, or any
//! program that speaks the protocol — and the live worker processes of each program, so that
//! [`Program::kill_workers`] reaches them. The supervisor (`supervisor.rs`) starts workers with
//! it; a call on another program's workers is `program_work.rs`.

use std::process::{Child, Command};
use std::sync::{Arc, Mutex, OnceLock, Weak};

use crate::engine::forked::PerProcess;
use crate::engine::sync::lock;
use crate::process::output::Lines;
use crate::process::protocol::WORKER_ENV;

/// A program that serves as a worker: it reads requests `(entry, params, extras)` from its
/// stdin and writes one reply per task to its stdout, in the frames of
/// [`wire`](crate::process::wire) — `Value(bytes)`, `Failed(panicked, message)` or
/// `Raised(message, error)`. Clones start the same program and share its workers.
///
/// ```
/// use std::process::Command;
/// let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/echo_worker.py");
/// let echo = parallel::plumbing::Program::new(move || {
///     let mut command = Command::new("python3");
///     command.arg(script);
///     command
/// });
/// let params = vec![b"ab".to_vec(), b"c".to_vec()];
/// let upper = parallel::process().run_program(&echo, b"upper", b"", params).unwrap();
/// assert_eq!(upper.into_iter().map(|value| value.bytes().to_vec()).collect::<Vec<_>>(), [b"AB".to_vec(), b"C".to_vec()]);
/// ```
///
/// **Output.** A worker's stderr is a pipe whose lines the parent writes to its own stderr,
/// whole; the descriptor in `PARALLEL_OUTPUT_FD`, if the program reads it, is another, forwarded
/// to the parent's stdout: a worker puts it on its descriptor 1 for its tasks' prints (see
/// [`process`](crate::process)). With [`with_lines`](Self::with_lines), a third.
#[derive(Clone)]
pub struct Program(Arc<Inner>);

struct Inner {
    command: Arc<dyn Fn() -> Command + Send + Sync>,
    lines: Option<Lines>,
}

impl Program {
    /// The program `command` starts (called once per worker process). The worker's stdin and
    /// stdout are the protocol's pipes, its stderr is forwarded to the caller's; it is killed
    /// when the thread that started it exits, and so at the latest with the calling process.
    pub fn new(command: impl Fn() -> Command + Send + Sync + 'static) -> Self {
        Program(Arc::new(Inner { command: Arc::new(command), lines: None }))
    }

    /// The same program, whose workers also get a pipe for lines — its descriptor's number in
    /// `PARALLEL_LOG_FD` — each line of which (without its newline) is handed to `sink`, on a
    /// thread of the parent's that reads that worker's pipe: in order per worker, and a batch's
    /// lines before its call returns, as the workers' stdout and stderr are forwarded (the
    /// Python package's workers send their log records this way). A line longer than 64 MiB
    /// is dropped; a sink that panics loses its line. Not given with
    /// `PARALLEL_WORKER_OUTPUT=inherit`.
    ///
    /// ```
    /// use std::process::Command;
    /// use std::sync::{Arc, Mutex};
    ///
    /// let lines = Arc::new(Mutex::new(Vec::new()));
    /// let kept = Arc::clone(&lines);
    /// let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/echo_worker.py");
    /// let echo = parallel::plumbing::Program::new(move || {
    ///     let mut command = Command::new("python3");
    ///     command.arg(script);
    ///     command
    /// })
    /// .with_lines(move |line| kept.lock().unwrap().push(line.to_vec()));
    /// let params = vec![b"ab".to_vec(), b"c".to_vec()];
    /// // The echo worker writes a line per task of `log` to `PARALLEL_LOG_FD`.
    /// parallel::process().run_program(&echo, b"log", b"", params).unwrap();
    /// // In order per worker; these two tasks may run on two.
    /// let mut lines = lines.lock().unwrap().clone();
    /// lines.sort();
    /// if std::env::var_os("PARALLEL_WORKER_OUTPUT").is_none() {
    ///     assert_eq!(lines, [b"ab".to_vec(), b"c".to_vec()]);
    /// }
    /// ```
    pub fn with_lines(self, sink: impl Fn(&[u8]) + Send + Sync + 'static) -> Self {
        Program(Arc::new(Inner { command: Arc::clone(&self.0.command), lines: Some(Arc::new(sink)) }))
    }

    /// The sink of the lines of this program's workers, if it has one.
    pub(crate) fn lines(&self) -> Option<&Lines> {
        self.0.lines.as_ref()
    }

    /// Kills every live worker process of this program — for Ctrl-C and interpreter exit; the
    /// tasks they were running fail as [`Crashed`](crate::FailureKind::Crashed), and later
    /// tasks start new workers. Returns how many were killed.
    ///
    /// ```
    /// let program = parallel::plumbing::Program::new(|| std::process::Command::new("cat"));
    /// assert_eq!(program.kill_workers(), 0);
    /// ```
    pub fn kill_workers(&self) -> usize {
        let children: Vec<_> = lock(live_workers())
            .iter()
            .filter(|(program, _)| program.same(self))
            .filter_map(|(_, child)| child.upgrade())
            .collect();
        // Reaped here too (the owner's later `wait` gets the same status): a worker killed while
        // idle must not look alive to the next call that takes it.
        children
            .iter()
            .filter(|child| {
                let mut child = lock(child);
                child.kill().is_ok() && child.wait().is_ok()
            })
            .count()
    }

    /// This executable again — the running image, even if its file was replaced or deleted
    /// since — in worker mode.
    pub(crate) fn this_executable() -> Self {
        static THIS: OnceLock<Program> = OnceLock::new();
        THIS.get_or_init(|| {
            Program::new(|| {
                let mut command = Command::new("/proc/self/exe");
                command.env(WORKER_ENV, "1");
                command
            })
        })
        .clone()
    }

    /// `true` if both start the same program (they are clones of one).
    pub(crate) fn same(&self, other: &Program) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }

    /// The command that starts one worker process of this program.
    pub(crate) fn command(&self) -> Command {
        (self.0.command)()
    }

    /// Records a worker process of this program, just started, for
    /// [`kill_workers`](Self::kill_workers) (forgotten once its owner dropped it).
    pub(crate) fn started(&self, child: &Arc<Mutex<Child>>) {
        let mut live = lock(live_workers());
        live.retain(|(_, child)| child.strong_count() > 0);
        live.push((self.clone(), Arc::downgrade(child)));
    }
}

/// Every worker started and not yet dropped, with its program.
type Live = Mutex<Vec<(Program, Weak<Mutex<Child>>)>>;

/// This process's live workers: a forked child has none (its parent's are not its own).
fn live_workers() -> &'static Live {
    static LIVE: PerProcess<Live> = PerProcess::new();
    LIVE.get(Mutex::default)
}

impl std::fmt::Debug for Program {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Program")
    }
}
