//! A call's parameters as the binding reads them: a sequence, by index.

use pyo3::prelude::*;
use pyo3::types::{PyList, PyRange, PySequence};

/// A sequence of parameters, read by index with the GIL held: a list, a `range` of 64-bit ints
/// (its ints made as they are read, without `range`'s own arithmetic on Python ints), or any
/// other sequence.
pub(crate) enum Items {
    List(Py<PyList>),
    Range { start: i64, step: i64, len: usize },
    Sequence(Py<PySequence>),
}

impl Items {
    pub(crate) fn new(items: &Bound<'_, PyAny>) -> PyResult<Self> {
        if let Ok(list) = items.cast::<PyList>() {
            return Ok(Items::List(list.clone().unbind()));
        }
        if let Ok(range) = items.cast_exact::<PyRange>() {
            let ints = (range.getattr("start")?.extract::<i64>(), range.getattr("step")?.extract::<i64>());
            if let ((Ok(start), Ok(step)), Ok(len)) = (ints, range.len()) {
                // The last int must be an i64 too.
                let last = (len as i128 - 1) * step as i128 + start as i128;
                if len == 0 || i64::try_from(last).is_ok() {
                    return Ok(Items::Range { start, step, len });
                }
            }
        }
        Ok(Items::Sequence(items.cast::<PySequence>()?.clone().unbind()))
    }

    pub(crate) fn len(&self, py: Python<'_>) -> PyResult<usize> {
        match self {
            Items::List(list) => Ok(list.bind(py).len()),
            Items::Range { len, .. } => Ok(*len),
            Items::Sequence(seq) => seq.bind(py).len(),
        }
    }

    pub(crate) fn get<'py>(&self, py: Python<'py>, index: usize) -> PyResult<Bound<'py, PyAny>> {
        match self {
            Items::List(list) => list.bind(py).get_item(index),
            Items::Range { start, step, .. } => Ok(self::int(py, start + index as i64 * step)),
            Items::Sequence(seq) => seq.bind(py).get_item(index),
        }
    }
}

fn int(py: Python<'_>, n: i64) -> Bound<'_, PyAny> {
    n.into_pyobject(py).expect("an int from an i64").into_any()
}
