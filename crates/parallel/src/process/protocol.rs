//! The protocol between a parent and its worker processes: the parent sends a [`Request`]
//! frame per batch on the worker's stdin; the worker answers one [`Reply`] frame per task on
//! its stdout, in order, each as soon as its task is done. Frames and their codec are
//! [`wire`](crate::plumbing::wire)'s; a batch already sent is stopped through the control page
//! (`control.rs`). Both sides — the supervisor (`supervisor.rs`) and the worker (`serve.rs`,
//! and the Python package's `_worker.py`) — speak it.

use std::io::{self, IoSlice, Write};

use serde::{Deserialize, Serialize};

use crate::process::wire::{self, WireError};

/// The environment variable that starts a process in worker mode.
pub(crate) const WORKER_ENV: &str = "PARALLEL_WORKER";

/// The largest frame a worker or its parent accepts.
pub(crate) const MAX_FRAME: usize = 1 << 30;

/// A batch of tasks for a worker, as it sends them: the worker answers with one [`Reply`]
/// per task, in order, each as soon as its task is done. Its frame is that of the tuple
/// `(entry, params, extras)` of byte strings in the wire's codec (what [`Received`] reads).
pub(crate) struct Request<'a> {
    /// Which function to call: for Rust workers, the trampoline's offset from `serve.rs`'s
    /// `anchor` (8 bytes, little-endian); opaque to the supervisor.
    pub(crate) entry: &'a [u8],
    /// Each task's encoded parameters: those of `params` from task `from` on.
    pub(crate) params: &'a Params,
    pub(crate) from: usize,
    pub(crate) extras: &'a [u8],
}

impl Request<'_> {
    /// How many tasks the request holds.
    pub(crate) fn len(&self) -> usize {
        self.params.len().saturating_sub(self.from)
    }

    /// Writes the request's frame: its head and tail built in `scratch`, the parameters
    /// written from where they are, in one vectored write when the pipe takes it.
    pub(crate) fn write(&self, out: &mut impl Write, scratch: &mut Vec<u8>) -> Result<(), WireError> {
        let params = self.params.bytes_from(self.from);
        scratch.clear();
        let (entry, count, extras) = (self.entry.len(), self.len(), self.extras.len());
        let payload = varint_len(entry) + entry + varint_len(count) + params.len() + varint_len(extras) + extras;
        scratch.extend_from_slice(&wire::header(payload)?);
        push_varint(scratch, entry);
        scratch.extend_from_slice(self.entry);
        push_varint(scratch, count);
        let head = scratch.len();
        push_varint(scratch, extras);
        scratch.extend_from_slice(self.extras);
        let (head, tail) = scratch.split_at(head);
        let mut parts = [IoSlice::new(head), IoSlice::new(params), IoSlice::new(tail)];
        let mut parts = &mut parts[..];
        while !parts.is_empty() {
            match out.write_vectored(parts) {
                Ok(0) => return Err(WireError::Io(io::ErrorKind::WriteZero.into())),
                Ok(n) => IoSlice::advance_slices(&mut parts, n),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e.into()),
            }
        }
        Ok(out.flush()?)
    }
}

/// Each task's encoded parameters, end to end in one buffer as a [`Request`]'s frame carries
/// them — each one's length (a varint), then its bytes — so that a batch's parameters are
/// encoded in one go, without a `Vec` per task, and any tail of the batch can be sent again.
#[derive(Default, Debug)]
pub(crate) struct Params {
    bytes: Vec<u8>,
    /// Where each task's parameters start in `bytes`.
    starts: Vec<usize>,
}

impl Params {
    /// Room for `tasks` tasks.
    pub(crate) fn with_capacity(tasks: usize) -> Self {
        Params { bytes: Vec::with_capacity(tasks * 4), starts: Vec::with_capacity(tasks) }
    }

    /// How many tasks' parameters it holds.
    pub(crate) fn len(&self) -> usize {
        self.starts.len()
    }

    /// Appends the next task's parameters, already encoded.
    pub(crate) fn push(&mut self, params: &[u8]) {
        self.starts.push(self.bytes.len());
        push_varint(&mut self.bytes, params.len());
        self.bytes.extend_from_slice(params);
    }

    /// Appends the next task's parameters, `value` encoded in the wire's codec; on an error
    /// nothing is appended.
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

    /// The bytes of tasks `from..`.
    fn bytes_from(&self, from: usize) -> &[u8] {
        self.starts.get(from).map_or(&[], |&start| &self.bytes[start..])
    }
}

/// Starts the frame of a `Reply::Value` in `frame`: its value's encoded bytes are to be
/// appended, then [`end_value_frame`] fills in the head. The same bytes as the frame of the
/// reply holding a `Vec` of them, without that `Vec`.
pub(crate) fn begin_value_frame(frame: &mut Vec<u8>) {
    frame.clear();
    // The header, the variant (0), and the value's length if it takes one byte.
    frame.extend_from_slice(&[0; wire::HEADER_LEN + 2]);
}

