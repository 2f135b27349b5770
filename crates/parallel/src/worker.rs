//! Worker processes: the executable started again in worker mode. The parent sends one
//! [`Request`] frame per task on the worker's stdin and reads one [`Reply`] frame from its
//! stdout; a worker that dies shows as a closed pipe, and its exit status says how it died.
//!
//! The supervisor side ([`Worker`]) is generic: a [`Launcher`] says which program a worker
//! is, and what crosses — the function's identity, each task's parameters, its value — is
//! opaque bytes, so any program that speaks the frames of `wire.rs` can be a worker (the
//! Python package's interpreters will be). The Rust worker below is one such program.
//!
//! For Rust workers, functions cross as an *entry*: the address of a monomorphised
//! trampoline, counted from an anchor function of this crate. Both processes run the same executable, so the same offset
//! names the same code in each (the load address differs, offsets within the image do not).

use std::io::{self, BufReader, BufWriter, Write};
use std::os::fd::{FromRawFd, OwnedFd};
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};

use std::sync::{Arc, Mutex, OnceLock, Weak};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use crate::job::lock;
use crate::work::Interrupt;

use crate::wire::{self, WireError};
use crate::work::panic_message;

/// The environment variable that starts a process in worker mode.
pub(crate) const WORKER_ENV: &str = "PARALLEL_WORKER";

/// Replies closer together than this come from tiny tasks ...
const QUICK_REPLY: Duration = Duration::from_micros(20);

/// ... and the reader lets this much time pass before reading more of them, ...
const COALESCE: Duration = Duration::from_micros(100);

/// ... when at least this many are still to come.
const COALESCE_MIN: usize = 64;

/// The largest frame a worker or its parent accepts.
const MAX_FRAME: usize = 1 << 30;

/// A batch of tasks for a worker, as it sends them: the worker answers with one [`Reply`]
/// per task, in order, each as soon as its task is done.
#[derive(Serialize)]
pub(crate) struct Request<'a> {
    /// Which function to call: for Rust workers, the trampoline's offset from [`anchor`]
    /// (8 bytes, little-endian); opaque to the supervisor.
    pub(crate) entry: &'a [u8],
    /// Each task's encoded parameters.
    pub(crate) params: &'a [Vec<u8>],
    pub(crate) extras: &'a [u8],
}

/// A [`Request`] as the worker reads it.
#[derive(Deserialize)]
struct Received {
    entry: Vec<u8>,
    params: Vec<Vec<u8>>,
    extras: Vec<u8>,
}

/// A worker's answer to one task.
#[derive(Serialize, Deserialize)]
pub(crate) enum Reply {
    /// The encoded value.
    Value(Vec<u8>),
    /// The task panicked (`true`) or its parameters or value did not cross (`false`).
    Failed(bool, String),
    /// The task failed with an error the worker encoded: its message and the encoded error
    /// (a Python worker sends the pickled exception), kept as the failure's error value.
    Raised(String, Vec<u8>),
}

/// What a worker runs: decodes the parameters and extras, calls the function, encodes its
/// value. `Err((panicked, message))`.
pub(crate) type Entry = fn(&[u8], &[u8]) -> Result<Vec<u8>, (bool, String)>;

/// The function entries are counted from; never inlined, so it has an address of its own.
#[inline(never)]
fn anchor() {}

/// The bytes that name `entry` in every process of this executable: its offset from the
/// anchor.
pub(crate) fn entry_id(entry: Entry) -> [u8; 8] {
    ((entry as usize).wrapping_sub(anchor as fn() as usize) as u64).to_le_bytes()
}

/// Serves as a worker before `main` runs, when this process was started as one: programs
/// whose `main` is not theirs — `cargo test` binaries, doctests — use the process executor
/// without calling [`crate::init`]. It sits in the module that starts workers, so every
/// program that can start one links it.
#[used]
#[link_section = ".init_array"]
static SERVE_BEFORE_MAIN: extern "C" fn() = {
    extern "C" fn serve_before_main() {
        serve_if_worker();
    }
    serve_before_main
};

/// Runs as a worker if this process was started as one, and then exits; returns otherwise.
///
/// Called before `main` (see `SERVE_BEFORE_MAIN`) and by [`crate::init`].
pub(crate) fn serve_if_worker() {
    if std::env::var_os(WORKER_ENV).is_none() {
        return;
    }
    // Programs the tasks start are not workers. (Before `main`, or first thing in it: no other
    // thread reads the environment yet.)
    std::env::remove_var(WORKER_ENV);
    let code = match serve() {
        Ok(()) | Err(WireError::Closed) => 0,
        Err(e) => {
            eprintln!("parallel worker {}: {e}", std::process::id());
            2
        }
    };
    std::process::exit(code);
}

