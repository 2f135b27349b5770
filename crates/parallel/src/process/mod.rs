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
//! **Batches.** Tiny tasks travel thousands per message and their results stream back one
//! frame each; a worker that dies mid-batch fails only the task it was running, and the rest
//! of its batch runs again on a new worker.
//!
//! **par.** A closure cannot cross, so `par` on processes takes *remote* tasks:
//! `square.remote(7)` from the [prelude](crate::prelude), a `fn` item and its arguments.
//!
//! **Other programs.** The same supervisor runs workers of any program that speaks the frames,
//! with functions, parameters and values as bytes: see [`Program`](crate::Program).

// The parent's side: remote work, the supervisor of each worker process, the idle-worker
// stash, other programs as workers. The child's side: `serve`. Between them: the protocol
// (`supervisor`'s Request/Reply), the frames (`wire`) and the control page (`control`).
pub(crate) mod control;
pub(crate) mod entry;
pub(crate) mod program;
pub(crate) mod program_work;
pub(crate) mod protocol;
pub(crate) mod remote;
pub(crate) mod serve;
pub(crate) mod stash;
pub(crate) mod supervisor;
pub mod wire;

use std::fmt::{Debug, Display};
use std::marker::PhantomData;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde::Serialize;

use crate::call::TaskFn;
use crate::engine::driver::{call, spawn_call, Plan};
use crate::handle::Handle;
use crate::inputs::Inputs;
use crate::mode::{Mode, Silent, Strict};
use crate::par::Par;
use crate::par::ParWork;
use crate::process::entry::{entry, try_entry};
pub use crate::process::entry::{Owned, RemoteFn};
use crate::process::program::Program;
use crate::process::remote::{RemoteCall, RemoteParWork, RemoteWork};
use crate::process::serve::{entry_id, Entry};

/// The process executor with its options; made by [`process()`].
///
/// ```
/// let out = parallel::process().max_workers(2).silent().map(|x: i32| 10 / x, vec![5, 0]);
/// assert_eq!(out.replace_failed(-1), vec![2, -1]);
/// ```
#[derive(Debug)]
pub struct Process<E = (), M = Strict> {
    max_workers: Option<usize>,
    memory: Option<u64>,
    timeout: Option<Duration>,
    task_timeout: Option<Duration>,
    extras: Arc<E>,
    mode: PhantomData<M>,
}

impl<E, M> Clone for Process<E, M> {
    fn clone(&self) -> Self {
        Process { extras: self.extras.clone(), mode: PhantomData, ..*self }
    }
}

