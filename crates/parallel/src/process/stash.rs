//! The process-wide stash of idle worker processes, and the one thread that starts them.
//!
//! A pool thread takes a worker from the stash for a batch and gives it back after, so
//! workers are shared by all pool threads and survive them: a later call reuses them whatever
//! threads it lands on, and never starts more workers than tasks ever ran at once. Workers are
//! started by a dedicated thread that lives as long as the process — a worker dies with the
//! thread that started it (`PR_SET_PDEATHSIG`), so it must not be a pool thread, which idles
//! out. The same thread kills workers idle for [`WORKER_KEEP_ALIVE`].

use std::io;
use std::sync::Mutex;
use std::thread;
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, RecvTimeoutError, Sender};

use crate::engine::forked::PerProcess;
use crate::engine::sync::lock;
use crate::process::program::Program;
use crate::process::supervisor::Worker;

/// How long an idle worker process is kept for later calls (as loky does, five minutes).
pub(crate) const WORKER_KEEP_ALIVE: Duration = Duration::from_secs(300);

/// How often the starter thread looks for workers idle too long ...
const IDLE_CHECK: Duration = Duration::from_secs(1);

/// ... and how often while more than [`max_idle_workers`] are idle.
const SURPLUS_CHECK: Duration = Duration::from_millis(250);

/// How long a worker beyond [`max_idle_workers`] may stay idle: long enough to be taken again
/// between the batches and calls of a busy program, short enough that a burst's extra workers
/// are gone within a second or two.
pub(crate) const SURPLUS_GRACE: Duration = Duration::from_secs(1);

/// How many idle workers the stash keeps for later calls, whatever their program: one per
/// core. More may be alive while calls run; those beyond this exit after [`SURPLUS_GRACE`] idle.
pub(crate) fn max_idle_workers() -> usize {
    crate::engine::pool::cores()
}

/// A request to the starter thread: which program, with which memory limit, and where to
/// send the worker.
type Start = (Program, Option<u64>, Sender<io::Result<Worker>>);

struct Stash {
    idle: Mutex<Vec<(Worker, Instant)>>,
    starter: Sender<Start>,
}

/// This process's stash: a forked child starts with an empty one and a starter thread of its
/// own, and never touches its parent's workers.
fn stash() -> &'static Stash {
    static STASH: PerProcess<Stash> = PerProcess::new();
    STASH.get(|| {
        let (starter, requests) = crossbeam_channel::unbounded();
        let started = thread::Builder::new().name("parallel-starter".into()).spawn(move || starter_loop(requests));
        if let Err(e) = started {
            panic!("parallel: the system refused to start the worker-starting thread ({e})");
        }
        Stash { idle: Mutex::new(Vec::new()), starter }
    })
}

/// The starter thread: starts the workers asked for, and drops those idle too long.
fn starter_loop(requests: Receiver<Start>) {
    let cap = max_idle_workers();
    let mut check = IDLE_CHECK;
    loop {
        match requests.recv_timeout(check) {
            Ok((program, memory, reply)) => {
                let _ = reply.send(Worker::start(&program, memory));
            }
            Err(RecvTimeoutError::Timeout) => {
                let (stale, left) = {
                    let mut idle = lock(&stash().idle);
                    let stale = trim(&mut idle, cap);
                    (stale, idle.len())
                };
                drop(stale); // killed and reaped, outside the lock
                check = if left > cap { SURPLUS_CHECK } else { IDLE_CHECK };
            }
            Err(RecvTimeoutError::Disconnected) => return,
        }
    }
}

/// Takes out of `idle` (oldest first) the workers idle longer than [`WORKER_KEEP_ALIVE`], and
/// those beyond the newest `cap` idle longer than [`SURPLUS_GRACE`].
fn trim(idle: &mut Vec<(Worker, Instant)>, cap: usize) -> Vec<(Worker, Instant)> {
    let surplus = idle.len().saturating_sub(cap);
    let mut stale = Vec::new();
    let mut kept = Vec::with_capacity(idle.len());
    for (i, (worker, since)) in idle.drain(..).enumerate() {
        let limit = if i < surplus { SURPLUS_GRACE } else { WORKER_KEEP_ALIVE };
        if since.elapsed() > limit {
            stale.push((worker, since));
        } else {
            kept.push((worker, since));
        }
    }
    *idle = kept;
    stale
}

/// An idle worker of `program` with memory limit `memory`, or a new one.
pub(crate) fn take(program: &Program, memory: Option<u64>) -> io::Result<Worker> {
    let stash = stash();
    loop {
        let mut idle = lock(&stash.idle);
        // The most recently used first: its memory is warm, and the oldest age out.
        let Some(i) = idle.iter().rposition(|(w, _)| w.program.same(program) && w.memory == memory) else { break };
        let (worker, _) = idle.remove(i);
        drop(idle);
        if worker.is_alive() {
            return Ok(worker);
        }
        // Killed while idle (`Program::kill_workers`): reaped as it drops.
    }
    let (reply, started) = crossbeam_channel::bounded(1);
    stash.starter.send((program.clone(), memory, reply)).map_err(|_| io::Error::other("the starter thread is gone"))?;
    started.recv().map_err(|_| io::Error::other("the starter thread is gone"))?
}

/// Gives a worker back for later tasks.
pub(crate) fn give_back(worker: Worker) {
    if worker.end_lease() {
        // Pushed last: the newest is at the end, and the oldest go first.
        lock(&stash().idle).push((worker, Instant::now()));
    } // else killed by a timeout: reaped as it drops
}
