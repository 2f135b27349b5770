//! Helpers shared by the integration tests.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::sleep;
use std::time::{Duration, Instant};

/// A gate the tasks wait at until the test opens it (or a few seconds pass).
#[derive(Clone, Default)]
pub struct Gate(Arc<AtomicBool>);

impl Gate {
    /// Lets every task waiting at the gate through.
    pub fn open(&self) {
        self.0.store(true, Ordering::SeqCst);
    }
    /// Waits until open; `true` if it was opened, `false` if it gave up.
    pub fn pass(&self) -> bool {
        let deadline = Instant::now() + Duration::from_secs(5);
        while !self.0.load(Ordering::SeqCst) {
            if Instant::now() >= deadline {
                return false;
            }
            sleep(Duration::from_millis(1));
        }
        true
    }
}
