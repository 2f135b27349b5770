//! Scoped calls: `map` over borrowed data (`&v`, `v.iter()`, `&mut v`) with functions that
//! borrow the caller's locals, as `std::thread::scope` and rayon allow.
//!
//! A call of the engine may return while some of its tasks still run — abandoned at a
//! timeout, or left to finish after a strict call's first failure — so what it runs must be
//! `'static`. A scoped call runs on the same engine and the same pool, with one difference:
//! it does not return, nor unwind, before every pool thread it used is done with it. The
//! pieces of work it hands the pool are counted in a [`Latch`] from the moment each is made
//! until the moment it is dropped, and the call waits for the count to reach zero on every way
//! out.
//!
//! The one `unsafe` block of this module (in `&Scoped`'s [`Spawn::thread_work`]) hands the pool
//! a piece of work that borrows the caller's data as if it were `'static`; its `SAFETY` comment
//! is the argument that no pool thread can touch that data after the call.

use std::ops::Range;
use std::sync::{Arc, Condvar, Mutex, PoisonError};

use crate::engine::driver::{Driver, Plan, Spawn};
use crate::engine::pool;
use crate::engine::state::CallState;
use crate::engine::work::Work;
use crate::inputs::Tasks;
use crate::mode::Mode;

/// The number of pieces of pool work of one scoped call that are alive, and a way to wait
/// until none is.
#[derive(Default)]
struct Latch {
    live: Mutex<usize>,
    none_live: Condvar,
}

impl Latch {
    /// Counts one more piece of pool work, until the [`Leave`] it returns is dropped.
    fn enter(self: &Arc<Self>) -> Leave {
        *self.live.lock().unwrap_or_else(PoisonError::into_inner) += 1;
        Leave(self.clone())
    }

    /// Blocks until every piece of pool work counted has left.
    fn wait(&self) {
        let mut live = self.live.lock().unwrap_or_else(PoisonError::into_inner);
        while *live > 0 {
            live = self.none_live.wait(live).unwrap_or_else(PoisonError::into_inner);
        }
    }
}

/// One counted piece of pool work: leaves the latch when dropped.
struct Leave(Arc<Latch>);

impl Drop for Leave {
    fn drop(&mut self) {
        let mut live = self.0.live.lock().unwrap_or_else(PoisonError::into_inner);
        *live -= 1;
        if *live == 0 {
            self.0.none_live.notify_all();
        }
    }
}

/// What a pool thread holds of a scoped call: its shared state, then its place in the latch.
/// Fields drop in declaration order, so the state — and with it, when it is the last holder,
/// the call's function, input and values — is dropped before the work leaves the latch.
struct Held<J> {
    state: Option<J>,
    _leave: Leave,
}

/// Makes a scoped call's work for the pool, each piece counted in the call's latch. Made only by
/// [`scoped`], which lends it to the call by reference and waits for the latch before it
/// returns or unwinds.
pub(crate) struct Scoped {
    latch: Arc<Latch>,
}

impl<'a, W, It> Spawn<W, It> for &Scoped
where
    W: Work + 'a,
    It: Tasks<Params = W::Params> + 'a,
{
    fn thread_work(&self, state: &Arc<CallState<W, It>>) -> pool::Work {
        // Counted before the work exists: the count covers its whole life.
        let held = Held { state: Some(state.clone()), _leave: self.latch.enter() };
        let work: Box<dyn FnOnce() + Send + 'a> = Box::new(move || {
            let mut held = held;
            if let Some(state) = held.state.take() {
                state.work_loop(); // drops this work's hold on the state, even when unwinding
            }
        });
        // SAFETY: the pool requires `'static` work because it may run it, or drop it, at any
        // time; this work borrows data of lifetime `'a` (the caller's inputs, function and
        // values, all inside `W`, `It` and the `CallState`). It is sound because nothing of `'a`
        // is touched after `'a` ends:
        // - `Scoped` values are made only by `scoped` (its field is private to this module),
        //   which lends one to its `body` by reference — so nothing built with it (a `Driver`,
        //   hence any call of this function) can outlive `body`: `body`'s output cannot borrow
        //   it — and then, whether `body` returned or is unwinding, blocks in `Latch::wait`
        //   before returning; everything of `'a` outlives that frame, since the caller lent it
        //   to the call.
        // - This work is counted in that latch before it exists (`enter` above) and leaves
        //   only when `Held` is dropped: after the closure ran — having dropped the state, or
        //   while unwinding from it — or when the work is dropped without running. `Held`
        //   drops its state before its `Leave`. So a count of zero means no pool thread holds,
        //   runs or drops anything of `'a`, and no new work can be counted once `body` is over
        //   (works are made only by the call's driver, inside `body`).
        // - The state is reached only through `Arc<CallState>`s held by this work or by the
        //   driver, both gone by then; nothing of `'a` is lent out of the state to `'static`
        //   places (the compiler checks every use of `W` and `It` outside this transmute: error
        //   values and panic payloads are `'static`, and a call's canceller needs `W: 'static`).
        // - Only the lifetime changes: both types are the same boxed trait object.
        unsafe { std::mem::transmute::<Box<dyn FnOnce() + Send + 'a>, pool::Work>(work) }
    }
}

