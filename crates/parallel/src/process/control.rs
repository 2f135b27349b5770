//! The control page a worker process shares with its parent: memory (a memfd, mapped by both)
//! through which the parent stops a batch it has already sent — so that, as on threads, no
//! task starts once `cancel` returned, and the tasks after a strict call's failure never run —
//! and the *reply log*, through which a worker answers tiny tasks without a system call each.
//!
//! Layout (native-endian words; parent and worker run on the same machine):
//! - word 0, **stop**: `batch << 32 | offset` — in the worker's `batch`-th request (counted from
//!   1 by both sides), the tasks from `offset` on must not start. The parent only ever lowers
//!   the offset of a batch, or moves the word on to a later batch.
//! - word 1, **flags**: bit 0, *stop on failure*: the request being sent belongs to a strict
//!   call, so the worker skips the rest of the batch after a task fails. Written before the
//!   request is sent, read by the worker when the request arrives.
//!
//! - word 2, **logged**: `batch << 32 | n` — the worker has written the replies of `batch`'s
//!   tasks up to `n` (excluded) into the log or the pipe;
//! - word 3, **flushed**: `batch << 32 | n` — ... and those up to `n` to the pipe; the log holds
//!   the frames of the replies between the two, from its start;
//! - word 4, **log used**: how many bytes of the log those frames take;
//! - word 5, **shared**: 1 once the worker has found that it can open its parent's descriptors,
//!   so large buffers can cross through shared memory (`shared.rs`);
//! - word 6, **taken**: `batch << 32 | n` — the parent has taken the shared buffers of the
//!   replies of `batch` up to `n`: the worker waits for it after each such reply. With bit 31
//!   of `n` set (*refused*), the parent could not take those of reply `n - 1` (it is out of
//!   descriptors, say): that reply does not count, and the worker sends the value again in
//!   its frame;
//! - word 7, **arrived**: the number of the last request the worker read, written by a worker
//!   that loads what its tasks need before it runs them (the Python worker unpickles the
//!   function and the extras, importing their modules) — see [`Control::start`];
//! - word 8, **began**: the worker's `CLOCK_MONOTONIC` in nanoseconds when it began to run the
//!   tasks of request *arrived*, 0 while it is still loading what they need: a task's
//!   `task_timeout` counts from then;
//! - from byte [`LOG_START`] on, [`LOG_SIZE`] bytes: the log.
//!
//! **The reply log.** A worker copies each reply's frame into the log (a memory copy) and writes
//! the log to its pipe in one go — when a millisecond has passed since its oldest reply not yet
//! written, when the log is full, and at the end of each batch. If it dies in between, its
//! replies are not lost: the parent reads them from the log once the worker is gone
//! ([`Control::unread`]), so the task that was running is the one that fails, and no task that
//! finished runs again. A call with a deadline or a task timeout sends its tasks one per batch,
//! so their replies are written at once. The parent empties the log (words 2 and 3 for the new
//! batch) before it sends each request, and the worker again when it receives it; a worker program that ignores the log writes every
//! reply to its pipe, and the log stays empty.
//!
//! A skipped task is answered with [`Reply::Skipped`](crate::process::protocol::Reply::Skipped).
//! A worker program that ignores the page (any program can be a worker) simply runs its whole
//! batch.

use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::ptr::NonNull;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::engine::work::Start;
use crate::process::protocol::{Reply, MAX_FRAME};
use crate::process::wire;

/// The environment variable that tells a worker which descriptor holds its control page.
pub(crate) const CONTROL_ENV: &str = "PARALLEL_CONTROL_FD";

// The layout, also written in python/parallel/_protocol.py for the Python worker (under the
// same names; tests/test_cancel.py checks that the two agree).

/// The size of the mapping: a page of words, then the reply log.
const CONTROL_SIZE: usize = 266240;

/// The stop word: `batch << BATCH_SHIFT | offset`.
const STOP_WORD: usize = 0;

/// Where the batch's number starts in the stop word; the offset is in the bits below.
const BATCH_SHIFT: u32 = 32;

/// The flags word.
const FLAGS_WORD: usize = 1;

/// Bit 0 of the flags word: stop the batch after a failed task.
const STOP_ON_FAILURE: u64 = 1;

/// The logged word: `batch << BATCH_SHIFT | n`, the replies of the batch up to `n` are written.
const LOGGED_WORD: usize = 2;

/// The flushed word: `batch << BATCH_SHIFT | n`, the replies of the batch up to `n` are in the pipe.
const FLUSHED_WORD: usize = 3;

/// The log-used word: the bytes of the log the frames of the unflushed replies take.
const LOG_USED_WORD: usize = 4;

