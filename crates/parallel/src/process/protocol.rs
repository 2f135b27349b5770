//! The protocol between a parent and its worker processes: the parent sends a [`Request`]
//! frame per batch on the worker's stdin; the worker answers one [`Reply`] frame per task on
//! its stdout, in order, each as soon as its task is done. Frames and their codec are
//! [`wire`](crate::plumbing::wire)'s; a batch already sent is stopped through the control page
//! (`control.rs`). Both sides — the supervisor (`supervisor.rs`) and the worker (`serve.rs`,
//! and the Python package's `_worker.py`) — speak it.

use std::io::Read;

use serde::{Deserialize, Serialize};

use crate::process::shared::Buffer;
use crate::process::wire::{self, WireError};

/// The environment variable that starts a process in worker mode.
pub(crate) const WORKER_ENV: &str = "PARALLEL_WORKER";

/// The largest frame a worker or its parent accepts.
pub(crate) const MAX_FRAME: usize = 1 << 30;

/// A batch of tasks for a worker, as it sends them: the worker answers with one [`Reply`]
/// per task, in order, each as soon as its task is done.
#[derive(Serialize)]
pub(crate) struct Request<'a> {
    /// Which function to call: for Rust workers, the trampoline's offset from `serve.rs`'s
    /// `anchor` (8 bytes, little-endian); opaque to the supervisor.
    pub(crate) entry: &'a [u8],
    /// Each task's encoded parameters.
    pub(crate) params: &'a [&'a [u8]],
    pub(crate) extras: &'a [u8],
    /// The large buffers of the tasks' parameters, task by task, each task's in order
    /// ([`shared`](crate::process::shared)).
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
    /// The task of the batch it belongs to.
    pub(crate) fn task(&self) -> usize {
        match self {
            Carried::Shared { task, .. } | Carried::Inline { task, .. } => *task as usize,
        }
    }
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

/// Reads one [`Reply`] frame. A value's bytes are read into the `Vec` the reply holds, with no
/// second copy: the frame's head, the variant and the length first, then the bytes in place.
pub(crate) fn recv_reply(reader: &mut impl Read) -> Result<Reply, WireError> {
    let len = wire::read_header(reader, MAX_FRAME)?;
    let truncated = |got: usize| WireError::Truncated { expected: wire::HEADER_LEN + len, got: wire::HEADER_LEN + got };
    // The variant, and for a value its length: a varint of at most 10 bytes.
    let mut prefix = Vec::with_capacity(11);
    let mut byte = [0u8];
    while prefix.len() < len.min(11) {
        if reader.read(&mut byte)? == 0 {
            return Err(truncated(prefix.len()));
        }
        prefix.push(byte[0]);
        if prefix[0] != 0 || (prefix.len() > 1 && byte[0] < 0x80) {
            break; // another variant, or the value's length is complete
        }
    }
    if prefix[0] == 0 && prefix.len() > 1 {
        let mut n: usize = 0;
        for (i, b) in prefix[1..].iter().enumerate() {
            n |= usize::from(b & 0x7f).checked_shl(7 * i as u32).unwrap_or(0);
        }
        if prefix.len() + n == len {
            let value = wire::read_payload(reader, n, Vec::new(), wire::HEADER_LEN + prefix.len())?;
            return Ok(Reply::Value(value));
        }
    }
    let (read, rest) = (prefix.len(), len - prefix.len());
    let payload = wire::read_payload(reader, rest, prefix, wire::HEADER_LEN + read)?;
    wire::decode(&payload)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_reply_reads_back_as_it_was_sent() {
        let replies = [
            Reply::Value(Vec::new()),
            Reply::Value(b"abc".to_vec()),
            Reply::Value(vec![9; 200]),
            Reply::Value(vec![1; 70_000]),
            Reply::Failed(true, "boom".to_owned()),
            Reply::Raised("ValueError: x".to_owned(), vec![1, 2, 3]),
            Reply::Skipped,
        ];
        let mut bytes = Vec::new();
        for reply in &replies {
            wire::send(&mut bytes, reply).unwrap();
        }
        let mut reader = &bytes[..];
        for reply in replies {
            assert_eq!(recv_reply(&mut reader).unwrap(), reply);
        }
        assert!(matches!(recv_reply(&mut reader), Err(WireError::Closed)));
    }

    #[test]
    fn a_cut_reply_is_truncated_and_garbage_does_not_decode() {
        let mut bytes = Vec::new();
        wire::send(&mut bytes, &Reply::Value(vec![5; 1000])).unwrap();
        for cut in [3, 8, 9, 500, bytes.len() - 1] {
            assert!(matches!(recv_reply(&mut &bytes[..cut]), Err(WireError::Truncated { .. })), "cut at {cut}");
        }
        let mut bad = Vec::new();
        wire::write_frame(&mut bad, &[9, 9, 9]).unwrap();
        assert!(recv_reply(&mut &bad[..]).is_err());
    }
}
