//! The process executor: each task runs in a worker process — this executable started again
//! in worker mode — so a task that panics, aborts, segfaults or exits fails alone, with a
//! precise kind, and the next task gets a fresh worker.
//!
//! **Setup: none.** A worker serves before `main` runs (from the executable's `.init_array`),
//! so any program can use this executor — including `cargo test` binaries and doctests, whose
//! `main` is not theirs. [`init`](crate::init) does the same from `main`, for programs that
//! prefer to say so.
//!
//! **What crosses.** Functions are `fn` items or closures that capture nothing ([`RemoteFn`]):
//! a capturing closure is a compile error that says so, and what to write instead. Parameters,
//! extras and values cross as serde values in the [`wire`](crate::process::wire) codec: they are
//! [`Owned`] — `String`, not `&str`.
//!
//! **Cost.** A worker is started the first time a task needs one (about 2 ms); idle workers
//! wait in a process-wide stash shared by all pool threads, so every later task and call
//! reuses them; at most one idle worker per core is kept (those beyond exit after a second idle),
//! and a worker idle for 5 minutes is killed. A process forked after a call starts its own
//! threads and workers, and never touches its parent's.
//!
//! ```
//! fn square(x: u64) -> u64 { x * x }
//!
//! let squares = parallel::process().map(square, 0..10).unwrap();
//! assert_eq!(squares[3], 9);
//! ```
//!
//! **Timeouts kill.** Past `timeout` or `task_timeout`, the worker process running a task is
//! killed (SIGKILL) at once, its task fails with kind `TimedOut`, and the next task starts a
//! new worker.
//!
//! **Panics on stderr.** A worker prints one line for a task that panics — the failure
//! already carries the message — rather than Rust's report and a backtrace. Set
//! `PARALLEL_PANIC_OUTPUT=full` for Rust's report (with backtraces as `RUST_BACKTRACE` asks;
//! otherwise workers ignore it), `PARALLEL_PANIC_OUTPUT=none` for nothing. A panic hook a task
//! sets replaces the worker's.
//!
//! **Output.** What a task prints reaches the parent's own streams: its stdout (`println!`)
//! the parent's stdout, its stderr (`eprintln!`, the panic lines above) the parent's stderr.
//! Each worker's are pipes that a thread of the parent reads: each line goes out whole, in one
//! write — the lines of workers printing at once never mix — and in the order its worker
//! printed it; a line longer than 64 KiB goes out in parts. When a call returns, everything
//! its tasks printed is out (a partial line too): a program that exits right after loses
//! nothing, nor does a worker that crashes right after printing. This costs a lock and a
//! system call per pipe and batch, nothing per task. `PARALLEL_WORKER_OUTPUT=inherit` (read
//! when a worker starts) gives workers the parent's own stdout and stderr instead, unassembled.
//!
//! ```
//! fn shout(word: String) -> usize {
//!     println!("{word}!"); // a whole line of the parent's stdout
//!     eprintln!("(said {word})"); // and one of its stderr
//!     word.len()
//! }
//!
//! let lengths = parallel::process().map(shout, vec!["hello".to_owned(), "world".to_owned()]).unwrap();
//! assert_eq!(lengths, [5, 5]); // both workers' lines are out by now
//! ```
//!
//! **Batches.** Tiny tasks travel thousands per message and their results stream back one
//! frame each; a worker that dies mid-batch fails only the task it was running, and the rest
//! of its batch runs again on a new worker.
//!
//! **par.** A closure cannot cross, so `par` on processes takes *remote* tasks:
//! `square.remote(7)` from the [prelude](crate::prelude), a `fn` item and its arguments.
//!
//! **Other programs.** The same supervisor runs workers of any program that speaks the frames,
//! with functions, parameters and values as bytes: see [`Program`](crate::plumbing::Program).

// The parent's side: remote work, the supervisor of each worker process, the idle-worker
// stash, other programs as workers. The child's side: `serve`. Between them: the protocol
// (`supervisor`'s Request/Reply), the frames (`wire`) and the control page (`control`).
pub(crate) mod control;
pub(crate) mod encoded;
pub(crate) mod entry;
pub(crate) mod feed;
pub(crate) mod inbox;
pub(crate) mod output;
pub(crate) mod program;
pub(crate) mod program_work;
pub(crate) mod protocol;
pub(crate) mod remote;
pub(crate) mod serve;
pub(crate) mod shared;
pub(crate) mod stash;
pub(crate) mod supervisor;
pub mod wire;
pub(crate) mod worker_side;

use std::fmt::{Debug, Display};
use std::sync::Arc;

