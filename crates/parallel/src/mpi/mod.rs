//! The MPI executor (feature `mpi`): the tasks of a call run on the ranks of an MPI job —
//! every rank one copy of this program, started by `mpirun` or `srun` — each task in a
//! worker process of its rank, so a task that panics, aborts or segfaults fails alone and
//! its rank goes on. Its API is the [process executor](crate::process())'s with one word
//! changed: `parallel::mpi()` for `parallel::process()`.
//!
//! ```no_run
//! fn square(x: u64) -> u64 { x * x }
//!
//! fn main() {
//!     parallel::mpi::init(); // first thing: on ranks other than 0, serves and never returns
//!     let squares = parallel::mpi().map(square, 0..1_000).unwrap();
//!     assert_eq!(squares[999], 998_001);
//! } // rank 0 returns from main: every rank exits
//! ```
//!
//! ```text
//! mpirun -n 3 target/release/my-program
//! ```
//!
//! **Setup.** [`init`] first thing in `main`, on every rank. On rank 0 it returns and the
//! program goes on; on every other rank it serves tasks until rank 0 ends, then exits the
//! process (code 0). Every rank must run the same executable: rank 0 sends a hash of its
//! executable's bytes, and a rank whose own differs refuses — it prints
//! `parallel::mpi: rank N refuses to serve: its executable (…) is not rank 0's …` — and the
//! job ends.
//!
//! **What crosses.** What crosses to a process worker: functions as their code offset in the
//! executable (`fn` items and closures that capture nothing, [`RemoteFn`]),
//! parameters, extras and values as serde values ([`Owned`]). `par`
//! takes [`remote`](crate::prelude::ParallelFn::remote) tasks.
//!
//! **Workers.** Each rank offers worker slots — one per core of its machine, shared by the
//! ranks on that machine (at least one; `PARALLEL_MPI_WORKERS=n` sets it) — and runs each slot's
//! tasks in a worker process of its own (the process executor's, on that rank). Rank 0 works
//! too: its slots come after the other ranks' when handing out batches. A call runs as many
//! tasks at once as the job has slots, or `max_workers`.
//!
//! **Batches.** Tiny tasks cross thousands per message: the engine's adaptive batches go to
//! a free slot in one message each, and their outcomes come back in one message per batch. A
//! strict call stops at its first failure in input order, and a stop (a failure, `cancel`, a
//! timeout) reaches the batches already sent: their tasks not started never start. Under
//! `timeout` or `task_timeout`, the engine hands tasks out one at a time (as on processes),
//! and a task past its time has its worker process killed on its rank.
//!
//! **Failures of the job.** A rank that dies ends the job: MPI's default error handler
//! (`MPI_ERRORS_ARE_FATAL`) and `mpirun` stop every rank. A panic on rank 0 — on any thread
//! but the pools' own, whose panics are tasks' and fail them alone — ends the job with
//! `MPI_Abort` (after the panic's message), so no rank is left waiting; so does a panic on
//! rank 0 you catch yourself. When rank 0 exits normally (`main` returns, or
//! `std::process::exit`), every other rank stops its tasks, exits, and MPI is finalized.
//!
//! See `docs/mpi.md` for what a task costs, running on a cluster (`mpirun --hostfile`,
//! `srun`) and why.

mod leader;
mod message;
mod pump;
mod serve;

use std::fmt::{self, Debug, Display};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use crossbeam_channel::Sender;
use serde::Serialize;

use crate::call::TaskFn;
use crate::engine::sync::lock;
use crate::executor::{Backend, Carries, Executor, Maps, TryMaps};
use crate::mode::Mode;
use crate::mpi::leader::{Leader, MpiCall};
pub use crate::mpi::leader::{MpiParWork, MpiWork};
use crate::mpi::message::{decode, encode, Done, FromRank, ToRank};
use crate::mpi::pump::{Command, Handlers};
use crate::mpi::serve::Server;
use crate::process::entry::{entry, try_entry, Owned, RemoteFn};
use crate::process::serve::{entry_id, Entry};
use crate::process::wire;
use crate::report::Cloned;

