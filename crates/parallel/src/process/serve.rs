//! The worker side: what a worker process runs. A Rust worker is this executable started
//! again with `PARALLEL_WORKER=1`; it serves from `.init_array`, before `main` (or from
//! [`crate::init`]), reading [`Request`](crate::process::protocol::Request) frames and answering
//! one [`Reply`] per task.
//!
//! Functions cross as an *entry*: the address of a monomorphised trampoline, counted from an
//! anchor function of this crate. Both processes run the same executable, so the same offset
//! names the same code in each (the load address differs, offsets within the image do not).

use std::io::{self, BufReader, BufWriter, Read, Write};
use std::ops::Deref;
use std::os::fd::{FromRawFd, OwnedFd};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::time::{Duration, Instant};

use crate::engine::work::panic_message;
use crate::process::control::{Control, LOG_SIZE};
use crate::process::output::OUTPUT_ENV;
use crate::process::protocol::{self, Received, Reply, MAX_FRAME, WORKER_ENV};
use crate::process::wire::{self, WireError};

/// What a worker runs: decodes the parameters and extras, calls the function, encodes its
/// value at the end of the `Vec` it is given (a reply's frame, reused from task to task).
/// `Err((panicked, message))`.
pub(crate) type Entry = fn(&[u8], &[u8], &mut Vec<u8>) -> Result<(), (bool, String)>;

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
/// without calling [`crate::init`]. It sits beside [`entry_id`], which every call of the
/// process executor uses, so every program that can start a Rust worker links it.
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
    report_panics_briefly();
    let code = match serve() {
        Ok(()) | Err(WireError::Closed) => 0,
        Err(e) => {
            eprintln!("parallel worker {}: {e}", std::process::id());
            2
        }
    };
    std::process::exit(code);
}

/// The variable that says how a worker reports a panic on its stderr: `full` for Rust's usual
/// report (with a backtrace if `RUST_BACKTRACE` asks), `none` for nothing; otherwise one line.
pub(crate) const PANIC_OUTPUT_ENV: &str = "PARALLEL_PANIC_OUTPUT";

/// Installs the worker's panic hook. A panic in a task fails that task, and its failure
/// already carries the message: the worker prints one line per panic (where, and the message's
/// first line) rather than Rust's report and a backtrace for each — pages of them when
/// `RUST_BACKTRACE` is set, as it often is while developing. A hook the task itself sets
/// replaces this one.
///
/// Unless the output is `full`, the worker also forgets the `RUST_BACKTRACE` it inherited:
/// Rust's report of a failed allocation (a task past its `memory_limit`), which no stable hook
/// can change, is then one line too. (Before `main`, or first thing in it: no other thread
/// reads the environment yet.)
fn report_panics_briefly() {
    let output = std::env::var(PANIC_OUTPUT_ENV);
    if output.as_deref() != Ok("full") {
        std::env::remove_var("RUST_BACKTRACE");
    }
    match output.as_deref() {
        Ok("full") => {} // Rust's default hook
        Ok("none") => std::panic::set_hook(Box::new(|_| {})),
        _ => std::panic::set_hook(Box::new(|info| {
            let payload = info.payload();
            let message = (payload.downcast_ref::<&str>().copied())
                .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
                .unwrap_or("a panic with a payload that is not a string");
            let first = message.lines().next().unwrap_or_default();
            let first = first.char_indices().nth(300).map_or(first, |(end, _)| &first[..end]);
            let at = info.location().map(|l| format!(" at {l}")).unwrap_or_default();
            let line = format!(
                "parallel worker {}: a task panicked{at}: {first} ({PANIC_OUTPUT_ENV}=full for Rust's report)\n",
                std::process::id()
            );
            // One write: lines of workers sharing the stderr do not interleave.
            let _ = io::stderr().lock().write_all(line.as_bytes());
        })),
    }
}

