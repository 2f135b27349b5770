//! The control page a worker process shares with its parent: one page of memory (a memfd,
//! mapped by both), through which the parent stops a batch it has already sent — so that, as on
//! threads, no task starts once `cancel` returned, and the tasks after a strict call's failure
//! never run.
//!
//! Layout (native-endian words; parent and worker run on the same machine):
//! - word 0, **stop**: `batch << 32 | offset` — in the worker's `batch`-th request (counted from
//!   1 by both sides), the tasks from `offset` on must not start. The parent only ever lowers
//!   the offset of a batch, or moves the word on to a later batch.
//! - word 1, **flags**: bit 0, *stop on failure*: the request being sent belongs to a strict
//!   call, so the worker skips the rest of the batch after a task fails. Written before the
//!   request is sent, read by the worker when the request arrives.
//!
//! A skipped task is answered with [`Reply::Skipped`](crate::process::protocol::Reply::Skipped).
//! A worker program that ignores the page (any program can be a worker) simply runs its whole
//! batch.

use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::ptr::NonNull;
use std::sync::atomic::{AtomicU64, Ordering};

/// The environment variable that tells a worker which descriptor holds its control page.
pub(crate) const CONTROL_ENV: &str = "PARALLEL_CONTROL_FD";

// The layout, also written in python/parallel/_protocol.py for the Python worker (under the
// same names; tests/test_cancel.py checks that the two agree).

/// The size of the mapping: one page.
const CONTROL_SIZE: usize = 4096;

/// The stop word: `batch << BATCH_SHIFT | offset`.
const STOP_WORD: usize = 0;

/// Where the batch's number starts in the stop word; the offset is in the bits below.
const BATCH_SHIFT: u32 = 32;

/// The flags word.
const FLAGS_WORD: usize = 1;

/// Bit 0 of the flags word: stop the batch after a failed task.
const STOP_ON_FAILURE: u64 = 1;

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
    /// closed: the mapping stays, and programs a task starts do not inherit it).
    pub(crate) fn from_env() -> Option<Control> {
        let fd: RawFd = std::env::var(CONTROL_ENV).ok()?.parse().ok()?;
        std::env::remove_var(CONTROL_ENV);
        let control = Control::map(fd).ok();
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
        debug_assert!(i == STOP_WORD || i == FLAGS_WORD);
        // SAFETY: the mapping is CONTROL_SIZE bytes, page-aligned, and lives as long as `self`;
        // the stop and flags words are in it and only ever accessed atomically.
        unsafe { &*self.words.as_ptr().add(i) }
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
    pub(crate) fn stops(&self, batch: u32, offset: usize) -> bool {
        let word = self.word(STOP_WORD).load(Ordering::Acquire);
        word >> BATCH_SHIFT == u64::from(batch) && offset as u64 >= word & ((1 << BATCH_SHIFT) - 1)
    }

    /// Worker: `true` if the current batch stops after a failed task.
    pub(crate) fn stop_on_failure(&self) -> bool {
        self.word(FLAGS_WORD).load(Ordering::Acquire) & STOP_ON_FAILURE != 0
    }
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