/// The shared word: 1 if the worker can open its parent's descriptors.
const SHARED_WORD: usize = 5;

/// The taken word: `batch << BATCH_SHIFT | n`, the shared buffers of the batch's replies up to
/// `n` are the parent's.
const TAKEN_WORD: usize = 6;

/// The bit of the taken word's count that says the parent refused the reply's buffers.
const REFUSED: u64 = 0x8000_0000;

/// The arrived word: the number of the last request the worker read (if it says).
const ARRIVED_WORD: usize = 7;

/// The began word: when the worker began to run the tasks of request *arrived*, its
/// `CLOCK_MONOTONIC` in nanoseconds (at least 1); 0 while it loads what they need.
const BEGAN_WORD: usize = 8;

/// Where the log starts in the mapping: after the page of words.
pub(crate) const LOG_START: usize = 4096;

/// The log's size (`CONTROL_SIZE - LOG_START`).
pub(crate) const LOG_SIZE: usize = 262144;

/// The low bits of a logged or flushed word: a count within the batch.
const COUNT_MASK: u64 = 0xFFFF_FFFF;

/// One worker's control page, mapped in this process.
pub(crate) struct Control {
    words: NonNull<AtomicU64>,
    /// The process that mapped the page: a child forked since shares the mapping, and must not
    /// stop its parent's batches.
    owner: u32,
}

// SAFETY: the mapping is only ever accessed through atomics, from any thread.
unsafe impl Send for Control {}
// SAFETY: as above.
unsafe impl Sync for Control {}

impl Control {
    /// A new page for a worker about to start, and the descriptor the worker maps it from
    /// (close-on-exec here; the worker's start clears that flag in the child only).
    pub(crate) fn create() -> io::Result<(Control, OwnedFd)> {
        // SAFETY: plain system calls; the name is a NUL-terminated literal, and the descriptor
        // is owned as soon as it is made.
        let fd = unsafe {
            let fd = libc::memfd_create(c"parallel-control".as_ptr(), libc::MFD_CLOEXEC);
            if fd < 0 {
                return Err(io::Error::last_os_error());
            }
            OwnedFd::from_raw_fd(fd)
        };
        // SAFETY: sizes the memfd we own.
        if unsafe { libc::ftruncate(fd.as_raw_fd(), CONTROL_SIZE as libc::off_t) } != 0 {
            return Err(io::Error::last_os_error());
        }
        Ok((Control::map(fd.as_raw_fd())?, fd))
    }

    /// The page of this worker process, if its parent gave it one (then the descriptor is
    /// closed: the mapping stays, and programs a task starts do not inherit it); marked
    /// *shared* if this process can open its parent's descriptors.
    pub(crate) fn from_env() -> Option<Control> {
        let fd: RawFd = std::env::var(CONTROL_ENV).ok()?.parse().ok()?;
        std::env::remove_var(CONTROL_ENV);
        let control = Control::map(fd).ok();
        // The parent keeps its own descriptor of the page open under the same number: if this
        // process can open it, large buffers can cross through shared memory.
        // SAFETY: a plain system call.
        let parent = unsafe { libc::getppid() } as u32;
        if let Some(control) = &control {
            if crate::process::shared::enabled() && crate::process::shared::can_open(parent, fd) {
                control.set_shared();
            }
        }
        // SAFETY: the descriptor was handed to this process for this page alone.
        unsafe { libc::close(fd) };
        control
    }

    fn map(fd: RawFd) -> io::Result<Control> {
        // SAFETY: maps CONTROL_SIZE bytes of a memfd that is at least that long, shared,
        // read-write; the result is checked before use.
        let ptr = unsafe {
            libc::mmap(std::ptr::null_mut(), CONTROL_SIZE, libc::PROT_READ | libc::PROT_WRITE, libc::MAP_SHARED, fd, 0)
        };
        if ptr == libc::MAP_FAILED {
            return Err(io::Error::last_os_error());
        }
        let words = NonNull::new(ptr.cast::<AtomicU64>()).ok_or_else(|| io::Error::other("mmap gave null"))?;
        Ok(Control { words, owner: std::process::id() })
    }

    fn word(&self, i: usize) -> &AtomicU64 {
        debug_assert!(i <= BEGAN_WORD);
        // SAFETY: the mapping is CONTROL_SIZE bytes, page-aligned, and lives as long as `self`;
        // the words are in its first page and only ever accessed atomically.
        unsafe { &*self.words.as_ptr().add(i) }
    }