/// The worker's loop on this process's own pipes: one reply per task until the parent closes
/// them.
fn serve() -> Result<(), WireError> {
    // SAFETY: plain system calls on the process's own file descriptors, before any other
    // thread of this process exists.
    let (requests, replies) = unsafe {
        // Die with the parent, even while a task runs.
        libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
        if libc::getppid() == 1 {
            return Ok(()); // the parent is gone already
        }
        // The protocol gets its own descriptors; what tasks print goes to the pipe their
        // parent forwards to its stdout (or to stderr, without one), and what they read from
        // stdin is nothing, so neither can corrupt a frame. Close-on-exec: a program a task
        // starts must not hold the pipes, or a worker that dies while it runs would leave its
        // parent waiting for the end of a pipe that never ends.
        let requests = libc::fcntl(0, libc::F_DUPFD_CLOEXEC, 3);
        let replies = libc::fcntl(1, libc::F_DUPFD_CLOEXEC, 3);
        let null = libc::open(c"/dev/null".as_ptr(), libc::O_RDONLY);
        if requests < 0 || replies < 0 || null < 0 {
            return Err(WireError::Io(io::Error::last_os_error()));
        }
        libc::dup2(null, 0);
        libc::close(null);
        match output_fd() {
            Some(output) => {
                libc::dup2(output, 1);
                libc::close(output);
            }
            None => {
                libc::dup2(2, 1);
            }
        }
        (std::fs::File::from(OwnedFd::from_raw_fd(requests)), std::fs::File::from(OwnedFd::from_raw_fd(replies)))
    };
    // SAFETY (of what `resolve_entry` returns): the requests come from our parent — the
    // process that started this one, over a pipe only it holds — which runs this same
    // executable and computed each entry with `entry_id` from a function of type `Entry`.
    // The entry is an address: the wire trusts its peer (see the README's security note),
    // and nothing but the parent can write to this pipe.
    let control = Control::from_env();
    let resolve = |entry: &[u8]| unsafe { resolve_entry(entry) };
    serve_on(BufReader::new(requests), BufWriter::new(replies), control.as_ref(), resolve)
}

/// The descriptor the parent passed for the tasks' stdout (`PARALLEL_OUTPUT_FD`), if any; the
/// variable is removed, so programs the tasks start do not see it. (Before `main`, or first
/// thing in it: no other thread reads the environment yet.)
fn output_fd() -> Option<libc::c_int> {
    let fd = std::env::var(OUTPUT_ENV).ok()?.parse().ok().filter(|&fd: &libc::c_int| fd > 2);
    std::env::remove_var(OUTPUT_ENV);
    fd
}

/// The function `entry` names in this process: the parent's offset from the anchor, added to
/// this process's anchor. `None` if it is not 8 bytes.
///
/// # Safety
/// `entry` must come from [`entry_id`] in a process running this same executable: any other
/// 8 bytes make an address that is then called as an [`Entry`].
unsafe fn resolve_entry(entry: &[u8]) -> Option<Entry> {
    let offset = u64::from_le_bytes(<[u8; 8]>::try_from(entry).ok()?);
    let address = (anchor as fn() as usize).wrapping_add(offset as usize);
    // SAFETY: by the caller's promise, `address` is that of a function of type `Entry` here.
    Some(unsafe { std::mem::transmute::<*const (), Entry>(address as *const ()) })
}

