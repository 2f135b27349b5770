//! Locks that ignore poisoning: no code panics while holding the engine's locks except user
//! iterators and tasks, and those are caught, so a poisoned lock holds consistent data.

use std::sync::{Mutex, MutexGuard, PoisonError};

/// Locks `mutex`, ignoring poisoning.
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}