    /// The log's bytes `..len`.
    ///
    /// # Safety
    /// No other process writes them meanwhile: the worker reads what it wrote itself, the
    /// parent reads only once the worker is dead.
    unsafe fn log(&self, len: usize) -> &[u8] {
        // SAFETY: the log is LOG_SIZE bytes inside the mapping, which lives as long as `self`;
        // the caller promises that nobody writes them while the slice lives.
        unsafe { std::slice::from_raw_parts(self.words.as_ptr().cast::<u8>().add(LOG_START), len.min(LOG_SIZE)) }
    }

    /// Both sides: the log is empty, for the batch numbered `batch`. The parent says so
    /// before it sends the batch (for a worker program that keeps no log), the worker when it
    /// receives it — after the last word it wrote for the batch before, which may land after
    /// the parent's, since the parent reads that batch's last reply before the worker wrote it.
    pub(crate) fn begin_log(&self, batch: u32) {
        let tag = u64::from(batch) << BATCH_SHIFT;
        self.word(LOG_USED_WORD).store(0, Ordering::Relaxed);
        self.word(FLUSHED_WORD).store(tag, Ordering::Relaxed);
        self.word(LOGGED_WORD).store(tag, Ordering::Release);
    }

    /// Parent, once the worker is dead: the replies of `batch` it logged but had not written to
    /// its pipe, from reply `received` on (the parent read the ones before). A log that does
    /// not decode ends the list: the worker may have died in the middle of a copy.
    pub(crate) fn unread(&self, batch: u32, received: usize) -> Vec<Reply> {
        let tag = u64::from(batch) << BATCH_SHIFT;
        let (logged, flushed) =
            (self.word(LOGGED_WORD).load(Ordering::Acquire), self.word(FLUSHED_WORD).load(Ordering::Acquire));
        if logged & !COUNT_MASK != tag || flushed & !COUNT_MASK != tag {
            return Vec::new(); // a worker program that keeps no log
        }
        let (logged, flushed) = ((logged & COUNT_MASK) as usize, (flushed & COUNT_MASK) as usize);
        let used = self.word(LOG_USED_WORD).load(Ordering::Acquire) as usize;
        // SAFETY: the worker is dead, nobody writes the log any more.
        let mut log = unsafe { self.log(used) };
        let mut unread = Vec::new();
        for n in flushed..logged {
            let Ok(reply) = wire::recv::<Reply>(&mut log, MAX_FRAME) else { break };
            if n >= received {
                unread.push(reply);
            }
        }
        unread
    }

    /// Parent: the tasks of `batch` from `offset` on must not start. Never raises an offset
    /// already set for that batch, and never touches a later batch's word.
    pub(crate) fn stop_from(&self, batch: u32, offset: usize) {
        if !crate::engine::forked::is_this_process(self.owner) {
            return; // the page of the parent's worker, inherited by a fork
        }
        let wanted = u64::from(batch) << BATCH_SHIFT | offset.min(u32::MAX as usize) as u64;
        let word = self.word(STOP_WORD);
        let mut seen = word.load(Ordering::Acquire);
        while seen >> BATCH_SHIFT < u64::from(batch) || (seen >> BATCH_SHIFT == u64::from(batch) && seen > wanted) {
            match word.compare_exchange_weak(seen, wanted, Ordering::AcqRel, Ordering::Acquire) {
                Ok(_) => return,
                Err(now) => seen = now,
            }
        }
    }

    /// Parent: forgets a stop of `batch`, a batch that was never sent (its number is then the
    /// next one sent, which the stop must not hit).
    pub(crate) fn withdraw(&self, batch: u32) {
        let word = self.word(STOP_WORD);
        let seen = word.load(Ordering::Acquire);
        if seen >> BATCH_SHIFT == u64::from(batch) {
            let _ = word.compare_exchange(seen, 0, Ordering::AcqRel, Ordering::Acquire);
        }
    }

    /// Parent: whether the batch about to be sent belongs to a strict call.
    pub(crate) fn set_stop_on_failure(&self, on: bool) {
        self.word(FLAGS_WORD).store(if on { STOP_ON_FAILURE } else { 0 }, Ordering::Release);
    }

    /// Worker: `true` if task `offset` of `batch` must not start.
    #[inline]
    pub(crate) fn stops(&self, batch: u32, offset: usize) -> bool {
        let word = self.word(STOP_WORD).load(Ordering::Acquire);
        word >> BATCH_SHIFT == u64::from(batch) && offset as u64 >= word & ((1 << BATCH_SHIFT) - 1)
    }

    /// Worker: `true` if the current batch stops after a failed task.
    pub(crate) fn stop_on_failure(&self) -> bool {
        self.word(FLAGS_WORD).load(Ordering::Acquire) & STOP_ON_FAILURE != 0
    }

