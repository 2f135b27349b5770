//! The protocol between a parent and its worker processes: the parent sends a [`Request`]
//! frame per batch on the worker's stdin; the worker answers one [`Reply`] frame per task on
//! its stdout, in order, each as soon as its task is done. Frames and their codec are
//! [`wire`](crate::plumbing::wire)'s; a batch already sent is stopped through the control page
//! (`control.rs`). Both sides — the supervisor (`supervisor.rs`) and the worker (`serve.rs`,
//! and the Python package's `_worker.py`) — speak it.

use serde::{Deserialize, Serialize};

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
    pub(crate) params: &'a [Vec<u8>],
    pub(crate) extras: &'a [u8],
}

/// A [`Request`] as the worker reads it.
#[derive(Deserialize)]
pub(crate) struct Received {
    pub(crate) entry: Vec<u8>,
    pub(crate) params: Vec<Vec<u8>>,
    pub(crate) extras: Vec<u8>,
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
