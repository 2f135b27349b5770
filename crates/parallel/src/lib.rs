//! `parallel` makes running code in parallel transparent: [`map`] one function over many
//! inputs, or [`par`] run different functions at once — blocking or not — with per-task
//! failure capture, timeouts that return on time, and bounded workers.
//!
//! ```
//! use std::time::Duration;
//!
//! fn add(x: i32, y: i32) -> i32 { x + y }
//!
//! // One function, many inputs; tuples spread into arguments.
//! assert_eq!(parallel::map(add, vec![(2, 3), (4, 5)]).unwrap(), vec![5, 9]);
//!
//! // Different functions at once.
//! let (sum, word) = parallel::par((|| add(1, 1), || "two")).unwrap();
//! assert_eq!((sum, word), (2, "two"));
//!
//! // Options, fluently; silent mode keeps failures in place.
//! let results = parallel::thread()
//!     .max_workers(5)
//!     .timeout(Duration::from_secs(10))
//!     .silent()
//!     .map(|x: i32| 100 / x, vec![1, 0, 4]);
//! assert_eq!(results.replace_failed(0), vec![100, 0, 25]);
//! ```
//!
//! Inputs and functions are moved into a call and must be `'static`: a call may return at its
//! timeout while abandoned tasks still run. To map over borrowed data — `&v`, `v.iter()` — with
//! a function that borrows locals, as with rayon's `par_iter()`, use a *scoped* call: it
//! returns only once every task it started has ended (see [`Thread::scoped_map`] for its
//! timeouts).
//!
//! ```
//! let v: Vec<u64> = (0..1_000).collect();
//! let offset = 7;
//! let out = parallel::scoped_map(|x: &u64| x + offset, &v).unwrap();
//! assert_eq!(out[10], 17);
//! ```
//!
//! A call can be watched while it runs — [`Executor::progress`] draws a bar on stderr,
//! [`Executor::on_progress`] calls a function of yours — and its results taken as they
//! complete, in bounded memory, with [`as_completed`] (an iterator, or a `Stream` for async
//! code):
//!
//! ```
//! let mut sum = 0;
//! for (_index, outcome) in parallel::thread().progress().as_completed(|x: u64| x * 2, 0..1_000) {
//!     sum += outcome.unwrap();
//! }
//! assert_eq!(sum, 999_000);
//! ```
//!
//! A failed task reports which input it was, how it failed, and its parameters by their
//! `Debug`, from a clone made before the call — so parameters are `Clone + Debug`, unless the
//! function is wrapped in [`unreported`]: then a failure reports only the task's index (and
//! key), and the parameters can be of any `Send` type. See [`FailedTask`] and [`Report`](traits::Report).
//!
//! ```
//! struct Job(u32); // neither Clone nor Debug
//! let ids = parallel::map(parallel::unreported(|job: Job| job.0), vec![Job(1), Job(2)]).unwrap();
//! assert_eq!(ids, vec![1, 2]);
//! ```
//!
//! **Panics on stderr.** A task that panics fails alone, and its failure carries the panic's
//! message. On the thread executor, Rust's panic hook still runs first, as for any thread (and
//! as with rayon): the default hook prints `thread 'parallel-worker' panicked at …` — and a
//! backtrace if `RUST_BACKTRACE` is set — for every caught panic. The crate installs no hook in
//! your program, so yours keeps working; to quiet task panics, skip the pool's threads:
//!
//! ```
//! let default = std::panic::take_hook();
//! std::panic::set_hook(Box::new(move |info| {
//!     if std::thread::current().name() != Some("parallel-worker") {
//!         default(info);
//!     }
//! }));
//! # let _ = std::panic::take_hook();
//! ```
//!
//! A worker process of the [process executor](process()) prints one line per panic instead
//! (where, and the message's first line), whatever `RUST_BACKTRACE` says;
//! `PARALLEL_PANIC_OUTPUT=full` gives Rust's usual report (and backtraces as `RUST_BACKTRACE`
//! asks), `PARALLEL_PANIC_OUTPUT=none` nothing.
//!
//! The path of one call: the input becomes a stream of tasks ([`Inputs`](traits::Inputs)), the executor's
//! workers run them in adaptive batches on a reusable thread pool, the driver collects one
//! outcome per task — enforcing the deadline — and the [`Mode`](traits::Mode) puts them back in the input's
//! shape: `Result<output, Error>` or [`Results`].

#![deny(missing_docs)]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod call;
mod completed;
mod engine;
mod error;
mod executor;
mod failure;
mod functions;
mod handle;
mod inputs;
mod mode;
#[cfg(feature = "mpi")]
#[cfg_attr(docsrs, doc(cfg(feature = "mpi")))]
pub mod mpi;
mod par;
pub mod plumbing;
pub mod prelude;
mod process;
mod progress;
mod report;
mod results;
/// The documentation site's pages with rust blocks, run as doctests (docs/, `make docs`).
#[cfg(doctest)]
mod site_docs;
mod thread;

pub use crate::completed::{AsCompleted, AsCompletedStream};
pub use crate::error::Error;
pub use crate::executor::Executor;
pub use crate::failure::FailureKind;
pub use crate::functions::{
    as_completed, async_map, async_par, async_try_map, map, par, scoped_map, scoped_try_map, try_map,
};
pub use crate::handle::{Handle, Observer};
pub use crate::inputs::iter;
pub use crate::mode::{Silent, Strict};
#[cfg(feature = "mpi")]
#[cfg_attr(docsrs, doc(cfg(feature = "mpi")))]
pub use crate::mpi::mpi;
pub use crate::par::{task, Task};
#[doc(hidden)]
pub use crate::process::serve::__fuzz;
pub use crate::process::{init, process, Process};
pub use crate::progress::Progress;
pub use crate::report::unreported;
pub use crate::results::{FailedTask, Results};
pub use crate::thread::{default_thread_workers, thread, Thread};

/// The traits in the bounds of the API, and the adapters that implement them for you: name
/// them to write code generic over `parallel`'s calls (a function that takes any input shape,
/// any task function). A user calling `map` and `par` needs none of them by name.
///
/// ```
/// use parallel::traits::Inputs;
///
/// fn lengths<I: Inputs<Params = String>>(inputs: I) -> Result<I::Output<usize>, parallel::Error> {
///     parallel::map(|s: String| s.len(), inputs)
/// }
/// assert_eq!(lengths(vec!["ab".to_owned()]).unwrap(), vec![2]);
/// ```
pub mod traits {
    pub use crate::call::TaskFn;
    pub use crate::inputs::{Inputs, Iter, KeyByIndex};
    pub use crate::mode::Mode;
    pub use crate::par::{IntoTask, Par};
    pub use crate::process::{Owned, RemoteFn};
    pub use crate::report::{Report, Unreported};
}

/// The crate's README (what crates.io shows): its examples run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
