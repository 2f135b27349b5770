//! The protocol between a parent and its worker processes: the parent sends a [`Request`]
//! frame per batch on the worker's stdin; the worker answers one [`Reply`] frame per task on
//! its stdout, in order, each as soon as its task is done. Frames and their codec are
//! [`wire`](crate::plumbing::wire)'s; a batch already sent is stopped through the control page
//! (`control.rs`). Both sides — the supervisor (`supervisor.rs`) and the worker (`serve.rs`,
//! and the Python package's `_worker.py`) — speak it.

use std::io::{self, IoSlice, Write};

use serde::{Deserialize, Serialize};

use crate::process::encoded::{push_varint, varint_len, Encoded};
use crate::process::shared::Buffer;
use crate::process::wire::{self, WireError};

/// The environment variable that starts a process in worker mode.
pub(crate) const WORKER_ENV: &str = "PARALLEL_WORKER";

/// The largest frame a worker or its parent accepts.
pub(crate) const MAX_FRAME: usize = 1 << 30;

/// A batch of tasks for a worker, as it sends them: the worker answers with one [`Reply`]
/// per task, in order, each as soon as its task is done. Its frame is that of the tuple
/// `(entry, params, extras, buffers)` in the wire's codec (what [`Received`] reads).
pub(crate) struct Request<'a> {
    /// Which function to call: for Rust workers, the trampoline's offset from `serve.rs`'s
    /// `anchor` (8 bytes, little-endian); opaque to the supervisor.
    pub(crate) entry: &'a [u8],
    /// Each task's encoded parameters: those of `params`' tasks `from..to`.
    pub(crate) params: &'a Encoded,
    pub(crate) from: usize,
    pub(crate) to: usize,
    pub(crate) extras: &'a [u8],
    /// The large buffers of the tasks' parameters, task by task (counted from `from`), each
    /// task's in order ([`shared`](crate::process::shared)).
    pub(crate) buffers: &'a [Carried<'a>],
}

/// One large buffer of a task's parameters, as a request carries it.
#[derive(Serialize, Deserialize, Debug, PartialEq)]
pub(crate) enum Carried<'a> {
    /// In a memfd of the parent's, descriptor `fd` there, `len` bytes.
    Shared { task: u32, fd: u32, len: u64 },
    /// In the request itself (a worker that cannot open its parent's descriptors).
    Inline { task: u32, bytes: &'a [u8] },
}

impl Carried<'_> {
    /// The task of the request it belongs to.
    pub(crate) fn task(&self) -> usize {
        match self {
            Carried::Shared { task, .. } | Carried::Inline { task, .. } => *task as usize,
        }
    }
}

