//! What worker processes print, forwarded to their parent: a task's stdout to the parent's
//! stdout, its stderr to the parent's stderr, and the lines of a worker program's third pipe
//! (the Python worker's log records) to the sink its [`Program`](crate::plumbing::Program) was
//! given ([`Program::with_lines`](crate::plumbing::Program::with_lines)).
//!
//! **The pipes.** The supervisor starts each worker with a pipe for its tasks' stdout — the
//! write end kept open across `exec`, its number in `PARALLEL_OUTPUT_FD`, which the worker
//! puts on its descriptor 1 (its own stdout is the protocol's pipe) — a pipe as its stderr,
//! and, for a program with a sink, a pipe for lines, its number in `PARALLEL_LOG_FD`. A
//! program that knows none of the variables keeps working: its stderr is forwarded.
//!
//! **Lines whole.** A thread per pipe ([`forward`]) reads it and writes what it read, up to
//! its last newline, to the parent's descriptor 1 or 2 in one `write`, holding the forwarders'
//! lock of that descriptor: the lines of several workers never mix, and each worker's come in
//! the order it wrote them. (Not std's `Stdout` lock: a caller holding `stdout().lock()`
//! across a call would wait for its workers, and their output for it. The parent's own
//! prints are whole lines in one `write` each too, so they do not mix with a worker's either.) The rest waits for
//! its newline — or goes out as it is past [`LINE_CAP`], when the worker exits, and when the
//! batch that wrote it has been answered ([`Forwarded::settle`]). A write that fails (the
//! parent's stdout closed) loses its bytes and the thread reads on: a worker never blocks
//! because its parent stopped reading.
//!
//! **In order with the results.** After the last reply of a batch, and after a worker died,
//! the supervisor [`settle`](Forwarded::settle)s its pipes: under each pipe's mutex — which the
//! thread holds from its `read` to its last `write` of what it read, so no read is half
//! handled — it asks how many bytes the pipe holds (`FIONREAD`), and waits until the thread has
//! read and handled that many more (one `poll` of its pipes first: one that holds nothing needs
//! no `ioctl`). Everything the worker wrote before its reply is then out,
//! so a call returns after its tasks' output; what the worker writes meanwhile (a thread of
//! its own that keeps printing) does not hold the call back. A `poll` and a lock per pipe and
//! batch, nothing per task.
//!
//! **Turned off.** With `PARALLEL_WORKER_OUTPUT=inherit` (read when a worker starts), the
//! worker's stdout and stderr are the parent's own descriptors — its stdout through
//! `PARALLEL_OUTPUT_FD` still — and nothing is read or assembled here; it gets no pipe for
//! lines.

use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::process::Stdio;
use std::sync::{Arc, Condvar, Mutex};

use crate::engine::sync::lock;

/// The variable that tells a worker which descriptor to put on its stdout.
pub(crate) const OUTPUT_ENV: &str = "PARALLEL_OUTPUT_FD";

/// The variable that tells a worker program with a sink for lines where to write them.
pub(crate) const LOG_ENV: &str = "PARALLEL_LOG_FD";

/// The variable that turns forwarding off: `inherit`.
pub(crate) const MODE_ENV: &str = "PARALLEL_WORKER_OUTPUT";

/// A partial line this long goes out as it is: a worker that writes without newlines is not
/// held back, nor its bytes kept.
pub(crate) const LINE_CAP: usize = 64 << 10;

/// A line for a sink longer than this is dropped, up to its newline: a sink gets whole lines
/// only (a log record's), and a worker that writes no newline cannot fill the parent's memory.
pub(crate) const SINK_LINE_CAP: usize = 64 << 20;

/// How much a thread reads at once.
const CHUNK: usize = 64 << 10;

/// The stack of a thread that forwards to stdout or stderr (the buffers are on the heap); one
/// that calls a sink gets the size of a thread of its own (the sink may run an interpreter).
const TEXT_STACK: usize = 128 << 10;
const SINK_STACK: usize = 8 << 20;

/// What a program's workers' lines are handed to: each complete line, without its newline.
pub(crate) type Lines = Arc<dyn Fn(&[u8]) + Send + Sync>;

/// Where a pipe's bytes go.
enum Sink {
    Stdout,
    Stderr,
    Lines(Lines),
}

