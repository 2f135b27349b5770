//! Helpers shared by the modules of this test binary.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Once};
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

/// Keeps quiet (and quick) the panics of tasks, which some tests make by the hundred: those on
/// the thread pool's threads (`parallel-worker`). Every other panic — a failing test's, on its
/// own thread — goes to the hook this one replaces, so its message is still shown: the tests of
/// this binary share one process, and so one panic hook.
pub fn quiet_panics() {
    static QUIET: Once = Once::new();
    QUIET.call_once(|| {
        let loud = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if std::thread::current().name() != Some("parallel-worker") {
                loud(info);
            }
        }));
    });
}