impl Request<'_> {
    /// How many tasks the request holds.
    pub(crate) fn len(&self) -> usize {
        self.to.saturating_sub(self.from)
    }

    /// Writes the request's frame: its head and tail built in `scratch`, the parameters
    /// written from where they are, in one vectored write when the pipe takes it.
    pub(crate) fn write(&self, out: &mut impl Write, scratch: &mut Vec<u8>) -> Result<(), WireError> {
        let params = self.params.framed(self.from, self.to);
        scratch.clear();
        let (entry, count, extras) = (self.entry.len(), self.len(), self.extras.len());
        let buffers = wire::encode(self.buffers)?;
        let payload =
            varint_len(entry) + entry + varint_len(count) + params.len() + varint_len(extras) + extras + buffers.len();
        scratch.extend_from_slice(&wire::header(payload)?);
        push_varint(scratch, entry);
        scratch.extend_from_slice(self.entry);
        push_varint(scratch, count);
        let head = scratch.len();
        push_varint(scratch, extras);
        scratch.extend_from_slice(self.extras);
        scratch.extend_from_slice(&buffers);
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

/// Starts the frame of a `Reply::Value` in `frame`: its value's encoded bytes are to be
/// appended, then [`end_value_frame`] fills in the head. The same bytes as the frame of the
/// reply holding a `Vec` of them, without that `Vec`.
pub(crate) fn begin_value_frame(frame: &mut Vec<u8>) {
    frame.clear();
    // The header, the variant (0), and the value's length if it takes one byte.
    frame.extend_from_slice(&[0; wire::HEADER_LEN + 2]);
}

/// The head of a `Reply::Value` frame for a value of `len` bytes, and how many bytes of the
/// array it takes: what goes before the value's bytes, for a sender that writes them from
/// where they are.
#[inline]
pub(crate) fn value_head(len: usize) -> Result<([u8; VALUE_HEAD_MAX], usize), WireError> {
    let mut head = [0; VALUE_HEAD_MAX];
    head[..wire::HEADER_LEN].copy_from_slice(&wire::header(1 + varint_len(len) + len)?);
    // The variant (0) is already there; then the length.
    let mut at = wire::HEADER_LEN + 1;
    let mut n = len;
    while n >= 0x80 {
        head[at] = (n as u8) | 0x80;
        n >>= 7;
        at += 1;
    }
    head[at] = n as u8;
    Ok((head, at + 1))
}

/// The longest head of a value frame: the frame's header, the variant, a 64-bit varint.
pub(crate) const VALUE_HEAD_MAX: usize = wire::HEADER_LEN + 1 + 10;

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

/// A [`Request`] as the worker reads it, borrowed from the frame's payload: the tasks'
/// parameters are not copied out of it.
#[derive(Deserialize)]
pub(crate) struct Received<'a> {
    pub(crate) entry: &'a [u8],
    #[serde(borrow)]
    pub(crate) params: Vec<&'a [u8]>,
    pub(crate) extras: &'a [u8],
    #[serde(borrow)]
    pub(crate) buffers: Vec<Carried<'a>>,
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
    /// The encoded value, and the large buffers beside it, each in a memfd of the worker's
    /// (its descriptor there, its length): the parent opens them before anything else, and
    /// makes the reply [`Reply::Mapped`].
    Shared(Vec<u8>, Vec<(u32, u64)>),
    /// A [`Reply::Shared`] once its buffers are the parent's. Never on the wire.
    #[serde(skip)]
    Mapped(Vec<u8>, Vec<Buffer>),
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
        buffers: &'a [Carried<'a>],
    }

    #[test]
    fn a_request_is_written_as_the_codec_writes_its_shape() {
        let sizes = [0, 1, 127, 128, 300, 20_000];
        let each: Vec<Vec<u8>> = sizes.iter().map(|&n| vec![n as u8; n]).collect();
        let mut params = Encoded::default();
        each.iter().for_each(|p| params.push(p, Vec::new()));
        let mut encoded = Encoded::default();
        each.iter().for_each(|p| encoded.push_encoded(&serde_bytes_of(p)).unwrap());
        let carried = [Carried::Shared { task: 0, fd: 7, len: 1 << 20 }, Carried::Inline { task: 1, bytes: b"abc" }];
        for from in 0..=each.len() {
            for to in from..=each.len() {
                for (entry, extras, buffers) in
                    [(&b""[..], &b""[..], &carried[..0]), (&[7; 8][..], &[1; 200][..], &carried[..])]
                {
                    let shape = Shape { entry, params: &each[from..to], extras, buffers };
                    let mut expected = Vec::new();
                    wire::send(&mut expected, &shape).unwrap();
                    for params in [&params, &encoded] {
                        let mut written = Vec::new();
                        let request = Request { entry, params, from, to, extras, buffers };
                        request.write(&mut written, &mut Vec::new()).unwrap();
                        assert_eq!(written, expected, "tasks {from}..{to}, entry of {} bytes", entry.len());
                        let payload = &written[wire::HEADER_LEN..];
                        let received: Received<'_> = wire::decode(payload).unwrap();
                        assert_eq!(received.params.len(), to - from);
                        assert_eq!(received.buffers, buffers);
                    }
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
    fn a_value_frame_is_the_frame_of_its_reply() {
        let mut frame = Vec::new();
        for len in [0, 1, 127, 128, 300, 16_384, 70_000] {
            let value = vec![7u8; len];
            begin_value_frame(&mut frame);
            frame.extend_from_slice(&value);
            end_value_frame(&mut frame).unwrap();
            let mut expected = Vec::new();
            wire::send(&mut expected, &Reply::Value(value.clone())).unwrap();
            assert_eq!(frame, expected, "{len} bytes");
            let (head, n) = value_head(len).unwrap();
            assert_eq!([&head[..n], &value[..]].concat(), expected, "{len} bytes, the head apart");
        }
    }
}
