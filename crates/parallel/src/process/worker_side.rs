//! The worker's side of the protocol for worker programs built on this crate but not on its
//! entries: the Python package's worker runs its tasks' loop in Rust through it. It owns the
//! control page its parent gave it and answers each batch through the page's reply log, as
//! `serve.rs` does for Rust workers (see [`control`](crate::process::control)).

use std::fs::File;
use std::io::{self, BufReader};
use std::ops::Range;
use std::os::fd::OwnedFd;

use crate::process::control::{Control, LOG_SIZE};
use crate::process::protocol::{self, Carried, Received, Reply, MAX_FRAME};
use crate::process::serve::Replies;
use crate::process::shared::{Buffer, Shared};
use crate::process::wire::{self, WireError};

/// A worker process's side of the protocol: its batches' requests, which of their tasks must
/// not start, and the replies to them — through the reply log of the control page its parent gave it, or
/// straight to its pipe without one.
///
/// ```
/// use std::fs::File;
/// use std::os::fd::OwnedFd;
/// use parallel::plumbing::{wire, Request, WorkerSide};
///
/// // A request of two tasks in a file, the replies into another; a worker's are its stdin and
/// // stdout, the pipes its parent writes and reads.
/// let dir = std::env::temp_dir();
/// let (requests, replies) = (dir.join(format!("requests-{}", std::process::id())), dir.join(format!("replies-{}", std::process::id())));
/// let params: Vec<&[u8]> = vec![b"first", b"second"];
/// let buffers: Vec<u8> = Vec::new(); // no large buffers: an empty list
/// wire::send(&mut File::create(&requests).unwrap(), &(&b"entry"[..], params, &b"extras"[..], buffers)).unwrap();
/// let mut side = WorkerSide::from_env(
///     OwnedFd::from(File::open(&requests).unwrap()),
///     OwnedFd::from(File::create(&replies).unwrap()),
/// );
/// let request = side.next_request(Request::default()).unwrap().expect("a request");
/// assert_eq!((request.entry(), request.len(), request.params(1)), (&b"entry"[..], 2, &b"second"[..]));
/// side.loading(); // what the entry names is loaded now: no part of the tasks' task_timeout
/// side.began();
/// if !side.stops(0) {
///     side.value(b"the task's encoded value").unwrap();
/// }
/// side.skipped(1).unwrap();
/// side.end_batch().unwrap();
/// assert!(side.next_request(request).unwrap().is_none(), "no second request");
///
/// // Two reply frames: `Reply::Value` (variant 0, the length, the bytes), `Reply::Skipped` (3).
/// let written = std::fs::read(&replies).unwrap();
/// let mut frames = &written[..];
/// let value = wire::read_frame(&mut frames, 1 << 20).unwrap();
/// assert_eq!(&value[2..], b"the task's encoded value");
/// assert_eq!(wire::read_frame(&mut frames, 1 << 20).unwrap(), [3]);
/// std::fs::remove_file(&requests).unwrap();
/// std::fs::remove_file(&replies).unwrap();
/// ```
pub struct WorkerSide {
    requests: BufReader<File>,
    replies: Replies<Box<Control>, File>,
    batch: u32,
    frame: Vec<u8>,
}

/// A batch's request as a worker reads it ([`WorkerSide::next_request`]): the frame's payload,
/// and where in it lie the entry, each task's parameters and the extras — read in place, never
/// copied out.
#[derive(Debug, Default)]
pub struct Request {
    payload: Vec<u8>,
    entry: Range<usize>,
    params: Vec<Range<usize>>,
    extras: Range<usize>,
    /// The large buffers of the tasks' parameters, task by task.
    buffers: Vec<(usize, Place)>,
}

/// Where a large buffer of a request is.
#[derive(Debug)]
enum Place {
    /// Descriptor `fd` of the parent's, `len` bytes.
    Shared { fd: u32, len: usize },
    /// In the payload.
    Inline(Range<usize>),
}

impl Request {
    /// Which function the tasks call (opaque here: the worker program's own encoding).
    pub fn entry(&self) -> &[u8] {
        &self.payload[self.entry.clone()]
    }

    /// The encoded extras every task of the batch gets.
    pub fn extras(&self) -> &[u8] {
        &self.payload[self.extras.clone()]
    }

    /// How many tasks the batch holds.
    #[inline]
    pub fn len(&self) -> usize {
        self.params.len()
    }

    /// `true` for a batch of no task.
    pub fn is_empty(&self) -> bool {
        self.params.is_empty()
    }

    /// Task `task`'s encoded parameters.
    ///
    /// # Panics
    /// If the batch has no task `task`.
    #[inline]
    pub fn params(&self, task: usize) -> &[u8] {
        &self.payload[self.params[task].clone()]
    }

    /// Task `task`'s large buffers, in order: each mapped from its parent's shared memory (or
    /// copied out of the request). An error if one of them cannot be opened.
    pub fn buffers(&self, task: usize) -> io::Result<Vec<Buffer>> {
        let first = self.buffers.partition_point(|(t, _)| *t < task);
        let parent = std::os::unix::process::parent_id();
        (self.buffers[first..].iter().take_while(|(t, _)| *t == task))
            .map(|(_, place)| match place {
                Place::Shared { fd, len } => Shared::open(parent, *fd, *len)?.take(),
                Place::Inline(range) => Ok(Buffer::from(self.payload[range.clone()].to_vec())),
            })
            .collect()
    }

    /// `true` if task `task` has large buffers beside its parameters.
    #[inline]
    pub fn has_buffers(&self, task: usize) -> bool {
        let first = self.buffers.partition_point(|(t, _)| *t < task);
        self.buffers.get(first).is_some_and(|(t, _)| *t == task)
    }