/// The worker's loop: one reply per request until the parent closes the pipe.
fn serve() -> Result<(), WireError> {
    // SAFETY: plain system calls on the process's own file descriptors, before any other
    // thread of this process exists.
    let (requests, replies) = unsafe {
        // Die with the parent, even while a task runs.
        libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
        if libc::getppid() == 1 {
            return Ok(()); // the parent is gone already
        }
        // The protocol gets its own descriptors; what tasks print goes to stderr, and what
        // they read from stdin is nothing, so neither can corrupt a frame.
        let requests = libc::dup(0);
        let replies = libc::dup(1);
        let null = libc::open(c"/dev/null".as_ptr(), libc::O_RDONLY);
        if requests < 0 || replies < 0 || null < 0 {
            return Err(WireError::Io(io::Error::last_os_error()));
        }
        libc::dup2(null, 0);
        libc::dup2(2, 1);
        libc::close(null);
        (std::fs::File::from(OwnedFd::from_raw_fd(requests)), std::fs::File::from(OwnedFd::from_raw_fd(replies)))
    };
    let mut requests = BufReader::new(requests);
    let mut replies = BufWriter::new(replies);
    loop {
        let request: Received = wire::recv(&mut requests, MAX_FRAME)?;
        let offset = <[u8; 8]>::try_from(request.entry.as_slice())
            .map_err(|_| WireError::Decode(format!("an entry of {} bytes, not 8", request.entry.len())))?;
        let anchor = anchor as fn() as usize;
        // SAFETY: the parent runs this same executable and computed the offset with
        // `entry_id` from a function of type `Entry`: the sum is that function's address
        // here. The parent is trusted (same user, our own pipe).
        let entry: Entry =
            unsafe { std::mem::transmute(anchor.wrapping_add(u64::from_le_bytes(offset) as usize) as *const ()) };
        for params in &request.params {
            let reply = match catch_unwind(AssertUnwindSafe(|| entry(params, &request.extras))) {
                Ok(Ok(value)) => Reply::Value(value),
                Ok(Err((panicked, message))) => Reply::Failed(panicked, message),
                Err(payload) => Reply::Failed(true, panic_message(payload)),
            };
            // Flushed per task: if the worker dies later in the batch, these results are in.
            wire::send(&mut replies, &reply)?;
            replies.flush()?;
        }
    }
}

/// How to start a worker process: this executable in worker mode, or any program that
/// speaks the protocol.
#[derive(Clone)]
pub(crate) struct Launcher(Arc<dyn Fn() -> Command + Send + Sync>);

impl Launcher {
    /// This executable again — the running image, even if its file was replaced or deleted
    /// since — in worker mode.
    pub(crate) fn this_executable() -> Self {
        static THIS: OnceLock<Launcher> = OnceLock::new();
        THIS.get_or_init(|| {
            Launcher(Arc::new(|| {
                let mut command = Command::new("/proc/self/exe");
                command.env(WORKER_ENV, "1");
                command
            }))
        })
        .clone()
    }

    /// `true` if both start the same program (they are clones of one launcher).
    pub(crate) fn same(&self, other: &Launcher) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }

    /// Any program: `command` makes the command that starts one worker.
    pub(crate) fn program(command: impl Fn() -> Command + Send + Sync + 'static) -> Self {
        Launcher(Arc::new(command))
    }
}

/// Every worker started and not yet dropped, with its program.
type Live = Mutex<Vec<(Launcher, Weak<Mutex<Child>>)>>;

fn live_workers() -> &'static Live {
    static LIVE: OnceLock<Live> = OnceLock::new();
    LIVE.get_or_init(Mutex::default)
}