    /// Worker: copies the parts of a frame (a head, then the bytes it heads; or whole frames)
    /// into the log at `used`, one after the other, if they fit; then the caller counts them
    /// ([`logged`](Self::logged)).
    #[inline]
    pub(crate) fn log_parts(&self, used: usize, parts: &[&[u8]]) -> bool {
        let len: usize = parts.iter().map(|p| p.len()).sum();
        if used + len > LOG_SIZE {
            return false;
        }
        let mut at = LOG_START + used;
        for part in parts {
            // SAFETY: `used + len` is within the log, inside the mapping, and each part lands
            // in it; only this worker writes the log, and the parent reads it only once the
            // worker is dead.
            unsafe {
                let to = self.words.as_ptr().cast::<u8>().add(at);
                std::ptr::copy_nonoverlapping(part.as_ptr(), to, part.len());
            }
            at += part.len();
        }
        true
    }

    /// Worker: the replies of `batch` up to `n` are written (into the log, whose frames take
    /// `used` bytes, or the pipe).
    #[inline]
    pub(crate) fn logged(&self, batch: u32, n: usize, used: usize) {
        self.word(LOG_USED_WORD).store(used as u64, Ordering::Relaxed);
        self.word(LOGGED_WORD).store(u64::from(batch) << BATCH_SHIFT | n as u64, Ordering::Release);
    }

    /// Worker: it can open its parent's descriptors ([`shared`](crate::process::shared)).
    pub(crate) fn set_shared(&self) {
        self.word(SHARED_WORD).store(1, Ordering::Release);
    }

    /// Parent: `true` if the worker can open this process's descriptors.
    pub(crate) fn shared(&self) -> bool {
        self.word(SHARED_WORD).load(Ordering::Acquire) == 1
    }

    /// Parent: the shared buffers of `batch`'s replies up to `n` are taken.
    pub(crate) fn taken(&self, batch: u32, n: usize) {
        self.word(TAKEN_WORD).store(u64::from(batch) << BATCH_SHIFT | n as u64, Ordering::Release);
    }

    /// Parent: the shared buffers of `batch`'s reply `n - 1` could not be taken; that reply
    /// does not count, and the worker sends the value again.
    pub(crate) fn refused(&self, batch: u32, n: usize) {
        self.word(TAKEN_WORD).store(u64::from(batch) << BATCH_SHIFT | REFUSED | n as u64, Ordering::Release);
    }

    /// Worker: waits until the parent has taken the shared buffers of `batch`'s replies up to
    /// `n` (`true`), or refused those of reply `n - 1` (`false`). (Its parent reads the reply
    /// that names them right away; if the parent dies, so does the worker.)
    pub(crate) fn wait_taken(&self, batch: u32, n: usize) -> bool {
        let answered =
            |seen: u64| seen >> BATCH_SHIFT == u64::from(batch) && (seen & COUNT_MASK & !REFUSED) as usize >= n;
        let mut spins = 0u32;
        loop {
            let seen = self.word(TAKEN_WORD).load(Ordering::Acquire);
            if answered(seen) {
                return seen & REFUSED == 0;
            }
            spins += 1;
            if spins < 100 {
                std::hint::spin_loop();
            } else {
                std::thread::sleep(std::time::Duration::from_micros(20));
            }
        }
    }

    /// Worker: request `batch` has arrived, and the worker loads what its tasks need before
    /// it runs them ([`began`](Self::began) says when it is done).
    pub(crate) fn loading(&self, batch: u32) {
        self.word(BEGAN_WORD).store(0, Ordering::Relaxed);
        self.word(ARRIVED_WORD).store(u64::from(batch), Ordering::Release);
    }

    /// Worker: it begins to run the tasks of the request it said was [`loading`](Self::loading).
    pub(crate) fn began(&self) {
        self.word(BEGAN_WORD).store(monotonic_ns().max(1), Ordering::Release);
    }

    /// Parent: where the tasks of `batch` stand, as the worker says; `None` if it has not
    /// said (it has not read the request yet, or it is a worker program that never says).
    pub(crate) fn start(&self, batch: u32) -> Option<Start> {
        if self.word(ARRIVED_WORD).load(Ordering::Acquire) != u64::from(batch) {
            return None;
        }
        match self.word(BEGAN_WORD).load(Ordering::Acquire) {
            0 => Some(Start::Loading),
            began => {
                let ago = std::time::Duration::from_nanos(monotonic_ns().saturating_sub(began));
                let now = std::time::Instant::now();
                Some(Start::Began(now.checked_sub(ago).unwrap_or(now)))
            }
        }
    }

