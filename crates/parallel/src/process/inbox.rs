//! The parent's reader of a worker's replies: the pipe is read into one buffer in large reads,
//! and the [`Reply`] frames are taken from it in place — a value's bytes are handed out
//! borrowed from the buffer, so a tiny task's reply costs neither a system call nor a `Vec`.
//! A frame larger than the buffer is read into a `Vec` of its own, its value's bytes straight
//! into the `Vec` the reply holds.

use std::io::{self, Read};

use crate::process::protocol::{Reply, MAX_FRAME};
use crate::process::wire::{self, WireError, HEADER_LEN};

/// How many bytes the buffer holds: the whole reply log a worker writes at once (its frames
/// are never larger), and the pipe's contents several times over.
const INBOX_SIZE: usize = 256 << 10;

/// One reply, as the parent reads it.
#[derive(Debug, PartialEq)]
pub(crate) enum Incoming<'a> {
    /// A value's bytes, borrowed from the reader's buffer until the next reply is read.
    Value(&'a [u8]),
    /// Any other reply, or a value too large for the buffer (`Reply::Value`).
    Reply(Reply),
}

/// A worker's replies, read from `pipe` through one buffer.
pub(crate) struct Inbox<R> {
    pipe: R,
    buffer: Box<[u8]>,
    /// The bytes read but not yet taken are `buffer[start..end]`.
    start: usize,
    end: usize,
}

impl<R: Read> Inbox<R> {
    pub(crate) fn new(pipe: R) -> Self {
        Inbox { pipe, buffer: vec![0; INBOX_SIZE].into_boxed_slice(), start: 0, end: 0 }
    }

    /// The pipe.
    pub(crate) fn get_ref(&self) -> &R {
        &self.pipe
    }

    /// `true` if no byte read from the pipe waits to be taken.
    pub(crate) fn is_empty(&self) -> bool {
        self.start == self.end
    }

    /// The bytes read but not yet taken.
    fn pending(&self) -> &[u8] {
        &self.buffer[self.start..self.end]
    }

    /// Reads more of the pipe after what is pending (moved to the buffer's start first if
    /// the buffer's end is reached); `false` at the pipe's end.
    fn fill(&mut self) -> Result<bool, WireError> {
        if self.end == self.buffer.len() {
            self.buffer.copy_within(self.start..self.end, 0);
            (self.start, self.end) = (0, self.end - self.start);
        }
        loop {
            match self.pipe.read(&mut self.buffer[self.end..]) {
                Ok(0) => return Ok(false),
                Ok(n) => {
                    self.end += n;
                    return Ok(true);
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e.into()),
            }
        }
    }

    /// Makes at least `n` bytes pending (`n` at most the buffer's size), those of a frame of
    /// `frame` bytes; `Truncated` if the pipe ends first (`Closed` if it ends before a frame).
    fn want(&mut self, n: usize, frame: usize) -> Result<(), WireError> {
        debug_assert!(n <= self.buffer.len());
        if self.start + n > self.buffer.len() {
            self.buffer.copy_within(self.start..self.end, 0);
            (self.start, self.end) = (0, self.end - self.start);
        }
        while self.end - self.start < n {
            if !self.fill()? {
                let got = self.end - self.start;
                if got == 0 && n == HEADER_LEN {
                    return Err(WireError::Closed);
                }
                return Err(WireError::Truncated { expected: frame, got });
            }
        }
        Ok(())
    }

    /// The next reply; `Closed` if the pipe ended between two frames.
    pub(crate) fn next(&mut self) -> Result<Incoming<'_>, WireError> {
        self.want(HEADER_LEN, HEADER_LEN)?;
        let head = self.pending().first_chunk::<HEADER_LEN>().expect("a header's bytes are pending");
        let len = wire::parse_header(head, MAX_FRAME)?;
        let frame = HEADER_LEN + len;
        if frame <= self.buffer.len() {
            self.want(frame, frame)?;
            let at = self.start + HEADER_LEN;
            self.start += frame;
            let payload = &self.buffer[at..at + len];
            return Ok(match value_in(payload) {
                Some(value) => Incoming::Value(&payload[value..]),
                None => Incoming::Reply(wire::decode(payload)?),
            });
        }
        self.next_large(len)
    }

    /// A reply whose frame, of a `len`-byte payload, is larger than the buffer: a value's
    /// bytes go straight into the reply's `Vec`.
    fn next_large(&mut self, len: usize) -> Result<Incoming<'_>, WireError> {
        // The variant and a value's length: at most 11 bytes.
        self.want(HEADER_LEN + 11, HEADER_LEN + len)?;
        self.start += HEADER_LEN;
        let pending = self.pending();
        let (payload, taken) = match value_head(pending, len) {
            Some(skip) => (Vec::with_capacity(len - skip), skip),
            None => (Vec::with_capacity(pending.len().min(len)), 0),
        };
        let mut payload = payload;
        let have = (self.end - self.start).min(len);
        payload.extend_from_slice(&self.buffer[self.start + taken..self.start + have]);
        (self.start, self.end) = (0, 0);
        let before = HEADER_LEN + have;
        let payload = wire::read_payload(&mut self.pipe, len - have, payload, before)?;
        if taken > 0 {
            return Ok(Incoming::Reply(Reply::Value(payload)));
        }
        Ok(Incoming::Reply(wire::decode(&payload)?))
    }
}

