//! Watching a call and streaming its results: `as_completed` (an iterator and a `Stream`) on
//! threads and processes, progress callbacks and the progress bar, under tokio too, and the
//! bounded memory of a stream of ten million lazy tasks: one test binary, a module each.
//!
//! `bounded` measures the whole process's peak memory, so each of its tests runs alone in a
//! fresh process of this binary (`alone`). Process tests need no `main` of their own: the
//! worker processes are this binary started again, serving before libtest's `main` runs.

#[path = "../alone/mod.rs"]
mod alone;

mod asynchronous;
mod bounded;
mod completed;
mod paced;
mod watch;

use std::sync::Once;

/// Keeps quiet the panics of tasks on the pool's threads (some tests make them on purpose).
pub fn quiet_panics() {
    static QUIET: Once = Once::new();
    QUIET.call_once(|| {
        let loud = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let name = std::thread::current().name().map(str::to_owned);
            let quiet = name.as_deref() == Some("parallel-worker")
                || info.payload().downcast_ref::<&str>().is_some_and(|m| m.starts_with("on purpose"));
            if !quiet {
                loud(info);
            }
        }));
    });
}

/// A task that fails on purpose on `0` (a panic on a pool thread, or in a worker process).
pub fn inverse(x: i32) -> i32 {
    100 / x
}

/// A task whose worker process dies on `1` (on processes only).
pub fn crash_on_one(x: u32) -> u32 {
    if x == 1 {
        std::process::abort();
    }
    x
}
