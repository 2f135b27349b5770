//! A `Work` of one's own — how a binding runs its functions on the engine — with its error
//! values kept, and cancellation honoured inside its batches.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use parallel::plumbing::{Fault, Work};
use parallel::FailureKind;

/// Halves even numbers; an odd one fails with itself as the error value. Counts the tasks it
/// started, and runs them in batches.
struct Halve {
    started: Arc<AtomicUsize>,
    pause: Duration,
}

impl Work for Halve {
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
        self.started.fetch_add(1, Ordering::SeqCst);
        std::thread::sleep(self.pause);
        if x % 2 == 1 {
            return Err(Fault::new(FailureKind::Error, format!("{x} is odd")).with_error(x));
        }
        Ok(x / 2)
    }
    fn batched(&self) -> bool {
        true
    }
}

fn halve(pause: Duration) -> (Halve, Arc<AtomicUsize>) {
    let started = Arc::new(AtomicUsize::new(0));
    (Halve { started: started.clone(), pause }, started)
}

#[test]
fn values_and_error_values() {
    let (work, _) = halve(Duration::ZERO);
    let results = parallel::thread().silent().run(work, vec![4, 7, 10]);
    assert_eq!(results[0], Ok(2));
    assert_eq!(results[2], Ok(5));
    let failed = results[1].as_ref().unwrap_err();
    assert_eq!((failed.index(), failed.params(), failed.message()), (1, "7", "7 is odd"));
    assert_eq!(failed.error::<u64>(), Some(&7));
    assert_eq!(failed.error::<String>(), None);
}

#[test]
fn strict_calls_report_the_first_failure() {
    let (work, _) = halve(Duration::ZERO);
    let err = parallel::thread().run(work, vec![2, 3, 5]).unwrap_err();
    match err {
        parallel::Error::Task(failed) => assert_eq!(failed.error::<u64>(), Some(&3)),
        other => panic!("expected a task failure, got {other:?}"),
    }
}

#[test]
fn no_task_of_a_batch_starts_after_cancel_returns() {
    let (work, started) = halve(Duration::from_millis(2));
    let handle =
        parallel::thread().max_workers(2).silent().async_run(work, (0..2_000).map(|x| x * 2).collect::<Vec<_>>());
    std::thread::sleep(Duration::from_millis(30));
    handle.cancel();
    let at_cancel = started.load(Ordering::SeqCst);
    let results = handle.wait();
    // The two tasks running at `cancel` may finish; nothing else starts.
    assert!(started.load(Ordering::SeqCst) <= at_cancel + 2);
    assert!(at_cancel < 2_000);
    let cancelled = results.iter().filter(|r| r.as_ref().is_err_and(|f| *f.kind() == FailureKind::Cancelled)).count();
    assert!(cancelled >= 2_000 - at_cancel - 2);
    assert_eq!(results.len(), 2_000);
}
