//! The wire format between a supervisor and its workers, and the fuzz targets' checks replayed
//! on the stable toolchain: one test binary, a module each.
//!
//! `fuzz_regressions` installs this binary's global allocator: the fuzz targets' counting one
//! (per-thread counts over the system allocator), to bound what a decoder allocates. A global
//! allocator is the whole binary's, so these tests have a binary of their own: the others run
//! on the plain system allocator, as the programs using `parallel` do.

mod fuzz_regressions;
mod wire;
