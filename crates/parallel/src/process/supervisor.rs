//! Worker processes, from the parent's side (the protocol they speak is `protocol.rs`). The
//! parent sends a [`Request`] frame per batch on the worker's stdin and reads one [`Reply`](crate::process::protocol::Reply) frame per task
//! from its stdout; a worker that dies shows as a closed pipe, and its exit status says how it
//! died; one that breaks the protocol is killed and replaced.
//!
//! The supervisor ([`Worker`]) is generic: a [`Program`] says which program a worker is, and
//! what crosses — the function's identity, each task's parameters, its value — is opaque
//! bytes, so any program that speaks the frames of `wire.rs` can be a worker: the Rust worker
//! (`serve.rs`) and the Python package's interpreters are two.
//!
//! What a worker prints reaches the parent's stdout and stderr through pipes of its own
//! (`output.rs`), settled after each batch: a call returns after its tasks' output.

use std::io;
use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::process::{Child, ChildStdin, ChildStdout, Stdio};

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::engine::forked::is_this_process;
use crate::engine::sync::lock;
use crate::engine::work::{Interrupt, StartProbe};
use crate::process::control::{Control, CONTROL_ENV};
use crate::process::inbox::{Inbox, Incoming};
use crate::process::output::{Forwarded, Plumbing};
use crate::process::program::Program;
use crate::process::protocol::{Reply, Request};
use crate::process::shared::{Buffer, Shared};
use crate::process::wire::WireError;

/// How a worker died.
pub(crate) struct Death {
    pub(crate) signal: Option<i32>,
    pub(crate) code: Option<i32>,
    pub(crate) message: String,
}

/// A worker process, from its parent's side. Dropping it kills and reaps the process.
pub(crate) struct Worker {
    /// The program this worker runs.
    pub(crate) program: Program,
    /// The worker's memory limit, if it has one.
    pub(crate) memory: Option<u64>,
    /// Shared with the [`killer`](Self::killer)s handed out; `Child::kill` on a reaped child
    /// sends nothing, so a killer can never hit a process that reused the pid.
    child: Arc<Mutex<Child>>,
    /// Bumped each time the worker is given back: a killer handed out before only kills while
    /// the lease it was made for lasts.
    lease: Arc<Mutex<(u64, bool)>>,
    requests: ChildStdin,
    /// Where a request's frame is put together.
    scratch: Vec<u8>,
    replies: Inbox<ChildStdout>,
    /// The pipes of what it prints, and of its program's lines.
    output: Forwarded,
    /// The process that started this worker: in a child forked since, this is a copy of the
    /// parent's handle, and the child leaves the parent's worker alone.
    owner: u32,
    /// The page through which a batch already sent is stopped.
    control: Arc<Control>,
    /// How many requests were sent to this worker (the worker counts them too).
    batches: u32,
    /// The control page's memfd, which the worker opens to see whether it can open this
    /// process's descriptors.
    _control_fd: OwnedFd,
    /// The worker's process id, whose descriptors hold its values' shared buffers.
    pid: u32,
    /// How many tasks this worker has answered.
    pub(crate) tasks: u64,
}

/// Stops one batch sent to a worker, from any thread: see [`Worker::next_stop`].
#[derive(Clone)]
pub(crate) struct BatchStop {
    control: Arc<Control>,
    batch: u32,
}

impl BatchStop {
    /// The tasks of the batch from `offset` on do not start.
    pub(crate) fn stop_from(&self, offset: usize) {
        self.control.stop_from(self.batch, offset);
    }

    /// The batch was not sent after all: a stop written for it must not hit the next batch,
    /// which gets its number. Called once nothing else can stop it (it is out of the registry).
    pub(crate) fn withdraw(&self) {
        self.control.withdraw(self.batch);
    }

    /// `true` if both stop the same batch of the same worker.
    pub(crate) fn same(&self, other: &BatchStop) -> bool {
        Arc::ptr_eq(&self.control, &other.control) && self.batch == other.batch
    }
}