/// The backend of the MPI executor: tasks run on the ranks of the MPI job, each in a worker
/// process of its rank; the memory limit of each worker, if any. Made by [`mpi()`]; its
/// executor is an [`Executor<Mpi>`](Executor).
///
/// ```no_run
/// parallel::mpi::init();
/// let pool: parallel::Executor<parallel::mpi::Mpi> = parallel::mpi().max_workers(8);
/// assert_eq!(pool.map(|x: u32| x + 1, 0..3).unwrap(), vec![1, 2, 3]);
/// ```
#[derive(Clone, Copy, Debug, Default)]
pub struct Mpi {
    memory: Option<u64>,
}

/// The MPI executor with default options: one task at a time per worker slot of the job
/// (see the [module](mod@crate::mpi)), strict mode, no extras. Its options and calls are those of
/// every [`Executor`]: `max_workers`, `timeout`, `task_timeout`, `silent`, `extras`, `map`,
/// `try_map`, `par`, their `async_` forms, `as_completed`.
///
/// # Panics
/// If [`init`] was not called first (on rank 0, where `init` returns).
///
/// ```no_run
/// use std::time::Duration;
/// use parallel::prelude::*;
///
/// fn inverse(x: i32) -> i32 { 100 / x }
/// fn shout(s: String) -> String { s.to_uppercase() }
///
/// fn main() {
///     parallel::mpi::init();
///     let out = parallel::mpi().silent().timeout(Duration::from_secs(60)).map(inverse, vec![5, 0]);
///     assert_eq!(out.replace_failed(-1), vec![20, -1]);
///     let (n, s) = parallel::mpi().par((inverse.remote(4), shout.remote("hi".to_owned()))).unwrap();
///     assert_eq!((n, s.as_str()), (25, "HI"));
/// }
/// ```
pub fn mpi() -> Executor<Mpi> {
    let _ = leader();
    Executor::new(Mpi::default())
}

/// Joins the MPI job, first thing in `main` on every rank: on rank 0 it returns, and the
/// program goes on to use [`mpi()`]; on every other rank it serves rank 0's tasks and exits
/// the process when rank 0 ends. Calling it again on rank 0 does nothing.
///
/// A rank that runs another executable than rank 0's prints why and ends the job; so does
/// any other failure to join (see [`try_init`]), printed as `parallel::mpi: …`.
///
/// ```no_run
/// parallel::mpi::init(); // first thing in main
/// // rank 0 only, from here on
/// println!("{:?}", parallel::mpi().map(|x: u8| x * 2, vec![1, 2]).unwrap());
/// ```
pub fn init() {
    if let Err(e) = try_init() {
        eprintln!("parallel::mpi: {e}");
        std::process::exit(1);
    }
}

/// [`init`], with its failures returned rather than printed, on rank 0 or a process that
/// cannot join a job: MPI already initialized by someone else, the executable unreadable. A
/// rank that runs another executable than rank 0's still ends the job.
///
/// ```no_run
/// match parallel::mpi::try_init() {
///     Ok(()) => assert_eq!(parallel::mpi().map(|x: u8| x + 1, vec![1]).unwrap(), vec![2]),
///     Err(e) => eprintln!("no MPI job: {e}"),
/// }
/// ```
pub fn try_init() -> Result<(), MpiError> {
    crate::process::init(); // a worker process of a rank serves here, and never returns
    static JOINING: Mutex<()> = Mutex::new(());
    let _joining = lock(&JOINING);
    if NODE.get().is_some() {
        return Ok(());
    }
    let started = pump::start(rank_slots)?;
    let pump::Setup { rank, slots } = started.setup;
    let here = usize::try_from(rank).ok().and_then(|r| slots.get(r)).copied().unwrap_or(1);
    let server = Server::start(here, reply);
    let leader = (rank == 0).then(|| &*Box::leak(Box::new(Leader::new(&slots))));
    let node = Node { rank, commands: started.commands, server, leader };
    if NODE.set(node).is_err() {
        unreachable!("the node is set once, under JOINING");
    }
    if started.go.send(Handlers { deliver, exit: exit_rank, expecting }).is_err() {
        return Err(MpiError::Thread("the mpi thread ended before the job started".into()));
    }
    if rank != 0 {
        let _ = started.thread.join(); // until rank 0 ends the job
        std::process::exit(0);
    }
    abort_on_panic();
    // SAFETY: registers a function of no arguments that returns, as `atexit` expects; it
    // runs once, at exit, on the exiting thread.
    if unsafe { libc::atexit(leave) } != 0 {
        return Err(MpiError::Thread("the end of the job could not be registered (atexit)".into()));
    }
    Ok(())
}