/// If `payload` is a whole `Reply::Value` frame's payload: where the value's bytes start in it.
fn value_in(payload: &[u8]) -> Option<usize> {
    value_head(payload, payload.len())
}

/// If `head` starts a `Reply::Value` payload of `len` bytes in all (variant 0, the value's
/// length as a varint, then that many bytes): how many bytes come before the value's.
fn value_head(head: &[u8], len: usize) -> Option<usize> {
    if head.first() != Some(&0) {
        return None;
    }
    let mut n: usize = 0;
    for (i, &b) in head.iter().enumerate().skip(1).take(10) {
        n |= usize::from(b & 0x7f).checked_shl(7 * (i as u32 - 1)).unwrap_or(0);
        if b < 0x80 {
            return (n.checked_add(i + 1) == Some(len)).then_some(i + 1);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Hands out at most `step` bytes per read.
    struct Trickle<'a>(&'a [u8], usize);

    impl Read for Trickle<'_> {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            let n = buf.len().min(self.1).min(self.0.len());
            buf[..n].copy_from_slice(&self.0[..n]);
            self.0 = &self.0[n..];
            Ok(n)
        }
    }

    fn replies() -> Vec<Reply> {
        vec![
            Reply::Value(Vec::new()),
            Reply::Value(b"abc".to_vec()),
            Reply::Value(vec![9; 200]),
            Reply::Value(vec![1; 70_000]),
            Reply::Value(vec![2; INBOX_SIZE - HEADER_LEN - 4]), // the largest frame read in place
            Reply::Value(vec![3; INBOX_SIZE]),                  // read into its own `Vec`
            Reply::Failed(true, "boom".to_owned()),
            Reply::Raised("ValueError: x".to_owned(), vec![1, 2, 3]),
            Reply::Raised("large".to_owned(), vec![4; INBOX_SIZE + 5]),
            Reply::Skipped,
            Reply::Value(b"last".to_vec()),
        ]
    }

    fn owned(incoming: Incoming<'_>) -> Reply {
        match incoming {
            Incoming::Value(bytes) => Reply::Value(bytes.to_vec()),
            Incoming::Reply(reply) => reply,
        }
    }

    #[test]
    fn every_reply_reads_back_as_it_was_sent_whatever_the_reads() {
        let mut bytes = Vec::new();
        for reply in replies() {
            wire::send(&mut bytes, &reply).unwrap();
        }
        for step in [1, 7, 1000, 65536, usize::MAX] {
            let mut inbox = Inbox::new(Trickle(&bytes, step));
            for reply in replies() {
                let fits = matches!(&reply, Reply::Value(v) if v.len() + HEADER_LEN + 4 <= INBOX_SIZE);
                let got = inbox.next().unwrap();
                if fits {
                    assert!(matches!(got, Incoming::Value(_)), "a value that fits is borrowed");
                }
                assert_eq!(owned(got), reply, "reads of {step} bytes");
            }
            assert!(matches!(inbox.next(), Err(WireError::Closed)));
            assert!(inbox.is_empty());
        }
    }

    #[test]
    fn a_cut_reply_is_truncated_and_garbage_does_not_decode() {
        for reply in [Reply::Value(vec![5; 1000]), Reply::Value(vec![6; INBOX_SIZE * 2])] {
            let mut bytes = Vec::new();
            wire::send(&mut bytes, &reply).unwrap();
            for cut in [3, 8, 9, 500, bytes.len() - 1] {
                let got = Inbox::new(&bytes[..cut]).next().map(owned);
                assert!(matches!(got, Err(WireError::Truncated { .. })), "cut at {cut}: {got:?}");
            }
        }
        let mut bad = Vec::new();
        wire::write_frame(&mut bad, &[9, 9, 9]).unwrap();
        assert!(Inbox::new(&bad[..]).next().is_err());
        assert!(matches!(Inbox::new(&b"XX\x01\0\0\0\0"[..]).next(), Err(WireError::BadMagic(_))));
        // A value whose length says more than its frame holds is no value: it does not decode.
        let mut lying = Vec::new();
        wire::write_frame(&mut lying, &[0, 5, 1, 2]).unwrap();
        assert!(Inbox::new(&lying[..]).next().is_err());
    }
}
