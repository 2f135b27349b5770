//! The output buffer of a call whose input has an exact size and whose values need no drop
//! (numbers, plain structs): each pool thread writes a value straight into its task's slot, so
//! the finished output is handed over as is — no copy, and the page faults of a fresh output
//! are taken by the pool threads in parallel rather than by the driver alone.
//!
//! Only values with no drop glue are written here: a call that returns early (first failure,
//! cancel) leaves the buffer to tasks still running, and slots written or not need no
//! cleanup when it is freed.

use std::mem::{ManuallyDrop, MaybeUninit};
use std::sync::Mutex;

use crate::engine::sync::lock;

/// One slot per task, shared by the pool threads (writers) and the driver (reader).
pub(crate) struct Buffer<T> {
    /// The start of `owner`'s heap allocation, which never moves while `owner` holds it.
    slots: *mut MaybeUninit<T>,
    len: usize,
    /// The allocation; taken by the driver when every slot is written.
    owner: Mutex<Option<Vec<MaybeUninit<T>>>>,
}

// SAFETY: the buffer hands out no references. A slot is written only by the pool thread that
// took its task from the source (each index is taken once, under the source's lock), and read
// only by the driver after that thread's chunk arrived through the channel, which orders the
// write before the read. `T: Send` because values cross from the pool threads to the driver.
unsafe impl<T: Send> Sync for Buffer<T> {}
// SAFETY: as above; the raw pointer is only an address into the allocation `owner` holds.
unsafe impl<T: Send> Send for Buffer<T> {}

impl<T> Buffer<T> {
    /// A buffer of `len` slots, if values of type `T` can live in one (they need no drop).
    pub(crate) fn new(len: usize) -> Option<Self> {
        if std::mem::needs_drop::<T>() || len == 0 {
            return None;
        }
        // Length 0: the slots are written through `slots`, and only `take` sets a length.
        let mut owner = Vec::with_capacity(len);
        Some(Buffer { slots: owner.as_mut_ptr(), len, owner: Mutex::new(Some(owner)) })
    }

    /// `true` if the tasks `start .. start + count` have slots.
    pub(crate) fn fits(&self, start: usize, count: usize) -> bool {
        start.checked_add(count).is_some_and(|end| end <= self.len)
    }

    /// The slots of tasks `start .. start + count`, to write their values.
    ///
    /// # Safety
    /// `fits(start, count)`, and the caller is the one pool thread that took these tasks from
    /// the source; it drops the slice before delivering their chunk.
    #[allow(clippy::mut_from_ref)] // the slots are disjoint per batch: see the contract
    pub(crate) unsafe fn slots(&self, start: usize, count: usize) -> &mut [MaybeUninit<T>] {
        debug_assert!(self.fits(start, count));
        // SAFETY: in bounds of the allocation, which `owner` keeps alive while `self` lives
        // (the driver takes it only after every chunk is delivered); no one else touches
        // these slots until the caller delivers their chunk (the caller's contract).
        unsafe { std::slice::from_raw_parts_mut(self.slots.add(start), count) }
    }

    /// Copies out the value of task `index`.
    ///
    /// # Safety
    /// Slot `index` was written and the chunk of the pool thread that wrote it has been received.
    pub(crate) unsafe fn read(&self, index: usize) -> T {
        debug_assert!(index < self.len);
        // SAFETY: written before (the caller's contract); `T` needs no drop, so the bits left
        // in the slot are never dropped twice.
        unsafe { (*self.slots.add(index)).assume_init_read() }
    }

    /// The first `count` values as a `Vec`, without copying.
    ///
    /// # Safety
    /// Slots `0 .. count` were all written, their chunks received, and no task of this call
    /// will write again (every task was accounted for).
    pub(crate) unsafe fn take(&self, count: usize) -> Option<Vec<T>> {
        let owner = lock(&self.owner).take()?;
        debug_assert!(count <= owner.capacity());
        let mut owner = ManuallyDrop::new(owner);
        // SAFETY: the allocation came from a `Vec<MaybeUninit<T>>` of this capacity, which has
        // the layout of a `Vec<T>`; its first `count` elements are initialised (the caller's
        // contract), and `ManuallyDrop` keeps the old `Vec` from freeing it.
        Some(unsafe { Vec::from_raw_parts(owner.as_mut_ptr().cast::<T>(), count, owner.capacity()) })
    }
}