/// Runs `body` with a [`Scoped`] spawner, and returns only once every piece of pool work
/// `body` made has ended and been dropped — also when `body` panics, before the panic goes on.
pub(crate) fn scoped<R>(body: impl FnOnce(&Scoped) -> R) -> R {
    /// Waits for the latch when dropped: on return and on unwinding alike.
    struct WaitOnDrop(Arc<Latch>);
    impl Drop for WaitOnDrop {
        fn drop(&mut self) {
            self.0.wait();
        }
    }
    let latch = Arc::new(Latch::default());
    let wait = WaitOnDrop(latch.clone());
    let output = body(&Scoped { latch });
    drop(wait); // no pool thread touches what `body` lent it after this
    output
}

/// Runs a scoped call to the end on this thread and gives its output in mode `M`, in input
/// order (a sequence's shape: `Vec`, or [`Results`](crate::Results) indexed by position). If
/// the driving unwinds, dropping the [`Driver`] stops the call, so the wait is for the tasks
/// running then.
pub(crate) fn call_scoped<M, W, It>(work: W, tasks: It, plan: Plan) -> M::Map<Range<usize>, W::Out>
where
    M: Mode,
    W: Work,
    It: Tasks<Params = W::Params>,
{
    let timeout = plan.timeout;
    let collected = scoped(|spawn| Driver::start(work, tasks, plan, spawn).collect());
    M::map::<Range<usize>, W::Out>(collected, (), timeout)
}

#[cfg(test)]
mod tests {
    use std::panic::{catch_unwind, AssertUnwindSafe};
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::{Duration, Instant};

    use super::*;
    use crate::failure::Fault;
    use crate::inputs::Sequential;

    /// Marks its slot started, naps, marks it ended: tasks over borrowed counters.
    struct Mark<'a> {
        started: &'a [AtomicUsize],
        ended: &'a [AtomicUsize],
    }

    impl Work for Mark<'_> {
        type Params = usize;
        type Out = usize;
        type Kept = usize;
        fn keep(&self, i: &usize) -> usize {
            *i
        }
        fn describe(&self, i: &usize) -> String {
            i.to_string()
        }
        fn run(&self, i: usize) -> Result<usize, Fault> {
            self.started[i].fetch_add(1, Ordering::SeqCst);
            std::thread::sleep(Duration::from_millis(50));
            self.ended[i].fetch_add(1, Ordering::SeqCst);
            Ok(i)
        }
    }

    fn plan(workers: usize) -> Plan {
        Plan {
            workers,
            timeout: None,
            deadline: None,
            task_timeout: None,
            silent: true,
            cancellable: false,
            watch: None,
            retry: None,
        }
    }

    fn sum(counts: &[AtomicUsize]) -> usize {
        counts.iter().map(|c| c.load(Ordering::SeqCst)).sum()
    }

    #[test]
    fn a_panic_in_the_driver_waits_for_the_running_tasks_before_it_goes_on() {
        let started: Vec<AtomicUsize> = (0..8).map(|_| AtomicUsize::new(0)).collect();
        let ended: Vec<AtomicUsize> = (0..8).map(|_| AtomicUsize::new(0)).collect();
        let unwound = catch_unwind(AssertUnwindSafe(|| {
            scoped(|spawn| {
                let work = Mark { started: &started, ended: &ended };
                let _driver = Driver::start(work, Sequential::new(0..8), plan(4), spawn);
                // The driver fails while tasks run (bounded: a loaded box may be slow to start them).
                let give_up = Instant::now() + Duration::from_secs(10);
                while sum(&started) == 0 && Instant::now() < give_up {
                    std::thread::yield_now();
                }
                panic!("the driver fails");
            })
        }));
        assert!(unwound.is_err());
        // The unwinding reached here only after every task that started had ended.
        assert!(sum(&started) > 0, "no task started");
        assert_eq!(sum(&started), sum(&ended));
        let (started_then, ended_then) = (sum(&started), sum(&ended));
        std::thread::sleep(Duration::from_millis(200));
        assert_eq!((sum(&started), sum(&ended)), (started_then, ended_then), "a task ran after the call");
    }

    #[test]
    fn a_pool_work_dropped_without_running_leaves_the_latch() {
        let latch = Arc::new(Latch::default());
        let held = Held { state: Some(()), _leave: latch.enter() };
        drop(held);
        latch.wait(); // returns: the count is back to zero
        assert_eq!(*latch.live.lock().unwrap(), 0);
    }
}
