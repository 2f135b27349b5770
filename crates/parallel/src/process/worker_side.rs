//! The worker's side of the protocol for worker programs built on this crate but not on its
//! entries: the Python package's worker runs its tasks' loop in Rust through it. It owns the
//! control page its parent gave it and answers each batch through the page's reply log, as
//! `serve.rs` does for Rust workers (see [`control`](crate::process::control)).

use std::fs::File;
use std::io;
use std::os::fd::OwnedFd;

use crate::process::control::{Control, LOG_SIZE};
use crate::process::protocol::Reply;
use crate::process::serve::Replies;
use crate::process::wire::{self, WireError};

/// A worker process's side of the protocol: which tasks of the current batch must not start,
/// and the replies to them — through the reply log of the control page its parent gave it, or
/// straight to its pipe without one.
///
/// ```
/// use std::os::fd::OwnedFd;
/// use parallel::plumbing::{wire, WorkerSide};
///
/// // Replies into a file here; a worker's are its stdout, the pipe its parent reads.
/// let path = std::env::temp_dir().join(format!("worker-side-{}", std::process::id()));
/// let mut side = WorkerSide::from_env(OwnedFd::from(std::fs::File::create(&path).unwrap()));
/// assert_eq!(side.begin_batch(), 1);
/// if !side.stops(0) {
///     side.value(b"the task's encoded value").unwrap();
/// }
/// side.skipped(1).unwrap();
/// side.end_batch().unwrap();
///
/// // Two reply frames: `Reply::Value` (variant 0, the length, the bytes), `Reply::Skipped` (3).
/// let written = std::fs::read(&path).unwrap();
/// let mut frames = &written[..];
/// let value = wire::read_frame(&mut frames, 1 << 20).unwrap();
/// assert_eq!(&value[2..], b"the task's encoded value");
/// assert_eq!(wire::read_frame(&mut frames, 1 << 20).unwrap(), [3]);
/// std::fs::remove_file(&path).unwrap();
/// ```
pub struct WorkerSide {
    replies: Replies<Box<Control>, File>,
    batch: u32,
    frame: Vec<u8>,
}

impl std::fmt::Debug for WorkerSide {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WorkerSide").field("batch", &self.batch).finish_non_exhaustive()
    }
}

fn io_error(e: WireError) -> io::Error {
    match e {
        WireError::Io(e) => e,
        other => io::Error::other(other.to_string()),
    }
}

impl WorkerSide {
    /// This process as a worker answering on `replies`, through the control page its parent
    /// passed in `PARALLEL_CONTROL_FD`, if any (the variable is then removed and the page's
    /// descriptor closed; the mapping stays).
    pub fn from_env(replies: OwnedFd) -> Self {
        let control = Control::from_env().map(Box::new);
        WorkerSide { replies: Replies::new(File::from(replies), control), batch: 0, frame: Vec::new() }
    }

    /// A request has arrived: the next batch begins. Returns its number (from 1, wrapping).
    pub fn begin_batch(&mut self) -> u32 {
        self.batch = self.batch.wrapping_add(1);
        self.replies.begin_batch(self.batch);
        self.batch
    }

    /// `true` if task `offset` of the current batch must not start (the parent stopped it).
    pub fn stops(&self, offset: usize) -> bool {
        self.replies.control().is_some_and(|c| c.stops(self.batch, offset))
    }

    /// `true` if the current batch belongs to a strict call: it stops after a failed task.
    pub fn stop_on_failure(&self) -> bool {
        self.replies.control().is_some_and(|c| c.stop_on_failure())
    }

    /// The next task's reply: its encoded value. A large value goes to the pipe as it is,
    /// after its frame's head, rather than through the log.
    pub fn value(&mut self, value: &[u8]) -> io::Result<()> {
        let mut frame = std::mem::take(&mut self.frame);
        let large = value.len() > LOG_SIZE / 2;
        let written = value_frame(&mut frame, value, !large).and_then(|()| {
            if large {
                self.replies.direct(&[&frame, value], 1)
            } else {
                self.replies.frames(&frame, 1)
            }
        });
        self.frame = frame;
        written.map_err(io_error)
    }

    /// The next `count` tasks' replies, as frames encoded by the caller (a Python worker's
    /// failures).
    pub fn frames(&mut self, frames: &[u8], count: usize) -> io::Result<()> {
        self.replies.frames(frames, count).map_err(io_error)
    }

    /// The next `count` tasks never started.
    pub fn skipped(&mut self, count: usize) -> io::Result<()> {
        for _ in 0..count {
            self.replies.reply(&Reply::Skipped).map_err(io_error)?;
        }
        Ok(())
    }

    /// The batch is answered: every reply to the pipe.
    pub fn end_batch(&mut self) -> io::Result<()> {
        self.replies.end_batch().map_err(io_error)
    }
}

/// The frame of `Reply::Value(value)` in `frame`, without copying `value` into a `Reply`
/// first: the variant's tag, the length (a varint), then the bytes — or, without `whole`, all
/// but the bytes (the caller writes them after).
fn value_frame(frame: &mut Vec<u8>, value: &[u8], whole: bool) -> Result<(), WireError> {
    let mut length = [0u8; 10];
    let (mut n, mut used) = (value.len(), 0);
    while n >= 0x80 {
        length[used] = (n as u8) | 0x80;
        n >>= 7;
        used += 1;
    }
    length[used] = n as u8;
    used += 1;
    frame.clear();
    frame.extend_from_slice(&wire::header(1 + used + value.len())?);
    frame.push(0);
    frame.extend_from_slice(&length[..used]);
    if whole {
        frame.extend_from_slice(value);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_value_frame_is_the_frame_of_its_reply() {
        for len in [0, 1, 127, 128, 300, 70_000] {
            let value = vec![7u8; len];
            let mut frame = Vec::new();
            value_frame(&mut frame, &value, true).unwrap();
            let mut expected = Vec::new();
            wire::send(&mut expected, &Reply::Value(value.clone())).unwrap();
            assert_eq!(frame, expected, "{len} bytes");
            value_frame(&mut frame, &value, false).unwrap();
            frame.extend_from_slice(&value);
            assert_eq!(frame, expected, "{len} bytes, its head apart");
        }
    }
}
