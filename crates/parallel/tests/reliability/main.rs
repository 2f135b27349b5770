//! Reliability: the chaos soak (workers killed at random), no leaks, bounded memory, hostile
//! worker programs, a fork after using `parallel`, what a panicking worker prints — and the
//! reliability checks they share with `benches/soak.rs` (`soak_support`): one test binary, a
//! module each.
//!
//! `soak_short`, `no_leaks`, `bounded_memory` and `fork` look at or act on the whole process —
//! they kill its children, count its descriptors, threads and children, measure its resident
//! memory, fork it —, so each runs alone in a fresh process of this binary (`alone`), as in a
//! binary of its own; `panic_output` runs its calls in one too, to read its stderr. The others
//! share the process.

#[path = "../alone/mod.rs"]
mod alone;
#[path = "../soak_support/mod.rs"]
mod soak_support;

mod bounded_memory;
mod fork;
mod hostile_worker;
mod no_leaks;
mod panic_output;
mod soak_short;