/// The worker's request loop, over any pipes: reads a
/// [`Request`](crate::process::protocol::Request) frame, runs each of its tasks with the function
/// `resolve` gives for its entry, and writes one [`Reply`] frame per task — through the control page's reply log, or flushed at
/// once without one; until
/// `requests` ends (`Err(WireError::Closed)`) or breaks the protocol (any other error: the worker
/// then exits, and its parent fails the task that was due). `resolve` is the only trust decision:
/// the real worker's maps an address from its parent, the fuzzing hook's ([`serve_in_memory`]) a
/// fixed list of names.
///
/// With a `control` page, each task first looks whether its parent stopped the batch, and a
/// strict call's batch stops after a failed task: the tasks that do not start are answered
/// [`Reply::Skipped`].
pub(crate) fn serve_on(
    mut requests: impl Read,
    replies: impl Write,
    control: Option<&Control>,
    resolve: impl Fn(&[u8]) -> Option<Entry>,
) -> Result<(), WireError> {
    let mut batch: u32 = 0;
    let mut out = Replies::new(replies, control);
    let mut payload = Vec::new();
    let mut frame = Vec::new();
    // The initializers this worker ran (`Process::init`), by entry.
    let mut initialized: Vec<Vec<u8>> = Vec::new();
    loop {
        payload.clear();
        let len = wire::read_header(&mut requests, MAX_FRAME)?;
        payload = wire::read_payload(&mut requests, len, payload, wire::HEADER_LEN)?;
        let request: Received<'_> = wire::decode(&payload)?;
        batch = batch.wrapping_add(1);
        out.begin_batch(batch);
        // An entry of 16 bytes is an initializer's, then the function's.
        let (init, function) = match request.entry.len() {
            16 => request.entry.split_at(8),
            _ => (&[][..], request.entry),
        };
        let named = |entry: &[u8]| {
            resolve(entry).ok_or_else(|| {
                WireError::Decode(format!("an entry of {} bytes that names no function", request.entry.len()))
            })
        };
        let entry = named(function)?;
        // Run once, before the first task it comes with; one that panics fails this
        // request's tasks, and is tried again with the next.
        let init_failed = match init.is_empty() || initialized.iter().any(|done| done == init) {
            true => None,
            false => {
                let init_entry = named(init)?;
                match catch_unwind(AssertUnwindSafe(|| init_entry(&[], &[], &mut Vec::new()))) {
                    Ok(_) => {
                        initialized.push(init.to_vec());
                        None
                    }
                    Err(payload) => Some(format!("the initializer panicked: {}", panic_message(payload))),
                }
            }
        };
        let stop_on_failure = control.is_some_and(Control::stop_on_failure);
        let mut failed = false;
        let last = request.params.len().saturating_sub(1);
        for (offset, params) in request.params.iter().enumerate() {
            if (failed && stop_on_failure) || control.is_some_and(|c| c.stops(batch, offset)) {
                if offset == last {
                    flush_stdout();
                }
                out.reply(&Reply::Skipped)?;
                continue;
            }
            if let Some(message) = &init_failed {
                out.reply(&Reply::Failed(true, message.clone()))?;
                continue;
            }
            // The value is encoded straight into its reply's frame: no `Vec` per task.
            protocol::begin_value_frame(&mut frame);
            let ran = catch_unwind(AssertUnwindSafe(|| entry(params, request.extras, &mut frame)));
            if offset == last {
                flush_stdout();
            }
            let reply = match ran {
                Ok(Ok(())) => {
                    protocol::end_value_frame(&mut frame)?;
                    out.frames(&frame, 1)?;
                    if frame.capacity() > LOG_SIZE {
                        frame = Vec::new(); // a large value's room is not kept
                    }
                    continue;
                }
                Ok(Err((panicked, message))) => Reply::Failed(panicked, message),
                Err(payload) => Reply::Failed(true, panic_message(payload)),
            };
            failed = true;
            out.reply(&reply)?;
        }
        out.end_batch()?;
    }
}

/// A line the tasks printed in part (`print!`) goes to the pipe before the batch's last reply:
/// the parent forwards it before the call returns (see [`output`](crate::process::output)).
/// Once a batch: out of the tasks' loop.
#[cold]
#[inline(never)]
fn flush_stdout() {
    let _ = io::stdout().flush();
}

/// How long a reply may wait in the log before the log is written to the pipe.
const FLUSH_AFTER: Duration = Duration::from_millis(1);

/// About how long apart the log's age is looked at: the clock is read every so many replies,
/// as many as came in this time at the last look's pace (reading it costs more than a tiny
/// task), ...
const LOOK_EVERY: Duration = Duration::from_micros(50);

/// ... and at most every this many replies.
const MAX_STRIDE: u32 = 32;

/// How many replies to log before the next look at the clock, when the last `replies` took
/// `took`: as many as come in [`LOOK_EVERY`] at that pace, from 1 to [`MAX_STRIDE`].
fn stride(took: Duration, replies: u32) -> u32 {
    let each = took.as_nanos() / u128::from(replies.max(1));
    (LOOK_EVERY.as_nanos() / each.max(1)).clamp(1, u128::from(MAX_STRIDE)) as u32
}