/// The pipes of one worker about to start: what its command gets, and the threads already
/// reading the other ends.
pub(crate) struct Plumbing {
    /// The variables to set, with the number of the descriptor each names.
    pub(crate) env: Vec<(&'static str, RawFd)>,
    /// The descriptors the child keeps across `exec` (-1 for none).
    pub(crate) inherited: [RawFd; 2],
    /// The child's stderr.
    stderr: Option<Stdio>,
    /// The write ends the child gets, closed here once it started.
    write_ends: Vec<OwnedFd>,
    forwarded: Forwarded,
}

impl Plumbing {
    /// The pipes of a worker whose program hands its lines to `lines` (if any), and their
    /// threads, reading already; with `PARALLEL_WORKER_OUTPUT=inherit`, the parent's own
    /// descriptors instead. An error if a pipe or a thread cannot be made.
    pub(crate) fn new(lines: Option<&Lines>) -> io::Result<Self> {
        let mut plumbing = Plumbing {
            env: Vec::new(),
            inherited: [-1; 2],
            stderr: None,
            write_ends: Vec::new(),
            forwarded: Forwarded::default(),
        };
        if std::env::var_os(MODE_ENV).is_some_and(|mode| mode == "inherit") {
            // The parent's stdout, under a number of its own; if it has none, the worker's
            // stdout is its stderr, as for a program that knows no `PARALLEL_OUTPUT_FD`.
            // SAFETY: a plain system call; the descriptor it makes is owned at once.
            let stdout = unsafe { libc::fcntl(1, libc::F_DUPFD_CLOEXEC, 3) };
            if stdout >= 0 {
                // SAFETY: just made, owned by nothing else.
                plumbing.pass(OUTPUT_ENV, unsafe { OwnedFd::from_raw_fd(stdout) }, 0);
            }
            plumbing.stderr = Some(Stdio::inherit());
            return Ok(plumbing);
        }
        let (read, write) = pipe()?;
        plumbing.pass(OUTPUT_ENV, write, 0);
        plumbing.forwarded.pipes.push(forward(read, Sink::Stdout)?);
        let (read, write) = pipe()?;
        plumbing.stderr = Some(Stdio::from(write));
        plumbing.forwarded.pipes.push(forward(read, Sink::Stderr)?);
        if let Some(lines) = lines {
            let (read, write) = pipe()?;
            plumbing.pass(LOG_ENV, write, 1);
            plumbing.forwarded.pipes.push(forward(read, Sink::Lines(Arc::clone(lines)))?);
        }
        Ok(plumbing)
    }

    /// `fd` goes to the child under its own number, named by `name`.
    fn pass(&mut self, name: &'static str, fd: OwnedFd, slot: usize) {
        self.env.push((name, fd.as_raw_fd()));
        self.inherited[slot] = fd.as_raw_fd();
        self.write_ends.push(fd);
    }

    /// The child's stderr: the pipe forwarded to the parent's, or the parent's own.
    pub(crate) fn stderr(&mut self) -> Stdio {
        self.stderr.take().unwrap_or_else(Stdio::inherit)
    }

    /// The child started (or failed to): the write ends this process held are closed — each
    /// pipe ends when the worker (and whatever holds its descriptors) is gone — and the
    /// pipes, for the supervisor to settle.
    pub(crate) fn started(self) -> Forwarded {
        drop(self.write_ends);
        self.forwarded
    }
}

/// A pipe, both ends close-on-exec; its read end non-blocking, its write end numbered 3 or
/// more (a parent whose stdio is closed must not pass a descriptor the child's stdio
/// replaces).
fn pipe() -> io::Result<(OwnedFd, OwnedFd)> {
    let mut fds = [0; 2];
    // SAFETY: `fds` has room for the two descriptors; each is owned at once.
    let (read, write) = unsafe {
        if libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) != 0 {
            return Err(io::Error::last_os_error());
        }
        (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1]))
    };
    let write = if write.as_raw_fd() < 3 {
        // SAFETY: a plain system call; the descriptor it makes is owned at once.
        let moved = unsafe { libc::fcntl(write.as_raw_fd(), libc::F_DUPFD_CLOEXEC, 3) };
        if moved < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: just made, owned by nothing else.
        unsafe { OwnedFd::from_raw_fd(moved) }
    } else {
        write
    };
    // SAFETY: plain system calls on a descriptor this function owns.
    if unsafe { libc::fcntl(read.as_raw_fd(), libc::F_SETFL, libc::O_NONBLOCK) } != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok((read, write))
}

