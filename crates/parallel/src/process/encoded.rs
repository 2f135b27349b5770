//! Tasks' parameters, encoded, end to end in one buffer as a request's frame carries them —
//! each task's length (a varint), then its bytes — and the large buffers that go beside them
//! through shared memory ([`Buffer`]). One buffer rather than one `Vec` per task: a batch's
//! parameters are encoded in one go, any run of its tasks is sent from where it lies, and a
//! million tiny tasks' parameters take a few bytes each, with nothing allocated or freed per
//! task.

use serde::Serialize;

use crate::process::shared::{Buffer, Payload};
use crate::process::wire::{self, WireError};

/// The encoded parameters of tasks, in task order: a call's on another program
/// ([`Process::run_program`](crate::Process::run_program)), or one batch's.
///
/// ```
/// use parallel::plumbing::{Buffer, Encoded};
///
/// let mut params = Encoded::new();
/// params.push(b"first", Vec::new());
/// params.push(b"second", vec![Buffer::lent(vec![0u8; 1 << 20])]);
/// assert_eq!((params.len(), params.bytes(1), params.buffers(1).len()), (2, &b"second"[..], 1));
/// assert!(params.buffers(0).is_empty());
/// assert_eq!(params.size(1), 6 + (1 << 20));
/// ```
#[derive(Debug, Default)]
pub struct Encoded {
    bytes: Vec<u8>,
    /// Where each task's length starts in `bytes`.
    starts: Vec<usize>,
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
        Encoded { bytes: Vec::with_capacity(bytes + tasks), starts: Vec::with_capacity(tasks), ..Encoded::default() }
    }

    /// The next task: its encoded bytes and its large buffers.
    pub fn push(&mut self, bytes: &[u8], buffers: Vec<Buffer>) {
        let task = self.starts.len();
        self.starts.push(self.bytes.len());
        push_varint(&mut self.bytes, bytes.len());
        self.bytes.extend_from_slice(bytes);
        self.owners.extend(std::iter::repeat_n(task, buffers.len()));
        self.buffers.extend(buffers);
    }

    /// The next task, `value` encoded in the wire's codec straight into the buffer; on an
    /// error nothing is appended.
    pub(crate) fn push_encoded<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), WireError> {
        let start = self.bytes.len();
        self.bytes.push(0); // the length, if it takes one byte (the common case)
        if let Err(e) = wire::encode_into(value, &mut self.bytes) {
            self.bytes.truncate(start);
            return Err(e);
        }
        let len = self.bytes.len() - start - 1;
        if len < 0x80 {
            self.bytes[start] = len as u8;
        } else {
            let mut length = Vec::with_capacity(10);
            push_varint(&mut length, len);
            self.bytes.splice(start..start + 1, length);
        }
        self.starts.push(start);
        Ok(())
    }

    /// How many tasks.
    pub fn len(&self) -> usize {
        self.starts.len()
    }

    /// `true` if there is no task.
    pub fn is_empty(&self) -> bool {
        self.starts.is_empty()
    }

    /// Task `task`'s bytes.
    ///
    /// # Panics
    /// If there is no task `task`.
    pub fn bytes(&self, task: usize) -> &[u8] {
        let end = self.starts.get(task + 1).copied().unwrap_or(self.bytes.len());
        let framed = &self.bytes[self.starts[task]..end];
        let skip = framed.iter().position(|b| b & 0x80 == 0).map_or(framed.len(), |i| i + 1);
        &framed[skip..]
    }

    /// Task `task`'s large buffers, in order.
    pub fn buffers(&self, task: usize) -> &[Buffer] {
        let first = self.owners.partition_point(|t| *t < task);
        let end = first + self.owners[first..].partition_point(|t| *t == task);
        &self.buffers[first..end]
    }

    /// `true` if any task has large buffers.
    pub fn has_buffers(&self) -> bool {
        !self.buffers.is_empty()
    }

    /// Task `task`'s size: its bytes and its buffers'.
    pub fn size(&self, task: usize) -> usize {
        self.bytes(task).len() + self.buffers(task).iter().map(|b| b.len()).sum::<usize>()
    }

    /// The framed bytes (each task's length, then its bytes) of tasks `from..to`.
    pub(crate) fn framed(&self, from: usize, to: usize) -> &[u8] {
        let at = |task: usize| self.starts.get(task).copied().unwrap_or(self.bytes.len());
        &self.bytes[at(from)..at(to)]
    }
}

impl From<Vec<Payload>> for Encoded {
    fn from(payloads: Vec<Payload>) -> Self {
        let bytes = payloads.iter().map(|p| p.bytes().len()).sum();
        let mut encoded = Encoded::with_capacity(payloads.len(), bytes);
        for payload in payloads {
            let (bytes, buffers) = payload.into_parts();
            encoded.push(&bytes, buffers);
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

/// The bytes of `n` as a varint (postcard's encoding of lengths).
pub(crate) fn varint_len(n: usize) -> usize {
    (usize::BITS - (n | 1).leading_zeros()).div_ceil(7) as usize
}

/// Appends `n` as a varint.
pub(crate) fn push_varint(out: &mut Vec<u8>, mut n: usize) {
    while n >= 0x80 {
        out.push((n as u8) | 0x80);
        n >>= 7;
    }
    out.push(n as u8);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parameters_that_do_not_encode_leave_nothing_behind() {
        struct Fails;
        impl Serialize for Fails {
            fn serialize<S: serde::Serializer>(&self, _: S) -> Result<S::Ok, S::Error> {
                Err(serde::ser::Error::custom("no"))
            }
        }
        let mut params = Encoded::default();
        params.push_encoded(&5u64).unwrap();
        assert!(params.push_encoded(&(1u8, Fails)).is_err());
        params.push_encoded(&6u64).unwrap();
        assert_eq!(params.len(), 2);
        assert_eq!(params.framed(0, 2), [1, 5, 1, 6]);
        assert_eq!(params.framed(1, 2), [1, 6]);
        assert_eq!(params.framed(2, 2), [0u8; 0]);
        assert_eq!((params.bytes(0), params.bytes(1)), (&[5u8][..], &[6u8][..]));
    }

    #[test]
    fn each_tasks_bytes_and_buffers_read_back() {
        let mut params = Encoded::new();
        let long = vec![9u8; 300]; // a two-byte length
        params.push(&long, vec![Buffer::lent(vec![1u8; 10]), Buffer::lent(vec![2u8; 20])]);
        params.push(b"", Vec::new());
        params.push(b"z", vec![Buffer::lent(vec![3u8; 30])]);
        assert_eq!(params.bytes(0), &long[..]);
        assert_eq!(params.bytes(1), b"");
        assert_eq!(params.bytes(2), b"z");
        let lens = |t: usize| params.buffers(t).iter().map(|b| b.len()).collect::<Vec<_>>();
        assert_eq!((lens(0), lens(1), lens(2)), (vec![10, 20], vec![], vec![30]));
        assert_eq!(params.size(0), 330);
        assert!(params.has_buffers());
    }

    #[test]
    fn varint_lengths() {
        for n in [0, 1, 127, 128, 16_383, 16_384, u32::MAX as usize, usize::MAX] {
            let mut bytes = Vec::new();
            push_varint(&mut bytes, n);
            assert_eq!(bytes.len(), varint_len(n), "{n}");
            assert_eq!(bytes, postcard::to_allocvec(&(n as u64)).unwrap(), "{n}");
        }
    }
}
