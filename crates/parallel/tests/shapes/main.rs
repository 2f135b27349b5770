//! The shapes of a call, on both executors: tuples spread into arguments, maps in and maps out,
//! empty inputs, wrong size hints, input order for every sequence, extras, `par`, and the
//! prelude's decorated functions — one test binary, a module each.
//!
//! Some calls go through the process executor: its workers are this binary started again, and
//! they serve before libtest's `main` runs.

mod decorate;
mod empty;
mod extras;
mod keyed;
mod ordering;
mod par;
mod short_batches;
mod size_hint;
mod tuples;
