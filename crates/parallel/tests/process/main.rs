//! The process executor — values and failures across worker processes, crashes, timeouts that
//! kill, memory caps, workers dying with their parent, the property test against a sequential
//! run, cancellation and strict stops, what tasks print — and worker processes of another program: one test
//! binary, a module each.
//!
//! Under libtest's harness, with no `main` of its own: the worker processes are this binary
//! started again, and they serve before libtest's `main` runs (`process_in_tests` says so on
//! purpose). The few tests that look at all of the process's children run alone in a fresh
//! process of this binary (`alone`), so that the other tests' workers, running beside them on
//! libtest's threads, are not in their counts.

#[path = "../alone/mod.rs"]
mod alone;
#[path = "../reference/mod.rs"]
mod reference;

mod process;
mod process_in_tests;
mod process_init;
mod process_output;
mod process_properties;
mod process_retries;
mod process_stops;
mod program;