/// A worker's replies to the batch it runs: into the control page's reply log, which goes to
/// the pipe in one write now and then (see [`control`](crate::process::control)); straight to
/// the pipe, one flush per reply, without a control page. `C` holds the page: a borrow
/// (`serve_on`) or a box ([`WorkerSide`](crate::plumbing::WorkerSide)).
///
/// The log goes to the pipe once its oldest reply waited [`FLUSH_AFTER`], looked at when a
/// reply is logged; replies microseconds apart look at the clock every few replies only, about
/// every [`LOOK_EVERY`] at their pace — so after a run of tiny tasks, up to [`MAX_STRIDE`]
/// replies of slower ones may be logged before the log's age is seen.
pub(crate) struct Replies<C, W> {
    pipe: W,
    control: Option<C>,
    batch: u32,
    /// Replies of this batch written so far (log or pipe), and those in the pipe.
    logged: usize,
    flushed: usize,
    /// Bytes of the log in use.
    used: usize,
    /// When the oldest reply still in the log was logged.
    oldest: Option<Instant>,
    /// When the clock was last read, the replies logged since, and how many to log before
    /// it is read again (see [`stride`]).
    looked: Option<Instant>,
    since_look: u32,
    stride: u32,
    frame: Vec<u8>,
}

impl<C: Deref<Target = Control>, W: Write> Replies<C, W> {
    pub(crate) fn new(pipe: W, control: Option<C>) -> Self {
        Replies {
            pipe,
            control,
            batch: 0,
            logged: 0,
            flushed: 0,
            used: 0,
            oldest: None,
            looked: None,
            since_look: 0,
            stride: 1,
            frame: Vec::new(),
        }
    }

    pub(crate) fn control(&self) -> Option<&Control> {
        self.control.as_deref()
    }

    pub(crate) fn begin_batch(&mut self, batch: u32) {
        (self.batch, self.logged, self.flushed, self.used, self.oldest) = (batch, 0, 0, 0, None);
        // A new batch may run tasks of another pace: the clock is read after its first reply.
        (self.looked, self.since_look, self.stride) = (None, 0, 1);
        if let Some(control) = &self.control {
            control.begin_log(batch);
        }
    }

    pub(crate) fn reply(&mut self, reply: &Reply) -> Result<(), WireError> {
        let mut frame = std::mem::take(&mut self.frame);
        frame.clear();
        let written = wire::send(&mut frame, reply).and_then(|()| self.frames(&frame, 1));
        self.frame = frame;
        written
    }

    /// The frames of the next `count` replies.
    pub(crate) fn frames(&mut self, frames: &[u8], count: usize) -> Result<(), WireError> {
        self.frame_parts(&[frames], count)
    }

    /// The same, the frames' bytes given in parts, one after the other (a value's frame head,
    /// then the value: neither copied into a frame first).
    #[inline]
    pub(crate) fn frame_parts(&mut self, parts: &[&[u8]], count: usize) -> Result<(), WireError> {
        let Some(control) = self.control.as_deref() else {
            // Flushed per task: if the worker dies later in the batch, these results are in.
            for part in parts {
                self.pipe.write_all(part)?;
            }
            return Ok(self.pipe.flush()?);
        };
        if !control.log_parts(self.used, parts) {
            self.flush()?;
            let control = self.control.as_deref().expect("a control page");
            if !control.log_parts(0, parts) {
                return self.direct(parts, count); // larger than the log
            }
        }
        let control = self.control.as_deref().expect("a control page");
        self.used += parts.iter().map(|p| p.len()).sum::<usize>();
        self.logged += count;
        control.logged(self.batch, self.logged, self.used);
        self.since_look += 1;
        if self.oldest.is_some() && self.since_look < self.stride {
            return Ok(()); // tiny tasks: the clock is read every few replies
        }
        let now = Instant::now();
        if let Some(looked) = self.looked {
            self.stride = stride(now.saturating_duration_since(looked), self.since_look);
        }
        (self.looked, self.since_look) = (Some(now), 0);
        let oldest = *self.oldest.get_or_insert(now);
        if now.saturating_duration_since(oldest) >= FLUSH_AFTER {
            self.flush()?;
        }
        Ok(())
    }

    /// The next `count` replies, whose frames are `parts` end to end, straight to the pipe
    /// after what the log holds: for frames larger than the log, without copying them into it.
    pub(crate) fn direct(&mut self, parts: &[&[u8]], count: usize) -> Result<(), WireError> {
        self.flush()?;
        for part in parts {
            self.pipe.write_all(part)?;
        }
        self.pipe.flush()?;
        self.logged += count;
        self.flushed = self.logged;
        if let Some(control) = self.control.as_deref() {
            control.logged(self.batch, self.logged, 0);
            control.flushed(self.batch, self.flushed);
        }
        Ok(())
    }