    /// Worker: the log's frames, `used` bytes, to write to the pipe.
    pub(crate) fn log_frames(&self, used: usize) -> &[u8] {
        // SAFETY: only this worker writes the log.
        unsafe { self.log(used) }
    }

    /// Worker: the replies of `batch` up to `n` are in the pipe; the log is empty.
    pub(crate) fn flushed(&self, batch: u32, n: usize) {
        self.word(FLUSHED_WORD).store(u64::from(batch) << BATCH_SHIFT | n as u64, Ordering::Release);
        self.word(LOG_USED_WORD).store(0, Ordering::Relaxed);
    }
}

/// This machine's `CLOCK_MONOTONIC` (the clock of [`std::time::Instant`] on Linux), in
/// nanoseconds: the same in the parent and its workers.
fn monotonic_ns() -> u64 {
    let mut now = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: writes the current time into `now`, which lives on this stack frame.
    unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut now) };
    (now.tv_sec as u64).saturating_mul(1_000_000_000).saturating_add(now.tv_nsec as u64)
}

impl Drop for Control {
    fn drop(&mut self) {
        // SAFETY: unmaps the mapping made in `map`; no reference into it outlives `self`.
        unsafe { libc::munmap(self.words.as_ptr().cast(), CONTROL_SIZE) };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_log_fills_the_mapping_after_the_words() {
        const { assert!(LOG_START + LOG_SIZE == CONTROL_SIZE) };
        const { assert!(COUNT_MASK == (1 << BATCH_SHIFT) - 1) };
        const { assert!(BEGAN_WORD * 8 < LOG_START) };
    }

    #[test]
    fn a_dead_workers_unflushed_replies_are_read_from_the_log() {
        let (control, _fd) = Control::create().unwrap();
        control.begin_log(7);
        assert!(control.unread(7, 0).is_empty());
        let mut used = 0;
        for (n, value) in [b"a".to_vec(), b"bb".to_vec(), b"ccc".to_vec()].into_iter().enumerate() {
            let mut frame = Vec::new();
            wire::send(&mut frame, &Reply::Value(value)).unwrap();
            assert!(control.log_parts(used, &[&frame]));
            used += frame.len();
            control.logged(7, n + 1, used);
        }
        // Reply 0 was flushed to the pipe and read; 1 and 2 are only in the log.
        assert_eq!(control.unread(7, 1), vec![Reply::Value(b"bb".to_vec()), Reply::Value(b"ccc".to_vec())]);
        assert!(control.unread(8, 0).is_empty(), "another batch's log is not this one's");
        control.flushed(7, 3);
        assert!(control.unread(7, 1).is_empty(), "flushed: nothing left in the log");
        assert!(!control.log_parts(LOG_SIZE - 1, &[b"x", b"y"]), "a frame that does not fit is refused");
    }

    #[test]
    fn a_worker_says_when_it_began_the_tasks_of_the_request_it_read() {
        let (control, _fd) = Control::create().unwrap();
        assert_eq!(control.start(1), None, "a worker that has not said");
        control.loading(1);
        assert_eq!(control.start(1), Some(Start::Loading));
        assert_eq!(control.start(2), None, "another request's");
        let before = std::time::Instant::now();
        std::thread::sleep(std::time::Duration::from_millis(5));
        control.began();
        let Some(Start::Began(at)) = control.start(1) else { panic!("began: {:?}", control.start(1)) };
        assert!(at > before && at <= std::time::Instant::now(), "began between then and now");
        control.loading(2);
        assert_eq!(control.start(2), Some(Start::Loading), "the next request's load");
        assert_eq!(control.start(1), None);
    }

    #[test]
    fn a_stop_lowers_the_offset_of_its_batch_and_never_goes_back() {
        let (control, _fd) = Control::create().unwrap();
        assert!(!control.stops(1, 0));
        control.stop_from(1, 5);
        assert!(!control.stops(1, 4) && control.stops(1, 5) && control.stops(1, 9));
        control.stop_from(1, 7); // higher: ignored
        assert!(control.stops(1, 5));
        control.stop_from(1, 2);
        assert!(control.stops(1, 2));
        assert!(!control.stops(2, 100), "a later batch is not stopped");
        control.stop_from(3, 0);
        control.stop_from(2, 0); // a stale stopper of an earlier batch: ignored
        assert!(control.stops(3, 0) && !control.stops(2, 0));
        control.set_stop_on_failure(true);
        assert!(control.stop_on_failure());
        // A batch that was never sent: its stop must not hit the next batch of that number.
        control.stop_from(4, 0);
        control.withdraw(4);
        assert!(!control.stops(4, 0));
    }
}
