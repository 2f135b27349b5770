//! Per-thread worker state for the thread executor: `parallel.worker_state()` of a pool thread
//! is a dict held by that OS thread ([`thread_state`]), which lives exactly as long as the
//! thread — unlike a `threading.local`, whose values the engine's pool threads lose each time
//! they let go of the interpreter (a new Python thread state each time they take it again).

use std::cell::RefCell;

use pyo3::prelude::*;
use pyo3::types::{PyDict, PyTuple};

thread_local! {
    /// This thread's `(state, initializers run)` dicts, made on first use.
    static STATE: RefCell<Option<Py<PyTuple>>> = const { RefCell::new(None) };
}

/// `(state, done)`: the dicts of the calling thread — its `worker_state()`, and the record of
/// the initializers it ran (`_initializer`) — empty in a new thread, dropped with it.
#[pyfunction]
pub(crate) fn thread_state(py: Python<'_>) -> PyResult<Py<PyTuple>> {
    STATE.with(|slot| {
        let mut slot = slot.borrow_mut();
        if let Some(state) = slot.as_ref() {
            return Ok(state.clone_ref(py));
        }
        let state = PyTuple::new(py, [PyDict::new(py), PyDict::new(py)])?.unbind();
        *slot = Some(state.clone_ref(py));
        Ok(state)
    })
}
