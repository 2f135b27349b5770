//! The outcomes of a call's tasks, put in input order as their chunks arrive — whoever
//! delivered them and in whatever order — and assembled into one outcome per task.

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::engine::buffer::Buffer;
use crate::failure::{Failure, FailureKind};

/// The outcomes of tasks `start .. start + len`: the values of those that succeeded in order,
/// and the failures with their index.
pub(crate) struct Chunk<T> {
    pub(crate) start: usize,
    pub(crate) len: usize,
    pub(crate) values: Vec<T>,
    pub(crate) failures: Vec<(usize, Failure)>,
    /// The values of the successful tasks were written to the call's [`Buffer`] instead.
    pub(crate) direct: bool,
}

impl<T> Chunk<T> {
    pub(crate) fn new(start: usize, capacity: usize) -> Self {
        Chunk { start, len: 0, values: Vec::with_capacity(capacity), failures: Vec::new(), direct: false }
    }

    pub(crate) fn push(&mut self, outcome: Result<T, Failure>) {
        match outcome {
            Ok(value) => self.values.push(value),
            Err(failure) => self.failures.push((self.start + self.len, failure)),
        }
        self.len += 1;
    }

    /// The tasks in this chunk that ran to their end: a value, or a failure of their own. A
    /// task stopped by a timeout or a cancel (before it started, or while it ran) did not.
    pub(crate) fn ran(&self) -> usize {
        self.len - stopped(&self.failures)
    }
}

/// How many of `failures` are of tasks the call stopped: timed out or cancelled.
fn stopped(failures: &[(usize, Failure)]) -> usize {
    failures
        .iter()
        .filter(|(_, failure)| matches!(failure.kind, FailureKind::TimedOut | FailureKind::Cancelled))
        .count()
}

/// The outcomes received so far. A chunk is appended as soon as every task before it has
/// arrived; only chunks that arrive early wait. Values the pool threads wrote to the call's
/// [`Buffer`] stay there, and the buffer becomes the output.
pub(crate) struct Chunks<T> {
    /// Chunks that arrived before an earlier one, by their first task.
    waiting: BTreeMap<usize, Chunk<T>>,
    buffer: Option<Arc<Buffer<T>>>,
    /// Every value appended so far is in the buffer (else all are in `values`).
    in_buffer: bool,
    /// The values appended so far that are not in the buffer, in input order.
    values: Vec<T>,
    /// The failures among the tasks appended so far, in input order.
    failures: Vec<(usize, Failure)>,
    /// Tasks appended so far: the next task to append.
    pub(crate) appended: usize,
    /// Tasks received so far, appended or waiting.
    pub(crate) finished: usize,
}

impl<T> Chunks<T> {
    pub(crate) fn new(tasks: usize, buffer: Option<Arc<Buffer<T>>>) -> Self {
        let values = if buffer.is_some() { Vec::new() } else { Vec::with_capacity(tasks) };
        Chunks {
            waiting: BTreeMap::new(),
            in_buffer: buffer.is_some(),
            buffer,
            values,
            failures: Vec::new(),
            appended: 0,
            finished: 0,
        }
    }

    /// The tasks received so far that ran to their end ([`Chunk::ran`]): counted when asked
    /// (a call that timed out), not as each chunk arrives.
    pub(crate) fn ran(&self) -> usize {
        self.appended - stopped(&self.failures) + self.waiting.values().map(Chunk::ran).sum::<usize>()
    }

    fn insert(&mut self, chunk: Chunk<T>) {
        if chunk.len == 0 {
            return; // a batch whose every task was stolen
        }
        if chunk.start < self.appended || self.waiting.contains_key(&chunk.start) {
            debug_assert!(false, "tasks {}.. delivered twice", chunk.start);
            return;
        }
        self.finished += chunk.len;
        self.waiting.insert(chunk.start, chunk);
        while let Some(chunk) = self.waiting.remove(&self.appended) {
            self.append(chunk);
        }
    }

    /// Appends the next chunk in input order.
    fn append(&mut self, chunk: Chunk<T>) {
        let no_values = chunk.values.is_empty() && chunk.failures.len() == chunk.len;
        if self.in_buffer && !(chunk.direct || no_values) {
            // A batch beyond the buffer (the input outgrew its size hint): from here on, values
            // are copied out of the buffer.
            self.in_buffer = false;
            self.copy_from_buffer(0, self.appended);
        }
        let start = self.appended;
        self.appended += chunk.len;
        self.failures.extend(chunk.failures);
        if chunk.direct && !self.in_buffer {
            self.copy_from_buffer(start, self.appended);
        }
        self.values.extend(chunk.values);
    }

    /// Copies the values of the successful tasks in `from .. to` out of the buffer.
    fn copy_from_buffer(&mut self, from: usize, to: usize) {
        let Some(buffer) = &self.buffer else { return };
        let mut failed = self.failures.iter().map(|(i, _)| *i).skip_while(|i| *i < from).peekable();
        for index in from..to {
            if failed.next_if_eq(&index).is_none() {
                // SAFETY: the task succeeded in a chunk marked direct that was received.
                self.values.push(unsafe { buffer.read(index) });
            }
        }
    }