/// A worker's forwarded pipes, from the supervisor's side.
#[derive(Default)]
pub(crate) struct Forwarded {
    pipes: Vec<Arc<Pipe>>,
}

impl Forwarded {
    /// Returns once everything the worker has written to its pipes so far is forwarded — read,
    /// its lines written or handed to the sink, a partial line written as it is. Called after
    /// a batch's last reply, and after the worker died (what it wrote before stays in the
    /// pipe).
    ///
    /// One `poll` of the pipes first: most batches print nothing, and a pipe that holds
    /// nothing only needs its thread to be done with what it read (its lock).
    pub(crate) fn settle(&self) {
        let mut fds = [libc::pollfd { fd: -1, events: libc::POLLIN, revents: 0 }; 3];
        for (fd, pipe) in fds.iter_mut().zip(&self.pipes) {
            fd.fd = pipe.fd.as_raw_fd();
        }
        let n = self.pipes.len().min(fds.len());
        // SAFETY: polls the pipes' descriptors (the first `n` of `fds`), without waiting.
        let polled = unsafe { libc::poll(fds.as_mut_ptr(), n as libc::nfds_t, 0) };
        for (i, pipe) in self.pipes.iter().enumerate() {
            let holds = polled != 0 && fds.get(i).is_none_or(|fd| fd.revents & libc::POLLIN != 0);
            pipe.settle(holds);
        }
    }
}

/// One pipe and the thread that reads it.
struct Pipe {
    /// The read end: kept open while the supervisor may settle it, so its number never names
    /// another file meanwhile.
    fd: OwnedFd,
    sink: Sink,
    /// Held by the thread from a `read` to the last `write` of what it read.
    state: Mutex<State>,
    /// Notified each time the thread has handled a read, and when it ends.
    handled: Condvar,
}

#[derive(Default)]
struct State {
    /// Bytes after the last newline.
    pending: Vec<u8>,
    /// A line for a sink past [`SINK_LINE_CAP`]: the bytes up to its newline are dropped.
    dropping: bool,
    /// The pipe ended (or its thread did): nothing more comes.
    ended: bool,
    /// How many bytes the thread has read and handled.
    read: u64,
}

/// Starts the thread that forwards `fd` to `sink`.
fn forward(fd: OwnedFd, sink: Sink) -> io::Result<Arc<Pipe>> {
    let stack = if matches!(sink, Sink::Lines(_)) { SINK_STACK } else { TEXT_STACK };
    let pipe = Arc::new(Pipe { fd, sink, state: Mutex::default(), handled: Condvar::new() });
    let reader = Arc::clone(&pipe);
    std::thread::Builder::new().name("parallel-output".into()).stack_size(stack).spawn(move || reader.read_to_end())?;
    Ok(pipe)
}

impl Pipe {
    /// The thread's loop: waits for bytes without the lock, then reads and forwards them with
    /// it, until the pipe ends.
    fn read_to_end(&self) {
        /// Marks the pipe ended however the loop ends, a panic too: a settle never waits for
        /// a thread that is gone.
        struct Ends<'a>(&'a Pipe);
        impl Drop for Ends<'_> {
            fn drop(&mut self) {
                let mut state = lock(&self.0.state);
                let pending = std::mem::take(&mut state.pending);
                if !state.dropping {
                    self.0.sink.partial(&pending);
                }
                state.ended = true;
                drop(state);
                self.0.handled.notify_all();
            }
        }
        let _ends = Ends(self);
        let mut chunk = vec![0u8; CHUNK];
        let fd = self.fd.as_raw_fd();
        loop {
            let mut ready = libc::pollfd { fd, events: libc::POLLIN, revents: 0 };
            // SAFETY: polls one descriptor this pipe owns.
            if unsafe { libc::poll(&mut ready, 1, -1) } < 0 {
                if io::Error::last_os_error().kind() == io::ErrorKind::Interrupted {
                    continue;
                }
                return;
            }
            let mut state = lock(&self.state);
            // SAFETY: reads into `chunk`, which has room for `CHUNK` bytes; the descriptor is
            // non-blocking, so the lock is never held while nothing comes.
            let read = unsafe { libc::read(fd, chunk.as_mut_ptr().cast(), CHUNK) };
            match read {
                0 => return, // the pipe ended: `Ends` writes the rest
                n if n > 0 => {
                    state.take(&chunk[..n as usize], &self.sink);
                    state.read += n as u64;
                }
                _ => match io::Error::last_os_error().kind() {
                    io::ErrorKind::Interrupted | io::ErrorKind::WouldBlock => {}
                    _ => return,
                },
            }
            drop(state);
            self.handled.notify_all();
        }
    }

    /// Waits until the thread has handled the bytes the pipe holds now (none is being handled
    /// while the lock is held: they are the next ones it reads) — not those written since, so
    /// a worker that keeps writing (a thread of its own printing) cannot hold the call back —
    /// then writes a partial line as it is.
    ///
    /// `holds`: the pipe may hold bytes (without, it held none when it was polled, after the
    /// worker's reply: only the thread's current read, if any, is waited for).
    fn settle(&self, holds: bool) {
        let mut state = lock(&self.state);
        let mut unread: libc::c_int = 0;
        // SAFETY: asks how many bytes the pipe holds, into `unread`.
        let asked = holds && unsafe { libc::ioctl(self.fd.as_raw_fd(), libc::FIONREAD, &mut unread) } == 0;
        let until = state.read + if asked { unread.max(0) as u64 } else { 0 };
        while state.read < until && !state.ended {
            state = self.handled.wait(state).unwrap_or_else(std::sync::PoisonError::into_inner);
        }
        if !state.ended && !matches!(self.sink, Sink::Lines(_)) {
            let pending = std::mem::take(&mut state.pending);
            self.sink.partial(&pending);
        }
    }
}

