//! A `Handle` is a `Future`: it can be awaited under tokio — on a current-thread runtime too,
//! without blocking the runtime's thread — it wakes its task when the output is ready, and
//! dropping it unfinished (a lost `select!`, an elapsed `tokio::time::timeout`) cancels the call.

use std::collections::HashMap;
use std::future::Future;
use std::pin::pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};
use std::thread::sleep;
use std::time::{Duration, Instant};

use crate::common::Gate;

/// Waits, without blocking the runtime, until `cond` holds (at most a few seconds).
async fn eventually(cond: impl Fn() -> bool) -> bool {
    let deadline = Instant::now() + Duration::from_secs(5);
    while !cond() {
        if Instant::now() >= deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    true
}

#[tokio::test]
async fn awaiting_a_handle_gives_the_output() {
    assert_eq!(parallel::async_map(|x: u32| x * 10, vec![1, 2, 3]).await.unwrap(), vec![10, 20, 30]);
    assert_eq!(parallel::async_try_map(|s: &str| s.parse::<i32>(), ["4", "-5"]).await.unwrap(), vec![4, -5]);
    assert_eq!(parallel::async_par((|| 1, || "one")).await.unwrap(), (1, "one"));
    let named = parallel::async_par(HashMap::from([("k", parallel::task(|| 'v'))])).await.unwrap();
    assert_eq!(named["k"], 'v');
    let results = parallel::thread().silent().async_map(|x: i32| 12 / x, vec![3, 0]).await;
    assert_eq!(results.replace_failed(0), vec![4, 0]);
}

#[tokio::test(flavor = "current_thread")]
async fn awaiting_does_not_block_a_current_thread_runtime() {
    // The tasks wait for the gate, and only this runtime's thread opens it after a tokio sleep:
    // if awaiting the handle blocked that thread, the gate would never open in time.
    let gate = Gate::default();
    let g = gate.clone();
    let handle = parallel::async_map(move |x: u8| (g.pass(), x), vec![1, 2]);
    let opener = async {
        tokio::time::sleep(Duration::from_millis(20)).await;
        gate.open();
    };
    let (output, ()) = tokio::join!(handle, opener);
    assert_eq!(output.unwrap(), vec![(true, 1), (true, 2)]);
}

#[tokio::test]
async fn several_handles_awaited_together() {
    let a = parallel::async_map(|x: u64| x + 1, 0..100);
    let b = parallel::thread().max_workers(2).async_par((|| "b", || 2));
    let c = parallel::async_try_map(|s: &str| s.parse::<u8>(), ["300"]);
    let (a, b, c) = tokio::join!(a, b, c);
    assert_eq!(a.unwrap(), (1..101).collect::<Vec<_>>());
    assert_eq!(b.unwrap(), ("b", 2));
    assert!(c.is_err());
}

#[tokio::test]
async fn a_spawned_tokio_task_can_await_a_handle() {
    let joined = tokio::spawn(parallel::async_map(|x: i32| x * x, vec![2, 3])).await.unwrap();
    assert_eq!(joined.unwrap(), vec![4, 9]);
}

#[test]
fn a_runtime_built_by_hand() {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_time().build().unwrap();
    let out =
        runtime.block_on(async { parallel::thread().max_workers(3).async_map(|x: u8| x * 2, vec![1, 2, 3]).await });
    assert_eq!(out.unwrap(), vec![2, 4, 6]);
}

#[tokio::test]
async fn losing_a_select_cancels_the_call() {
    let started = Arc::new(AtomicUsize::new(0));
    let s = started.clone();
    let slow = move |_: u32| {
        s.fetch_add(1, Ordering::SeqCst);
        sleep(Duration::from_millis(20));
    };
    let handle = parallel::thread().max_workers(1).async_map(slow, 0..200);
    tokio::select! {
        _ = handle => panic!("200 tasks of 20 ms on one worker cannot finish first"),
        _ = tokio::time::sleep(Duration::from_millis(50)) => {}
    }
    // The handle was dropped when select! returned: at most the task running then finishes.
    let at_drop = started.load(Ordering::SeqCst);
    tokio::time::sleep(Duration::from_millis(200)).await;
    let later = started.load(Ordering::SeqCst);
    assert!(later <= at_drop + 1, "tasks kept starting after the handle was dropped: {at_drop} -> {later}");
}

#[tokio::test]
async fn an_elapsed_tokio_timeout_cancels_the_call() {
    let started = Arc::new(AtomicUsize::new(0));
    let s = started.clone();
    let slow = move |_: u32| {
        s.fetch_add(1, Ordering::SeqCst);
        sleep(Duration::from_millis(20));
    };
    let handle = parallel::thread().max_workers(1).async_map(slow, 0..200);
    let s = started.clone();
    assert!(eventually(move || s.load(Ordering::SeqCst) > 0).await);
    let outcome = tokio::time::timeout(Duration::from_millis(30), handle).await;
    assert!(outcome.is_err(), "the call cannot finish in 30 ms");
    let at_drop = started.load(Ordering::SeqCst);
    tokio::time::sleep(Duration::from_millis(200)).await;
    let later = started.load(Ordering::SeqCst);
    assert!(later <= at_drop + 1, "tasks kept starting after the handle was dropped: {at_drop} -> {later}");
}

/// Counts how many times it was woken.
#[derive(Default)]
struct CountingWaker(AtomicUsize);

impl Wake for CountingWaker {
    fn wake(self: Arc<Self>) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

#[test]
fn the_handle_wakes_the_task_that_polled_it() {
    let gate = Gate::default();
    let g = gate.clone();
    let mut handle = pin!(parallel::async_map(move |x: u8| (g.pass(), x), vec![7]));
    let counter = Arc::new(CountingWaker::default());
    let waker = Waker::from(counter.clone());
    let mut cx = Context::from_waker(&waker);

    assert!(handle.as_mut().poll(&mut cx).is_pending(), "the task is held at the gate");
    assert_eq!(counter.0.load(Ordering::SeqCst), 0);
    gate.open();
    let deadline = Instant::now() + Duration::from_secs(5);
    while counter.0.load(Ordering::SeqCst) == 0 && Instant::now() < deadline {
        sleep(Duration::from_millis(1));
    }
    assert!(counter.0.load(Ordering::SeqCst) >= 1, "the waker was never called");
    match handle.as_mut().poll(&mut cx) {
        Poll::Ready(output) => assert_eq!(output.unwrap(), vec![(true, 7)]),
        Poll::Pending => panic!("woken but not ready"),
    }
}

#[test]
fn the_latest_waker_is_the_one_woken() {
    let gate = Gate::default();
    let g = gate.clone();
    let mut handle = pin!(parallel::async_map(move |x: u8| (g.pass(), x), vec![1]));
    let first = Arc::new(CountingWaker::default());
    let second = Arc::new(CountingWaker::default());
    let first_waker = Waker::from(first.clone());
    let second_waker = Waker::from(second.clone());
    assert!(handle.as_mut().poll(&mut Context::from_waker(&first_waker)).is_pending());
    // Polled again from another task (as a future moved between tasks would be).
    assert!(handle.as_mut().poll(&mut Context::from_waker(&second_waker)).is_pending());
    gate.open();
    let deadline = Instant::now() + Duration::from_secs(5);
    while second.0.load(Ordering::SeqCst) == 0 && Instant::now() < deadline {
        sleep(Duration::from_millis(1));
    }
    assert!(second.0.load(Ordering::SeqCst) >= 1, "the last waker given was never called");
    assert!(matches!(handle.as_mut().poll(&mut Context::from_waker(&second_waker)), Poll::Ready(Ok(_))));
}
