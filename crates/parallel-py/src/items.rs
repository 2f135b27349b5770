//! A call's parameters as the binding reads them: a sequence, by index.

use pyo3::prelude::*;
use pyo3::types::{PyList, PyRange, PySequence, PySet, PyTuple, PyType};

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

/// `_parallel.types_of(items, nested=False)`: the set of the types of a list's items — with
/// `nested`, of the items of its items (each a list or a tuple) — as `set(map(type, items))`
/// gives it, without a set operation per item: an item of the type of the one before (the
/// common case) is skipped by a pointer comparison. For `_tasks._shape`, which looks at the
/// types of a call's parameters before choosing how to send them.
#[pyfunction]
#[pyo3(signature = (items, nested=false))]
pub(crate) fn types_of<'py>(items: &Bound<'py, PyList>, nested: bool) -> PyResult<Bound<'py, PySet>> {
    let py = items.py();
    let types = PySet::empty(py)?;
    let mut last: Option<Bound<'py, PyType>> = None;
    let mut see = |obj: &Bound<'py, PyAny>| -> PyResult<()> {
        let t = obj.get_type();
        if last.as_ref().is_some_and(|l| l.is(&t)) {
            return Ok(());
        }
        types.add(&t)?;
        last = Some(t);
        Ok(())
    };
    // (The list's iterator reads by index and stops at its end, should a metaclass's `__hash__`
    // change it meanwhile.)
    for item in items.iter() {
        if !nested {
            see(&item)?;
        } else if let Ok(tuple) = item.cast_exact::<PyTuple>() {
            tuple.iter().try_for_each(|x| see(&x))?;
        } else if let Ok(list) = item.cast_exact::<PyList>() {
            list.iter().try_for_each(|x| see(&x))?;
        } else {
            // A subclass: its own `__iter__`, as `itertools.chain` would call it.
            for x in item.try_iter()? {
                see(&x?)?;
            }
        }
    }
    Ok(types)
}
