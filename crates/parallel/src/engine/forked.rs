//! Process-wide state that a forked child starts afresh.
//!
//! `fork` copies memory but only the thread that called it: in the child, the parent's pool
//! threads, its worker-starting thread and its worker processes' pipes exist as data with no
//! one behind them, and any lock one of those threads held stays locked. So each piece of
//! process-wide state ([`PerProcess`]) remembers the process it belongs to; the first use in a
//! child makes a new one, and the parent's copy is left untouched — never locked, never
//! dropped, so the child never kills, reaps or writes to the parent's workers.

use std::ptr;
use std::sync::atomic::{AtomicPtr, Ordering};

/// A value made on first use in each process: after a `fork`, the child gets a new one.
pub(crate) struct PerProcess<T> {
    current: AtomicPtr<Owned<T>>,
}

/// The value and the process it belongs to.
struct Owned<T> {
    pid: u32,
    value: T,
}

impl<T> PerProcess<T> {
    /// Empty until first use.
    pub(crate) const fn new() -> Self {
        PerProcess { current: AtomicPtr::new(ptr::null_mut()) }
    }

    /// This process's value, made with `init` if this process has none yet. Costs one
    /// `getpid` and one atomic load once made.
    pub(crate) fn get(&'static self, init: impl Fn() -> T) -> &'static T {
        let pid = std::process::id();
        loop {
            let seen = self.current.load(Ordering::Acquire);
            // SAFETY: a non-null pointer here came from `Box::into_raw` below and is never
            // freed (a value of another process is leaked on purpose), so it is valid for
            // `'static`; it was published with `Release` and read with `Acquire`.
            if let Some(owned) = unsafe { seen.as_ref() } {
                if owned.pid == pid {
                    return &owned.value;
                }
            }
            let fresh = Box::into_raw(Box::new(Owned { pid, value: init() }));
            match self.current.compare_exchange(seen, fresh, Ordering::AcqRel, Ordering::Acquire) {
                // The parent's value (if any) is leaked: its threads are not in this process.
                // SAFETY: `fresh` is now published and never freed, as above.
                Ok(_) => return unsafe { &(*fresh).value },
                // Another thread of this process made one first: use that one.
                // SAFETY: `fresh` was never published; this is its only owner.
                Err(_) => drop(unsafe { Box::from_raw(fresh) }),
            }
        }
    }
}

/// `true` if `pid` is this process: state tagged with another pid was inherited by `fork`.
pub(crate) fn is_this_process(pid: u32) -> bool {
    pid == std::process::id()
}