use serde::Serialize;

use crate::call::TaskFn;
use crate::executor::{Backend, Carries, Executor, Maps, TryMaps};
use crate::mode::{Mode, Strict};
use crate::par::ParWork;
use crate::process::entry::{entry, init_entry, try_entry};
pub use crate::process::entry::{Owned, RemoteFn};
use crate::process::program::Program;
use crate::process::remote::{Recycle, RemoteCall, RemoteParWork, RemoteWork};
use crate::process::serve::{entry_id, Entry};
use crate::report::Cloned;

/// The process executor with its options: an [`Executor`] on worker processes, made by
/// [`process()`]. Its methods are [`Executor`]'s, and
/// [`memory_limit`](Executor::memory_limit).
///
/// ```
/// let out = parallel::process().max_workers(2).silent().map(|x: i32| 10 / x, vec![5, 0]);
/// assert_eq!(out.replace_failed(-1), vec![2, -1]);
/// ```
pub type Process<E = (), M = Strict> = Executor<Processes, E, M>;

/// The backend of the process executor: each task runs in a worker process, this executable
/// started again in worker mode; the memory limit of each worker, if any.
#[derive(Clone, Copy, Debug, Default)]
pub struct Processes {
    memory: Option<u64>,
    recycle: Recycle,
    /// The entry of what each worker runs once before its first task (`init`).
    init: Option<[u8; 8]>,
}

/// The process executor with default options: one worker process per core, strict mode, no
/// extras. Workers need no setup: they serve before `main` runs ([`init`] says so explicitly).
///
/// ```
/// let doubled = parallel::process().map(|x: u8| x * 2, vec![1, 2]).unwrap();
/// assert_eq!(doubled, vec![2, 4]);
/// ```
pub fn process() -> Process {
    Executor::new(Processes::default())
}

/// Makes this process a worker if it was started as one (and then never returns); does
/// nothing otherwise. Not needed on Linux, where a worker serves before `main` runs; call it
/// first thing in `main` to say so explicitly.
///
/// ```
/// // First thing in `main`:
/// parallel::init();
/// ```
pub fn init() {
    crate::process::serve::serve_if_worker();
}

impl<E, M: Mode, F> Executor<Processes, E, M, F> {
    /// Caps each worker process's memory (address space, `RLIMIT_AS`) at `bytes`: a task that
    /// allocates past it aborts its worker and fails alone as
    /// [`Crashed`](crate::FailureKind::Crashed); the next task gets a new worker.
    ///
    /// ```
    /// fn hog(mb: usize) -> usize { vec![1u8; mb << 20].iter().map(|&b| b as usize).sum::<usize>() >> 20 }
    /// let results = parallel::process().memory_limit(512 << 20).silent().map(hog, vec![1, 4_000, 2]);
    /// assert_eq!(results.succeeded(), vec![&1, &2]);
    /// assert!(matches!(results[1].as_ref().unwrap_err().kind(), parallel::FailureKind::Crashed { .. }));
    /// ```
    pub fn memory_limit(mut self, bytes: u64) -> Self {
        self.backend_mut().memory = Some(bytes);
        self
    }

    /// Replaces each worker process after `n` tasks (counted over its life, across calls) by
    /// a new one: for tasks that leak, or hold on to what they should not. A request to a
    /// worker carries no more tasks than it has left. (`map` and `try_map`; the remote tasks
    /// of `par` run on workers as they are.)
    ///
    /// # Panics
    /// If `n` is 0.
    ///
    /// ```
    /// fn pid(_: u32) -> u32 { std::process::id() }
    /// let pids = parallel::process().max_workers(1).max_tasks_per_worker(2).map(pid, 0..6).unwrap();
    /// assert_ne!(pids[1], pids[2], "the third task runs on a new worker");
    /// assert_eq!(pids[2], pids[3]);
    /// ```
    pub fn max_tasks_per_worker(mut self, n: u64) -> Self {
        assert!(n > 0, "max_tasks_per_worker must be at least 1, got 0");
        self.backend_mut().recycle.tasks = Some(n);
        self
    }

