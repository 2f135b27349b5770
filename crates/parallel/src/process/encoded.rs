//! A call's parameters for another program, encoded by the caller: every task's bytes end to
//! end in one buffer, and the large buffers that go beside them through shared memory
//! ([`Payload`]). One buffer rather than one allocation per task: a million tiny tasks'
//! parameters take a few bytes each, and nothing is allocated or freed per task.

use crate::process::shared::{Buffer, Payload};

/// The encoded parameters of a call's tasks, in task order.
///
/// ```
/// use parallel::plumbing::{Buffer, Encoded};
///
/// let mut params = Encoded::new();
/// params.push(b"first", Vec::new());
/// params.push(b"second", vec![Buffer::lent(vec![0u8; 1 << 20])]);
/// assert_eq!((params.len(), params.bytes(1), params.buffers(1).len()), (2, &b"second"[..], 1));
/// assert!(params.buffers(0).is_empty());
/// ```
#[derive(Debug, Default)]
pub struct Encoded {
    bytes: Vec<u8>,
    /// Where each task's bytes end.
    ends: Vec<usize>,
    /// The large buffers, by task, and the task of each.
    buffers: Vec<Buffer>,
    owners: Vec<usize>,
}

impl Encoded {
    /// No task yet.
    pub fn new() -> Self {
        Encoded::default()
    }

    /// Room for `tasks` tasks of `bytes` bytes in all.
    pub fn with_capacity(tasks: usize, bytes: usize) -> Self {
        Encoded { bytes: Vec::with_capacity(bytes), ends: Vec::with_capacity(tasks), ..Encoded::default() }
    }

    /// The next task: its encoded bytes and its large buffers.
    pub fn push(&mut self, bytes: &[u8], buffers: Vec<Buffer>) {
        let task = self.ends.len();
        self.bytes.extend_from_slice(bytes);
        self.ends.push(self.bytes.len());
        self.owners.extend(std::iter::repeat_n(task, buffers.len()));
        self.buffers.extend(buffers);
    }

    /// How many tasks.
    pub fn len(&self) -> usize {
        self.ends.len()
    }

    /// `true` if there is no task.
    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    /// Task `task`'s bytes.
    ///
    /// # Panics
    /// If there is no task `task`.
    pub fn bytes(&self, task: usize) -> &[u8] {
        let start = if task == 0 { 0 } else { self.ends[task - 1] };
        &self.bytes[start..self.ends[task]]
    }

    /// Task `task`'s large buffers, in order.
    pub fn buffers(&self, task: usize) -> &[Buffer] {
        let first = self.owners.partition_point(|t| *t < task);
        let end = first + self.owners[first..].partition_point(|t| *t == task);
        &self.buffers[first..end]
    }

    /// Task `task`'s size: its bytes and its buffers'.
    pub fn size(&self, task: usize) -> usize {
        self.bytes(task).len() + self.buffers(task).iter().map(|b| b.len()).sum::<usize>()
    }
}

impl From<Vec<Payload>> for Encoded {
    fn from(payloads: Vec<Payload>) -> Self {
        let bytes = payloads.iter().map(|p| p.bytes.len()).sum();
        let mut encoded = Encoded::with_capacity(payloads.len(), bytes);
        for payload in payloads {
            encoded.push(&payload.bytes, payload.buffers);
        }
        encoded
    }
}

impl From<Vec<Vec<u8>>> for Encoded {
    fn from(params: Vec<Vec<u8>>) -> Self {
        let bytes = params.iter().map(Vec::len).sum();
        let mut encoded = Encoded::with_capacity(params.len(), bytes);
        for p in &params {
            encoded.push(p, Vec::new());
        }
        encoded
    }
}
