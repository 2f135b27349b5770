//! The thread executor and the shapes of a call — tuples, maps, empty and lazy inputs, ordering,
//! extras, `par`, handles and futures, the decorating prelude, cancellation, strict and silent
//! modes, panics, timeouts, `max_workers`, nested and scoped calls, a `Work` of one's own — and
//! the property test against a sequential run: one test binary (linking one per file cost most
//! of `make test` on a small machine), one module per topic.
//!
//! The tests share one process, so one thread pool and one panic hook: the tests that expect
//! panics quiet only those of the pool's threads (`common::quiet_panics`), and nothing here
//! counts the process's threads, descriptors or children. Some calls go through the process
//! executor (`decorate`): its workers are this binary started again, and they serve before
//! libtest's `main` runs.

mod common;
#[path = "../reference/mod.rs"]
mod reference;

mod cancel;
mod custom_work;
mod decorate;
mod empty;
mod extras;
mod future;
mod handle;
mod keyed;
mod max_workers;
mod nested;
mod nothing_lost;
mod ordering;
mod panics;
mod par;
mod properties;
mod scoped;
mod silent;
mod size_hint;
mod strict;
mod task_timeout;
mod timeout;
mod tuples;
mod unreported;