    pub(crate) fn extend(&mut self, chunks: impl IntoIterator<Item = Chunk<T>>) {
        chunks.into_iter().for_each(|c| self.insert(c));
    }

    /// The first failure in input order, once every task before it has succeeded.
    pub(crate) fn first_failure(&mut self) -> Option<(usize, Failure)> {
        (!self.failures.is_empty()).then(|| self.failures.swap_remove(0))
    }

    /// One outcome per task, in input order.
    pub(crate) fn assemble(mut self) -> Collected<T> {
        debug_assert!(self.waiting.is_empty(), "tasks {}.. are missing", self.appended);
        if self.in_buffer && self.failures.is_empty() {
            let taken = match &self.buffer {
                // SAFETY: every task succeeded, its chunk was direct and was received, and every
                // task of the call is accounted for: no pool thread writes again.
                Some(buffer) if self.appended > 0 => unsafe { buffer.take(self.appended) },
                _ => None,
            };
            return Collected::Values(taken.unwrap_or_default());
        }
        if self.in_buffer {
            self.copy_from_buffer(0, self.appended);
        }
        if self.failures.is_empty() {
            return Collected::Values(self.values);
        }
        self.failures.sort_unstable_by_key(|(index, _)| *index);
        Collected::Outcomes { values: self.values, failures: self.failures }
    }
}

/// How a call ended, with the outcomes it has.
pub enum Collected<T> {
    /// Every task succeeded: the values in input order.
    Values(Vec<T>),
    /// Some tasks failed (silent calls only): the values of those that succeeded, in input
    /// order, and the failures with their index, in order. (Kept apart, not as one `Result`
    /// per task: a failure is far larger than a small value.)
    Outcomes { values: Vec<T>, failures: Vec<(usize, Failure)> },
    /// The first failure in input order, with its index (calls that are not silent).
    Failed(usize, Failure),
    /// The deadline passed with `finished` tasks done (calls that are not silent).
    TimedOut { finished: usize },
    /// The call was cancelled (calls that are not silent).
    Cancelled,
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A chunk of tasks `start..start + len` whose values are their indices, but for `failed`.
    fn chunk(start: usize, len: usize, failed: &[usize]) -> Chunk<usize> {
        let mut chunk = Chunk::new(start, len);
        for i in start..start + len {
            if failed.contains(&i) {
                chunk.push(Err(Failure::new(FailureKind::Error, format!("task {i}"), i.to_string())));
            } else {
                chunk.push(Ok(i));
            }
        }
        chunk
    }

    #[test]
    fn chunks_arriving_in_any_order_assemble_in_input_order() {
        let mut chunks = Chunks::new(10, None);
        chunks.extend([chunk(6, 4, &[]), chunk(2, 4, &[3])]);
        assert_eq!((chunks.appended, chunks.finished), (0, 8), "nothing before task 2 has arrived");
        chunks.extend([chunk(0, 2, &[1])]);
        assert_eq!(chunks.appended, 10);
        assert_eq!(chunks.ran(), 10, "a task that failed of its own ran to its end");
        let Collected::Outcomes { values, failures } = chunks.assemble() else { panic!("failures expected") };
        assert_eq!(values, vec![0, 2, 4, 5, 6, 7, 8, 9]);
        assert_eq!(failures.iter().map(|(i, _)| *i).collect::<Vec<_>>(), vec![1, 3]);
    }

    #[test]
    fn the_first_failure_is_known_only_once_every_task_before_it_arrived() {
        let mut chunks = Chunks::new(6, None);
        chunks.extend([chunk(3, 3, &[4])]);
        assert!(chunks.first_failure().is_none(), "tasks 0..3 may still fail first");
        chunks.extend([chunk(0, 3, &[2])]);
        let (index, failure) = chunks.first_failure().expect("task 2 failed");
        assert_eq!((index, failure.message.as_str()), (2, "task 2"));
    }

    #[test]
    fn empty_chunks_are_skipped_and_all_successes_give_values() {
        let mut chunks = Chunks::new(4, None);
        chunks.extend([chunk(2, 2, &[]), chunk(2, 0, &[]), chunk(0, 2, &[])]);
        assert!(matches!(chunks.assemble(), Collected::Values(v) if v == vec![0, 1, 2, 3]));
    }

    #[test]
    fn tasks_stopped_by_a_timeout_or_a_cancel_did_not_run() {
        let mut stopped = chunk(0, 4, &[]);
        stopped.push(Err(Failure::new(FailureKind::TimedOut, "not started".into(), "4".into())));
        stopped.push(Err(Failure::new(FailureKind::Cancelled, "not started".into(), "5".into())));
        stopped.push(Err(Failure::new(FailureKind::Panicked, "boom".into(), "6".into())));
        assert_eq!((stopped.len, stopped.ran()), (7, 5));
        let mut chunks = Chunks::new(7, None);
        chunks.extend([stopped]);
        assert_eq!((chunks.finished, chunks.ran()), (7, 5));
    }
}