impl State {
    /// Forwards what was read: the lines it completes, and keeps the rest.
    fn take(&mut self, data: &[u8], sink: &Sink) {
        match sink {
            Sink::Lines(lines) => self.lines(data, lines),
            text => {
                if let Some(last) = data.iter().rposition(|&b| b == b'\n') {
                    if self.pending.is_empty() {
                        text.write(&data[..=last]);
                    } else {
                        self.pending.extend_from_slice(&data[..=last]);
                        text.write(&self.pending);
                        self.pending.clear();
                    }
                    self.pending.extend_from_slice(&data[last + 1..]);
                } else {
                    self.pending.extend_from_slice(data);
                }
                if self.pending.len() >= LINE_CAP {
                    text.write(&self.pending);
                    self.pending.clear();
                }
                if self.pending.capacity() > 2 * LINE_CAP {
                    self.pending.shrink_to(LINE_CAP);
                }
            }
        }
    }

    /// Each complete line of `data` (the first completing the pending bytes) to `sink`.
    fn lines(&mut self, mut data: &[u8], sink: &Lines) {
        while let Some(end) = data.iter().position(|&b| b == b'\n') {
            if std::mem::take(&mut self.dropping) {
                self.pending.clear();
            } else if self.pending.is_empty() {
                call(sink, &data[..end]);
            } else {
                self.pending.extend_from_slice(&data[..end]);
                call(sink, &self.pending);
                self.pending.clear();
            }
            data = &data[end + 1..];
        }
        if !self.dropping {
            self.pending.extend_from_slice(data);
        }
        if self.pending.len() > SINK_LINE_CAP {
            (self.dropping, self.pending) = (true, Vec::new());
        }
    }
}

/// A line to a sink: a sink that panics loses its line, and the pipe is read on.
fn call(sink: &Lines, line: &[u8]) {
    let _ = catch_unwind(AssertUnwindSafe(|| sink(line)));
}

impl Sink {
    /// Complete lines (or a partial one) to the parent's stdout or stderr, in one write under
    /// the forwarders' lock of that descriptor; what cannot be written is lost.
    fn write(&self, bytes: &[u8]) {
        /// The forwarders' locks of descriptors 1 and 2.
        static LOCKS: [Mutex<()>; 2] = [Mutex::new(()), Mutex::new(())];
        let fd = match self {
            Sink::Stdout => 1,
            Sink::Stderr => 2,
            Sink::Lines(_) => return,
        };
        let _held = lock(&LOCKS[fd as usize - 1]);
        write_all(fd, bytes);
    }

    /// A partial line that will not be completed soon: written as it is (to a sink, nothing).
    fn partial(&self, bytes: &[u8]) {
        if !bytes.is_empty() {
            self.write(bytes);
        }
    }
}