/// Why this process could not join an MPI job.
///
/// ```
/// use parallel::mpi::MpiError;
/// let e = MpiError::Executable { path: "/bin/x".into(), error: "gone".into() };
/// assert_eq!(e.to_string(), "cannot read this executable (/bin/x): gone");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum MpiError {
    /// MPI was initialized already, not by [`init`].
    AlreadyInitialized,
    /// This process's executable could not be read (to check it is rank 0's).
    Executable {
        /// Its path.
        path: String,
        /// Why.
        error: String,
    },
    /// This rank runs another executable than rank 0's.
    OtherExecutable {
        /// This rank.
        rank: i32,
        /// Its executable.
        path: String,
    },
    /// The thread that speaks MPI could not start, or ended early.
    Thread(String),
}

impl Display for MpiError {
    /// ```
    /// let e = parallel::mpi::MpiError::OtherExecutable { rank: 2, path: "/tmp/a".into() };
    /// assert!(e.to_string().starts_with("rank 2 refuses to serve: its executable (/tmp/a) is not rank 0's"));
    /// ```
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MpiError::AlreadyInitialized => f.write_str("mpi was initialized already, not by parallel::mpi::init"),
            MpiError::Executable { path, error } => write!(f, "cannot read this executable ({path}): {error}"),
            MpiError::OtherExecutable { rank, path } => write!(
                f,
                "rank {rank} refuses to serve: its executable ({path}) is not rank 0's; every rank of the job must run the same binary"
            ),
            MpiError::Thread(why) => write!(f, "the mpi thread: {why}"),
        }
    }
}

impl std::error::Error for MpiError {}

impl<E, M: Mode, F> Executor<Mpi, E, M, F> {
    /// Caps each worker process's memory (address space, `RLIMIT_AS`) at `bytes`, on every
    /// rank: a task that allocates past it fails alone as
    /// [`Crashed`](crate::FailureKind::Crashed), as on the process executor.
    ///
    /// ```no_run
    /// fn hog(mb: usize) -> usize { vec![1u8; mb << 20].len() >> 20 }
    /// fn main() {
    ///     parallel::mpi::init();
    ///     let results = parallel::mpi().memory_limit(512 << 20).silent().map(hog, vec![1, 4_000]);
    ///     assert!(results[1].is_err());
    /// }
    /// ```
    pub fn memory_limit(mut self, bytes: u64) -> Self {
        self.backend_mut().memory = Some(bytes);
        self
    }
}

impl Mpi {
    /// The work of a call whose worker side is `entry`.
    fn work<A, T, E: Serialize>(&self, entry: Entry, extras: &E, silent: bool) -> MpiWork<A, T> {
        let extras = wire::encode(extras).unwrap_or_else(|e| panic!("the extras of an mpi call: {e}"));
        MpiWork::new(MpiCall::new(leader(), entry_id(entry).to_vec(), extras, self.memory, !silent))
    }
}

impl Backend for Mpi {
    fn default_workers(&self) -> usize {
        leader().slots()
    }

    type ParWork<V: Send + 'static> = MpiParWork<V>;

    fn par_work<V: Send + 'static>(&self) -> MpiParWork<V> {
        MpiParWork::new(leader(), self.memory)
    }
}

impl<X: Serialize + Send + Sync + 'static> Carries<X> for Mpi {}

/// An MPI task reports its parameters by a clone made before it crosses.
///
/// # Panics
/// [`map_work`](Maps::map_work) panics if the extras cannot be encoded.
impl<F, A, E, K> Maps<F, A, E, K, Cloned> for Mpi
where
    A: Clone + Debug + for<'de> Owned<'de> + Send + 'static,
    F: TaskFn<A, E, K> + RemoteFn,
    F::Output: for<'de> Owned<'de> + Send + 'static,
    E: for<'de> Owned<'de> + Send + Sync + 'static,
    K: 'static,
{
    type Work = MpiWork<A, F::Output>;

    fn map_work(&self, f: F, extras: &Arc<E>, silent: bool) -> Self::Work {
        let () = F::CAPTURES_NOTHING; // fails the build for a closure that captures values
        let _ = f; // only its type crosses
        self.work(entry::<F, E, K, A>, &**extras, silent)
    }
}

