//! The thread executor's behaviour: cancellation, handles and futures, strict and silent modes,
//! panics, the call's `timeout` and the `task_timeout`, `max_workers`, nested and scoped calls,
//! parameters that are neither `Clone` nor `Debug`, nothing lost, a `Work` of one's own — and the
//! property test against a sequential run: one test binary, a module each. (The shapes of a
//! call are the `shapes` binary's: two binaries of about the same size build side by side.)
//!
//! The tests share one process, so one thread pool and one panic hook: the tests that expect
//! panics quiet only those of the pool's threads (`common::quiet_panics`), and nothing here
//! counts the process's threads, descriptors or children.

mod common;
#[path = "../reference/mod.rs"]
mod reference;

mod cancel;
mod custom_work;
mod future;
mod handle;
mod max_workers;
mod nested;
mod nothing_lost;
mod panics;
mod progress;
mod properties;
mod remote_batches;
mod retries;
mod scoped;
mod silent;
mod strict;
mod task_timeout;
mod timeout;
mod unreported;
