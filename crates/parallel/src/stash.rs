//! The process-wide stash of idle worker processes, and the one thread that starts them.
//!
//! A pool thread takes a worker from the stash for a batch and gives it back after, so
//! workers are shared by all pool threads and survive them: a later call reuses them whatever
//! threads it lands on, and never starts more workers than tasks ever ran at once. Workers are
//! started by a dedicated thread that lives as long as the process — a worker dies with the
//! thread that started it (`PR_SET_PDEATHSIG`), so it must not be a pool thread, which idles
//! out. The same thread kills workers idle for [`WORKER_KEEP_ALIVE`].

use std::io;
use std::sync::{Mutex, OnceLock};
use std::thread;
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, RecvTimeoutError, Sender};

use crate::job::lock;
use crate::worker::{Launcher, Worker};

/// How long an idle worker process is kept for later calls (as loky does, five minutes).
pub(crate) const WORKER_KEEP_ALIVE: Duration = Duration::from_secs(300);

/// How often the starter thread looks for workers idle too long.
const IDLE_CHECK: Duration = Duration::from_secs(1);

/// A request to the starter thread: which program, with which memory limit, and where to
/// send the worker.
type Start = (Launcher, Option<u64>, Sender<io::Result<Worker>>);

struct Stash {
    idle: Mutex<Vec<(Worker, Instant)>>,
    starter: Sender<Start>,
}

fn stash() -> &'static Stash {
    static STASH: OnceLock<Stash> = OnceLock::new();
    STASH.get_or_init(|| {
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
    loop {
        match requests.recv_timeout(IDLE_CHECK) {
            Ok((launcher, memory, reply)) => {
                let _ = reply.send(Worker::start(&launcher, memory));
            }
            Err(RecvTimeoutError::Timeout) => {
                let stale: Vec<(Worker, Instant)> = {
                    let mut idle = lock(&stash().idle);
                    let (stale, fresh) = idle.drain(..).partition(|(_, since)| since.elapsed() > WORKER_KEEP_ALIVE);
                    *idle = fresh;
                    stale
                };
                drop(stale); // killed and reaped, outside the lock
            }
            Err(RecvTimeoutError::Disconnected) => return,
        }
    }
}

/// An idle worker of `launcher`'s program with memory limit `memory`, or a new one.
pub(crate) fn take(launcher: &Launcher, memory: Option<u64>) -> io::Result<Worker> {
    let stash = stash();
    loop {
        let mut idle = lock(&stash.idle);
        // The most recently used first: its memory is warm, and the oldest age out.
        let Some(i) = idle.iter().rposition(|(w, _)| w.launcher.same(launcher) && w.memory == memory) else { break };
        let (worker, _) = idle.remove(i);
        drop(idle);
        if worker.is_alive() {
            return Ok(worker);
        }
        // Killed while idle (`Program::kill_workers`): reaped as it drops.
    }
    let (reply, started) = crossbeam_channel::bounded(1);
    stash
        .starter
        .send((launcher.clone(), memory, reply))
        .map_err(|_| io::Error::other("the starter thread is gone"))?;
    started.recv().map_err(|_| io::Error::other("the starter thread is gone"))?
}

/// Gives a worker back for later tasks.
pub(crate) fn give_back(worker: Worker) {
    if worker.end_lease() {
        lock(&stash().idle).push((worker, Instant::now()));
    } // else killed by a timeout: reaped as it drops
}
