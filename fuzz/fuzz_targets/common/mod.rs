//! What the fuzz targets check, shared with the regression test that replays their seeds and
//! past crashes on the stable toolchain (`crates/parallel/tests/wire/fuzz_regressions.rs`
//! includes this module by path).

pub mod checks;
pub mod counting;