    /// The next reply, a [`Reply::Shared`] whose frame is `frame`: to the pipe at once, and
    /// then the wait until the parent has taken its buffers (see
    /// [`shared`](crate::process::shared)) — only after that may the worker close them, or
    /// run a task that could kill it.
    /// `false` if the parent refused the buffers: the reply does not count (the caller sends
    /// the task's value again, another way).
    pub(crate) fn shared(&mut self, frame: &[u8]) -> Result<bool, WireError> {
        self.direct(&[frame], 1)?;
        let Some(control) = self.control.as_deref() else { return Ok(true) };
        if control.wait_taken(self.batch, self.logged) {
            return Ok(true);
        }
        // Written and read, but not counted: the log is empty (`direct` flushed it).
        (self.logged, self.flushed) = (self.logged - 1, self.flushed - 1);
        control.logged(self.batch, self.logged, 0);
        control.flushed(self.batch, self.flushed);
        Ok(false)
    }

    /// The log to the pipe.
    fn flush(&mut self) -> Result<(), WireError> {
        let Some(control) = self.control.as_deref() else { return Ok(self.pipe.flush()?) };
        if self.used > 0 {
            self.pipe.write_all(control.log_frames(self.used))?;
        }
        self.pipe.flush()?;
        self.flushed = self.logged;
        control.flushed(self.batch, self.flushed);
        (self.used, self.oldest) = (0, None);
        Ok(())
    }

    pub(crate) fn end_batch(&mut self) -> Result<(), WireError> {
        self.flush()
    }
}