/// Ends the frame [`begin_value_frame`] started, once the value's bytes follow it.
pub(crate) fn end_value_frame(frame: &mut Vec<u8>) -> Result<(), WireError> {
    const VALUE_AT: usize = wire::HEADER_LEN + 2;
    let len = frame.len() - VALUE_AT;
    if len < 0x80 {
        frame[VALUE_AT - 1] = len as u8;
    } else {
        let mut length = Vec::with_capacity(10);
        push_varint(&mut length, len);
        frame.splice(VALUE_AT - 1..VALUE_AT, length);
    }
    let header = wire::header(frame.len() - wire::HEADER_LEN)?;
    frame[..wire::HEADER_LEN].copy_from_slice(&header);
    Ok(())
}

/// The bytes of `n` as a varint (postcard's encoding of lengths).
fn varint_len(n: usize) -> usize {
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

/// A [`Request`] as the worker reads it, borrowed from the frame's payload: the tasks'
/// parameters are not copied out of it.
#[derive(Deserialize)]
pub(crate) struct Received<'a> {
    pub(crate) entry: &'a [u8],
    #[serde(borrow)]
    pub(crate) params: Vec<&'a [u8]>,
    pub(crate) extras: &'a [u8],
}

/// A worker's answer to one task.
#[derive(Serialize, Deserialize, Debug, PartialEq)]
pub(crate) enum Reply {
    /// The encoded value.
    Value(Vec<u8>),
    /// The task panicked (`true`) or its parameters or value did not cross (`false`).
    Failed(bool, String),
    /// The task failed with an error the worker encoded: its message and the encoded error
    /// (a Python worker sends the pickled exception), kept as the failure's error value.
    Raised(String, Vec<u8>),
    /// The task never started: its parent stopped the batch through the control page
    /// (`control.rs`), or a strict call's task before it in the batch failed.
    Skipped,
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The request as the wire's codec writes it: what the worker decodes.
    #[derive(Serialize)]
    struct Shape<'a> {
        entry: &'a [u8],
        params: &'a [Vec<u8>],
        extras: &'a [u8],
    }

    #[test]
    fn a_request_is_written_as_the_codec_writes_its_shape() {
        let sizes = [0, 1, 127, 128, 300, 20_000];
        let each: Vec<Vec<u8>> = sizes.iter().map(|&n| vec![n as u8; n]).collect();
        let mut params = Params::default();
        each.iter().for_each(|p| params.push(p));
        let mut encoded = Params::default();
        each.iter().for_each(|p| encoded.push_encoded(&serde_bytes_of(p)).unwrap());
        for from in 0..=each.len() {
            for (entry, extras) in [(&b""[..], &b""[..]), (&[7; 8][..], &[1; 200][..])] {
                let shape = Shape { entry, params: &each[from..], extras };
                let mut expected = Vec::new();
                wire::send(&mut expected, &shape).unwrap();
                for params in [&params, &encoded] {
                    let mut written = Vec::new();
                    Request { entry, params, from, extras }.write(&mut written, &mut Vec::new()).unwrap();
                    assert_eq!(written, expected, "tasks {from}.., entry of {} bytes", entry.len());
                    let payload = &written[wire::HEADER_LEN..];
                    let received: Received<'_> = wire::decode(payload).unwrap();
                    assert_eq!(received.params.len(), each.len() - from);
                }
            }
        }
    }

    /// A value whose encoding is `bytes` itself (postcard writes a `u8` as one byte).
    fn serde_bytes_of(bytes: &[u8]) -> Raw<'_> {
        Raw(bytes)
    }

    struct Raw<'a>(&'a [u8]);

    impl Serialize for Raw<'_> {
        fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            use serde::ser::SerializeTuple;
            let mut t = s.serialize_tuple(self.0.len())?;
            for b in self.0 {
                t.serialize_element(b)?;
            }
            t.end()
        }
    }

    #[test]
    fn parameters_that_do_not_encode_leave_nothing_behind() {
        struct Fails;
        impl Serialize for Fails {
            fn serialize<S: serde::Serializer>(&self, _: S) -> Result<S::Ok, S::Error> {
                Err(serde::ser::Error::custom("no"))
            }
        }
        let mut params = Params::default();
        params.push_encoded(&5u64).unwrap();
        assert!(params.push_encoded(&(1u8, Fails)).is_err());
        params.push_encoded(&6u64).unwrap();
        assert_eq!(params.len(), 2);
        assert_eq!(params.bytes_from(0), [1, 5, 1, 6]);
        assert_eq!(params.bytes_from(1), [1, 6]);
        assert_eq!(params.bytes_from(2), [0u8; 0]);
    }

    #[test]
    fn a_value_frame_is_the_frame_of_its_reply() {
        let mut frame = Vec::new();
        for len in [0, 1, 127, 128, 300, 16_384, 70_000] {
            let value = vec![7u8; len];
            begin_value_frame(&mut frame);
            frame.extend_from_slice(&value);
            end_value_frame(&mut frame).unwrap();
            let mut expected = Vec::new();
            wire::send(&mut expected, &Reply::Value(value)).unwrap();
            assert_eq!(frame, expected, "{len} bytes");
        }
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
