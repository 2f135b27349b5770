//! What the ranks say to each other: rank 0 hands out [`Batch`]es of tasks and stops them
//! ([`ToRank`]); a rank answers each batch with its outcomes, in one [`Done`] ([`FromRank`]).
//! Encoded with postcard (the codec of [`wire`](crate::process::wire)); a message to this
//! rank itself is passed as it is, never encoded.

use serde::{Deserialize, Serialize};

use crate::failure::{FailureKind, Fault};
use crate::mpi::pump::DATA;
use crate::process::encoded::{push_varint, Encoded};

/// A message from rank 0 to a rank (rank 0 included, for its own workers).
#[derive(Debug, Serialize, Deserialize)]
pub(crate) enum ToRank {
    /// Run these tasks on one of the rank's worker processes.
    Batch(Batch),
    /// The tasks of batch `id` from its task `from` on must not start.
    Stop { id: u64, from: u32 },
    /// Kill the worker process running batch `id`'s task: it is past its time.
    Kill { id: u64 },
}

/// Tasks of one call, for one worker process of a rank.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct Batch {
    /// The batch's number, unique in the job: its reply, stops and kills name it.
    pub(crate) id: u64,
    /// Which worker slot of the rank runs it (a slot runs one batch at a time).
    pub(crate) slot: u32,
    /// The function's code offset ([`entry_id`](crate::process::serve::entry_id)).
    #[serde(with = "bytes")]
    pub(crate) entry: Vec<u8>,
    /// The call's extras, encoded.
    #[serde(with = "bytes")]
    pub(crate) extras: Vec<u8>,
    /// The memory limit of each worker process.
    pub(crate) memory: Option<u64>,
    /// A strict call: the rest of the batch is skipped after a failure.
    pub(crate) strict: bool,
    /// How many tasks.
    pub(crate) count: u32,
    /// Their parameters, framed: each task's length (a varint), then its bytes.
    #[serde(with = "bytes")]
    pub(crate) framed: Vec<u8>,
}

/// A message from a rank to rank 0.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) enum FromRank {
    /// The outcomes of a batch.
    Done(Done),
}

/// The outcomes of batch `id`, in task order: the values framed one after the other, and the
/// failures by their task's offset in the batch (the tasks not among them gave a value).
#[derive(Debug, Default, Serialize, Deserialize)]
pub(crate) struct Done {
    pub(crate) id: u64,
    #[serde(with = "bytes")]
    pub(crate) values: Vec<u8>,
    pub(crate) failures: Vec<(u32, Kind, String)>,
}

/// Byte strings encoded as one run of bytes (its length, then a copy), not byte by byte as
/// serde encodes a `Vec<u8>`.
mod bytes {
    use std::fmt;

    use serde::de::{Deserializer, Error, SeqAccess, Visitor};
    use serde::Serializer;

    pub(crate) fn serialize<S: Serializer>(bytes: &[u8], serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_bytes(bytes)
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<u8>, D::Error> {
        struct Bytes;
        impl<'de> Visitor<'de> for Bytes {
            type Value = Vec<u8>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("bytes")
            }
            fn visit_bytes<E: Error>(self, bytes: &[u8]) -> Result<Vec<u8>, E> {
                Ok(bytes.to_vec())
            }
            fn visit_byte_buf<E: Error>(self, bytes: Vec<u8>) -> Result<Vec<u8>, E> {
                Ok(bytes)
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Vec<u8>, A::Error> {
                let mut bytes = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(1 << 20));
                while let Some(byte) = seq.next_element()? {
                    bytes.push(byte);
                }
                Ok(bytes)
            }
        }
        deserializer.deserialize_byte_buf(Bytes)
    }
}

/// A failure's kind, as it crosses.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) enum Kind {
    Error,
    Panicked,
    TimedOut,
    Cancelled,
    Crashed { signal: Option<i32>, code: Option<i32> },
}

impl From<&FailureKind> for Kind {
    fn from(kind: &FailureKind) -> Self {
        match kind {
            FailureKind::Error => Kind::Error,
            FailureKind::Panicked => Kind::Panicked,
            FailureKind::TimedOut => Kind::TimedOut,
            FailureKind::Cancelled => Kind::Cancelled,
            FailureKind::Crashed { signal, code } => Kind::Crashed { signal: *signal, code: *code },
        }
    }
}

impl From<Kind> for FailureKind {
    fn from(kind: Kind) -> Self {
        match kind {
            Kind::Error => FailureKind::Error,
            Kind::Panicked => FailureKind::Panicked,
            Kind::TimedOut => FailureKind::TimedOut,
            Kind::Cancelled => FailureKind::Cancelled,
            Kind::Crashed { signal, code } => FailureKind::Crashed { signal, code },
        }
    }
}