pub(crate) fn serve_in_memory(bytes: &[u8]) -> usize {
    fn echo(params: &[u8], _: &[u8], out: &mut Vec<u8>) -> Result<(), (bool, String)> {
        out.extend_from_slice(params);
        Ok(())
    }
    fn extras(_: &[u8], extras: &[u8], out: &mut Vec<u8>) -> Result<(), (bool, String)> {
        out.extend_from_slice(extras);
        Ok(())
    }
    fn fail(params: &[u8], _: &[u8], _: &mut Vec<u8>) -> Result<(), (bool, String)> {
        Err((false, format!("failed on {} bytes", params.len())))
    }
    /// Counts what is written, keeps nothing.
    struct Count(usize);
    impl Write for Count {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            self.0 += buf.len();
            Ok(buf.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }
    let mut written = Count(0);
    let _ = serve_on(bytes, &mut written, None, |entry| match entry {
        b"echo" => Some(echo as Entry),
        b"extras" => Some(extras as Entry),
        b"fail" => Some(fail as Entry),
        _ => None,
    });
    written.0
}

/// For fuzzing (`parallel::__fuzz`): `true` if `bytes` decode as a [`Reply`].
///
/// # Panics
/// If a reply does not survive encoding and decoding again.
pub(crate) fn reply_round_trips(bytes: &[u8]) -> bool {
    let Ok(reply) = wire::decode::<Reply>(bytes) else { return false };
    let again = wire::encode(&reply).and_then(|bytes| wire::decode::<Reply>(&bytes));
    assert_eq!(again.ok().as_ref(), Some(&reply), "a reply changed on its way through the codec");
    true
}

/// Entry points for the fuzz targets of `fuzz/` (cargo-fuzz); not part of the API, and not
/// for anything else.
#[doc(hidden)]
pub mod __fuzz {
    /// Feeds `bytes` to the worker's request loop as the parent's pipe, until they end or
    /// break the protocol, and returns how many reply bytes it wrote. The loop is the real
    /// worker's; only its functions differ: a request's entry is looked up by name in a fixed
    /// list (`b"echo"`, `b"extras"`, `b"fail"`) — a real worker takes it as a code address
    /// from its parent, which it alone trusts, and never from these bytes.
    pub fn serve_requests(bytes: &[u8]) -> usize {
        super::serve_in_memory(bytes)
    }

    /// Decodes `bytes` as a worker's reply (the supervisor's own type); `true` if they are one.
    ///
    /// # Panics
    /// If a reply that decodes does not encode back to itself.
    pub fn decode_reply(bytes: &[u8]) -> bool {
        super::reply_round_trips(bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_clock_is_read_every_few_replies_only_when_they_are_quick() {
        let us = Duration::from_micros;
        assert_eq!(stride(us(1000), 1), 1, "slow tasks: every reply");
        assert_eq!(stride(us(50), 1), 1);
        assert_eq!(stride(us(50), 10), 10, "5 µs each: every 10");
        assert_eq!(stride(us(10), 1000), MAX_STRIDE, "tiny tasks: at most every MAX_STRIDE");
        assert_eq!(stride(Duration::ZERO, 0), MAX_STRIDE);
    }

    fn frame(byte: u8) -> Vec<u8> {
        let mut frame = Vec::new();
        wire::send(&mut frame, &Reply::Value(vec![byte])).unwrap();
        frame
    }

    #[test]
    fn a_reply_waits_in_the_log_a_millisecond_and_at_most_a_stride_more() {
        let (control, _fd) = Control::create().unwrap();
        let mut replies = Replies::new(Vec::new(), Some(&control));
        replies.begin_batch(1);
        let one = frame(1);
        replies.frames(&one, 1).unwrap();
        assert!(replies.pipe.is_empty(), "just logged");
        std::thread::sleep(FLUSH_AFTER * 2);
        replies.frames(&one, 1).unwrap();
        assert_eq!(replies.pipe.len(), 2 * one.len(), "a slow reply sees the log's age at once");
        // Tiny tasks: the clock is read every MAX_STRIDE replies ...
        for _ in 0..1000 {
            replies.frames(&one, 1).unwrap();
        }
        let before = replies.pipe.len();
        std::thread::sleep(FLUSH_AFTER * 2);
        // ... so the log's age shows within MAX_STRIDE replies.
        let mut logged = 0;
        while replies.pipe.len() == before {
            replies.frames(&one, 1).unwrap();
            logged += 1;
            assert!(logged <= MAX_STRIDE, "the log waited {logged} replies after its age was due");
        }
        assert_eq!(replies.stride, 1, "slow again: the clock is read at every reply");
        // Everything logged is in the pipe or in the log, in order.
        replies.end_batch().unwrap();
        assert_eq!(replies.pipe.len(), replies.logged * one.len());
        assert!(replies.pipe.chunks(one.len()).all(|f| f == one));
    }

    #[test]
    fn a_value_goes_out_in_its_reply_frame() {
        fn double(params: &[u8], _: &[u8], out: &mut Vec<u8>) -> Result<(), (bool, String)> {
            let x: u64 = wire::decode(params).map_err(|e| (false, e.to_string()))?;
            wire::encode_into(&(x * 2), out).map_err(|e| (false, e.to_string()))
        }
        fn panics(_: &[u8], _: &[u8], _: &mut Vec<u8>) -> Result<(), (bool, String)> {
            panic!("boom")
        }
        let mut requests = Vec::new();
        let mut params = crate::process::encoded::Encoded::default();
        for x in [1u64, 300, 70_000] {
            params.push_encoded(&x).unwrap();
        }
        let request = |entry| protocol::Request { entry, params: &params, from: 0, to: 3, extras: b"", buffers: &[] };
        request(b"double").write(&mut requests, &mut Vec::new()).unwrap();
        request(b"panics").write(&mut requests, &mut Vec::new()).unwrap();
        let mut written = Vec::new();
        let resolve = |entry: &[u8]| match entry {
            b"double" => Some(double as Entry),
            b"panics" => Some(panics as Entry),
            _ => None,
        };
        assert!(matches!(serve_on(&requests[..], &mut written, None, resolve), Err(WireError::Closed)));
        let mut replies = &written[..];
        for x in [1u64, 300, 70_000] {
            let reply: Reply = wire::recv(&mut replies, MAX_FRAME).unwrap();
            assert_eq!(reply, Reply::Value(wire::encode(&(x * 2)).unwrap()));
        }
        for _ in 0..3 {
            let reply: Reply = wire::recv(&mut replies, MAX_FRAME).unwrap();
            assert!(matches!(reply, Reply::Failed(true, m) if m == "boom"));
        }
        assert!(replies.is_empty());
    }
}
