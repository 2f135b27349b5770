//! The pages of the documentation site (docs/, `make docs`) whose ```rust blocks run as this
//! crate's doctests: each page is the doc of one item here, so `cargo test --doc` compiles and
//! runs every rust block of it as it does those of the crate's own docs (each block a program
//! of its own; the process executor's workers are the doctest's binary started again, as for
//! any doctest). Only doctests see this module (`#[cfg(doctest)]` in lib.rs).
//! tests/test_docs.py fails for a page with a rust block that is not listed here.

#[doc = include_str!("../../../docs/index.md")]
pub struct Index;

#[doc = include_str!("../../../docs/getting-started.md")]
pub struct GettingStarted;

#[doc = include_str!("../../../docs/guide/map.md")]
pub struct GuideMap;

#[doc = include_str!("../../../docs/guide/par.md")]
pub struct GuidePar;

#[doc = include_str!("../../../docs/guide/executors.md")]
pub struct GuideExecutors;

#[doc = include_str!("../../../docs/guide/decorating.md")]
pub struct GuideDecorating;

#[doc = include_str!("../../../docs/guide/parameters.md")]
pub struct GuideParameters;

#[doc = include_str!("../../../docs/guide/errors.md")]
pub struct GuideErrors;

#[doc = include_str!("../../../docs/rust.md")]
pub struct Rust;

#[doc = include_str!("../../../docs/choosing-an-executor.md")]
pub struct ChoosingAnExecutor;

#[doc = include_str!("../../../docs/progress-and-streaming.md")]
pub struct ProgressAndStreaming;

#[doc = include_str!("../../../docs/workers.md")]
pub struct Workers;

#[doc = include_str!("../../../docs/migrating/python-parallel.md")]
pub struct MigratingPythonParallel;

#[doc = include_str!("../../../docs/migrating/concurrent-futures.md")]
pub struct MigratingConcurrentFutures;

#[doc = include_str!("../../../docs/migrating/joblib.md")]
pub struct MigratingJoblib;

#[doc = include_str!("../../../docs/migrating/multiprocessing.md")]
pub struct MigratingMultiprocessing;

/// The MPI executor's page: its blocks need the feature `mpi` (`make mpi-test` runs them, as
/// `cargo test -p parallel --features mpi --doc mpi`, whose filter this module's name matches).
#[cfg(feature = "mpi")]
#[doc = include_str!("../../../docs/mpi.md")]
pub mod mpi {}
