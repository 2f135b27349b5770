//! The process-wide set of reusable threads, the pool threads.
//!
//! A call asks for `n` pool threads; idle threads take the work, and new threads are started for
//! the rest. After its work a thread waits [`KEEP_ALIVE`] for more, then exits: a burst of
//! calls pays for thread start-up once, and an idle program holds no threads. Concurrency is
//! bounded per call (by the number of threads it asks for), not by the pool, so calls that
//! wait on each other — a task that itself calls `map` — never deadlock.

use std::sync::{Mutex, OnceLock, PoisonError};
use std::thread;
use std::time::Duration;

use crossbeam_channel::{Receiver, RecvTimeoutError, Sender};

use crate::engine::forked::PerProcess;

/// How long an idle pool thread waits for new work before it exits.
pub(crate) const KEEP_ALIVE: Duration = Duration::from_secs(5);

/// How many cores this process may run on, read once: the system's answer reads files of the
/// cgroup hierarchy each time (tens of microseconds, as much as a call of a million tiny
/// tasks spends in its tasks' share of it).
pub(crate) fn cores() -> usize {
    static CORES: OnceLock<usize> = OnceLock::new();
    *CORES.get_or_init(|| thread::available_parallelism().map_or(1, |n| n.get()))
}

/// A piece of work for one pool thread: its loop over one call's tasks, or the driver
/// of a non-blocking call.
pub(crate) type Work = Box<dyn FnOnce() + Send + 'static>;

struct Pool {
    sender: Sender<Work>,
    receiver: Receiver<Work>,
    /// Threads waiting for work that no call has reserved yet.
    idle: Mutex<usize>,
}

/// This process's pool: a forked child starts with none of its parent's threads.
fn pool() -> &'static Pool {
    static POOL: PerProcess<Pool> = PerProcess::new();
    POOL.get(|| {
        let (sender, receiver) = crossbeam_channel::unbounded();
        Pool { sender, receiver, idle: Mutex::new(0) }
    })
}

/// Runs every piece of work on its own pool thread, reusing idle threads first.
pub(crate) fn spawn(works: impl IntoIterator<Item = Work>) {
    let pool = pool();
    let works: Vec<Work> = works.into_iter().collect();
    let reused = {
        let mut idle = pool.idle.lock().unwrap_or_else(PoisonError::into_inner);
        let reused = (*idle).min(works.len());
        *idle -= reused;
        reused
    };
    let mut works = works.into_iter();
    let woken: Vec<Work> = works.by_ref().take(reused).collect();
    let mut woken = woken.into_iter();
    if let Some(first) = woken.next() {
        let rest: Vec<Work> = woken.collect();
        // The first idle thread woken wakes the others once it runs. Woken all at once by the
        // caller, which is still running, two threads could land on the one other core, and
        // the second would wait there a millisecond or more for the scheduler to move it;
        // woken from a running pool thread after the caller went to wait, it finds a free core.
        let first: Work = if rest.is_empty() {
            first
        } else {
            Box::new(move || {
                for work in rest {
                    let _ = pool.sender.send(work);
                }
                first()
            })
        };
        // The pool owns both ends of the channel, so a send cannot fail.
        let _ = pool.sender.send(first);
    }
    for work in works {
        let started = thread::Builder::new().name("parallel-worker".into()).spawn(move || pool_thread(work));
        if let Err(e) = started {
            panic!("parallel: the system refused to start a worker thread ({e}); lower max_workers");
        }
    }
}

/// A pool thread: runs its first work, then whatever the pool hands it until it idles out.
fn pool_thread(first: Work) {
    let pool = pool();
    run(first);
    loop {
        *pool.idle.lock().unwrap_or_else(PoisonError::into_inner) += 1;
        loop {
            match pool.receiver.recv_timeout(KEEP_ALIVE) {
                Ok(work) => {
                    run(work);
                    break;
                }
                Err(RecvTimeoutError::Timeout) => {
                    let mut idle = pool.idle.lock().unwrap_or_else(PoisonError::into_inner);
                    // Every idle thread is reserved: work is on its way to one of us.
                    if *idle == 0 {
                        continue;
                    }
                    *idle -= 1;
                    return;
                }
                Err(RecvTimeoutError::Disconnected) => return,
            }
        }
    }
}

/// Runs one piece of work; a panic in it (only ever ours: user code is caught per task)
/// must not take the thread's slot in the pool with it.
fn run(work: Work) {
    let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(work));
}
