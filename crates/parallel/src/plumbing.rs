//! What bindings and new executors build on, kept out of the crate's root (as rayon keeps
//! `iter::plumbing`): a user calling `map` and `par` needs none of it.
//!
//! - [`Work`]: the per-task work of one call, run by the engine ([`Thread::run`](crate::Thread::run)):
//!   parameters in, a value or a [`Fault`] out. The crate's own calls are `Work`s; the Python
//!   binding implements it to run Python callables on the engine.
//! - [`Fault`] and [`ErrorValue`]: how a task failed, as a work reports it, with the error
//!   value kept for a binding to raise again.
//! - [`Interrupt`]: how another thread stops a running task (kills its worker process).
//! - [`Start`] and [`StartProbe`]: when a task handed to a worker began to run, as the worker
//!   says (a Python worker loads the task's function first): where its `task_timeout` counts from.
//! - [`Tasks`], [`Sequential`], [`Span`], [`SpanBatch`]: where a call's tasks come from, in
//!   batches; [`FromTasks`]: a `Tasks` of one's own as a call's input.
//! - [`Backend`], [`Maps`], [`TryMaps`], [`Carries`]: what an executor's backend implements —
//!   [`Threads`], [`Processes`] — so that one [`Executor`](crate::Executor) and its options
//!   serve every executor.
//! - [`wire`]: the frames between a parent and its worker processes, and their codec;
//!   [`WorkerSide`] and the [`Request`] it reads: a worker program's side of the protocol (the
//!   Python worker's hot loop).
//! - [`Program`]: worker processes of another program, with tasks as bytes
//!   ([`Process::run_program`](crate::Process::run_program)): parameters [`Encoded`], values
//!   [`Payload`]s, whose large
//!   [`Buffer`]s cross through shared memory ([`Shared`], [`Mapped`]).
//!
//! ```
//! use parallel::plumbing::{Fault, Work};
//! use parallel::FailureKind;
//!
//! struct Halve;
//! impl Work for Halve {
//!     type Params = u32;
//!     type Out = u32;
//!     type Kept = u32;
//!     fn keep(&self, x: &u32) -> u32 { *x }
//!     fn describe(&self, x: &u32) -> String { x.to_string() }
//!     fn run(&self, x: u32) -> Result<u32, Fault> {
//!         if x % 2 == 0 { Ok(x / 2) } else { Err(Fault::new(FailureKind::Error, "odd")) }
//!     }
//! }
//! let out = parallel::thread().silent().run(Halve, vec![4, 3]);
//! assert_eq!(out[0], Ok(2));
//! assert!(out[1].is_err());
//! ```

pub use crate::engine::tap::{Arrivals, Arrived, Ended};
pub use crate::engine::work::{Interrupt, Start, StartProbe, Work};
pub use crate::executor::{Backend, Carries, Maps, TryMaps};
pub use crate::failure::{ErrorValue, Fault};
pub use crate::inputs::{FromTasks, Sequential, Span, SpanBatch, Tasks};
pub use crate::process::encoded::Encoded;
pub use crate::process::feed::Feed;
pub use crate::process::program::Program;
pub use crate::process::shared::{Buffer, Mapped, Payload, Shared, SHARED_FROM, SHARED_MEMORY_ENV};
pub use crate::process::wire;
pub use crate::process::worker_side::{Request, WorkerSide};
pub use crate::process::Processes;
pub use crate::thread::Threads;