impl<F, A, E, K, T, X> TryMaps<F, A, E, K, Cloned, T, X> for Mpi
where
    A: Clone + Debug + for<'de> Owned<'de> + Send + 'static,
    F: TaskFn<A, E, K, Output = Result<T, X>> + RemoteFn,
    T: for<'de> Owned<'de> + Send + 'static,
    X: Display,
    E: for<'de> Owned<'de> + Send + Sync + 'static,
    K: 'static,
{
    type Work = MpiWork<A, T>;

    fn try_map_work(&self, f: F, extras: &Arc<E>, silent: bool) -> Self::Work {
        let () = F::CAPTURES_NOTHING;
        let _ = f;
        self.work(try_entry::<F, E, K, A, T, X>, &**extras, silent)
    }
}

/// This rank in the job.
struct Node {
    rank: i32,
    commands: Sender<Command>,
    server: &'static Server,
    /// Rank 0's side.
    leader: Option<&'static Leader>,
}

static NODE: OnceLock<Node> = OnceLock::new();

/// Rank 0's side of the job.
fn leader() -> &'static Leader {
    match NODE.get() {
        Some(Node { leader: Some(leader), .. }) => leader,
        _ => panic!("parallel::mpi() needs parallel::mpi::init() first, at the start of main"),
    }
}

/// How many worker slots this rank offers, when `here` ranks share its machine.
fn rank_slots(here: usize) -> u32 {
    let set = std::env::var("PARALLEL_MPI_WORKERS").ok().and_then(|n| n.trim().parse::<u32>().ok());
    set.unwrap_or_else(|| (crate::engine::pool::cores() / here.max(1)) as u32).max(1)
}

/// Sends a message to `rank`: handled here if it is this rank.
pub(crate) fn to_rank(rank: i32, message: ToRank) {
    let Some(node) = NODE.get() else { return };
    if rank == node.rank {
        node.server.handle(message);
    } else {
        send(node, rank, &message);
    }
}

/// A batch's outcomes, to rank 0.
fn reply(done: Done) {
    let Some(node) = NODE.get() else { return };
    match node.leader {
        Some(leader) => leader.done(done),
        None => send(node, 0, &FromRank::Done(done)),
    }
}

fn send<T: Serialize>(node: &Node, to: i32, message: &T) {
    let _ = node.commands.send(Command::Send { to, bytes: encode(message) });
}

/// A message from another rank, as the MPI thread hands it over.
fn deliver(_from: i32, bytes: &[u8]) {
    let Some(node) = NODE.get() else { return };
    match node.leader {
        Some(leader) => {
            if let Some(FromRank::Done(done)) = decode(bytes) {
                leader.done(done);
            }
        }
        None => {
            if let Some(message) = decode::<ToRank>(bytes) {
                node.server.handle(message);
            }
        }
    }
}

/// `true` while rank 0 waits for batches sent to other ranks.
fn expecting() -> bool {
    NODE.get().and_then(|node| node.leader).is_some_and(Leader::expecting)
}

/// Rank 0 ended the job: this rank's tasks stop.
fn exit_rank() {
    if let Some(node) = NODE.get() {
        node.server.exit();
    }
}

/// At rank 0's exit: every rank exits and MPI is finalized (waited for, at most a minute).
extern "C" fn leave() {
    let Some(node) = NODE.get() else { return };
    let (done, finalized) = crossbeam_channel::bounded(1);
    if node.commands.send(Command::Shutdown(done)).is_ok() {
        let _ = finalized.recv_timeout(Duration::from_secs(60));
    }
}

/// A panic on rank 0 ends the job, once its message is printed: no rank is left waiting.
/// The pools' threads are left alone (their panics are tasks', caught, and fail the task), and
/// so is the MPI thread (which aborts the job itself).
fn abort_on_panic() {
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        previous(info);
        if matches!(std::thread::current().name(), Some("parallel-worker" | "parallel-mpi")) {
            return;
        }
        eprintln!("parallel::mpi: rank 0 panicked: the job ends (MPI_Abort)");
        if let Some(node) = NODE.get() {
            if node.commands.send(Command::Abort(101)).is_ok() {
                std::thread::sleep(Duration::from_secs(10)); // the MPI thread aborts meanwhile
            }
        }
        std::process::abort();
    }));
}
