//! The Python face of `parallel`: the `parallel._parallel` extension module.
//!
//! It converts and nothing more: Python hands over a call's tasks (thread executor: the
//! callables and their arguments; process executor: pickled bytes) and options, the Rust
//! engine schedules, supervises, times out and assembles, and a [`call::Call`] hands back one
//! outcome per task. The seed API itself — parameter shapes, result classes, `decorate` —
//! is the thin Python layer in `python/parallel/`.

mod buffers;
mod call;
mod cluster;
mod guard;
mod items;
mod pickles;
mod program;
mod stream;
mod threads;
mod worker;
mod worker_state;

use pyo3::prelude::*;

/// The extension module: `run_threads`, `run_program` (and their `_streamed` forms, for tasks
/// read from an iterator), `run_cluster` (batches a Python runner sends to a cluster),
/// `pickle_params`, `Call`, `Stopped`, `Program`,
/// `Params`, `Worker` (the worker process's side), and the plain pickles' `dumps` and `loads`
/// (for tests).
#[pymodule]
fn _parallel(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(threads::run_threads, m)?)?;
    m.add_function(wrap_pyfunction!(program::run_program, m)?)?;
    m.add_function(wrap_pyfunction!(threads::run_threads_streamed, m)?)?;
    m.add_function(wrap_pyfunction!(program::run_program_streamed, m)?)?;
    m.add_function(wrap_pyfunction!(cluster::run_cluster, m)?)?;
    m.add_function(wrap_pyfunction!(worker_state::thread_state, m)?)?;
    m.add_function(wrap_pyfunction!(program::pickle_params, m)?)?;
    m.add_function(wrap_pyfunction!(items::types_of, m)?)?;
    m.add_function(wrap_pyfunction!(pickles::loads, m)?)?;
    m.add_function(wrap_pyfunction!(pickles::dumps, m)?)?;
    m.add_class::<program::Params>()?;
    m.add_class::<buffers::OutOfBand>()?;
    m.add_class::<buffers::SharedBuffer>()?;
    m.add_class::<call::Call>()?;
    m.add_class::<cluster::Stopped>()?;
    m.add_class::<program::PyProgram>()?;
    m.add_class::<worker::PyWorker>()?;
    m.add("DEFAULT_THREAD_WORKERS", parallel::default_thread_workers())?;
    // The version has one home, the workspace's Cargo.toml: the crates take it from there, the
    // Python distribution's metadata too (maturin reads it), and `parallel.__version__` here.
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}