impl Done {
    /// The outcomes of a batch that ran: each task's value bytes, or how it failed.
    pub(crate) fn new(id: u64, outcomes: Vec<Result<impl AsRef<[u8]>, Fault>>) -> Self {
        let mut done = Done { id, ..Done::default() };
        for (at, outcome) in outcomes.into_iter().enumerate() {
            match outcome {
                Ok(bytes) => {
                    push_varint(&mut done.values, bytes.as_ref().len());
                    done.values.extend_from_slice(bytes.as_ref());
                }
                Err(fault) => done.failures.push((at as u32, Kind::from(&fault.kind), fault.message)),
            }
        }
        done
    }

    /// The outcomes of `count` tasks: each one's value bytes (borrowed), or its failure.
    pub(crate) fn outcomes(&self, count: usize) -> Vec<Result<&[u8], Fault>> {
        let mut values = Frames(&self.values);
        let mut failures = self.failures.iter().peekable();
        (0..count)
            .map(|at| match failures.next_if(|(offset, ..)| *offset as usize == at) {
                Some((_, kind, message)) => Err(Fault::new(kind.clone().into(), message.clone())),
                None => values.next().ok_or_else(|| Fault::new(FailureKind::Error, "its value did not come back")),
            })
            .collect()
    }
}

/// Framed byte strings (a varint length, then the bytes), read one by one.
pub(crate) struct Frames<'a>(pub(crate) &'a [u8]);

impl<'a> Iterator for Frames<'a> {
    type Item = &'a [u8];

    fn next(&mut self) -> Option<&'a [u8]> {
        let (mut len, mut shift, mut at) = (0usize, 0u32, 0usize);
        loop {
            let byte = *self.0.get(at)?;
            at += 1;
            len |= usize::from(byte & 0x7f).checked_shl(shift)?;
            if byte & 0x80 == 0 {
                break;
            }
            shift += 7;
        }
        let end = at.checked_add(len).filter(|end| *end <= self.0.len())?;
        let frame = &self.0[at..end];
        self.0 = &self.0[end..];
        Some(frame)
    }
}

/// Tasks' parameters from their framed bytes: `None` if the frames are not `count` tasks.
pub(crate) fn unframe(framed: &[u8], count: usize) -> Option<Encoded> {
    let mut params = Encoded::with_capacity(count, framed.len());
    let mut frames = Frames(framed);
    for _ in 0..count {
        params.push(frames.next()?, Vec::new());
    }
    frames.0.is_empty().then_some(params)
}

/// A message's bytes, after the first byte the MPI thread reads ([`DATA`]).
pub(crate) fn encode<T: Serialize>(message: &T) -> Vec<u8> {
    postcard::to_extend(message, vec![DATA]).expect("a message of the ranks encodes")
}

/// A message from its bytes.
pub(crate) fn decode<'de, T: Deserialize<'de>>(bytes: &'de [u8]) -> Option<T> {
    postcard::from_bytes(bytes).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_batchs_outcomes_cross_in_order() {
        let outcomes: Vec<Result<Vec<u8>, Fault>> = vec![
            Ok(vec![1, 2]),
            Err(Fault::new(FailureKind::Crashed { signal: Some(11), code: None }, "boom")),
            Ok(vec![7; 300]),
            Err(Fault::cancelled()),
        ];
        let bytes = encode(&Done::new(9, outcomes));
        assert_eq!(bytes[0], DATA);
        let done: Done = decode(&bytes[1..]).unwrap();
        let back = done.outcomes(4);
        assert_eq!(back[0].as_ref().unwrap(), &[1, 2]);
        assert_eq!(back[1].as_ref().unwrap_err().kind, FailureKind::Crashed { signal: Some(11), code: None });
        assert_eq!(back[2].as_ref().unwrap().len(), 300);
        assert_eq!(back[3].as_ref().unwrap_err().kind, FailureKind::Cancelled);
    }

    #[test]
    fn parameters_unframe_to_their_tasks() {
        let mut params = Encoded::new();
        params.push(b"ab", Vec::new());
        params.push(&[5; 200], Vec::new());
        let framed = params.framed(0, 2).to_vec();
        let back = unframe(&framed, 2).unwrap();
        assert_eq!((back.bytes(0), back.bytes(1).len()), (&b"ab"[..], 200));
        assert!(unframe(&framed, 3).is_none());
        assert!(unframe(&framed[..5], 2).is_none());
    }
}