    /// Reads `payload`'s parts. Each part borrowed from `payload` lies inside it: its place is
    /// its distance from the start.
    fn parse(&mut self) -> Result<(), WireError> {
        let received: Received<'_> = wire::decode(&self.payload)?;
        let start = self.payload.as_ptr() as usize;
        let span = |part: &[u8]| {
            let at = part.as_ptr() as usize - start;
            at..at + part.len()
        };
        self.entry = span(received.entry);
        self.extras = span(received.extras);
        self.params.clear();
        self.params.extend(received.params.iter().map(|p| span(p)));
        self.buffers.clear();
        for carried in &received.buffers {
            let place = match carried {
                Carried::Shared { fd, len, .. } => Place::Shared { fd: *fd, len: *len as usize },
                Carried::Inline { bytes, .. } => Place::Inline(span(bytes)),
            };
            self.buffers.push((carried.task(), place));
        }
        if !self.buffers.is_sorted_by_key(|(task, _)| *task) {
            return Err(WireError::Decode("a request's buffers out of task order".to_owned()));
        }
        Ok(())
    }
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
    /// This process as a worker reading its parent's requests on `requests` and answering on
    /// `replies`, through the control page its parent passed in `PARALLEL_CONTROL_FD`, if any
    /// (the variable is then removed and the page's descriptor closed; the mapping stays).
    pub fn from_env(requests: OwnedFd, replies: OwnedFd) -> Self {
        let control = Control::from_env().map(Box::new);
        WorkerSide {
            requests: BufReader::new(File::from(requests)),
            replies: Replies::new(File::from(replies), control),
            batch: 0,
            frame: Vec::new(),
        }
    }

    /// The next batch's request, read into `into` (whose buffers are reused), and the batch
    /// begun ([`begin_batch`](Self::begin_batch)); `None` once the parent closed the requests.
    /// An error if the bytes are not a request frame of this version: the worker then exits,
    /// and its parent fails the task that was due.
    pub fn next_request(&mut self, mut into: Request) -> io::Result<Option<Request>> {
        let len = match wire::read_header(&mut self.requests, MAX_FRAME) {
            Err(WireError::Closed) => return Ok(None),
            read => read.map_err(io_error)?,
        };
        let mut payload = std::mem::take(&mut into.payload);
        payload.clear();
        into.payload = wire::read_payload(&mut self.requests, len, payload, wire::HEADER_LEN).map_err(io_error)?;
        into.parse().map_err(io_error)?;
        self.begin_batch();
        Ok(Some(into))
    }

    /// A request has arrived: the next batch begins. Returns its number (from 1, wrapping).
    pub fn begin_batch(&mut self) -> u32 {
        self.batch = self.batch.wrapping_add(1);
        self.replies.begin_batch(self.batch);
        self.batch
    }

    /// Says that the batch just begun needs loading before its tasks run (a Python worker
    /// unpickles their function and the call's extras, importing their modules): its tasks'
    /// `task_timeout` does not count until [`began`](Self::began) — though a load may take no
    /// longer than the `task_timeout` or 60 s, whichever is longer. A worker that never says
    /// has its tasks' time counted from when the parent sent them.
    pub fn loading(&self) {
        if let Some(control) = self.replies.control() {
            control.loading(self.batch);
        }
    }

    /// Says that the batch said to be [`loading`](Self::loading) is loaded: its tasks begin.
    pub fn began(&self) {
        if let Some(control) = self.replies.control() {
            control.began();
        }
    }

    /// `true` if task `offset` of the current batch must not start (the parent stopped it).
    #[inline]
    pub fn stops(&self, offset: usize) -> bool {
        self.replies.control().is_some_and(|c| c.stops(self.batch, offset))
    }

    /// `true` if the current batch belongs to a strict call: it stops after a failed task.
    pub fn stop_on_failure(&self) -> bool {
        self.replies.control().is_some_and(|c| c.stop_on_failure())
    }

    /// The next task's reply: its encoded value. A large value goes to the pipe as it is,
    /// after its frame's head, rather than through the log.
    #[inline]
    pub fn value(&mut self, value: &[u8]) -> io::Result<()> {
        let (head, len) = protocol::value_head(value.len()).map_err(io_error)?;
        let parts = [&head[..len], value];
        let written = if value.len() > LOG_SIZE / 2 {
            self.replies.direct(&parts, 1)
        } else {
            self.replies.frame_parts(&parts, 1)
        };
        written.map_err(io_error)
    }

    /// `true` if large buffers can cross through shared memory: a value's buffers may go to
    /// [`shared_value`](Self::shared_value).
    pub fn shares(&self) -> bool {
        self.replies.control().is_some_and(Control::shared)
    }

    /// The next task's reply: its encoded value and the large buffers beside it, each through
    /// a memfd of its own, which the parent maps (see [`shares`](Self::shares); without shared
    /// memory, encode the value with its buffers inside and reply [`value`](Self::value)).
    /// Returns `true` once the parent has taken them; `false` if the memfds could not be made
    /// (out of descriptors, say) or the parent could not take them: the reply does not count,
    /// send the value another way.
    pub fn shared_value(&mut self, value: &[u8], buffers: &[&[u8]]) -> io::Result<bool> {
        let Ok(shared) = buffers.iter().map(|b| Shared::write(b)).collect::<io::Result<Vec<Shared>>>() else {
            return Ok(false);
        };
        let refs = shared.iter().map(|s| (s.fd() as u32, s.len() as u64)).collect();
        let mut frame = std::mem::take(&mut self.frame);
        frame.clear();
        let sent =
            wire::send(&mut frame, &Reply::Shared(value.to_vec(), refs)).and_then(|()| self.replies.shared(&frame));
        self.frame = frame;
        sent.map_err(io_error) // `shared` closes here: the parent has its own, or refused them
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
