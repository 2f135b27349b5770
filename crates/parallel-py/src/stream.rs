//! A call's parameters read from a Python iterator (a generator) as the workers take them:
//! the engine's pool threads pull the next batch when they need one ([`Tasks::take`]), so the
//! iterator is read a few batches ahead of the workers, never all at once, and its length is
//! known only once it is exhausted.
//!
//! Each item read is kept in the call's [`Window`] until its outcome is taken: a failed task
//! reports its parameters from there, and a task that succeeded lets go of them. What was
//! handed out is not kept, so a call streamed through `as_completed()` holds only the tasks in
//! flight. An exception the iterator raises ends the input there: the tasks read before it
//! run, then the call raises it.
//!
//! What the executors share is here ([`Reader`], [`Streamed`], [`Shapes`]); each executor's
//! `Tasks` over a reader is beside its work: `threads::ThreadStream`, `program::ProgramStream`.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use pyo3::prelude::*;
use pyo3::types::{PyIterator, PyTuple};

use crate::guard::guarded;

/// The items read and not yet accounted for, by task index: from `base` on, `None` where the
/// task's outcome was taken.
#[derive(Default)]
struct Window {
    base: usize,
    items: VecDeque<Option<Py<PyAny>>>,
}

/// What a streamed call's reader and its [`Call`](crate::call::Call) share: the items in
/// flight, and the iterator's exception, if it raised one.
#[derive(Clone, Default)]
pub(crate) struct Streamed {
    window: Arc<Mutex<Window>>,
    error: Arc<Mutex<Option<PyErr>>>,
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl Streamed {
    /// The items of the tasks at `outcomes` (`(index, failed)` each): the item of each failed
    /// task, `None` for the others, whose items are let go of. (Dropped after the lock is
    /// released: a drop may run Python code, which may switch threads.)
    pub(crate) fn claim(&self, outcomes: impl Iterator<Item = (usize, bool)>) -> Vec<Option<Py<PyAny>>> {
        let mut claimed = Vec::new();
        let mut released = Vec::new();
        let mut window = lock(&self.window);
        for (index, failed) in outcomes {
            let item = index.checked_sub(window.base).and_then(|at| window.items.get_mut(at)).and_then(Option::take);
            if failed {
                claimed.push(item);
            } else {
                claimed.push(None);
                released.push(item);
            }
        }
        while window.items.front().is_some_and(Option::is_none) {
            window.items.pop_front();
            window.base += 1;
        }
        drop(window);
        drop(released);
        claimed
    }

    /// The iterator's exception, taken: raised once.
    pub(crate) fn take_error(&self) -> Option<PyErr> {
        lock(&self.error).take()
    }
}

/// What a reader does with each item it reads: given the GIL, the task's index and the item,
/// it makes the task and returns what the call keeps of it until its outcome is taken.
pub(crate) type EachItem<'a> =
    dyn for<'py> FnMut(Python<'py>, usize, &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyAny>> + 'a;

/// [`EachItem`] with the GIL already given.
type ItemOf<'a, 'py> = dyn FnMut(usize, &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyAny>> + 'a;

/// Reads a Python iterator in batches, each under one hold of the GIL.
pub(crate) struct Reader {
    iter: Py<PyIterator>,
    shared: Streamed,
    /// The index of the next item to read.
    pub(crate) next: usize,
    done: bool,
}

impl Reader {
    pub(crate) fn new(iter: &Bound<'_, PyAny>, shared: Streamed) -> PyResult<Self> {
        Ok(Reader { iter: iter.try_iter()?.unbind(), shared, next: 0, done: false })
    }

    /// Reads up to `n` items, giving each to `each` with its task's index; returns how many
    /// became tasks. The input ends at the iterator's end, or at an exception (the iterator's,
    /// or `each`'s), which is kept for the call to raise.
    fn read<'py>(&mut self, py: Python<'py>, n: usize, each: &mut ItemOf<'_, 'py>) -> usize {
        if self.done {
            return 0;
        }
        let mut iter = self.iter.bind(py).clone();
        let mut read = Vec::with_capacity(n.min(4096));
        let mut failed = None;
        while read.len() < n {
            let item = match iter.next() {
                None => break,
                Some(Err(err)) => {
                    failed = Some(err);
                    break;
                }
                Some(Ok(item)) => item,
            };
            match each(self.next + read.len(), &item) {
                Ok(kept) => read.push(Some(kept.unbind())),
                Err(err) => {
                    failed = Some(err);
                    break;
                }
            }
        }
        let count = read.len();
        if count < n {
            self.done = true;
        }
        if let Some(err) = failed {
            lock(&self.shared.error).get_or_insert(err);
        }
        let mut window = lock(&self.shared.window);
        if window.items.is_empty() {
            window.base = self.next;
        }
        window.items.extend(read);
        drop(window);
        self.next += count;
        count
    }

    /// `read`, with the GIL taken (and guarded against the interpreter's exit, as a task is).
    pub(crate) fn read_attached<R>(
        &mut self,
        n: usize,
        each: &mut EachItem<'_>,
        finish: impl FnOnce(Python<'_>, usize) -> R,
    ) -> R {
        Python::attach(|py| {
            let read = guarded(py, &mut |py| self.read(py, n, &mut |index, item| each(py, index, item)));
            finish(py, read)
        })
    }
}

/// How a streamed `map` makes each item a task: an item of one of the `special` types (a
/// tuple, list or dict to spread, a `parallel.future` or `parallel.arg`: the caller names them)
/// is given to `convert`, which returns the task's tuple (a tuple subclass of the caller's, by
/// which its failure is told from a plain item's); any other item is the one argument of the
/// call's function — the common case, with no Python call of its own.
pub(crate) struct Shapes {
    special: Py<PyTuple>,
    convert: Py<PyAny>,
}

impl Shapes {
    pub(crate) fn new(special: Py<PyTuple>, convert: Py<PyAny>) -> Self {
        Shapes { special, convert }
    }

    /// The task tuple of a special item, `None` for a plain one.
    pub(crate) fn of<'py>(&self, item: &Bound<'py, PyAny>) -> PyResult<Option<Bound<'py, PyTuple>>> {
        let py = item.py();
        if !item.is_instance(self.special.bind(py).as_any())? {
            return Ok(None);
        }
        Ok(Some(self.convert.bind(py).call1((item,))?.cast_into::<PyTuple>()?))
    }
}