/// Kills every live worker of `launcher`'s program; returns how many. Their tasks fail as
/// crashed, and each is reaped by its owner.
pub(crate) fn kill_workers(launcher: &Launcher) -> usize {
    let children: Vec<_> = lock(live_workers())
        .iter()
        .filter(|(l, _)| l.same(launcher))
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

/// How a worker died.
pub(crate) struct Death {
    pub(crate) signal: Option<i32>,
    pub(crate) code: Option<i32>,
    pub(crate) message: String,
}

/// A worker process, from its parent's side. Dropping it kills and reaps the process.
pub(crate) struct Worker {
    /// The program this worker runs.
    pub(crate) launcher: Launcher,
    /// The worker's memory limit, if it has one.
    pub(crate) memory: Option<u64>,
    /// Shared with the [`killer`](Self::killer)s handed out; `Child::kill` on a reaped child
    /// sends nothing, so a killer can never hit a process that reused the pid.
    child: Arc<Mutex<Child>>,
    requests: BufWriter<ChildStdin>,
    replies: BufReader<ChildStdout>,
}

impl Worker {
    /// Starts a worker with `launcher`, with at most `memory` bytes of address space if given
    /// (a task that allocates past it aborts its worker).
    pub(crate) fn start(launcher: &Launcher, memory: Option<u64>) -> io::Result<Self> {
        let mut command = (launcher.0)();
        // SAFETY: between fork and exec the closure makes only async-signal-safe system
        // calls (prctl, getppid, setrlimit, _exit) and touches no memory of the parent's.
        let parent = std::process::id() as libc::pid_t;
        unsafe {
            command.pre_exec(move || {
                // Whatever the program, it dies with the thread that started it (the stash's
                // starter thread, which lives as long as the process); and if that happened
                // already, now.
                libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
                if libc::getppid() != parent {
                    libc::_exit(0);
                }
                // The memory cap, for any program: a Rust task allocating past it aborts its
                // worker, a Python one gets a `MemoryError`.
                if let Some(bytes) = memory {
                    let limit = libc::rlimit { rlim_cur: bytes, rlim_max: bytes };
                    if libc::setrlimit(libc::RLIMIT_AS, &limit) != 0 {
                        return Err(io::Error::last_os_error());
                    }
                }
                Ok(())
            });
        }
        let mut child = command.stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::inherit()).spawn()?;
        let requests = BufWriter::new(child.stdin.take().expect("piped stdin"));
        let replies = BufReader::with_capacity(1 << 16, child.stdout.take().expect("piped stdout"));
        let child = Arc::new(Mutex::new(child));
        let mut live = lock(live_workers());
        live.retain(|(_, child)| child.strong_count() > 0);
        live.push((launcher.clone(), Arc::downgrade(&child)));
        Ok(Worker { launcher: launcher.clone(), memory, child, requests, replies })
    }

    /// `true` unless the process has exited (it was killed while idle, say).
    pub(crate) fn is_alive(&self) -> bool {
        matches!(lock(&self.child).try_wait(), Ok(None))
    }

    /// Kills this worker from another thread: its task fails, its pipe breaks.
    pub(crate) fn killer(&self) -> Interrupt {
        let child = Arc::clone(&self.child);
        Box::new(move || {
            let _ = lock(&child).kill();
        })
    }

    /// Runs a batch of tasks, pushing one reply per task to `replies`; `Err` if the worker
    /// died (then `replies` holds those of the tasks before the one that killed it, and the
    /// worker is reaped and must be dropped).
    pub(crate) fn call(&mut self, request: &Request<'_>, replies: &mut Vec<Reply>) -> Result<(), Death> {
        let sent = wire::send(&mut self.requests, request).and_then(|()| Ok(self.requests.flush()?));
        let received = sent.and_then(|()| {
            let mut last: Option<Instant> = None;
            for left in (1..=request.params.len()).rev() {
                // Replies of tiny tasks arrive microseconds apart: rather than wake for each
                // (which also makes each of the worker's writes wake us), let many pile up
                // in the pipe and read them at once. Slower tasks are read as they come.
                let quick = last.is_some_and(|at| at.elapsed() < QUICK_REPLY);
                if quick && left >= COALESCE_MIN && self.replies.buffer().is_empty() {
                    std::thread::sleep(COALESCE);
                }
                replies.push(wire::recv(&mut self.replies, MAX_FRAME)?);
                last = Some(Instant::now());
            }
            Ok(())
        });
        received.map_err(|e| self.death(&e))
    }

    /// Reaps a worker whose pipe broke, and says how it died.
    fn death(&mut self, broke: &WireError) -> Death {
        let mut child = lock(&self.child);
        let _ = child.kill();
        match child.wait() {
            Ok(status) if status.signal().is_some() => {
                let signal = status.signal();
                let message = format!("its worker process was killed by signal {}", signal.unwrap_or_default());
                Death { signal, code: None, message }
            }
            Ok(status) => {
                let code = status.code();
                Death {
                    signal: None,
                    code,
                    message: format!("its worker process exited with code {}", code.unwrap_or(-1)),
                }
            }
            Err(e) => {
                Death { signal: None, code: None, message: format!("its worker process was lost ({broke}; {e})") }
            }
        }
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        let mut child = lock(&self.child);
        let _ = child.kill();
        let _ = child.wait();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn any_program_speaking_the_frames_is_a_worker() {
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/echo_worker.py");
        let launcher = Launcher::program(move || {
            let mut command = Command::new("python3");
            command.arg(script);
            command
        });
        let mut worker = Worker::start(&launcher, None).unwrap();
        let params = vec![b"abc".to_vec(), b"de".to_vec()];
        let mut replies = Vec::new();
        let upper = Request { entry: b"upper", params: &params, extras: b"" };
        assert!(worker.call(&upper, &mut replies).is_ok());
        assert!(matches!(&replies[..], [Reply::Value(a), Reply::Value(b)] if a == b"ABC" && b == b"DE"));
        replies.clear();
        let exit = Request { entry: b"exit", params: &params, extras: b"" };
        let death = worker.call(&exit, &mut replies).unwrap_err();
        assert_eq!((death.signal, death.code), (None, Some(7)));
        assert!(replies.is_empty());
    }
}