/// The process executor with default options: one worker process per core, strict mode, no
/// extras. Workers need no setup: they serve before `main` runs ([`init`] says so explicitly).
///
/// ```
/// let doubled = parallel::process().map(|x: u8| x * 2, vec![1, 2]).unwrap();
/// assert_eq!(doubled, vec![2, 4]);
/// ```
pub fn process() -> Process {
    Process {
        max_workers: None,
        memory: None,
        timeout: None,
        task_timeout: None,
        extras: Arc::new(()),
        mode: PhantomData,
    }
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

impl<E, M> Process<E, M>
where
    E: Serialize + Send + Sync + 'static,
    M: Mode,
{
    /// At most `n` tasks of a call run at once, each in its own worker process.
    ///
    /// # Panics
    /// If `n` is 0.
    pub fn max_workers(mut self, n: usize) -> Self {
        assert!(n > 0, "max_workers must be at least 1, got 0");
        self.max_workers = Some(n);
        self
    }

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
        self.memory = Some(bytes);
        self
    }

    /// A deadline for the whole call, as [`Thread::timeout`](crate::Thread::timeout) — and the
    /// worker processes still running tasks are killed.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// A limit for each task, as [`Thread::task_timeout`](crate::Thread::task_timeout) — and
    /// the worker process of a task past it is killed (and replaced for the next task).
    pub fn task_timeout(mut self, timeout: Duration) -> Self {
        self.task_timeout = Some(timeout);
        self
    }

    /// Silent mode, as [`Thread::silent`](crate::Thread::silent).
    pub fn silent(self) -> Process<E, Silent> {
        let Process { max_workers, memory, timeout, task_timeout, extras, .. } = self;
        Process { max_workers, memory, timeout, task_timeout, extras, mode: PhantomData }
    }

    /// A value every task receives by reference as its function's last argument; it is
    /// encoded once per call and decoded by the worker for each task.
    pub fn extras<X: Serialize + Send + Sync + 'static>(self, extras: X) -> Process<X, M> {
        let Process { max_workers, memory, timeout, task_timeout, .. } = self;
        Process { max_workers, memory, timeout, task_timeout, extras: Arc::new(extras), mode: PhantomData }
    }

    /// Calls `f` once per input, each call in a worker process; the results come in the
    /// input's shape. A task fails when `f` panics or its worker process dies
    /// ([`FailureKind::Crashed`](crate::FailureKind::Crashed)); the other tasks go on.
    ///
    /// # Panics
    /// If the extras cannot be encoded.
    pub fn map<I, F, K>(&self, f: F, inputs: I) -> M::Map<I, F::Output>
    where
        I: Inputs,
        I::Params: Clone + Debug + for<'de> Owned<'de>,
        F: TaskFn<I::Params, E, K> + RemoteFn,
        F::Output: for<'de> Owned<'de> + Send + 'static,
        E: for<'de> Owned<'de>,
        K: 'static,
    {
        let () = F::CAPTURES_NOTHING; // fails the build for a closure that captures values
        let _ = f; // only its type crosses: see `conjure`
        call::<M, _, I>(self.remote(entry::<F, E, K, I::Params>), inputs, self.plan())
    }

    /// Like [`map`](Self::map) for a function that returns `Result`: an `Err` fails its task
    /// with the error's `Display` as message.
    ///
    /// ```
    /// let out = parallel::process().silent().try_map(|s: String| s.parse::<u8>(), vec!["7".to_owned(), "x".to_owned()]);
    /// assert_eq!(out[0], Ok(7));
    /// assert_eq!(out[1].as_ref().unwrap_err().message(), "invalid digit found in string");
    /// ```
    pub fn try_map<I, F, K, T, X>(&self, f: F, inputs: I) -> M::Map<I, T>
    where
        I: Inputs,
        I::Params: Clone + Debug + for<'de> Owned<'de>,
        F: TaskFn<I::Params, E, K, Output = Result<T, X>> + RemoteFn,
        T: for<'de> Owned<'de> + Send + 'static,
        X: Display,
        E: for<'de> Owned<'de>,
        K: 'static,
    {
        let () = F::CAPTURES_NOTHING;
        let _ = f;
        call::<M, _, I>(self.remote(try_entry::<F, E, K, I::Params, T, X>), inputs, self.plan())
    }

    /// [`map`](Self::map) without blocking: returns a [`Handle`] at once.
    ///
    /// ```
    /// let handle = parallel::process().async_map(|x: u32| x + 1, vec![1, 2]);
    /// assert_eq!(handle.wait().unwrap(), vec![2, 3]);
    /// ```
    pub fn async_map<I, F, K>(&self, f: F, inputs: I) -> Handle<M::Map<I, F::Output>>
    where
        I: Inputs,
        I::Params: Clone + Debug + for<'de> Owned<'de>,
        F: TaskFn<I::Params, E, K> + RemoteFn,
        F::Output: for<'de> Owned<'de> + Send + 'static,
        E: for<'de> Owned<'de>,
        K: 'static,
        M::Map<I, F::Output>: Send + 'static,
    {
        let () = F::CAPTURES_NOTHING;
        let _ = f;
        spawn_call::<M, _, I, _>(self.remote(entry::<F, E, K, I::Params>), inputs, self.plan(), |output| output)
    }

    /// [`try_map`](Self::try_map) without blocking: returns a [`Handle`] at once.
    ///
    /// ```
    /// let handle = parallel::process().async_try_map(|s: String| s.parse::<i8>(), vec!["-4".to_owned()]);
    /// assert_eq!(handle.wait().unwrap(), vec![-4]);
    /// ```
    pub fn async_try_map<I, F, K, T, X>(&self, f: F, inputs: I) -> Handle<M::Map<I, T>>
    where
        I: Inputs,
        I::Params: Clone + Debug + for<'de> Owned<'de>,
        F: TaskFn<I::Params, E, K, Output = Result<T, X>> + RemoteFn,
        T: for<'de> Owned<'de> + Send + 'static,
        X: Display,
        E: for<'de> Owned<'de>,
        K: 'static,
        M::Map<I, T>: Send + 'static,
    {
        let () = F::CAPTURES_NOTHING;
        let _ = f;
        let work = self.remote(try_entry::<F, E, K, I::Params, T, X>);
        spawn_call::<M, _, I, _>(work, inputs, self.plan(), |output| output)
    }

    /// Runs different functions at once, each in a worker process: the tasks are
    /// [`remote`](crate::prelude::ParallelFn::remote) ones, made from `fn` items and their
    /// arguments. Timeouts kill the worker of a task past them.
    ///
    /// ```
    /// use parallel::prelude::*;
    /// fn square(x: u64) -> u64 { x * x }
    /// fn shout(s: String) -> String { s.to_uppercase() }
    ///
    /// let (n, s) = parallel::process().par((square.remote(7), shout.remote("hi".to_owned()))).unwrap();
    /// assert_eq!((n, s.as_str()), (49, "HI"));
    /// ```
    pub fn par<P: Par>(&self, tasks: P) -> M::Par<P> {
        M::par::<P>(call::<M, _, P::Tasks>(RemoteParWork(ParWork::new(), self.memory), tasks.into_tasks(), self.plan()))
    }

    /// [`par`](Self::par) without blocking: returns a [`Handle`] at once.
    pub fn async_par<P>(&self, tasks: P) -> Handle<M::Par<P>>
    where
        P: Par,
        M::Map<P::Tasks, P::Value>: Send + 'static,
        M::Par<P>: Send + 'static,
    {
        spawn_call::<M, _, P::Tasks, _>(
            RemoteParWork(ParWork::new(), self.memory),
            tasks.into_tasks(),
            self.plan(),
            M::par::<P>,
        )
    }

    /// The per-task work of a call whose worker side is `entry`.
    fn remote<A, T>(&self, entry: Entry) -> RemoteWork<A, T> {
        let extras = wire::encode(&*self.extras).unwrap_or_else(|e| panic!("the extras of a process call: {e}"));
        let call = RemoteCall::new(Program::this_executable(), entry_id(entry).to_vec(), extras, self.memory);
        RemoteWork::new(call.stop_on_failure(!M::SILENT))
    }

    pub(crate) fn memory(&self) -> Option<u64> {
        self.memory
    }

    pub(crate) fn plan(&self) -> Plan {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        Plan {
            workers: self.max_workers.unwrap_or(cores),
            timeout: self.timeout,
            deadline: self.timeout.map(|t| Instant::now() + t),
            task_timeout: self.task_timeout,
            silent: M::SILENT,
            cancellable: false,
        }
    }
}