    /// Runs `init` — a `fn` item or a closure that captures nothing — once in each worker
    /// process before the first task of a `map` or `try_map` it runs; a worker that ran it
    /// (for this call or an earlier one) does not run it again. What it sets up goes in statics
    /// or thread-locals of the worker, which its later tasks see. An `init` that panics fails
    /// the tasks of the request it was to run before ("the initializer panicked: …"), without
    /// running them; the worker tries it again with its next request.
    ///
    /// ```
    /// use std::sync::atomic::{AtomicU32, Ordering};
    /// static INITS: AtomicU32 = AtomicU32::new(0);
    /// fn load() { INITS.fetch_add(1, Ordering::SeqCst); }
    /// fn inits(_: u32) -> u32 { INITS.load(Ordering::SeqCst) }
    /// let seen = parallel::process().init(load).map(inits, 0..100).unwrap();
    /// assert!(seen.iter().all(|&n| n == 1), "once per worker, before its first task");
    /// ```
    pub fn init<I: Fn() + RemoteFn + 'static>(mut self, init: I) -> Self {
        let _ = init;
        self.backend_mut().init = Some(entry_id(init_entry::<I>));
        self
    }

    /// Replaces a worker process whose resident memory (RSS) is above `bytes` after a task,
    /// keeping that task's value: for tasks that leak. Its memory is read after each task
    /// (`/proc`), so under this option each request to a worker carries one task — a round
    /// trip per task, tens of microseconds. Unlike [`memory_limit`](Self::memory_limit), no
    /// task fails.
    ///
    /// ```
    /// fn pid(_: u32) -> u32 { std::process::id() }
    /// // Any worker is above one byte: each task gets a new one.
    /// let pids = parallel::process().max_workers(1).max_worker_memory(1).map(pid, 0..3).unwrap();
    /// assert!(pids[0] != pids[1] && pids[1] != pids[2]);
    /// ```
    pub fn max_worker_memory(mut self, bytes: u64) -> Self {
        self.backend_mut().recycle.memory = Some(bytes);
        self
    }
}

impl Processes {
    /// The memory limit of each worker process.
    pub(crate) fn memory(&self) -> Option<u64> {
        self.memory
    }

    /// When its worker processes are replaced.
    pub(crate) fn recycle(&self) -> Recycle {
        self.recycle
    }

    /// The per-task work of a call whose worker side is `entry`.
    fn remote<A, T, E: Serialize>(&self, entry: Entry, extras: &E, silent: bool) -> RemoteWork<A, T> {
        let extras = wire::encode(extras).unwrap_or_else(|e| panic!("the extras of a process call: {e}"));
        // With an initializer, the entry is its entry and then the function's.
        let entry = self.init.iter().flatten().copied().chain(entry_id(entry)).collect();
        let call = RemoteCall::new(Program::this_executable(), entry, extras, self.memory);
        RemoteWork::new(call.stop_on_failure(!silent).recycle(self.recycle))
    }
}

impl Backend for Processes {
    fn default_workers(&self) -> usize {
        crate::engine::pool::cores()
    }

    type ParWork<V: Send + 'static> = RemoteParWork<V>;

    fn par_work<V: Send + 'static>(&self) -> RemoteParWork<V> {
        RemoteParWork(ParWork::new(), self.memory)
    }
}

impl<X: Serialize + Send + Sync + 'static> Carries<X> for Processes {}

/// A process task reports its parameters by a clone made before it crosses.
///
/// # Panics
/// [`map_work`](Maps::map_work) panics if the extras cannot be encoded.
impl<F, A, E, K> Maps<F, A, E, K, Cloned> for Processes
where
    A: Clone + Debug + for<'de> Owned<'de> + Send + 'static,
    F: TaskFn<A, E, K> + RemoteFn,
    F::Output: for<'de> Owned<'de> + Send + 'static,
    E: for<'de> Owned<'de> + Send + Sync + 'static,
    K: 'static,
{
    type Work = RemoteWork<A, F::Output>;

    fn map_work(&self, f: F, extras: &Arc<E>, silent: bool) -> Self::Work {
        let () = F::CAPTURES_NOTHING; // fails the build for a closure that captures values
        let _ = f; // only its type crosses: see `conjure`
        self.remote(entry::<F, E, K, A>, &**extras, silent)
    }
}

impl<F, A, E, K, T, X> TryMaps<F, A, E, K, Cloned, T, X> for Processes
where
    A: Clone + Debug + for<'de> Owned<'de> + Send + 'static,
    F: TaskFn<A, E, K, Output = Result<T, X>> + RemoteFn,
    T: for<'de> Owned<'de> + Send + 'static,
    X: Display,
    E: for<'de> Owned<'de> + Send + Sync + 'static,
    K: 'static,
{
    type Work = RemoteWork<A, T>;

    fn try_map_work(&self, f: F, extras: &Arc<E>, silent: bool) -> Self::Work {
        let () = F::CAPTURES_NOTHING;
        let _ = f;
        self.remote(try_entry::<F, E, K, A, T, X>, &**extras, silent)
    }
}
