//! Tasks whose batches say they hold more tasks than they yield — a wrong
//! `ExactSizeIterator::len`, which safe code can write: every task is still accounted for, the
//! ones never yielded fail with a message that says why, and nothing unwritten is read as a
//! value (values of plain types go straight into the output buffer, slot by slot).

use std::time::Duration;

use parallel::plumbing::Tasks;
use parallel::traits::Inputs;

/// `0..len`, whose every batch of more than one task leaves its last task out but counts it.
struct Short {
    next: u64,
    len: u64,
}

struct ShortBatch {
    items: std::vec::IntoIter<u64>,
    claimed: usize,
}

impl Iterator for ShortBatch {
    type Item = u64;
    fn next(&mut self) -> Option<u64> {
        let item = self.items.next();
        self.claimed = self.claimed.saturating_sub(1);
        item
    }
    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.claimed, Some(self.claimed))
    }
}

impl ExactSizeIterator for ShortBatch {}

impl Tasks for Short {
    type Params = u64;
    type Batch = ShortBatch;
    fn take(&mut self, n: usize) -> ShortBatch {
        let end = self.next.saturating_add(n as u64).min(self.len);
        let mut items: Vec<u64> = (self.next..end).collect();
        self.next = end;
        let claimed = items.len();
        if claimed > 1 {
            items.pop();
        }
        ShortBatch { items: items.into_iter(), claimed }
    }
    fn recover(&mut self) -> ShortBatch {
        ShortBatch { items: Vec::new().into_iter(), claimed: 0 }
    }
    fn size_hint(&self) -> (usize, Option<usize>) {
        let left = (self.len - self.next) as usize;
        (left, Some(left))
    }
}

struct ShortInput(u64);

impl Inputs for ShortInput {
    type Params = u64;
    type Key = usize;
    type Keys = ();
    type Tasks = Short;
    type Output<T> = Vec<T>;
    fn into_tasks(self) -> ((), Short) {
        ((), Short { next: 0, len: self.0 })
    }
    fn describe_key(_: &(), _: usize) -> Option<String> {
        None
    }
    fn position(_: &(), key: &usize) -> Option<usize> {
        Some(*key)
    }
    fn assemble<T>(_: (), values: Vec<T>) -> Vec<T> {
        values
    }
    fn key_by_index(_: ()) -> parallel::traits::KeyByIndex<usize> {
        Box::new(|index, _| (index, None))
    }
}

fn double(x: u64) -> u64 {
    x * 2
}

/// Every outcome is the right value for its index or a failure that names the wrong length.
fn check(outcomes: Vec<Result<u64, parallel::FailedTask>>, len: usize) {
    assert_eq!(outcomes.len(), len);
    let mut failed = 0;
    for (index, outcome) in outcomes.iter().enumerate() {
        match outcome {
            Ok(value) => assert_eq!(*value, 2 * index as u64, "task {index}"),
            Err(failure) => {
                assert!(failure.message().contains("ExactSizeIterator::len"), "{failure}");
                failed += 1;
            }
        }
    }
    assert!(failed > 0, "some batch held more than one task");
}

#[test]
fn on_threads_the_missing_tasks_fail_in_place() {
    check(parallel::thread().silent().map(double, ShortInput(10_000)).into_iter().collect(), 10_000);
    let tracked = parallel::thread().timeout(Duration::from_secs(60)).silent().map(double, ShortInput(1_000));
    check(tracked.into_iter().collect(), 1_000);
    let err = parallel::thread().map(double, ShortInput(1_000)).unwrap_err();
    assert!(err.to_string().contains("ExactSizeIterator::len"), "{err}");
}

#[test]
fn on_processes_the_missing_tasks_fail_in_place() {
    check(parallel::process().silent().map(double, ShortInput(2_000)).into_iter().collect(), 2_000);
}
