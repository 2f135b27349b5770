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

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use parallel::plumbing::{Encoded, Feed, Tasks};
use parallel::traits::Inputs;
use pyo3::prelude::*;
use pyo3::types::{PyIterator, PyTuple};

use crate::program::Pickling;
use crate::threads::{guarded, PyTask};

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

/// What a reader does with each item it reads: given the GIL, the task's index and the item.
type EachItem<'a> = dyn for<'py> FnMut(Python<'py>, usize, &Bound<'py, PyAny>) -> PyResult<()> + 'a;

/// Reads a Python iterator in batches, each under one hold of the GIL.
struct Reader {
    iter: Py<PyIterator>,
    shared: Streamed,
    next: usize,
    done: bool,
}

impl Reader {
    fn new(iter: &Bound<'_, PyAny>, shared: Streamed) -> PyResult<Self> {
        Ok(Reader { iter: iter.try_iter()?.unbind(), shared, next: 0, done: false })
    }

    /// Reads up to `n` items, giving each to `each` with its task's index; returns how many
    /// became tasks. The input ends at the iterator's end, or at an exception (the iterator's,
    /// or `each`'s), which is kept for the call to raise.
    fn read<'py>(
        &mut self,
        py: Python<'py>,
        n: usize,
        each: &mut dyn FnMut(usize, &Bound<'py, PyAny>) -> PyResult<()>,
    ) -> usize {
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
            if let Err(err) = each(self.next + read.len(), &item) {
                failed = Some(err);
                break;
            }
            read.push(Some(item.unbind()));
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
    fn read_attached<R>(
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

/// A streamed call's tasks on the thread executor: each item a `(callable, args, kwargs or
/// None)` triple.
pub(crate) struct ThreadStream(Reader);

impl ThreadStream {
    pub(crate) fn new(iter: &Bound<'_, PyAny>, shared: Streamed) -> PyResult<Self> {
        Ok(ThreadStream(Reader::new(iter, shared)?))
    }
}

impl Tasks for ThreadStream {
    type Params = PyTask;
    type Batch = std::vec::IntoIter<PyTask>;

    fn take(&mut self, n: usize) -> Self::Batch {
        let mut tasks = Vec::with_capacity(n.min(4096));
        self.0.read_attached(
            n,
            &mut |_, _, item| {
                tasks.push(PyTask::of(item)?);
                Ok(())
            },
            |_, _| (),
        );
        tasks.into_iter()
    }
    fn recover(&mut self) -> Self::Batch {
        Vec::new().into_iter()
    }
    fn size_hint(&self) -> (usize, Option<usize>) {
        (0, None)
    }
    /// A generator may be endless: a call that stops early ends with the tasks it read.
    fn read_rest_on_stop(&self) -> bool {
        false
    }
}

/// A streamed call's tasks on the process executor: each item a `(callable, args, kwargs,
/// own kwargs)` tuple, whose `(args, own kwargs)` is pickled and fed to the call; a task is
/// its index in the feed.
pub(crate) struct ProgramStream {
    reader: Reader,
    pickling: Pickling,
    feed: Feed,
}

impl ProgramStream {
    pub(crate) fn new(iter: &Bound<'_, PyAny>, shared: Streamed, pickling: Pickling, feed: Feed) -> PyResult<Self> {
        Ok(ProgramStream { reader: Reader::new(iter, shared)?, pickling, feed })
    }
}

impl Tasks for ProgramStream {
    type Params = usize;
    type Batch = std::ops::Range<usize>;

    fn take(&mut self, n: usize) -> Self::Batch {
        let start = self.reader.next;
        let mut params = Encoded::with_capacity(n.min(4096), n.min(4096) * 16);
        let pickling = &mut self.pickling;
        let read = self.reader.read_attached(
            n,
            &mut |py, index, item| {
                let param = PyTuple::new(py, [item.get_item(1)?, item.get_item(3)?])?;
                pickling.pickle_one(py, index, param.into_any(), &mut params)
            },
            |_, read| read,
        );
        if read > 0 {
            self.feed.push(params);
        }
        start..start + read
    }
    fn recover(&mut self) -> Self::Batch {
        0..0
    }
    fn size_hint(&self) -> (usize, Option<usize>) {
        (0, None)
    }
    /// A generator may be endless: a call that stops early ends with the tasks it read.
    fn read_rest_on_stop(&self) -> bool {
        false
    }
}

/// A stream of tasks as the engine takes an input: numbered from 0, results in a list.
pub(crate) struct StreamInputs<T>(pub(crate) T);

impl<T> Inputs for StreamInputs<T>
where
    T: Tasks + 'static,
    T::Params: Send + 'static,
{
    type Params = T::Params;
    type Key = usize;
    type Keys = ();
    type Tasks = T;
    type Output<Z> = Vec<Z>;

    fn into_tasks(self) -> ((), T) {
        ((), self.0)
    }
    fn describe_key(_: &(), _: usize) -> Option<String> {
        None
    }
    fn position(_: &(), key: &usize) -> Option<usize> {
        Some(*key)
    }
    fn assemble<Z>(_: (), values: Vec<Z>) -> Vec<Z> {
        values
    }
}
