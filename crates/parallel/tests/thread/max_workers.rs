//! `max_workers(n)` bounds a call's concurrency exactly: never more than `n` tasks at once, and
//! `n` at once when there is enough work — 100 included; the default is
//! `default_thread_workers()`; `max_workers(0)` panics with a clear message.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread::sleep;
use std::time::{Duration, Instant};

/// Counts the tasks in flight and the most seen at once.
#[derive(Clone, Default)]
struct Concurrency {
    now: Arc<AtomicUsize>,
    max: Arc<AtomicUsize>,
}

impl Concurrency {
    /// A task that enters, waits until `target` tasks were seen at once (or a few seconds
    /// passed), stays a little longer so that an extra task would show, then leaves.
    fn task(&self, target: usize) -> impl Fn(u32) -> u32 + Send + Sync + 'static {
        let this = self.clone();
        move |x| {
            let now = this.now.fetch_add(1, Ordering::SeqCst) + 1;
            this.max.fetch_max(now, Ordering::SeqCst);
            let deadline = Instant::now() + Duration::from_secs(5);
            while this.max.load(Ordering::SeqCst) < target && Instant::now() < deadline {
                sleep(Duration::from_millis(1));
            }
            sleep(Duration::from_millis(5));
            this.now.fetch_sub(1, Ordering::SeqCst);
            x
        }
    }
    fn max(&self) -> usize {
        self.max.load(Ordering::SeqCst)
    }
}

#[test]
fn the_most_tasks_at_once_is_exactly_max_workers() {
    for n in [1, 2, 3, 5, 8, 13] {
        let counter = Concurrency::default();
        let out = parallel::thread().max_workers(n).map(counter.task(n), 0..(n as u32 * 4)).unwrap();
        assert_eq!(out.len(), n * 4);
        assert_eq!(counter.max(), n, "max_workers({n})");
    }
}

#[test]
fn the_bound_holds_in_silent_mode_with_timeouts_and_for_par() {
    let counter = Concurrency::default();
    let results = parallel::thread()
        .silent()
        .max_workers(3)
        .timeout(Duration::from_secs(30))
        .task_timeout(Duration::from_secs(20))
        .map(counter.task(3), 0..12);
    assert!(!results.failures());
    assert_eq!(counter.max(), 3);

    let counter = Concurrency::default();
    let tasks: Vec<parallel::Task<u32>> = (0..8)
        .map(|i| {
            let task = counter.task(2);
            parallel::task(move || task(i))
        })
        .collect();
    assert_eq!(parallel::thread().max_workers(2).par(tasks).unwrap(), (0..8).collect::<Vec<_>>());
    assert_eq!(counter.max(), 2);

    let counter = Concurrency::default();
    let handle = parallel::thread().max_workers(4).async_map(counter.task(4), 0..16);
    assert_eq!(handle.wait().unwrap().len(), 16);
    assert_eq!(counter.max(), 4);
}

#[test]
fn the_default_is_default_thread_workers() {
    let n = parallel::default_thread_workers();
    assert_eq!(n, (std::thread::available_parallelism().unwrap().get() + 4).min(32));
    let counter = Concurrency::default();
    parallel::map(counter.task(n), 0..(n as u32 * 3)).unwrap();
    assert_eq!(counter.max(), n);
}

#[test]
fn a_hundred_workers_really_run_a_hundred_tasks_at_once() {
    // Each task waits until all 100 are in: it can only see 100 if they all run at once.
    let inside = Arc::new(AtomicUsize::new(0));
    let i = inside.clone();
    let task = move |_: u32| {
        i.fetch_add(1, Ordering::SeqCst);
        let deadline = Instant::now() + Duration::from_secs(10);
        while i.load(Ordering::SeqCst) < 100 && Instant::now() < deadline {
            sleep(Duration::from_millis(1));
        }
        i.load(Ordering::SeqCst)
    };
    let seen = parallel::thread().max_workers(100).map(task, 0..100).unwrap();
    assert!(seen.iter().all(|&s| s == 100), "some tasks never saw all 100 running: {seen:?}");
}

#[test]
fn more_workers_than_tasks_is_fine() {
    let counter = Concurrency::default();
    let out = parallel::thread().max_workers(50).map(counter.task(3), 0..3).unwrap();
    assert_eq!(out, vec![0, 1, 2]);
    assert_eq!(counter.max(), 3);
}

#[test]
fn each_call_has_its_own_bound() {
    // Two calls at once, two workers each: four tasks in flight in all, two per call.
    let first = Concurrency::default();
    let second = Concurrency::default();
    let a = parallel::thread().max_workers(2).async_map(first.task(2), 0..8);
    let b = parallel::thread().max_workers(2).async_map(second.task(2), 0..8);
    assert_eq!(a.wait().unwrap().len(), 8);
    assert_eq!(b.wait().unwrap().len(), 8);
    assert_eq!((first.max(), second.max()), (2, 2));
}

#[test]
#[should_panic(expected = "max_workers must be at least 1")]
fn zero_workers_panics() {
    let _ = parallel::thread().max_workers(0);
}

#[test]
#[should_panic(expected = "max_workers must be at least 1")]
fn zero_workers_panics_through_the_prelude() {
    use parallel::prelude::*;
    let _ = (|x: u8| x).thread().max_workers(0);
}
