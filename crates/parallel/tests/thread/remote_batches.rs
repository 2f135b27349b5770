//! A `Work` of remote batches (`Work::remote_batches`: each batch one round trip elsewhere,
//! answered as a whole, as a cluster's task is): its batches run whole through `run_many` also
//! in a call with a deadline; at the deadline the call returns, the tasks of the batches in
//! flight fail as timed out with their parameters, and `stop_from(0)` tells the work.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use parallel::plumbing::{Fault, Work};
use parallel::FailureKind;

/// Doubles each number; a batch holding `hang` waits until the call is stopped (as a cluster's
/// task runs until it is cancelled). Records each batch's first index and length, and the
/// index `stop_from` was given.
struct Away(Arc<Shared>);

struct Shared {
    hang: u64,
    batches: Mutex<Vec<(usize, usize)>>,
    stopped_from: AtomicUsize,
}

impl Away {
    fn new(hang: u64) -> (Away, Arc<Shared>) {
        let shared =
            Arc::new(Shared { hang, batches: Mutex::new(Vec::new()), stopped_from: AtomicUsize::new(usize::MAX) });
        (Away(shared.clone()), shared)
    }
}

impl Work for Away {
    type Params = u64;
    type Out = u64;
    type Kept = u64;

    fn keep(&self, x: &u64) -> u64 {
        *x
    }
    fn describe(&self, x: &u64) -> String {
        x.to_string()
    }
    fn run(&self, x: u64) -> Result<u64, Fault> {
        panic!("a work of remote batches runs its batches whole, never task {x} alone")
    }
    fn batched(&self) -> bool {
        true
    }
    fn remote_batches(&self) -> bool {
        true
    }
    fn run_many(&self, first: usize, xs: Vec<u64>, _stopped: &dyn Fn() -> bool) -> Vec<Result<u64, Fault>> {
        self.0.batches.lock().unwrap().push((first, xs.len()));
        if xs.contains(&self.0.hang) {
            let start = Instant::now();
            while self.0.stopped_from.load(Ordering::SeqCst) == usize::MAX && start.elapsed() < Duration::from_secs(20)
            {
                std::thread::sleep(Duration::from_millis(5));
            }
            return xs.iter().map(|_| Err(Fault::cancelled())).collect();
        }
        xs.into_iter().map(|x| Ok(x * 2)).collect()
    }
    fn stop_from(&self, index: usize) {
        self.0.stopped_from.fetch_min(index, Ordering::SeqCst);
    }
}

#[test]
fn a_call_with_a_deadline_runs_each_batch_whole() {
    let (work, away) = Away::new(u64::MAX);
    let doubled = parallel::thread().max_workers(2).timeout(Duration::from_secs(60)).run(work, 0..5_000u64).unwrap();
    assert_eq!(doubled, (0..5_000u64).map(|x| x * 2).collect::<Vec<_>>());
    let batches = away.batches.lock().unwrap();
    assert!(batches.len() < 100, "batches grow while quick: {} batches", batches.len());
    assert_eq!(batches.iter().map(|(_, n)| n).sum::<usize>(), 5_000, "every task in exactly one batch");
}

#[test]
fn at_the_deadline_the_batches_in_flight_fail_as_timed_out_and_the_work_is_told() {
    let (work, away) = Away::new(3);
    let timeout = Duration::from_millis(300);
    let start = Instant::now();
    let results = parallel::thread().silent().max_workers(2).timeout(timeout).run(work, 0..20u64);
    let took = start.elapsed();
    assert!(took < timeout + Duration::from_secs(2), "returned {took:?} after a timeout of {timeout:?}");
    assert_eq!(results.len(), 20);
    assert_eq!(away.stopped_from.load(Ordering::SeqCst), 0, "stop_from(0) at the deadline");
    let hung = results[3].as_ref().unwrap_err();
    assert_eq!((hung.kind(), hung.params()), (&FailureKind::TimedOut, "3"));
    // The tasks of the batch that held task 3 fail with it; each other task has its value or
    // timed out, none lost.
    let (first, len) = *away.batches.lock().unwrap().iter().find(|(f, n)| (*f..f + n).contains(&3)).unwrap();
    for (i, r) in results.iter().enumerate() {
        match r {
            Ok(v) => assert_eq!(*v, i as u64 * 2),
            Err(f) => assert_eq!(f.kind(), &FailureKind::TimedOut, "task {i}: {f}"),
        }
        if (first..first + len).contains(&i) {
            assert!(r.is_err(), "task {i} was in the hung batch");
        }
    }
}

/// Remote batches that wait 120 ms each (in a cluster's queue, say) but say they ran for 1 ms.
struct Queued(Arc<Mutex<Vec<usize>>>);

impl Work for Queued {
    type Params = u64;
    type Out = u64;
    type Kept = u64;

    fn keep(&self, x: &u64) -> u64 {
        *x
    }
    fn describe(&self, x: &u64) -> String {
        x.to_string()
    }
    fn run(&self, x: u64) -> Result<u64, Fault> {
        Ok(x)
    }
    fn batched(&self) -> bool {
        true
    }
    fn remote_batches(&self) -> bool {
        true
    }
    fn run_many(&self, _first: usize, xs: Vec<u64>, _stopped: &dyn Fn() -> bool) -> Vec<Result<u64, Fault>> {
        self.0.lock().unwrap().push(xs.len());
        std::thread::sleep(Duration::from_millis(120));
        xs.into_iter().map(Ok).collect()
    }
    fn batch_took(&self) -> Option<Duration> {
        Some(Duration::from_millis(1))
    }
}

#[test]
fn batches_are_sized_by_the_time_the_work_says_they_ran() {
    let sizes = Arc::new(Mutex::new(Vec::new()));
    let out = parallel::thread().max_workers(1).run(Queued(sizes.clone()), 0..1_000u64).unwrap();
    assert_eq!(out.len(), 1_000);
    // Timed by the engine's clock (120 ms: between 100 and 200 ms) they would only double.
    // Each said it took 1 ms: grown sixteenfold (the most a step grows), up to the largest
    // batch (a quarter of the 1,000 tasks).
    assert_eq!(sizes.lock().unwrap()[..3], [1, 16, 250], "each batch said it took 1 ms");
}