/// `bytes` to descriptor `fd`, in one `write` unless it writes less (a pipe past its room, a
/// signal), then in more; waits while a non-blocking descriptor is full; gives up on an error.
fn write_all(fd: RawFd, mut bytes: &[u8]) {
    while !bytes.is_empty() {
        // SAFETY: writes from `bytes`, which holds `bytes.len()` bytes.
        let written = unsafe { libc::write(fd, bytes.as_ptr().cast(), bytes.len()) };
        if written > 0 {
            bytes = &bytes[written as usize..];
            continue;
        }
        if written == 0 {
            return;
        }
        match io::Error::last_os_error().kind() {
            io::ErrorKind::Interrupted => {}
            io::ErrorKind::WouldBlock => {
                let mut room = libc::pollfd { fd, events: libc::POLLOUT, revents: 0 };
                // SAFETY: polls one descriptor, which the caller names.
                unsafe { libc::poll(&mut room, 1, -1) };
            }
            _ => return,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A pipe whose lines go to a sink that keeps them; its write end.
    fn kept() -> (Forwarded, OwnedFd, Arc<Mutex<Vec<Vec<u8>>>>) {
        let lines = Arc::new(Mutex::new(Vec::new()));
        let keep = Arc::clone(&lines);
        let sink: Lines = Arc::new(move |line: &[u8]| lock(&keep).push(line.to_vec()));
        let (read, write) = pipe().unwrap();
        let forwarded = Forwarded { pipes: vec![forward(read, Sink::Lines(sink)).unwrap()] };
        (forwarded, write, lines)
    }

    fn write(fd: &OwnedFd, bytes: &[u8]) {
        write_all(fd.as_raw_fd(), bytes);
    }

    #[test]
    fn a_sink_gets_whole_lines_by_the_time_the_pipe_is_settled() {
        let (forwarded, write_end, lines) = kept();
        write(&write_end, b"one\ntw");
        write(&write_end, b"o\n");
        let long = vec![b'x'; 3 * CHUNK];
        write(&write_end, &long); // read in several chunks
        write(&write_end, b"\nthree, unfinished");
        forwarded.settle();
        assert_eq!(*lock(&lines), [b"one".to_vec(), b"two".to_vec(), long]);
        drop(write_end);
        forwarded.settle();
        assert_eq!(lock(&lines).len(), 3, "a sink never gets a partial line");
    }

    #[test]
    fn a_worker_that_keeps_writing_does_not_hold_a_settle_back() {
        let (forwarded, write_end, lines) = kept();
        let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let writing = Arc::clone(&stop);
        let writer = std::thread::spawn(move || {
            while !writing.load(std::sync::atomic::Ordering::Relaxed) {
                write(&write_end, b"more\n");
            }
        });
        for _ in 0..100 {
            forwarded.settle();
        }
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
        writer.join().unwrap();
        forwarded.settle();
        assert!(lock(&lines).iter().all(|line| line == b"more"));
    }

    #[test]
    fn settling_an_ended_pipe_returns() {
        let (forwarded, write_end, lines) = kept();
        write(&write_end, b"last\n");
        drop(write_end);
        forwarded.settle();
        forwarded.settle();
        assert_eq!(*lock(&lines), [b"last".to_vec()]);
    }

    #[test]
    fn a_line_past_the_cap_is_dropped_up_to_its_newline() {
        let mut state = State::default();
        let got = Arc::new(Mutex::new(Vec::new()));
        let keep = Arc::clone(&got);
        let sink: Lines = Arc::new(move |line: &[u8]| lock(&keep).push(line.to_vec()));
        state.lines(b"kept\n", &sink);
        let huge = vec![b'y'; SINK_LINE_CAP / 2 + 1];
        state.lines(&huge, &sink);
        state.lines(&huge, &sink);
        assert!(state.dropping && state.pending.is_empty());
        state.lines(&huge, &sink);
        state.lines(b"yyy\nnext\n", &sink);
        assert_eq!(*lock(&got), [b"kept".to_vec(), b"next".to_vec()]);
    }

    #[test]
    fn a_sink_that_panics_loses_its_line_only() {
        let mut state = State::default();
        let got = Arc::new(Mutex::new(Vec::new()));
        let keep = Arc::clone(&got);
        let sink: Lines = Arc::new(move |line: &[u8]| {
            assert_ne!(line, b"bad", "a sink that panics");
            lock(&keep).push(line.to_vec());
        });
        state.lines(b"bad\ngood\n", &sink);
        assert_eq!(*lock(&got), [b"good".to_vec()]);
    }
}