impl Worker {
    /// Starts a worker of `program`, with at most `memory` bytes of address space if given
    /// (a task that allocates past it aborts its worker).
    pub(crate) fn start(program: &Program, memory: Option<u64>) -> io::Result<Self> {
        let mut command = program.command();
        let (control, control_fd) = Control::create()?;
        let control_fd_number = control_fd.as_raw_fd();
        command.env(CONTROL_ENV, control_fd_number.to_string());
        let mut output = Plumbing::new(program.lines())?;
        for (name, fd) in &output.env {
            command.env(name, fd.to_string());
        }
        let inherited = output.inherited;
        // SAFETY: between fork and exec the closure makes only async-signal-safe system
        // calls (prctl, getppid, fcntl, setrlimit, _exit) and touches no memory of the parent's.
        let parent = std::process::id() as libc::pid_t;
        unsafe {
            command.pre_exec(move || {
                // The control page's descriptor, and those of the output's pipes, are the ones
                // the child keeps across exec.
                if libc::fcntl(control_fd_number, libc::F_SETFD, 0) != 0 {
                    return Err(io::Error::last_os_error());
                }
                for &fd in inherited.iter().filter(|&&fd| fd >= 0) {
                    if libc::fcntl(fd, libc::F_SETFD, 0) != 0 {
                        return Err(io::Error::last_os_error());
                    }
                }
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
        let spawned = command.stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(output.stderr()).spawn();
        drop(command); // with the child's end of its stderr
        let output = output.started();
        let mut child = spawned?;
        // Kept open as long as the worker lives: the worker checks that it can open its
        // parent's descriptors by opening this one (see `shared.rs`).
        let requests = child.stdin.take().expect("piped stdin");
        let replies = Inbox::new(child.stdout.take().expect("piped stdout"));
        let pid = child.id();
        let child = Arc::new(Mutex::new(child));
        program.started(&child);
        let owner = std::process::id();
        let control = Arc::new(control);
        Ok(Worker {
            program: program.clone(),
            memory,
            child,
            lease: Arc::default(),
            requests,
            scratch: Vec::new(),
            replies,
            output,
            owner,
            control,
            batches: 0,
            _control_fd: control_fd,
            pid,
            tasks: 0,
        })
    }

    /// `true` if the worker can take a task: its process has not exited (it was killed while
    /// idle, say), and it has written nothing since its last reply — a worker that answers
    /// more than it was asked would hand its stale reply to the next task, so it is dropped
    /// (killed) instead of reused.
    pub(crate) fn is_alive(&self) -> bool {
        is_this_process(self.owner) && matches!(lock(&self.child).try_wait(), Ok(None)) && self.quiet()
    }

    /// `true` if nothing is waiting to be read from the worker, not even the end of its pipe.
    fn quiet(&self) -> bool {
        if !self.replies.is_empty() {
            return false;
        }
        let mut fd = libc::pollfd { fd: self.replies.get_ref().as_raw_fd(), events: libc::POLLIN, revents: 0 };
        // SAFETY: polls one descriptor this worker owns, without waiting.
        let ready = unsafe { libc::poll(&mut fd, 1, 0) };
        ready == 0
    }

    /// Kills this worker from another thread: its task fails, its pipe breaks.
    pub(crate) fn killer(&self) -> Interrupt {
        let child = Arc::clone(&self.child);
        let lease = Arc::clone(&self.lease);
        let mine = lock(&lease).0;
        Box::new(move || {
            let mut current = lock(&lease);
            if current.0 == mine {
                current.1 = true; // killed: never given back
                let _ = lock(&child).kill();
            }
        })
    }

    /// What stops the next batch sent with [`call`](Self::call), from any thread: its tasks
    /// not yet started then never start (they are answered [`Reply::Skipped`]), as long as the
    /// worker program reads its control page (the Rust and Python workers do).
    pub(crate) fn next_stop(&self) -> BatchStop {
        BatchStop { control: Arc::clone(&self.control), batch: self.batches.wrapping_add(1) }
    }

    /// Where the tasks of the next batch sent with [`call`](Self::call) stand, as the worker
    /// says, asked from any thread (see [`Control::start`]): a Python worker loads the batch's
    /// function and extras before it runs its tasks.
    pub(crate) fn start_probe(&self) -> StartProbe {
        let (control, batch) = (Arc::clone(&self.control), self.batches.wrapping_add(1));
        Box::new(move || control.start(batch))
    }

    /// Ends the current lease: killers handed out before do nothing from now on. `false` if
    /// one of them killed the worker already (then it must not be reused).
    pub(crate) fn end_lease(&self) -> bool {
        let mut lease = lock(&self.lease);
        lease.0 += 1;
        !lease.1
    }

    /// Runs a batch of tasks, handing one reply per task to `reply`, in order; `Err` if the
    /// worker died or broke the protocol (then `reply` got those of the tasks before the one
    /// whose reply was due — read from the pipe, or from the control page's reply log — and
    /// the worker is reaped and must be dropped; if it got a reply for every task, the worker
    /// died after its last task, and no task failed).
    ///
    /// A worker that stopped answering — its pipe ended, or a reply is not a frame that
    /// decodes as a [`Reply`](crate::process::protocol::Reply) — never makes the caller hang or panic: see [`Self::death`].
    ///
    /// The caller has just checked [`is_alive`](Self::is_alive) (the stash when it hands a
    /// worker out, a thread when it reuses the one it holds): a worker that wrote bytes nobody
    /// asked for, which would pass for the first task's reply, is never called.
    ///
    /// `stop_on_failure`: the batch belongs to a strict call, and the worker skips its tasks
    /// after one that failed. The batch can be stopped from another thread with the
    /// [`next_stop`](Self::next_stop) taken before this call.
    ///
    /// Replies are read as they come: a worker writes those of tiny tasks a log at a time
    /// (see [`control`](crate::process::control)), and they are taken from the read buffer in
    /// place ([`Inbox`]).
    pub(crate) fn call(
        &mut self,
        request: &Request<'_>,
        stop_on_failure: bool,
        mut reply: impl FnMut(Incoming<'_>),
    ) -> Result<(), Death> {
        self.batches = self.batches.wrapping_add(1);
        self.control.set_stop_on_failure(stop_on_failure);
        self.control.begin_log(self.batches);
        if let Err(e) = request.write(&mut self.requests, &mut self.scratch) {
            let death = self.death(&e, Pipe::Requests);
            self.output.settle();
            return Err(death);
        }
        let tasks = request.len();
        let mut received = 0;
        while received < tasks {
            match self.replies.next() {
                Ok(Incoming::Reply(Reply::Shared(value, buffers))) => match self.take_shared(value, &buffers) {
                    Ok(mapped) => {
                        reply(Incoming::Reply(mapped));
                        received += 1;
                        self.control.taken(self.batches, received);
                    }
                    // The worker sends this task's value again, in its frame.
                    Err(_) => self.control.refused(self.batches, received + 1),
                },
                Ok(incoming) => {
                    reply(incoming);
                    received += 1;
                }
                Err(e) => {
                    let death = self.death(&e, Pipe::Replies);
                    // What it printed before it died is in its pipes; and, dead now, the
                    // replies it had logged but not yet written are in.
                    self.output.settle();
                    let unread = self.control.unread(self.batches, received);
                    unread.into_iter().take(tasks - received).for_each(|r| reply(Incoming::Reply(r)));
                    return Err(death);
                }
            }
        }
        // Everything the worker printed before its last reply goes out before the call
        // returns.
        self.output.settle();
        Ok(())
    }

    /// A value whose large buffers are in the worker's memfds: each opened and mapped here (or
    /// read, where it cannot be mapped) before the worker may close them
    /// ([`shared`](crate::process::shared)).
    /// An error if one cannot be taken (this process is out of descriptors, say): the worker
    /// then sends the value again (see [`Control::refused`]).
    fn take_shared(&self, value: Vec<u8>, buffers: &[(u32, u64)]) -> std::io::Result<Reply> {
        let taken = buffers
            .iter()
            .map(|&(fd, len)| Shared::open(self.pid, fd, len as usize).and_then(Shared::take))
            .collect::<std::io::Result<Vec<Buffer>>>()?;
        Ok(Reply::Mapped(value, taken))
    }

    /// The worker's resident memory (RSS) in bytes, if it can be read.
    pub(crate) fn resident(&self) -> Option<u64> {
        let statm = std::fs::read_to_string(format!("/proc/{}/statm", self.pid)).ok()?;
        let pages: u64 = statm.split_whitespace().nth(1)?.parse().ok()?;
        // SAFETY: sysconf only reads a system constant.
        let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
        Some(pages * u64::try_from(page).ok()?)
    }

    /// `true` if the worker can open this process's descriptors: large buffers of the
    /// parameters can cross through shared memory.
    pub(crate) fn shares(&self) -> bool {
        self.control.shared()
    }

    /// Reaps a worker that failed a batch — whose pipe ended, or which broke the protocol —
    /// and says what happened, for the task whose reply was due.
    ///
    /// A worker that broke the protocol (garbage, a frame of another version, an oversized or
    /// truncated frame, a payload that is not a [`Reply`](crate::process::protocol::Reply)) is killed if it still runs; its
    /// task fails as [`Crashed`](crate::FailureKind::Crashed) with the status the worker was
    /// reaped with, and a message naming the wire error. `Crashed`, not `Error`: the task
    /// itself did not fail — its worker did, and the task is lost exactly as when a worker
    /// dies (the rest of the batch runs on a new worker, and re-running the task is as sound
    /// as after a crash); `Error` stays the kind of failures the task's own code or values
    /// caused. A worker whose pipe ended is given [`EXIT_GRACE`] to exit by itself, so a
    /// real death reports its own signal or exit code, not the SIGKILL sent here; one still
    /// running after that closed its pipe but stayed alive, and is killed.
    fn death(&mut self, broke: &WireError, pipe: Pipe) -> Death {
        // The pipe ended (inside a frame or not): the worker is most likely exiting, and its
        // status tells how. The lock is taken per look, so a killer is never kept waiting.
        let ended = matches!(broke, WireError::Closed | WireError::Io(_) | WireError::Truncated { .. });
        let since = Instant::now();
        let exited = loop {
            match lock(&self.child).try_wait() {
                Ok(None) if ended && since.elapsed() < EXIT_GRACE => {}
                exited => break exited,
            }
            std::thread::sleep(Duration::from_millis(1));
        };
        let (status, killed) = match exited {
            Ok(Some(status)) => (Ok(status), false),
            Ok(None) | Err(_) => {
                let mut child = lock(&self.child);
                let _ = child.kill();
                (child.wait(), true)
            }
        };
        let status = match status {
            Ok(status) => status,
            Err(e) => {
                let message = format!("its worker process was lost ({broke}; {e})");
                return Death { signal: None, code: None, message };
            }
        };
        let (signal, code) = (status.signal(), status.code());
        let how = match signal {
            Some(signal) => format!("was killed by signal {signal}"),
            None => format!("exited with code {}", code.unwrap_or(-1)),
        };
        let message = match broke {
            // It died on its own, between two frames, or inside one when a signal killed it
            // (a crash mid-reply truncates the frame it was writing): its death is the news.
            WireError::Closed | WireError::Io(_) if !killed => format!("its worker process {how}"),
            WireError::Truncated { .. } if !killed && signal.is_some() => format!("its worker process {how}"),
            WireError::Closed | WireError::Io(_) => {
                format!("its worker process {} but did not exit; it was killed and replaced", pipe.ended())
            }
            _ if killed => format!("its worker process broke the protocol: {broke}; it was killed and replaced"),
            _ => format!("its worker process broke the protocol: {broke}; it {how}"),
        };
        Death { signal, code, message }
    }
}

/// How long a worker whose pipe ended may take to exit before it is killed.
const EXIT_GRACE: Duration = Duration::from_secs(1);

/// Which of a worker's pipes failed.
#[derive(Clone, Copy)]
enum Pipe {
    /// Its stdin, which the parent writes requests to.
    Requests,
    /// Its stdout, which the parent reads replies from.
    Replies,
}

impl Pipe {
    /// What the worker did when this pipe ended while it ran.
    fn ended(self) -> &'static str {
        match self {
            Pipe::Requests => "stopped reading its requests (closed its stdin)",
            Pipe::Replies => "closed its replies (its stdout)",
        }
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        if !is_this_process(self.owner) {
            return; // the parent's worker, inherited by a fork: only our copies of its pipes close
        }
        let mut child = lock(&self.child);
        let _ = child.kill();
        let _ = child.wait();
    }
}

#[cfg(test)]
mod tests {
    use std::process::Command;

    use super::*;
    use crate::process::encoded::Encoded;

    #[test]
    fn any_program_speaking_the_frames_is_a_worker() {
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/echo_worker.py");
        let program = Program::new(move || {
            let mut command = Command::new("python3");
            command.arg(script);
            command
        });
        let mut worker = Worker::start(&program, None).unwrap();
        let mut params = Encoded::default();
        params.push(b"abc", Vec::new());
        params.push(b"de", Vec::new());
        let mut replies = Vec::new();
        let mut keep = |incoming: Incoming<'_>| {
            replies.push(match incoming {
                Incoming::Value(bytes) => Reply::Value(bytes.to_vec()),
                Incoming::Reply(reply) => reply,
            })
        };
        let upper = Request { entry: b"upper", params: &params, from: 0, to: 2, extras: b"", buffers: &[] };
        assert!(worker.call(&upper, false, &mut keep).is_ok());
        let exit = Request { entry: b"exit", params: &params, from: 1, to: 2, extras: b"", buffers: &[] };
        let death = worker.call(&exit, false, &mut keep).unwrap_err();
        assert!(matches!(&replies[..], [Reply::Value(a), Reply::Value(b)] if a == b"ABC" && b == b"DE"));
        assert_eq!((death.signal, death.code), (None, Some(7)));
        assert_eq!(replies.len(), 2, "the worker that exited answered nothing");
    }
}
