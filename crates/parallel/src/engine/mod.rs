//! The engine: runs one call's tasks on the process-wide pool of threads and gives back exactly
//! one outcome per task. It knows nothing of worker processes, of strict or silent results, or
//! of handles: an executor hands it a [`Work`](work::Work) and a source of tasks, and a mode
//! turns what it collected into the call's output.
//!
//! - `pool`: the reusable threads; `forked`: process-wide state that a forked child starts
//!   afresh;
//! - `state`: one call's shared state (`CallState`) and the loop each pool thread runs;
//!   `tracked`: the batches in flight of a call with a timeout (the same `CallState`, its
//!   tracked half);
//! - `driver`: starts a call and collects its outcomes, enforcing the deadline; `chunks`: the
//!   outcomes put back in input order; `buffer`: results written in place;
//! - `retry`: which failed tasks run again;
//! - `scope`: calls that borrow, returning only once their tasks ended;
//! - `work`: the seam, what a call runs per task (public through `plumbing`);
//! - `sync`: the one way the engine takes a lock.

pub(crate) mod buffer;
pub(crate) mod chunks;
pub(crate) mod driver;
pub(crate) mod forked;
pub(crate) mod pool;
pub(crate) mod retry;
pub(crate) mod scope;
pub(crate) mod state;
pub(crate) mod sync;
pub(crate) mod tap;
pub(crate) mod tracked;
pub(crate) mod tracked_batch;
pub(crate) mod work;
